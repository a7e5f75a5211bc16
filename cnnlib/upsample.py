"""Upsampling (and downsampling) by interpolation in numpy, with the semantics of
torch.nn.functional.interpolate for mode "nearest", "linear" and "bilinear".

Each output sample i along an axis of n samples (n_out of them after resizing) reads
the input at a source position src(i), measured in input samples:

* nearest:                          x[floor(src)] with src = i·scale
* (bi)linear, align_corners=False:  src = max((i + 1/2)·scale - 1/2, 0)  (half-pixel
  centres: pixel i covers [i, i + 1) and is sampled at its centre)
* (bi)linear, align_corners=True:   src = i·(n - 1) / (n_out - 1)  (the centres of
  the corner pixels meet)

where scale (input samples per output sample) is n / n_out, or 1 / scale_factor
when a scale_factor is given (torch's default, recompute_scale_factor=None): with
n = 5 and scale_factor 1.5 the output has floor(7.5) = 7 samples, and scale is 1/1.5,
not 5/7. Linear blends the two neighbours: (1 - lam)·x[i0] + lam·x[i0 + 1] with
i0 = floor(src), lam = src - i0; an axis that keeps its size is copied (as x·1 +
x·0, so an infinity becomes NaN there, as in torch). Bilinear is separable: the
image is resized along W, then along H, torch's order of sums, so float64 results
equal torch's to rounding.

As in torch, a 3-D input is (N, C, L) and a 4-D one (N, C, H, W): there is no
unbatched form, since (C, H, W) and (N, C, L) cannot be told apart. The batch may be
empty (N = 0).

torch's CPU code has two kernels for 4-D nearest, and this module follows the
general one (the one every 3-D input gets). The other, used when H_out + W_out <=
128 or for channels-last input with more than 3 channels, copies an axis that keeps
its size and takes index i // 2 on one that doubles, whatever scale_factor says
(scale_factor=1.001 on 10 rows: rows 0, 1, 2, ... there; 0, 0, 1, ... here and in
the general kernel), and for float64 input computes n / n_out in float32, which
moves one index by one sample in about 1 in 100 pairs (n, n_out) with n_out much
larger than n. The two agree for integer scale factors and for sizes that divide.
"""

import math
import numbers

import numpy as np

from ._checks import INT64_MAX, SPATIAL, as_float, is_int, spatial_ndim, x_layout

LINEAR_MODE = {1: "linear", 2: "bilinear"}  # spatial dims -> its linear mode
TORCH_ONLY_MODES = ("nearest-exact", "area", "bicubic", "trilinear", "lanczos")


def _check_mode(fn, mode, align_corners, nd, shape):
    """-> align_corners as a bool (False for nearest, which has no corners)."""
    if not isinstance(mode, str):
        raise TypeError(f"{fn}: mode must be a string, got {mode!r}")
    if mode not in ("nearest", "linear", "bilinear"):
        also = " (torch's, not implemented here)" if mode in TORCH_ONLY_MODES else ""
        raise ValueError(
            f"{fn}: mode must be 'nearest', 'linear' (3-D input) or 'bilinear' "
            f"(4-D input), got {mode!r}{also}"
        )
    if mode == "nearest":
        if align_corners is not None:
            raise ValueError(
                f"{fn}: align_corners can only be set with mode 'linear' or "
                f"'bilinear' (as in torch), got align_corners={align_corners!r} "
                "with mode 'nearest'"
            )
        return False
    if mode != LINEAR_MODE[nd]:
        want = 3 if mode == "linear" else 4
        raise ValueError(
            f"{fn}: mode {mode!r} needs a {want}-D input "
            f"{x_layout(want - 2, 'C')}, got {len(shape)}-D shape {shape}; use "
            f"mode {LINEAR_MODE[nd]!r}"
        )
    if align_corners is None:
        return False
    if not isinstance(align_corners, (bool, np.bool_)):
        raise TypeError(
            f"{fn}: align_corners must be True, False or None, got {align_corners!r}"
        )
    return bool(align_corners)


def _per_axis(value, nd, fn, name, shape):
    """A scalar or a sequence of exactly nd values (torch's rule for size and
    scale_factor: a 1-tuple is not expanded) -> tuple of nd values."""
    if not isinstance(value, (tuple, list)):
        return (value,) * nd
    if len(value) != nd:
        raise ValueError(
            f"{fn}: {name} must be one value or {nd} (one per spatial axis of input "
            f"shape {shape}), got {value!r}"
        )
    return tuple(value)


