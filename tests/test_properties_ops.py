"""Property tests of cnnlib's NumPy ops against torch.nn.functional (float64 unless a
test says otherwise): convolutions, transposed convolutions and pooling in every
layout, pad, get_patches, the conv matrix, circulant matrices and output sizes, the
dtype policy, and that no op mutates or aliases its inputs (interpolate and
max_unpool2d against torch: tests/test_upsample.py)."""

from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _strategies import (
    ANY_DTYPES,
    CONV_OPS,
    CONV_T_OPS,
    LAYOUTS,
    POOL_OPS,
    TOL,
    TOL32,
    assert_agrees,
    assert_no_alias,
    assert_unchanged,
    case_strategy,
    cast,
    expected_dtype,
    ints,
    op_and_reference,
    seeds,
    snapshot,
    spell,
    tensor,
    torch_call,
)
from hypothesis import given
from hypothesis import strategies as st

import cnnlib

torch.set_num_threads(1)

# torch warns that 'same' with an even kernel pads by a copy; harmless here
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")

FORWARD_OPS = [*CONV_OPS, *CONV_T_OPS, *POOL_OPS]
TWO_D_OPS = [name for name in FORWARD_OPS if "2d" in name]


def run_op(name, case):
    """cnnlib's op on the case's arrays: conv (x, w, b, ...) or pool (x, ...)."""
    op, _ = op_and_reference(name)
    return op(*case.arrays, **case.kwargs)


def run_torch(name, case):
    _, ref = op_and_reference(name)
    return torch_call(ref, case.arrays, case.torch_kwargs)[0]


# ------------------------------------------------------------- torch agreement


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", FORWARD_OPS)
@given(data=st.data())
def test_forward_ops_match_torch(name, layout, data):
    """Every conv, conv_transpose and pooling op (naive versions included) equals
    torch's in float64, with (N, C, *size), (C, *size) and N = 0 inputs alike."""
    case = data.draw(case_strategy(name, layout), label="case")
    y = run_op(name, case)
    assert isinstance(y, np.ndarray) and y.dtype == np.float64
    assert_agrees(y, run_torch(name, case))


@pytest.mark.parametrize("name", TWO_D_OPS)
@given(data=st.data())
def test_one_element_tuples_mean_both_axes(name, data):
    """A 2D op given stride=(s,), padding=(p,), ... equals torch given (s, s),
    (p, p), ..., and the op given plain ints."""
    case = data.draw(case_strategy(name, square=True), label="case")
    spelled = {key: _spelled(key, v, tuple) for key, v in case.torch_kwargs.items()}
    plain = {key: _spelled(key, v, int) for key, v in case.torch_kwargs.items()}
    y = run_op(name, replace(case, kwargs=spelled))
    assert_agrees(y, run_torch(name, case))
    np.testing.assert_array_equal(y, run_op(name, replace(case, kwargs=plain)))


def _spelled(key, value, form):
    """(v, v) -> (v,) (form tuple) or v (form int); strings, None and groups stay."""
    if key == "groups" or value is None or isinstance(value, str):
        return value
    return (value[0],) if form is tuple else value[0]


# ------------------------------------------------------------ the other ops


@st.composite
def batched_inputs(draw, nd, max_size=5, n=None):
    """x (N, C, *size) with small sizes; N from 1 to 2 unless given."""
    n = draw(st.integers(1, 2)) if n is None else n
    c = draw(st.integers(1, 3))
    size = draw(ints(nd, 1, max_size))
    return np.random.default_rng(draw(seeds)).standard_normal((n, c, *size))


@given(
    nd=st.sampled_from([1, 2]),
    data=st.data(),
    value=st.sampled_from([0.0, 1.5, -np.inf, np.nan, 3]),
)
def test_pad_matches_torch(nd, data, value):
    """pad(x (N, C, *size), p, value) == F.pad with p on both sides of every axis."""
    x = data.draw(batched_inputs(nd), label="x")
    pads = data.draw(ints(nd, 0, 3), label="pads")
    y = cnnlib.pad(x, data.draw(spell(pads)), value)
    flat = [p for p in reversed(pads) for _ in range(2)]  # F.pad: last axis first
    assert y.dtype == np.float64
    assert_agrees(y, F.pad(tensor(x), flat, value=float(value)))


