"""Seeding, device choice and the one switch that scales experiments up.

Every notebook's setup cell calls :func:`setup`. The switch is the environment
variable ``CNNLIB_FULL``: unset (the default) every experiment is sized to run in
about a minute on two CPU cores; ``CNNLIB_FULL=1`` runs the bigger versions meant
for a GPU server. Notebooks read it through :func:`full_scale`, never directly.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch
from threadpoolctl import threadpool_limits

FULL_ENV = "CNNLIB_FULL"


def full_scale() -> bool:
    """True when the reader asked for the full-size experiments (``CNNLIB_FULL=1``)."""
    value = os.environ.get(FULL_ENV, "0").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"{FULL_ENV} must be 0 or 1 (got {value!r})")


def seed_everything(seed: int = 0) -> None:
    """Seed Python, NumPy and PyTorch (CPU and CUDA) so that a run is reproducible."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise TypeError(f"seed must be a non-negative int (got {seed!r})")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def pick_device() -> torch.device:
    """``cuda`` when a GPU is present, else ``cpu``."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def limit_threads(n: int = 1) -> None:
    """Use at most ``n`` CPU threads in torch and in numpy's BLAS, from now on.

    Small models gain nothing from more threads: on a busy two-core machine the
    threads mostly wait for each other, and a small numpy matrix product (the
    hand-written layers of cnnlib.grad) ran about 20 times slower with BLAS's default
    thread pool than with one thread.
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise TypeError(f"limit_threads: n must be a positive int (got {n!r})")
    torch.set_num_threads(n)
    threadpool_limits(n)


def setup(seed: int = 0, verbose: bool = True) -> torch.device:
    """Seed everything, pick the device and say which mode the notebook runs in."""
    seed_everything(seed)
    device = pick_device()
    if verbose:
        mode = "full (CNNLIB_FULL=1)" if full_scale() else "quick (laptop CPU)"
        print(f"cnnlib: seed {seed}, device {device}, experiments: {mode}")
    return device
