"""MNIST-1D: ten 1-D "digit" templates, padded, scaled, shifted, sheared and noised.

A small dataset on which model choices still matter (Greydanus 2020, "Scaling down
deep learning", arXiv:2011.14439; the ``mnist1d`` package, Apache-2.0 licence): a CNN
reaches about 94% test accuracy, an MLP about 68%, and a CNN on the spatially shuffled
variant about 56%, because shuffling the 40 positions destroys the locality that
convolutions exploit but leaves an MLP's task unchanged.

``data/mnist1d.npz`` was made offline by ``data/make_mnist1d.py`` with the package's
default arguments (5000 signals, seed 42, 4000/1000 split); it also holds ``t`` (40,),
the package's vertical coordinate for plotting a signal (``plt.plot(x[i], t)``), and
the ten templates ``templates_x`` (10, 12), ``templates_t`` (12,).
"""

from __future__ import annotations

import numpy as np

from .files import load_npz

MNIST1D_FILE = "mnist1d.npz"
MNIST1D_LENGTH = 40


def shuffle_positions(x, seed=0) -> np.ndarray:
    """x (..., L) -> (..., L): the same random permutation of the L positions for
    every row, fixed by ``seed``; ``x[..., perm]`` with
    ``perm = np.random.default_rng(seed).permutation(L)``."""
    x = np.asarray(x)
    if x.ndim == 0:
        raise ValueError("shuffle_positions: x must have a last axis of positions")
    perm = np.random.default_rng(seed).permutation(x.shape[-1])
    return x[..., perm]


def load_mnist1d(shuffle=False):
    """-> (x_train (4000, 40) float32, y_train (4000,) int64, x_test (1000, 40)
    float32, y_test (1000,) int64).

    Labels are the digits 0-9; signals are centred and scaled to unit standard
    deviation over the whole set (values about -5.5..4.6). ``shuffle=True`` returns
    the spatially shuffled variant: :func:`shuffle_positions` with seed 0, the same
    permutation for train and test. Source: Greydanus 2020, "Scaling down deep
    learning" (the ``mnist1d`` package, Apache-2.0).
    """
    arrays = load_npz(MNIST1D_FILE)
    x_train, x_test = arrays["x_train"], arrays["x_test"]
    if shuffle:
        x_train, x_test = shuffle_positions(x_train), shuffle_positions(x_test)
    return x_train, arrays["y_train"], x_test, arrays["y_test"]
