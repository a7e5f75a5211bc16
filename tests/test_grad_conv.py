"""cnnlib.grad's conv1d/conv2d backward passes against torch autograd (float64), the
loop references, conv_transpose and finite differences."""

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlib.conv import conv_transpose1d, conv_transpose2d
from cnnlib.grad import (
    check_gradient,
    conv1d_backward,
    conv1d_backward_naive,
    conv1d_forward,
    conv2d_backward,
    conv2d_backward_naive,
    conv2d_forward,
    max_pool2d_forward,
    relative_error,
)

FORWARD = {1: conv1d_forward, 2: conv2d_forward}
BACKWARD = {1: conv1d_backward, 2: conv2d_backward}
NAIVE = {1: conv1d_backward_naive, 2: conv2d_backward_naive}
TORCH = {1: F.conv1d, 2: F.conv2d}
CONV_T = {1: conv_transpose1d, 2: conv_transpose2d}
TOL = 1e-10

# torch notes that 'same' with an even kernel makes a padded copy; harmless here
torch.set_num_threads(1)

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


def _ints(rng, lo, hi, nd):
    return tuple(int(v) for v in rng.integers(lo, hi + 1, nd))


def conv_case(seed, nd, small=False, modes=("int", "tuple", "same", "valid")):
    """Random valid conv arguments -> x, w, b (or None), kwargs."""
    rng = np.random.default_rng([nd, seed])
    groups = int(rng.choice([1, 1, 2, 3]))
    c_in = groups * int(rng.integers(1, 3 if small else 4))
    c_out = groups * int(rng.integers(1, 3 if small else 4))
    k, dilation = _ints(rng, 1, 3 if small else 4, nd), _ints(rng, 1, 3, nd)
    mode = str(rng.choice(modes))
    stride = (1,) * nd if mode == "same" else _ints(rng, 1, 3, nd)
    pads = _ints(rng, 0, 2, nd) if mode in ("int", "tuple") else (0,) * nd
    padding = {"int": pads[0], "tuple": pads}.get(mode, mode)
    if mode == "int":
        pads = (pads[0],) * nd
    low = [
        1 if mode == "same" else max(1, d * (kk - 1) + 1 - 2 * p)
        for kk, d, p in zip(k, dilation, pads, strict=True)
    ]
    size = [n + int(rng.integers(0, 3 if small else 6)) for n in low]
    x = rng.standard_normal((int(rng.integers(1, 3 if small else 4)), c_in, *size))
    w = rng.standard_normal((c_out, c_in // groups, *k))
    b = rng.standard_normal(c_out) if rng.random() < 0.5 else None
    kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return x, w, b, kwargs


def torch_grads(nd, x, w, b, dy, kwargs):
    """dx, dw, db of sum(dy * conv(x, w, b)) by torch autograd"""
    tensors = [
        None if a is None else torch.tensor(a, requires_grad=True) for a in (x, w, b)
    ]
    TORCH[nd](*tensors, **kwargs).backward(torch.tensor(dy))
    return [None if t is None else t.grad.numpy() for t in tensors]


def assert_grads_close(ours, theirs, tol=TOL):
    assert len(ours) == len(theirs) == 3
    for name, a, b in zip(("dx", "dw", "db"), ours, theirs, strict=True):
        if b is None:
            assert a is None, f"{name} should be None without a bias"
            continue
        assert a.shape == b.shape, name
        assert relative_error(a, b) < tol, (name, relative_error(a, b))


@pytest.mark.parametrize("nd", [1, 2])
@pytest.mark.parametrize("seed", range(40))
def test_backward_matches_torch_autograd(nd, seed):
    x, w, b, kwargs = conv_case(seed, nd)
    y, cache = FORWARD[nd](x, w, b, **kwargs)
    dy = np.random.default_rng(seed).standard_normal(y.shape)
    assert_grads_close(BACKWARD[nd](dy, cache), torch_grads(nd, x, w, b, dy, kwargs))


@pytest.mark.parametrize("nd", [1, 2])
@pytest.mark.parametrize("seed", range(12))
def test_vectorised_backward_equals_the_loops(nd, seed):
    x, w, b, kwargs = conv_case(100 + seed, nd, small=True)
    y, cache = FORWARD[nd](x, w, b, **kwargs)
    dy = np.random.default_rng(seed).standard_normal(y.shape)
    assert_grads_close(BACKWARD[nd](dy, cache), NAIVE[nd](dy, cache), tol=1e-12)


@pytest.mark.parametrize("nd", [1, 2])
@pytest.mark.parametrize("seed", range(10))
def test_dx_is_a_transposed_convolution_of_dy(nd, seed):
    x, w, b, kwargs = conv_case(200 + seed, nd, modes=("tuple",))
    s, p, d = kwargs["stride"], kwargs["padding"], kwargs["dilation"]
    y, cache = FORWARD[nd](x, w, b, **kwargs)
    dy = np.random.default_rng(seed).standard_normal(y.shape)
    # the input samples past the last window were never read: their gradient is 0,
    # and output_padding restores them
    leftover = tuple(
        (n + 2 * pp - dd * (kk - 1) - 1) % ss
        for n, pp, dd, kk, ss in zip(x.shape[2:], p, d, w.shape[2:], s, strict=True)
    )
    dx_t = CONV_T[nd](dy, w, None, s, p, leftover, kwargs["groups"], d)
    assert relative_error(BACKWARD[nd](dy, cache)[0], dx_t) < TOL


@pytest.mark.parametrize("nd", [1, 2])
@pytest.mark.parametrize("seed", range(3))
def test_backward_matches_finite_differences(nd, seed):
    x, w, b, kwargs = conv_case(300 + seed, nd, small=True)
    b = np.random.default_rng(seed).standard_normal(w.shape[0])
    _, cache = FORWARD[nd](x, w, b, **kwargs)

    def f(x, w, b):
        return FORWARD[nd](x, w, b, **kwargs)[0]

    errors = check_gradient(f, (x, w, b), lambda dy: BACKWARD[nd](dy, cache))
    assert max(errors) < 1e-7


def test_gradient_of_dropped_input_samples_is_zero():
    # L = 6, k = 2, stride 3: windows cover samples 0-1 and 3-4; 2 and 5 are unread
    x, w = np.arange(6.0).reshape(1, 1, 6), np.ones((1, 1, 2))
    y, cache = conv1d_forward(x, w, stride=3)
    dx, dw, db = conv1d_backward(np.ones_like(y), cache)
    np.testing.assert_array_equal(dx[0, 0], [1, 1, 0, 1, 1, 0])
    np.testing.assert_array_equal(dw[0, 0], [0 + 3, 1 + 4])
    assert db is None


def test_forward_returns_cnnlib_conv_output():
    x, w, b, kwargs = conv_case(7, 2)
    y, cache = conv2d_forward(x, w, b, **kwargs)
    tensors = [torch.tensor(a) if a is not None else None for a in (x, w, b)]
    expected = F.conv2d(*tensors, **kwargs).numpy()
    assert relative_error(y, expected) < TOL
    assert cache.op == "conv2d" and cache.y_shape == y.shape


def test_bad_inputs_give_cnnlibs_conv_messages_under_the_forward_name():
    msg = re.escape(
        "conv2d_forward: input has 3 channels but weight expects 4 "
        "(weight shape (8, 4, 3, 3))"
    )
    with pytest.raises(ValueError, match=msg):
        conv2d_forward(np.zeros((2, 3, 8, 8)), np.zeros((8, 4, 3, 3)))
    with pytest.raises(ValueError, match=r"conv1d_forward: input must be 3-D"):
        conv1d_forward(np.zeros((8,)), np.zeros((4, 3, 3)))


def test_dy_of_the_wrong_shape_names_both_shapes():
    y, cache = conv2d_forward(np.zeros((2, 3, 6, 6)), np.zeros((4, 3, 3, 3)))
    msg = re.escape(
        "conv2d_backward: dy must have the shape of the forward output (2, 4, 4, 4), "
        "got (2, 4, 4, 3)"
    )
    with pytest.raises(ValueError, match=msg):
        conv2d_backward(np.zeros((2, 4, 4, 3)), cache)
    with pytest.raises(ValueError, match=r"conv2d_backward_naive: dy must have"):
        conv2d_backward_naive(np.zeros((4, 4, 4)), cache)


def test_a_cache_of_the_wrong_kind_is_a_type_error():
    _, cache1 = conv1d_forward(np.zeros((1, 1, 5)), np.zeros((1, 1, 3)))
    _, cache2 = conv2d_forward(np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 3, 3)))
    _, pool = max_pool2d_forward(np.zeros((1, 1, 4, 4)), 2)
    msg = "conv2d_backward: cache must be the ConvCache that conv2d_forward returns"
    with pytest.raises(TypeError, match=f"{msg}, got ConvCache from conv1d_forward"):
        conv2d_backward(np.zeros((1, 1, 3)), cache1)
    with pytest.raises(TypeError, match="got PoolCache from max_pool2d_forward"):
        conv2d_backward(np.zeros((1, 1, 2, 2)), pool)
    with pytest.raises(TypeError, match="conv1d_backward_naive: cache must be"):
        conv1d_backward_naive(np.zeros((1, 1, 3, 3)), cache2)
    with pytest.raises(TypeError, match="got tuple"):
        conv1d_backward(np.zeros((1, 1, 3)), tuple(cache1))
