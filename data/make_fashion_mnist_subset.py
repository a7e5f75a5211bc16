"""Make data/fashion_mnist_subset.npz: a stratified subset of Fashion-MNIST.

Run ``python data/make_fashion_mnist_subset.py [--source DIR]``. Reads the four
standard IDX files from DIR, else from where ``load_fashion_mnist(source="full")``
would look (``$CNNLIB_FASHION_MNIST``, Debian's ``/usr/share/datasets/fashion-mnist``
from ``apt-get install dataset-fashion-mnist``, the download cache). Keeps 1200 training
and 200 test images per class, drawn with fixed seeds, so the output is the same,
byte for byte, on every run. Also saves ``train_index``/``test_index``: where each
kept image sits in the full training/test set.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # use this clone's cnnlib, installed or not
from cnnlib.data.files import DataFileError, save_npz  # noqa: E402
from cnnlib.data.idx import find_idx_set, read_idx_set  # noqa: E402
from cnnlib.data.images import (  # noqa: E402
    FASHION,
    check_disjoint,
    find_full,
    report_subset,
    stratified_indices,
)

OUT = ROOT / "data" / "fashion_mnist_subset.npz"
TRAIN_PER_CLASS, TEST_PER_CLASS = 1200, 200
SEEDS = {"train": 0, "test": 1}
MISSING = (
    "make_fashion_mnist_subset: no Fashion-MNIST IDX files found. Install Debian's\n"
    "package:\n"
    "  apt-get install dataset-fashion-mnist\n"
    "or pass --source DIR (or set CNNLIB_FASHION_MNIST) with the four files\n"
    "  train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz\n"
    "  t10k-images-idx3-ubyte.gz  t10k-labels-idx1-ubyte.gz"
)


def make_subset(full: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """full set {x_train (60000, 28, 28), y_train, x_test, y_test} -> the subset:
    x_train (12000, 28, 28) uint8, y_train (12000,) int64, x_test (2000, 28, 28),
    y_test (2000,), train_index (12000,), test_index (2000,) int64."""
    train = stratified_indices(full["y_train"], TRAIN_PER_CLASS, SEEDS["train"])
    test = stratified_indices(full["y_test"], TEST_PER_CLASS, SEEDS["test"])
    subset = {
        "x_train": full["x_train"][train],
        "y_train": full["y_train"][train].astype(np.int64),
        "x_test": full["x_test"][test],
        "y_test": full["y_test"][test].astype(np.int64),
        "train_index": train.astype(np.int64),
        "test_index": test.astype(np.int64),
    }
    check_disjoint(subset["x_train"], subset["x_test"])
    return subset


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, help="folder with the four IDX files")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        folder = args.source or find_full(FASHION)
    except DataFileError as err:  # CNNLIB_FASHION_MNIST names an incomplete folder
        print(f"make_fashion_mnist_subset: {err}")
        return 1
    if folder is None or find_idx_set(folder) is None:
        print(MISSING if folder is None else f"{MISSING}\n(looked in {folder})")
        return 1
    subset = make_subset(read_idx_set(folder))
    save_npz(OUT, **subset)
    seconds = time.perf_counter() - start
    print(f"read {folder}")
    report_subset(subset, OUT, seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
