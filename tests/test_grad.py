"""cnnlib.grad: ReLU, Linear and softmax cross-entropy against torch autograd (float64),
and the gradient checker itself (tests/test_grad_conv.py and test_grad_pool.py
cover convolution and pooling)."""

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlib.grad import (
    check_gradient,
    linear_backward,
    linear_forward,
    numerical_gradient,
    relative_error,
    relu_backward,
    relu_forward,
    softmax_cross_entropy,
)

torch.set_num_threads(1)
TOL = 1e-10


def _t(a, grad=True):
    return None if a is None else torch.tensor(a, requires_grad=grad)


@pytest.mark.parametrize("seed", range(10))
def test_relu_matches_torch_including_zero_inputs(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(tuple(rng.integers(1, 5, rng.integers(1, 5))))
    x[rng.random(x.shape) < 0.2] = 0.0  # torch takes the slope at 0 as 0
    y, cache = relu_forward(x)
    dy = rng.standard_normal(y.shape)
    tx = _t(x)
    F.relu(tx).backward(torch.tensor(dy))
    np.testing.assert_array_equal(y, np.maximum(x, 0))
    np.testing.assert_array_equal(relu_backward(dy, cache), tx.grad.numpy())


def test_relu_gradient_at_zero_is_zero():
    _, cache = relu_forward(np.array([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(relu_backward(np.ones(3), cache), [0.0, 0.0, 1.0])


@pytest.mark.parametrize("seed", range(30))
def test_linear_matches_torch_autograd(seed):
    rng = np.random.default_rng(seed)
    lead = tuple(int(v) for v in rng.integers(1, 5, int(rng.integers(1, 3))))
    n_in, n_out = (int(v) for v in rng.integers(1, 7, 2))
    x, w = rng.standard_normal((*lead, n_in)), rng.standard_normal((n_out, n_in))
    b = rng.standard_normal(n_out) if seed % 2 else None
    y, cache = linear_forward(x, w, b)
    dy = rng.standard_normal(y.shape)
    tensors = [_t(a) for a in (x, w, b)]
    y_t = F.linear(*tensors)
    y_t.backward(torch.tensor(dy))
    assert relative_error(y, y_t.detach().numpy()) < TOL
    for ours, t in zip(linear_backward(dy, cache), tensors, strict=True):
        if t is None:
            assert ours is None
        else:
            assert relative_error(ours, t.grad.numpy()) < TOL


@pytest.mark.parametrize("seed", range(30))
def test_softmax_cross_entropy_matches_torch(seed):
    rng = np.random.default_rng(seed)
    N, C = (int(v) for v in rng.integers(1, 8, 2))
    logits = rng.standard_normal((N, C)) * float(rng.choice([1, 10, 300]))
    targets = rng.integers(0, C, N)
    loss, dlogits = softmax_cross_entropy(logits, targets)
    t = _t(logits)
    loss_t = F.cross_entropy(t, torch.tensor(targets))
    loss_t.backward()
    assert isinstance(loss, float)
    assert abs(loss - loss_t.item()) <= TOL * max(1.0, abs(loss_t.item()))
    assert relative_error(dlogits, t.grad.numpy()) < TOL


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    loss, dlogits = softmax_cross_entropy(np.array([[1000.0, 0.0], [0.0, 1e4]]), [1, 1])
    assert loss == pytest.approx(500.0)
    np.testing.assert_allclose(dlogits, [[0.5, -0.5], [0.0, 0.0]], atol=1e-12)


def test_cross_entropy_targets_are_checked():
    logits = np.zeros((3, 4))
    with pytest.raises(TypeError, match="softmax_cross_entropy: targets must be int"):
        softmax_cross_entropy(logits, np.array([0.0, 1.0, 2.0]))
    msg = re.escape(
        "softmax_cross_entropy: targets must have shape (N,) = (3,) to match logits "
        "of shape (3, 4), got (2,)"
    )
    with pytest.raises(ValueError, match=msg):
        softmax_cross_entropy(logits, [0, 1])
    with pytest.raises(ValueError, match=r"in \[0, 3\] .* got values from 0 to 4"):
        softmax_cross_entropy(logits, [0, 1, 4])
    with pytest.raises(ValueError, match=r"logits must be 2-D \(N, C\)"):
        softmax_cross_entropy(np.zeros(4), [0])


@pytest.mark.parametrize("eps", [1e-4, 1e-6])
def test_softmax_cross_entropy_gradient_matches_finite_differences(eps):
    rng = np.random.default_rng(0)
    logits, targets = rng.standard_normal((4, 5)), rng.integers(0, 5, 4)
    dlogits = softmax_cross_entropy(logits, targets)[1]
    errors = check_gradient(
        lambda z: softmax_cross_entropy(z, targets)[0],
        (logits,),
        lambda dloss: (dloss * dlogits,),
        eps=eps,
    )
    assert errors[0] < 1e-7


def test_linear_errors_name_the_shapes():
    msg = re.escape(
        "linear_forward: input has 5 features (last axis of shape (2, 5)) but weight "
        "expects 4 (weight shape (3, 4), laid out (out_features, in_features))"
    )
    with pytest.raises(ValueError, match=msg):
        linear_forward(np.zeros((2, 5)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"bias must have shape \(out_features,\)"):
        linear_forward(np.zeros((2, 4)), np.zeros((3, 4)), np.zeros(4))
    _, cache = linear_forward(np.zeros((2, 4)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"linear_backward: dy must have the shape"):
        linear_backward(np.zeros((3, 2)), cache)
    with pytest.raises(TypeError, match="relu_backward: cache must be the ReLUCache"):
        relu_backward(np.zeros((2, 3)), cache)


# ---- the gradient checker -------------------------------------------------------


def test_numerical_gradient_of_known_functions():
    x, w = np.array([1.0, -2.0, 3.0]), np.array([0.5, 4.0, -1.0])
    dy = np.array([1.0, 2.0, -1.0])
    dx, dw = numerical_gradient(lambda x, w: x**2 * w, (x, w), dy)
    np.testing.assert_allclose(dx, dy * 2 * x * w, rtol=1e-8)
    np.testing.assert_allclose(dw, dy * x**2, rtol=1e-8)
    (g,) = numerical_gradient(lambda x: np.sum(x**3), (x,), 1.0)  # scalar output
    np.testing.assert_allclose(g, 3 * x**2, rtol=1e-8)


def test_numerical_gradient_leaves_the_inputs_alone_and_passes_none_through():
    x = np.array([[1.0, 2.0]])
    grads = numerical_gradient(lambda x, b: x if b is None else x + b, (x, None), x)
    np.testing.assert_array_equal(x, [[1.0, 2.0]])
    assert grads[1] is None
    np.testing.assert_allclose(grads[0], x, rtol=1e-8)


def test_check_gradient_passes_a_right_backward_and_catches_wrong_ones():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3)), rng.standard_normal((4, 3))

    def f(x, w):
        return x @ w.T

    assert max(check_gradient(f, (x, w), lambda dy: (dy @ w, dy.T @ x))) < 1e-8
    errors = check_gradient(f, (x, w), lambda dy: (dy @ w, 2 * dy.T @ x))
    assert errors[0] < 1e-8 and errors[1] == pytest.approx(0.5)
    errors = check_gradient(f, (x, w), lambda dy: (None, -(dy.T @ x)))
    assert errors[0] is None and errors[1] == pytest.approx(2.0)


def test_check_gradient_explains_misuse():
    x = np.ones((2, 3))
    with pytest.raises(TypeError, match=r"inputs must be a tuple .* write \(x,\)"):
        check_gradient(np.sin, x, lambda dy: (dy,))
    with pytest.raises(ValueError, match=r"one gradient per input \(1\), got 2"):
        check_gradient(np.sin, (x,), lambda dy: (dy, dy))
    msg = re.escape("backward's gradient 0 has shape (3, 2) but input 0 has shape")
    with pytest.raises(ValueError, match=msg):
        check_gradient(np.sin, (x,), lambda dy: (dy.T,))
    with pytest.raises(ValueError, match=r"numerical_gradient: dy must have f's"):
        numerical_gradient(np.sin, (x,), np.ones(3))
    with pytest.raises(ValueError, match="eps must be positive"):
        numerical_gradient(np.sin, (x,), x, eps=0)


def test_relative_error():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error([1.0, -4.0], [1.0, 4.0]) == pytest.approx(2.0)
    assert relative_error([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 2.2)
    with pytest.raises(ValueError, match=r"relative_error: a and b must have"):
        relative_error(np.zeros(3), np.zeros(4))
