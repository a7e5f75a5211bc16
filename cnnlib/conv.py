"""Convolutions in numpy with torch.nn.functional's names, layouts and semantics.

Every op comes twice: a vectorised default (im2col, then one matrix product per
group) and a ``*_naive`` version whose loops mirror the formula term by term. Both
agree with torch in float64 (tests/test_conv.py, benchmarks/torch_agreement.py).

As in torch, the input may come without its batch axis ((C, L) or (C, H, W): the
output then has none either) and the batch may be empty (N = 0). Results are float32
for float32 arguments and float64 otherwise (the dtype policy in cnnlib._checks).

``conv1d``/``conv2d`` compute cross-correlation, as deep-learning libraries do;
``convolve1d``/``convolve2d`` compute true convolution, which flips the kernel:
``convolve2d(x, w) == conv2d(x, w[..., ::-1, ::-1])``.
"""

import itertools
import math
import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._checks import (
    as_float,
    check_conv_args,
    check_conv_transpose_args,
    check_fits,
    int_args,
    spatial_ndim,
)


def pad(x, padding, value=0.0):
    """x (N, C, L) or (N, C, H, W) -> (N, C, L + 2p) or (N, C, H + 2pH, W + 2pW)

    Pads the spatial dims with `value` on both sides, as torch's conv does with
    `padding`; `padding` is an int or one int per spatial dim. Returns a new array.
    """
    x = as_float(x, "pad")
    nd = spatial_ndim(x, "pad")
    pads = [(p, p) for p in int_args(padding, nd, 0, "pad", "padding")]
    if not isinstance(value, numbers.Real):
        raise TypeError(f"pad: value must be a real number, got {value!r}")
    return np.pad(x, [(0, 0), (0, 0), *pads], constant_values=float(value))


def _pad(x, pads, value=0.0):
    """x (N, C, *size), pads ((lo, hi), ...) -> (N, C, *(size + lo + hi))"""
    if not any(lo or hi for lo, hi in pads):
        return x  # no copy when there is nothing to pad
    return np.pad(x, [(0, 0), (0, 0), *pads], constant_values=value)


def _windows(x_pad, kernel_size, stride, dilation):
    """x_pad (N, C, *size) -> read-only view (N, C, *out, *kernel_size)"""
    nd = len(kernel_size)
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel_size, dilation, strict=True))
    view = sliding_window_view(x_pad, span, axis=tuple(range(2, 2 + nd)))
    # view is (N, C, *(size - span + 1), *span): keep every stride-th window and,
    # inside each window, every dilation-th tap
    keep = [slice(None, None, step) for step in (*stride, *dilation)]
    return view[(slice(None), slice(None), *keep)]  # (N, C, *out, *kernel_size)


def _patches(x_pad, kernel_size, stride, dilation):
    """x_pad (N, C, *size) -> read-only view (N, *out, C, *kernel_size)"""
    windows = _windows(x_pad, kernel_size, stride, dilation)  # (N, C, *out, *k)
    return np.moveaxis(windows, 1, 1 + len(stride))


def _taps(tap, stride, dilation, n_out):
    """The strided slices that kernel tap `tap` meets over n_out output positions:
    along each axis, position i reads i·stride + t·dilation."""
    return tuple(
        slice(t * d, t * d + (n - 1) * s + 1, s)
        for t, s, d, n in zip(tap, stride, dilation, n_out, strict=True)
    )


def _im2col(x_pad, kernel_size, stride, dilation, out):
    """x_pad (N, C, *size) -> cols (C, *kernel_size, N, *out), a contiguous copy

    cols[c, t, n, i] = x_pad[n, c, i·stride + t·dilation]: the values of get_patches,
    laid out so that a convolution is ONE matrix product per group,
    w (C_out, C·K) @ cols (C·K, N·P). It is filled one kernel tap at a time: each tap
    is a strided slice of the input, copied whole (K copies, not N·P patches).
    """
    N, C = x_pad.shape[:2]
    channels_first = x_pad.swapaxes(0, 1)  # (C, N, *size), a view
    cols = np.empty((C, *kernel_size, N, *out), dtype=x_pad.dtype)
    for tap in np.ndindex(*kernel_size):
        window = _taps(tap, stride, dilation, out)
        cols[(slice(None), *tap)] = channels_first[(slice(None), slice(None), *window)]
    return cols


