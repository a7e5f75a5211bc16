"""Max and average pooling, and max unpooling, in numpy with torch.nn.functional's
names and semantics.

Pooling slides the same windows as a convolution but summarises each window with a
max or a mean instead of a dot product with a kernel; like the convolutions, it is
computed one kernel tap at a time over all windows (conv._taps). As in torch:
stride defaults to kernel_size, sizes are floored (windows that would run past the
padded input are dropped), max pooling pads with -inf so padding never wins, and
average pooling pads with zeros that count in the mean (count_include_pad=True).
A window holding NaN has the maximum NaN. The input may come without its batch axis
and the batch may be empty, as for the convolutions (cnnlib.conv).

Max pooling can also return where each maximum came from (return_indices=True), and
max_unpool2d puts the maxima back there: the U-Net and SegNet way of upsampling.
"""

import math

import numpy as np

from ._checks import (
    SPATIAL,
    as_array,
    as_float,
    batched,
    check_pool_args,
    int_args,
    is_int,
    x_layout,
)
from .conv import _pad, _taps, _unbatch, _windows, out_size


def _pool(fn, nd, x, kernel_size, stride, padding, reduce, pad_value):
    x, kernel_size, stride, padding, had_batch = check_pool_args(
        fn, nd, x, kernel_size, stride, padding
    )
    x_pad = _pad(x, [(p, p) for p in padding], pad_value)
    # one elementwise reduce per kernel tap over the strided slice that the tap meets
    # in every window: K operations on output-sized arrays (no (..., *k) window axes)
    out = out_size(x_pad.shape[2:], kernel_size, stride, (1,) * nd)
    y = None
    for tap in np.ndindex(*kernel_size):
        values = x_pad[(slice(None), slice(None), *_taps(tap, stride, (1,) * nd, out))]
        y = values.copy() if y is None else reduce(y, values, out=y)
    if reduce is np.add:  # the mean over the K taps
        y /= math.prod(kernel_size)
    return _unbatch(y, had_batch)


def _max_windows(x, kernel_size, stride, padding):
    """x (N, C, *size) -> y (N, C, *out), argmax (N, C, *out)

    argmax is the flat (row-major) position of each maximum inside its window: the
    first in-bounds position holding it, as torch's CPU loop keeps the first of
    equal maxima, or, when the window holds NaN (then the maximum), its last NaN,
    as torch's rule "take the value if it is larger or NaN" does. The loop below is
    that rule, one kernel tap at a time over all windows at once.
    """
    nd, pads = len(kernel_size), [(p, p) for p in padding]
    ones = (1,) * nd
    x_pad = _pad(x, pads, -np.inf)
    out = out_size(x_pad.shape[2:], kernel_size, stride, ones)
    # an all -inf window must not pick the padding: start each window at its first
    # in-bounds tap, as torch does
    inside = _windows(
        _pad(np.ones((1, 1, *x.shape[2:]), dtype=bool), pads), kernel_size, stride, ones
    )
    first = np.argmax(inside.reshape(*inside.shape[: 2 + nd], -1), axis=-1)
    y = np.full((*x.shape[:2], *out), -np.inf, dtype=x.dtype)
    argmax = np.broadcast_to(first.astype(np.int32), y.shape).copy()
    for t, tap in enumerate(np.ndindex(*kernel_size)):
        values = x_pad[(slice(None), slice(None), *_taps(tap, stride, ones, out))]
        take = (values > y) | np.isnan(values)  # torch's rule, for every window
        argmax += take * (t - argmax)  # = where(take, t, argmax), without branches
        np.maximum(values, y, out=y)  # = where(take, values, y)
    return y, argmax.astype(np.int64)


def _input_indices(argmax, size, kernel_size, stride, padding):
    """argmax (N, C, *out) within each window -> flat index into each (n, c) plane of
    the unpadded input: h·W + w in 2D. Tap t of window i sits at i·stride - padding
    + t along each axis."""
    taps = np.unravel_index(argmax, kernel_size)  # one (N, C, *out) array per axis
    out = argmax.shape[2:]
    position = [
        np.arange(n_out).reshape([-1] + [1] * (len(out) - 1 - d)) * s - p + t
        for d, (n_out, s, p, t) in enumerate(
            zip(out, stride, padding, taps, strict=True)
        )
    ]
    return np.ravel_multi_index(position, size).astype(np.int64)


