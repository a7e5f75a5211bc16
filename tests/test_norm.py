"""cnnlib.norm (numpy batch norm) against torch in float64, finite differences and
the lecture's formulas."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlib.norm import (
    BatchNorm,
    BatchNormCache,
    batch_norm_backward,
    batch_norm_backward_compact,
    batch_norm_eval,
    batch_norm_eval_backward,
    batch_norm_forward,
    update_running_stats,
)

SHAPES = [(6, 4), (4, 3, 7), (3, 2, 4, 5)]  # (N, C), (N, C, L), (N, C, H, W)
TOL = 1e-10


def rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape
    return np.abs(a - b).max() / max(np.abs(a).max(), np.abs(b).max(), 1e-300)


def tt(a, grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def data(shape, seed):
    """x with per-channel offsets and scales, gamma, beta, dy."""
    rng = np.random.default_rng(seed)
    c = shape[1]
    scale = np.exp(rng.normal(size=c)).reshape((1, c) + (1,) * (len(shape) - 2))
    x = rng.normal(size=shape) * scale + 3 * scale
    return x, rng.normal(size=c), rng.normal(size=c), rng.normal(size=shape)


def numerical_gradient(f, inputs, dy, h=1e-6):
    """Centred differences of L = sum(dy * f(*inputs)) w.r.t. each input."""
    grads = []
    for k, a in enumerate(inputs):
        g = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            args = [v.copy() for v in inputs]
            args[k][i] = a[i] + h
            up = np.sum(dy * f(*args))
            args[k][i] = a[i] - h
            g[i] = (up - np.sum(dy * f(*args))) / (2 * h)
        grads.append(g)
    return grads


def torch_train(x, gamma, beta, dy, eps=1e-5):
    """F.batch_norm in training mode -> y, dx, dgamma, dbeta (numpy)."""
    xt = tt(x, True)
    gt = None if gamma is None else tt(gamma, True)
    bt = None if beta is None else tt(beta, True)
    y = F.batch_norm(xt, None, None, gt, bt, training=True, eps=eps)
    y.backward(tt(dy))
    grads = [None if t is None else t.grad.numpy() for t in (gt, bt)]
    return y.detach().numpy(), xt.grad.numpy(), *grads


@pytest.mark.parametrize("shape", SHAPES)
def test_forward_and_backward_match_torch(shape):
    x, gamma, beta, dy = data(shape, seed=len(shape))
    y, cache = batch_norm_forward(x, gamma, beta)
    dx, dgamma, dbeta = batch_norm_backward(dy, cache)
    y_t, dx_t, dgamma_t, dbeta_t = torch_train(x, gamma, beta, dy)
    assert y.shape == x.shape and y.dtype == np.float64
    assert rel(y, y_t) < TOL
    assert rel(dx, dx_t) < TOL
    assert rel(dgamma, dgamma_t) < TOL
    assert rel(dbeta, dbeta_t) < TOL


@pytest.mark.parametrize("shape", SHAPES)
def test_forward_follows_the_lecture_formulas(shape):
    """Loop over channels: H = the m values of channel j, mu_j, sigma_j."""
    x, gamma, beta, _ = data(shape, seed=10)
    delta = 1e-3  # the lecture's delta is eps
    y, cache = batch_norm_forward(x, gamma, beta, eps=delta)
    for j in range(shape[1]):
        h = x[:, j].ravel()
        mu = h.sum() / h.size
        sigma = np.sqrt(delta + ((h - mu) ** 2).sum() / h.size)
        assert abs(cache.mu[j] - mu) < 1e-12 * max(1, abs(mu))
        assert abs(cache.sigma[j] - sigma) < 1e-12 * sigma
        assert rel(y[:, j], gamma[j] * (x[:, j] - mu) / sigma + beta[j]) < TOL
    axes = (0, *range(2, len(shape)))
    assert np.abs(cache.x_hat.mean(axis=axes)).max() < 1e-12
    # var(x_hat) = var / (var + delta): just below 1
    assert rel(cache.x_hat.var(axis=axes), cache.var / (cache.var + delta)) < TOL


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("affine", [(True, True), (True, False), (False, False)])
def test_explicit_backward_equals_compact(shape, affine):
    x, gamma, beta, dy = data(shape, seed=20)
    gamma = gamma if affine[0] else None
    beta = beta if affine[1] else None
    _, cache = batch_norm_forward(x, gamma, beta)
    walk = batch_norm_backward(dy, cache)
    compact = batch_norm_backward_compact(dy, cache)
    assert rel(walk[0], compact[0]) < 1e-12
    for a, b, given in zip(walk[1:], compact[1:], affine, strict=True):
        assert (a is None) == (b is None) == (not given)
        if given:
            assert rel(a, b) == 0
    # without gamma / beta this is torch's affine=False
    y_t, dx_t, _, _ = torch_train(x, gamma, beta, dy)
    assert rel(walk[0], dx_t) < TOL
    assert rel(batch_norm_forward(x, gamma, beta)[0], y_t) < TOL


@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 4), (2, 2, 3, 2)])
def test_backward_matches_finite_differences(shape):
    x, gamma, beta, dy = data(shape, seed=30)

    def f(x, gamma, beta):
        return batch_norm_forward(x, gamma, beta)[0]

    numeric = numerical_gradient(f, [x, gamma, beta], dy)
    _, cache = batch_norm_forward(x, gamma, beta)
    for backward in (batch_norm_backward, batch_norm_backward_compact):
        for ours, num in zip(backward(dy, cache), numeric, strict=True):
            assert rel(ours, num) < 1e-7


@pytest.mark.parametrize("shape", [(4, 3), (3, 2, 3), (2, 2, 2, 3)])
def test_check_gradient_agrees(shape):
    """The same check through cnnlib.grad's check_gradient (random projection)."""
    from cnnlib.grad import check_gradient

    x, gamma, beta, _ = data(shape, seed=35)

    def f(x, gamma, beta):
        return batch_norm_forward(x, gamma, beta)[0]

    cache = batch_norm_forward(x, gamma, beta)[1]
    for backward in (batch_norm_backward, batch_norm_backward_compact):
        errors = check_gradient(
            f, (x, gamma, beta), lambda dy, bw=backward: bw(dy, cache)
        )
        assert max(errors) < 1e-7


