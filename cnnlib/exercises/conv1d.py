"""Checkers for the chapter "1D convolutions: sound and MNIST-1D"."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..conv import conv1d
from ._core import ExerciseError, call, checker

# --------------------------------------------------------------------------------------
# Exercise: a centred moving average with zero padding


def _moving_average_ref(x, m):
    """x (n,), m -> (n,): mean of x[t-m .. t+m], zeros beyond both ends."""
    w = np.full(2 * m + 1, 1.0 / (2 * m + 1))
    return conv1d(np.asarray(x, float)[None, None], w[None, None], padding=m)[0, 0]


def _window_mean(x, lo, hi, divide_by=None):
    """y[t] = sum(x[t+lo .. t+hi]) / divide_by (zeros outside x); divide_by=None
    divides by the number of samples that lie inside x instead."""
    n, y = len(x), np.zeros(len(x))
    for t in range(n):
        a, b = max(t + lo, 0), min(t + hi, n - 1)
        total = x[a : b + 1].sum() if a <= b else 0.0
        y[t] = total / (divide_by if divide_by else max(b - a + 1, 1))
    return y


def _diagnose_moving_average(y, x, m):
    n, size = len(x), 2 * m + 1
    if len(y) == n - 2 * m:
        return (
            f"you returned {len(y)} values, only the windows that fit inside the "
            f"signal ('valid'): pad m = {m} zeros on each side so that the output "
            f"has the same length as x ({n})"
        )
    if len(y) == n + 2 * m:
        return (
            f"you returned {len(y)} values, every partial overlap ('full', "
            f"np.convolve's default): keep the {n} outputs centred on x's samples"
        )
    if len(y) != n:
        return f"the output should have the same length as x ({n}), got {len(y)}"
    ref = _moving_average_ref(x, m)
    if np.allclose(y, ref * size):
        return (
            f"the window is summed, not averaged: divide by its length 2m + 1 = {size}"
        )
    if np.allclose(y, _window_mean(x, -m, m)):
        return (
            "at the ends you divided by the number of samples inside the signal; "
            "here samples beyond the ends count as zeros and every window is "
            f"divided by 2m + 1 = {size}"
        )
    xe = np.pad(np.asarray(x, float), m, mode="edge")
    if np.allclose(y, np.convolve(xe, np.full(size, 1 / size), mode="valid")):
        return "you padded by repeating the end samples: pad with zeros instead"
    if np.allclose(y, _window_mean(x, -2 * m, 0, size)):
        return (
            "the window is not centred: it averages x[t-2m .. t], the past only; "
            "average x[t-m .. t+m]"
        )
    if np.allclose(y, _window_mean(x, 0, 2 * m, size)):
        return (
            "the window is not centred: it averages x[t .. t+2m], the future only; "
            "average x[t-m .. t+m]"
        )
    for width in range(1, 3 * size):
        starts = {-(width // 2), -((width - 1) // 2)}  # centred, either way if even
        if width != size and any(
            np.allclose(y, _window_mean(x, lo, lo + width - 1, width)) for lo in starts
        ):
            return (
                f"your window holds {width} samples; a window from t - m to t + m "
                f"holds 2m + 1 = {size}"
            )
    i = int(np.argmax(np.abs(y - ref)))
    return f"y[{i}] is {y[i]:.4g}, expected {ref[i]:.4g}"


_MA_CASES = [  # (x, m): lengths and values chosen so that the mistakes differ
    (np.array([1.0, 2, 3, 4, 5, 6, 7, 8]), 1),
    (np.array([3.0, -1, 4, 1, -5, 9, 2, 6, 5, 3, 5]), 2),
    (np.array([0.0, 0, 9, 0, 0, 0, 0, 3, 0]), 3),
    (np.array([2.0, 7, 1, 8]), 0),
]


@checker("moving_average")
def check_moving_average(fn: Callable) -> str:
    """Check ``fn(x, m)``: the centred moving average over 2m+1 samples, zero padded."""
    for x, m in _MA_CASES:
        y = np.asarray(call(fn, x.copy(), m), dtype=float)
        case = f"(n={len(x)}, m={m})"
        if y.ndim != 1:
            raise ExerciseError(f"case {case}: return a 1-D array, got shape {y.shape}")
        if len(y) != len(x) or not np.allclose(y, _moving_average_ref(x, m)):
            raise ExerciseError(f"case {case}: {_diagnose_moving_average(y, x, m)}")
    return f"{len(_MA_CASES)} cases agree with cnnlib.conv1d(x, ones(2m+1)/(2m+1), m)."


# --------------------------------------------------------------------------------------
# Exercise: parameters of a dense and a convolutional layer


def _parameter_counts_ref(n, c_in, c_out, k):
    dense = (c_in * n) * (c_out * n) + c_out * n
    conv = c_out * (c_in * k + 1)
    return dense, conv


_DENSE_MISTAKES = {
    "the dense layer has one bias per output unit (c_out * n of them); you left "
    "them out": lambda n, ci, co, k: (ci * n) * (co * n),
    "the dense layer has one bias per output unit (c_out * n), not one per output "
    "channel": lambda n, ci, co, k: (ci * n) * (co * n) + co,
    "the dense layer connects every input value (c_in * n of them) to every output "
    "value (c_out * n): you counted the positions only once": (
        lambda n, ci, co, k: ci * co * n + co * n
    ),
}
_CONV_MISTAKES = {
    "the convolution's weights are shared by all positions: its count does not "
    "depend on the length n": lambda n, ci, co, k: co * (ci * k + 1) * n,
    "each filter spans all c_in input channels: it has c_in * k weights, not k": (
        lambda n, ci, co, k: co * (k + 1)
    ),
    "each of the c_out filters has one bias: add c_out": (
        lambda n, ci, co, k: co * ci * k
    ),
    "one bias per filter (c_out in all), not one per input channel": (
        lambda n, ci, co, k: co * ci * (k + 1)
    ),
}
_COUNT_CASES = [(40, 1, 15, 3), (19, 15, 15, 3), (100, 3, 8, 5), (8000, 1, 16, 16)]


def _diagnose_count(got, want, case, mistakes, what):
    for message, formula in mistakes.items():
        if got == formula(*case):
            return f"{what}: {message}"
    return f"{what}: expected {want}, got {got}"


@checker("parameter_counts")
def check_parameter_counts(fn: Callable) -> str:
    """Check ``fn(n, c_in, c_out, k) -> (dense, conv)``: parameter counts, biases
    included, of a dense layer and of a 'same'-padded convolution that both map
    (c_in, n) values to (c_out, n) values."""
    for case in _COUNT_CASES:
        got = call(fn, *case)
        where = "(n={}, c_in={}, c_out={}, k={})".format(*case)
        if not isinstance(got, tuple | list) or len(got) != 2:
            raise ExerciseError(f"{where}: return a pair (dense, conv), got {got!r}")
        dense, conv = (int(v) for v in got)
        want_dense, want_conv = _parameter_counts_ref(*case)
        if (dense, conv) == (want_conv, want_dense):
            raise ExerciseError(
                f"{where}: the pair is swapped: return (dense, conv), dense first"
            )
        if dense != want_dense:
            msg = _diagnose_count(dense, want_dense, case, _DENSE_MISTAKES, "dense")
            raise ExerciseError(f"{where}: {msg}")
        if conv != want_conv:
            msg = _diagnose_count(conv, want_conv, case, _CONV_MISTAKES, "conv")
            raise ExerciseError(f"{where}: {msg}")
    n, c_in, c_out, k = _COUNT_CASES[-1]
    dense, conv = _parameter_counts_ref(n, c_in, c_out, k)
    return (
        f"e.g. on 8000 audio samples, 1 -> 16 channels: dense {dense:,}, conv {conv:,}."
    )


# --------------------------------------------------------------------------------------
# Exercise: the receptive field of a stack of layers


def _receptive_field_ref(layers):
    r, j = 1, 1  # receptive field and jump (input samples between neighbours)
    for k, s in layers:
        r, j = r + (k - 1) * j, j * s
    return r


_RF_MISTAKES = {
    "strides ignored: after a layer with stride s, neighbouring units are s input "
    "samples apart, so the next layer's k - 1 extra units add (k - 1) times the "
    "product of the strides BEFORE it": (
        lambda layers: 1 + sum(k - 1 for k, _ in layers)
    ),
    "you multiplied by the strides up to and including the current layer: a "
    "layer's own stride only spaces out the NEXT layer's inputs": (
        lambda layers: (
            1
            + sum(
                (k - 1) * math.prod(s for _, s in layers[: i + 1])
                for i, (k, _) in enumerate(layers)
            )
        )
    ),
    "off by one per layer: a window of k units reaches k - 1 units beyond the "
    "first one, so add (k - 1) * jump, not k * jump": (
        lambda layers: sum(
            k * math.prod(s for _, s in layers[:i]) for i, (k, _) in enumerate(layers)
        )
    ),
    "receptive fields grow by addition, not multiplication of the kernel sizes": (
        lambda layers: math.prod(k for k, _ in layers)
    ),
    "that is the jump (the product of the strides), not the receptive field": (
        lambda layers: math.prod(s for _, s in layers)
    ),
}

_RF_CASES = [
    [(3, 1)],
    [(3, 1), (3, 1)],
    [(3, 1), (3, 1), (3, 2), (3, 1)],  # the lecture's figure: 3, 5, 7, 11
    [(3, 2), (3, 2), (3, 2)],  # the lecture's MNIST-1D CNN: 15
    [(5, 1), (2, 2), (5, 1), (2, 2), (5, 1), (2, 2)],  # BetterCNN1d: 36
    [(16, 8), (4, 4), (3, 1), (4, 4), (3, 1), (4, 4), (3, 1)],  # SpokenDigitCNN
]


@checker("receptive_field")
def check_receptive_field(fn: Callable) -> str:
    """Check ``fn(layers)``: the receptive field, in input samples, of one unit after
    a stack of layers given as ``[(kernel, stride), ...]`` (pooling is a layer too)."""
    wrong = []
    for layers in _RF_CASES:
        got = call(fn, list(layers))
        if not isinstance(got, int | np.integer):
            raise ExerciseError(
                f"receptive_field({layers}) returned {got!r}: return an int"
            )
        if got != _receptive_field_ref(layers):
            wrong.append((layers, int(got)))
    if wrong:
        for message, formula in _RF_MISTAKES.items():
            if all(formula(layers) == got for layers, got in wrong):
                raise ExerciseError(message)
        layers, got = wrong[0]
        raise ExerciseError(
            f"receptive_field({layers}): expected {_receptive_field_ref(layers)}, "
            f"got {got}"
        )
    return "the lecture's stack sees 11 samples; SpokenDigitCNN's last layer 1,864."


# --------------------------------------------------------------------------------------
# Exercise: output length after a convolution and a pooling layer


def _conv_pool_ref(n, k, stride, padding, pool):
    conv = (n + 2 * padding - k) // stride + 1
    return conv // pool


_LENGTH_MISTAKES = {
    "pooling drops an incomplete last window: use floor, not ceil, after the "
    "pooling": lambda n, k, s, p, q: -(-((n + 2 * p - k) // s + 1) // q),
    "forgot the +1 in the convolution's length floor((n + 2p - k) / s) + 1": (
        lambda n, k, s, p, q: ((n + 2 * p - k) // s) // q
    ),
    "padding counted once: there are p zeros on each side, 2p in all": (
        lambda n, k, s, p, q: ((n + p - k) // s + 1) // q
    ),
    "the pooling is missing: divide the convolution's length by the pool size": (
        lambda n, k, s, p, q: (n + 2 * p - k) // s + 1
    ),
    "the stride is missing: the convolution keeps every s-th window": (
        lambda n, k, s, p, q: (n + 2 * p - k + 1) // q
    ),
    "you pooled before the convolution: the convolution comes first": (
        lambda n, k, s, p, q: (n // q + 2 * p - k) // s + 1
    ),
}
_LENGTH_CASES = [
    (8000, 16, 8, 4, 4),  # SpokenDigitCNN's first block: 1000 -> 250
    (40, 5, 1, 2, 2),  # BetterCNN1d's first block: 40 -> 20
    (40, 5, 1, 0, 2),  # without padding: 36 -> 18
    (19, 3, 2, 0, 1),
    (100, 7, 3, 1, 3),
    (23, 4, 2, 1, 2),
    (50, 3, 1, 1, 4),
    (10, 3, 1, 2, 1),
]


@checker("conv_pool_length")
def check_conv_pool_length(fn: Callable) -> str:
    """Check ``fn(n, k, stride, padding, pool)``: the length after a convolution and
    a pooling layer whose window and stride are both ``pool``."""
    wrong = []
    for case in _LENGTH_CASES:
        got = call(fn, *case)
        if isinstance(got, float | np.floating) and not float(got).is_integer():
            raise ExerciseError(
                f"conv_pool_length{case} returned {got}: lengths are whole "
                "numbers, take the floor"
            )
        if int(got) != _conv_pool_ref(*case):
            wrong.append((case, int(got)))
    if wrong:
        for message, formula in _LENGTH_MISTAKES.items():
            if all(formula(*case) == got for case, got in wrong):
                raise ExerciseError(message)
        case, got = wrong[0]
        raise ExerciseError(
            "n={}, k={}, stride={}, padding={}, pool={}: ".format(*case)
            + f"expected {_conv_pool_ref(*case)}, got {got}"
        )
    return f"{len(_LENGTH_CASES)} cases agree with torch's Conv1d + MaxPool1d."
