"""Regression tests for cnnlib at the edges: each defect found by probing the public
API with unusual inputs (issue "Hardening") keeps a test here. The property-based
suite (test_properties_*.py) searches the same ground at random."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import cnnlib
import cnnlib.grad as G
import cnnlib.nn as cnn
from cnnlib import norm

torch.set_num_threads(1)
NAN = float("nan")


# ---------------------------------------------------- nn layers: what torch refuses


@pytest.mark.parametrize(
    "layer, x",
    [
        (lambda: cnn.Conv2d(1, 2, 3), np.zeros((1, 1, 5, 5), dtype=np.float32)),
        (lambda: cnn.Conv1d(1, 2, 3), [[[0.0] * 5]]),
        (lambda: cnn.Linear(3, 2), np.zeros((2, 3), dtype=np.float32)),
        (lambda: cnn.ReLU(), [1.0, -1.0]),
        (lambda: cnn.MaxPool2d(2), np.zeros((1, 1, 4, 4))),
    ],
)
def test_a_numpy_array_or_a_list_is_a_type_error_that_says_what_to_pass(layer, x):
    with pytest.raises(
        TypeError, match=r"input must be a torch.Tensor, got .*as_tensor"
    ):
        layer()(x)


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.bool, torch.uint8])
@pytest.mark.parametrize(
    "layer, shape",
    [
        (lambda: cnn.Conv2d(1, 2, 3), (1, 1, 5, 5)),
        (lambda: cnn.Conv1d(1, 2, 3), (1, 1, 5)),
        (lambda: cnn.Linear(3, 2), (2, 3)),
        (lambda: cnn.ReLU(), (2, 3)),
        (lambda: cnn.AvgPool1d(2), (1, 1, 4)),
    ],
)
def test_integer_and_bool_tensors_are_refused_naming_the_dtype(layer, shape, dtype):
    # they used to come back truncated (an int64 output of zeros); torch raises
    x = torch.ones(shape).to(dtype)
    with pytest.raises(TypeError, match=rf"input has dtype {dtype}.*\.float\(\)"):
        layer()(x)


def test_a_float64_input_to_a_float32_layer_is_refused_as_in_torch():
    with pytest.raises(
        TypeError, match=r"torch.float64 but the weight has torch.float32"
    ):
        cnn.Conv2d(1, 2, 3)(torch.zeros(1, 1, 5, 5, dtype=torch.float64))
    with pytest.raises(RuntimeError):  # torch's own twin refuses it too
        torch.nn.Conv2d(1, 2, 3)(torch.zeros(1, 1, 5, 5, dtype=torch.float64))


def test_cross_entropy_wants_tensors_and_integer_targets():
    loss = cnn.CrossEntropyLoss()
    with pytest.raises(TypeError, match="input must be a torch.Tensor, got list"):
        loss([[1.0, 2.0]], torch.tensor([0]))
    with pytest.raises(TypeError, match="target must be a torch.Tensor of integer"):
        loss(torch.zeros(1, 2), [0])
    with pytest.raises(TypeError, match="class probabilities are not supported"):
        loss(torch.zeros(2, 3), torch.tensor([0.0, 1.0]))


# ------------------------------------------------------------------- NaN, as torch


def test_relu_passes_the_gradient_of_a_nan_input_as_torch_does():
    x = np.array([NAN, -1.0, 0.0, 2.0])
    y, cache = G.relu_forward(x)
    assert np.isnan(y[0]) and np.array_equal(y[1:], [0.0, 0.0, 2.0])
    np.testing.assert_array_equal(G.relu_backward(np.ones(4), cache), [1, 0, 0, 1])
    t = torch.tensor(x, requires_grad=True)
    torch.relu(t).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [1, 0, 0, 1])
    t_ours = torch.tensor(x, requires_grad=True)
    cnn.ReLU()(t_ours).sum().backward()
    assert torch.equal(t_ours.grad, t.grad)


def test_max_pool_sends_the_gradient_to_the_last_nan_of_a_window_as_torch():
    x = np.array([[[[NAN, 1.0, 5.0], [NAN, 2.0, NAN]]]])  # window 1: two NaNs
    y, cache = G.max_pool2d_forward(x, (2, 2), stride=1)
    assert np.isnan(y).all()
    dx = G.max_pool2d_backward(np.ones_like(y), cache)
    t = torch.tensor(x, requires_grad=True)
    F.max_pool2d(t, (2, 2), stride=1).sum().backward()
    np.testing.assert_array_equal(dx, t.grad.numpy())
    assert dx[0, 0, 1, 0] == 1 and dx[0, 0, 0, 0] == 0  # the last NaN of window 1


# ------------------------------------------------- aliasing: outputs and caches


def test_caches_hold_copies_so_later_changes_do_not_reach_the_backward_pass():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 6)), rng.standard_normal((4, 3, 3))
    y, cache = G.conv1d_forward(x, w)
    dx, dw, _ = G.conv1d_backward(np.ones_like(y), cache)
    x += 1
    w *= 2
    dx2, dw2, _ = G.conv1d_backward(np.ones_like(y), cache)
    np.testing.assert_array_equal(dx, dx2)
    np.testing.assert_array_equal(dw, dw2)
    a, b = rng.standard_normal((5, 3)), rng.standard_normal((2, 3))
    y, cache = G.linear_forward(a, b)
    grads = G.linear_backward(np.ones_like(y), cache)
    a[...] = 0
    np.testing.assert_array_equal(
        G.linear_backward(np.ones_like(y), cache)[1], grads[1]
    )


def test_batch_norm_output_is_not_its_cached_x_hat():
    x = np.random.default_rng(1).standard_normal((4, 2))
    y, cache = norm.batch_norm_forward(x, None, None)
    dy = np.arange(8.0).reshape(4, 2)
    dx = norm.batch_norm_backward_compact(dy, cache)[0]  # reads the cached x_hat
    y *= 100  # changing the output in place used to change the cached x_hat
    np.testing.assert_array_equal(norm.batch_norm_backward_compact(dy, cache)[0], dx)


# ------------------------------------------------------- tensors into NumPy ops


def test_a_tensor_that_requires_grad_is_a_type_error_that_says_detach():
    x = torch.zeros(1, 1, 5, requires_grad=True)
    with pytest.raises(
        TypeError, match=r"conv1d: input is a torch tensor that .*detach"
    ):
        cnnlib.conv1d(x, np.ones((1, 1, 3)))
    with pytest.raises(TypeError, match=r"max_pool1d: input .*requires grad"):
        cnnlib.max_pool1d(x, 2)
    # without grad, a CPU tensor is fine and float32 stays float32
    y = cnnlib.conv1d(x.detach(), np.ones((1, 1, 3), dtype=np.float32))
    assert y.dtype == np.float32


# ------------------------------------------------------ arguments out of range


def test_numerical_gradient_names_a_bad_eps():
    def f(x):
        return x * 2

    with pytest.raises(TypeError, match="numerical_gradient: eps must be a positive"):
        G.numerical_gradient(f, (np.ones(2),), np.ones(2), eps="a")
    with pytest.raises(ValueError, match="check_gradient: eps must be positive"):
        G.check_gradient(f, (np.ones(2),), lambda dy: (2 * dy,), eps=float("inf"))


def test_a_stride_beyond_int64_is_a_value_error_everywhere():
    w = np.ones((1, 1, 3))
    for call in (
        lambda: cnnlib.conv_matrix(w, 8, stride=2**70),
        lambda: cnnlib.conv1d(np.ones((1, 1, 8)), w, stride=2**70),
        lambda: cnnlib.conv_output_size(8, 3, stride=2**70),
        lambda: cnnlib.max_pool1d(np.ones((1, 1, 8)), 2, stride=2**70),
    ):
        with pytest.raises(ValueError, match="stride must fit in 64 bits"):
            call()


# ----------------------------------------------------------------- dtype policy

OPS = {
    "conv1d": lambda x: cnnlib.conv1d(x[:, :, :, 0], np.ones((2, 3, 2), x.dtype)),
    "conv2d": lambda x: cnnlib.conv2d(x, np.ones((2, 3, 2, 2), x.dtype)),
    "conv_transpose2d": lambda x: cnnlib.conv_transpose2d(
        x, np.ones((3, 2, 2, 2), x.dtype)
    ),
    "max_pool2d": lambda x: cnnlib.max_pool2d(x, 2),
    "avg_pool1d": lambda x: cnnlib.avg_pool1d(x[..., 0], 2),
    "pad": lambda x: cnnlib.pad(x, 1),
    "conv2d_naive": lambda x: cnnlib.conv2d_naive(x, np.ones((1, 3, 2, 2), x.dtype)),
}


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize(
    "dtype, expected",
    [(np.float32, np.float32), (np.float64, np.float64), (np.int64, np.float64),
     (np.bool_, np.float64)],
)  # fmt: skip
def test_float32_stays_float32_and_the_rest_becomes_float64(op, dtype, expected):
    x = np.ones((2, 3, 4, 4), dtype=dtype)
    assert OPS[op](x).dtype == expected


def test_mixing_float32_with_float64_gives_float64_as_numpy_does():
    x, w = np.ones((1, 1, 5), np.float32), np.ones((1, 1, 3), np.float64)
    assert cnnlib.conv1d(x, w).dtype == np.float64


def test_backward_passes_keep_float32():
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32)
    w = np.ones((4, 3, 3, 3), np.float32)
    y, cache = G.conv2d_forward(x, w, np.zeros(4, np.float32), padding=1)
    assert y.dtype == np.float32
    assert all(g.dtype == np.float32 for g in G.conv2d_backward(y, cache))
    for forward, backward in [
        (G.max_pool2d_forward, G.max_pool2d_backward),
        (G.avg_pool2d_forward, G.avg_pool2d_backward),
    ]:
        y, cache = forward(x, 2)
        assert y.dtype == backward(y, cache).dtype == np.float32