@st.composite
def patch_cases(draw, nd):
    """x (N, C, *size), kernel_size, stride, padding, dilation with fitting windows."""
    k, d = draw(ints(nd, 1, 3)), draw(ints(nd, 1, 2))
    s, p = draw(ints(nd, 1, 3)), draw(ints(nd, 0, 2))
    size = [
        max(1, dd * (kk - 1) + 1 - 2 * pp) + draw(st.integers(0, 3))
        for kk, dd, pp in zip(k, d, p, strict=True)
    ]
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    x = np.random.default_rng(draw(seeds)).standard_normal((n, c, *size))
    return x, k, s, p, d


def unfold_reference(x, k, s, p, d):
    """torch's im2col, reshaped to get_patches' layout:
    x (N, C, *size) -> (N, *out, C, *k); a 1D input is a 2D one of height 1."""
    nd = len(k)
    t = tensor(x)
    if nd == 1:
        t, k, s, p, d = t[:, :, None], (1, *k), (1, *s), (0, *p), (1, *d)
    cols = F.unfold(t, k, dilation=d, padding=p, stride=s)  # (N, C·kH·kW, P)
    n, c = x.shape[:2]
    out = [
        (size + 2 * pp - dd * (kk - 1) - 1) // ss + 1
        for size, kk, ss, pp, dd in zip(t.shape[2:], k, s, p, d, strict=True)
    ]
    cols = cols.reshape(n, c, *k, *out)  # (N, C, kH, kW, H_out, W_out)
    cols = cols.permute(0, 4, 5, 1, 2, 3)  # (N, H_out, W_out, C, kH, kW)
    return cols[:, 0, :, :, 0] if nd == 1 else cols  # (N, L_out, C, k)


@pytest.mark.parametrize("nd", [1, 2])
@given(data=st.data())
def test_get_patches_matches_torch_unfold(nd, data):
    """get_patches(x, k, s, p, d) is torch's unfold (im2col), as a read-only view."""
    x, k, s, p, d = data.draw(patch_cases(nd), label="case")
    spelled = [data.draw(spell(v)) for v in (k, s, p, d)]
    patches = cnnlib.get_patches(x, *spelled)
    assert not patches.flags.writeable  # the documented view must not be written
    assert_agrees(patches, unfold_reference(x, k, s, p, d))


@pytest.mark.parametrize("op", ["pad", "get_patches"])
@pytest.mark.parametrize("nd", [1, 2])
@given(data=st.data())
def test_pad_and_get_patches_accept_an_empty_batch(op, nd, data):
    """x (0, C, *size) -> an empty result of the right shape, as torch's F.pad and
    unfold give (the convolutions accept N = 0 too)."""
    x = data.draw(batched_inputs(nd, n=0), label="x")
    p = data.draw(st.integers(0, 2), label="padding")
    if op == "pad":
        assert_agrees(cnnlib.pad(x, p), F.pad(tensor(x), [p] * (2 * nd)))
    else:
        ones = (1,) * nd  # kernel_size, stride, dilation
        expected = unfold_reference(x, ones, ones, (p,) * nd, ones)
        assert_agrees(cnnlib.get_patches(x, ones, 1, p), expected)


@st.composite
def matrix_cases(draw, nd):
    """w (C_out, C_in, *k) (or (k,) in 1D), input size, stride, padding, dilation."""
    k, d = draw(ints(nd, 1, 3)), draw(ints(nd, 1, 2))
    mode = draw(st.sampled_from(["explicit", "same", "valid"]))
    s = (1,) * nd if mode == "same" else draw(ints(nd, 1, 3))
    p = draw(ints(nd, 0, 2)) if mode == "explicit" else (0,) * nd
    size = tuple(
        max(1, dd * (kk - 1) + 1 - 2 * pp) + draw(st.integers(0, 3))
        for kk, dd, pp in zip(k, d, p, strict=True)
    )
    c_out, c_in = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    rng = np.random.default_rng(draw(seeds))
    one_d_kernel = nd == 1 and draw(st.booleans())
    w = rng.standard_normal(k if one_d_kernel else (c_out, c_in, *k))
    padding = mode if mode != "explicit" else draw(spell(p))
    torch_padding = mode if mode != "explicit" else p
    return w, size, s, padding, d, torch_padding


