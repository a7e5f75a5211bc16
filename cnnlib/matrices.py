"""Convolution as a matrix: output sizes, the dense conv matrix, circulant matrices.

A convolution is linear, so for a fixed input size it is a (sparse, banded) matrix M
with conv(x).ravel() == M @ x.ravel(); the transposed convolution is M.T. On a
periodic signal the matrix becomes circulant, the bridge to shift operators and the
Fourier transform.
"""

import numpy as np

from ._checks import (
    as_float,
    check_int,
    int_args,
    output_size,
    resolve_padding,
)


def conv_output_size(n, k, stride=1, padding=0, dilation=1):
    """n, k (ints) -> int: floor((n + 2·padding - dilation·(k - 1) - 1) / stride) + 1

    The number of positions a kernel of size k takes along an input of size n; with
    dilation 1 this is the lectures' floor((n + 2p - f) / s) + 1.
    """
    fn = "conv_output_size"
    n, k = check_int(n, 1, fn, "n"), check_int(k, 1, fn, "k")
    stride, dilation = (
        check_int(stride, 1, fn, "stride"),
        check_int(dilation, 1, fn, "dilation"),
    )
    padding = check_int(padding, 0, fn, "padding")
    span = dilation * (k - 1) + 1
    if span > n + 2 * padding:
        dil = f", spanning {span} with dilation {dilation}," if dilation > 1 else ""
        raise ValueError(
            f"{fn}: kernel size k={k}{dil} is larger than the padded input "
            f"n + 2*padding = {n + 2 * padding}"
        )
    return (n + 2 * padding - span) // stride + 1


def _as_kernel(w, fn):
    """w (k,), (C_out, C_in, k) or (C_out, C_in, kH, kW) -> 3-D or 4-D float array"""
    w = as_float(w, fn, "weight")
    if w.ndim == 1:
        w = w[None, None]  # (1, 1, k): one input and one output channel
    if w.ndim not in (3, 4):
        raise ValueError(
            f"{fn}: weight must be (k,), (C_out, C_in, k) or (C_out, C_in, kH, kW), "
            f"got shape {w.shape}"
        )
    if 0 in w.shape:
        raise ValueError(f"{fn}: weight has an empty dimension, shape {w.shape}")
    return w


def conv_matrix(w, input_size, stride=1, padding=0, dilation=1):
    """w (C_out, C_in, k), L -> M (C_out·L_out, C_in·L);
    w (C_out, C_in, kH, kW), (H, W) -> M (C_out·H_out·W_out, C_in·H·W);
    w (k,), L -> M (L_out, L)

    The dense matrix of conv1d/conv2d on ONE sample (no batch axis):
    conv2d(x[None], w, ...)[0].ravel() == M @ x.ravel(), and conv_transpose2d with the
    same arguments (and an output_padding that restores the input size) is M.T.
    Each row holds the kernel once, shifted by the stride; taps that fall on padding
    are dropped because they multiply zeros. `padding` is as in conv1d/conv2d.
    """
    fn = "conv_matrix"
    w = _as_kernel(w, fn)
    nd = w.ndim - 2
    size = int_args(input_size, nd, 1, fn, "input_size")
    stride = int_args(stride, nd, 1, fn, "stride")
    dilation = int_args(dilation, nd, 1, fn, "dilation")
    (C_out, C_in, *k) = w.shape
    pads = resolve_padding(padding, nd, k, stride, dilation, fn)
    out = output_size(size, k, stride, pads, dilation, fn)
    M = np.zeros((C_out, *out, C_in, *size), dtype=w.dtype)
    for tap in np.ndindex(*k):
        rows, cols = [], []  # per axis: output positions, and the input index they read
        for n_out, n, t, s, (lo, _), d in zip(
            out, size, tap, stride, pads, dilation, strict=True
        ):
            i = np.arange(n_out)
            j = i * s + t * d - lo
            inside = (j >= 0) & (j < n)  # taps on padding multiply zeros: no entry
            rows.append(i[inside])
            cols.append(j[inside])
        # M[o, *i, c, *j] = w[o, c, *tap]: advanced indices split by a slice go first,
        # so the target is (*positions, C_out, C_in), matching w[:, :, *tap]
        M[(slice(None), *np.ix_(*rows), slice(None), *np.ix_(*cols))] = w[
            (slice(None), slice(None), *tap)
        ]
    return M.reshape(C_out * int(np.prod(out)), C_in * int(np.prod(size)))


def circulant(w, n):
    """w (k,), n -> C (n, n) with C[i, j] = w[(j - i) mod n], w zero-padded to length n

    Row 0 is w and each next row is the previous one rotated right by one, so
    (C @ x)[i] = sum_m w[m] x[(i + m) mod n]: cross-correlation of a periodic signal,
    i.e. conv1d on x wrapped around (np.concatenate([x, x[:k - 1]])). C commutes with
    the cyclic shift, like every convolution.
    """
    fn = "circulant"
    w = as_float(w, fn, "w")
    if w.ndim != 1 or w.size == 0:
        raise ValueError(
            f"{fn}: w must be a non-empty 1-D kernel (k,), got shape {w.shape}"
        )
    n = check_int(n, 1, fn, "n")
    if w.size > n:
        raise ValueError(f"{fn}: kernel length len(w)={w.size} is larger than n={n}")
    w_n = np.zeros(n, dtype=w.dtype)
    w_n[: w.size] = w  # zero-pad to length n
    i = np.arange(n)
    return w_n[(i[None, :] - i[:, None]) % n]  # (n, n)
