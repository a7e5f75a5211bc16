"""Hypothesis strategies, torch references and checks shared by the property suite
(tests/test_properties_*.py).

The strategies build valid configurations constructively (no ``assume``), so
hypothesis never filters. Array values come from a drawn seed: shrinking then works on
the shapes and arguments, where the bugs of a convolution live, and the examples stay
small enough for hypothesis to handle quickly.
"""

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import strategies as st

import cnnlib

TOL = 1e-10  # float64 against torch float64
TOL32 = 1e-4  # float32 against torch float32

# batched (N, C, *size), unbatched (C, *size) as torch allows, and an empty batch
LAYOUTS = ("batched", "unbatched", "empty")
ANY_DTYPES = (np.float64, np.float32, np.int64, np.int32, np.uint8, np.bool_)

seeds = st.integers(0, 2**32 - 1)


# ------------------------------------------------------------------------- checks


def rel_error(a, b, floor=0.0):
    """a, b (same shape) -> max|a - b| / max(max|a|, max|b|, floor), 0 when all three
    are zero. floor is the scale of the terms that make up a result which may cancel
    to far below them (see test_batch_norm_matches_autograd)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, f"shapes differ: {a.shape} vs {b.shape}"
    if a.size == 0:
        return 0.0
    scale = max(np.abs(a).max(), np.abs(b).max(), floor)
    return 0.0 if scale == 0 else float(np.abs(a - b).max() / scale)


def assert_agrees(actual, expected, tol=TOL, what="result", floor=0.0):
    """actual (ndarray) == expected (ndarray or tensor) in shape, in the positions of
    NaN and of infinities, and elsewhere to a relative error below tol."""
    if isinstance(expected, torch.Tensor):
        expected = expected.detach().numpy()
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (what, actual.shape, expected.shape)
    nan = np.isnan(expected)
    assert np.array_equal(np.isnan(actual), nan), (what, "NaN positions differ")
    # infinities must match exactly (same place, same sign)
    inf = np.isinf(expected) | np.isinf(actual)
    assert np.array_equal(actual[inf], expected[inf]), (what, "infinities differ")
    finite = ~(nan | inf)
    err = rel_error(actual[finite], expected[finite], floor)
    assert err < tol, (what, err)


def expected_dtype(*dtypes):
    """The dtype policy: float32 when NumPy promotes the dtypes to float32, else
    float64 (integers and bool become float64)."""
    promoted = np.result_type(*dtypes)
    return np.dtype(np.float32 if promoted == np.float32 else np.float64)


def tensor(a, requires_grad=False):
    """ndarray -> a torch tensor of the same dtype (a copy, so torch cannot alias)."""
    return torch.tensor(np.array(a), requires_grad=requires_grad)


def snapshot(*arrays):
    """Copies of the arrays (None stays None), to compare with after a call."""
    return [None if a is None else np.array(a, copy=True) for a in arrays]


def assert_unchanged(arrays, copies):
    """The arrays still hold the values of their snapshot (NaN equal to NaN)."""
    for i, (a, c) in enumerate(zip(arrays, copies, strict=True)):
        if a is not None:
            assert np.array_equal(a, c, equal_nan=True), f"argument {i} was mutated"


def assert_no_alias(outputs, others):
    """No output array shares memory with any of the other arrays or outputs."""
    outputs = [a for a in outputs if isinstance(a, np.ndarray)]
    others = [a for a in others if isinstance(a, np.ndarray)]
    for i, out in enumerate(outputs):
        for j, other in enumerate(others + outputs[i + 1 :]):
            assert not np.shares_memory(out, other), f"output {i} aliases array {j}"


def cast(a, dtype):
    """A standard-normal array -> dtype: small integers, signs for bool (NaN and
    infinities, which integers cannot hold, become 0 and +-3)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return a > 0
    a = np.nan_to_num(a, nan=0.0, posinf=3.0, neginf=-3.0)
    if dtype.kind == "u":
        return np.round(np.abs(a) * 2).astype(dtype)
    if dtype.kind == "i":
        return np.round(a * 2).astype(dtype)
    return a.astype(dtype)


# --------------------------------------------------------------------- spellings


def ints(nd, lo, hi, square=False):
    """A strategy for a tuple of nd ints in [lo, hi], all equal when square."""
    if square:
        return st.integers(lo, hi).map(lambda v: (v,) * nd)
    return st.tuples(*[st.integers(lo, hi)] * nd)


