"""Every dataset of tuisim.data.DATASETS: shapes, determinism, standardisation, labels,
splits; csv / npz round trips; every error case."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tuisim.data import DATASETS, DatasetError, describe_data, load_dataset, split_sizes
from tuisim.data.synthetic import class_sizes

GENERATED = [name for name, kind in DATASETS.items() if not kind.from_file]
FROM_FILE = [name for name, kind in DATASETS.items() if kind.from_file]

# Variations of the keys each generated dataset takes.
VARIATIONS = {
    "classes": {"spirals": 5, "circles": 4, "blobs": 6, "checkerboard": 3, "moons": 2, "xor": 2},
    "features": {"circles": 3, "xor": 3, "blobs": 5, "checkerboard": 3, "linear": 7},
}


def specs(name: str) -> list[dict]:
    out = [{"name": name}, {"name": name, "samples": 101, "test_fraction": 0.3}]
    for key, values in VARIATIONS.items():
        if name in values:
            out.append({"name": name, key: values[name]})
    return out


ALL_SPECS = [s for name in GENERATED for s in specs(name)]
SPEC_IDS = ["-".join(f"{k}={v}" for k, v in s.items()) for s in ALL_SPECS]


def test_every_dataset_is_covered():
    assert set(GENERATED) | set(FROM_FILE) == set(DATASETS)
    assert set(FROM_FILE) == set(WRITERS)
    for key, values in VARIATIONS.items():
        takes = {n for n in GENERATED if DATASETS[n].applies(key)}
        assert set(values) == takes, key


@pytest.mark.parametrize("spec", ALL_SPECS, ids=SPEC_IDS)
def test_shapes_labels_and_splits(spec):
    ds = load_dataset(spec, seed=0)
    kind = DATASETS[spec["name"]]
    samples = spec.get("samples", 600)
    n_train, n_test = split_sizes(samples, spec.get("test_fraction", 0.2))
    assert (ds.n_train, ds.n_test) == (n_train, n_test)
    assert ds.task == kind.task
    assert ds.X_train.dtype == np.float64 and ds.X_train.shape == (n_train, ds.n_in)
    assert ds.X_test.shape == (n_test, ds.n_in)
    assert ds.n_in == spec.get("features", kind.features or kind.n_in)
    if ds.task == "classification":
        assert ds.n_out == spec.get("classes", kind.classes)
        for y in (ds.y_train, ds.y_test):
            assert y.dtype == np.int64 and y.ndim == 1
        labels = np.concatenate([ds.y_train, ds.y_test])
        assert set(labels.tolist()) == set(range(ds.n_out))
    else:
        assert ds.n_out == 1
        assert ds.y_train.dtype == np.float64 and ds.y_train.shape == (n_train, 1)
        assert ds.y_test.shape == (n_test, 1)
    # describe_data (used to validate scenarios without generating) agrees
    info = describe_data(spec)
    assert (info.task, info.n_in, info.n_out, info.n_train, info.n_test) == \
        (ds.task, ds.n_in, ds.n_out, ds.n_train, ds.n_test)


@pytest.mark.parametrize("name", GENERATED)
def test_standardised_with_training_statistics(name):
    ds = load_dataset({"name": name}, seed=3)
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(ds.X_train.std(axis=0), 1.0, atol=1e-12)
    assert np.all(np.isfinite(ds.X_test))
    assert abs(ds.X_test.mean()) < 0.5  # the same distribution, standardised with train's statistics


@pytest.mark.parametrize("name", GENERATED)
def test_deterministic_in_the_seed(name):
    a, b, c = (load_dataset({"name": name}, seed=s) for s in (7, 7, 8))
    for field in ("X_train", "y_train", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.X_train, c.X_train)


@pytest.mark.parametrize("name", GENERATED)
def test_raw_data_is_the_generator_output(name):
    """The split is a permutation of the generated points (nothing lost, nothing added)."""
    ds = load_dataset({"name": name, "samples": 50}, seed=1)
    X = np.concatenate([ds.X_train, ds.X_test]) * ds.x_std + ds.x_mean
    assert len(np.unique(X.round(9), axis=0)) >= 48  # spirals: its 3 arms start at the origin


@pytest.mark.parametrize("name", [n for n in GENERATED if DATASETS[n].noise is not None])
def test_noise_changes_the_data(name):
    a = load_dataset({"name": name, "noise": 0.0}, seed=0)
    b = load_dataset({"name": name, "noise": 0.5}, seed=0)
    assert not np.allclose(a.X_train * a.x_std + a.x_mean, b.X_train * b.x_std + b.x_mean) or \
        not np.allclose(a.y_train, b.y_train)


def test_class_sizes_are_balanced():
    assert class_sizes(10, 3) == [4, 3, 3]
    ds = load_dataset({"name": "spirals", "samples": 300, "test_fraction": 0}, seed=0)
    assert np.bincount(ds.y_train).tolist() == [100, 100, 100]
    assert ds.n_test == 0 and ds.X_test.shape == (0, 2)


@pytest.mark.parametrize("name", ["moons", "xor"])
def test_two_class_datasets_refuse_more(name):
    with pytest.raises(DatasetError, match=f"{name} has 2 classes, not 3"):
        load_dataset({"name": name, "classes": 3}, seed=0)
    with pytest.raises(ValueError, match=f"{name} has 2 classes"):
        DATASETS[name](np.random.default_rng(0), samples=10, noise=0.1, classes=3, features=2)


@pytest.mark.parametrize("spec, words", [
    ({"name": "spirals", "samples": 4, "test_fraction": 0.1}, "leaves no test example"),
    ({"name": "spirals", "samples": 4, "test_fraction": 0.9}, "leaves 0 for training"),
    ({"name": "spirals", "samples": 3}, "samples: must be an integer >= 4"),
    ({"name": "spirals", "features": 3}, "features does not apply"),
    ({"name": "sine", "classes": 3}, "sine is a regression dataset; classes does not apply"),
    ({"name": "spirals", "path": "x.csv"}, "path is only for csv and npz"),
    ({"name": "csv"}, "missing: csv needs the file's path"),
    ({"name": "csv", "path": "x.csv", "noise": 0.1}, "csv loads a file; noise does not apply"),
    ({"name": "spiral"}, "unknown dataset 'spiral' (did you mean 'spirals'?)"),
    ({"name": "spirals", "sampels": 100}, "unknown key 'sampels' in [data] (did you mean 'samples'?)"),
    ({"samples": 100}, "data.name: missing"),
])
def test_spec_errors(spec, words):
    with pytest.raises(DatasetError) as info:
        load_dataset(spec, seed=0)
    assert words in str(info.value)


def test_split_sizes():
    assert split_sizes(600, 0.2) == (480, 120)
    assert split_sizes(10, 0.25) == (7, 3)  # 2.5 rounds up
    assert split_sizes(10, 0.0) == (10, 0)


# -- the user's files ----------------------------------------------------------------------

def write_csv(path: Path, X: np.ndarray, y: np.ndarray) -> Path:
    lines = ["# a comment", "x1,x2,x3,label", ""]
    lines += [",".join(f"{v!r}" for v in row) + f",{t}" for row, t in zip(X.tolist(), y.tolist())]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_npz(path: Path, X: np.ndarray, y: np.ndarray) -> Path:
    np.savez(path, X=X, y=y)
    return path


WRITERS = {"csv": write_csv, "npz": write_npz}


def sample(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = rng.choice([3, 7, 9], size=n)
    return X, y


def raw(ds):
    """The dataset's examples in their original units, sorted, with their labels."""
    X = np.concatenate([ds.X_train, ds.X_test]) * ds.x_std + ds.x_mean
    y = np.concatenate([ds.y_train, ds.y_test])
    order = np.lexsort(X.T[::-1])
    return X[order], y[order]


