"""Checkers for the chapter "Batch normalization".

Every case uses feature maps x (N, C, H, W) with N, C, H and W all different, so that
statistics over the wrong axes give arrays of a different shape or different values;
the reference answers come from :mod:`cnnlib.norm`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..norm import batch_norm_backward, batch_norm_forward, update_running_stats
from ._core import ExerciseError, call, checker

AXES = (0, 2, 3)  # batch norm's statistics: per channel, over N, H and W


def _channel(v):
    """(C,) -> (1, C, 1, 1), to broadcast over feature maps."""
    return np.asarray(v, float).reshape(1, -1, 1, 1)


def _x_hat(x, axes=AXES, ddof=0, eps=1e-5, eps_inside=True):
    """x normalised with statistics over ``axes`` (the usual mistakes as options)."""
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, ddof=ddof, keepdims=True)
    sigma = np.sqrt(var + eps) if eps_inside else np.sqrt(var) + eps
    return (x - mu) / sigma


def _same(a, b) -> bool:
    a = np.asarray(a, float)
    return a.shape == np.shape(b) and np.allclose(a, b, rtol=1e-6, atol=1e-9)


def _first_match(got, mistakes: dict, *args):
    """The message of the first mistake whose formula reproduces ``got``, or None."""
    for message, formula in mistakes.items():
        with np.errstate(all="ignore"):
            if _same(got, formula(*args)):
                return message
    return None


def _worst(got, want) -> str:
    got, want = np.asarray(got, float), np.asarray(want, float)
    i = np.unravel_index(np.argmax(np.abs(got - want)), want.shape)
    where = tuple(int(j) for j in i)
    return f"at index {where} you have {got[i]:.6g}, expected {want[i]:.6g}"


def _cases(seed=0):
    """(x, gamma, beta, eps): channels with different means and spreads, N != C."""
    rng = np.random.default_rng(seed)
    cases = []
    for shape, eps in (((4, 3, 5, 6), 1e-5), ((2, 5, 3, 4), 0.1), ((6, 2, 1, 3), 1e-3)):
        _, c, _, _ = shape
        x = rng.normal(size=shape) * _channel(rng.uniform(0.3, 3, c))
        x += _channel(rng.uniform(-2, 2, c))
        gamma = rng.uniform(0.5, 2, c) * rng.choice([-1, 1], c)
        beta = rng.uniform(-1, 1, c)
        cases.append((x, gamma, beta, eps))
    return cases


def _shape_name(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


# --------------------------------------------------------------------------------------
# Exercise: the forward pass in training mode


def _affine(x_hat, gamma, beta):
    return _channel(gamma) * x_hat + _channel(beta)


_FORWARD_MISTAKES = {
    "mu and var are computed per image and channel, over H and W only (that is "
    "instance normalisation): batch norm shares them over the batch, one pair per "
    "channel from all N * H * W values": (
        lambda x, g, b, e: _affine(_x_hat(x, (2, 3), eps=e), g, b)
    ),
    "mu and var are computed per image over all its channels (that is layer "
    "normalisation): batch norm computes them per channel, over N, H and W": (
        lambda x, g, b, e: _affine(_x_hat(x, (1, 2, 3), eps=e), g, b)
    ),
    "one mu and one var for everything, all channels mixed: batch norm keeps one "
    "pair per channel (axis 1), over N, H and W": (
        lambda x, g, b, e: _affine(_x_hat(x, (0, 1, 2, 3), eps=e), g, b)
    ),
    "mu and var are computed over N only, one pair per channel AND position: for "
    "feature maps they are shared by all positions too, over N, H and W": (
        lambda x, g, b, e: _affine(_x_hat(x, (0,), eps=e), g, b)
    ),
    "you normalised with the unbiased variance (divided by m - 1): training-mode "
    "batch norm divides by m = N * H * W (np.var's default, ddof=0)": (
        lambda x, g, b, e: _affine(_x_hat(x, ddof=1, eps=e), g, b)
    ),
    "eps is added outside the square root: sigma = sqrt(var + eps), not "
    "sqrt(var) + eps": (
        lambda x, g, b, e: _affine(_x_hat(x, eps=e, eps_inside=False), g, b)
    ),
    "eps is missing: sigma = sqrt(var + eps)": (
        lambda x, g, b, e: _affine(_x_hat(x, eps=0.0), g, b)
    ),
    "gamma and beta are swapped: y = gamma * x_hat + beta (gamma scales, beta "
    "shifts)": lambda x, g, b, e: _affine(_x_hat(x, eps=e), b, g),
    "you returned x_hat: scale it by gamma and shift it by beta": (
        lambda x, g, b, e: _x_hat(x, eps=e)
    ),
    "you divided by var + eps instead of sigma = sqrt(var + eps)": (
        lambda x, g, b, e: _affine(
            (x - x.mean(AXES, keepdims=True)) / (x.var(AXES, keepdims=True) + e), g, b
        )
    ),
    "mu is not subtracted: x_hat = (x - mu) / sigma": (
        lambda x, g, b, e: _affine(x / np.sqrt(x.var(AXES, keepdims=True) + e), g, b)
    ),
}


@checker("batch_norm_forward")
def check_batch_norm_forward(fn: Callable) -> str:
    """Check ``fn(x, gamma, beta, eps) -> y``: batch norm in training mode for
    x (N, C, H, W), gamma and beta (C,), statistics of the batch."""
    for x, gamma, beta, eps in _cases():
        want, _ = batch_norm_forward(x, gamma, beta, eps)
        got = call(fn, x.copy(), gamma.copy(), beta.copy(), eps)
        where = f"x of shape {_shape_name(x.shape)}, eps={eps}"
        if isinstance(got, tuple | list):
            raise ExerciseError(f"{where}: return y alone (one array), not a tuple")
        if np.shape(got) != x.shape:
            raise ExerciseError(
                f"{where}: y must have x's shape {x.shape}, got {np.shape(got)}"
            )
        if _same(got, want):
            continue
        if not np.all(np.isfinite(np.asarray(got, float))):
            raise ExerciseError(f"{where}: y holds nan or inf values")
        message = _first_match(got, _FORWARD_MISTAKES, x, gamma, beta, eps)
        raise ExerciseError(f"{where}: {message or _worst(got, want)}")
    return (
        "every channel of y has mean beta and standard deviation |gamma| (a little "
        "less where the variance is not large against eps)."
    )


# --------------------------------------------------------------------------------------
# Exercise: the backward pass


def _mean(v):
    return v.mean(axis=AXES, keepdims=True)


def _dx_parts(dy, x, gamma, eps):
    """(gamma / sigma, x_hat): the pieces every dx formula shares."""
    sigma = np.sqrt(x.var(axis=AXES, keepdims=True) + eps)
    return _channel(gamma) / sigma, _x_hat(x, eps=eps)


def _dx_constant_stats(dy, x, gamma, eps):
    scale, _ = _dx_parts(dy, x, gamma, eps)
    return scale * dy


def _dx_through_mu_only(dy, x, gamma, eps):
    scale, _ = _dx_parts(dy, x, gamma, eps)
    return scale * (dy - _mean(dy))


def _dx_through_sigma_only(dy, x, gamma, eps):
    scale, x_hat = _dx_parts(dy, x, gamma, eps)
    return scale * (dy - x_hat * _mean(dy * x_hat))


def _dx_without_gamma(dy, x, gamma, eps):
    _, cache = batch_norm_forward(x, gamma, np.zeros_like(gamma), eps)
    return batch_norm_backward(dy, cache)[0] / _channel(gamma)


def _dx_sums(dy, x, gamma, eps):
    scale, x_hat = _dx_parts(dy, x, gamma, eps)
    s = dy.sum(axis=AXES, keepdims=True)
    return scale * (dy - s - x_hat * (dy * x_hat).sum(axis=AXES, keepdims=True))


_DX_MISTAKES = {
    "dx treats mu and sigma as constants (dx = gamma * dy / sigma): both depend on "
    "every x of the batch, so back-propagate through them too": _dx_constant_stats,
    "dx goes through mu but treats sigma as a constant: the term "
    "- x_hat * mean(dy * x_hat) is missing": _dx_through_mu_only,
    "dx goes through sigma but treats mu as a constant: the term - mean(dy) is "
    "missing": _dx_through_sigma_only,
    "dx is missing the factor gamma: y = gamma * x_hat + beta, so every path to x "
    "is scaled by gamma": _dx_without_gamma,
    "dx sums where it should average: the terms are mean(dy) and "
    "x_hat * mean(dy * x_hat), means over the m = N * H * W values": _dx_sums,
}


def _diagnose_dparam(name, got, want, dy, x, x_hat, eps):
    n, c = dy.shape[:2]
    shape = np.shape(got)
    if shape == dy.shape[1:]:
        return f"{name} is summed over N only: sum over N, H and W, one value a channel"
    if shape in ((), (1,)):
        return f"{name} is summed over everything: keep one value per channel (C,)"
    if shape == (n,):
        return f"{name} is summed per sample: sum over N, H and W, keep axis 1 (C)"
    if np.size(got) != c:
        return f"{name} must have shape ({c},), one value a channel, got {shape}"
    got = np.reshape(np.asarray(got, float), c)
    if name == "dgamma" and _same(got, dy.sum(AXES)):
        return "dgamma is sum(dy): that is dbeta; dgamma = sum(dy * x_hat)"
    if name == "dbeta" and _same(got, (dy * x_hat).sum(AXES)):
        return "dbeta is sum(dy * x_hat): that is dgamma; dbeta = sum(dy)"
    if name == "dgamma" and _same(got, (dy * x).sum(AXES)):
        return "dgamma is sum(dy * x): gamma multiplies x_hat, so sum dy * x_hat"
    x_hat_unbiased = (x - _mean(x)) / np.sqrt(x.var(AXES, ddof=1, keepdims=True) + eps)
    if name == "dgamma" and _same(got, (dy * x_hat_unbiased).sum(AXES)):
        return (
            "your x_hat uses the unbiased variance (divided by m - 1): in training "
            "batch norm divides by m = N * H * W, the biased variance"
        )
    if _same(got, want / (dy.size // c)):
        return f"{name} is a mean: sum over N, H and W instead"
    return f"{name}: {_worst(got, want)}"


@checker("batch_norm_backward")
def check_batch_norm_backward(fn: Callable) -> str:
    """Check ``fn(dy, x, gamma, eps) -> (dx, dgamma, dbeta)``: the gradients of
    training-mode batch norm, for x and dy (N, C, H, W), gamma (C,)."""
    rng = np.random.default_rng(1)
    for x, gamma, beta, eps in _cases(seed=1):
        y, cache = batch_norm_forward(x, gamma, beta, eps)
        dy = rng.normal(size=x.shape)
        want = batch_norm_backward(dy, cache)
        got = call(fn, dy.copy(), x.copy(), gamma.copy(), eps)
        where = f"x of shape {_shape_name(x.shape)}, eps={eps}"
        if not isinstance(got, tuple | list) or len(got) != 3:
            raise ExerciseError(f"{where}: return (dx, dgamma, dbeta), got {got!r}")
        dx, dgamma, dbeta = got
        x_hat = _x_hat(x, eps=eps)
        for name, g, w in (("dgamma", dgamma, want[1]), ("dbeta", dbeta, want[2])):
            if np.size(g) != w.size or not _same(np.reshape(g, -1), w):
                message = _diagnose_dparam(name, g, w, dy, x, x_hat, eps)
                raise ExerciseError(f"{where}: {message}")
        if np.shape(dx) != x.shape:
            raise ExerciseError(
                f"{where}: dx must have x's shape {x.shape}, got {np.shape(dx)}"
            )
        if not _same(dx, want[0]):
            message = _first_match(dx, _DX_MISTAKES, dy, x, gamma, eps)
            raise ExerciseError(f"{where}: {message or 'dx ' + _worst(dx, want[0])}")
    return "dx, dgamma and dbeta match cnnlib.norm.batch_norm_backward."


# --------------------------------------------------------------------------------------
# Exercise: running averages for inference


def _running_ref(rm, rv, x, momentum):
    m = x.size // x.shape[1]
    return update_running_stats(rm, rv, x.mean(AXES), x.var(AXES), m, momentum)


def _blend(old, new, momentum):
    return (1 - momentum) * old + momentum * new


_RUNNING_MISTAKES = {
    "momentum is applied the other way round: PyTorch's momentum is the weight of "
    "the NEW batch, new = (1 - momentum) * old + momentum * batch": (
        lambda rm, rv, x, mo: (
            _blend(x.mean(AXES), rm, mo),
            _blend(x.var(AXES, ddof=1), rv, mo),
        )
    ),
    "the running variance uses the biased batch variance: the estimate for "
    "inference is unbiased, var * m / (m - 1) with m = N * H * W": (
        lambda rm, rv, x, mo: (
            _blend(rm, x.mean(AXES), mo),
            _blend(rv, x.var(AXES), mo),
        )
    ),
    "momentum is reversed AND the variance is biased: new = (1 - momentum) * old "
    "+ momentum * batch, with the unbiased batch variance": (
        lambda rm, rv, x, mo: (
            _blend(x.mean(AXES), rm, mo),
            _blend(x.var(AXES), rv, mo),
        )
    ),
    "the running variance averages standard deviations: average the (unbiased) "
    "variances instead": (
        lambda rm, rv, x, mo: (
            _blend(rm, x.mean(AXES), mo),
            _blend(rv, x.std(AXES, ddof=1), mo),
        )
    ),
    "you returned the batch statistics: blend them with the old running values": (
        lambda rm, rv, x, mo: (x.mean(AXES), x.var(AXES, ddof=1))
    ),
    "the unbiased variance divides by N - 1 (the batch size): a channel's variance "
    "averages m = N * H * W values, so it is var * m / (m - 1)": (
        lambda rm, rv, x, mo: (
            _blend(rm, x.mean(AXES), mo),
            _blend(rv, x.var(AXES) * len(x) / (len(x) - 1), mo),
        )
    ),
}


def _running_cases():
    rng = np.random.default_rng(2)
    for shape, momentum in (((4, 3, 2, 5), 0.1), ((2, 5, 3, 1), 0.3)):
        c = shape[1]
        rm, rv = rng.normal(size=c), rng.uniform(0.5, 2, c)
        x = rng.normal(size=shape) * _channel(rng.uniform(0.5, 3, c)) + _channel(
            rng.uniform(-2, 2, c)
        )
        yield rm, rv, x, momentum


@checker("update_running_stats")
def check_update_running_stats(fn: Callable) -> str:
    """Check ``fn(running_mean, running_var, x, momentum) -> (new_mean, new_var)``:
    one update of batch norm's running statistics (C,) from a batch x (N, C, H, W)."""
    for rm, rv, x, momentum in _running_cases():
        want = _running_ref(rm, rv, x, momentum)
        got = call(fn, rm.copy(), rv.copy(), x.copy(), momentum)
        where = f"x of shape {_shape_name(x.shape)}, momentum={momentum}"
        if not isinstance(got, tuple | list) or len(got) != 2:
            raise ExerciseError(
                f"{where}: return the pair (new_mean, new_var), got {got!r}"
            )
        c = x.shape[1]
        for name, g in zip(("new_mean", "new_var"), got, strict=True):
            if np.shape(g) != (c,):
                raise ExerciseError(
                    f"{where}: {name} must have shape ({c},), one value a channel "
                    f"(statistics over N, H and W), got {np.shape(g)}"
                )
        if _same(got[0], want[0]) and _same(got[1], want[1]):
            continue
        for message, formula in _RUNNING_MISTAKES.items():
            wrong = formula(rm, rv, x, momentum)
            if _same(got[0], wrong[0]) and _same(got[1], wrong[1]):
                raise ExerciseError(f"{where}: {message}")
        name = "new_mean" if not _same(got[0], want[0]) else "new_var"
        i = 0 if name == "new_mean" else 1
        raise ExerciseError(f"{where}: {name} {_worst(got[i], want[i])}")
    return "running statistics follow torch.nn.BatchNorm2d's convention."