def test_dx_is_orthogonal_to_shift_and_scale():
    """y does not change when x shifts per channel, and barely when it scales."""
    x, gamma, beta, dy = data((4, 3, 5), seed=40)
    _, cache = batch_norm_forward(x, gamma, beta)
    dx = batch_norm_backward(dy, cache)[0]
    assert np.abs(dx.sum(axis=(0, 2))).max() < 1e-10 * np.abs(dx).max() * dx.size
    # d/dt L(x + t (x - mu)) = 0 up to the eps term
    x_mu = x - cache.mu[None, :, None]
    assert np.abs((dx * x_mu).sum(axis=(0, 2))).max() < 1e-4 * np.abs(dx * x_mu).sum()


def test_update_running_stats_by_hand():
    old_mean, old_var = np.zeros(2), np.ones(2)
    mu, var, n = np.array([2.0, -1.0]), np.array([3.0, 0.5]), 4
    mean, new_var = update_running_stats(old_mean, old_var, mu, var, n, momentum=0.1)
    assert np.allclose(mean, [0.2, -0.1], rtol=0, atol=1e-15)
    # unbiased: 3 * 4/3 = 4 and 0.5 * 4/3 = 2/3
    assert np.allclose(new_var, [0.9 + 0.4, 0.9 + 0.1 * 2 / 3], rtol=0, atol=1e-15)
    assert np.array_equal(old_mean, np.zeros(2))  # not in place
    first = update_running_stats(old_mean, old_var, mu, var, n, None, count=1)
    assert np.allclose(first[0], mu) and np.allclose(first[1], var * 4 / 3)
    second = update_running_stats(*first, mu + 2, var, n, None, count=2)
    assert np.allclose(second[0], mu + 1) and np.allclose(second[1], var * 4 / 3)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("momentum", [0.1, 0.7, None])
def test_layer_matches_torch_over_training_steps(shape, momentum):
    """Outputs, dx, dgamma, dbeta, buffers after 5 SGD steps, then eval mode."""
    c = shape[1]
    ours = BatchNorm(c, eps=1e-4, momentum=momentum)
    cls = torch.nn.BatchNorm2d if len(shape) == 4 else torch.nn.BatchNorm1d
    theirs = cls(c, eps=1e-4, momentum=momentum).double()
    for step in range(5):
        x, _, _, dy = data(shape, seed=100 + step)
        xt = tt(x, True)
        y_t = theirs(xt)
        y_t.backward(tt(dy))
        y = ours.forward(x)
        dx = ours.backward(dy)
        assert rel(y, y_t.detach().numpy()) < TOL
        assert rel(dx, xt.grad.numpy()) < TOL
        assert rel(ours.dgamma, theirs.weight.grad.numpy()) < TOL
        assert rel(ours.dbeta, theirs.bias.grad.numpy()) < TOL
        assert rel(ours.running_mean, theirs.running_mean.numpy()) < TOL
        assert rel(ours.running_var, theirs.running_var.numpy()) < TOL
        assert ours.num_batches_tracked == int(theirs.num_batches_tracked) == step + 1
        ours.gamma -= 0.1 * ours.dgamma
        ours.beta -= 0.1 * ours.dbeta
        with torch.no_grad():
            for p in theirs.parameters():
                p -= 0.1 * p.grad
                p.grad = None
    assert rel(ours.gamma, theirs.weight.detach().numpy()) < TOL
    ours.eval(), theirs.eval()
    x = data((1,) + shape[1:], seed=7)[0]  # a single example works in eval mode
    assert rel(ours(x), theirs(tt(x)).detach().numpy()) < TOL
    running = (ours.running_mean.copy(), ours.running_var.copy())
    ours(x)
    assert np.array_equal(running[0], ours.running_mean)  # eval leaves them alone
    assert np.array_equal(running[1], ours.running_var)


