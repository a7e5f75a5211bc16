"""Make data/mnist1d.npz: MNIST-1D from the ``mnist1d`` package's offline generator.

Run ``python data/make_mnist1d.py``; needs ``pip install mnist1d==0.0.2.post1`` (see
``data/requirements-data.txt``). Only ``make_dataset(get_dataset_args())`` is used
(defaults: 5000 signals, seed 42, 4000/1000 split, length 40); the package's
``get_dataset`` is not, as it downloads and writes a pickle. The output is the same,
byte for byte, on every run.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # use this clone's cnnlib, installed or not
from cnnlib.data.files import save_npz  # noqa: E402

OUT = ROOT / "data" / "mnist1d.npz"
INSTALL = (
    "pip install mnist1d==0.0.2.post1   (or: pip install -r data/requirements-data.txt)"
)


def generate() -> dict[str, np.ndarray]:
    """-> x_train (4000, 40) float32, y_train (4000,) int64, x_test (1000, 40),
    y_test (1000,), t (40,) float32, templates_x (10, 12), templates_t (12,)."""
    from mnist1d.data import get_dataset_args, make_dataset

    # make_dataset reseeds the global generators; leave the caller's state alone
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        data = make_dataset(get_dataset_args())
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    f32 = np.float32
    return {
        "x_train": data["x"].astype(f32),
        "y_train": data["y"].astype(np.int64),
        "x_test": data["x_test"].astype(f32),
        "y_test": data["y_test"].astype(np.int64),
        "t": data["t"].astype(f32),
        "templates_x": data["templates"]["x"].astype(f32),
        "templates_t": data["templates"]["t"].astype(f32),
    }


def main() -> int:
    start = time.perf_counter()
    try:
        arrays = generate()
    except ImportError as err:
        print(f"make_mnist1d: the mnist1d package is missing ({err}).\n  {INSTALL}")
        return 1
    save_npz(OUT, **arrays)
    seconds = time.perf_counter() - start
    for key, value in arrays.items():
        print(f"  {key:12s} {value.dtype} {value.shape}")
    for split in ("train", "test"):
        counts = np.bincount(arrays[f"y_{split}"], minlength=10).tolist()
        print(f"  {split} per class: {counts}")
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e3:.0f} kB) in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
