"""Checkers for the chapter "Convolution from first principles"."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..conv import conv1d, conv2d
from ..matrices import conv_output_size
from ._core import ExerciseError, call, checker

# --------------------------------------------------------------------------------------
# Exercise: 1D cross-correlation with loops


def _xcorr_ref(x, w, stride=1, padding=0):
    """Reference for one signal: x (L,), w (k,) -> (L_out,)."""
    y = conv1d(
        np.asarray(x, float)[None, None],
        np.asarray(w, float)[None, None],
        stride=stride,
        padding=padding,
    )
    return y[0, 0]


def _one_sided(x, w, stride, padding, side):
    """What a student gets by putting all 2p zeros (or only p) on one side."""
    zeros = np.zeros(padding)
    xp = np.concatenate([zeros, x] if side == "left" else [x, zeros])
    return _xcorr_ref(xp, w, stride, 0)


def _diagnose_conv1d_length(got_len, x, w, stride, padding):
    n, k = len(x), len(w)
    want = conv_output_size(n, k, stride, padding)
    if stride > 1 and got_len == conv_output_size(n, k, 1, padding):
        return "the stride is ignored: with stride s only every s-th window is kept"
    if padding and got_len == (n + padding - k) // stride + 1:
        return (
            "padding on one side only: p zeros go on EACH side, so the padded "
            f"length is n + 2p = {n + 2 * padding}"
        )
    if padding and got_len == conv_output_size(n, k, stride, 0):
        return "the padding is ignored: pad the signal with p zeros on each side first"
    if abs(got_len - want) == 1:
        return (
            f"off-by-one in the output length: floor((n + 2p - k) / s) + 1 = {want} "
            f"windows fit, you returned {got_len} values"
        )
    return f"wrong output length: expected {want}, got {got_len}"


def _diagnose_conv1d_values(y, x, w, stride, padding):
    ref = _xcorr_ref(x, w, stride, padding)
    if np.allclose(y, _xcorr_ref(x, w[::-1], stride, padding)):
        return (
            "flipped kernel: you computed a true convolution. Cross-correlation "
            "slides w as it is: y[i] = sum_t w[t] x[i*s + t - p]"
        )
    for side in ("left", "right"):
        if padding and np.allclose(y, _one_sided(x, w, stride, 2 * padding, side)):
            return (
                f"all the padding went on the {side}: put p = {padding} zeros on "
                "each side of the signal"
            )
    if stride > 1 and np.allclose(y, _xcorr_ref(x, w, 1, padding)[: len(y)]):
        return "the stride is ignored: window i must start at position i*s"
    ref_full = _xcorr_ref(np.concatenate([x, [0.0] * 2]), w, stride, padding)
    if np.allclose(y[:-1], ref[1:]) or np.allclose(y, ref_full[1 : len(y) + 1]):
        return "off-by-one: your windows start one position too late"
    if np.allclose(y[1:], ref[:-1]):
        return "off-by-one: your windows start one position too early"
    i = int(np.argmax(np.abs(y - ref)))
    return f"value {i} is {y[i]:.4g}, expected {ref[i]:.4g}"


_CONV1D_CASES = [  # (x, w, stride, padding): asymmetric kernels expose a flip
    (np.array([1.0, 2, 3, 4, 5, 6, 7]), np.array([1.0, 0, -1]), 1, 0),
    (np.array([3.0, -1, 4, 1, -5, 9, 2, 6]), np.array([2.0, 1]), 1, 0),
    (np.array([1.0, 4, 9, 16, 25, 36]), np.array([1.0, 2, 3]), 1, 1),
    (np.array([0.5, -1, 2, 0, 3, 1, -2, 4, 1]), np.array([1.0, -2, 0.5]), 2, 0),
    (np.array([2.0, 7, 1, 8, 2, 8, 1, 8, 2, 8]), np.array([1.0, 3, -1, 2]), 3, 2),
]


@checker("conv1d_loops")
def check_conv1d(fn: Callable) -> str:
    """Check ``fn(x, w, stride=1, padding=0)``: 1D cross-correlation of one signal."""
    for x, w, stride, padding in _CONV1D_CASES:
        y = call(fn, x.copy(), w.copy(), stride=stride, padding=padding)
        y = np.asarray(y, dtype=float)
        case = f"(n={len(x)}, k={len(w)}, stride={stride}, padding={padding})"
        if y.ndim != 1:
            raise ExerciseError(f"case {case}: return a 1-D array, got shape {y.shape}")
        if len(y) != conv_output_size(len(x), len(w), stride, padding):
            msg = _diagnose_conv1d_length(len(y), x, w, stride, padding)
            raise ExerciseError(f"case {case}: {msg}")
        if not np.allclose(y, _xcorr_ref(x, w, stride, padding)):
            msg = _diagnose_conv1d_values(y, x, w, stride, padding)
            raise ExerciseError(f"case {case}: {msg}")
    return f"{len(_CONV1D_CASES)} cases agree with cnnlib.conv1d."


# --------------------------------------------------------------------------------------
# Exercise: the output-size formula

_SIZE_MISTAKES = {  # the message, and the wrong formula that produces it
    "forgot the +1 (count the first window too)": (
        lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) // s
    ),
    "padding counted once: there are p zeros on each side, 2p in all": (
        lambda n, k, s, p, d: (n + p - d * (k - 1) - 1) // s + 1
    ),
    "dilation ignored: a dilated kernel spans d(k-1)+1 inputs": (
        lambda n, k, s, p, d: (n + 2 * p - k) // s + 1
    ),
    "stride ignored: divide the span by s": (
        lambda n, k, s, p, d: n + 2 * p - d * (k - 1)
    ),
    "rounded up: a window that does not fit entirely is dropped, so use floor": (
        lambda n, k, s, p, d: -(-(n + 2 * p - d * (k - 1) - 1) // s) + 1
    ),
}

_SIZE_CASES = [
    (7, 3, 1, 0, 1),
    (7, 3, 2, 0, 1),
    (5, 3, 2, 1, 1),
    (10, 3, 3, 1, 1),
    (9, 3, 1, 2, 2),
    (28, 5, 2, 2, 1),
    (12, 3, 2, 0, 3),
    (6, 4, 3, 1, 1),
]


@checker("output_size")
def check_output_size(fn: Callable) -> str:
    """Check ``fn(n, k, stride=1, padding=0, dilation=1)``: the output length."""
    wrong = []
    for n, k, s, p, d in _SIZE_CASES:
        got = call(fn, n, k, stride=s, padding=p, dilation=d)
        if isinstance(got, float | np.floating) and not float(got).is_integer():
            raise ExerciseError(
                f"output_size({n}, {k}, stride={s}, padding={p}, "
                f"dilation={d}) returned {got}: take the floor"
            )
        if int(got) != conv_output_size(n, k, s, p, d):
            wrong.append(((n, k, s, p, d), int(got)))
    if wrong:
        for mistake, formula in _SIZE_MISTAKES.items():
            if all(formula(*case) == got for case, got in wrong):
                raise ExerciseError(mistake)
        (n, k, s, p, d), got = wrong[0]
        raise ExerciseError(
            f"n={n}, k={k}, stride={s}, padding={p}, dilation={d}: "
            f"expected {conv_output_size(n, k, s, p, d)}, got {got}"
        )
    return f"{len(_SIZE_CASES)} cases agree with cnnlib.conv_output_size."


# --------------------------------------------------------------------------------------
# Exercise: convolution as a matrix


def _band(w, n):
    """Reference matrix of valid 1D cross-correlation: (n - k + 1, n)."""
    k = len(w)
    m = np.zeros((n - k + 1, n))
    for i in range(n - k + 1):
        m[i, i : i + k] = w
    return m


@checker("conv_matrix_1d")
def check_conv_matrix(fn: Callable) -> str:
    """Check ``fn(w, n)``: the matrix M with M @ x == valid cross-correlation of x."""
    for w, n in [
        (np.array([1.0, 2, 3]), 6),
        (np.array([2.0, -1]), 5),
        (np.array([1.0, 0, -1, 4]), 7),
    ]:
        k = len(w)
        m = np.asarray(call(fn, w.copy(), n), dtype=float)
        want = _band(w, n)
        where = f"(k={k}, n={n})"
        if m.shape == want.T.shape and m.shape != want.shape:
            raise ExerciseError(
                f"{where}: shape {m.shape} is transposed: M maps an input "
                f"of length {n} to {n - k + 1} outputs, so it is "
                f"({n - k + 1}, {n})"
            )
        if m.shape != want.shape:
            raise ExerciseError(
                f"{where}: M should have shape {want.shape} (one row per "
                f"output, one column per input), got {m.shape}"
            )
        if np.allclose(m, _band(w[::-1], n)):
            raise ExerciseError(
                f"{where}: flipped kernel: row i holds w[0..k-1] from "
                "column i on, in that order, for cross-correlation"
            )
        if np.allclose(m[:, 1:], want[:, :-1]) or np.allclose(m[:, :-1], want[:, 1:]):
            raise ExerciseError(
                f"{where}: the band is shifted by one column: row i "
                "must start at column i"
            )
        if not np.allclose(m, want):
            i, j = np.argwhere(~np.isclose(m, want))[0]
            raise ExerciseError(
                f"{where}: M[{i}, {j}] is {m[i, j]:.4g}, expected {want[i, j]:.4g}"
            )
    return "M @ x reproduces cross-correlation, and the band sits where it should."


# --------------------------------------------------------------------------------------
# Exercise: a kernel that detects horizontal edges

_STEP = np.repeat(
    [[10.0], [10.0], [10.0], [0.0], [0.0], [0.0]], 6, axis=1
)  # bright top


def _respond(kernel, image):
    return conv2d(image[None, None], np.asarray(kernel, float)[None, None])[0, 0]


@checker("horizontal_edge_kernel")
def check_edge_kernel(fn: Callable) -> str:
    """Check ``fn()``: a 3x3 kernel, positive on a bright-above-dark horizontal edge."""
    k = np.asarray(call(fn), dtype=float)
    if k.shape != (3, 3):
        raise ExerciseError(f"return a 3x3 kernel, got shape {k.shape}")
    flat = _respond(k, np.full((6, 6), 7.0))
    if not np.allclose(flat, 0):
        raise ExerciseError(
            f"the kernel responds to a flat image ({flat[0, 0]:.3g} "
            "everywhere): its weights should sum to zero"
        )
    across = _respond(k, _STEP)  # edge between rows 2 and 3
    along = _respond(k, _STEP.T.copy())  # the same edge turned vertical
    if np.allclose(across, 0) and not np.allclose(along, 0):
        raise ExerciseError(
            "it detects vertical edges, not horizontal ones: the kernel "
            "should change from row to row, not from column to column"
        )
    if not np.allclose(along, 0):
        raise ExerciseError(
            "it also responds to vertical edges: make every row of the kernel constant"
        )
    if across.max() <= 0 < -across.min():
        raise ExerciseError(
            "sign flipped: the response to bright-above-dark should be "
            "positive (put the positive weights in the top row)"
        )
    if across.max() <= 0:
        raise ExerciseError("no response to a horizontal edge")
    return (
        "flat regions and vertical edges give 0; a bright-above-dark edge is positive."
    )