@pytest.mark.parametrize("nd", [1, 2])
@given(data=st.data())
def test_conv_matrix_applies_the_convolution(nd, data):
    """conv_matrix(w, size, ...) @ x.ravel() == conv(x[None], w, ...)[0].ravel()."""
    w, size, s, padding, d, torch_padding = data.draw(matrix_cases(nd), label="case")
    w4 = w[None, None] if w.ndim == 1 else w  # (k,) means one channel in and out
    x = np.random.default_rng(0).standard_normal((w4.shape[1], *size))
    M = cnnlib.conv_matrix(w, data.draw(spell(size)), s, padding, d)
    conv = F.conv1d if nd == 1 else F.conv2d
    y = conv(tensor(x[None]), tensor(w4), None, s, torch_padding, d)[0]
    assert M.shape == (y.numel(), x.size)
    assert_agrees(M @ x.ravel(), y.reshape(-1))


@given(k=st.integers(1, 6), extra=st.integers(0, 4), seed=seeds)
def test_circulant_is_conv1d_of_the_wrapped_signal(k, extra, seed):
    """circulant(w (k,), n) @ x (n,) == conv1d of x wrapped around (periodic)."""
    n = k + extra
    rng = np.random.default_rng(seed)
    w, x = rng.standard_normal(k), rng.standard_normal(n)
    C = cnnlib.circulant(w, n)
    wrapped = np.concatenate([x, x[: k - 1]])  # (n + k - 1,): every window fits
    y = F.conv1d(tensor(wrapped[None, None]), tensor(w[None, None]))[0, 0]
    assert C.shape == (n, n)
    assert_agrees(C @ x, y)


@given(
    n=st.integers(1, 12),
    k=st.integers(1, 5),
    stride=st.integers(1, 4),
    padding=st.integers(0, 3),
    dilation=st.integers(1, 3),
)
def test_conv_output_size_is_torch_output_length(n, k, stride, padding, dilation):
    """conv_output_size(n, k, s, p, d) == the length of torch's conv1d output, or a
    ValueError when torch has no window that fits."""
    x, w = torch.zeros(1, 1, n), torch.zeros(1, 1, k)
    try:
        expected = F.conv1d(x, w, None, stride, padding, dilation).shape[-1]
    except RuntimeError:  # the kernel spans more than the padded input
        expected = None
    if expected is None:
        with pytest.raises(ValueError, match="^conv_output_size: "):
            cnnlib.conv_output_size(n, k, stride, padding, dilation)
    else:
        assert cnnlib.conv_output_size(n, k, stride, padding, dilation) == expected


# --------------------------------------------------------------- dtype policy


@pytest.mark.parametrize("name", FORWARD_OPS)
@given(data=st.data(), dtypes=st.tuples(*[st.sampled_from(ANY_DTYPES)] * 3))
def test_dtype_policy_of_forward_ops(name, data, dtypes):
    """float32 arguments give float32, anything else float64 (NumPy's promotion of
    the arrays' dtypes; integers and bool count as float64); the values match torch
    in that dtype."""
    case = data.draw(case_strategy(name), label="case")
    arrays = [
        None if a is None else cast(a, t)
        for a, t in zip(case.arrays, dtypes[: len(case.arrays)], strict=True)
    ]
    want = expected_dtype(*[a.dtype for a in arrays if a is not None])
    y = run_op(name, replace(case, arrays=arrays))
    assert y.dtype == want, (y.dtype, want)
    as_want = [None if a is None else a.astype(want) for a in arrays]
    expected = op_and_reference(name)[1](
        *[None if a is None else tensor(a) for a in as_want], **case.torch_kwargs
    )
    assert_agrees(y, expected, TOL32 if want == np.float32 else TOL)