@pytest.mark.parametrize("fmt", FROM_FILE)
def test_file_round_trip_classification(tmp_path, fmt):
    X, y = sample()
    WRITERS[fmt](tmp_path / f"d.{fmt}", X, y)
    ds = load_dataset({"name": fmt, "path": f"d.{fmt}", "test_fraction": 0.25}, seed=0, base_dir=tmp_path)
    assert (ds.task, ds.n_in, ds.n_out, ds.n_train, ds.n_test) == ("classification", 3, 3, 30, 10)
    assert ds.class_names == ("3", "7", "9")
    Xr, yr = raw(ds)
    order = np.lexsort(X.T[::-1])
    np.testing.assert_allclose(Xr, X[order], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(np.array([3, 7, 9])[yr], y[order])
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0.0, atol=1e-12)
    again = load_dataset({"name": fmt, "path": str(tmp_path / f"d.{fmt}"), "test_fraction": 0.25}, seed=0)
    np.testing.assert_array_equal(again.X_train, ds.X_train)


@pytest.mark.parametrize("fmt", FROM_FILE)
def test_file_round_trip_regression(tmp_path, fmt):
    X, _ = sample()
    t = X @ np.array([1.0, -2.0, 0.5]) + 0.25
    WRITERS[fmt](tmp_path / f"d.{fmt}", X, t)
    ds = load_dataset({"name": fmt, "path": f"d.{fmt}"}, seed=0, base_dir=tmp_path)
    assert (ds.task, ds.n_out, ds.class_names) == ("regression", 1, None)
    assert ds.y_train.dtype == np.float64 and ds.y_train.shape == (32, 1)
    assert sorted(np.concatenate([ds.y_train, ds.y_test])[:, 0]) == pytest.approx(sorted(t))


