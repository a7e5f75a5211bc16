"""Seeding, device choice, the thread policy and the one switch that scales up.

Every notebook's setup cell calls :func:`setup`. The switch is the environment
variable ``CNNLIB_FULL``: unset (the default) every experiment is sized to run in
about a minute on two CPU cores; ``CNNLIB_FULL=1`` runs the bigger versions meant
for a GPU server. Notebooks read it through :func:`full_scale`, never directly.

Threads. A reader's computer is never idle (a browser, an IDE, a video call), and
threads that share cores with other programs wait for each other: on two busy
cores, an epoch of chapter 05's small VGG took 19 s on two torch threads against
5.8 s on one, and a matrix product of cnnlib's convolution 1.1 s on two BLAS threads
against 0.5 s on one. So :func:`setup` applies one policy for every notebook:
torch and numpy's BLAS each use :func:`thread_count` threads, which is 1 unless the
reader sets ``CNNLIB_THREADS`` (e.g. ``CNNLIB_THREADS=4`` on an idle workstation);
and ``import cnnlib`` lets waiting OpenMP threads sleep rather than spin (see
``cnnlib._env``). ``python benchmarks/under_load.py`` measures every notebook idle
and under load.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from . import _env

FULL_ENV = "CNNLIB_FULL"
THREADS_ENV = "CNNLIB_THREADS"
DEFAULT_THREADS = 1


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


def thread_count() -> int:
    """The number of CPU threads :func:`setup` gives torch and numpy's BLAS.

    ``CNNLIB_THREADS`` when it is set (a positive integer), else 1: measured on busy
    machines, one thread per notebook is the steady choice (module docstring).
    """
    value = os.environ.get(THREADS_ENV, "").strip()
    if not value:
        return DEFAULT_THREADS
    if not value.isdigit() or int(value) < 1:
        raise ValueError(
            f"{THREADS_ENV} must be a positive integer, the number of CPU threads "
            f"(got {value!r})"
        )
    return int(value)


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
    """Seed everything, apply the thread policy, pick the device and say which mode
    the notebook runs in."""
    seed_everything(seed)
    threads = thread_count()
    limit_threads(threads)
    device = pick_device()
    if verbose:
        mode = "full (CNNLIB_FULL=1)" if full_scale() else "quick (laptop CPU)"
        print(
            f"cnnlib: seed {seed}, device {device}, {threads} CPU thread"
            f"{'s' if threads > 1 else ''}, experiments: {mode}"
        )
        if threads > 1 and _env.TORCH_LOADED_FIRST:
            print(
                "cnnlib: torch was imported before cnnlib, so waiting OpenMP threads "
                "spin; import cnnlib first (or set OMP_WAIT_POLICY=PASSIVE)"
            )
    return device
