"""cnnlib.grad's max/avg pooling backward passes against torch autograd (float64),
torch's tie rule, the -inf padding and finite differences."""

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlib.grad import (
    avg_pool1d_backward,
    avg_pool1d_forward,
    avg_pool2d_backward,
    avg_pool2d_forward,
    check_gradient,
    max_pool1d_backward,
    max_pool1d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
    relative_error,
)

torch.set_num_threads(1)

OPS = {
    "max_pool1d": (max_pool1d_forward, max_pool1d_backward, F.max_pool1d, 1),
    "max_pool2d": (max_pool2d_forward, max_pool2d_backward, F.max_pool2d, 2),
    "avg_pool1d": (avg_pool1d_forward, avg_pool1d_backward, F.avg_pool1d, 1),
    "avg_pool2d": (avg_pool2d_forward, avg_pool2d_backward, F.avg_pool2d, 2),
}
TOL = 1e-10


def pool_case(seed, nd, small=False):
    """Random valid pooling arguments -> x, kwargs (stride None = kernel_size)."""
    rng = np.random.default_rng([nd, seed])
    k = tuple(int(v) for v in rng.integers(1, 5, nd))
    padding = tuple(int(rng.integers(0, kk // 2 + 1)) for kk in k)
    stride = (
        None if rng.random() < 0.3 else tuple(int(v) for v in rng.integers(1, 4, nd))
    )
    extra = 3 if small else 7
    size = [
        max(1, kk - 2 * p) + int(rng.integers(0, extra))
        for kk, p in zip(k, padding, strict=True)
    ]
    shape = (int(rng.integers(1, 3)), int(rng.integers(1, 4)), *size)
    return rng.standard_normal(shape), dict(
        kernel_size=k, stride=stride, padding=padding
    )


def run_both(op, x, kwargs, seed=0):
    """-> (y, dx) from cnnlib.grad and from torch for a random dy"""
    forward, backward, torch_pool, _ = OPS[op]
    y, cache = forward(x, **kwargs)
    dy = np.random.default_rng(seed).standard_normal(y.shape)
    tx = torch.tensor(x, requires_grad=True)
    ty = torch_pool(tx, **kwargs)
    ty.backward(torch.tensor(dy))
    return (y, backward(dy, cache)), (ty.detach().numpy(), tx.grad.numpy())


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("seed", range(40))
def test_backward_matches_torch_autograd(op, seed):
    x, kwargs = pool_case(seed, OPS[op][3])
    (y, dx), (y_t, dx_t) = run_both(op, x, kwargs, seed)
    assert relative_error(y, y_t) < TOL
    assert dx.shape == x.shape
    assert relative_error(dx, dx_t) < TOL, (kwargs, relative_error(dx, dx_t))


@pytest.mark.parametrize("op", ["max_pool1d", "max_pool2d"])
@pytest.mark.parametrize("seed", range(15))
def test_ties_go_where_torch_sends_them(op, seed):
    # few distinct values: most windows hold their maximum more than once, and some
    # windows hold only -inf, next to the -inf padding
    x, kwargs = pool_case(50 + seed, OPS[op][3])
    rng = np.random.default_rng(seed)
    x = rng.integers(-1, 2, x.shape).astype(float)
    x[rng.random(x.shape) < 0.3] = -np.inf
    (y, dx), (y_t, dx_t) = run_both(op, x, kwargs, seed)
    np.testing.assert_array_equal(y, y_t)
    assert relative_error(dx, dx_t) < TOL


def test_first_maximum_of_a_window_takes_the_whole_gradient():
    x = np.array([[[3.0, 3.0, 1.0, 2.0]]])
    y, cache = max_pool1d_forward(x, 2)
    np.testing.assert_array_equal(y, [[[3.0, 2.0]]])
    dx = max_pool1d_backward(np.array([[[5.0, 7.0]]]), cache)
    np.testing.assert_array_equal(dx, [[[5.0, 0.0, 0.0, 7.0]]])


def test_overlapping_windows_add_up_at_a_shared_maximum():
    # kernel 3, stride 1: the 9 is the maximum of all three windows that contain it
    x = np.array([[[0.0, 1.0, 9.0, 2.0, 0.0]]])
    y, cache = max_pool1d_forward(x, 3, stride=1)
    dx = max_pool1d_backward(np.array([[[1.0, 10.0, 100.0]]]), cache)
    np.testing.assert_array_equal(dx, [[[0.0, 0.0, 111.0, 0.0, 0.0]]])


def test_minus_inf_padding_never_receives_gradient():
    # every input is -inf, as the padding is: all 16 windows (4 x 4) still send
    # their gradient to an input, the first one inside the window, as torch does
    x = np.full((1, 1, 3, 3), -np.inf)
    kwargs = dict(kernel_size=2, stride=1, padding=1)
    (y, dx), (_, dx_t) = run_both("max_pool2d", x, kwargs)
    assert y.shape == (1, 1, 4, 4)
    assert relative_error(dx, dx_t) < TOL
    _, cache = max_pool2d_forward(x, **kwargs)
    dx = max_pool2d_backward(np.ones_like(y), cache)
    np.testing.assert_array_equal(dx[0, 0], [[4, 2, 2], [2, 1, 1], [2, 1, 1]])


def test_average_pooling_spreads_dy_over_the_window_padding_included():
    y, cache = avg_pool1d_forward(np.zeros((1, 1, 4)), 3, stride=3, padding=1)
    dx = avg_pool1d_backward(np.array([[[3.0, 6.0]]]), cache)
    # windows [pad, 0, 1] and [2, 3, pad]: each input gets dy / 3
    np.testing.assert_allclose(dx, [[[1.0, 1.0, 2.0, 2.0]]])


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("seed", range(2))
def test_backward_matches_finite_differences(op, seed):
    forward, backward, _, nd = OPS[op]
    x, kwargs = pool_case(80 + seed, nd, small=True)
    _, cache = forward(x, **kwargs)
    errors = check_gradient(
        lambda x: forward(x, **kwargs)[0], (x,), lambda dy: (backward(dy, cache),)
    )
    assert errors[0] < 1e-7


def test_pooling_errors_name_the_function_and_shapes():
    with pytest.raises(ValueError, match=r"max_pool2d_forward: input must be 4-D"):
        max_pool2d_forward(np.zeros((8, 8)), 2)
    with pytest.raises(ValueError, match=r"avg_pool1d_forward: padding \(2,\) must be"):
        avg_pool1d_forward(np.zeros((1, 1, 8)), 3, padding=2)
    y, cache = avg_pool2d_forward(np.zeros((2, 3, 8, 8)), 2)
    msg = re.escape(
        "avg_pool2d_backward: dy must have the shape of the forward output "
        "(2, 3, 4, 4), got (2, 3, 4)"
    )
    with pytest.raises(ValueError, match=msg):
        avg_pool2d_backward(np.zeros((2, 3, 4)), cache)
    msg = "max_pool2d_backward: cache must be the PoolCache that max_pool2d_forward"
    with pytest.raises(
        TypeError, match=f"{msg} returns, got PoolCache from avg_pool2d"
    ):
        max_pool2d_backward(y, cache)