@pytest.mark.parametrize("fmt", FROM_FILE)
def test_task_regression_keeps_integer_targets(tmp_path, fmt):
    X, y = sample()
    WRITERS[fmt](tmp_path / f"d.{fmt}", X, y)
    ds = load_dataset({"name": fmt, "path": f"d.{fmt}", "task": "regression"}, seed=0, base_dir=tmp_path)
    assert ds.task == "regression" and set(ds.y_train[:, 0]) <= {3.0, 7.0, 9.0}


def test_csv_text_labels_semicolons_and_no_header(tmp_path):
    rows = [f"{i * 0.1};{i % 3};{['setosa', 'virginica'][i % 2]}" for i in range(10)]
    (tmp_path / "iris.csv").write_text("\n".join(rows))
    ds = load_dataset({"name": "csv", "path": "iris.csv", "test_fraction": 0}, seed=0, base_dir=tmp_path)
    assert ds.class_names == ("setosa", "virginica") and ds.n_in == 2 and ds.n_train == 10


def test_npz_multi_target_regression(tmp_path):
    X, _ = sample()
    np.savez(tmp_path / "d.npz", X=X, y=np.column_stack([X[:, 0], X[:, 1] * 2]))
    ds = load_dataset({"name": "npz", "path": "d.npz"}, seed=0, base_dir=tmp_path)
    assert (ds.task, ds.n_out, ds.y_train.shape) == ("regression", 2, (32, 2))


def test_targets_for_each_loss():
    ds = load_dataset({"name": "moons", "samples": 20}, seed=0)
    y, yt, n = ds.targets("cross_entropy")
    assert n == 2 and y is ds.y_train
    y, yt, n = ds.targets("bce")
    assert n == 1 and y.shape == (16, 1) and set(y[:, 0]) <= {0.0, 1.0}
    y, yt, n = ds.targets("mse")
    assert n == 2 and y.shape == (16, 2) and np.all(y.sum(axis=1) == 1)
    spirals = load_dataset({"name": "spirals"}, seed=0)
    with pytest.raises(DatasetError, match="bce needs a classification dataset with 2 classes, not 3 classes"):
        spirals.targets("bce")
    sine = load_dataset({"name": "sine"}, seed=0)
    with pytest.raises(DatasetError, match="cross_entropy needs class labels"):
        sine.targets("cross_entropy")
    assert sine.targets("mse")[2] == 1


