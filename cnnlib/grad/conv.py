"""Backward passes of conv1d and conv2d (stride, padding, dilation, groups).

The forward pass is one matrix product per group, y = patches @ w + b (cnnlib.conv),
so the backward pass is two more:

* dw = dy^T @ patches: each weight collects dy times the input values it met;
* d(patches) = dy @ w, then every patch entry is added back onto the input position
  it was read from (col2im, ``conv._col2im``); the padded border is cropped off.

``conv*_backward_naive`` (conv_naive.py) writes the same sums as loops.
"""

import math
from typing import NamedTuple

import numpy as np

from .._checks import check_conv_args
from ..conv import _col2im, _im2col, _pad, batch_slices, conv1d, conv2d
from ._common import check_cache, check_dy, crop


class ConvCache(NamedTuple):
    """What conv1d_backward / conv2d_backward need from the forward pass.

    x and w are copies: changing the caller's arrays after the forward pass does
    not change the backward pass.
    """

    op: str  # "conv1d" or "conv2d"
    x: np.ndarray  # (N, C_in, *size), the unpadded input, with a batch axis
    w: np.ndarray  # (C_out, C_in // groups, *k)
    has_bias: bool
    stride: tuple
    pads: tuple  # ((lo, hi), ...) per spatial dim; 'same' may pad unevenly
    dilation: tuple
    groups: int
    y_shape: tuple  # (N, C_out, *out), or (C_out, *out) for an input without N


def _forward(op, nd, conv, x, w, b, stride, padding, dilation, groups):
    fn = f"{op}_forward"
    x, w, b, stride, pads, dilation, had_batch = check_conv_args(
        fn, nd, x, w, b, stride, padding, dilation, groups
    )
    y = conv(x, w, b, stride, padding, dilation, groups)  # (N, C_out, *out)
    y = y if had_batch else y[0]
    cache = ConvCache(
        op,
        x.copy(),
        w.copy(),
        b is not None,
        stride,
        pads,
        dilation,
        int(groups),
        y.shape,
    )
    return y, cache


def conv1d_forward(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """x (N, C_in, L), w (C_out, C_in // groups, k), b (C_out,) -> (y, cache)

    y (N, C_out, L_out) is cnnlib.conv1d(x, w, b, stride, padding, dilation, groups),
    i.e. torch's conv1d; pass the cache to conv1d_backward.
    """
    args = (stride, padding, dilation, groups)
    return _forward("conv1d", 1, conv1d, x, w, b, *args)


def conv2d_forward(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """x (N, C_in, H, W), w (C_out, C_in // groups, kH, kW), b (C_out,) -> (y, cache)

    y (N, C_out, H_out, W_out) is cnnlib.conv2d(x, w, b, stride, padding, dilation,
    groups), i.e. torch's conv2d; pass the cache to conv2d_backward.
    """
    args = (stride, padding, dilation, groups)
    return _forward("conv2d", 2, conv2d, x, w, b, *args)


def _backward(op, dy, cache):
    fn = f"{op}_backward"
    cache = check_cache(cache, ConvCache, fn, op)
    dy, x, w = check_dy(dy, cache.y_shape, fn, cache.x, cache.w)
    had_batch = dy.ndim == x.ndim
    dy = dy if had_batch else dy[None]  # (N, C_out, *out)
    G, stride, dilation = cache.groups, cache.stride, cache.dilation
    (N, C_in, *size), (C_out, C_g, *k) = x.shape, w.shape
    out, nd = dy.shape[2:], len(size)
    P, K = math.prod(out), math.prod(k)
    x_pad = _pad(x, cache.pads)
    w_g = w.reshape(G, C_out // G, C_g * K)  # (G, C_out/G, C_g·K), as the forward
    dw = np.zeros_like(w_g)
    dx = np.empty_like(x)
    # slice by slice of the batch, as the forward pass (conv.batch_slices)
    for batch in batch_slices(N, C_in * K * P * x.itemsize):
        cols = _im2col(x_pad[batch], k, stride, dilation, out)  # (C_in, *k, n, *out)
        n = cols.shape[1 + nd]
        cols = cols.reshape(G, C_g * K, n * P)  # (G, C_g·K, n·P)
        dy_g = dy[batch].swapaxes(0, 1).reshape(G, C_out // G, n * P)
        dw += dy_g @ cols.transpose(0, 2, 1)  # (G, C_out/G, C_g·K), summed over n
        dcols = w_g.transpose(0, 2, 1) @ dy_g  # (G, C_g·K, n·P)
        dcols = dcols.reshape(C_in, *k, n, *out)
        dx_pad = _col2im(dcols, x_pad.shape[2:], stride, dilation)  # (n, C_in, ..)
        dx[batch] = crop(dx_pad, cache.pads, size)
        del cols, dcols, dx_pad  # before the next slice's (peak memory: one slice)
    dw = dw.reshape(w.shape)
    db = dy.sum(axis=(0, *range(2, 2 + nd))) if cache.has_bias else None
    return (dx if had_batch else dx[0]), dw, db


def conv1d_backward(dy, cache):
    """dy (N, C_out, L_out), cache -> (dx, dw, db)

    dx (N, C_in, L), dw (C_out, C_in // groups, k), db (C_out,), or None when the
    forward pass had no bias.

    With s = stride, d = dilation, C_g = C_in // groups and g the group of channel o,
    the forward pass y[n, o, i] = b[o] + sum_{c,t} w[o, c, t] · x_pad[n, g·C_g + c,
    i·s + t·d] gives
        dw[o, c, t] = sum_{n,i} dy[n, o, i] · x_pad[n, g·C_g + c, i·s + t·d]
        dx_pad[n, g·C_g + c, i·s + t·d] += dy[n, o, i] · w[o, c, t]
        db[o] = sum_{n,i} dy[n, o, i]
    and dx is dx_pad without the padding. For integer padding p this dx equals
    cnnlib.conv_transpose1d(dy, w, stride=s, padding=p, output_padding=r,
    groups=groups, dilation=d) with r = (L + 2p - d·(k - 1) - 1) mod s: the last r
    input samples were never read by the forward pass, so their gradient is 0.
    """
    return _backward("conv1d", dy, cache)


def conv2d_backward(dy, cache):
    """dy (N, C_out, H_out, W_out), cache -> (dx, dw, db)

    dx (N, C_in, H, W), dw (C_out, C_in // groups, kH, kW), db (C_out,) or None.
    conv1d_backward's formulas with one more spatial index: tap (u, v) of output
    position (i, j) reads x_pad[n, c, i·sH + u·dH, j·sW + v·dW].
    """
    return _backward("conv2d", dy, cache)
