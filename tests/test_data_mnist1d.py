"""MNIST-1D: the committed file, the shuffled variant, and regeneration."""

import hashlib
import importlib.util
import random
from pathlib import Path

import numpy as np
import pytest

from cnnlib.data import files
from cnnlib.data.mnist1d import MNIST1D_FILE, load_mnist1d, shuffle_positions

ROOT = Path(__file__).resolve().parent.parent
TRAIN_COUNTS = [398, 396, 411, 394, 394, 402, 401, 404, 402, 398]
TEST_COUNTS = [102, 104, 89, 106, 106, 98, 99, 96, 98, 102]


def load_script(name):
    """Import data/NAME.py as a module (the generators are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "data" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def row_hashes(x):
    return {hashlib.sha1(row.tobytes()).hexdigest() for row in x}


def test_shapes_dtypes_and_classes():
    x_train, y_train, x_test, y_test = load_mnist1d()
    assert x_train.shape == (4000, 40) and x_test.shape == (1000, 40)
    assert x_train.dtype == x_test.dtype == np.float32
    assert y_train.shape == (4000,) and y_test.shape == (1000,)
    assert y_train.dtype == y_test.dtype == np.int64
    assert np.bincount(y_train, minlength=10).tolist() == TRAIN_COUNTS
    assert np.bincount(y_test, minlength=10).tolist() == TEST_COUNTS


def test_value_range_is_standardised():
    x_train, _, x_test, _ = load_mnist1d()
    x = np.concatenate([x_train, x_test]).astype(np.float64)
    assert np.isfinite(x).all()
    assert abs(x.mean()) < 1e-5 and abs(x.std() - 1) < 1e-5  # over all 5000
    assert -6 < x.min() < -5 and 4 < x.max() < 5


def test_extra_arrays_in_the_file():
    arrays = files.load_npz(MNIST1D_FILE)
    assert arrays["t"].shape == (40,) and arrays["t"].dtype == np.float32
    assert np.all(np.diff(arrays["t"]) > 0)
    assert arrays["templates_x"].shape == (10, 12)
    assert arrays["templates_t"].shape == (12,)


def test_train_and_test_are_disjoint():
    x_train, _, x_test, _ = load_mnist1d()
    train, test = row_hashes(x_train), row_hashes(x_test)
    assert len(train) == 4000 and len(test) == 1000 and not train & test


def test_shuffled_variant_is_one_fixed_permutation():
    x_train, y_train, x_test, y_test = load_mnist1d()
    s_train, s_y_train, s_test, s_y_test = load_mnist1d(shuffle=True)
    perm = np.random.default_rng(0).permutation(40)
    assert not np.array_equal(perm, np.arange(40))
    assert np.array_equal(s_train, x_train[:, perm])
    assert np.array_equal(s_test, x_test[:, perm])  # the same for train and test
    assert np.array_equal(np.sort(s_train, 1), np.sort(x_train, 1))  # same values
    assert np.array_equal(s_y_train, y_train) and np.array_equal(s_y_test, y_test)
    assert np.array_equal(load_mnist1d(shuffle=True)[0], s_train)  # deterministic


def test_shuffle_positions():
    x = np.arange(2 * 3 * 40).reshape(2, 3, 40)
    a, b = shuffle_positions(x, seed=1), shuffle_positions(x, seed=1)
    assert np.array_equal(a, b) and a.shape == x.shape
    assert not np.array_equal(a, shuffle_positions(x, seed=2))
    assert np.array_equal(np.sort(a, -1), x)
    order = a[0, 0]  # positions 0..39, so the row itself is the permutation
    assert np.array_equal(a, x[..., order])
    with pytest.raises(ValueError, match="last axis"):
        shuffle_positions(3.0)


def test_regenerating_gives_the_committed_arrays(tmp_path, monkeypatch):
    pytest.importorskip(
        "mnist1d",
        reason="mnist1d not installed: pip install -r data/requirements-data.txt",
    )
    from mnist1d.data import get_dataset_args

    args = get_dataset_args(as_dict=True)
    assert (args["num_samples"], args["train_split"], args["seed"]) == (5000, 0.8, 42)
    assert args["final_seq_length"] == 40 and not args["shuffle_seq"]
    np.random.seed(7)
    random.seed(7)
    before = np.random.get_state()[1].copy(), random.getstate()
    monkeypatch.chdir(tmp_path)  # the offline generator must write nothing
    fresh = load_script("make_mnist1d").generate()
    assert list(tmp_path.iterdir()) == []
    assert np.array_equal(np.random.get_state()[1], before[0])  # state restored
    assert random.getstate() == before[1]
    committed = files.load_npz(MNIST1D_FILE)
    assert sorted(fresh) == sorted(committed)
    for key, value in fresh.items():
        assert value.dtype == committed[key].dtype, key
        assert np.array_equal(value, committed[key]), key