def _col2im(cols, size, stride, dilation):
    """cols (C, *kernel_size, N, *out) -> (N, C, *size), the adjoint of _im2col

    Adds every entry back onto the input position it was read from, so positions
    shared by overlapping windows collect the sum; one strided += per kernel tap
    (never a repeated index within one +=). Returns a (N, C, *size) view of a
    (C, N, *size) array.
    """
    C, nd = cols.shape[0], len(size)
    kernel_size, (N, *out) = cols.shape[1 : 1 + nd], cols.shape[1 + nd :]
    x = np.zeros((C, N, *size), dtype=cols.dtype)
    for tap in np.ndindex(*kernel_size):
        window = _taps(tap, stride, dilation, out)
        x[(slice(None), slice(None), *window)] += cols[(slice(None), *tap)]
    return x.swapaxes(0, 1)


def get_patches(x, kernel_size, stride=1, padding=0, dilation=1):
    """x (N, C, L) -> (N, L_out, C, k);  x (N, C, H, W) -> (N, H_out, W_out, C, kH, kW)

    The lecture's get_patches (im2col): ``patches[n, i, c, t]`` is the input value that
    kernel tap t meets at output position i, so a convolution is one dot product per
    patch. The result is a read-only strided view, not a copy: it shares memory with
    the (padded) input, so call ``.copy()`` before writing to it.
    """
    fn = "get_patches"
    x = as_float(x, fn)
    nd = spatial_ndim(x, fn)
    kernel_size = int_args(kernel_size, nd, 1, fn, "kernel_size")
    stride = int_args(stride, nd, 1, fn, "stride")
    dilation = int_args(dilation, nd, 1, fn, "dilation")
    pads = [(p, p) for p in int_args(padding, nd, 0, fn, "padding")]
    check_fits(x.shape[2:], kernel_size, pads, dilation, fn)
    return _patches(_pad(x, pads), kernel_size, stride, dilation)


def _unbatch(y, had_batch):
    """Drop the batch axis that the checks added to an input that came without."""
    return y if had_batch else y[0]


def _conv(fn, nd, x, w, b, stride, padding, dilation, groups, flip=False):
    x, w, b, stride, pads, dilation, had_batch = check_conv_args(
        fn, nd, x, w, b, stride, padding, dilation, groups
    )
    if flip:  # true convolution: reverse the kernel along its spatial axes
        w = w[(..., *[slice(None, None, -1)] * nd)]
    y = _conv_matmul(_pad(x, pads), w, stride, dilation, groups)
    if b is not None:
        y += b.reshape(-1, *[1] * nd)
    return _unbatch(y, had_batch)


# im2col makes K copies of the input. Built for the whole batch at once, that is
# tens of MB, written to freshly allocated memory and read back from main memory by
# the matrix product. Built for a slice of the batch at a time, a few MB, it is
# written and read while it is still in the CPU's cache, and the next slice reuses
# the memory: measured on the benchmark's layers (benchmarks/speed.py), slices of
# about 4 MB take 0.5-0.8 of the whole batch's time.
SLICE_BYTES = 2 * 2**20


