"""`load_dataset`: a [data] table and a seed -> train and test arrays, standardised.

Everything random comes from streams of the seed's own (`data_rng(seed)` generates, another
draws the split), so the data never shares random numbers with the network's
initialization, which uses the same seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .confine import Refused, check_read
from .errors import DatasetError
from .keys import check_data_keys, resolve_data
from .registry import DATASETS

_DATA_STREAM = 0xDA7A  # mixed into the seed: the data's own random streams
_SPLIT_STREAM = 0x5B117


@dataclass(frozen=True, eq=False)
class Dataset:
    """Train and test splits. X float64 (N, n_in), standardised with the training split's
    mean and std (`x_mean`, `x_std`: map a raw point x to (x - x_mean) / x_std). y: int64
    labels 0..n_out-1 (classification) or float64 (N, n_out) targets (regression)."""

    name: str
    task: str  # "classification" / "regression"
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_in: int
    n_out: int  # classes (classification) or target columns (regression)
    x_mean: np.ndarray
    x_std: np.ndarray
    class_names: tuple[str, ...] | None = None  # classification: the original label of each class
    description: str = ""

    @property
    def n_train(self) -> int:
        return len(self.X_train)

    @property
    def n_test(self) -> int:
        return len(self.X_test)

    def targets(self, loss: str) -> tuple[np.ndarray, np.ndarray, int]:
        """(train targets, test targets, network outputs) for a loss:
        cross_entropy: the int64 labels, n_out = classes; bce: float64 (N, 1) 0/1 targets,
        one output (2 classes only); mse: float64 (N, n_out), one-hot for classification."""
        if loss == "cross_entropy":
            if self.task != "classification":
                raise DatasetError(f"cross_entropy needs class labels, but {self.name} is a regression dataset")
            return self.y_train, self.y_test, self.n_out
        if loss == "bce":
            if self.task != "classification" or self.n_out != 2:
                raise DatasetError(f"bce needs a classification dataset with 2 classes, not {self._what()}")
            return (self.y_train.astype(np.float64)[:, None], self.y_test.astype(np.float64)[:, None], 1)
        if loss == "mse":
            if self.task == "regression":
                return self.y_train, self.y_test, self.n_out
            eye = np.eye(self.n_out)
            return eye[self.y_train], eye[self.y_test], self.n_out
        raise DatasetError(f"unknown loss {loss!r}")

    def _what(self) -> str:
        return f"{self.n_out} classes" if self.task == "classification" else "a regression dataset"


@dataclass(frozen=True)
class DataInfo:
    """What the scenario checks need to know about a dataset, without generating it."""

    task: str
    n_in: int
    n_out: int
    n_train: int
    n_test: int


def data_rng(seed: int) -> np.random.Generator:
    return np.random.default_rng([_DATA_STREAM, int(seed)])


def split_sizes(samples: int, test_fraction: float) -> tuple[int, int]:
    """(train, test) sizes: test = round(samples * test_fraction). Raises DatasetError when
    either split would be too small (train needs 2 examples, test 1 unless the fraction is 0)."""
    n_test = int(np.floor(samples * test_fraction + 0.5))
    n_train = samples - n_test
    if test_fraction > 0 and n_test < 1:
        raise DatasetError(f"test_fraction {test_fraction:g} of {samples} examples leaves no test example; "
                           f"use more samples, a larger fraction, or test_fraction = 0 for no test split",
                           key="test_fraction")
    if n_train < 2:
        raise DatasetError(f"test_fraction {test_fraction:g} of {samples} examples leaves {n_train} for "
                           f"training; at least 2 are needed", key="test_fraction")
    return n_train, n_test


def resolved(spec: Mapping[str, Any]) -> dict:
    """Check a [data] table (raw or already resolved) and fill the defaults; raises
    DatasetError naming the first problem's key."""
    values, problems = check_data_keys(spec)
    if problems:
        (path, p), *_ = problems
        raise DatasetError(f"data.{_dotted(path)}: {p.message}", key=path[0])
    out, cross = resolve_data(values)
    if cross:
        (keys, message), *_ = cross
        raise DatasetError(f"data.{keys[0]}: {message}", key=keys[0])
    return out