@st.composite
def spell(draw, values):
    """A tuple of ints -> how a user may write it: the tuple, a list, and, when all
    values are equal, a plain int or a 1-tuple (torch expands those)."""
    values = tuple(values)
    forms = [values, list(values)]
    if len(set(values)) == 1:
        forms += [values[0], (values[0],)]
    return draw(st.sampled_from(forms))


def batch_shape(draw, layout, small):
    """() for an unbatched input, else (N,): 0 for an empty batch."""
    if layout == "unbatched":
        return ()
    if layout == "empty":
        return (0,)
    return (draw(st.integers(1, 2 if small else 3)),)


@dataclass
class Case:
    """A valid call: cnnlib(*arrays, **kwargs) == torch_fn(*arrays, **torch_kwargs)."""

    arrays: list  # x, w, b (b may be None), or just [x] for pooling
    kwargs: dict = field(default_factory=dict)  # spelled as a user might
    torch_kwargs: dict = field(default_factory=dict)  # spelled canonically
    seed: int = 0

    @property
    def x(self):
        return self.arrays[0]


# ------------------------------------------------------------------ convolutions


@st.composite
def conv_cases(draw, nd, layout="batched", small=False, square=False):
    """Valid conv arguments: x (N, C_in, *size) or (C_in, *size), w (C_out,
    C_in // groups, *k), b (C_out,) or None; padding an int/tuple, 'same' or 'valid'.
    The input may be exactly as large as the kernel's padded span; square: stride,
    padding and dilation have one value for all axes."""
    groups = draw(st.integers(1, 3))
    c_in = groups * draw(st.integers(1, 2))
    c_out = groups * draw(st.integers(1, 2))
    k = draw(ints(nd, 1, 3 if small else 4))
    dilation = draw(ints(nd, 1, 2 if small else 3, square))
    mode = draw(st.sampled_from(["explicit", "same", "valid"]))
    stride = (1,) * nd if mode == "same" else draw(ints(nd, 1, 3, square))
    pads = draw(ints(nd, 0, 2, square)) if mode == "explicit" else (0,) * nd
    span = [d * (kk - 1) + 1 for kk, d in zip(k, dilation, strict=True)]
    low = [
        1 if mode == "same" else max(1, s - 2 * p)
        for s, p in zip(span, pads, strict=True)
    ]
    size = [n + draw(st.integers(0, 2 if small else 4)) for n in low]
    shape = (*batch_shape(draw, layout, small), c_in, *size)
    seed = draw(seeds)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    w = rng.standard_normal((c_out, c_in // groups, *k))
    b = rng.standard_normal(c_out) if draw(st.booleans()) else None
    padding = draw(spell(pads)) if mode == "explicit" else mode
    kwargs = dict(
        stride=draw(spell(stride)),
        padding=padding,
        dilation=draw(spell(dilation)),
        groups=groups,
    )
    torch_kwargs = dict(
        stride=stride,
        padding=pads if mode == "explicit" else mode,
        dilation=dilation,
        groups=groups,
    )
    return Case([x, w, b], kwargs, torch_kwargs, seed)


@st.composite
def conv_transpose_cases(draw, nd, layout="batched", small=False, square=False):
    """Valid conv_transpose arguments: x (N, C_in, *size), w (C_in, C_out // groups,
    *k), b (C_out,) or None, output_padding < stride or < dilation, and a padding
    that leaves an output of at least one sample (square: as in conv_cases)."""
    groups = draw(st.integers(1, 3))
    c_in = groups * draw(st.integers(1, 2))
    c_out_g = draw(st.integers(1, 2))
    k = draw(ints(nd, 1, 3 if small else 4))
    stride = draw(ints(nd, 1, 3, square))
    dilation = draw(ints(nd, 1, 2 if small else 3, square))
    top = min(max(s, d) for s, d in zip(stride, dilation, strict=True)) - 1
    out_pad = (
        draw(ints(nd, 0, top, square))
        if square
        else tuple(
            draw(st.integers(0, max(s, d) - 1))
            for s, d in zip(stride, dilation, strict=True)
        )
    )
    size = draw(ints(nd, 1, 3 if small else 4))
    # the output (n - 1)·s - 2p + d·(k - 1) + op + 1 must keep at least one sample
    room = [
        (n - 1) * s + d * (kk - 1) + op
        for n, s, d, kk, op in zip(size, stride, dilation, k, out_pad, strict=True)
    ]
    top = min(2, *[r // 2 for r in room])
    pads = (
        draw(ints(nd, 0, top, square))
        if square
        else tuple(draw(st.integers(0, min(2, r // 2))) for r in room)
    )
    shape = (*batch_shape(draw, layout, small), c_in, *size)
    seed = draw(seeds)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    w = rng.standard_normal((c_in, c_out_g, *k))
    b = rng.standard_normal(c_out_g * groups) if draw(st.booleans()) else None
    canonical = dict(
        stride=stride,
        padding=pads,
        output_padding=out_pad,
        groups=groups,
        dilation=dilation,
    )
    kwargs = {
        name: value if name == "groups" else draw(spell(value))
        for name, value in canonical.items()
    }
    return Case([x, w, b], kwargs, canonical, seed)


# ----------------------------------------------------------------------- pooling


@st.composite
def pool_cases(draw, nd, layout="batched", small=False, square=False):
    """Valid pooling arguments: x (N, C, *size) or (C, *size), kernel_size, stride
    (None = kernel_size), padding <= kernel_size / 2; the window may be exactly as
    large as the padded input (square: one value of each argument for all axes)."""
    k = draw(ints(nd, 1, 3 if small else 4, square))
    pads = (
        draw(ints(nd, 0, k[0] // 2, square))
        if square
        else tuple(draw(st.integers(0, kk // 2)) for kk in k)
    )
    stride = draw(st.none() | ints(nd, 1, 3, square))
    size = [
        max(1, kk - 2 * p) + draw(st.integers(0, 3 if small else 5))
        for kk, p in zip(k, pads, strict=True)
    ]
    shape = (*batch_shape(draw, layout, small), draw(st.integers(1, 3)), *size)
    seed = draw(seeds)
    x = np.random.default_rng(seed).standard_normal(shape)
    kwargs = dict(
        kernel_size=draw(spell(k)),
        stride=None if stride is None else draw(spell(stride)),
        padding=draw(spell(pads)),
    )
    torch_kwargs = dict(kernel_size=k, stride=stride, padding=pads)
    return Case([x], kwargs, torch_kwargs, seed)


# ------------------------------------------------------------- torch references


def _flipped(fn, nd):
    """torch's true convolution: cross-correlation with the kernel reversed."""

    def convolve(x, w, b=None, **kwargs):
        return fn(x, torch.flip(w, dims=tuple(range(2, 2 + nd))), b, **kwargs)

    return convolve


CONV_OPS = {
    # name: (cnnlib op, torch reference, spatial dims)
    "conv1d": (cnnlib.conv1d, F.conv1d, 1),
    "conv2d": (cnnlib.conv2d, F.conv2d, 2),
    "convolve1d": (cnnlib.convolve1d, _flipped(F.conv1d, 1), 1),
    "convolve2d": (cnnlib.convolve2d, _flipped(F.conv2d, 2), 2),
    "conv1d_naive": (cnnlib.conv1d_naive, F.conv1d, 1),
    "conv2d_naive": (cnnlib.conv2d_naive, F.conv2d, 2),
}
CONV_T_OPS = {
    "conv_transpose1d": (cnnlib.conv_transpose1d, F.conv_transpose1d, 1),
    "conv_transpose2d": (cnnlib.conv_transpose2d, F.conv_transpose2d, 2),
    "conv_transpose1d_naive": (cnnlib.conv_transpose1d_naive, F.conv_transpose1d, 1),
    "conv_transpose2d_naive": (cnnlib.conv_transpose2d_naive, F.conv_transpose2d, 2),
}
POOL_OPS = {
    "max_pool1d": (cnnlib.max_pool1d, F.max_pool1d, 1),
    "max_pool2d": (cnnlib.max_pool2d, F.max_pool2d, 2),
    "avg_pool1d": (cnnlib.avg_pool1d, F.avg_pool1d, 1),
    "avg_pool2d": (cnnlib.avg_pool2d, F.avg_pool2d, 2),
}


def case_strategy(name, layout="batched", square=False):
    """The case strategy for any op of CONV_OPS, CONV_T_OPS or POOL_OPS; the naive
    loop versions get smaller shapes."""
    small = name.endswith("_naive")
    if name in CONV_OPS:
        return conv_cases(CONV_OPS[name][2], layout, small, square)
    if name in CONV_T_OPS:
        return conv_transpose_cases(CONV_T_OPS[name][2], layout, small, square)
    return pool_cases(POOL_OPS[name][2], layout, small, square)


def op_and_reference(name):
    """name -> (cnnlib op, torch reference)."""
    op, ref, _ = {**CONV_OPS, **CONV_T_OPS, **POOL_OPS}[name]
    return op, ref


def torch_call(ref, arrays, kwargs, requires_grad=False):
    """Run the torch reference on tensor copies -> (output, input tensors)."""
    tensors = [
        None if a is None else tensor(a, requires_grad=requires_grad) for a in arrays
    ]
    return ref(*tensors, **kwargs), tensors
