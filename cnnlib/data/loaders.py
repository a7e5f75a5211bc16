"""Thin torch wrappers: NumPy arrays in, ``TensorDataset``/``DataLoader`` out."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset


def tensor_dataset(x, y, dtype=torch.float32) -> TensorDataset:
    """x (N, ...) any real dtype, y (N,) integer labels -> TensorDataset(x, y).

    ``x`` is converted to ``dtype`` (float32 by default), ``y`` to int64.
    """
    x, y = np.asarray(x), np.asarray(y)
    if x.shape[:1] != y.shape[:1] or y.ndim != 1:
        raise ValueError(
            f"tensor_dataset: x has {x.shape[0] if x.ndim else 0} samples (shape "
            f"{x.shape}) but y has shape {y.shape}; y must be (N,) with the same N"
        )
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"tensor_dataset: y must hold integer labels, got {y.dtype}")
    return TensorDataset(torch.as_tensor(x, dtype=dtype), torch.as_tensor(y).long())


def make_loader(x, y, batch_size=128, shuffle=True, seed=0, dtype=torch.float32):
    """A ``DataLoader`` over (x, y); with ``shuffle`` the order is fixed by ``seed``."""
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(
            f"make_loader: batch_size must be an int >= 1, got {batch_size!r}"
        )
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(
        tensor_dataset(x, y, dtype),
        batch_size=batch_size,
        shuffle=shuffle,
        generator=generator,
    )