def _output_size(fn, shape, size, scale_factor):
    """-> (output size, scale factors or None per axis)"""
    if size is not None and scale_factor is not None:
        raise ValueError(
            f"{fn}: give size or scale_factor, not both (got size={size!r}, "
            f"scale_factor={scale_factor!r})"
        )
    if size is None and scale_factor is None:
        raise ValueError(f"{fn}: give size or scale_factor (both are None)")
    dims, size_in = SPATIAL[len(shape) - 2], shape[2:]
    nd = len(dims)
    if size is not None:
        out = _per_axis(size, nd, fn, "size", shape)
        if not all(is_int(n) for n in out):
            raise TypeError(f"{fn}: size must be an int or {nd} ints, got {size!r}")
        if not all(1 <= n <= INT64_MAX for n in out):
            raise ValueError(
                f"{fn}: size must be positive (and fit in 64 bits), got {size!r}"
            )
        return tuple(int(n) for n in out), (None,) * nd
    factors = _per_axis(scale_factor, nd, fn, "scale_factor", shape)
    good = [
        isinstance(f, numbers.Real) and not isinstance(f, (bool, np.bool_))
        for f in factors
    ]
    if not all(good):
        raise TypeError(
            f"{fn}: scale_factor must be a number or {nd} numbers, got {scale_factor!r}"
        )
    factors = tuple(float(f) for f in factors)
    out = []
    for dim, n, f in zip(dims, size_in, factors, strict=True):
        if not (math.isfinite(f) and f > 0):
            raise ValueError(
                f"{fn}: scale_factor must be positive and finite, got {scale_factor!r}"
            )
        n_out = n * f  # in float64 and truncated, as torch computes it
        if n_out < 1:
            raise ValueError(
                f"{fn}: scale_factor {f} gives an output size of 0 along {dim} "
                f"(input size {n}, input shape {shape}); it must be at least 1"
            )
        if n_out > INT64_MAX:
            raise ValueError(
                f"{fn}: scale_factor {f} makes the output size along {dim} "
                f"({n}·{f}) larger than 2**63 - 1 (torch's int64)"
            )
        out.append(int(n_out))
    return tuple(out), factors


def _source_positions(n_in, n_out, factor, mode, align_corners, dtype):
    """-> src (n_out,): the input position that each output sample reads, computed
    in the input's dtype as torch computes it (float32 for float32 inputs)."""
    t = dtype.type
    i = np.arange(n_out, dtype=dtype)
    if align_corners:  # mode is linear: the corner centres 0 and n_in - 1 meet
        return i * (t(n_in - 1) / t(n_out - 1) if n_out > 1 else t(0))
    # input samples per output sample: torch uses the scale_factor it was given
    scale = t(1.0 / factor) if factor is not None else t(n_in) / t(n_out)
    if mode == "nearest":
        return i * scale
    return np.maximum((i + 0.5) * scale - 0.5, 0)  # half-pixel centres, clamped at 0


def _floor_index(src, n_in):
    """floor(src), at most n_in - 1. torch floors with C's floorf, i.e. after
    rounding src to float32, so a position a hair below a whole number (say
    0.99999999) counts as that number; doing the same keeps float64 results equal
    to torch's instead of differing by 1e-8 at such positions."""
    return np.minimum(np.floor(src.astype(np.float32)).astype(np.int64), n_in - 1)


def _linear_taps(n_in, n_out, src):
    """-> i0, i1, lam (n_out,): output sample i is (1 - lam)·x[i0] + lam·x[i1]."""
    if n_out == n_in:  # torch copies such an axis, whatever the scale, as x·1 + x·0
        i0 = np.arange(n_in)
        return i0, i0, np.zeros(n_in, dtype=src.dtype)
    i0 = _floor_index(src, n_in)
    i1 = np.minimum(i0 + 1, n_in - 1)  # the last sample has no right neighbour
    lam = np.clip(src - i0.astype(src.dtype), 0, 1)
    return i0, i1, lam


def _lerp(x, axis, src):
    """Linear interpolation of x along `axis` at the positions src (n_out,)."""
    i0, i1, lam = _linear_taps(x.shape[axis], len(src), src)
    shape = [1] * x.ndim
    shape[axis] = -1  # the weights broadcast along the other axes
    lam = lam.reshape(shape)
    # an infinite sample times a zero weight gives NaN here, as in torch
    with np.errstate(invalid="ignore"):
        return np.take(x, i0, axis=axis) * (1 - lam) + np.take(x, i1, axis=axis) * lam


def interpolate(x, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """x (N, C, L) -> (N, C, L_out);  x (N, C, H, W) -> (N, C, H_out, W_out)

    Resizes the spatial axes as torch.nn.functional.interpolate does (see the module
    docstring for the formulas). Give exactly one of `size` (an int, or one int per
    spatial axis) and `scale_factor` (a number, or one per axis; the output size is
    floor(n · scale_factor)). mode is 'nearest' (torch's legacy nearest: src =
    x[floor(i · scale)], not rounded), 'linear' for 3-D or 'bilinear' for 4-D input;
    align_corners (linear modes only, default False) makes the corner pixels'
    centres meet instead of their outer edges.
    """
    fn = "interpolate"
    x = as_float(x, fn)
    nd = spatial_ndim(x, fn)
    align_corners = _check_mode(fn, mode, align_corners, nd, x.shape)
    out, factors = _output_size(fn, x.shape, size, scale_factor)
    y = x
    for axis in reversed(range(2, 2 + nd)):  # W before H: torch's order of sums
        n_in, n_out, factor = y.shape[axis], out[axis - 2], factors[axis - 2]
        src = _source_positions(n_in, n_out, factor, mode, align_corners, x.dtype)
        if mode == "nearest":
            y = np.take(y, _floor_index(src, n_in), axis=axis)
        else:
            y = _lerp(y, axis, src)
    return y
