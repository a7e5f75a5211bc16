"""Max and average pooling in numpy with torch.nn.functional's names and semantics.

Pooling slides the same windows as a convolution (conv._windows) but summarises each
window with a max or a mean instead of a dot product with a kernel. As in torch:
stride defaults to kernel_size, sizes are floored (windows that would run past the
padded input are dropped), max pooling pads with -inf so padding never wins, and
average pooling pads with zeros that count in the mean (count_include_pad=True).
A window holding NaN has the maximum NaN. The input may come without its batch axis
and the batch may be empty, as for the convolutions (cnnlib.conv).
"""

import numpy as np

from ._checks import check_pool_args
from .conv import _pad, _unbatch, _windows


def _pool(fn, nd, x, kernel_size, stride, padding, reduce, pad_value):
    x, kernel_size, stride, padding, had_batch = check_pool_args(
        fn, nd, x, kernel_size, stride, padding
    )
    x_pad = _pad(x, [(p, p) for p in padding], pad_value)
    windows = _windows(x_pad, kernel_size, stride, (1,) * nd)  # (N, C, *out, *k)
    y = reduce(windows, axis=tuple(range(-nd, 0)))
    return _unbatch(np.ascontiguousarray(y), had_batch)


def max_pool1d(x, kernel_size, stride=None, padding=0):
    """x (N, C, L) -> (N, C, L_out), L_out = floor((L + 2·padding - k) / stride) + 1

    Maximum over each window of `kernel_size` values; padding must be at most
    kernel_size / 2.
    """
    return _pool("max_pool1d", 1, x, kernel_size, stride, padding, np.max, -np.inf)


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """x (N, C, H, W) -> (N, C, H_out, W_out), sizes as max_pool1d per axis

    Maximum over each kH x kW window; kernel_size, stride and padding are ints or
    (H, W) pairs.
    """
    return _pool("max_pool2d", 2, x, kernel_size, stride, padding, np.max, -np.inf)


def avg_pool1d(x, kernel_size, stride=None, padding=0):
    """x (N, C, L) -> (N, C, L_out), L_out = floor((L + 2·padding - k) / stride) + 1

    Mean over each window; padded zeros count, so every window divides by k.
    """
    return _pool("avg_pool1d", 1, x, kernel_size, stride, padding, np.mean, 0.0)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """x (N, C, H, W) -> (N, C, H_out, W_out), sizes as avg_pool1d per axis

    Mean over each kH x kW window; padded zeros count, so every window divides by
    kH·kW.
    """
    return _pool("avg_pool2d", 2, x, kernel_size, stride, padding, np.mean, 0.0)
