"""Writing a run to disk: steps.jsonl, steps.csv and summary.json in one folder.

Records are appended and flushed as the run goes, so a run stopped at any moment
(Ctrl-C) leaves files that hold every step written so far, each line whole.
"""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path

import numpy as np

from tuisim.core.registry import LAYER_FIELDS

from .history import SCALAR_FIELDS, clean

SCALARS = [f for f in SCALAR_FIELDS if f != "step"]


class RunWriter:
    def __init__(self, out_dir: str | Path, session, every: int = 1):
        self.every = max(1, every)
        self.dir = Path(out_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.session = session
        self.layers = max(r.net.depth + 1 for r in session.runs)
        self._cursor = [0] * len(session.runs)  # per run: the first record (of all ever made) not yet written
        for run in session.runs:
            run.history.hold = 0
        self._jsonl = open(self.dir / "steps.jsonl", "w", encoding="utf-8")
        self._csv_file = open(self.dir / "steps.csv", "w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._csv_file)
        self._csv.writerow(["variant", "seed", "step"] + SCALARS
                           + [f"{f}_{i}" for f in LAYER_FIELDS for i in range(self.layers)])

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
                    row = [run.label, run.seed, rec["step"]] + [_cell(rec[f]) for f in SCALARS]
                    for f in LAYER_FIELDS:
                        vals = rec[f]
                        row += [_cell(v) for v in vals] + [""] * (self.layers - len(vals))
                    self._jsonl.write(line)
                    self._csv.writerow(row)
                self._cursor[k] = int(view.index[i]) + 1
            h.hold = self._cursor[k]  # the history keeps every record from here on until written
        self._jsonl.flush()
        self._csv_file.flush()

    def close(self, summary: dict) -> None:
        """The last records, then summary.json (written to a temporary file and renamed,
        so that it is whole or absent). Closing twice writes nothing twice."""
        if not self._jsonl.closed:
            self.flush()
            self._jsonl.close()
            self._csv_file.close()
        tmp = self.dir / "summary.json.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(clean(summary), f, indent=2)
            f.write("\n")
        os.replace(tmp, self.dir / "summary.json")


def _cell(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, float) and not math.isfinite(v):
        return ""
    return v