def _max_pool(fn, nd, x, kernel_size, stride, padding, return_indices):
    if not isinstance(return_indices, (bool, np.bool_)):
        raise TypeError(
            f"{fn}: return_indices must be True or False, got {return_indices!r}"
        )
    if not return_indices:
        return _pool(fn, nd, x, kernel_size, stride, padding, np.maximum, -np.inf)
    x, kernel_size, stride, padding, had_batch = check_pool_args(
        fn, nd, x, kernel_size, stride, padding
    )
    y, argmax = _max_windows(x, kernel_size, stride, padding)
    indices = _input_indices(argmax, x.shape[2:], kernel_size, stride, padding)
    return _unbatch(y, had_batch), _unbatch(np.ascontiguousarray(indices), had_batch)


def max_pool1d(x, kernel_size, stride=None, padding=0, return_indices=False):
    """x (N, C, L) -> (N, C, L_out), L_out = floor((L + 2·padding - k) / stride) + 1

    Maximum over each window of `kernel_size` values; padding must be at most
    kernel_size / 2. With return_indices=True also returns where each maximum came
    from: indices (N, C, L_out), int64 positions in the unpadded input.
    """
    args = (kernel_size, stride, padding, return_indices)
    return _max_pool("max_pool1d", 1, x, *args)


def max_pool2d(x, kernel_size, stride=None, padding=0, return_indices=False):
    """x (N, C, H, W) -> (N, C, H_out, W_out), sizes as max_pool1d per axis

    Maximum over each kH x kW window; kernel_size, stride and padding are ints or
    (H, W) pairs. With return_indices=True also returns indices (N, C, H_out, W_out),
    int64: the maximum of window (i, j) is x[n, c, h, w] with indices = h·W + w (W
    the unpadded input's width), as torch's; equal maxima give the first in row
    order, and a window holding NaN its last NaN.
    """
    args = (kernel_size, stride, padding, return_indices)
    return _max_pool("max_pool2d", 2, x, *args)


def avg_pool1d(x, kernel_size, stride=None, padding=0):
    """x (N, C, L) -> (N, C, L_out), L_out = floor((L + 2·padding - k) / stride) + 1

    Mean over each window; padded zeros count, so every window divides by k.
    """
    return _pool("avg_pool1d", 1, x, kernel_size, stride, padding, np.add, 0.0)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """x (N, C, H, W) -> (N, C, H_out, W_out), sizes as avg_pool1d per axis

    Mean over each kH x kW window; padded zeros count, so every window divides by
    kH·kW.
    """
    return _pool("avg_pool2d", 2, x, kernel_size, stride, padding, np.add, 0.0)


# ------------------------------------------------------------------ unpooling


def _unpool_size(fn, size, kernel_size, stride, padding, output_size):
    """The output size of max_unpool: (n - 1)·stride - 2·padding + k per axis, or
    output_size (H, W) or (N, C, H, W), which torch lets differ from that by less
    than the stride (a pooled size was floored, so several inputs pool to it)."""
    default = [
        (n - 1) * s - 2 * p + k
        for n, k, s, p in zip(size, kernel_size, stride, padding, strict=True)
    ]
    nd = len(size)
    if output_size is None:
        out = default
    else:
        if isinstance(output_size, str) or not hasattr(output_size, "__len__"):
            raise TypeError(
                f"{fn}: output_size must be a sequence of {nd} or {nd + 2} ints, "
                f"got {output_size!r}"
            )
        out = list(output_size)
        if len(out) == nd + 2:  # (N, C, H, W), e.g. the pooled input's shape
            out = out[2:]
        if len(out) != nd:
            raise ValueError(
                f"{fn}: output_size must have {nd} or {nd + 2} elements, got "
                f"{len(out)}: {tuple(output_size)}"
            )
        if not all(is_int(v) for v in out):
            raise TypeError(f"{fn}: output_size must hold ints, got {output_size!r}")
    for dim, n, d, s in zip(SPATIAL[nd], out, default, stride, strict=True):
        if output_size is None and n < 1:
            raise ValueError(
                f"{fn}: output size along {dim} would be {n} (input {size}, "
                f"kernel_size {kernel_size}, stride {stride}, padding {padding}); "
                "reduce padding"
            )
        low = max(d - s, 0)  # torch's rule, and at least one sample
        if output_size is not None and not low < n < d + s:
            raise ValueError(
                f"{fn}: output_size {tuple(output_size)} along {dim} must lie "
                f"strictly between {low} and {d + s} (the default size {d} ± "
                f"stride {s}, torch's rule), got {n}"
            )
    return tuple(int(n) for n in out)


