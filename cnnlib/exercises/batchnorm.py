"""Checkers for the chapter "Batch normalization": inference.

The running statistics that training collects, and batch norm in evaluation mode
folded into the convolution before it. The training-mode passes are checked in
:mod:`cnnlib.exercises.batchnorm_train` (re-exported here).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..conv import conv2d
from ..norm import batch_norm_eval
from ._core import ExerciseError, call, checker, on_layouts
from ._diagnose import as_array, close, switch_candidates, verdict
from .batchnorm_train import (
    AXES,
    channel,
    check_batch_norm_backward,
    check_batch_norm_forward,
    shape_name,
)

__all__ = [
    "check_batch_norm_backward",
    "check_batch_norm_forward",
    "check_fold_batch_norm",
    "check_update_running_stats",
]

# --------------------------------------------------------------------------------------
# Exercise: running averages for inference


def _statistic(x, stat):
    m = x.size // x.shape[1]
    return {
        "mean": lambda: x.mean(AXES),
        "unbiased": lambda: x.var(AXES, ddof=1),
        "biased": lambda: x.var(AXES),
        "std": lambda: x.std(AXES, ddof=1),
        "N - 1": lambda: x.var(AXES) * len(x) / (len(x) - 1),
        "m + 1": lambda: x.var(AXES) * m / (m + 1),
        "per image": lambda: x.var((2, 3), ddof=1).mean(0),
    }[stat]()


def _running(old, x, momentum, which, blend="right", stat=None):
    """One running statistic, new = (1 - momentum) old + momentum batch; options
    rebuild the usual mistakes."""
    batch = _statistic(x, stat or ("mean" if which == "mean" else "unbiased"))
    return {
        "right": (1 - momentum) * old + momentum * batch,
        "reversed": (1 - momentum) * batch + momentum * old,
        "batch": batch,
        "old": old,
        "sum": old + momentum * batch,
        "unweighted batch": (1 - momentum) * old + batch,
    }[blend]


_BLEND_MISTAKES = {
    "momentum is applied the other way round: PyTorch's momentum is the weight of "
    "the NEW batch, new = (1 - momentum) * old + momentum * batch": {
        "blend": "reversed"
    },
    "you returned the batch statistics: blend them with the old running values": {
        "blend": "batch"
    },
    "the old running value comes back unchanged: blend in the batch's": {
        "blend": "old"
    },
    "the old value is kept whole: new = (1 - momentum) * old + momentum * batch, "
    "a weighted average": {"blend": "sum"},
    "the batch statistic is weighted by momentum too: new = (1 - momentum) * old + "
    "momentum * batch": {"blend": "unweighted batch"},
}
_VAR_MISTAKES = {
    "the running variance uses the biased batch variance: the estimate for "
    "inference is unbiased, var * m / (m - 1) with m = N * H * W": {"stat": "biased"},
    "the running variance averages standard deviations: average the (unbiased) "
    "variances instead": {"stat": "std"},
    "the unbiased variance divides by N - 1 (the batch size): a channel's variance "
    "averages m = N * H * W values, so it is var * m / (m - 1)": {"stat": "N - 1"},
    "the unbiased variance is var * m / (m - 1), not var * m / (m + 1)": {
        "stat": "m + 1"
    },
    "the variance is taken per image and then averaged over the batch: take it over "
    "N, H and W together": {"stat": "per image"},
}


def _running_message(got, old, x, momentum, which) -> str | None:
    mistakes = _BLEND_MISTAKES | (_VAR_MISTAKES if which == "var" else {})
    case = (old, x, momentum, which)
    candidates = switch_candidates(case, _running, mistakes)
    return verdict(got, _running(*case), candidates, what=f"new_{which}")


def _check_running_case(fn, rm, rv, x, momentum):
    got = call(fn, rm, rv, x, momentum)
    where = f"x of shape {shape_name(x.shape)}, momentum={momentum}"
    if not isinstance(got, tuple | list) or len(got) != 2:
        raise ExerciseError(
            f"{where}: return the pair (new_mean, new_var), got {got!r}"
        )
    c = x.shape[1]
    messages = {}
    for which, g, old in zip(("mean", "var"), got, (rm, rv), strict=True):
        g = as_array(g, f"new_{which}")
        if g.shape != (c,):
            raise ExerciseError(
                f"{where}: new_{which} must have shape ({c},), one value a channel "
                f"(statistics over N, H and W), got {g.shape}"
            )
        message = _running_message(g, old, x, momentum, which)
        if message:
            messages.setdefault(message, []).append(f"new_{which}")
    if messages:
        lines = [f"{' and '.join(names)}: {m}" for m, names in messages.items()]
        raise ExerciseError(f"{where}: " + "\n".join(lines))


def _running_cases():
    rng = np.random.default_rng(2)
    for shape, momentum in (((4, 3, 2, 5), 0.1), ((2, 5, 3, 1), 0.3)):
        c = shape[1]
        rm, rv = rng.normal(size=c), rng.uniform(0.5, 2, c)
        x = rng.normal(size=shape) * channel(rng.uniform(0.5, 3, c))
        yield rm, rv, x + channel(rng.uniform(-2, 2, c)), momentum


@checker("update_running_stats")
def check_update_running_stats(fn: Callable) -> str:
    """Check ``fn(running_mean, running_var, x, momentum) -> (new_mean, new_var)``:
    one update of batch norm's running statistics (C,) from a batch x (N, C, H, W)."""
    for rm, rv, x, momentum in _running_cases():
        _check_running_case(fn, rm, rv, x, momentum)
    rm, rv, x, momentum = next(_running_cases())
    on_layouts(lambda x: _check_running_case(fn, rm, rv, x, momentum), x)
    return "running statistics follow torch.nn.BatchNorm2d's convention."


