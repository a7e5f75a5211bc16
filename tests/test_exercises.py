"""The checkers name the mistake: feed them typical wrong answers, read the message."""

import numpy as np
import pytest

from cnnlib.exercises import (
    ExerciseError,
    check_conv1d,
    check_conv_matrix,
    check_edge_kernel,
    check_output_size,
)


def xcorr(x, w, stride=1, padding=0, flip=False, left=None, right=None):
    """A configurable loop implementation, so each test injects one mistake."""
    w = w[::-1] if flip else w
    left = padding if left is None else left
    right = padding if right is None else right
    xp = np.concatenate([np.zeros(left), x, np.zeros(right)])
    n_out = (len(xp) - len(w)) // stride + 1
    return np.array([w @ xp[i * stride : i * stride + len(w)] for i in range(n_out)])


def test_conv1d_correct_answer_passes(capsys):
    assert check_conv1d(lambda x, w, stride=1, padding=0: xcorr(x, w, stride, padding))
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda x, w, stride=1, padding=0: xcorr(x, w, stride, padding, flip=True),
            "flipped kernel",
        ),
        (
            lambda x, w, stride=1, padding=0: xcorr(x, w, 1, padding),
            "stride is ignored",
        ),
        (
            lambda x, w, stride=1, padding=0: xcorr(
                x, w, stride, 0, left=padding, right=0
            ),
            "one side only",
        ),
        (
            lambda x, w, stride=1, padding=0: xcorr(
                x, w, stride, 0, left=2 * padding, right=0
            ),
            "on the left",
        ),
        (
            lambda x, w, stride=1, padding=0: xcorr(x, w, stride, 0),
            "padding is ignored",
        ),
        (
            lambda x, w, stride=1, padding=0: xcorr(x, w, stride, padding)[:-1],
            "off-by-one",
        ),
        (
            lambda x, w, stride=1, padding=0: xcorr(x, w, stride, padding)[None],
            "1-D array",
        ),
        (
            lambda x, w, stride=1, padding=0: xcorr(x, w, stride, padding) + 1e-3,
            "expected",
        ),
    ],
    ids=[
        "flip",
        "stride",
        "one-side",
        "left",
        "no-padding",
        "off-by-one",
        "shape",
        "values",
    ],
)
def test_conv1d_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_conv1d(wrong)


def test_conv1d_off_by_one_window_start():
    def late(x, w, stride=1, padding=0):
        y = xcorr(np.concatenate([x, [0.0]]), w, stride, padding)
        return y[1:] if stride == 1 else y[: len(xcorr(x, w, stride, padding))]

    with pytest.raises(ExerciseError, match="one position too late"):
        check_conv1d(late)


def test_reader_exception_is_reported_with_inputs():
    def broken(x, w, stride=1, padding=0):
        return x[100]

    with pytest.raises(ExerciseError, match="IndexError"):
        check_conv1d(broken)


def test_checker_rejects_non_callable():
    with pytest.raises(TypeError, match="pass your function"):
        check_conv1d(np.zeros(3))


def size(n, k, stride=1, padding=0, dilation=1):
    return (n + 2 * padding - dilation * (k - 1) - 1) // stride + 1


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda n, k, stride=1, padding=0, dilation=1: (
                size(n, k, stride, padding, dilation) - 1
            ),
            r"\+1",
        ),
        (
            lambda n, k, stride=1, padding=0, dilation=1: (
                (n + padding - dilation * (k - 1) - 1) // stride + 1
            ),
            "padding counted once",
        ),
        (
            lambda n, k, stride=1, padding=0, dilation=1: size(n, k, stride, padding),
            "dilation ignored",
        ),
        (
            lambda n, k, stride=1, padding=0, dilation=1: size(
                n, k, 1, padding, dilation
            ),
            "stride ignored",
        ),
        (
            lambda n, k, stride=1, padding=0, dilation=1: (
                -(-(n + 2 * padding - dilation * (k - 1) - 1) // stride) + 1
            ),
            "floor",
        ),
        (
            lambda n, k, stride=1, padding=0, dilation=1: (
                (n + 2 * padding - dilation * (k - 1) - 1) / stride + 1
            ),
            "take the floor",
        ),
        (lambda n, k, stride=1, padding=0, dilation=1: 3, "expected"),
    ],
    ids=["plus-one", "pad-once", "dilation", "stride", "ceil", "no-floor", "other"],
)
def test_output_size_names_the_mistake(wrong, message):
    assert check_output_size(size)
    with pytest.raises(ExerciseError, match=message):
        check_output_size(wrong)


def band(w, n, flip=False, offset=0):
    w = w[::-1] if flip else w
    m = np.zeros((n - len(w) + 1, n))
    for i in range(n - len(w) + 1):
        j = min(i + offset, n - len(w))
        m[i, j : j + len(w)] = w
    return m


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda w, n: band(w, n).T, "transposed"),
        (lambda w, n: band(w, n, flip=True), "flipped kernel"),
        (lambda w, n: np.zeros((n, n)), "should have shape"),
        (lambda w, n: band(w, n) * 2, "expected"),
    ],
    ids=["transposed", "flip", "shape", "values"],
)
def test_conv_matrix_names_the_mistake(wrong, message):
    assert check_conv_matrix(band)
    with pytest.raises(ExerciseError, match=message):
        check_conv_matrix(wrong)


def test_conv_matrix_shifted_band():
    def shifted(w, n):
        m = np.zeros((n - len(w) + 1, n))
        for i in range(n - len(w) + 1):
            m[i, i + 1 : i + 1 + len(w)] = w[: n - i - 1]
        return m

    with pytest.raises(ExerciseError, match="shifted by one column"):
        check_conv_matrix(shifted)


GOOD = np.array([[1.0, 1, 1], [0, 0, 0], [-1, -1, -1]])


@pytest.mark.parametrize(
    "kernel, message",
    [
        (np.ones((3, 3)), "sum to zero"),
        (GOOD.T, "vertical edges, not horizontal"),
        (-GOOD, "sign flipped"),
        (GOOD + np.array([[1.0, 0, -1]] * 3), "also responds to vertical"),
        (np.zeros((2, 2)), "3x3"),
        (np.zeros((3, 3)), "no response"),
    ],
    ids=["flat", "transposed", "sign", "mixed", "shape", "zero"],
)
def test_edge_kernel_names_the_mistake(kernel, message):
    assert check_edge_kernel(lambda: GOOD)
    with pytest.raises(ExerciseError, match=message):
        check_edge_kernel(lambda: kernel)