def _check_indices(fn, indices, shape, out):
    """indices: integers of the input's shape, each inside an output plane."""
    indices = as_array(indices, fn, "indices")
    if indices.dtype.kind not in "iu":
        raise TypeError(
            f"{fn}: indices must be integers (max_pool2d's return_indices), got "
            f"dtype {indices.dtype}"
        )
    if indices.shape != shape:
        raise ValueError(
            f"{fn}: indices must have the shape of the input {shape}, got "
            f"{indices.shape}"
        )
    plane = math.prod(out)
    if indices.size and (indices.min() < 0 or indices.max() >= plane):
        bad = indices.min() if indices.min() < 0 else indices.max()
        raise ValueError(
            f"{fn}: indices must lie in [0, {plane}) for an output of size "
            f"{out}, found {bad}; if pooling dropped rows or columns, pass "
            "output_size=x.shape (x the pooled input)"
        )
    return indices


def max_unpool2d(y, indices, kernel_size, stride=None, padding=0, output_size=None):
    """y (N, C, H_in, W_in), indices (N, C, H_in, W_in) -> (N, C, H_out, W_out)

    The partial inverse of max_pool2d, as torch.nn.functional.max_unpool2d: every
    value y[n, c, i, j] goes to position indices[n, c, i, j] = h·W_out + w of a
    zero output, as max_pool2d(..., return_indices=True) gives them; the rest stays
    0. H_out = (H_in - 1)·stride - 2·padding + kH (W alike), unless output_size
    (H, W) or (N, C, H, W) asks for one of the sizes that pool to H_in; stride
    defaults to kernel_size. An index given twice (overlapping windows) keeps the
    later value, as torch's CPU loop does on one thread (on several, its choice
    varies).
    """
    fn = "max_unpool2d"
    y = as_float(y, fn)
    shape = y.shape
    y, had_batch = batched(y, 2, x_layout(2, "C"), fn)
    kernel_size = int_args(kernel_size, 2, 1, fn, "kernel_size")
    stride = kernel_size if stride is None else int_args(stride, 2, 1, fn, "stride")
    padding = int_args(padding, 2, 0, fn, "padding")
    out = _unpool_size(fn, y.shape[2:], kernel_size, stride, padding, output_size)
    indices = _check_indices(fn, indices, shape, out).reshape(y.shape)
    (N, C), P_in, P_out = y.shape[:2], math.prod(y.shape[2:]), math.prod(out)
    planes = np.zeros((N * C, P_out), dtype=y.dtype)  # (N·C, H_out·W_out)
    values = y.reshape(N * C, P_in)  # (N·C, H_in·W_in)
    where = indices.reshape(N * C, P_in)
    # numpy does not promise which of repeated targets wins, so keep only the last
    # write to each position (read backwards, np.unique finds the first)
    flat = (np.arange(N * C)[:, None] * P_out + where).ravel()
    _, from_end = np.unique(flat[::-1], return_index=True)
    last = flat.size - 1 - from_end
    planes.ravel()[flat[last]] = values.ravel()[last]
    return _unbatch(planes.reshape(N, C, *out), had_batch)
