"""The user's own data: `csv` and `npz` files.

csv: numeric columns, the last one the label (classification) or target (regression);
a first row that is not numeric is a header and is skipped; blank lines and lines
starting with '#' are ignored; the delimiter is a comma, semicolon or tab. Text labels
are allowed and make the task classification.
npz: arrays `X` (N, features) and `y` (N,) or (N, targets).

The task is classification when every label is an integer (or text) and `task` is not
"regression"; labels are then remapped to 0..K-1 in sorted order and the original values
kept as class names.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from .errors import DatasetError
from .registry import dataset

MIN_SAMPLES = 4


@dataset("csv", task=None, from_file=True,
         doc="your data: a csv file, one example a row, the last column the label or target")
def load_csv(path: Path, task: str | None):
    text = _read_text(path)
    rows = _rows(text, path)
    if not rows:
        raise DatasetError(f"{path.name} has no data rows", key="path")
    if any(cell.strip() and _number(cell) is None for cell in rows[0][1][:-1]):
        rows = rows[1:]  # a header row
        if not rows:
            raise DatasetError(f"{path.name} has a header row but no data rows", key="path")
    width = len(rows[0][1])
    if width < 2:
        raise DatasetError(f"{path.name} line {rows[0][0]}: needs at least 2 columns (features, then the label), "
                           f"found 1", key="path")
    X = np.empty((len(rows), width - 1))
    labels = []
    for r, (line, cells) in enumerate(rows):
        if len(cells) != width:
            raise DatasetError(f"{path.name} line {line}: {len(cells)} columns, but the first data row has {width}",
                               key="path")
        for c, cell in enumerate(cells[:-1]):
            v = _number(cell)
            if v is None:
                what = "an empty cell" if not cell.strip() else f"{cell.strip()!r} is not a number"
                raise DatasetError(f"{path.name} line {line}, column {c + 1}: {what}", key="path")
            X[r, c] = v
        labels.append(cells[-1].strip())
    empty = next((i for i, s in enumerate(labels) if not s), None)
    if empty is not None:
        raise DatasetError(f"{path.name} line {rows[empty][0]}: the label (last column) is empty", key="path")
    numbers = [_number(s) for s in labels]
    if all(v is not None for v in numbers):
        y = np.asarray(numbers, dtype=np.float64)[:, None]
        return _finish(path, X, y, task)
    bad = next(i for i, v in enumerate(numbers) if v is None)
    if task == "regression":
        raise DatasetError(f"{path.name} line {rows[bad][0]}: task is regression but the target "
                           f"{labels[bad]!r} is not a number", key="path")
    _check_rows(path, X, None)
    names, y = np.unique(np.asarray(labels), return_inverse=True)
    _check_classes(path, len(names))
    return X, y.astype(np.int64), "classification", tuple(str(n) for n in names)


@dataset("npz", task=None, from_file=True,
         doc="your data: a NumPy .npz file with arrays X (examples x features) and y (labels or targets)")
def load_npz(path: Path, task: str | None):
    _exists(path)
    try:
        with np.load(path, allow_pickle=False) as f:
            keys = list(f.keys())
            missing = [k for k in ("X", "y") if k not in keys]
            if missing:
                raise DatasetError(f"{path.name} has no array {' or '.join(missing)}; it has: "
                                   f"{', '.join(keys) or 'no arrays'} (expected X and y)", key="path")
            X, y = f["X"], f["y"]
    except DatasetError:
        raise
    except OSError as e:
        raise DatasetError(f"cannot read {path.name}: {e.strerror or e}", key="path") from None
    except Exception:  # zipfile.BadZipFile, ValueError (pickled objects or not a NumPy file)
        raise DatasetError(f"cannot read {path.name} as an .npz file: it is not a NumPy .npz archive of "
                           f"numeric arrays (write one with numpy.savez(path, X=X, y=y))", key="path") from None
    for name, a in (("X", X), ("y", y)):
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_):
            raise DatasetError(f"{path.name}: {name} must be numeric, not {a.dtype}", key="path")
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise DatasetError(f"{path.name}: X must be 2-D (examples x features), not shape {X.shape}", key="path")
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2 or y.shape[0] != X.shape[0]:
        raise DatasetError(f"{path.name}: y must have one row per example of X ({X.shape[0]}), "
                           f"not shape {y.shape}", key="path")
    return _finish(path, X.astype(np.float64), y.astype(np.float64), task)


def _finish(path: Path, X: np.ndarray, y: np.ndarray, task: str | None):
    """Numeric labels/targets y (N, k): decide the task, remap class labels."""
    _check_rows(path, X, y)
    integral = y.shape[1] == 1 and bool(np.all(y == np.round(y)))
    if task is None:
        task = "classification" if integral else "regression"
    if task == "regression":
        return X, y, task, None
    if y.shape[1] != 1:
        raise DatasetError(f"{path.name}: classification needs one label per example, but y has "
                           f"{y.shape[1]} columns", key="path")
    if not integral:
        i = int(np.argmax(y[:, 0] != np.round(y[:, 0])))
        raise DatasetError(f"{path.name}: task is classification but label {float(y[i, 0])!r} (example {i}) is not "
                           f"an integer", key="path")
    values, labels = np.unique(y[:, 0], return_inverse=True)
    _check_classes(path, len(values))
    return X, labels.astype(np.int64), task, tuple(_fmt(v) for v in values)


def _check_rows(path: Path, X: np.ndarray, y: np.ndarray | None) -> None:
    if X.shape[0] < MIN_SAMPLES:
        raise DatasetError(f"{path.name} has {X.shape[0]} examples; at least {MIN_SAMPLES} are needed",
                           key="path")
    if X.shape[1] < 1:
        raise DatasetError(f"{path.name} has no feature columns", key="path")
    for name, a in (("X", X), ("y", y)):
        if a is None:
            continue
        bad = ~np.isfinite(a)
        if bad.any():
            i = int(np.argmax(bad.any(axis=1)))
            n = int(bad.sum())
            what = "the features" if name == "X" else "the labels/targets"
            raise DatasetError(f"{path.name}: {n} value{' is' if n == 1 else 's are'} NaN or infinite in {what} "
                               f"(the first in example {i})", key="path")


def _check_classes(path: Path, k: int) -> None:
    if k < 2:
        raise DatasetError(f"{path.name}: every example has the same label; classification needs at least "
                           f"2 classes", key="path")


def _exists(path: Path) -> None:
    if not path.is_file():
        if path.is_dir():
            where = "is a folder, not a file"
        elif path.exists():
            where = "is not a regular file but a device, a pipe or a socket; the data must be a csv or npz file"
            raise DatasetError(f"data file {str(path)!r} {where}", key="path")
        else:
            where = "does not exist"
        raise DatasetError(f"data file {str(path)!r} {where} (a relative path is relative to the scenario "
                           f"file's folder)", key="path")


def _read_text(path: Path) -> str:
    _exists(path)
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DatasetError(f"{path.name} is not a UTF-8 text file (is it really a csv?)", key="path") from None
    except OSError as e:
        raise DatasetError(f"cannot read {str(path)!r}: {e.strerror}", key="path") from None


def _rows(text: str, path: Path) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every non-blank, non-comment line."""
    lines = [(i + 1, s) for i, s in enumerate(text.splitlines()) if s.strip() and not s.lstrip().startswith("#")]
    if not lines:
        return []
    first = lines[0][1]
    delimiter = max(",;\t", key=first.count) if any(d in first for d in ",;\t") else ","
    out = []
    for (line, s), cells in zip(lines, csv.reader([s for _, s in lines], delimiter=delimiter)):
        out.append((line, cells))
    return out


def _number(cell: str) -> float | None:
    s = cell.strip()
    if not s:
        return None
    try:
        return float(s)
    except ValueError:
        return None


def _fmt(v: float) -> str:
    return str(int(v)) if math.isfinite(v) and float(v).is_integer() else repr(float(v))