@pytest.mark.parametrize("shape", SHAPES)
def test_eval_and_its_backward_match_torch(shape):
    x, gamma, beta, dy = data(shape, seed=50)
    rng = np.random.default_rng(51)
    r_mean, r_var = rng.normal(size=shape[1]), rng.uniform(0.5, 2, size=shape[1])
    y = batch_norm_eval(x, r_mean, r_var, gamma, beta, eps=1e-3)
    xt, gt, bt = tt(x, True), tt(gamma, True), tt(beta, True)
    y_t = F.batch_norm(xt, tt(r_mean), tt(r_var), gt, bt, training=False, eps=1e-3)
    y_t.backward(tt(dy))
    args = (x, r_mean, r_var, gamma, beta, 1e-3)
    dx, dgamma, dbeta = batch_norm_eval_backward(dy, *args)
    assert rel(y, y_t.detach().numpy()) < TOL
    assert rel(dx, xt.grad.numpy()) < TOL
    assert rel(dgamma, gt.grad.numpy()) < TOL
    assert rel(dbeta, bt.grad.numpy()) < TOL
    keep = tuple(slice(3) if i != 1 else slice(None) for i in range(len(shape)))
    xs, dys = x[keep], dy[keep]  # fewer values per channel: quicker differences

    def f(x, gamma, beta):
        return batch_norm_eval(x, r_mean, r_var, gamma, beta, eps=1e-3)

    numeric = numerical_gradient(f, [xs, gamma, beta], dys)
    ours = batch_norm_eval_backward(dys, xs, r_mean, r_var, gamma, beta, 1e-3)
    for a, b in zip(ours, numeric, strict=True):
        assert rel(a, b) < 1e-7
    no_affine = batch_norm_eval_backward(dy, x, r_mean, r_var, None, None, 1e-3)
    assert no_affine[1] is None and no_affine[2] is None
    assert rel(no_affine[0] * gamma.reshape((1, -1) + (1,) * (x.ndim - 2)), dx) < TOL


def test_cache_holds_the_batch_statistics():
    x, gamma, beta, _ = data((5, 2, 3), seed=60)
    _, cache = batch_norm_forward(x, gamma, beta, eps=1e-5)
    assert isinstance(cache, BatchNormCache)
    assert rel(cache.mu, x.mean(axis=(0, 2))) < 1e-14
    assert rel(cache.var, x.var(axis=(0, 2))) < 1e-12  # biased
    assert rel(cache.sigma, np.sqrt(cache.var + 1e-5)) < 1e-15


def test_layer_backward_needs_a_training_forward():
    layer = BatchNorm(3)
    dy = np.ones((4, 3))
    with pytest.raises(RuntimeError, match="no training-mode forward"):
        layer.backward(dy)
    layer.forward(np.arange(12.0).reshape(4, 3))
    layer.eval()
    layer.forward(np.arange(12.0).reshape(4, 3))
    with pytest.raises(RuntimeError, match="eval mode the layer is the affine map"):
        layer.backward(dy)
    layer.train()
    layer.forward(np.arange(12.0).reshape(4, 3))
    assert layer.backward(dy).shape == (4, 3)
    assert "BatchNorm(3" in repr(layer)


