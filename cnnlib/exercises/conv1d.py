"""Checkers for the chapter "1D convolutions: sound and MNIST-1D"."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from ..conv import conv1d
from ._core import ExerciseError, call, checker, on_layouts
from ._diagnose import (
    WINDOWS,
    as_array,
    formula_verdict,
    verdict,
    whole,
)
from ._formulas import RF_MISTAKES, SIZE_MISTAKES, rf_verdict, size

# --------------------------------------------------------------------------------------
# Exercise: a centred moving average with zero padding


def _moving_average_ref(x, h):
    """x (n,), h -> (n,): mean of x[t-h .. t+h], zeros beyond both ends."""
    w = np.full(2 * h + 1, 1.0 / (2 * h + 1))
    return conv1d(np.asarray(x, float)[None, None], w[None, None], padding=h)[0, 0]


def _window_mean(x, lo, hi, divide_by=None):
    """y[t] = sum(x[t+lo .. t+hi]) / divide_by (zeros outside x); divide_by=None
    divides by the number of samples that lie inside x instead."""
    n, y = len(x), np.zeros(len(x))
    for t in range(n):
        a, b = max(t + lo, 0), min(t + hi, n - 1)
        total = x[a : b + 1].sum() if a <= b else 0.0
        y[t] = total / (divide_by if divide_by else max(b - a + 1, 1))
    return y


def _padded_average(x, h, mode):
    if h and mode == "reflect" and len(x) < h + 1:
        return None  # np.pad cannot reflect a signal this short
    xp = np.pad(np.asarray(x, float), h, mode=mode)
    return np.convolve(xp, np.full(2 * h + 1, 1 / (2 * h + 1)), mode="valid")


def _wrapped(x, h):
    """x[t - h : t + h + 1] as Python reads it: a negative start counts from the end."""
    return np.array([x[t - h : t + h + 1].sum() for t in range(len(x))]) / (2 * h + 1)


_WRAPPED = (
    "x[t - h : t + h + 1] with t - h < 0 counts from the END of x (x[-1:2] is "
    "empty): clip the start at 0, or pad x with h zeros on each side first"
)
_INSIDE = (
    "at the ends you divided by the number of samples inside the signal; here "
    "samples beyond the ends count as zeros and every window is divided by 2h + 1"
)
_EDGE = "you padded by repeating the end samples: pad with zeros instead"
_PAST = "the window is not centred: it averages x[t-2h .. t], the past only"
_FUTURE = "the window is not centred: it averages x[t .. t+2h], the future only"


def _average_mistakes(x, h):
    size_ = 2 * h + 1
    ref = _moving_average_ref(x, h)
    xe = np.pad(np.asarray(x, float), h, mode="edge")
    found = [
        (
            f"the window is summed, not averaged: divide by 2h + 1 = {size_}",
            lambda: ref * size_,
        ),
        (
            f"you divided by 2h = {2 * h}: x[t-h .. t+h] holds 2h + 1 = {size_} "
            "samples",
            lambda: ref * size_ / (2 * h) if h else None,
        ),
        (_INSIDE, lambda: _window_mean(x, -h, h)),
        (_WRAPPED, lambda: _wrapped(x, h) if h else None),
        (_EDGE, lambda: np.convolve(xe, np.full(size_, 1 / size_), mode="valid")),
        *[
            (
                f"you padded with np.pad's mode={mode!r}: samples beyond the ends "
                "count as zeros (mode='constant')",
                partial(_padded_average, x, h, mode),
            )
            for mode in ("reflect", "symmetric", "wrap")
        ],
        (_PAST, lambda: _window_mean(x, -2 * h, 0, size_)),
        (_FUTURE, lambda: _window_mean(x, 0, 2 * h, size_)),
    ]
    for width in range(1, 3 * size_):
        for lo in {-(width // 2), -((width - 1) // 2)}:  # centred, either way if even
            message = (
                f"your window holds {width} samples; a window from t - h to t + h "
                f"holds 2h + 1 = {size_}"
            )
            make = partial(_window_mean, x, lo, lo + width - 1, width)
            if width != size_:
                found.append((message, make))
    return found


def _average_length(y, x, h):
    n, size_ = len(x), 2 * h + 1
    if len(y) == n - 2 * h:
        return (
            f"you returned {len(y)} values, only the windows that fit inside the "
            f"signal ('valid'): pad h = {h} zeros on each side so that the output "
            f"has the same length as x ({n})"
        )
    if len(y) == n + 2 * h:
        return (
            f"you returned {len(y)} values, every partial overlap ('full', "
            f"np.convolve's default): keep the {n} outputs centred on x's samples"
        )
    if len(y) == max(n, size_) and size_ > n:
        return (
            f"you returned {len(y)} values: np.convolve(x, w, 'same') returns "
            f"max(n, 2h + 1) values, and here the window ({size_}) is longer than "
            f"the signal ({n}); pad x with h zeros and keep n windows"
        )
    return f"the output should have the same length as x ({n}), got {len(y)}"


def _check_average_case(fn, x, h):
    y = as_array(call(fn, x, h))
    case = f"case (n={len(x)}, h={h}{', x of ints' if x.dtype.kind == 'i' else ''})"
    if y.ndim != 1:
        raise ExerciseError(f"{case}: return a 1-D array, got shape {y.shape}")
    if len(y) != len(x):
        raise ExerciseError(f"{case}: {_average_length(y, x, h)}")
    message = verdict(y, _moving_average_ref(x, h), _average_mistakes(x, h))
    if message:
        raise ExerciseError(f"{case}: {message}")


_MA_CASES = [  # (x, h): lengths and values chosen so that the mistakes differ
    (np.array([1.5, 2, 3, 4.25, 5, 6, 7, 8]), 1),
    (np.array([3.1, -1, 4, 1, -5, 9, 2, 6, 5, 3, 5]), 2),
    (np.array([0.0, 0, 9.5, 0, 0, 0, 0, 3, 0]), 3),
    (np.array([2.0, 7, 1, 8]), 0),
    (np.array([3, 1, 4, 1, 5, 9, 2, 6]), 1),  # integer samples, as in audio files
    (np.array([1.2, -0.7, 2.9]), 2),  # the window is longer than the signal
    (np.array([4.2]), 1),  # size 1
]


@checker("moving_average")
def check_moving_average(fn: Callable) -> str:
    """Check ``fn(x, h)``: the centred moving average over 2h+1 samples, zero padded."""
    for x, h in _MA_CASES:
        _check_average_case(fn, x, h)
    on_layouts(lambda x: _check_average_case(fn, x, 2), _MA_CASES[1][0])
    return f"{len(_MA_CASES)} cases agree with cnnlib.conv1d(x, ones(2h+1)/(2h+1), h)."


# --------------------------------------------------------------------------------------
# Exercise: parameters of a dense and a convolutional layer


def _dense_count(n, ci, co, k, weights="all", bias="output"):
    """A dense layer from (c_in, n) values to (c_out, n) values; options: mistakes."""
    w = {
        "all": (ci * n) * (co * n),
        "positions once": ci * co * n,
        "no positions": ci * co,
        "sum": ci * n + co * n,
    }[weights]
    b = {
        "output": co * n,
        "none": 0,
        "channel": co,
        "shared": 1,
        "input": ci * n,
        "both": ci * n + co * n,
    }[bias]
    return w + b


def _conv_count(n, ci, co, k, weights="filters", bias="output", positions=1):
    """A 'same' convolution (c_in -> c_out, kernel k); options: mistakes."""
    w = {
        "filters": co * ci * k,
        "one channel": co * k,
        "k x k": co * ci * k * k,
        "sum": co * (ci + k),
    }[weights]
    b = {"output": co, "none": 0, "shared": 1, "input": ci, "pair": co * ci}[bias]
    return (w + b) * (n if positions == "n" else 1)


_DENSE_MISTAKES = {
    "the dense layer has one bias per output unit (c_out * n of them); you left "
    "them out": {"bias": "none"},
    "the dense layer has one bias per output unit (c_out * n), not one per output "
    "channel": {"bias": "channel"},
    "the dense layer has one bias per output unit (c_out * n), not one shared bias": {
        "bias": "shared"
    },
    "the dense layer's biases belong to its outputs (c_out * n), not its inputs": {
        "bias": "input"
    },
    "the dense layer has biases on its outputs only (c_out * n), not on its inputs "
    "too": {"bias": "both"},
    "the dense layer connects every input value (c_in * n of them) to every output "
    "value (c_out * n): you counted the positions only once": {
        "weights": "positions once"
    },
    "the dense layer connects every input VALUE to every output value: c_in * n "
    "inputs times c_out * n outputs, not c_in * c_out": {"weights": "no positions"},
    "the dense layer has (c_in * n) * (c_out * n) weights, a product: you added the "
    "numbers of inputs and outputs": {"weights": "sum"},
}
_CONV_MISTAKES = {
    "the convolution's weights are shared by all positions: its count does not "
    "depend on the length n": {"positions": "n"},
    "each filter spans all c_in input channels: it has c_in * k weights, not k": {
        "weights": "one channel"
    },
    "a 1D kernel has k weights per input channel, not k * k": {"weights": "k x k"},
    "each filter has c_in * k weights, a product: you added c_in and k": {
        "weights": "sum"
    },
    "each of the c_out filters has one bias: add c_out": {"bias": "none"},
    "one bias per filter (c_out in all), not one per input channel": {"bias": "pair"},
    "one bias per filter (c_out in all), not one shared bias": {"bias": "shared"},
    "the biases belong to the c_out output channels, not the c_in input channels": {
        "bias": "input"
    },
}
_COUNT_CASES = [(40, 1, 15, 3), (19, 15, 15, 3), (100, 3, 8, 5), (8000, 1, 16, 16)]
_COUNT_CASES += [(7, 4, 2, 1)]  # c_out < c_in, k = 1


def _describe_counts(case):
    return "(n={}, c_in={}, c_out={}, k={})".format(*case)


def _count_message(observed, formula, mistakes, what):
    message = formula_verdict(observed, formula, formula, mistakes, _describe_counts)
    return f"{what}: {message}" if message else None


@checker("parameter_counts")
def check_parameter_counts(fn: Callable) -> str:
    """Check ``fn(n, c_in, c_out, k) -> (dense, conv)``: parameter counts, biases
    included, of a dense layer and of a 'same'-padded convolution that both map
    (c_in, n) values to (c_out, n) values."""
    dense, conv = [], []
    for case in _COUNT_CASES:
        got = call(fn, *case)
        where = _describe_counts(case)
        if not isinstance(got, tuple | list) or len(got) != 2:
            raise ExerciseError(f"{where}: return a pair (dense, conv), got {got!r}")
        dense.append((case, whole(got[0], f"{where}, dense")))
        conv.append((case, whole(got[1], f"{where}, conv")))
    if all(
        (d, c) == (_conv_count(*case), _dense_count(*case))
        for (case, d), (_, c) in zip(dense, conv, strict=True)
    ):
        raise ExerciseError("the pair is swapped: return (dense, conv), dense first")
    messages = [
        _count_message(dense, _dense_count, _DENSE_MISTAKES, "dense"),
        _count_message(conv, _conv_count, _CONV_MISTAKES, "conv"),
    ]
    messages = [m for m in messages if m]
    if messages:
        raise ExerciseError("\n".join(messages))
    d, c = _dense_count(8000, 1, 16, 16), _conv_count(8000, 1, 16, 16)
    return f"e.g. on 8000 audio samples, 1 -> 16 channels: dense {d:,}, conv {c:,}."


# --------------------------------------------------------------------------------------
# Exercise: the receptive field of a stack of layers


_RF_CASES = [
    [(3, 1)],
    [(3, 1), (3, 1)],
    [(3, 1), (3, 1), (3, 2), (3, 1)],  # the lecture's figure: 3, 5, 7, 11
    [(3, 2), (3, 2), (3, 2)],  # the lecture's MNIST-1D CNN: 15
    [(5, 1), (2, 2), (5, 1), (2, 2), (5, 1), (2, 2)],  # BetterCNN1d: 36
    [(16, 8), (4, 4), (3, 1), (4, 4), (3, 1), (4, 4), (3, 1)],  # SpokenDigitCNN
    [(1, 2), (3, 1)],  # a strided 1x1 layer first: 5
    [(2, 2)],  # a pooling layer alone
    [(7, 3), (2, 1), (3, 2), (5, 1)],
]


@checker("receptive_field")
def check_receptive_field(fn: Callable) -> str:
    """Check ``fn(layers)``: the receptive field, in input samples, of one unit after
    a stack of layers given as ``[(kernel, stride), ...]`` (pooling is a layer too)."""
    observed = []
    for layers in _RF_CASES:
        got = call(fn, list(layers))
        observed.append(((layers,), whole(got, f"receptive_field({layers})", True)))
    message = rf_verdict(observed, RF_MISTAKES)
    if message:
        raise ExerciseError(message)
    return "the lecture's stack sees 11 samples; SpokenDigitCNN's last layer 1,864."


# --------------------------------------------------------------------------------------
# Exercise: output length after a convolution and a pooling layer


def _conv_pool(n, k, s, p, q, pool="floor", stride=True, **conv):
    """The length after Conv1d(k, s, p) and a pooling of size q; options: mistakes."""
    if pool == "before":
        return size(n // q, k, s, p, **conv)
    length = size(n, k, s if stride else 1, p, **conv)
    return {
        "floor": length // q,
        "ceil": -(-length // q),
        "missing": length,
        "stride 1": length - q + 1,
        "padded": (length + 2 * p - q) // q + 1,
    }[pool]


_POOL_MISTAKES = {
    "pooling drops an incomplete last window: use floor, not ceil, after the pooling": {
        "pool": "ceil"
    },
    "the pooling is missing: divide the convolution's length by the pool size": {
        "pool": "missing"
    },
    "the pooling's windows do not overlap: its stride is the pool size too, so "
    "the length is divided by it": {"pool": "stride 1"},
    "the pooling layer has no padding: p belongs to the convolution only": {
        "pool": "padded"
    },
    "you pooled before the convolution: the convolution comes first": {
        "pool": "before"
    },
    "the stride is missing: the convolution keeps every s-th window": {"stride": False},
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
    (10, 3, 1, 0, 9),  # the pooling window is longer than the signal: 0
    (3, 4, 2, 0, 1),  # the kernel is longer than the signal: 0
    (1, 1, 1, 0, 1),  # size 1
]


@checker("conv_pool_length")
def check_conv_pool_length(fn: Callable) -> str:
    """Check ``fn(n, k, stride, padding, pool)``: the length after a convolution and
    a pooling layer whose window and stride are both ``pool``."""
    observed = []
    for case in _LENGTH_CASES:
        observed.append(
            (case, whole(call(fn, *case), f"conv_pool_length{case}", fraction=WINDOWS))
        )
    mistakes = {m: f for m, f in SIZE_MISTAKES.items() if "stride ignored" not in m}
    message = formula_verdict(
        observed,
        _conv_pool,
        _conv_pool,
        mistakes | _POOL_MISTAKES,
        lambda c: "n={}, k={}, stride={}, padding={}, pool={}".format(*c),
    )
    if message:
        raise ExerciseError(message)
    return f"{len(_LENGTH_CASES)} cases agree with torch's Conv1d + MaxPool1d."
