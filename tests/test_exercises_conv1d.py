"""The 1D chapter's checkers name the mistake: feed them typical wrong answers."""

import math

import numpy as np
import pytest

from cnnlib.exercises._core import ExerciseError
from cnnlib.exercises.conv1d import (
    check_conv_pool_length,
    check_moving_average,
    check_parameter_counts,
    check_receptive_field,
)


def test_a_crash_is_reported_with_the_inputs():
    def broken(x, m):
        return x[100]

    with pytest.raises(ExerciseError, match="IndexError"):
        check_moving_average(broken)


# --------------------------------------------------------------------------------------
# moving_average(x, m)


def window(x, m, lo=None, width=None, divide=None, pad="zeros"):
    """A configurable moving average, so that each test injects one mistake."""
    width = 2 * m + 1 if width is None else width
    lo = -m if lo is None else lo
    n = len(x)
    if pad == "edge":
        xp = np.pad(x, m, mode="edge")
        return np.array([xp[t : t + width].mean() for t in range(n)])
    y = np.zeros(n)
    for t in range(n):
        a, b = max(t + lo, 0), min(t + lo + width - 1, n - 1)
        total = x[a : b + 1].sum()
        if divide == "inside":
            y[t] = total / (b - a + 1)
        elif divide == "none":
            y[t] = total
        else:
            y[t] = total / width
    return y


def test_moving_average_correct_answer_passes(capsys):
    assert check_moving_average(lambda x, m: window(x, m))
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda x, m: np.convolve(x, np.ones(2 * m + 1) / (2 * m + 1), "valid"),
            "'valid'",
        ),
        (
            lambda x, m: np.convolve(x, np.ones(2 * m + 1) / (2 * m + 1), "full"),
            "'full'",
        ),
        (lambda x, m: window(x, m, divide="none"), "summed, not averaged"),
        (lambda x, m: window(x, m, divide="inside"), "number of samples inside"),
        (lambda x, m: window(x, m, pad="edge"), "repeating the end samples"),
        (lambda x, m: window(x, m, lo=-2 * m), "the past only"),
        (lambda x, m: window(x, m, lo=0), "the future only"),
        (lambda x, m: window(x, m, lo=-(m // 2), width=m + 1), "window holds"),
        (lambda x, m: window(x, m)[None], "1-D array"),
        (lambda x, m: window(x, m)[:-1], "same length as x"),
        (lambda x, m: window(x, m) + 1e-3, "expected"),
    ],
    ids=[
        "valid",
        "full",
        "sum",
        "edge-normalised",
        "edge-padding",
        "causal",
        "anticausal",
        "window-size",
        "shape",
        "length",
        "values",
    ],
)
def test_moving_average_diagnoses(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_moving_average(wrong)


# --------------------------------------------------------------------------------------
# parameter_counts(n, c_in, c_out, k) -> (dense, conv)


def dense_ok(n, ci, co, k):
    return ci * n * co * n + co * n


def conv_ok(n, ci, co, k):
    return co * (ci * k + 1)


def test_parameter_counts_correct_answer_passes(capsys):
    assert check_parameter_counts(lambda *a: (dense_ok(*a), conv_ok(*a)))
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda *a: (conv_ok(*a), dense_ok(*a)), "swapped"),
        (lambda *a: dense_ok(*a), "return a pair"),
        (
            lambda n, ci, co, k: (ci * n * co * n, conv_ok(n, ci, co, k)),
            "left them out",
        ),
        (
            lambda n, ci, co, k: (ci * n * co * n + co, conv_ok(n, ci, co, k)),
            "not one per output channel",
        ),
        (
            lambda n, ci, co, k: (ci * co * n + co * n, conv_ok(n, ci, co, k)),
            "positions only once",
        ),
        (
            lambda n, ci, co, k: (dense_ok(n, ci, co, k), co * (ci * k + 1) * n),
            "does not depend on the length",
        ),
        (
            lambda n, ci, co, k: (dense_ok(n, ci, co, k), co * (k + 1)),
            "spans all c_in input channels",
        ),
        (
            lambda n, ci, co, k: (dense_ok(n, ci, co, k), co * ci * k),
            "one bias: add c_out",
        ),
        (
            lambda n, ci, co, k: (dense_ok(n, ci, co, k), co * ci * (k + 1)),
            "not one per input channel",
        ),
        (lambda n, ci, co, k: (dense_ok(n, ci, co, k), 7), "conv: expected"),
        (lambda n, ci, co, k: (7, conv_ok(n, ci, co, k)), "dense: expected"),
    ],
    ids=[
        "swapped",
        "not-a-pair",
        "dense-no-bias",
        "dense-bias-per-channel",
        "dense-positions-once",
        "conv-per-position",
        "conv-no-c_in",
        "conv-no-bias",
        "conv-bias-per-input-channel",
        "conv-other",
        "dense-other",
    ],
)
def test_parameter_counts_diagnoses(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_parameter_counts(wrong)


# --------------------------------------------------------------------------------------
# receptive_field(layers)


def rf(layers):
    r, j = 1, 1
    for k, s in layers:
        r, j = r + (k - 1) * j, j * s
    return r


def test_receptive_field_correct_answer_passes(capsys):
    assert check_receptive_field(rf)
    assert "correct" in capsys.readouterr().out


def jumps_including_current(layers):
    r, j = 1, 1
    for k, s in layers:
        j *= s
        r += (k - 1) * j
    return r


def k_instead_of_k_minus_1(layers):
    r, j = 0, 1
    for k, s in layers:
        r, j = r + k * j, j * s
    return r


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda layers: 1 + sum(k - 1 for k, _ in layers), "strides ignored"),
        (jumps_including_current, "up to and including the current layer"),
        (k_instead_of_k_minus_1, "off by one per layer"),
        (lambda layers: math.prod(k for k, _ in layers), "not multiplication"),
        (lambda layers: math.prod(s for _, s in layers), "that is the jump"),
        (lambda layers: float(rf(layers)), "return an int"),
        (lambda layers: rf(layers) + 2, "expected"),
    ],
    ids=["no-strides", "current-stride", "k", "product", "jump", "float", "other"],
)
def test_receptive_field_diagnoses(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_receptive_field(wrong)


# --------------------------------------------------------------------------------------
# conv_pool_length(n, k, stride, padding, pool)


def length_ok(n, k, s, p, q):
    return ((n + 2 * p - k) // s + 1) // q


def test_conv_pool_length_correct_answer_passes(capsys):
    assert check_conv_pool_length(length_ok)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda n, k, s, p, q: math.ceil(((n + 2 * p - k) // s + 1) / q), "not ceil"),
        (lambda n, k, s, p, q: ((n + 2 * p - k) // s) // q, "forgot the \\+1"),
        (lambda n, k, s, p, q: ((n + p - k) // s + 1) // q, "padding counted once"),
        (lambda n, k, s, p, q: (n + 2 * p - k) // s + 1, "pooling is missing"),
        (lambda n, k, s, p, q: (n + 2 * p - k + 1) // q, "stride is missing"),
        (lambda n, k, s, p, q: (n // q + 2 * p - k) // s + 1, "pooled before"),
        (lambda n, k, s, p, q: ((n + 2 * p - k) / s + 1) / q, "take the floor"),
        (lambda n, k, s, p, q: length_ok(n, k, s, p, q) + 3, "expected"),
    ],
    ids=[
        "ceil",
        "plus-one",
        "padding",
        "no-pool",
        "no-stride",
        "order",
        "float",
        "other",
    ],
)
def test_conv_pool_length_diagnoses(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_conv_pool_length(wrong)
