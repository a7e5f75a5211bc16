"""Convolution through the Fourier transform: the convolution theorem as code.

A circulant matrix is diagonalised by the discrete Fourier transform, so a periodic
(circular) convolution is a product of spectra, and so is a cross-correlation, with
the kernel's spectrum conjugated:

    y[i] = sum_t w[t] x[(i + t) mod P]   <=>   Y[f] = X[f] · conj(W[f])

(X, W, Y the DFTs of length P; w zero-padded to P). With P at least the padded input's
length, the first n_out = P_x - k + 1 outputs never wrap around, and they are exactly
the zero-padded cross-correlation that conv1d/conv2d compute. The cost is that of the
transforms, O(P log P) per channel pair, whatever the kernel size: for large kernels
it beats the direct O(P·k), for small ones it loses (benchmarks/fft_conv.py).

``fft_conv1d`` and ``fft_conv2d`` have conv1d/conv2d's semantics for stride 1,
dilation 1 and groups 1 (torch's layouts, integer padding or 'same'/'valid', bias,
inputs without a batch axis, empty batches), the same checks and errors, and the
same dtype policy (float32 in, float32 out). They use scipy.fft.
"""

import math

import numpy as np
from scipy import fft

from ._checks import check_conv_args
from .conv import _pad, _unbatch


def _fft_conv(fn, nd, x, w, b, padding):
    """x (N, C_in, *size), w (C_out, C_in, *k) -> (N, C_out, *out), by FFTs"""
    x, w, b, _, pads, _, had_batch = check_conv_args(fn, nd, x, w, b, 1, padding, 1, 1)
    x_pad = _pad(x, pads)  # (N, C_in, *P)
    (N, C_in, *size), (C_out, _, *k) = x_pad.shape, w.shape
    out = [n - kk + 1 for n, kk in zip(size, k, strict=True)]
    # any transform length >= P avoids wrap-around; pick one that FFTs fast
    shape = [fft.next_fast_len(n, real=True) for n in size]
    axes = tuple(range(-nd, 0))
    X = fft.rfftn(x_pad, s=shape, axes=axes)  # (N, C_in, *F)
    W = fft.rfftn(w, s=shape, axes=axes)  # (C_out, C_in, *F), w zero-padded
    freqs = X.shape[2:]
    F_ = math.prod(freqs)
    # at every frequency, a (N, C_in) @ (C_in, C_out) product sums over channels
    X = X.reshape(N, C_in, F_).transpose(2, 0, 1)  # (F, N, C_in)
    W = W.conj().reshape(C_out, C_in, F_).transpose(2, 1, 0)  # (F, C_in, C_out)
    Y = (X @ W).transpose(1, 2, 0).reshape(N, C_out, *freqs)  # (N, C_out, *F)
    y = fft.irfftn(Y, s=shape, axes=axes)  # (N, C_out, *shape), circular
    y = y[(slice(None), slice(None), *[slice(0, o) for o in out])]  # no wrap
    if b is not None:
        y = y + b.reshape(C_out, *[1] * nd)
    return _unbatch(np.ascontiguousarray(y, dtype=x.dtype), had_batch)


def fft_conv1d(x, w, b=None, padding=0):
    """x (N, C_in, L), w (C_out, C_in, k), b (C_out,) -> (N, C_out, L + 2p - k + 1)

    conv1d(x, w, b, stride=1, padding=padding) computed by the convolution theorem
    (module docstring); padding is an int, a 1-tuple, 'valid' or 'same'.
    """
    return _fft_conv("fft_conv1d", 1, x, w, b, padding)


def fft_conv2d(x, w, b=None, padding=0):
    """x (N, C_in, H, W), w (C_out, C_in, kH, kW), b (C_out,)
    -> (N, C_out, H + 2pH - kH + 1, W + 2pW - kW + 1)

    conv2d(x, w, b, stride=1, padding=padding) computed by the convolution theorem;
    padding is an int, a pair, 'valid' or 'same'.
    """
    return _fft_conv("fft_conv2d", 2, x, w, b, padding)
