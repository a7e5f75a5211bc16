"""Backward passes of max and average pooling (1D and 2D), as cnnlib.pool computes them.

Each output reads one window of the padded input, so its gradient goes back to that
window and overlapping windows add up (one strided += per kernel tap):

* max pooling: y = x at the arg-max of the window, so all of dy goes to that one
  input; ties go to the first maximum in window order (row by row), as torch does
  on the CPU, and the -inf padding never wins, so it never receives gradient. A
  window holding NaN has the maximum NaN and, as in torch (whose rule is "take the
  value if it is larger or NaN"), its gradient goes to the LAST NaN of the window;
* average pooling: y = (sum of the window) / K with K = kernel size (padded zeros
  count, count_include_pad=True), so every input of the window gets dy / K.
"""

import math
from typing import NamedTuple

import numpy as np

from .._checks import check_pool_args
from ..conv import _taps
from ..pool import _max_windows, avg_pool1d, avg_pool2d
from ._common import check_cache, check_dy, crop


class PoolCache(NamedTuple):
    """What the pooling backward passes need from the forward pass."""

    op: str  # "max_pool1d", "avg_pool2d", ...
    x_shape: tuple  # (N, C, *size), with a batch axis
    kernel_size: tuple
    stride: tuple
    padding: tuple
    argmax: np.ndarray | None  # (N, C, *out) flat index into each window; max only
    y_shape: tuple  # (N, C, *out), or (C, *out) for an input without N
    dtype: np.dtype  # the forward pass's: dx has it (or float64 for a float64 dy)


def _forward(op, nd, x, kernel_size, stride, padding):
    x, kernel_size, stride, padding, had_batch = check_pool_args(
        f"{op}_forward", nd, x, kernel_size, stride, padding
    )
    if op.startswith("max"):
        y, argmax = _max_windows(x, kernel_size, stride, padding)
    else:
        avg_pool = avg_pool1d if nd == 1 else avg_pool2d
        y, argmax = avg_pool(x, kernel_size, stride, padding), None
    y = np.ascontiguousarray(y if had_batch else y[0])
    cache = PoolCache(
        op, x.shape, kernel_size, stride, padding, argmax, y.shape, x.dtype
    )
    return y, cache


def _backward(op, dy, cache):
    fn = f"{op}_backward"
    cache = check_cache(cache, PoolCache, fn, op)
    dy = check_dy(dy, cache.y_shape, fn, forward_dtype=cache.dtype)
    had_batch = dy.ndim == len(cache.x_shape)
    dy = dy if had_batch else dy[None]  # (N, C, *out)
    k, size = cache.kernel_size, cache.x_shape[2:]
    padded = [n + 2 * p for n, p in zip(size, cache.padding, strict=True)]
    dx_pad = np.zeros((*dy.shape[:2], *padded), dtype=dy.dtype)
    if cache.argmax is None:  # average: dy / K to every window entry
        dy = dy / math.prod(k)
    # one strided += per kernel tap: tap t of every window at once (windows that
    # overlap add up; within one += no position repeats)
    ones, out = (1,) * len(k), dy.shape[2:]
    for t, tap in enumerate(np.ndindex(*k)):
        window = (slice(None), slice(None), *_taps(tap, cache.stride, ones, out))
        if cache.argmax is None:
            dx_pad[window] += dy
        else:  # max: all of dy to the tap that held the maximum
            dx_pad[window] += np.where(cache.argmax == t, dy, 0)
    pads = [(p, p) for p in cache.padding]
    dx = np.ascontiguousarray(crop(dx_pad, pads, size))
    return dx if had_batch else dx[0]


def max_pool1d_forward(x, kernel_size, stride=None, padding=0):
    """x (N, C, L) -> (y, cache)

    y (N, C, L_out) is cnnlib.max_pool1d(x, kernel_size, stride, padding).
    """
    return _forward("max_pool1d", 1, x, kernel_size, stride, padding)


def max_pool2d_forward(x, kernel_size, stride=None, padding=0):
    """x (N, C, H, W) -> (y, cache)

    y (N, C, H_out, W_out) is cnnlib.max_pool2d(x, kernel_size, stride, padding).
    """
    return _forward("max_pool2d", 2, x, kernel_size, stride, padding)


def avg_pool1d_forward(x, kernel_size, stride=None, padding=0):
    """x (N, C, L) -> (y, cache)

    y (N, C, L_out) is cnnlib.avg_pool1d(x, kernel_size, stride, padding).
    """
    return _forward("avg_pool1d", 1, x, kernel_size, stride, padding)


def avg_pool2d_forward(x, kernel_size, stride=None, padding=0):
    """x (N, C, H, W) -> (y, cache)

    y (N, C, H_out, W_out) is cnnlib.avg_pool2d(x, kernel_size, stride, padding).
    """
    return _forward("avg_pool2d", 2, x, kernel_size, stride, padding)


def max_pool1d_backward(dy, cache):
    """dy (N, C, L_out), cache -> dx (N, C, L)

    dx[n, c, j] = sum of dy[n, c, i] over the windows i whose (first) maximum is j.
    """
    return _backward("max_pool1d", dy, cache)


def max_pool2d_backward(dy, cache):
    """dy (N, C, H_out, W_out), cache -> dx (N, C, H, W)

    Each dy[n, c, i, j] goes to the arg-max of window (i, j); windows add up.
    """
    return _backward("max_pool2d", dy, cache)


def avg_pool1d_backward(dy, cache):
    """dy (N, C, L_out), cache -> dx (N, C, L)

    dx[n, c, j] = sum of dy[n, c, i] / k over the windows i that contain j.
    """
    return _backward("avg_pool1d", dy, cache)


def avg_pool2d_backward(dy, cache):
    """dy (N, C, H_out, W_out), cache -> dx (N, C, H, W)

    Each dy[n, c, i, j] is spread evenly, dy / (kH·kW), over window (i, j).
    """
    return _backward("avg_pool2d", dy, cache)