def _file(spec: Mapping[str, Any], base_dir: Path | None) -> Path:
    path = Path(spec["path"]).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    try:
        check_read(path)  # under `tuisim serve`: only files inside the served folder
    except Refused as e:
        raise DatasetError(f"data file {e}", key="path") from None
    return path


def load_arrays(spec: Mapping[str, Any], seed: int, base_dir: Path | None = None):
    """The raw, unsplit arrays of a resolved spec: (X, y, task, class_names)."""
    kind = DATASETS[spec["name"]]
    if kind.from_file:
        return kind(_file(spec, base_dir), spec["task"])
    X, y = kind(data_rng(seed), samples=spec["samples"], noise=spec["noise"], classes=spec["classes"],
                features=spec["features"])
    return X.astype(np.float64), y, kind.task, None


def describe_data(spec: Mapping[str, Any], base_dir: Path | None = None) -> DataInfo:
    """Task, shapes and split sizes of a dataset; generated datasets are not generated
    (file datasets are read). Raises DatasetError."""
    spec = resolved(spec)
    kind = DATASETS[spec["name"]]
    if kind.from_file:
        X, y, task, names = load_arrays(spec, 0, base_dir)
        n_train, n_test = split_sizes(len(X), spec["test_fraction"])
        n_out = len(names) if task == "classification" else y.shape[1]
        return DataInfo(task, X.shape[1], n_out, n_train, n_test)
    n_train, n_test = split_sizes(spec["samples"], spec["test_fraction"])
    n_in = spec["features"] if spec["features"] is not None else kind.n_in
    n_out = spec["classes"] if kind.task == "classification" else 1
    return DataInfo(kind.task, n_in, n_out, n_train, n_test)


def load_dataset(spec: Mapping[str, Any], seed: int, base_dir: Path | None = None) -> Dataset:
    """Make the dataset a [data] table describes: generated from `seed` (or read from
    `path`, relative to `base_dir`), split at random into train and test, inputs
    standardised with the training split's statistics. Raises DatasetError."""
    spec = resolved(spec)
    X, y, task, class_names = load_arrays(spec, seed, base_dir)
    n_train, n_test = split_sizes(len(X), spec["test_fraction"])
    order = np.random.default_rng([_SPLIT_STREAM, int(seed)]).permutation(len(X))
    test, train = order[:n_test], order[n_test:]
    mean = X[train].mean(axis=0)
    std = X[train].std(axis=0)
    std = np.where(std > 0, std, 1.0)  # a constant feature stays constant (0)
    Xs = (X - mean) / std
    if task == "classification":
        n_out = len(class_names) if class_names is not None else int(spec["classes"])
    else:
        n_out = y.shape[1]
    return Dataset(
        name=spec["name"], task=task,
        X_train=Xs[train], y_train=y[train], X_test=Xs[test], y_test=y[test],
        n_in=X.shape[1], n_out=n_out, x_mean=mean, x_std=std, class_names=class_names,
        description=_describe(spec, task, X.shape, n_out, n_train, n_test, base_dir),
    )


def _describe(spec, task, shape, n_out, n_train, n_test, base_dir) -> str:
    kind = DATASETS[spec["name"]]
    if kind.from_file:
        what = f"{spec['name']} {Path(spec['path']).name}"
    else:
        what = spec["name"]
        if kind.noise is not None:
            what += f" (noise {spec['noise']:g})"
    out = f"{n_out} classes" if task == "classification" else f"{n_out} target{'s' if n_out > 1 else ''}"
    return f"{what}: {shape[1]} input{'s' if shape[1] > 1 else ''}, {out}, {n_train} train / {n_test} test examples"


def _dotted(path: tuple) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else ("." if i else "") + p for i, p in enumerate(path))


__all__ = ["DataInfo", "Dataset", "DatasetError", "data_rng", "describe_data", "load_arrays",
           "load_dataset", "split_sizes"]
