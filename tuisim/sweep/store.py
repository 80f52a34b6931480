"""A sweep's files: sweep.csv, one row per point, variant and seed, appended and flushed
as each result arrives (so a sweep stopped at any moment keeps every result so far),
and sweep.json, the grid, the cells' means and spreads, timings and checks, written at
the end.

`--resume` reads sweep.csv back: a row whose `key` (the point, the variant's settings,
steps, seed and measure) matches a task of the sweep, with status ok, is not run again.
The file is first rewritten without the failed and lost rows of this sweep's points
(they run again); every other row is kept.
"""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path

from .grid import Grid
from .local import SweepError
from .tasks import OK, Result, Task

CSV, JSON = "sweep.csv", "sweep.json"


def _cell(v) -> str:
    """A CSV cell: numbers round-trip (repr), inf as inf, NaN empty, lists as JSON."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return repr(v)
    if isinstance(v, (list, tuple)):
        return json.dumps(list(v))
    return str(v)


def _float(text: str) -> float:
    return float(text) if text not in ("", None) else math.nan


class SweepWriter:
    def __init__(self, out_dir: str | Path, grid: Grid, measure: str, *, resume: bool = False):
        self.dir = Path(out_dir)
        self.grid = grid
        self.measure = measure
        self.columns = ([a.key for a in grid.explicit_axes]
                        + ["variant", "seed", "measure", "value", "status", "diverged", "steps", "time", "worker",
                           "error", "key"])
        self.path = self.dir / CSV
        self.resume = resume
        self._file = None
        self._csv = None

    def open(self, tasks: list[Task]) -> list[Result]:
        """Create (or, resuming, reopen) sweep.csv; returns the results already in it that this
        sweep need not run again."""
        self.dir.mkdir(parents=True, exist_ok=True)
        done: list[Result] = []
        exists = self.path.exists() and self.path.stat().st_size > 0
        if exists and not self.resume:
            raise SweepError(f"{self.path} exists: add --resume to continue that sweep, or write to another --out")
        if exists:
            done = self._reopen(tasks)
        else:
            self._file = open(self.path, "w", encoding="utf-8", newline="")
            self._csv = csv.writer(self._file)
            self._csv.writerow(self.columns)
            self._file.flush()
        return done

    def _reopen(self, tasks: list[Task]) -> list[Result]:
        with open(self.path, encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            rows = list(reader)
        if "key" not in header or "status" not in header:
            raise SweepError(f"{self.path} is not a tuisim sweep.csv (no key and status columns); cannot resume it")
        by_key = {t.key: t for t in tasks}
        keep, done, seen = [], [], set()
        for row in rows:
            task = by_key.get(row.get("key"))
            if task is not None and row.get("status") != OK:
                continue  # this sweep runs it again
            if task is not None and task.key not in seen:
                seen.add(task.key)
                done.append(task.result(value=_float(row.get("value", "")), status=OK,
                                        diverged=row.get("diverged") in ("1", "true", "True"),
                                        steps=int(float(row.get("steps") or 0)), time=_float(row.get("time", "")),
                                        worker=row.get("worker", ""), resumed=True))
            keep.append(row)
        columns = self.columns if header == self.columns else header + [c for c in self.columns if c not in header]
        tmp = self.path.with_suffix(".csv.tmp")
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, columns, extrasaction="ignore")
            w.writeheader()
            w.writerows(keep)
        os.replace(tmp, self.path)
        self.columns = columns
        self._file = open(self.path, "a", encoding="utf-8", newline="")
        self._csv = csv.writer(self._file)
        return done

    def write(self, r: Result) -> None:
        row = {key: value for key, value in self.grid.point(r.cell).items()}
        row.update(variant=r.variant, seed=r.seed, measure=self.measure, value=r.value, status=r.status,
                   diverged=r.diverged, steps=r.steps, time=round(r.time, 4), worker=r.worker, error=r.error, key=r.key)
        self._csv.writerow([_cell(row.get(c)) for c in self.columns])
        self._file.flush()

    def close(self, summary: dict) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        with open(self.dir / JSON, "w", encoding="utf-8") as f:
            json.dump(clean(summary), f, indent=2)
            f.write("\n")


def clean(obj):
    """NaN and infinities to None, recursively (JSON has no such numbers)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    return obj


def read_sweep_csv(path: str | Path) -> list[dict]:
    """The rows of a sweep.csv as dicts (values as text), for tools and tests."""
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))
