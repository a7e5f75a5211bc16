"""Input checks shared by conv.py, pool.py and matrices.py.

numpy's own errors ("operands could not be broadcast together ...") do not tell a
student which argument is wrong, so every public function validates here first and
raises ValueError/TypeError naming the function, the argument and the shapes.

The dtype policy (README, "The library"): the NumPy ops compute in float32 when
NumPy's promotion of their array arguments gives float32 (float32 with float32, or
with bool), and in float64 otherwise: float64 stays float64, integer and bool
arrays become float64 as in NumPy, and float32 mixed with float64 gives float64.
So a float32 input gives a float32 result, as in torch, and float64 (the type of
every agreement check) stays exact.
"""

import numbers

import numpy as np

SPATIAL = {1: ("L",), 2: ("H", "W")}
INT64_MAX = 2**63 - 1  # torch's integer arguments are C++ int64


def _is_tensor(x):
    return type(x).__module__.split(".")[0] == "torch" and hasattr(x, "detach")


def as_array(x, fn, name="input"):
    """Any real array-like (a torch tensor on the CPU without grad included) ->
    ndarray of bool, integer or float dtype (no copy when x already is one)."""
    if _is_tensor(x):
        if x.requires_grad:
            raise TypeError(
                f"{fn}: {name} is a torch tensor that requires grad; pass "
                f"{name}.detach() (cnnlib's NumPy ops do not record gradients)"
            )
        if x.device.type != "cpu":
            raise TypeError(
                f"{fn}: {name} is a torch tensor on {x.device}; pass {name}.cpu() "
                "(cnnlib's NumPy ops run on the CPU)"
            )
    try:
        a = np.asarray(x)
    except (TypeError, ValueError) as err:  # ragged nested lists, bfloat16 tensors
        raise ValueError(f"{fn}: {name} is not a rectangular array ({err})") from None
    if a.dtype.kind == "c":
        raise TypeError(f"{fn}: {name} must be real, got complex dtype {a.dtype}")
    if a.dtype.kind not in "biuf":
        raise TypeError(
            f"{fn}: {name} must be a real numeric array, got dtype {a.dtype}"
        )
    return a


def float_dtype(*arrays):
    """float32 when NumPy promotes the dtypes of the arrays (or dtypes) to float32,
    else float64."""
    promoted = np.result_type(*[getattr(a, "dtype", a) for a in arrays])
    return np.dtype(np.float32 if promoted == np.float32 else np.float64)


def as_floats(fn, *named, optional=("bias",)):
    """(array-like, name) pairs -> list of ndarrays of one float dtype (float_dtype of
    them all); no copy when nothing changes. Only the `optional` names may be None
    (and stay None)."""
    for a, name in named:
        if a is None and name not in optional:
            raise TypeError(f"{fn}: {name} must be an array, got None")
    arrays = [None if a is None else as_array(a, fn, name) for a, name in named]
    dtype = float_dtype(*[a for a in arrays if a is not None])
    return [None if a is None else a.astype(dtype, copy=False) for a in arrays]


def as_float(x, fn, name="input", dtype=None):
    """Any real array-like -> float32 or float64 ndarray (the dtype policy above, or
    `dtype` when given); no copy when x already is one."""
    if x is None:
        raise TypeError(f"{fn}: {name} must be an array, got None")
    a = as_array(x, fn, name)
    return a.astype(dtype or float_dtype(a), copy=False)


def check_layout(a, ndim, layout, fn, name="input"):
    """Require exactly `ndim` dimensions and no empty one."""
    if a.ndim != ndim:
        one_less = a.ndim == ndim - 1 and name == "input"
        hint = " (add a batch axis with x[None])" if one_less else ""
        raise ValueError(
            f"{fn}: {name} must be {ndim}-D {layout}, got {a.ndim}-D shape "
            f"{a.shape}{hint}"
        )
    check_nonempty(a, fn, name)


def check_nonempty(a, fn, name="input", batch=False):
    """No empty dimension; with batch=True the first one (N) may be 0, as in torch."""
    if 0 in a.shape[1:] if batch else 0 in a.shape:
        raise ValueError(f"{fn}: {name} has an empty dimension, shape {a.shape}")


def batched(x, nd, layout, fn):
    """x (N, C, *size) or, as torch allows, (C, *size) -> (x with a batch axis, whether
    it had one). N may be 0 (an empty batch gives an empty output, as in torch)."""
    if x.ndim == nd + 1:
        x = x[None]
        had_batch = False
    elif x.ndim == nd + 2:
        had_batch = True
    else:
        unbatched = layout.replace("(N, ", "(")
        raise ValueError(
            f"{fn}: input must be {nd + 2}-D {layout} or {nd + 1}-D {unbatched} "
            f"(one sample), got {x.ndim}-D shape {x.shape}"
        )
    check_nonempty(x, fn, batch=True)
    return x, had_batch


