"""Writing a run to disk: steps.jsonl, steps.csv and summary.json in one folder, and at
the end the weights of every variant at every seed in weights/ (`.safetensors`).

Records are appended and flushed as the run goes, so a run stopped at any moment
(Ctrl-C) leaves files that hold every step written so far, each line whole; the
weights are written as they are when the run closes, finished or not.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import unicodedata
from pathlib import Path

import numpy as np

from tuisim.core.weights import SUFFIX, save

from .history import clean

WEIGHTS = "weights"  # the folder of the weights files, in the run's folder


class RunWriter:
    def __init__(self, out_dir: str | Path, session, every: int = 1):
        self.every = max(1, every)
        self.dir = Path(out_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.session = session
        self.layers = max(r.history.layers for r in session.runs)
        self.fields = session.runs[0].history.fields  # a network's columns, or a point's on a surface
        self.scalars = [f for f in self.fields.scalars if f != "step"]
        self._cursor = [0] * len(session.runs)  # per run: the first record (of all ever made) not yet written
        self._weights: list[dict] | None = None  # the weights files, once written
        for run in session.runs:
            run.history.hold = 0
        self._jsonl = open(self.dir / "steps.jsonl", "w", encoding="utf-8")
        self._csv_file = open(self.dir / "steps.csv", "w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._csv_file)
        self._csv.writerow(["variant", "seed", "step"] + self.scalars + self.fields.csv_columns(self.layers))

    def flush(self) -> None:
        """Write every record made since the last flush. Idempotent per record: a
        record's JSONL line and CSV row are written together and the cursor moves past
        it at once, so a flush cut short (an exception between records) and then run
        again writes each record exactly once. (Run it with signals deferred so that
        nothing lands between a record's two lines: see headless.Signals.)"""
        for k, run in enumerate(self.session.runs):
            h = run.history
            view = h.snapshot()  # other threads may append (and thin older records) meanwhile
            final = h.total - 1 if run.finished else -1  # read after the snapshot: the run's last record
            steps = view.steps()
            start = int(np.searchsorted(view.index[:view.n], self._cursor[k]))
            for i in range(start, view.n):
                last = view.index[i] == final
                if steps[i] % self.every == 0 or last:
                    rec = view.record(i)
                    line = json.dumps({"variant": run.label, "seed": run.seed, **rec}) + "\n"
                    row = [run.label, run.seed, rec["step"]] + [_cell(rec[f]) for f in self.scalars]
                    for f in self.fields.vectors:
                        vals = rec[f]
                        row += [_cell(v) for v in vals] + [""] * (self.layers - len(vals))
                    self._jsonl.write(line)
                    self._csv.writerow(row)
                self._cursor[k] = int(view.index[i]) + 1
            h.hold = self._cursor[k]  # the history keeps every record from here on until written
        self._jsonl.flush()
        self._csv_file.flush()

    def close(self, summary: dict) -> None:
        """The last records, the weights (see `write_weights`), then summary.json with
        the list of weights files under "weights" (written to a temporary file and
        renamed, so that it is whole or absent). Closing twice writes nothing twice."""
        if not self._jsonl.closed:
            self.flush()
            self._jsonl.close()
            self._csv_file.close()
        if self._weights is None:
            self._weights = self.write_weights() if not self.session.surface else []
        tmp = self.dir / "summary.json.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(clean(dict(summary, weights=self._weights)), f, indent=2)
            f.write("\n")
        os.replace(tmp, self.dir / "summary.json")

    def write_weights(self) -> list[dict]:
        """Every run's network as it is now, in weights/<variant>.safetensors (with
        several seeds <variant>.seed<k>.safetensors; <variant> from `slug`), each with
        its config and, in the metadata, the scenario, variant, seed, step (the updates
        its weights have had), status, and "interrupted": whether the run had not reached
        its end. Returns what summary.json lists of them."""
        folder = self.dir / WEIGHTS
        folder.mkdir(exist_ok=True)
        several = len(self.session.seeds) > 1
        names = slugs([g.label for g in self.session.groups])
        scenario = getattr(self.session.scenario, "name", "")
        out = []
        for group, name in zip(self.session.groups, names):
            for run in group.runs:
                rel = f"{WEIGHTS}/{name}" + (f".seed{run.seed}" if several else "") + SUFFIX
                info = {"variant": run.label, "seed": run.seed, "step": run.opt.t, "status": run.status,
                        "interrupted": not run.finished}
                save(run.net, self.dir / rel, metadata=dict(info, scenario=scenario))
                out.append(dict(info, file=rel))
        return out


_RESERVED = {"con", "prn", "aux", "nul"} | {f"{d}{k}" for d in ("com", "lpt") for k in range(10)}  # Windows


def slug(label: str, limit: int = 60) -> str:
    """A file name for a variant's label, safe on any filesystem: ASCII letters (accents
    and the like folded: é is e, ² is 2), digits, '.', '_' and '-', lower case, at most
    `limit` characters; "variant" when nothing is left."""
    text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9._-]+", "-", text)
    text = re.sub(r"-{2,}", "-", text).strip("-._")[:limit].rstrip("-._")
    text = text or "variant"
    return text + "-" if text.split(".")[0] in _RESERVED else text


def slugs(labels: list[str]) -> list[str]:
    """`slug` of every label, made unique (also where a case-insensitive filesystem
    would not tell two apart) by -2, -3, ... on the later ones."""
    out: list[str] = []
    taken: set[str] = set()
    for label in labels:
        base = name = slug(label)
        k = 1
        while name in taken:
            k += 1
            name = f"{base}-{k}"
        taken.add(name)
        out.append(name)
    return out


def _cell(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, float) and not math.isfinite(v):
        return ""
    return v
