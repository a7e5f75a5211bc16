"""Checkers for the chapter "Backpropagation through convolutions"."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._core import ExerciseError, call, checker

# --------------------------------------------------------------------------------------
# Exercise: the kernel gradient of a 1D cross-correlation, with loops


def _kernel_grad_ref(x, dy, k, shift=0):
    """dw[t] = sum_i dy[i] x[i + t + shift], zeros outside x: (k,)"""
    xp = np.concatenate([np.zeros(k + 2), x, np.zeros(k + 2)])
    return np.array(
        [
            sum(dy[i] * xp[k + 2 + i + t + shift] for i in range(len(dy)))
            for t in range(k)
        ]
    )


def _diagnose_kernel_grad(dw, x, dy, k):
    n, n_out = len(x), len(dy)
    if len(dw) != k:
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
    ref = _kernel_grad_ref(x, dy, k)
    if np.allclose(dw, ref[::-1]):
        return (
            "reversed: your dw[t] is sum_i dy[i] x[i + k - 1 - t], the gradient of "
            "a true convolution (whose kernel is flipped); for y[i] = sum_t w[t] "
            "x[i + t] it is dw[t] = sum_i dy[i] x[i + t]"
        )
    if np.allclose(dw, ref / n_out):
        return f"you averaged over the {n_out} positions: add their contributions up"
    for i in range(n_out):
        if np.allclose(dw, dy[i] * x[i : i + k]):
            return (
                f"only output position {i} contributes to your dw: the kernel is "
                "shared by every position, so dw[t] sums dy[i] x[i + t] over all i"
            )
    for shift in (1, -1):
        if np.allclose(dw, _kernel_grad_ref(x, dy, k, shift)):
            return (
                f"off by one: you paired dy[i] with x[i + t {'+' if shift > 0 else '-'}"
                " 1]; output i reads x[i], ..., x[i + k - 1], so tap t meets x[i + t]"
            )
    for i, where in ((n_out - 1, "last"), (0, "first")):
        if np.allclose(dw, ref - dy[i] * x[i : i + k]):
            return (
                f"the {where} output position is missing: loop over all "
                f"n - k + 1 = {n_out} positions"
            )
    t = int(np.argmax(np.abs(dw - ref)))
    return f"dw[{t}] is {dw[t]:.4g}, expected {ref[t]:.4g}"


_KERNEL_CASES = [  # (x, dy, k): k, n - k + 1 and n all differ; no palindromes
    (np.array([1.0, 2, 0, -1, 3, 1, 2]), np.array([1.0, -1, 2, 0.5, 1]), 3),
    (np.array([2.0, -1, 3, 0, 1, 4, -2, 1]), np.array([0.5, 1, -2, 1, 3]), 4),
    (np.array([1.0, 3, -2, 5, 0, 2]), np.array([2.0, -1, 1, 3, 0.5]), 2),
]


@checker("conv1d_kernel_grad")
def check_conv1d_kernel_grad(fn: Callable) -> str:
    """Check ``fn(x, dy, k)``: dL/dw of y = cross-correlation of x (n,) with w (k,),
    given dy = dL/dy (n - k + 1,)."""
    for x, dy, k in _KERNEL_CASES:
        dw = np.asarray(call(fn, x.copy(), dy.copy(), k), dtype=float)
        case = f"(n={len(x)}, k={k})"
        if dw.ndim != 1:
            raise ExerciseError(
                f"case {case}: return a 1-D array, got shape {dw.shape}"
            )
        if len(dw) != k or not np.allclose(dw, _kernel_grad_ref(x, dy, k)):
            raise ExerciseError(f"case {case}: {_diagnose_kernel_grad(dw, x, dy, k)}")
    return f"{len(_KERNEL_CASES)} cases agree with dw = get_patches(x, k)^T dy."


# --------------------------------------------------------------------------------------
# Exercise: the input gradient, a full convolution with the flipped kernel


def _overwrite(dy, w):
    """The scatter with '=' instead of '+=': the last window to write wins."""
    dx = np.zeros(len(dy) + len(w) - 1)
    for i in range(len(dy)):
        dx[i : i + len(w)] = dy[i] * w
    return dx


def _diagnose_input_grad(dx, dy, w):
    n_out, k = len(dy), len(w)
    n = n_out + k - 1
    if len(dx) != n:
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
        return f"dx should have n = n_out + k - 1 = {n} entries, got {len(dx)}"
    ref = np.convolve(dy, w, "full")
    if np.allclose(dx, np.correlate(dy, w, "full")):
        return (
            "missing flip: dx[j] = sum_t dy[j - t] w[t], a full convolution, i.e. a "
            "cross-correlation of the padded dy with the FLIPPED kernel w[::-1]"
        )
    if np.allclose(dx, ref[::-1]):
        return "your dx is reversed end to end: dx[0] belongs to x[0]"
    if np.allclose(dx, _overwrite(dy, w)):
        return (
            "an input sample is read by up to k windows: accumulate (+=) their "
            "contributions instead of overwriting them"
        )
    if np.allclose(dx[1:], ref[:-1]) or np.allclose(dx[:-1], ref[1:]):
        return "off by one: dx is shifted by one sample; dy[i] w[t] goes to x[i + t]"
    j = int(np.argmax(np.abs(dx - ref)))
    return f"dx[{j}] is {dx[j]:.4g}, expected {ref[j]:.4g}"


_INPUT_CASES = [  # (dy, w): asymmetric kernels expose a missing flip
    (np.array([1.0, -2, 3, 0.5, 1]), np.array([1.0, 2, -1])),
    (np.array([2.0, 1, -1, 3, 0, 1, 2]), np.array([3.0, -1, 0.5, 2])),
    (np.array([0.5, 4, -1, 2]), np.array([1.0, -3])),
]


@checker("conv1d_input_grad")
def check_conv1d_input_grad(fn: Callable) -> str:
    """Check ``fn(dy, w)``: dL/dx of y = cross-correlation of x (n,) with w (k,),
    given dy = dL/dy (n - k + 1,)."""
    for dy, w in _INPUT_CASES:
        dx = np.asarray(call(fn, dy.copy(), w.copy()), dtype=float)
        case = f"(n_out={len(dy)}, k={len(w)})"
        if dx.ndim != 1:
            raise ExerciseError(
                f"case {case}: return a 1-D array, got shape {dx.shape}"
            )
        ref = np.convolve(dy, w, "full")
        if len(dx) != len(ref) or not np.allclose(dx, ref):
            raise ExerciseError(f"case {case}: {_diagnose_input_grad(dx, dy, w)}")
    return f"{len(_INPUT_CASES)} cases agree with the full convolution of dy with w."


# --------------------------------------------------------------------------------------
# Exercise: max pooling's backward pass on one 2D map


def _route(dy, x, k, stride, pick="max", mode="route", add=True, offset=True):
    """A configurable max-pool backward pass, so that each mistake can be rebuilt."""
    dx = np.zeros_like(x)
    for i in range(dy.shape[0]):
        for j in range(dy.shape[1]):
            r0, c0 = (i * stride, j * stride) if offset else (0, 0)
            window = x[i * stride : i * stride + k, j * stride : j * stride + k]
            if mode in ("all", "mean"):
                share = 1 / (k * k) if mode == "mean" else 1.0
                dx[r0 : r0 + k, c0 : c0 + k] += share * dy[i, j]
                continue
            flat = np.argmax(window) if pick == "max" else np.argmin(window)
            a, b = divmod(int(flat), k)  # row and column inside the window
            if mode == "swap":
                a, b = b, a
            if not add:  # '=' instead of '+=': the last window to write wins
                dx[r0 + a, c0 + b] = 0.0
            dx[r0 + a, c0 + b] += dy[i, j]
    return dx


_POOL_MISTAKES = {
    "you sent dy to every element of the window: only the maximum reached the "
    "output, so only the maximum gets the gradient": {"mode": "all"},
    "that is average pooling's backward pass (dy / k^2 everywhere): in max pooling "
    "only the arg-max of each window gets the gradient": {"mode": "mean"},
    "you routed the gradient to the minimum of each window: use the arg-max": {
        "pick": "min"
    },
    "an element that is the maximum of several overlapping windows receives the SUM "
    "of their gradients: accumulate with += instead of overwriting": {"add": False},
    "row and column swapped: the flat arg-max idx of a k x k window is at row "
    "idx // k, column idx % k (np.unravel_index)": {"mode": "swap"},
    "the arg-max is measured inside the window: add the window's top-left corner "
    "(i * stride, j * stride) to get a position in x": {"offset": False},
}

_POOL_CASES = [  # (x, k, stride): distinct values, so every arg-max is unique
    (np.array([[1.0, 5, 2, 0], [3, 4, 8, 6], [7, 2, 1, 9], [0, 6, 3, 5]]) * 1.1, 2, 2),
    (np.random.default_rng(1).permutation(30).reshape(5, 6) / 3.0, 2, 2),
    (np.random.default_rng(2).permutation(36).reshape(6, 6) - 17.5, 3, 1),
    (np.random.default_rng(3).permutation(49).reshape(7, 7) / 7.0, 3, 2),
]


@checker("max_pool2d_backward")
def check_max_pool2d_backward(fn: Callable) -> str:
    """Check ``fn(dy, x, k, stride)``: dL/dx of max pooling x (H, W) with k x k
    windows, given dy = dL/dy (H_out, W_out)."""
    for n, (x, k, stride) in enumerate(_POOL_CASES):
        H_out, W_out = ((s - k) // stride + 1 for s in x.shape)
        dy = np.arange(1.0, H_out * W_out + 1).reshape(H_out, W_out) * (-1) ** n
        dx = np.asarray(call(fn, dy.copy(), x.copy(), k, stride), dtype=float)
        case = f"(x {x.shape}, k={k}, stride={stride})"
        if dx.shape != x.shape:
            raise ExerciseError(
                f"case {case}: dx has x's shape {x.shape}, got {dx.shape}"
            )
        ref = _route(dy, x, k, stride)
        if np.allclose(dx, ref):
            continue
        for message, mistake in _POOL_MISTAKES.items():
            if np.allclose(dx, _route(dy, x, k, stride, **mistake)):
                raise ExerciseError(f"case {case}: {message}")
        r, c = np.argwhere(~np.isclose(dx, ref))[0]
        raise ExerciseError(
            f"case {case}: dx[{r}, {c}] is {dx[r, c]:.4g}, expected {ref[r, c]:.4g}"
        )
    return (
        f"{len(_POOL_CASES)} cases, overlapping windows included: every dy goes to "
        "its window's arg-max, as in torch."
    )


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


def _diagnose_difference(g, x, eps):
    ref = _difference(x, eps)
    if np.allclose(g, _difference(x, eps, "forward"), rtol=1e-7):
        return (
            "that is a forward difference (f(x + eps) - f(x)) / eps, whose error is "
            "of order eps; the centred (f(x + eps) - f(x - eps)) / (2 eps) errs by "
            "eps^2"
        )
    if np.allclose(g, 2 * ref, rtol=1e-7):
        return "twice too large: the two points are 2 eps apart, divide by 2 * eps"
    if np.allclose(g, ref / 2, rtol=1e-7):
        return "half the right size: the two points are 2 eps apart, divide by 2 * eps"
    if np.allclose(g, _difference(x, eps, restore=False), rtol=1e-7):
        return (
            "the perturbed entries are not restored: put x[i] back after the two "
            "evaluations, or later entries are measured at a shifted point"
        )
    if np.allclose(g, _difference(x, 1e-6), rtol=1e-5):
        return f"use the step eps you are given (here eps = {eps})"
    i = np.unravel_index(int(np.argmax(np.abs(g - ref))), g.shape)
    return f"entry {i} is {g[i]:.6g}, expected {ref[i]:.6g}"


_DIFF_CASES = [  # (x, eps): steps large enough that the mistakes differ clearly
    (np.array([0.3, -1.2, 0.8, 2.0]), 1e-2),
    (np.array([[1.0, -0.5, 0.2], [0.7, -1.5, 1.1]]), 3e-2),
]


@checker("centred_difference")
def check_centred_difference(fn: Callable) -> str:
    """Check ``fn(f, x, eps)``: centred differences of a scalar f at x, entry-wise."""
    for x, eps in _DIFF_CASES:
        given = x.copy()
        g = np.asarray(call(fn, _f, given, eps), dtype=float)
        case = f"(x of shape {x.shape}, eps={eps})"
        if g.shape != x.shape:
            raise ExerciseError(
                f"case {case}: the gradient has x's shape {x.shape}, got {g.shape}"
            )
        if not np.array_equal(given, x):
            raise ExerciseError(
                f"case {case}: x was left changed after your function returned: "
                "restore each perturbed entry x[i] to its original value (save "
                "old = x[i] and assign it back: adding and subtracting eps again "
                "can leave a rounding error)"
            )
        if not np.allclose(g, _difference(x, eps), rtol=1e-7):
            raise ExerciseError(f"case {case}: {_diagnose_difference(g, x, eps)}")
    return "centred differences, with x restored, and the step you were given."