# --------------------------------------------------------------------------------------
# Exercise: fold batch norm (evaluation mode) into the convolution before it


def _scale(gamma, var, eps, sigma="right", use_gamma=True):
    """gamma / sigma per output channel, sigma = sqrt(var + eps); options: mistakes."""
    s = {
        "right": lambda: np.sqrt(var + eps),
        "no eps": lambda: np.sqrt(var),
        "fixed eps": lambda: np.sqrt(var + 1e-5),
        "var": lambda: var + eps,
        "var no eps": lambda: var,
        "eps outside": lambda: np.sqrt(var) + eps,
        "times": lambda: 1 / np.sqrt(var + eps),
    }[sigma]()
    return (gamma if use_gamma else 1.0) / s


def _fold_w(w, b, gamma, beta, mu, var, eps, axis="out", **scaling):
    scale = _scale(gamma, var, eps, **scaling)
    return {
        "out": lambda: w * scale[:, None, None, None],
        "in": lambda: w * scale[:, None, None],  # lines up with (C_in, kH, kW)
        "last": lambda: w * scale,  # lines up with kW
        "none": lambda: w,
    }[axis]()


def _fold_b(w, b, gamma, beta, mu, var, eps, bias="right", **scaling):
    scale = _scale(gamma, var, eps, **scaling)
    b0 = 0.0 if b is None else b
    return {
        "right": lambda: (b0 - mu) * scale + beta,
        "scale after": lambda: b0 * scale - mu + beta,
        "no beta": lambda: (b0 - mu) * scale,
        "no b": lambda: -mu * scale + beta,
        "no mu": lambda: b0 * scale + beta,
        "mu sign": lambda: (b0 + mu) * scale + beta,
        "unscaled": lambda: b0 - mu + beta,
        "beta scaled": lambda: (b0 - mu + beta) * scale,
    }[bias]()


_SCALE_MISTAKES = {
    "eps is missing: sigma = sqrt(running_var + eps)": {"sigma": "no eps"},
    "use the eps you are given, not a fixed 1e-5": {"sigma": "fixed eps"},
    "you divided by sigma^2 = running_var + eps: divide by sigma = "
    "sqrt(running_var + eps)": {"sigma": "var"},
    "you divided by the variance: divide by sigma = sqrt(running_var + eps)": {
        "sigma": "var no eps"
    },
    "eps goes inside the square root: sigma = sqrt(running_var + eps)": {
        "sigma": "eps outside"
    },
    "multiply by gamma / sigma, not by gamma * sigma": {"sigma": "times"},
    "gamma is missing: the scale is gamma / sigma": {"use_gamma": False},
}
_W_MISTAKES = {
    "the scale belongs to the OUTPUT channels, axis 0 of w (C_out, C_in, kH, kW): "
    "reshape it to (C_out, 1, 1, 1); a (C, 1, 1) array lines up with the last "
    "three axes (C_in, kH, kW)": {"axis": "in"},
    "w * scale lines the (C_out,) scale up with w's LAST axis (the kernel width): "
    "reshape it to (C_out, 1, 1, 1)": {"axis": "last"},
    "w is not scaled: each output channel's filter is multiplied by gamma / sigma": {
        "axis": "none"
    },
}
_B_MISTAKES = {
    "subtract the running mean BEFORE scaling: b' = (b - mu) gamma / sigma + beta, "
    "not b gamma / sigma - mu + beta": {"bias": "scale after"},
    "beta is missing: b' = (b - mu) gamma / sigma + beta": {"bias": "no beta"},
    "the convolution's own bias b is ignored: b' = (b - mu) gamma / sigma + beta": {
        "bias": "no b"
    },
    "the running mean is not subtracted: b' = (b - mu) gamma / sigma + beta": {
        "bias": "no mu"
    },
    "subtract the running mean, do not add it: b' = (b - mu) gamma / sigma + beta": {
        "bias": "mu sign"
    },
    "b - mu is scaled by gamma / sigma too: b' = (b - mu) gamma / sigma + beta": {
        "bias": "unscaled"
    },
    "beta is added after the scaling, not scaled: b' = (b - mu) gamma / sigma + beta": {
        "bias": "beta scaled"
    },
}