def x_layout(nd, channels="C_in"):
    return f"(N, {channels}, {', '.join(SPATIAL[nd])})"


def w_layout(nd, outer="C_out", inner="C_in // groups"):
    taps = ("k",) if nd == 1 else tuple("k" + s for s in SPATIAL[nd])
    return f"({outer}, {inner}, {', '.join(taps)})"


def spatial_ndim(x, fn):
    """Number of spatial dims of an (N, C, L) or (N, C, H, W) array (N may be 0)."""
    if x.ndim not in (3, 4):
        raise ValueError(
            f"{fn}: input must be 3-D {x_layout(1, 'C')} or 4-D {x_layout(2, 'C')}, "
            f"got {x.ndim}-D shape {x.shape}"
        )
    check_nonempty(x, fn, batch=True)
    return x.ndim - 2


def is_int(v):
    # bool is an Integral in Python, but padding=True is almost surely a mistake
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def check_int(v, minimum, fn, name):
    if not is_int(v):
        raise TypeError(f"{fn}: {name} must be an int, got {v!r}")
    if v < minimum:
        raise ValueError(f"{fn}: {name} must be >= {minimum}, got {v}")
    if v > INT64_MAX:
        raise ValueError(
            f"{fn}: {name} must fit in 64 bits (at most 2**63 - 1, as in "
            f"torch), got {v}"
        )
    return int(v)