BAD_FILES = {
    "ragged.csv": ("1,2,0\n3,4\n5,6,1\n7,8,0\n", "ragged.csv line 2: 2 columns, but the first data row has 3"),
    "empty_cell.csv": ("1,2,0\n3,,1\n5,6,1\n7,8,0\n", "empty_cell.csv line 2, column 2: an empty cell"),
    "word.csv": ("a,b,c\n1,2,0\n3,x,1\n5,6,1\n7,8,0\n", "word.csv line 3, column 2: 'x' is not a number"),
    "nan.csv": ("1,2,0\n3,nan,1\n5,6,1\n7,inf,0\n", "nan.csv: 2 values are NaN or infinite in the features"),
    "nan_label.csv": ("1,2,0\n3,4,nan\n5,6,1\n7,8,0\n",
                      "nan_label.csv: 1 value is NaN or infinite in the labels/targets (the first in example 1)"),
    "few.csv": ("1,2,0\n3,4,1\n5,6,1\n", "few.csv has 3 examples; at least 4 are needed"),
    "one_class.csv": ("1,2,0\n3,4,0\n5,6,0\n7,8,0\n", "every example has the same label"),
    "one_column.csv": ("1\n2\n3\n4\n", "needs at least 2 columns"),
    "header_only.csv": ("x,y,label\n", "has a header row but no data rows"),
    "empty.csv": ("\n# nothing\n", "empty.csv has no data rows"),
    "empty_label.csv": ("1,2,a\n3,4,\n5,6,b\n7,8,a\n", "empty_label.csv line 2: the label (last column) is empty"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_csv(tmp_path, name):
    text, words = BAD_FILES[name]
    (tmp_path / name).write_text(text)
    with pytest.raises(DatasetError) as info:
        load_dataset({"name": "csv", "path": name}, seed=0, base_dir=tmp_path)
    assert words in str(info.value) and info.value.key == "path"


def test_csv_errors_that_need_the_task(tmp_path):
    (tmp_path / "t.csv").write_text("1,2,a\n3,4,b\n5,6,a\n7,8,b\n")
    with pytest.raises(DatasetError, match="task is regression but the target 'a' is not a number"):
        load_dataset({"name": "csv", "path": "t.csv", "task": "regression"}, seed=0, base_dir=tmp_path)
    (tmp_path / "f.csv").write_text("1,2,0.5\n3,4,1\n5,6,0\n7,8,1\n")
    with pytest.raises(DatasetError, match=r"task is classification but label 0.5 \(example 0\) is not an integer"):
        load_dataset({"name": "csv", "path": "f.csv", "task": "classification"}, seed=0, base_dir=tmp_path)


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(DatasetError) as info:
        load_dataset({"name": "csv", "path": "nope.csv"}, seed=0, base_dir=tmp_path)
    assert f"data file '{tmp_path / 'nope.csv'}' does not exist" in str(info.value)
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(DatasetError, match="is a folder, not a file"):
        load_dataset({"name": "csv", "path": "dir.csv"}, seed=0, base_dir=tmp_path)
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00\x81" * 10)
    with pytest.raises(DatasetError, match="bin.csv is not a UTF-8 text file"):
        load_dataset({"name": "csv", "path": "bin.csv"}, seed=0, base_dir=tmp_path)
    (tmp_path / "x.npz").write_text("not a zip")
    with pytest.raises(DatasetError, match="cannot read x.npz as an .npz file"):
        load_dataset({"name": "npz", "path": "x.npz"}, seed=0, base_dir=tmp_path)


@pytest.mark.parametrize("arrays, words", [
    ({"X": np.zeros((5, 2)), "labels": np.zeros(5)}, "d.npz has no array y; it has: X, labels (expected X and y)"),
    ({"X": np.zeros((5, 2, 2)), "y": np.zeros(5)}, "X must be 2-D (examples x features), not shape (5, 2, 2)"),
    ({"X": np.zeros((5, 2)), "y": np.zeros(4)}, "y must have one row per example of X (5), not shape (4, 1)"),
    ({"X": np.array([["a", "b"]] * 5), "y": np.zeros(5)}, "X must be numeric, not <U1"),
    ({"X": np.full((5, 2), np.nan), "y": np.arange(5) % 2}, "10 values are NaN or infinite in the features"),
    ({"X": np.zeros((5, 2)), "y": np.zeros((5, 2))}, None),  # fine: 2 regression targets
])
def test_bad_npz(tmp_path, arrays, words):
    np.savez(tmp_path / "d.npz", **arrays)
    if words is None:
        assert load_dataset({"name": "npz", "path": "d.npz"}, seed=0, base_dir=tmp_path).n_out == 2
        return
    with pytest.raises(DatasetError) as info:
        load_dataset({"name": "npz", "path": "d.npz"}, seed=0, base_dir=tmp_path)
    assert words in str(info.value)


def test_npz_classification_with_multi_column_y(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.zeros((5, 2)), y=np.zeros((5, 2)))
    with pytest.raises(DatasetError, match="classification needs one label per example, but y has 2 columns"):
        load_dataset({"name": "npz", "path": "d.npz", "task": "classification"}, seed=0, base_dir=tmp_path)
