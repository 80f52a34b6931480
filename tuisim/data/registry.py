"""The datasets by name: `DATASETS` is filled where each dataset is defined, by the
`dataset(...)` decorator, so a name, its defaults and its generator sit together.

A `DatasetKind` is callable like the function it wraps:
- generated datasets: `kind(rng, samples=, noise=, classes=, features=) -> (X, y)`,
  raw (neither shuffled nor split nor standardised), y int64 labels or float64 (N, 1)
  targets;
- file datasets: `kind(path, task) -> (X, y, task, class_names)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class DatasetKind:
    name: str
    fn: Callable
    doc: str
    task: str | None  # "classification" / "regression"; None: decided by the file's labels
    noise: float | None = None  # default noise; None: the key does not apply
    classes: int | None = None  # default number of classes; None: the key does not apply
    max_classes: int | None = None  # e.g. moons has exactly 2
    features: int | None = None  # default input dimensions; None: fixed at n_in
    n_in: int | None = None  # the fixed input dimension when `features` does not apply
    noise_doc: str = ""  # what `noise` means for this dataset
    from_file: bool = False

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def applies(self, key: str) -> bool:
        """Whether the [data] key `key` means anything for this dataset."""
        if key in ("name", "test_fraction"):
            return True
        if self.from_file:
            return key in ("path", "task")
        return {
            "samples": True,
            "noise": self.noise is not None,
            "classes": self.classes is not None,
            "features": self.features is not None,
        }.get(key, False)


DATASETS: dict[str, DatasetKind] = {}


def dataset(name: str, **info) -> Callable[[Callable], DatasetKind]:
    """Register the decorated function under `name` (see DatasetKind for `info`)."""

    def register(fn: Callable) -> DatasetKind:
        doc = info.pop("doc", None) or " ".join((fn.__doc__ or "").split("\n\n")[0].split())
        kind = DatasetKind(name=name, fn=fn, doc=doc, **info)
        DATASETS[name] = kind
        return kind

    return register
