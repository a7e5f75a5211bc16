"""Checkers for the chapter "Convolution from first principles"."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..conv import conv2d
from ._core import ExerciseError, call, checker, on_layouts
from ._diagnose import (
    WINDOWS,
    as_array,
    edge_sign,
    first_match,
    formula_verdict,
    kernel3x3,
    verdict,
    whole,
)
from ._formulas import DILATION_MISTAKES, SIZE_MISTAKES, size

# --------------------------------------------------------------------------------------
# Exercise: 1D cross-correlation with loops


def _xcorr(x, w, stride=1, padding=0, left=None, right=None, mode="constant"):
    """y[i] = sum_t w[t] x_pad[i*s + t], every window that fits (maybe none).

    ``left``/``right`` override the zeros on each side; mode="edge" repeats the end
    samples. The tests check it against cnnlib.conv1d and torch.
    """
    pads = (padding if left is None else left, padding if right is None else right)
    xp = np.pad(np.asarray(x, float), pads, mode=mode)
    k = len(w)
    n_out = max((len(xp) - k) // stride + 1, 0)
    return np.array([w @ xp[i * stride : i * stride + k] for i in range(n_out)])


def _shifted(x, w, s, p, n_out, by):
    """The right number of windows, each starting ``by`` samples late (zeros beyond
    the padded signal)."""
    k = len(w)
    xp = np.pad(np.asarray(x, float), p + k)
    return np.array([w @ xp[k + i * s + by : k + i * s + by + k] for i in range(n_out)])


def _conv1d_mistakes(x, w, s, p):
    n, k = len(x), len(w)
    want = _xcorr(x, w, s, p)
    return [
        (
            "flipped kernel: you computed a true convolution. Cross-correlation "
            "slides w as it is: y[i] = sum_t w[t] x[i*s + t - p]",
            lambda: _xcorr(x, w[::-1], s, p),
        ),
        (
            "the stride is ignored: with stride s only every s-th window is kept",
            lambda: _xcorr(x, w, 1, p),
        ),
        (
            "the stride is ignored: window i must start at position i*s",
            lambda: _xcorr(x, w, 1, p)[: len(want)],
        ),
        (
            "the padding is ignored: pad the signal with p zeros on each side first",
            lambda: _xcorr(x, w, s, 0),
        ),
        (
            f"you padded x but counted the windows of the unpadded signal: "
            f"{len(want)} windows fit in the padded length n + 2p = {n + 2 * p}",
            lambda: want[: max((n - k) // s + 1, 0)] if p else None,
        ),
        (
            "padding on one side only: p zeros go on EACH side, so the padded length "
            f"is n + 2p = {n + 2 * p}",
            lambda: _xcorr(x, w, s, left=p, right=0) if p else None,
        ),
        (
            "padding on one side only: p zeros go on EACH side, so the padded length "
            f"is n + 2p = {n + 2 * p}",
            lambda: _xcorr(x, w, s, left=0, right=p) if p else None,
        ),
        (
            f"all the padding went on the left: put p = {p} zeros on each side",
            lambda: _xcorr(x, w, s, left=2 * p, right=0) if p else None,
        ),
        (
            f"all the padding went on the right: put p = {p} zeros on each side",
            lambda: _xcorr(x, w, s, left=0, right=2 * p) if p else None,
        ),
        (
            f"you padded with k - 1 = {k - 1} zeros on each side (a 'full' "
            f"correlation): use the padding argument, p = {p}",
            lambda: _xcorr(x, w, s, k - 1) if k - 1 != p else None,
        ),
        (
            "you padded by repeating the end samples: pad with zeros",
            lambda: _xcorr(x, w, s, p, mode="edge") if p else None,
        ),
        (
            f"one window too few: floor((n + 2p - k) / s) + 1 = {len(want)} windows "
            "fit, the last one is missing",
            lambda: want[:-1],
        ),
        (
            "one window too many: the last one runs past the end of the padded signal",
            lambda: _xcorr(x, w, s, left=p, right=p + s),
        ),
        (
            "off-by-one: your windows start one position too late",
            lambda: _shifted(x, w, s, p, len(want), 1),
        ),
        (
            "off-by-one: your windows start one position too early",
            lambda: _shifted(x, w, s, p, len(want), -1),
        ),
    ]


def _check_conv1d_case(fn, x, w, stride, padding):
    n, k = len(x), len(w)
    case = f"case (n={n}, k={k}, stride={stride}, padding={padding})"
    want = _xcorr(x, w, stride, padding)
    try:
        raw = call(fn, x, w, stride=stride, padding=padding)
    except ExerciseError as err:
        if len(want):
            raise
        raise ExerciseError(
            f"{err}\nHere no window fits (k = {k} > n + 2p = {n + 2 * padding}): "
            "the answer is an empty array, np.zeros(0)"
        ) from None
    y = as_array(raw)
    if y.ndim != 1:
        raise ExerciseError(f"{case}: return a 1-D array, got shape {y.shape}")
    mistakes = _conv1d_mistakes(x, w, stride, padding)
    if not len(want) and len(y) == k - (n + 2 * padding) + 1:
        message = (
            f"no window fits (k = {k} > n + 2p = {n + 2 * padding}), so the answer is "
            "empty; np.convolve and np.correlate swap their inputs when the second "
            "is longer, and slide the signal along the kernel instead"
        )
    elif y.shape != want.shape:
        message = first_match(y.astype(float), mistakes) or (
            f"wrong output length: floor((n + 2p - k) / s) + 1 = {len(want)} "
            f"windows fit, you returned {len(y)} values"
        )
    else:
        message = verdict(y, want, mistakes)
    if message:
        raise ExerciseError(f"{case}: {message}")


_CONV1D_CASES = [  # (x, w, stride, padding): asymmetric kernels expose a flip
    (np.array([1.5, 2, 3.25, 4, 5, 6.5, 7]), np.array([1.0, 0.5, -1]), 1, 0),
    (np.array([3.3, -1, 4, 1, -5.5, 9, 2, 6]), np.array([2.0, 1.25]), 1, 0),
    (np.array([1.0, 4, 9, 16, 25, 36]) / 3, np.array([0.7, 1.4, 2.1]), 1, 1),
    (np.array([0.5, -1, 2, 0, 3, 1, -2, 4, 1]), np.array([1.0, -2, 0.5]), 2, 0),
    (np.array([2.0, 7, 1, 8, 2, 8, 1, 8, 2, 8]), np.array([1.5, 3, -1, 2]), 3, 2),
    (np.array([3, 1, 4, 1, 5, 9, 2, 6]), np.array([0.5, -0.25, 1.5]), 2, 1),  # ints
    (np.array([0.7, -1.2, 2.2]), np.array([2.5]), 2, 0),  # k = 1
    (np.array([2.5, -1.5]), np.array([1.0, 2.0, -0.5]), 1, 1),  # k > n, padded
    (np.array([2.5, -1.5]), np.array([1.0, 2.0, -0.5]), 1, 0),  # no window fits
]


@checker("conv1d_loops")
def check_conv1d(fn: Callable) -> str:
    """Check ``fn(x, w, stride=1, padding=0)``: 1D cross-correlation of one signal."""
    for case in _CONV1D_CASES:
        _check_conv1d_case(fn, *case)
    x, w, stride, padding = _CONV1D_CASES[2]
    on_layouts(lambda x, w: _check_conv1d_case(fn, x, w, stride, padding), x, w)
    return f"{len(_CONV1D_CASES)} cases agree with cnnlib.conv1d."


# --------------------------------------------------------------------------------------
# Exercise: the output-size formula


_SIZE_CASES = [
    (7, 3, 1, 0, 1),
    (7, 3, 2, 0, 1),
    (5, 3, 2, 1, 1),
    (10, 3, 3, 1, 1),
    (9, 3, 1, 2, 2),
    (28, 5, 2, 2, 1),
    (12, 3, 2, 0, 3),
    (6, 4, 3, 1, 1),
    (2, 3, 2, 0, 1),  # the window is longer than the input: 0 outputs
    (1, 1, 1, 0, 1),  # size 1
    (11, 3, 4, 1, 4),
]


@checker("output_size")
def check_output_size(fn: Callable) -> str:
    """Check ``fn(n, k, stride=1, padding=0, dilation=1)``: the output length."""
    observed = []
    for n, k, s, p, d in _SIZE_CASES:
        where = f"output_size({n}, {k}, stride={s}, padding={p}, dilation={d})"
        got = call(fn, n, k, stride=s, padding=p, dilation=d)
        observed.append(((n, k, s, p, d), whole(got, where, True, WINDOWS)))
    message = formula_verdict(
        observed,
        size,
        size,
        SIZE_MISTAKES | DILATION_MISTAKES,
        lambda c: "n={}, k={}, stride={}, padding={}, dilation={}".format(*c),
    )
    if message:
        raise ExerciseError(message)
    return f"{len(_SIZE_CASES)} cases agree with cnnlib.conv_output_size."


# --------------------------------------------------------------------------------------
# Exercise: convolution as a matrix


def _band(w, n, rows=None, start=0):
    """Row i holds w in columns i + start .. (cut at the edges); rows defaults to the
    n - k + 1 valid windows."""
    k = len(w)
    rows = n - k + 1 if rows is None else rows
    m = np.zeros((rows, n))
    for i in range(rows):
        for t in range(k):
            if 0 <= i + start + t < n:
                m[i, i + start + t] = w[t]
    return m


def _matrix_shape_message(shape, w, n):
    k = len(w)
    valid = (n - k + 1, n)
    if shape == valid[::-1]:
        return (
            f"shape {shape} is transposed: M maps an input of length {n} to "
            f"{n - k + 1} outputs, so it is {valid}"
        )
    if shape == (n + k - 1, n):
        return (
            f"shape {shape} has a row for every partial overlap ('full'): keep only "
            f"the {n - k + 1} windows that fit entirely ('valid'), {valid}"
        )
    if shape == (n, n):
        return (
            f"shape {shape} is square ('same' length): only n - k + 1 = {n - k + 1} "
            f"windows fit, so M is {valid}"
        )
    return (
        f"M should have shape {valid} (one row per output, one column per input), "
        f"got {shape}"
    )


def _matrix_mistakes(w, n):
    k = len(w)
    return [
        (
            "flipped kernel: row i holds w[0..k-1] from column i on, in that order, "
            "for cross-correlation",
            lambda: _band(w[::-1], n),
        ),
        (
            "the band is shifted by one column to the right: row i must start at "
            "column i",
            lambda: _band(w, n, start=1),
        ),
        (
            "the band is shifted by one column to the left: row i must start at "
            "column i",
            lambda: _band(w, n, start=-1),
        ),
        (
            "the band ends at column i instead of starting there: row i holds w in "
            "columns i .. i + k - 1",
            lambda: _band(w, n, start=-(k - 1)),
        ),
        (
            "row i holds w[t] in column i - t (as np.eye(rows, n, -t) places it): "
            "output i reads x[i + t], so w[t] goes in column i + t",
            lambda: _band(w[::-1], n, start=-(k - 1)),
        ),
        (
            "the rows are in reverse order: row i gives output i, the window that "
            "starts at x[i]",
            lambda: _band(w, n)[::-1],
        ),
    ]


def _check_matrix_case(fn, w, n):
    where = f"(k={len(w)}, n={n})"
    m = as_array(call(fn, w, n), "M")
    want = _band(w, n)
    if m.shape != want.shape:
        raise ExerciseError(f"{where}: {_matrix_shape_message(m.shape, w, n)}")
    message = verdict(m, want, _matrix_mistakes(w, n), what="M")
    if message:
        raise ExerciseError(f"{where}: {message}")


_MATRIX_CASES = [
    (np.array([1.5, 2, 3]), 6),
    (np.array([2.0, -1.25]), 5),
    (np.array([1.0, 0, -1, 4.5]), 7),
    (np.array([2.5]), 4),  # k = 1: M = 2.5 I
    (np.array([1.0, -2, 0.5]), 3),  # k = n: one row
]


@checker("conv_matrix_1d")
def check_conv_matrix(fn: Callable) -> str:
    """Check ``fn(w, n)``: the matrix M with M @ x == valid cross-correlation of x."""
    for w, n in _MATRIX_CASES:
        _check_matrix_case(fn, w, n)
    on_layouts(lambda w: _check_matrix_case(fn, w, 6), _MATRIX_CASES[0][0])
    return "M @ x reproduces cross-correlation, and the band sits where it should."


# --------------------------------------------------------------------------------------
# Exercise: a kernel that detects horizontal edges

_STEP = np.repeat([[10.0], [10.0], [10.0], [0.0], [0.0], [0.0]], 6, axis=1)


def _respond(kernel, image):
    return conv2d(image[None, None], np.asarray(kernel, float)[None, None])[0, 0]


def _column_message(k) -> str:
    sums = ", ".join(f"{v:.3g}" for v in k.sum(axis=0))
    return f"each column must sum to zero (yours sum to {sums})"


@checker("horizontal_edge_kernel")
def check_edge_kernel(fn: Callable) -> str:
    """Check ``fn()``: a 3x3 kernel whose cross-correlation is 0 on flat regions and
    on vertical edges, positive (never negative) where a bright region lies above a
    dark one, and negative or zero where a dark region lies above a bright one."""
    k = kernel3x3(call(fn))
    if not np.isclose(k.sum(), 0):
        raise ExerciseError(
            f"the kernel responds to a flat image: its weights sum to {k.sum():.3g}, "
            f"so a flat region of brightness 1 gives {k.sum():.3g}. For 0 on flat "
            f"regions and on vertical edges, {_column_message(k)}"
        )
    across = _respond(k, _STEP)  # bright above dark, edge between rows 2 and 3
    along = _respond(k, _STEP.T.copy())  # the same edge turned vertical
    if not np.allclose(along, 0):
        if np.allclose(across, 0):  # its rows sum to zero: a vertical-edge kernel
            raise ExerciseError(
                "it detects vertical edges, not horizontal ones: the kernel is "
                "transposed; it should change from row to row, not from column to "
                "column"
            )
        raise ExerciseError(f"it also responds to vertical edges: {_column_message(k)}")
    fix = "put positive weights above the middle row and negative ones below it"
    message = edge_sign(across, "a bright-above-dark horizontal edge", fix)
    if message:
        raise ExerciseError(message)
    if _respond(k, 10.0 - _STEP).max() > 1e-9 * np.abs(across).max():
        raise ExerciseError("it is positive on a dark-above-bright edge too")
    return (
        "flat regions and vertical edges give 0; bright-above-dark is positive, "
        "dark-above-bright negative."
    )
