"""Datasets: generated from a seed (spirals, circles, moons, xor, blobs, checkerboard,
sine, linear) or read from the user's csv / npz file, split and standardised.

    from tuisim.data import load_dataset
    ds = load_dataset({"name": "spirals", "classes": 3}, seed=0, base_dir=Path("."))
"""

from . import files, synthetic  # noqa: F401  (fill DATASETS)
from .dataset import DataInfo, Dataset, data_rng, describe_data, load_dataset, split_sizes
from .errors import DatasetError
from .keys import DATA_PARAMS, Key, check_data_keys, resolve_data
from .registry import DATASETS, DatasetKind

__all__ = ["DATASETS", "DATA_PARAMS", "DataInfo", "Dataset", "DatasetError", "DatasetKind", "Key",
           "check_data_keys", "data_rng", "describe_data", "load_dataset", "resolve_data", "split_sizes"]