X = np.arange(24.0).reshape(2, 3, 4)
G, B = np.ones(3), np.zeros(3)
_, CACHE = batch_norm_forward(X, G, B)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: batch_norm_forward(X, np.ones(4), B), ValueError,
         r"batch_norm_forward: gamma must have shape \(C,\) = \(3,\) for input "
         r"shape \(2, 3, 4\), got shape \(4,\)"),
        (lambda: batch_norm_forward(X, G, np.ones((3, 1))), ValueError,
         r"beta must have shape \(C,\) = \(3,\)"),
        (lambda: batch_norm_forward(np.ones((1, 3)), G, B), ValueError,
         r"expected more than 1 value per channel when training, got input shape "
         r"\(1, 3\)"),
        (lambda: batch_norm_forward(np.ones((1, 3, 1, 1)), G, B), ValueError,
         "more than 1 value per channel"),
        (lambda: batch_norm_forward(X, G, B, eps=0), ValueError,
         r"eps \(the lecture's delta\) must be positive"),
        (lambda: batch_norm_forward(X, G, B, eps=-1e-5), ValueError, "positive"),
        (lambda: batch_norm_forward(X, G, B, eps="1e-5"), TypeError, "eps must be"),
        (lambda: batch_norm_forward(np.ones(5), np.ones(5), np.ones(5)), ValueError,
         r"input must be \(N, C\), \(N, C, L\) or \(N, C, H, W\), got 1-D"),
        (lambda: batch_norm_forward(np.ones((2, 3, 0)), G, B), ValueError, "empty"),
        (lambda: batch_norm_forward(X.astype(complex), G, B), TypeError, "real"),
        (lambda: batch_norm_backward(np.ones((2, 3)), CACHE), ValueError,
         r"batch_norm_backward: dy must have the output's shape \(2, 3, 4\), got "
         r"\(2, 3\)"),
        (lambda: batch_norm_backward_compact(np.ones((2, 3, 5)), CACHE), ValueError,
         "batch_norm_backward_compact: dy must have"),
        (lambda: batch_norm_backward(X, (X, G)), TypeError,
         "cache must be the second value returned by batch_norm_forward"),
        (lambda: batch_norm_eval(X, np.zeros(2), G, G, B), ValueError,
         r"batch_norm_eval: running_mean must have shape \(C,\) = \(3,\)"),
        (lambda: batch_norm_eval(X, B, -G, G, B), ValueError,
         "running_var must be >= 0"),
        (lambda: batch_norm_eval_backward(X[:1], X, B, G, G, B), ValueError,
         r"batch_norm_eval_backward: dy must have x's shape \(2, 3, 4\)"),
        (lambda: update_running_stats(B, G, B, G, 4, momentum=1.5), ValueError,
         r"momentum must lie in \[0, 1\], got 1.5"),
        (lambda: update_running_stats(B, G, B, G, 4, momentum=-0.1), ValueError,
         r"momentum must lie in \[0, 1\]"),
        (lambda: update_running_stats(B, G, B, G, 4, momentum="0.1"), TypeError,
         "momentum must be a float"),
        (lambda: update_running_stats(B, G, B, G, 4, momentum=None), ValueError,
         "momentum=None .* needs count"),
        (lambda: update_running_stats(B, G, B, G, 1), ValueError,
         r"n \(values per channel in the batch\) must be an int >= 2"),
        (lambda: update_running_stats(B, np.ones(2), B, G, 4), ValueError,
         r"update_running_stats: running_var must have shape \(C,\) = \(3,\) like "
         r"mu, got shape \(2,\)"),
        (lambda: BatchNorm(0), ValueError, "num_features must be an int >= 1"),
        (lambda: BatchNorm(3, momentum=2), ValueError, "BatchNorm: momentum"),
        (lambda: BatchNorm(3).forward(np.ones((2, 4))), ValueError,
         r"input has 4 channels but the layer has num_features=3"),
    ],
)  # fmt: skip
def test_errors_name_function_argument_and_shapes(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_an_empty_batch_gives_an_empty_output_and_changes_nothing_as_in_torch():
    y, cache = batch_norm_forward(np.ones((0, 3, 4)), G, B)
    assert y.shape == (0, 3, 4) and np.isnan(cache.mu).all()
    dx, dgamma, dbeta = batch_norm_backward(np.ones((0, 3, 4)), cache)
    assert dx.shape == (0, 3, 4)
    np.testing.assert_array_equal(dgamma, 0)
    np.testing.assert_array_equal(dbeta, 0)
    layer = BatchNorm(3)
    layer.forward(np.ones((0, 3)))
    assert layer.num_batches_tracked == 1  # counted, as torch counts it
    np.testing.assert_array_equal(layer.running_mean, 0)
    np.testing.assert_array_equal(layer.running_var, 1)


def test_the_cache_does_not_follow_later_changes_to_the_callers_arrays():
    rng = np.random.default_rng(3)
    x, gamma = rng.standard_normal((4, 3, 5)), rng.standard_normal(3)
    y, cache = batch_norm_forward(x, gamma, None)
    dx = batch_norm_backward(np.ones_like(y), cache)[0]
    x += 1.0
    gamma *= 2.0
    y[...] = 0.0
    np.testing.assert_array_equal(batch_norm_backward(np.ones_like(y), cache)[0], dx)


def test_the_output_shares_no_memory_with_the_cache():
    # without gamma and beta, y used to be the cached x_hat itself
    y, cache = batch_norm_forward(X, None, None)
    assert not any(np.shares_memory(y, a) for a in (cache.x, cache.x_hat, X))


def test_float32_stays_float32():
    x = np.random.default_rng(0).standard_normal((4, 3, 5)).astype(np.float32)
    y, cache = batch_norm_forward(x, G.astype(np.float32), B.astype(np.float32))
    assert y.dtype == np.float32
    assert all(g.dtype == np.float32 for g in batch_norm_backward(y, cache))
