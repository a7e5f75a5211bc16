"""conv1d/conv2d backward passes as loops that mirror the formulas term by term.

Every term w[o, c, t] · x_pad[n, g·C_g + c, i·s + t·d] of the forward sum sends
dy[n, o, i] times its other factor to each of its two factors. Slow; for teaching
and for testing the vectorised conv1d_backward / conv2d_backward.
"""

import itertools

import numpy as np

from ..conv import _pad
from ._common import check_cache, check_dy, crop
from .conv import ConvCache


def _start(op, dy, cache):
    fn = f"{op}_backward_naive"
    cache = check_cache(cache, ConvCache, fn, op)
    dy, x, w = check_dy(dy, cache.y_shape, fn, cache.x, cache.w)
    dy = dy if dy.ndim == x.ndim else dy[None]  # an input without N: add it
    x_pad = _pad(x, cache.pads)
    return dy, cache._replace(w=w), x_pad, np.zeros_like(x_pad), np.zeros_like(w)


def _finish(dx_pad, dw, db, cache):
    """-> (dx, dw, db), dx cropped (and without N if the input had none)."""
    dx = crop(dx_pad, cache.pads, cache.x.shape[2:])
    dx = dx if len(cache.y_shape) == cache.x.ndim else dx[0]
    return dx, dw, db if cache.has_bias else None


def conv1d_backward_naive(dy, cache):
    """dy (N, C_out, L_out), cache -> (dx, dw, db)

    dx (N, C_in, L), dw (C_out, C_in // groups, k), db (C_out,) or None; the same
    values as conv1d_backward, computed one term at a time.
    """
    dy, cache, x_pad, dx_pad, dw = _start("conv1d", dy, cache)
    w, (s,), (d,) = cache.w, cache.stride, cache.dilation
    (N, C_out, L_out), (_, C_g, k) = dy.shape, w.shape
    db = np.zeros(C_out, dtype=dw.dtype)
    for n, o, i in itertools.product(range(N), range(C_out), range(L_out)):
        g = o // (C_out // cache.groups)  # the group output channel o belongs to
        db[o] += dy[n, o, i]
        for c, t in itertools.product(range(C_g), range(k)):
            # forward term: w[o, c, t] · x_pad[n, g·C_g + c, i·s + t·d]
            dw[o, c, t] += dy[n, o, i] * x_pad[n, g * C_g + c, i * s + t * d]
            dx_pad[n, g * C_g + c, i * s + t * d] += dy[n, o, i] * w[o, c, t]
    return _finish(dx_pad, dw, db, cache)


def conv2d_backward_naive(dy, cache):
    """dy (N, C_out, H_out, W_out), cache -> (dx, dw, db)

    dx (N, C_in, H, W), dw (C_out, C_in // groups, kH, kW), db (C_out,) or None;
    the same values as conv2d_backward, computed one term at a time.
    """
    dy, cache, x_pad, dx_pad, dw = _start("conv2d", dy, cache)
    w, (sH, sW), (dH, dW) = cache.w, cache.stride, cache.dilation
    (N, C_out, H_out, W_out), (_, C_g, kH, kW) = dy.shape, w.shape
    db = np.zeros(C_out, dtype=dw.dtype)
    for n, o, i, j in itertools.product(
        range(N), range(C_out), range(H_out), range(W_out)
    ):
        g = o // (C_out // cache.groups)
        db[o] += dy[n, o, i, j]
        for c, u, v in itertools.product(range(C_g), range(kH), range(kW)):
            # term: w[o, c, u, v] · x_pad[n, g·C_g + c, i·sH + u·dH, j·sW + v·dW]
            at = (n, g * C_g + c, i * sH + u * dH, j * sW + v * dW)
            dw[o, c, u, v] += dy[n, o, i, j] * x_pad[at]
            dx_pad[at] += dy[n, o, i, j] * w[o, c, u, v]
    return _finish(dx_pad, dw, db, cache)
