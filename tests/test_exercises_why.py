"""Checkers of "Why convolutions" recognise the usual wrong answers."""

import numpy as np
import pytest

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
        (lambda i, o: i + o, "expected"),
    ],
)
def test_dense_params(wrong, message):
    assert check_dense_params(lambda i, o: i * o + o)
    with pytest.raises(ExerciseError, match=message):
        check_dense_params(wrong)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda ci, co, k: ci * co * k * k, "forgot the biases"),
        (lambda ci, co, k: co * k * k + co, "ALL input channels"),
        (lambda ci, co, k: ci * co * k + co, "k \\* k weights"),
        (lambda ci, co, k: ci * co * k * k + ci * co, "one bias per output channel"),
        (lambda ci, co, k: ci + co + k, "expected"),
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


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda x, s: shift(x, -s), "wrong direction"),
        (lambda x, s: np.roll(x, s), "np.roll"),
        (lambda x, s: shift(x, s + 1) if s else x, "off by one"),
        (lambda x, s: shift(x, s)[1:], "keep the length"),
        (lambda x, s: x * 0 + 1, "expected"),
    ],
)
def test_translate(wrong, message):
    assert check_translate(shift)
    with pytest.raises(ExerciseError, match=message):
        check_translate(wrong)