def batch_slices(n, bytes_per_sample, budget=SLICE_BYTES):
    """Slices of range(n) whose im2col buffers take at most `budget` bytes (at least
    one sample per slice)."""
    step = max(1, budget // max(1, bytes_per_sample))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


def out_size(size, kernel_size, stride, dilation):
    """The output size per axis of a convolution over the (padded) size."""
    return [
        (n - d * (k - 1) - 1) // s + 1
        for n, k, s, d in zip(size, kernel_size, stride, dilation, strict=True)
    ]


def _conv_matmul(x_pad, w, stride, dilation, groups):
    """x_pad (N, C_in, *size), w (C_out, C_in/G, *k) -> y (N, C_out, *out), no bias

    im2col: one row per (channel, tap), one column per (sample, output position);
    the channels of group g are the g-th block of rows, so each group is one matrix
    product (G, C_out/G, C_in/G·K) @ (G, C_in/G·K, n·P) per slice of n samples.
    """
    (N, C_in, *size), (C_out, _, *k), G = x_pad.shape, w.shape, groups
    out = out_size(size, k, stride, dilation)
    P = math.prod(out)
    w_g = w.reshape(G, C_out // G, -1)  # (G, C_out/G, C_in/G·K)
    y = np.empty((N, C_out, *out), dtype=x_pad.dtype)
    for batch in batch_slices(N, C_in * math.prod(k) * P * x_pad.itemsize):
        cols = _im2col(x_pad[batch], k, stride, dilation, out)  # (C_in, *k, n, *out)
        n = cols.shape[1 + len(k)]
        y_g = w_g @ cols.reshape(G, w[0].size, n * P)  # (G, C_out/G, n·P)
        y[batch] = y_g.reshape(C_out, n, *out).swapaxes(0, 1)  # (n, C_out, *out)
        del cols, y_g  # free this slice's buffers before the next slice's
    return y


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """x (N, C_in, L), w (C_out, C_in // groups, k), b (C_out,) -> (N, C_out, L_out)

    Cross-correlation, as torch.nn.functional.conv1d:
    y[n, o, i] = b[o] + sum_c sum_t w[o, c, t] · x_pad[n, g·C_g + c, i·s + t·d]
    where s = stride, d = dilation, C_g = C_in // groups, g is the group of output
    channel o and x_pad is x zero-padded. `padding` is an int, a 1-tuple, 'valid'
    or 'same' (stride 1 only; an odd total puts the extra zero on the right).
    L_out = floor((L + 2·padding - dilation·(k - 1) - 1) / stride) + 1.
    """
    return _conv("conv1d", 1, x, w, b, stride, padding, dilation, groups)


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """x (N, C_in, H, W), w (C_out, C_in // groups, kH, kW) -> (N, C_out, H_out, W_out)

    Cross-correlation, as torch.nn.functional.conv2d, plus the bias b (C_out,) if given.
    stride, padding and dilation are ints or (H, W) pairs, and `padding` may be
    'valid' or 'same' (stride 1 only; an odd total puts the extra zero at the
    bottom/right). Sizes follow conv1d's formula per axis.
    """
    return _conv("conv2d", 2, x, w, b, stride, padding, dilation, groups)


def convolve1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """x (N, C_in, L), w (C_out, C_in // groups, k), b (C_out,) -> (N, C_out, L_out)

    True convolution: the kernel is flipped, so
    convolve1d(x, w) == conv1d(x, w[..., ::-1]); for one channel and no padding it
    matches np.convolve(x[0, 0], w[0, 0], mode='valid'). Same arguments as conv1d.
    """
    return _conv("convolve1d", 1, x, w, b, stride, padding, dilation, groups, flip=True)


def convolve2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """x (N, C_in, H, W), w (C_out, C_in // groups, kH, kW) -> (N, C_out, H_out, W_out)

    True convolution (plus the bias b (C_out,) if given):
    convolve2d(x, w) == conv2d(x, w[..., ::-1, ::-1]), i.e. the kernel is rotated by
    180 degrees before sliding. Same arguments as conv2d.
    """
    return _conv("convolve2d", 2, x, w, b, stride, padding, dilation, groups, flip=True)


def conv1d_naive(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """x (N, C_in, L), w (C_out, C_in // groups, k), b (C_out,) -> (N, C_out, L_out)

    conv1d written as loops over the formula; slow, for teaching and testing.
    """
    x, w, b, (s,), pads, (d,), had_batch = check_conv_args(
        "conv1d_naive", 1, x, w, b, stride, padding, dilation, groups
    )
    x_pad = _pad(x, pads)
    (N, _, L), (C_out, C_g, k) = x_pad.shape, w.shape
    L_out = (L - d * (k - 1) - 1) // s + 1
    y = np.zeros((N, C_out, L_out), dtype=x.dtype)
    for n, o, i in itertools.product(range(N), range(C_out), range(L_out)):
        g = o // (C_out // groups)  # the group output channel o belongs to
        acc = 0.0 if b is None else b[o]
        for c, t in itertools.product(range(C_g), range(k)):
            acc += w[o, c, t] * x_pad[n, g * C_g + c, i * s + t * d]
        y[n, o, i] = acc
    return _unbatch(y, had_batch)


def conv2d_naive(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """x (N, C_in, H, W), w (C_out, C_in // groups, kH, kW) -> (N, C_out, H_out, W_out)

    conv2d (bias b (C_out,) optional) written as loops over the formula; slow, for
    teaching and testing.
    """
    x, w, b, (sh, sw), pads, (dh, dw), had_batch = check_conv_args(
        "conv2d_naive", 2, x, w, b, stride, padding, dilation, groups
    )
    x_pad = _pad(x, pads)
    (N, _, H, W), (C_out, C_g, kH, kW) = x_pad.shape, w.shape
    H_out = (H - dh * (kH - 1) - 1) // sh + 1
    W_out = (W - dw * (kW - 1) - 1) // sw + 1
    y = np.zeros((N, C_out, H_out, W_out), dtype=x.dtype)
    for n, o, i, j in itertools.product(
        range(N), range(C_out), range(H_out), range(W_out)
    ):
        g = o // (C_out // groups)
        acc = 0.0 if b is None else b[o]
        for c, u, v in itertools.product(range(C_g), range(kH), range(kW)):
            acc += (
                w[o, c, u, v] * x_pad[n, g * C_g + c, i * sh + u * dh, j * sw + v * dw]
            )
        y[n, o, i, j] = acc
    return _unbatch(y, had_batch)


def _conv_transpose(fn, nd, x, w, b, stride, padding, output_padding, groups, dilation):
    x, w, b, stride, padding, out_pad, dilation, had_batch = check_conv_transpose_args(
        fn, nd, x, w, b, stride, padding, output_padding, groups, dilation
    )
    (N, C_in, *size), k, G = x.shape, w.shape[2:], groups
    C_out, P, K = w.shape[1] * G, math.prod(size), math.prod(k)
    full = [  # the output size before the padding is cropped off
        (n - 1) * s + d * (kk - 1) + 1 + op
        for n, kk, s, d, op in zip(size, k, stride, dilation, out_pad, strict=True)
    ]
    crop = [slice(p, f - p) for p, f in zip(padding, full, strict=True)]
    y = np.empty((N, C_out, *[c.stop - c.start for c in crop]), dtype=x.dtype)
    w_g = w.reshape(G, C_in // G, -1).transpose(0, 2, 1)  # (G, C_out/G·K, C_in/G)
    for batch in batch_slices(N, C_out * K * P * x.itemsize):  # as in _conv_matmul
        x_g = x[batch].swapaxes(0, 1)  # (C_in, n, *size)
        n = x_g.shape[1]
        # each input value scatters a scaled copy of its kernel into the output: first
        # all the products, in one matrix product per group -> one row per (output
        # channel, tap), laid out as _im2col's columns ...
        cols = w_g @ x_g.reshape(G, C_in // G, n * P)  # (G, C_out/G·K, n·P)
        cols = cols.reshape(C_out, *k, n, *size)
        # ... then add them up (col2im): tap t of input position i lands at
        # i·stride + t·dilation; the padding removes rows/columns from both ends,
        # undoing the convolution's zero padding
        y_full = _col2im(cols, full, stride, dilation)  # (n, C_out, *full)
        y[batch] = y_full[(slice(None), slice(None), *crop)]
        del cols, y_full
    if b is not None:
        y += b.reshape(C_out, *[1] * nd)
    return _unbatch(y, had_batch)


def conv_transpose1d(
    x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    """x (N, C_in, L), w (C_in, C_out // groups, k), b (C_out,) -> (N, C_out, L_out)

    Transposed convolution, as torch.nn.functional.conv_transpose1d (same argument
    order): the adjoint of conv1d, i.e. multiplication by the transpose of conv1d's
    matrix (see matrices.conv_matrix).
    L_out = (L - 1)·stride - 2·padding + dilation·(k - 1) + output_padding + 1,
    with output_padding < stride or < dilation.
    """
    args = (stride, padding, output_padding, groups, dilation)
    return _conv_transpose("conv_transpose1d", 1, x, w, b, *args)


def conv_transpose2d(
    x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    """x (N, C_in, H, W), w (C_in, C_out // groups, kH, kW) -> (N, C_out, H_out, W_out)

    Transposed convolution, as torch.nn.functional.conv_transpose2d, plus the bias
    b (C_out,) if given; sizes follow conv_transpose1d's formula per axis.
    """
    args = (stride, padding, output_padding, groups, dilation)
    return _conv_transpose("conv_transpose2d", 2, x, w, b, *args)


def conv_transpose1d_naive(
    x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    """x (N, C_in, L), w (C_in, C_out // groups, k), b (C_out,) -> (N, C_out, L_out)

    conv_transpose1d as loops: every input value x[n, c, i] adds x[n, c, i]·w[c, o, t]
    to output position i·stride + t·dilation - padding. Slow; for teaching and tests.
    """
    args = (stride, padding, output_padding, groups, dilation)
    x, w, b, (s,), (p,), (op,), (d,), had_batch = check_conv_transpose_args(
        "conv_transpose1d_naive", 1, x, w, b, *args
    )
    (N, C_in, L), (_, O_g, k) = x.shape, w.shape
    C_g = C_in // groups
    y = np.zeros((N, O_g * groups, (L - 1) * s + d * (k - 1) + 1 + op), dtype=x.dtype)
    for n, c, i in itertools.product(range(N), range(C_in), range(L)):
        g = c // C_g  # the group input channel c belongs to
        for o, t in itertools.product(range(O_g), range(k)):
            y[n, g * O_g + o, i * s + t * d] += x[n, c, i] * w[c, o, t]
    y = y[:, :, p : y.shape[2] - p]
    return _unbatch(y if b is None else y + b[:, None], had_batch)


def conv_transpose2d_naive(
    x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    """x (N, C_in, H, W), w (C_in, C_out // groups, kH, kW) -> (N, C_out, H_out, W_out)

    conv_transpose2d (bias b (C_out,) optional) as loops, see conv_transpose1d_naive.
    Slow; for teaching and tests.
    """
    args = (stride, padding, output_padding, groups, dilation)
    x, w, b, (sh, sw), (ph, pw), (oph, opw), (dh, dw), had_batch = (
        check_conv_transpose_args("conv_transpose2d_naive", 2, x, w, b, *args)
    )
    (N, C_in, H, W), (_, O_g, kH, kW) = x.shape, w.shape
    C_g = C_in // groups
    H_full = (H - 1) * sh + dh * (kH - 1) + 1 + oph
    W_full = (W - 1) * sw + dw * (kW - 1) + 1 + opw
    y = np.zeros((N, O_g * groups, H_full, W_full), dtype=x.dtype)
    for n, c, i, j in itertools.product(range(N), range(C_in), range(H), range(W)):
        g = c // C_g
        for o, u, v in itertools.product(range(O_g), range(kH), range(kW)):
            y[n, g * O_g + o, i * sh + u * dh, j * sw + v * dw] += (
                x[n, c, i, j] * w[c, o, u, v]
            )
    y = y[:, :, ph : H_full - ph, pw : W_full - pw]
    return _unbatch(y if b is None else y + b[:, None, None], had_batch)