def _ntuple(value, n, fn, name):
    """int, or a sequence of n ints or of 1 int -> tuple of n ints, as torch expands
    them (padding=(1,) in a 2D op means (1, 1))."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
    if len(items) == 1:
        items = items * n
    expected = "an int" if n == 1 else f"an int or a tuple of {n} ints"
    if len(items) != n:
        raise ValueError(f"{fn}: {name} must be {expected}, got {value!r}")
    if not all(is_int(v) for v in items):
        raise TypeError(f"{fn}: {name} must be {expected}, got {value!r}")
    return tuple(int(v) for v in items)


def _single(value, fn, name):
    return _ntuple(value, 1, fn, name)


def _pair(value, fn, name):
    return _ntuple(value, 2, fn, name)


def int_args(value, n, minimum, fn, name):
    """_ntuple plus a lower bound: stride/dilation >= 1, padding >= 0."""
    t = _ntuple(value, n, fn, name)
    if min(t) < minimum:
        raise ValueError(f"{fn}: {name} must be >= {minimum}, got {value!r}")
    if max(t) > INT64_MAX:
        raise ValueError(
            f"{fn}: {name} must fit in 64 bits (at most 2**63 - 1, as in "
            f"torch), got {value!r}"
        )
    return t


def resolve_padding(padding, nd, kernel_size, stride, dilation, fn):
    """padding int / tuple / 'valid' / 'same' -> ((lo, hi), ...) per spatial dim."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding != "same":
            raise ValueError(
                f"{fn}: padding must be 'valid', 'same' or integers, got {padding!r}"
            )
        if any(s != 1 for s in stride):
            raise ValueError(
                f"{fn}: padding='same' needs stride=1 (got stride={stride}); "
                "pass an explicit padding for strided convolutions"
            )
        # torch puts the extra zero of an odd total on the right/bottom
        totals = [d * (k - 1) for k, d in zip(kernel_size, dilation, strict=True)]
        return tuple((t // 2, t - t // 2) for t in totals)
    return tuple((p, p) for p in int_args(padding, nd, 0, fn, "padding"))


def check_fits(size, kernel_size, pads, dilation, fn, what="kernel"):
    """Every window must fit in the padded input; returns the output size."""
    out = []
    for dim, n, k, (lo, hi), d in zip(
        SPATIAL[len(size)], size, kernel_size, pads, dilation, strict=True
    ):
        span = d * (k - 1) + 1
        if span > n + lo + hi:
            dil = f" (spans {span} with dilation {d})" if d > 1 else ""
            raise ValueError(
                f"{fn}: {what} size {k}{dil} along {dim} is larger than the padded "
                f"input size {n + lo + hi} (input {n} + padding {lo}+{hi})"
            )
        out.append(n + lo + hi - span)
    return out


def output_size(size, kernel_size, stride, pads, dilation, fn, what="kernel"):
    """floor((n + lo + hi - d(k-1) - 1) / s) + 1 per spatial dim."""
    room = check_fits(size, kernel_size, pads, dilation, fn, what)
    return tuple(r // s + 1 for r, s in zip(room, stride, strict=True))


def check_groups(groups, fn, **channels):
    """groups must be an int >= 1 dividing every channel count given (C_in=...)."""
    groups = check_int(groups, 1, fn, "groups")
    for name, c in channels.items():
        if c % groups:
            raise ValueError(f"{fn}: groups={groups} must divide {name}={c}")
    return groups


def check_bias(b, c_out, fn):
    if b is None:
        return None
    if b.ndim != 1 or b.shape != (c_out,):
        raise ValueError(
            f"{fn}: bias must have shape (C_out,) = ({c_out},), got {b.shape}"
        )
    return b


def check_conv_args(fn, nd, x, w, b, stride, padding, dilation, groups):
    """Validate conv arguments -> (x, w, b, stride, pads, dilation, had_batch).

    x comes back with a batch axis; had_batch says whether it came with one. x, w
    and b share one float dtype (the dtype policy above).
    """
    x, w, b = as_floats(fn, (x, "input"), (w, "weight"), (b, "bias"))
    x, had_batch = batched(x, nd, x_layout(nd), fn)
    check_layout(w, nd + 2, w_layout(nd), fn, "weight")
    groups = check_groups(groups, fn, C_in=x.shape[1], C_out=w.shape[0])
    if x.shape[1] != w.shape[1] * groups:
        per_group = f" ({w.shape[1]} per group x groups={groups})" if groups > 1 else ""
        raise ValueError(
            f"{fn}: input has {x.shape[1]} channels but weight expects "
            f"{w.shape[1] * groups}{per_group} (weight shape {w.shape})"
        )
    b = check_bias(b, w.shape[0], fn)
    stride = int_args(stride, nd, 1, fn, "stride")
    dilation = int_args(dilation, nd, 1, fn, "dilation")
    pads = resolve_padding(padding, nd, w.shape[2:], stride, dilation, fn)
    check_fits(x.shape[2:], w.shape[2:], pads, dilation, fn)
    return x, w, b, stride, pads, dilation, had_batch


def check_conv_transpose_args(
    fn, nd, x, w, b, stride, padding, output_padding, groups, dilation
):
    """Validate conv_transpose args
    -> (x, w, b, stride, pad, out_pad, dilation, had_batch), as check_conv_args."""
    x, w, b = as_floats(fn, (x, "input"), (w, "weight"), (b, "bias"))
    x, had_batch = batched(x, nd, x_layout(nd), fn)
    layout = w_layout(nd, "C_in", "C_out // groups")
    check_layout(w, nd + 2, layout, fn, "weight")
    groups = check_groups(groups, fn, C_in=w.shape[0])
    if x.shape[1] != w.shape[0]:
        raise ValueError(
            f"{fn}: input has {x.shape[1]} channels but weight expects {w.shape[0]} "
            f"(weight shape {w.shape}, laid out {layout})"
        )
    b = check_bias(b, w.shape[1] * groups, fn)
    stride = int_args(stride, nd, 1, fn, "stride")
    dilation = int_args(dilation, nd, 1, fn, "dilation")
    if isinstance(padding, str):
        raise ValueError(f"{fn}: padding must be integers, not {padding!r}")
    padding = int_args(padding, nd, 0, fn, "padding")
    out_pad = int_args(output_padding, nd, 0, fn, "output_padding")
    for dim, op, s, d, n, k, p in zip(
        SPATIAL[nd],
        out_pad,
        stride,
        dilation,
        x.shape[2:],
        w.shape[2:],
        padding,
        strict=True,
    ):
        if op >= s and op >= d:
            raise ValueError(
                f"{fn}: output_padding {op} along {dim} must be smaller than either "
                f"stride ({s}) or dilation ({d})"
            )
        size = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
        if size < 1:
            raise ValueError(
                f"{fn}: output size along {dim} would be {size} (input {n}, "
                f"kernel {k}, stride {s}, padding {p}); reduce padding"
            )
    return x, w, b, stride, padding, out_pad, dilation, had_batch


def check_pool_args(fn, nd, x, kernel_size, stride, padding):
    """Validate pooling arguments -> (x, kernel_size, stride, padding, had_batch);
    x comes back with a batch axis, as in check_conv_args."""
    x, had_batch = batched(as_float(x, fn), nd, x_layout(nd, "C"), fn)
    kernel_size = int_args(kernel_size, nd, 1, fn, "kernel_size")
    stride = kernel_size if stride is None else int_args(stride, nd, 1, fn, "stride")
    padding = int_args(padding, nd, 0, fn, "padding")
    if any(2 * p > k for p, k in zip(padding, kernel_size, strict=True)):
        raise ValueError(
            f"{fn}: padding {padding} must be at most half of kernel_size "
            f"{kernel_size} (torch's rule)"
        )
    pads = tuple((p, p) for p in padding)
    check_fits(x.shape[2:], kernel_size, pads, (1,) * nd, fn, "pool window")
    return x, kernel_size, stride, padding, had_batch