def _kernel(seed):
    return np.random.default_rng(seed).standard_normal((2, 1, 2, 3))


def _taps(seed):
    return np.random.default_rng(seed).standard_normal(3)


@st.composite
def _unpool_arguments(draw):
    """y (N, C, h, w) and indices that put each value somewhere in its own 2 x 2
    window of the (N, C, 2h, 2w) output -> (y, (indices, kernel_size 2))."""
    y = draw(batched_inputs(2, max_size=3))
    rng = np.random.default_rng(draw(seeds))
    h, w = y.shape[2:]
    rows = 2 * np.arange(h)[:, None] + rng.integers(0, 2, y.shape)
    cols = 2 * np.arange(w) + rng.integers(0, 2, y.shape)
    return y, (rows * (2 * w) + cols, 2)


OTHER_OPS = {
    "pad": cnnlib.pad,
    "get_patches": cnnlib.get_patches,
    "conv_matrix": cnnlib.conv_matrix,
    "circulant": cnnlib.circulant,
    "interpolate": cnnlib.interpolate,
    "max_unpool2d": cnnlib.max_unpool2d,
}


# name -> strategy of (the array argument, the other positional arguments)
OTHER_CASES = {
    "pad": st.tuples(batched_inputs(2), st.just((1,))),
    "get_patches": st.tuples(batched_inputs(2), st.just((1,))),
    "conv_matrix": st.tuples(seeds.map(_kernel), st.just(((4, 5),))),
    "circulant": st.tuples(seeds.map(_taps), st.just((5,))),
    # nearest at scale 2 copies values, so every dtype gives the same numbers
    "interpolate": st.tuples(batched_inputs(2), st.just((None, 2))),
    "max_unpool2d": _unpool_arguments(),
}


@pytest.mark.parametrize("name", OTHER_OPS)
@given(data=st.data(), dtype=st.sampled_from(ANY_DTYPES))
def test_dtype_policy_of_the_other_ops(name, data, dtype):
    """pad, get_patches, conv_matrix, circulant, interpolate and max_unpool2d follow
    the dtype policy too, and their values equal those computed from the float64
    array."""
    a, rest = data.draw(OTHER_CASES[name], label="arguments")
    a = cast(a, dtype)
    y = OTHER_OPS[name](a, *rest)
    assert y.dtype == expected_dtype(a.dtype), (y.dtype, a.dtype)
    np.testing.assert_array_equal(y, OTHER_OPS[name](a.astype(np.float64), *rest))


# ------------------------------------------------- no mutation, no aliasing


@pytest.mark.parametrize("name", FORWARD_OPS)
@given(data=st.data(), layout=st.sampled_from(LAYOUTS))
def test_forward_ops_neither_mutate_nor_alias(name, data, layout):
    """The inputs keep their values, and the output owns its memory."""
    case = data.draw(case_strategy(name, layout), label="case")
    copies = snapshot(*case.arrays)
    y = run_op(name, case)
    assert_unchanged(case.arrays, copies)
    assert_no_alias([y], case.arrays)


@pytest.mark.parametrize("name", OTHER_OPS)
@given(data=st.data())
def test_other_ops_neither_mutate_nor_alias(name, data):
    """pad, conv_matrix, circulant, interpolate and max_unpool2d return new arrays;
    get_patches' view is the one documented alias (it is read-only, so it cannot
    change the input)."""
    a, rest = data.draw(OTHER_CASES[name], label="arguments")
    if name == "pad":
        rest = (data.draw(st.sampled_from([0, 1, (0, 2)]), label="padding"),)
    copies = snapshot(a)
    y = OTHER_OPS[name](a, *rest)
    assert_unchanged([a], copies)
    if name == "get_patches":
        assert not y.flags.writeable
    else:
        assert_no_alias([y], [a])
