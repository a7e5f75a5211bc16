"""Batch normalization from scratch (numpy, float64), with torch.nn.BatchNorm's rules.

The statistics are per channel (axis 1), taken over every other axis: over N for
features x (N, C), over (N, L) for x (N, C, L) and over (N, H, W) for x (N, C, H, W).
With m values per channel (m = N, N·L or N·H·W), in the lecture's notation:

    mu      = (1/m) sum_i x_i
    var     = (1/m) sum_i (x_i - mu)^2          (biased: divides by m)
    sigma   = sqrt(delta + var)
    x_hat   = (x - mu) / sigma
    y       = gamma * x_hat + beta

The lecture's small constant delta is torch's ``eps`` (default 1e-5; the lecture
quotes 1e-8): ``delta == eps``. Training uses the batch's mu and sigma and back-
propagates through them (batch_norm_backward); evaluation uses running averages
collected during training (update_running_stats, batch_norm_eval), so a single example
can be evaluated on its own.

As in torch, an empty batch (N = 0) gives an empty output: its statistics are NaN
(there is nothing to average), the layers leave their running averages unchanged,
and the gradients of gamma and beta are 0. Results are float32 for float32 input,
as everywhere in cnnlib; the cache holds copies, so changing x or gamma after the
forward pass does not change the backward pass.
"""

import numbers
from typing import NamedTuple

import numpy as np

from ._checks import as_array, as_float, check_nonempty, float_dtype, is_int


class BatchNormCache(NamedTuple):
    """What the backward pass needs from a training-mode forward pass."""

    x: np.ndarray  # (N, C, *S) input
    mu: np.ndarray  # (C,) batch mean
    var: np.ndarray  # (C,) biased batch variance
    sigma: np.ndarray  # (C,) sqrt(var + eps)
    x_hat: np.ndarray  # (N, C, *S) normalised input
    gamma: np.ndarray | None  # (C,) scale, None when there is none (affine=False)
    has_beta: bool  # False when beta was None: no dbeta to return
    eps: float


# --------------------------------------------------------------------------- checks


def _check_input(x, fn):
    x = as_float(x, fn)
    if x.ndim < 2:
        raise ValueError(
            f"{fn}: input must be (N, C), (N, C, L) or (N, C, H, W), got {x.ndim}-D "
            f"shape {x.shape}"
        )
    check_nonempty(x, fn, batch=True)
    return x


def _check_channels(v, x_shape, fn, name, optional=False, like=None):
    """A per-channel vector of shape (C,) matching input (N, C, ...) (or `like`)."""
    if v is None and optional:
        return None
    v = as_float(v, fn, name)
    if v.shape != (x_shape[1],):
        where = f"like {like}" if like else f"for input shape {x_shape}"
        raise ValueError(
            f"{fn}: {name} must have shape (C,) = ({x_shape[1]},) {where}, got "
            f"shape {v.shape}"
        )
    return v


def _check_eps(eps, fn):
    if not isinstance(eps, numbers.Real) or isinstance(eps, bool):
        raise TypeError(f"{fn}: eps must be a positive float, got {eps!r}")
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError(
            f"{fn}: eps (the lecture's delta) must be positive and finite, got {eps!r}"
        )
    return float(eps)


def _check_momentum(momentum, fn):
    if momentum is None:
        return None
    if not isinstance(momentum, numbers.Real) or isinstance(momentum, bool):
        raise TypeError(
            f"{fn}: momentum must be a float in [0, 1] or None, got {momentum!r}"
        )
    if not 0 <= momentum <= 1:
        raise ValueError(f"{fn}: momentum must lie in [0, 1], got {momentum!r}")
    return float(momentum)


