"""Checkers for the chapter "Backpropagation through convolutions".

Max pooling's backward pass is checked in :mod:`cnnlib.exercises.backprop_pool`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._core import ExerciseError, call, call_with, checker, on_layouts
from ._diagnose import as_array, verdict
from .backprop_pool import check_max_pool2d_backward

__all__ = [
    "check_centred_difference",
    "check_conv1d_input_grad",
    "check_conv1d_kernel_grad",
    "check_max_pool2d_backward",
]

# --------------------------------------------------------------------------------------
# Exercise: the kernel gradient of a 1D cross-correlation, with loops


def _kernel_grad_ref(x, dy, k, shift=0, positions=None):
    """dw[t] = sum_i dy[i] x[i + t + shift] over ``positions`` (all by default),
    zeros outside x: (k,)"""
    xp = np.concatenate([np.zeros(k + 2), np.asarray(x, float), np.zeros(k + 2)])
    positions = range(len(dy)) if positions is None else positions
    return np.array(
        [sum(dy[i] * xp[k + 2 + i + t + shift] for i in positions) for t in range(k)]
    )


def _kernel_grad_length(dw, x, dy, k):
    n, n_out = len(x), len(dy)
    if len(dw) == n_out:
        return (
            f"you returned {n_out} values, one per output position: dw has one "
            f"entry per kernel tap (k = {k}); sum over the positions"
        )
    if len(dw) == n:
        return (
            f"you returned {n} values, one per input sample: that is the shape of "
            f"dx; dw has one entry per kernel tap (k = {k})"
        )
    return f"dw should have k = {k} entries, got {len(dw)}"


def _kernel_grad_mistakes(x, dy, k):
    n_out = len(dy)
    ref = _kernel_grad_ref(x, dy, k)
    found = [
        (
            "reversed: your dw[t] is sum_i dy[i] x[i + k - 1 - t], the gradient of "
            "a true convolution (whose kernel is flipped); for y[i] = sum_t w[t] "
            "x[i + t] it is dw[t] = sum_i dy[i] x[i + t]",
            lambda: ref[::-1],
        ),
        (
            "np.convolve(x, dy, 'valid') flips dy: dw[t] = sum_i dy[i] x[i + t] is "
            "a cross-correlation, np.correlate(x, dy, 'valid')",
            lambda: np.convolve(x, dy, "valid"),
        ),
        (
            f"you averaged over the {n_out} positions: add their contributions up",
            lambda: ref / n_out if n_out > 1 else None,
        ),
    ]
    for shift in (1, -1):
        found.append(
            (
                f"off by one: you paired dy[i] with x[i + t {'+' if shift > 0 else '-'}"
                " 1]; output i reads x[i], ..., x[i + k - 1], so tap t meets x[i + t]",
                lambda shift=shift: _kernel_grad_ref(x, dy, k, shift),
            )
        )
    for i in range(n_out if n_out > 1 else 0):
        found.append(
            (
                f"only output position {i} contributes to your dw: the kernel is "
                "shared by every position, so dw[t] sums dy[i] x[i + t] over all i",
                lambda i=i: dy[i] * np.asarray(x[i : i + k], float),
            )
        )
    for drop, where in ((n_out - 1, "last"), (0, "first")):
        found.append(
            (
                f"the {where} output position is missing: loop over all "
                f"n - k + 1 = {n_out} positions",
                lambda drop=drop: (
                    ref - dy[drop] * np.asarray(x[drop : drop + k], float)
                ),
            )
        )
    return found


def _check_kernel_grad_case(fn, x, dy, k):
    dw = as_array(call(fn, x, dy, k), "dw")
    case = f"case (n={len(x)}, k={k}{', x of ints' if x.dtype.kind == 'i' else ''})"
    if dw.ndim != 1:
        raise ExerciseError(f"{case}: return a 1-D array, got shape {dw.shape}")
    if len(dw) != k:
        raise ExerciseError(f"{case}: {_kernel_grad_length(dw, x, dy, k)}")
    ref = _kernel_grad_ref(x, dy, k)
    message = verdict(dw, ref, _kernel_grad_mistakes(x, dy, k), {"n": len(x)}, "dw")
    if message:
        raise ExerciseError(f"{case}: {message}")


_KERNEL_CASES = [  # (x, dy, k): k, n - k + 1 and n all differ; no palindromes
    (np.array([1.5, 2, 0, -1, 3, 1, 2]), np.array([1.0, -1, 2, 0.5, 1.25]), 3),
    (np.array([2.0, -1, 3, 0, 1, 4, -2, 1]), np.array([0.5, 1, -2, 1, 3]), 4),
    (np.array([1.0, 3, -2, 5, 0, 2]), np.array([2.0, -1, 1, 3, 0.5]), 2),
    (np.array([3, 1, 4, 1, 5, 9, 2]), np.array([0.5, -1.5, 0.25, 2, 1]), 3),  # ints
    (np.array([0.5, -2.5, 1.5]), np.array([1.5]), 3),  # k = n: one output
    (np.array([1.5, -0.5, 2.0, 3.5]), np.array([1.0, -2, 0.5, 0.25]), 1),  # k = 1
]


@checker("conv1d_kernel_grad")
def check_conv1d_kernel_grad(fn: Callable) -> str:
    """Check ``fn(x, dy, k)``: dL/dw of y = cross-correlation of x (n,) with w (k,),
    given dy = dL/dy (n - k + 1,)."""
    for case in _KERNEL_CASES:
        _check_kernel_grad_case(fn, *case)
    x, dy, k = _KERNEL_CASES[0]
    on_layouts(lambda x, dy: _check_kernel_grad_case(fn, x, dy, k), x, dy)
    return f"{len(_KERNEL_CASES)} cases agree with dw = get_patches(x, k)^T dy."


# --------------------------------------------------------------------------------------
# Exercise: the input gradient, a full convolution with the flipped kernel


def _overwrite(dy, w):
    """The scatter with '=' instead of '+=': the last window to write wins."""
    dx = np.zeros(len(dy) + len(w) - 1)
    for i in range(len(dy)):
        dx[i : i + len(w)] = dy[i] * w
    return dx


def _input_grad_length(dx, dy, w):
    n_out, k = len(dy), len(w)
    n = n_out + k - 1
    if len(dx) == n_out - k + 1:
        return (
            f"you returned {len(dx)} values ('valid'): every one of the n = "
            f"n_out + k - 1 = {n} input samples gets a gradient; pad dy with "
            "k - 1 zeros on each side first (a 'full' convolution)"
        )
    if len(dx) == n_out:
        return (
            f"you returned {n_out} values, one per output (as 'same' does, or dy "
            "padded on one side only): dx has one entry per input sample, n = "
            f"n_out + k - 1 = {n}; pad dy with k - 1 zeros on EACH side ('full')"
        )
    if len(dx) in (n + 2, n - 2):
        pad = k if len(dx) == n + 2 else k - 2
        return (
            f"you returned {len(dx)} values: you padded dy with {pad} zeros on each "
            f"side; k - 1 = {k - 1} zeros give the n = {n} input samples"
        )
    return f"dx should have n = n_out + k - 1 = {n} entries, got {len(dx)}"


def _input_grad_mistakes(dy, w):
    ref = np.convolve(dy, w, "full")
    shifted = "off by one: dx is shifted by one sample; dy[i] w[t] goes to x[i + t]"
    return [
        (
            "missing flip: dx[j] = sum_t dy[j - t] w[t], a full convolution, i.e. a "
            "cross-correlation of the padded dy with the FLIPPED kernel w[::-1]",
            lambda: np.correlate(dy, w, "full"),
        ),
        ("your dx is reversed end to end: dx[0] belongs to x[0]", lambda: ref[::-1]),
        (
            "an input sample is read by up to k windows: accumulate (+=) their "
            "contributions instead of overwriting them",
            lambda: _overwrite(dy, w),
        ),
        (shifted, lambda: np.roll(ref, 1)),
        (shifted, lambda: np.roll(ref, -1)),
    ]


def _check_input_grad_case(fn, dy, w):
    dx = as_array(call(fn, dy, w), "dx")
    case = f"case (n_out={len(dy)}, k={len(w)})"
    if dx.ndim != 1:
        raise ExerciseError(f"{case}: return a 1-D array, got shape {dx.shape}")
    ref = np.convolve(dy, w, "full")
    if len(dx) != len(ref):
        raise ExerciseError(f"{case}: {_input_grad_length(dx, dy, w)}")
    message = verdict(dx, ref, _input_grad_mistakes(dy, w), {"k": len(w)}, "dx")
    if message:
        raise ExerciseError(f"{case}: {message}")


_INPUT_CASES = [  # (dy, w): asymmetric kernels expose a missing flip
    (np.array([1.0, -2, 3, 0.5, 1]), np.array([1.5, 2, -1])),
    (np.array([2.0, 1, -1, 3, 0, 1, 2]), np.array([3.0, -1, 0.5, 2])),
    (np.array([0.5, 4, -1, 2]), np.array([1.0, -3.25])),
    (np.array([1.5, -0.5, 2.0]), np.array([2.5])),  # k = 1
    (np.array([1.5]), np.array([1.0, -2, 0.75])),  # one output: dx = dy[0] w
]


@checker("conv1d_input_grad")
def check_conv1d_input_grad(fn: Callable) -> str:
    """Check ``fn(dy, w)``: dL/dx of y = cross-correlation of x (n,) with w (k,),
    given dy = dL/dy (n - k + 1,)."""
    for dy, w in _INPUT_CASES:
        _check_input_grad_case(fn, dy, w)
    on_layouts(lambda dy, w: _check_input_grad_case(fn, dy, w), *_INPUT_CASES[1])
    return f"{len(_INPUT_CASES)} cases agree with the full convolution of dy with w."


# --------------------------------------------------------------------------------------
# Exercise: a centred finite-difference gradient


def _f(x):
    """A smooth function that couples the entries (so leftovers show)."""
    v = np.linspace(0.5, 1.5, x.size).reshape(x.shape)
    return float(np.sum(v * x**3) + np.sum(v * x) ** 2 + np.sin(x).sum())


def _difference(x, eps, kind="centred", restore=True):
    x, g = x.copy(), np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x0 = x[i]
        x[i] = x0 + eps
        f_plus = _f(x)
        x[i] = x0 - eps if kind == "centred" else x0
        f_minus = _f(x)
        g[i] = (f_plus - f_minus) / (2 * eps if kind == "centred" else eps)
        if restore:
            x[i] = x0
    return g


def _all_at_once(x, eps):
    return np.full(x.shape, (_f(x + eps) - _f(x - eps)) / (2 * eps))


def _difference_mistakes(x, eps):
    ref = _difference(x, eps)
    forward = _difference(x, eps, "forward")
    return [
        (
            "that is a forward difference (f(x + eps) - f(x)) / eps, whose error is "
            "of order eps; the centred (f(x + eps) - f(x - eps)) / (2 eps) errs by "
            "eps^2",
            lambda: forward,
        ),
        (
            "your second point is x itself, not x - eps: (f(x + eps) - f(x)) / "
            "(2 eps) is half a forward difference (after x[i] += eps, subtract "
            "2 eps to reach x - eps)",
            lambda: forward / 2,
        ),
        (
            "twice too large: the two points are 2 eps apart, divide by 2 * eps",
            lambda: 2 * ref,
        ),
        (
            "half the right size: the two points are 2 eps apart, divide by 2 * eps",
            lambda: ref / 2,
        ),
        (
            "the perturbed entries are not restored: put x[i] back after the two "
            "evaluations, or later entries are measured at a shifted point",
            lambda: _difference(x, eps, restore=False),
        ),
        (
            "you moved every entry at once (f(x + eps) with eps added everywhere): "
            "perturb one entry at a time",
            lambda: _all_at_once(x, eps),
        ),
        (
            "the gradient is all zeros: your perturbations never reached f(x) (a "
            "perturbed copy, e.g. x.flatten(), or x.ravel() and x.reshape(-1) when x "
            "is not contiguous); index x itself with np.ndindex(x.shape)",
            lambda: np.zeros_like(ref),
        ),
        (
            f"use the step eps you are given (here eps = {eps})",
            lambda: _difference(x, 1e-6),
        ),
        (
            "your two points are x - eps/2 and x + eps/2: evaluate f at x - eps and "
            "x + eps, and divide by 2 eps",
            lambda: _difference(x, eps / 2),
        ),
    ]


_RESTORE = (
    "restore each perturbed entry x[i] to its original value (save old = x[i] and "
    "assign it back: adding and subtracting eps again can leave a rounding error)."
)


def _check_difference_case(fn, x, eps):
    raw = call_with(fn, (_f, x, eps), hint=_RESTORE)
    g = as_array(raw, "the gradient")
    case = f"case (x of shape {x.shape}, eps={eps})"
    if g.shape != x.shape:
        raise ExerciseError(
            f"{case}: the gradient has x's shape {x.shape}, got {g.shape}"
        )
    message = verdict(g, _difference(x, eps), _difference_mistakes(x, eps))
    if message:
        raise ExerciseError(f"{case}: {message}")


_DIFF_CASES = [  # (x, eps): steps large enough that the mistakes differ clearly
    (np.array([0.3, -1.2, 0.8, 2.0]), 1e-2),
    (np.array([[1.0, -0.5, 0.2], [0.7, -1.5, 1.1]]), 3e-2),
    (np.array([0.45]), 1e-2),  # size 1
]


@checker("centred_difference")
def check_centred_difference(fn: Callable) -> str:
    """Check ``fn(f, x, eps)``: centred differences of a scalar f at x, entry-wise."""
    for x, eps in _DIFF_CASES:
        _check_difference_case(fn, x, eps)
    x, eps = _DIFF_CASES[1]
    on_layouts(lambda x: _check_difference_case(fn, x, eps), x)
    return "centred differences, with x restored, and the step you were given."
