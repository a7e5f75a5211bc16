"""Checkers of "Why convolutions" recognise the usual wrong answers."""

import numpy as np
import pytest
from test_exercises_common import assume_contiguous

from cnnlib.exercises import ExerciseError
from cnnlib.exercises.why import (
    check_conv2d_params,
    check_dense_params,
    check_translate,
)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda i, o: i * o, "forgot the biases"),
        (lambda i, o: i * o + i, "per OUTPUT"),
        (lambda i, o: (i + 1) * (o + 1), "only the outputs"),
        (lambda i, o: i + o, "a product, not a sum"),
        (lambda i, o: i * o + 1, "not one shared"),
        (lambda i, o: i * o + i + o, "biases on the inputs too"),
        (lambda i, o: i + o + o, "a product, not a sum"),
        (lambda i, o: int(np.int32(i) * np.int32(o) + np.int32(o)), "overflowed"),
        (lambda i, o: i * o + o + 2, "2 too large"),
        (lambda i, o: i * o + o + 0.5, "a fraction"),
        (lambda i, o: str(i * o + o), "return a number"),
        (lambda i, o: 7, "you return 7 whatever"),
    ],
    ids=[
        "no-bias",
        "per-input",
        "constant-input",
        "sum",
        "shared-bias",
        "input-and-output-biases",
        "sum-with-bias",
        "int32",
        "offset",
        "fraction",
        "string",
        "constant",
    ],
)
def test_dense_params(wrong, message):
    assert check_dense_params(lambda i, o: i * o + o)
    with np.errstate(over="ignore"), pytest.raises(ExerciseError, match=message):
        check_dense_params(wrong)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda ci, co, k: ci * co * k * k, "forgot the biases"),
        (lambda ci, co, k: co * k * k + co, "ALL input channels"),
        (lambda ci, co, k: ci * co * k + co, "k \\* k weights, not k \\("),
        (lambda ci, co, k: ci * co * k * k + ci * co, "shared by all input channels"),
        (lambda ci, co, k: ci + co + k, "expected"),
        (lambda ci, co, k: ci * co * k * k + 1, "not one shared"),
        (lambda ci, co, k: ci * co * k * k + ci, "not per input channel"),
        (lambda ci, co, k: co * (ci + k * k) + co, "a product: you added"),
        (lambda ci, co, k: ci * co * 2 * k + co, "not k \\+ k"),
        (lambda ci, co, k: ci * k * k + ci * co + co, "depthwise-separable"),
        (lambda ci, co, k: ci * co * k * k + ci + co, "input channels too"),
        (lambda ci, co, k: co * k * k, "two mistakes: .*biases.*ALL input channels"),
    ],
    ids=[
        "no-bias",
        "one-channel",
        "k-not-k2",
        "bias-per-pair",
        "other",
        "shared-bias",
        "input-bias",
        "added",
        "2k",
        "separable",
        "both-biases",
        "two-mistakes",
    ],
)
def test_conv2d_params(wrong, message):
    assert check_conv2d_params(lambda ci, co, k: ci * co * k * k + co)
    with pytest.raises(ExerciseError, match=message):
        check_conv2d_params(wrong)


def shift(x, s):
    out = np.zeros_like(x)
    if s >= 0:
        out[s:] = x[: len(x) - s]
    else:
        out[:s] = x[-s:]
    return out


def minus_s_slice(x, s):
    """x[:-s] is empty for s = 0."""
    return np.concatenate([np.zeros(s), x[:-s]]) if s >= 0 else shift(x, s)


def minus_s_assign(x, s):
    out = np.zeros_like(x)
    if s >= 0:
        out[s:] = x[:-s]
    else:
        out[:s] = x[-s:]
    return out


def in_place(x, s):
    x[:] = shift(x, s)
    return x


def int_output(x, s):
    out = np.zeros(len(x), dtype=int)
    out[:] = shift(x, s)
    return out


def absolute_shift(x, s):
    return shift(x, abs(s))


def zeros_wrong_end(x, s):
    out = np.roll(x, s)
    if s > 0:
        out[len(x) - s :] = 0
    elif s < 0:
        out[:-s] = 0
    return out


def edge_fill(x, s):
    n = len(x)
    if s >= 0:
        return np.pad(x, (s, 0), mode="edge")[:n] if s < n else np.full(n, x[0])
    return np.pad(x, (0, -s), mode="edge")[-s:] if -s < n else np.full(n, x[-1])


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda x, s: shift(x, -s), "wrong direction: T_v moves the signal RIGHT"),
        (lambda x, s: np.roll(x, s), "np.roll"),
        (lambda x, s: shift(x, s + 1) if s else x, "off by one"),
        (lambda x, s: shift(x, s)[1:], "keep the length"),
        (lambda x, s: x * 0 + 1, "expected|off by the same"),
        (minus_s_slice, "x\\[:-0\\] = x\\[:0\\], an empty array"),
        (minus_s_assign, "x\\[:-0\\] = x\\[:0\\], empty"),
        (in_place, "changed its input x in place"),
        (int_output, "integer array"),
        (absolute_shift, "LEFT for v < 0 \\(did you use \\|v\\|\\?\\)"),
        (zeros_wrong_end, "zeros are at the wrong end"),
        (edge_fill, "repeat the end value"),
        (lambda x, s: shift(assume_contiguous(x), s), "stored non-contiguously"),
        (lambda x, s: shift(x, s).astype(np.float32), "float32"),
    ],
    ids=[
        "direction",
        "roll",
        "off-by-one",
        "length",
        "constant",
        "minus-s-slice",
        "minus-s-assign",
        "in-place",
        "int-output",
        "abs-s",
        "zeros-wrong-end",
        "edge-fill",
        "as-strided",
        "float32",
    ],
)
def test_translate(wrong, message):
    assert check_translate(shift)
    with pytest.raises(ExerciseError, match=message):
        check_translate(wrong)