_NONE_HINT = (
    "\nHere b is None (a convolution without bias, as nn.Conv2d(..., bias=False) "
    "before batch norm): treat it as zeros."
)


def _fold_message(got, case, formula, mistakes, what) -> str | None:
    candidates = switch_candidates(case, formula, mistakes | _SCALE_MISTAKES)
    return verdict(got, formula(*case), candidates, what=what)


def _fold_answer(fn, case):
    """Call fn on one case -> (w_folded, b_folded) as arrays, or ExerciseError."""
    w, b = case[:2]
    where = f"w of shape {shape_name(w.shape)}, b {'None' if b is None else 'given'}"
    try:
        got = call(fn, *case)
    except ExerciseError as err:
        raise ExerciseError(f"{err}{_NONE_HINT if b is None else ''}") from None
    if not isinstance(got, tuple | list) or len(got) != 2:
        raise ExerciseError(f"{where}: return the pair (w_folded, b_folded)")
    if got[1] is None:
        raise ExerciseError(
            f"{where}: b_folded is None; the folded convolution needs a bias even "
            "when the original had none: beta - running_mean * gamma / sigma"
        )
    w_f, b_f = as_array(got[0], "w_folded"), as_array(got[1], "b_folded")
    if w_f.shape != w.shape:
        raise ExerciseError(f"{where}: w_folded must have w's shape, got {w_f.shape}")
    if b_f.shape != (w.shape[0],):
        raise ExerciseError(
            f"{where}: b_folded must have shape (C_out,) = ({w.shape[0]},), one bias "
            f"per output channel, got {b_f.shape}"
        )
    return where, w_f, b_f


def _check_fold_case(fn, x, *case):
    where, w_f, b_f = _fold_answer(fn, case)
    w, b, gamma, beta, mu, var, eps = case
    folded = conv2d(x, w_f.astype(float), b_f.astype(float))
    want = batch_norm_eval(conv2d(x, w, b), mu, var, gamma, beta, eps)
    if close(folded, want) and w_f.dtype == b_f.dtype == np.float64:
        return
    messages = [
        _fold_message(w_f, case, _fold_w, _W_MISTAKES, "w_folded"),
        _fold_message(b_f, case, _fold_b, _B_MISTAKES, "b_folded"),
    ]
    grouped = {}
    for name, message in zip(("w_folded", "b_folded"), messages, strict=True):
        if message:
            grouped.setdefault(message, []).append(name)
    lines = [f"{' and '.join(names)}: {m}" for m, names in grouped.items()]
    raise ExerciseError(f"{where}: " + "\n".join(lines or ["the outputs differ"]))


def _fold_cases():
    """(x, w, b, gamma, beta, running_mean, running_var, eps), non-integer data."""
    rng = np.random.default_rng(7)
    shapes = [  # (C_out, C_in, kH, kW), a bias?, eps
        ((3, 3, 3, 3), True, 1e-3),  # all equal: a scale on any axis broadcasts
        ((4, 2, 3, 4), True, 0.1),  # kW = C_out: w * scale broadcasts silently
        ((5, 3, 1, 1), False, 1e-5),  # a 1 x 1 convolution without bias
        ((2, 3, 5, 2), True, 1e-2),
    ]
    for (c_out, c_in, kh, kw), has_bias, eps in shapes:
        x = rng.normal(size=(2, c_in, 6, 7))
        w = rng.normal(size=(c_out, c_in, kh, kw))
        b = rng.normal(size=c_out) if has_bias else None
        gamma = rng.uniform(0.5, 2, c_out) * rng.choice([-1, 1], c_out)
        beta, mu = rng.normal(size=c_out), rng.normal(size=c_out)
        var = rng.uniform(0.02, 2, c_out)
        yield x, w, b, gamma, beta, mu, var, eps


@checker("fold_batch_norm")
def check_fold_batch_norm(fn: Callable) -> str:
    """Check ``fn(w, b, gamma, beta, running_mean, running_var, eps) -> (w_folded,
    b_folded)``: one convolution equal to a convolution (w (C_out, C_in, kH, kW),
    b (C_out,) or None) followed by batch norm in evaluation mode."""
    for case in _fold_cases():
        _check_fold_case(fn, *case)
    x, w, b, *bn = next(_fold_cases())
    on_layouts(lambda x, w: _check_fold_case(fn, x, w, b, *bn), x, w)
    return (
        "conv2d(x, w_folded, b_folded) equals batch_norm_eval(conv2d(x, w, b), ...): "
        "w' = w gamma / sigma per output channel, b' = (b - mu) gamma / sigma + beta."
    )