def _bc(v, ndim):
    """(C,) -> (1, C, 1, ..., 1): broadcasts against (N, C, *S)."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def _axes(ndim):
    """Every axis but the channel axis 1: (0,), (0, 2) or (0, 2, 3)."""
    return (0, *range(2, ndim))


# -------------------------------------------------------------------------- training


def batch_norm_forward(x, gamma, beta, eps=1e-5):
    """x (N, C, *S), gamma (C,), beta (C,) -> y (N, C, *S), cache (training mode).

    Normalises with the batch's own statistics, as torch.nn.BatchNorm*d in train().
    gamma=None means 1 and beta=None means 0 (torch's affine=False).
    """
    fn = "batch_norm_forward"
    x = _check_input(x, fn)
    gamma = _check_channels(gamma, x.shape, fn, "gamma", optional=True)
    beta = _check_channels(beta, x.shape, fn, "beta", optional=True)
    eps = _check_eps(eps, fn)
    m = x.size // x.shape[1]
    if m == 1:
        raise ValueError(
            f"{fn}: expected more than 1 value per channel when training, got input "
            f"shape {x.shape} (m = {m} value per channel, so var = 0 and x_hat = 0); "
            "use a batch of at least 2, or batch_norm_eval / eval() with running stats"
        )
    axes = _axes(x.ndim)
    if m == 0:  # an empty batch, as torch: nothing to average
        mu = var = np.full(x.shape[1], np.nan, dtype=x.dtype)
    else:
        mu = x.mean(axis=axes)  # (C,)
        var = ((x - _bc(mu, x.ndim)) ** 2).mean(axis=axes)  # (C,), biased: / m
    sigma = np.sqrt(var + eps)  # (C,)
    x_hat = (x - _bc(mu, x.ndim)) / _bc(sigma, x.ndim)  # (N, C, *S)
    y = _affine(x_hat, gamma, beta)
    gamma = None if gamma is None else gamma.copy()
    has_beta = beta is not None
    return y, BatchNormCache(x.copy(), mu, var, sigma, x_hat, gamma, has_beta, eps)


def _affine(x_hat, gamma, beta):
    """y = gamma * x_hat + beta, per channel; always a new array (x_hat is cached)."""
    if gamma is None and beta is None:
        return x_hat.copy()
    y = x_hat if gamma is None else _bc(gamma, x_hat.ndim) * x_hat
    return y if beta is None else y + _bc(beta, x_hat.ndim)


def _check_dy(dy, cache, fn):
    if not isinstance(cache, BatchNormCache):
        raise TypeError(
            f"{fn}: cache must be the second value returned by batch_norm_forward, "
            f"got {type(cache).__name__}"
        )
    dy = as_array(dy, fn, "dy")
    if dy.shape != cache.x.shape:
        raise ValueError(
            f"{fn}: dy must have the output's shape {cache.x.shape}, got {dy.shape}"
        )
    return dy.astype(float_dtype(dy, cache.x), copy=False)  # as the forward pass


def _param_grads(dy, x_hat, gamma, has_beta):
    """dgamma = sum(dy * x_hat), dbeta = sum(dy) over every axis but C -> (C,) each."""
    axes = _axes(dy.ndim)
    dgamma = (dy * x_hat).sum(axis=axes) if gamma is not None else None
    dbeta = dy.sum(axis=axes) if has_beta else None
    return dgamma, dbeta


def batch_norm_backward(dy, cache):
    """dy (N, C, *S) -> dx (N, C, *S), dgamma (C,), dbeta (C,), back through mu, sigma.

    One step per node of the forward graph, last node first. Sums run over the m
    values of a channel (axes N and *S); per-channel arrays are broadcast as
    (1, C, 1, ...). dgamma / dbeta are None when gamma / beta were None.
    """
    fn = "batch_norm_backward"
    dy = _check_dy(dy, cache, fn)
    x, nd, axes = cache.x, dy.ndim, _axes(dy.ndim)
    m = x.size // x.shape[1]
    mu, sigma = _bc(cache.mu, nd), _bc(cache.sigma, nd)  # (1, C, 1, ..)
    x_mu = x - mu  # (N, C, *S)
    dgamma, dbeta = _param_grads(dy, cache.x_hat, cache.gamma, cache.has_beta)
    if m == 0:  # an empty batch: empty dx, zero dgamma and dbeta (as torch)
        return np.zeros_like(dy), dgamma, dbeta
    # y = gamma * x_hat + beta    =>  dx_hat = dy * gamma                 (N, C, *S)
    dx_hat = dy if cache.gamma is None else dy * _bc(cache.gamma, nd)
    # x_hat = (x - mu) / sigma    =>  dsigma = -sum(dx_hat * (x - mu)) / sigma^2
    dsigma = -(dx_hat * x_mu).sum(axis=axes, keepdims=True) / sigma**2  # (1, C, 1, ..)
    # sigma = sqrt(var + eps)     =>  dvar = dsigma / (2 sigma)            (1, C, 1, ..)
    dvar = dsigma / (2 * sigma)
    # mu enters x_hat directly and var = mean((x - mu)^2) through (x - mu):
    # dmu = -sum(dx_hat) / sigma + dvar * mean(-2 (x - mu))                (1, C, 1, ..)
    # (its 2nd term is 0 up to rounding, as sum(x - mu) = 0; kept to follow the graph)
    dmu = -dx_hat.sum(axis=axes, keepdims=True) / sigma
    dmu = dmu + dvar * (-2 * x_mu).mean(axis=axes, keepdims=True)
    # x reaches L three ways, through x_hat, var and mu:
    # dx = dx_hat / sigma + dvar * 2 (x - mu) / m + dmu / m                (N, C, *S)
    dx = dx_hat / sigma + dvar * 2 * x_mu / m + dmu / m
    return dx, dgamma, dbeta


def batch_norm_backward_compact(dy, cache):
    """dy (N, C, *S) -> dx, dgamma, dbeta: the walk of batch_norm_backward simplified.

    Substituting dvar and dmu into dx and using mean(x_hat) = 0 leaves

        dx = gamma / sigma * (dy - mean(dy) - x_hat * mean(dy * x_hat))

    with means over the m values of each channel.
    """
    fn = "batch_norm_backward_compact"
    dy = _check_dy(dy, cache, fn)
    nd, axes, x_hat = dy.ndim, _axes(dy.ndim), cache.x_hat
    if dy.shape[0] == 0:  # an empty batch, as in batch_norm_backward
        dgamma, dbeta = _param_grads(dy, x_hat, cache.gamma, cache.has_beta)
        return np.zeros_like(dy), dgamma, dbeta
    scale = 1 / _bc(cache.sigma, nd)  # (1, C, 1, ..)
    if cache.gamma is not None:
        scale = scale * _bc(cache.gamma, nd)
    mean_dy = dy.mean(axis=axes, keepdims=True)  # (1, C, 1, ..)
    mean_dy_xhat = (dy * x_hat).mean(axis=axes, keepdims=True)  # (1, C, 1, ..)
    dx = scale * (dy - mean_dy - x_hat * mean_dy_xhat)
    return (dx, *_param_grads(dy, x_hat, cache.gamma, cache.has_beta))


# ---------------------------------------------------------- running statistics, eval


def update_running_stats(
    running_mean, running_var, mu, var, n, momentum=0.1, count=None
):
    """running_mean, running_var, mu, var (C,) -> new_mean, new_var (C,) (new arrays).

    torch's rule: new = (1 - momentum) * old + momentum * batch, where the batch
    variance is the UNBIASED one, var * n / (n - 1), n = values per channel (the
    forward pass normalises with the biased var). momentum=None is torch's
    cumulative average: momentum = 1 / count, where count is the number of batches
    seen so far including this one (torch's num_batches_tracked after its += 1).
    count is ignored when momentum is a number.
    """
    fn = "update_running_stats"
    mu = as_float(mu, fn, "mu")
    if mu.ndim != 1:
        raise ValueError(f"{fn}: mu must be 1-D (C,), got shape {mu.shape}")
    shape = (None, mu.shape[0])  # only C matters
    running_mean = _check_channels(running_mean, shape, fn, "running_mean", like="mu")
    running_var = _check_channels(running_var, shape, fn, "running_var", like="mu")
    var = _check_channels(var, shape, fn, "var", like="mu")
    if not is_int(n) or n < 2:
        raise ValueError(
            f"{fn}: n (values per channel in the batch) must be an int >= 2 for the "
            f"unbiased variance var * n / (n - 1), got {n!r}"
        )
    momentum = _check_momentum(momentum, fn)
    if momentum is None:
        if not is_int(count) or count < 1:
            raise ValueError(
                f"{fn}: momentum=None (cumulative average) needs count, the number "
                f"of batches seen including this one (an int >= 1), got {count!r}"
            )
        momentum = 1.0 / count
    var_unbiased = var * n / (n - 1)
    new_mean = (1 - momentum) * running_mean + momentum * mu
    new_var = (1 - momentum) * running_var + momentum * var_unbiased
    return new_mean, new_var


def _check_eval_args(fn, x, running_mean, running_var, gamma, beta, eps):
    x = _check_input(x, fn)
    running_mean = _check_channels(running_mean, x.shape, fn, "running_mean")
    running_var = _check_channels(running_var, x.shape, fn, "running_var")
    if (running_var < 0).any():
        raise ValueError(f"{fn}: running_var must be >= 0, got min {running_var.min()}")
    gamma = _check_channels(gamma, x.shape, fn, "gamma", optional=True)
    beta = _check_channels(beta, x.shape, fn, "beta", optional=True)
    return x, running_mean, running_var, gamma, beta, _check_eps(eps, fn)


def batch_norm_eval(x, running_mean, running_var, gamma, beta, eps=1e-5):
    """x (N, C, *S), running_mean, running_var, gamma, beta (C,) -> y (N, C, *S).

    Evaluation mode: the running averages replace mu and var, so y is an affine
    function of x, per channel, and any batch size (even 1) works.
    """
    x, mu, var, gamma, beta, eps = _check_eval_args(
        "batch_norm_eval", x, running_mean, running_var, gamma, beta, eps
    )
    x_hat = (x - _bc(mu, x.ndim)) / _bc(np.sqrt(var + eps), x.ndim)  # (N, C, *S)
    return _affine(x_hat, gamma, beta)


def batch_norm_eval_backward(dy, x, running_mean, running_var, gamma, beta, eps=1e-5):
    """dy (N, C, *S) and batch_norm_eval's arguments -> dx, dgamma, dbeta.

    mu and sigma are constants here, so dx = dy * gamma / sigma. beta's value does
    not enter; dgamma / dbeta are None when gamma / beta are None.
    """
    fn = "batch_norm_eval_backward"
    x, mu, var, gamma, beta, eps = _check_eval_args(
        fn, x, running_mean, running_var, gamma, beta, eps
    )
    dy = as_float(dy, fn, "dy")
    if dy.shape != x.shape:
        raise ValueError(f"{fn}: dy must have x's shape {x.shape}, got {dy.shape}")
    sigma = _bc(np.sqrt(var + eps), x.ndim)  # (1, C, 1, ..)
    x_hat = (x - _bc(mu, x.ndim)) / sigma
    dx = (dy if gamma is None else dy * _bc(gamma, x.ndim)) / sigma
    return (dx, *_param_grads(dy, x_hat, gamma, beta is not None))


# --------------------------------------------------------------------------- a layer


class BatchNorm:
    """numpy batch-norm layer, x (N, C), (N, C, L) or (N, C, H, W) -> same shape.

    Mirrors torch.nn.BatchNorm1d/2d: gamma (ones) and beta (zeros) are learnt,
    running_mean (zeros), running_var (ones) and num_batches_tracked are updated by
    every training-mode forward pass. After backward(dy) the parameter gradients are
    in self.dgamma and self.dbeta. momentum=None is a cumulative average.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        fn = "BatchNorm"
        if not is_int(num_features) or num_features < 1:
            raise ValueError(
                f"{fn}: num_features must be an int >= 1, got {num_features!r}"
            )
        self.num_features = int(num_features)
        self.eps = _check_eps(eps, fn)
        self.momentum = _check_momentum(momentum, fn)
        self.gamma = np.ones(num_features)
        self.beta = np.zeros(num_features)
        self.running_mean = np.zeros(num_features)
        self.running_var = np.ones(num_features)
        self.num_batches_tracked = 0
        self.training = True
        self.dgamma = self.dbeta = self.cache = None

    def train(self, mode=True):
        self.training = bool(mode)
        return self

    def eval(self):
        return self.train(False)

    def forward(self, x):
        x = _check_input(x, "BatchNorm.forward")
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm.forward: input has {x.shape[1]} channels but the layer "
                f"has num_features={self.num_features} (input shape {x.shape})"
            )
        if not self.training:
            self.cache = None
            return batch_norm_eval(
                x, self.running_mean, self.running_var, self.gamma, self.beta, self.eps
            )
        y, self.cache = batch_norm_forward(x, self.gamma, self.beta, self.eps)
        self.num_batches_tracked += 1
        if x.shape[0] == 0:  # torch counts an empty batch but learns nothing from it
            return y
        self.running_mean, self.running_var = update_running_stats(
            self.running_mean,
            self.running_var,
            self.cache.mu,
            self.cache.var,
            x.size // x.shape[1],
            self.momentum,
            count=self.num_batches_tracked,
        )
        return y

    __call__ = forward

    def backward(self, dy):
        """dy (N, C, *S) -> dx; sets self.dgamma, self.dbeta (C,)."""
        if self.cache is None:
            raise RuntimeError(
                "BatchNorm.backward: no training-mode forward pass to go back "
                "through; call train() and forward(x) first (in eval mode the layer "
                "is the affine map dy * gamma / sqrt(running_var + eps): see "
                "batch_norm_eval_backward)"
            )
        dx, self.dgamma, self.dbeta = batch_norm_backward(dy, self.cache)
        return dx

    def __repr__(self):
        return (
            f"BatchNorm({self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"training={self.training})"
        )
