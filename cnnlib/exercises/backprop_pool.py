"""Checker for the chapter "Backpropagation through convolutions": max pooling."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._core import ExerciseError, call, checker, on_layouts
from ._diagnose import as_array, verdict


def _route(dy, x, q, stride, pick="max", mode="route", add=True, offset=True, **slip):
    """A configurable max-pool backward pass, so that each mistake can be rebuilt.

    slip: unravel="x" or "stride" (the arg-max unravelled with the wrong width),
    step=1 (windows at (i, j), the stride forgotten), floor=0 (a maximum search that
    starts at 0, so all-negative windows get nothing).
    """
    dx = np.zeros(x.shape)
    step = slip.get("step", stride)
    for i in range(dy.shape[0]):
        for j in range(dy.shape[1]):
            r, c = (j * step, i * step) if slip.get("swap_ij") else (i * step, j * step)
            r0, c0 = (r, c) if offset else (0, 0)
            window = x[r : r + q, c : c + q]
            if mode in ("all", "mean"):
                share = 1 / (q * q) if mode == "mean" else 1.0
                dx[r : r + q, c : c + q] += share * dy[i, j]
                continue
            if window.max() <= slip.get("floor", -np.inf):
                continue
            flat = int(np.argmax(window) if pick == "max" else np.argmin(window))
            a, b = _unravel(flat, q, x.shape, stride, slip.get("unravel"))
            if mode == "swap":
                a, b = b, a
            if mode == "mask":  # dx[window] = mask * dy: zeros written over the rest
                dx[r : r + q, c : c + q] = (window == window.max()) * dy[i, j]
                continue
            if not add:  # '=' instead of '+=': the last window to write wins
                dx[r0 + a, c0 + b] = 0.0
            dx[r0 + a, c0 + b] += dy[i, j]
    return dx


def _unravel(flat, q, shape, stride, how):
    if how == "x":
        return np.unravel_index(flat, shape)
    return divmod(flat, stride if how == "stride" else q)


_POOL_MISTAKES = {
    "you sent dy to every element of the window: only the maximum reached the "
    "output, so only the maximum gets the gradient": {"mode": "all"},
    "that is average pooling's backward pass (dy / q^2 everywhere): in max pooling "
    "only the arg-max of each window gets the gradient": {"mode": "mean"},
    "you routed the gradient to the minimum of each window: use the arg-max": {
        "pick": "min"
    },
    "an element that is the maximum of several overlapping windows receives the SUM "
    "of their gradients: accumulate with += instead of overwriting": {"add": False},
    "writing the masked window (dx[window] = mask * dy) overwrites what overlapping "
    "windows put there: add it (+=), or add dy at the arg-max only": {"mode": "mask"},
    "row and column swapped: the flat arg-max idx of a q x q window is at row "
    "idx // q, column idx % q (np.unravel_index)": {"mode": "swap"},
    "the arg-max is measured inside the window: add the window's top-left corner "
    "(i * stride, j * stride) to get a position in x": {"offset": False},
    "the flat arg-max of a window is unravelled with the WINDOW's shape (q, q), "
    "not with x's shape": {"unravel": "x"},
    "the flat arg-max of a q x q window is at row idx // q, column idx % q: divide "
    "by the window width q, not by the stride": {"unravel": "stride"},
    "the stride is forgotten: window (i, j) starts at (i * stride, j * stride)": {
        "step": 1
    },
    "i and j are swapped: dy[i, j] belongs to the window whose top-left corner is "
    "at row i * stride, column j * stride": {"swap_ij": True},
    "windows whose values are all negative get no gradient: your search for the "
    "maximum starts at 0; start at -inf, or use np.argmax": {"floor": 0.0},
}

_POOL_CASES = [  # (x, q, stride): distinct values, so every arg-max is unique
    (np.array([[1.0, 5, 2, 0], [3, 4, 8, 6], [7, 2, 1, 9], [0, 6, 3, 5]]) * 1.1, 2, 2),
    (np.random.default_rng(1).permutation(30).reshape(5, 6) / 3.0, 2, 2),
    (np.random.default_rng(2).permutation(36).reshape(6, 6) - 17.5, 3, 1),
    (np.random.default_rng(3).permutation(49).reshape(7, 7) / 7.0, 3, 2),
    (-(np.random.default_rng(4).permutation(20).reshape(4, 5) + 1) / 4.0, 2, 1),
    (np.array([[0.5, -1.5, 2.5]]), 1, 1),  # 1 x 1 windows: dx = dy
    (
        np.array([[0.5, -1.5, 2.5], [3.5, 1.0, -2.0], [0.2, 2.7, -0.5]]),
        3,
        1,
    ),  # 1 window
]


def _pool_mistakes(dy, x, q, stride):
    for message, slip in _POOL_MISTAKES.items():
        yield message, lambda slip=slip: _route(dy, x, q, stride, **slip)


def _check_pool_case(fn, dy, x, q, stride):
    dx = as_array(call(fn, dy, x, q, stride), "dx")
    case = f"case (x {x.shape}, q={q}, stride={stride})"
    if dx.shape != x.shape:
        also = " (that is dy's shape)" if dx.shape == dy.shape else ""
        raise ExerciseError(f"{case}: dx has x's shape {x.shape}, got {dx.shape}{also}")
    message = verdict(dx, _route(dy, x, q, stride), _pool_mistakes(dy, x, q, stride))
    if message:
        raise ExerciseError(f"{case}: {message}")


def _dy(x, q, stride, n):
    H_out, W_out = ((s - q) // stride + 1 for s in x.shape)
    return np.arange(1.0, H_out * W_out + 1).reshape(H_out, W_out) * (-1) ** n + 0.25


@checker("max_pool2d_backward")
def check_max_pool2d_backward(fn: Callable) -> str:
    """Check ``fn(dy, x, q, stride)``: dL/dx of max pooling x (H, W) with q x q
    windows, given dy = dL/dy (H_out, W_out)."""
    for n, (x, q, stride) in enumerate(_POOL_CASES):
        _check_pool_case(fn, _dy(x, q, stride, n), x, q, stride)
    x, q, stride = _POOL_CASES[3]
    dy = _dy(x, q, stride, 3)
    on_layouts(lambda dy, x: _check_pool_case(fn, dy, x, q, stride), dy, x)
    return (
        f"{len(_POOL_CASES)} cases, overlapping windows included: every dy goes to "
        "its window's arg-max, as in torch."
    )
