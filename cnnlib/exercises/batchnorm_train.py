"""Checkers for the chapter "Batch normalization": the training-mode passes.

Every case uses feature maps x (N, C, H, W) with N, C, H and W all different, so that
statistics over the wrong axes give arrays of a different shape or different values;
the reference answers come from :mod:`cnnlib.norm`. The running statistics and the
folding of batch norm into a convolution are in :mod:`cnnlib.exercises.batchnorm`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..norm import batch_norm_backward, batch_norm_forward
from ._core import ExerciseError, call, checker, on_layouts
from ._diagnose import as_array, close, verdict

AXES = (0, 2, 3)  # batch norm's statistics: per channel, over N, H and W


def channel(v):
    """(C,) -> (1, C, 1, 1), to broadcast over feature maps."""
    return np.asarray(v, float).reshape(1, -1, 1, 1)


def _x_hat(x, axes=AXES, ddof=0, eps=1e-5, eps_inside=True):
    """x normalised with statistics over ``axes`` (the usual mistakes as options)."""
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, ddof=ddof, keepdims=True)
    sigma = np.sqrt(var + eps) if eps_inside else np.sqrt(var) + eps
    return (x - mu) / sigma


def cases(seed=0):
    """(x, gamma, beta, eps): channels with different means and spreads, N != C."""
    rng = np.random.default_rng(seed)
    found = []
    for shape, eps in (((4, 3, 5, 6), 1e-5), ((2, 5, 3, 4), 0.1), ((6, 2, 1, 3), 1e-3)):
        _, c, _, _ = shape
        x = rng.normal(size=shape) * channel(rng.uniform(0.3, 3, c))
        x += channel(rng.uniform(-2, 2, c))
        gamma = rng.uniform(0.5, 2, c) * rng.choice([-1, 1], c)
        beta = rng.uniform(-1, 1, c)
        found.append((x, gamma, beta, eps))
    return found


def shape_name(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


# --------------------------------------------------------------------------------------
# Exercise: the forward pass in training mode


def _affine(x_hat, gamma, beta):
    return channel(gamma) * x_hat + channel(beta)


def _reshaped_stats(x, g, b, e):
    """x.reshape(C, -1) without moving the channel axis first: mixed-up groups."""
    c = x.shape[1]
    flat = x.reshape(c, -1)
    mu = flat.mean(1).reshape(1, c, 1, 1)
    var = flat.var(1).reshape(1, c, 1, 1)
    return _affine((x - mu) / np.sqrt(var + e), g, b)


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
    "x.reshape(C, -1) does not group the values by channel (axis 1 is not the "
    "first axis): use x.mean(axis=(0, 2, 3)), or move the channel axis first with "
    "x.transpose(1, 0, 2, 3)": _reshaped_stats,
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
    "use the eps you are given, not a fixed 1e-5": (
        lambda x, g, b, e: _affine(_x_hat(x, eps=1e-5), g, b) if e != 1e-5 else None
    ),
    "use the eps you are given, not a fixed 1e-8": (
        lambda x, g, b, e: _affine(_x_hat(x, eps=1e-8), g, b)
    ),
    "gamma and beta are swapped: y = gamma * x_hat + beta (gamma scales, beta "
    "shifts)": lambda x, g, b, e: _affine(_x_hat(x, eps=e), b, g),
    "beta is scaled too: y = gamma * x_hat + beta, not gamma * (x_hat + beta)": (
        lambda x, g, b, e: channel(g) * (_x_hat(x, eps=e) + channel(b))
    ),
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


def _check_forward_case(fn, x, gamma, beta, eps):
    want, _ = batch_norm_forward(x, gamma, beta, eps)
    got = call(fn, x, gamma, beta, eps)
    where = f"x of shape {shape_name(x.shape)}, eps={eps}"
    if isinstance(got, tuple | list):
        raise ExerciseError(f"{where}: return y alone (one array), not a tuple")
    got = as_array(got, "y")
    if got.shape != x.shape:
        raise ExerciseError(
            f"{where}: y must have x's shape {x.shape}, got {got.shape}"
        )
    if not np.all(np.isfinite(got)):
        raise ExerciseError(f"{where}: y holds nan or inf values")
    candidates = [
        (message, lambda f=f: f(x, gamma, beta, eps))
        for message, f in _FORWARD_MISTAKES.items()
    ]
    message = verdict(got, want, candidates, what="y")
    if message:
        raise ExerciseError(f"{where}: {message}")


@checker("batch_norm_forward")
def check_batch_norm_forward(fn: Callable) -> str:
    """Check ``fn(x, gamma, beta, eps) -> y``: batch norm in training mode for
    x (N, C, H, W), gamma and beta (C,), statistics of the batch."""
    for case in cases():
        _check_forward_case(fn, *case)
    x, gamma, beta, eps = cases()[0]
    on_layouts(lambda x: _check_forward_case(fn, x, gamma, beta, eps), x)
    return (
        "every channel of y has mean beta and standard deviation |gamma| (a little "
        "less where the variance is not large against eps)."
    )


# --------------------------------------------------------------------------------------
# Exercise: the backward pass


def _mean(v, axes=AXES):
    return v.mean(axis=axes, keepdims=True)


def _dx(
    dy, x, gamma, eps, mu=True, sigma=True, scale="gamma/sigma", means=AXES, ddof=0
):
    """gamma / sigma (dy - mean(dy) - x_hat mean(dy x_hat)), with switchable terms."""
    s = np.sqrt(x.var(axis=AXES, ddof=ddof, keepdims=True) + eps)
    x_hat = (x - _mean(x)) / s
    factor = {
        "gamma/sigma": channel(gamma) / s,
        "1/sigma": 1 / s,
        "gamma": channel(gamma),
    }
    if means == "sum":
        m_dy, m_dyx = dy.sum(AXES, keepdims=True), (dy * x_hat).sum(AXES, keepdims=True)
    else:
        m_dy, m_dyx = _mean(dy, means), _mean(dy * x_hat, means)
    through_mu = m_dy if mu is True else (-m_dy if mu == "sign" else 0)
    through_sigma = x_hat * m_dyx if sigma else 0
    return factor[scale] * (dy - through_mu - through_sigma)


_UNBIASED = (
    "your x_hat uses the unbiased variance (divided by m - 1): in training batch "
    "norm divides by m = N * H * W, the biased variance"
)
_DX_MISTAKES = {
    "dx treats mu and sigma as constants (dx = gamma * dy / sigma): both depend on "
    "every x of the batch, so back-propagate through them too": {
        "mu": False,
        "sigma": False,
    },
    "dx goes through mu but treats sigma as a constant: the term "
    "- x_hat * mean(dy * x_hat) is missing": {"sigma": False},
    "dx goes through sigma but treats mu as a constant: the term - mean(dy) is "
    "missing": {"mu": False},
    "the path through mu has the wrong sign: dx has - mean(dy), since raising mu "
    "lowers every x - mu": {"mu": "sign"},
    "dx is missing the factor gamma: y = gamma * x_hat + beta, so every path to x "
    "is scaled by gamma": {"scale": "1/sigma"},
    "dx is missing the factor 1 / sigma: x_hat = (x - mu) / sigma": {"scale": "gamma"},
    "dx sums where it should average: the terms are mean(dy) and "
    "x_hat * mean(dy * x_hat), means over the m = N * H * W values": {"means": "sum"},
    "the means in dx are over N only: they run over the m = N * H * W values of a "
    "channel, axes (0, 2, 3)": {"means": (0,)},
    _UNBIASED: {"ddof": 1},
}


def _dparam_shape(name, shape, dy) -> str | None:
    n, c = dy.shape[:2]
    if shape == dy.shape[1:]:
        return f"{name} is summed over N only: sum over N, H and W, one value a channel"
    if shape in ((), (1,)):
        return f"{name} is summed over everything: keep one value per channel (C,)"
    if shape == (n,):
        return f"{name} is summed per sample: sum over N, H and W, keep axis 1 (C)"
    return f"{name} must have shape ({c},), one value a channel, got {shape}"


def _dparam_message(name, got, want, dy, x, eps) -> str | None:
    """None when dgamma (or dbeta) is right; a (C,)-like (1, C, 1, 1) is fine."""
    c = dy.shape[1]
    if np.size(got) != c:
        return _dparam_shape(name, np.shape(got), dy)
    got = np.reshape(as_array(got, name), c)
    if close(got, want) and got.dtype == np.float64:
        return None
    x_hat = _x_hat(x, eps=eps)
    unbiased = (x - _mean(x)) / np.sqrt(x.var(AXES, ddof=1, keepdims=True) + eps)
    candidates = {
        "dgamma": [
            (
                "dgamma is sum(dy): that is dbeta; dgamma = sum(dy * x_hat)",
                dy.sum(AXES),
            ),
            (
                "dgamma is sum(dy * x): gamma multiplies x_hat, so sum dy * x_hat",
                (dy * x).sum(AXES),
            ),
            (_UNBIASED, (dy * unbiased).sum(AXES)),
        ],
        "dbeta": [
            (
                "dbeta is sum(dy * x_hat): that is dgamma; dbeta = sum(dy)",
                (dy * x_hat).sum(AXES),
            )
        ],
    }[name]
    candidates.append(
        (f"{name} is a mean: sum over N, H and W instead", want * c / dy.size)
    )
    message = verdict(got, want, [(m, lambda v=v: v) for m, v in candidates], what=name)
    return _named(name, message)


def _named(name, message):
    """Prefix ``name`` to a message that does not say which output it is about."""
    if message is None or message == _UNBIASED or message.startswith(("d", "your x")):
        return message
    return f"{name}: {message}"


def _check_backward_case(fn, dy, x, gamma, eps):
    _, cache = batch_norm_forward(x, gamma, np.zeros_like(gamma), eps)
    want = batch_norm_backward(dy, cache)
    got = call(fn, dy, x, gamma, eps)
    where = f"x of shape {shape_name(x.shape)}, eps={eps}"
    if not isinstance(got, tuple | list) or len(got) != 3:
        raise ExerciseError(f"{where}: return (dx, dgamma, dbeta), got {got!r}")
    dx = as_array(got[0], "dx")
    if dx.shape != x.shape:
        messages = [f"dx must have x's shape {x.shape}, got {dx.shape}"]
    else:
        candidates = [
            (m, lambda f=f: _dx(dy, x, gamma, eps, **f))
            for m, f in _DX_MISTAKES.items()
        ]
        messages = [_named("dx", verdict(dx, want[0], candidates, what="dx"))]
    messages += [
        _dparam_message("dgamma", got[1], want[1], dy, x, eps),
        _dparam_message("dbeta", got[2], want[2], dy, x, eps),
    ]
    messages = list(dict.fromkeys(m for m in messages if m))  # each slip said once
    if messages:
        raise ExerciseError(f"{where}: " + "\n".join(messages))


@checker("batch_norm_backward")
def check_batch_norm_backward(fn: Callable) -> str:
    """Check ``fn(dy, x, gamma, eps) -> (dx, dgamma, dbeta)``: the gradients of
    training-mode batch norm, for x and dy (N, C, H, W), gamma (C,)."""
    rng = np.random.default_rng(1)
    for x, gamma, _, eps in cases(seed=1):
        _check_backward_case(fn, rng.normal(size=x.shape), x, gamma, eps)
    x, gamma, _, eps = cases(seed=1)[0]
    dy = rng.normal(size=x.shape)
    on_layouts(lambda dy, x: _check_backward_case(fn, dy, x, gamma, eps), dy, x)
    return "dx, dgamma and dbeta match cnnlib.norm.batch_norm_backward."
