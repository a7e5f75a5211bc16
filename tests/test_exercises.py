"""The checkers name the mistake: feed them typical wrong answers, read the message.

Chapter 02 ("Convolution from first principles"). Each wrong answer is a plausible
student solution with one mistake; the test asserts that the message names it.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from test_exercises_common import assume_contiguous

from cnnlib.conv import conv1d
from cnnlib.exercises import (
    ExerciseError,
    check_conv1d,
    check_conv_matrix,
    check_edge_kernel,
    check_output_size,
)
from cnnlib.exercises.conv import _CONV1D_CASES, _xcorr


def xcorr(x, w, stride=1, padding=0, flip=False, left=None, right=None, **kw):
    """A configurable loop implementation, so each test injects one mistake."""
    w = w[::-1] if flip else w
    left = padding if left is None else left
    right = padding if right is None else right
    xp = np.concatenate([np.zeros(left), x, np.zeros(right)])
    n_out = max((len(xp) - len(w)) // stride + 1, 0)
    if "n_out" in kw:
        n_out = kw["n_out"](len(x), len(w), stride, padding)
    y = np.zeros(n_out, dtype=kw.get("dtype", float))
    for i in range(n_out):
        y[i] = w @ xp[i * stride : i * stride + len(w)]
    return y


def test_conv1d_correct_answers_pass(capsys):
    assert check_conv1d(lambda x, w, stride=1, padding=0: xcorr(x, w, stride, padding))
    assert check_conv1d(  # a view of a padded copy is fine
        lambda x, w, stride=1, padding=0: (
            np.array(
                [
                    w @ window
                    for window in np.lib.stride_tricks.sliding_window_view(
                        np.pad(x, padding), len(w)
                    )[::stride]
                ]
            )
            if len(x) + 2 * padding >= len(w)
            else np.zeros(0)
        )
    )
    assert "correct" in capsys.readouterr().out


def test_conv1d_reference_agrees_with_cnnlib_and_torch():
    for x, w, stride, padding in _CONV1D_CASES:
        want = _xcorr(x, w, stride, padding)
        if len(x) + 2 * padding >= len(w):
            xt, wt = torch.tensor(x, dtype=torch.float64), torch.tensor(w)
            torch_y = F.conv1d(xt[None, None], wt[None, None], None, stride, padding)
            assert np.allclose(want, torch_y[0, 0].numpy(), rtol=1e-12)
            got = conv1d(x[None, None] * 1.0, w[None, None], None, stride, padding)
            assert np.allclose(want, got[0, 0], rtol=1e-12)
        else:
            assert want.shape == (0,)


def fill_int(x, w, stride=1, padding=0):
    return xcorr(x, w, stride, padding, dtype=int)


def unpadded_count(x, w, stride=1, padding=0):
    return xcorr(
        x, w, stride, padding, n_out=lambda n, k, s, p: max((n - k) // s + 1, 0)
    )


def full_padding(x, w, stride=1, padding=0):
    return xcorr(x, w, stride, len(w) - 1)


def edge_padding(x, w, stride=1, padding=0):
    xp = np.pad(np.asarray(x, float), padding, mode="edge")
    return xcorr(xp, w, stride, 0)


def strided_with_itemsize(x, w, stride=1, padding=0):
    return xcorr(assume_contiguous(x), w, stride, padding)


def flips_in_place(x, w, stride=1, padding=0):
    w[:] = w[::-1].copy()  # "convolution flips the kernel", then flips it back
    return xcorr(x, w, stride, padding, flip=True)


def fails_when_no_window_fits(x, w, stride=1, padding=0):
    xp = np.pad(np.asarray(x, float), padding)
    windows = np.lib.stride_tricks.sliding_window_view(xp, len(w))[::stride]
    return windows @ w


def float32(x, w, stride=1, padding=0):
    return xcorr(x, w, stride, padding).astype(np.float32)


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
            "one window too few",
        ),
        (
            lambda x, w, stride=1, padding=0: xcorr(x, w, stride, padding)[None],
            "1-D array",
        ),
        (
            lambda x, w, stride=1, padding=0: xcorr(x, w, stride, padding) + 1e-3,
            "off by the same amount",
        ),
        (fill_int, "integer array .*fractions were cut off"),
        (unpadded_count, "counted the windows of the unpadded signal"),
        (full_padding, "k - 1 = 2 zeros on each side .*'full'"),
        (edge_padding, "repeating the end samples"),
        (strided_with_itemsize, "stored non-contiguously"),
        (flips_in_place, "changed its input w in place: its entries were reversed"),
        (fails_when_no_window_fits, "no window fits .*np.zeros\\(0\\)"),
        (float32, "float32"),
    ],
    ids=[
        "flip",
        "stride",
        "one-side",
        "left",
        "no-padding",
        "one-short",
        "shape",
        "offset",
        "int-output",
        "unpadded-count",
        "full-padding",
        "edge-padding",
        "as-strided",
        "mutates-w",
        "no-window",
        "float32",
    ],
)
def test_conv1d_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_conv1d(wrong)


def test_conv1d_off_by_one_window_start():
    def late(x, w, stride=1, padding=0):
        xp = np.pad(np.asarray(x, float), (padding, padding + 1))
        n_out = max((len(x) + 2 * padding - len(w)) // stride + 1, 0)
        return np.array(
            [w @ xp[i * stride + 1 : i * stride + 1 + len(w)] for i in range(n_out)]
        )

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


# --------------------------------------------------------------------------------------
# output_size(n, k, stride=1, padding=0, dilation=1)


def size(n, k, stride=1, padding=0, dilation=1):
    return (n + 2 * padding - dilation * (k - 1) - 1) // stride + 1


def formula(span, top=lambda n, p, span: n + 2 * p - span, divide=None, plus=1):
    """An output-size formula built from parts, to inject one mistake."""

    def output_size(n, k, stride=1, padding=0, dilation=1):
        t = top(n, padding, span(k, dilation))
        return (divide(t, stride) if divide else t // stride) + plus

    return output_size


RIGHT_SPAN = lambda k, d: d * (k - 1) + 1  # noqa: E731


@pytest.mark.parametrize(
    "wrong, message",
    [
        (formula(RIGHT_SPAN, plus=0), r"forgot the \+1"),
        (formula(RIGHT_SPAN, top=lambda n, p, s: n + p - s), "padding counted once"),
        (formula(lambda k, d: k), "dilation ignored"),
        (formula(RIGHT_SPAN, divide=lambda t, s: t), "stride ignored"),
        (formula(RIGHT_SPAN, divide=lambda t, s: -(-t // s)), "use floor"),
        (
            lambda n, k, stride=1, padding=0, dilation=1: (
                (n + 2 * padding - dilation * (k - 1) - 1) / stride + 1
            ),
            "return an int|take the floor",
        ),
        (lambda n, k, stride=1, padding=0, dilation=1: 3, "you return 3 whatever"),
        (formula(lambda k, d: d * k), "not d k"),
        (formula(lambda k, d: d * (k - 1)), r"left out the \+ 1"),
        (formula(RIGHT_SPAN, divide=lambda t, s: int(t / s)), r"int\(\) rounds toward"),
        (
            formula(RIGHT_SPAN, top=lambda n, p, s: n + 2 * p - s + 1, plus=0),
            "belongs outside the division",
        ),
        (
            lambda n, k, stride=1, padding=0, dilation=1: (
                size(n, k, stride, 0, dilation) + 2 * padding
            ),
            "padding goes inside the division",
        ),
        (
            formula(lambda k, d: k, top=lambda n, p, s: n + p - s),
            "two mistakes: .*padding counted once.*dilation ignored",
        ),
        (
            lambda n, k, stride=1, padding=0, dilation=1: float(
                np.floor((n + 2 * padding - dilation * (k - 1) - 1) / stride) + 1
            ),
            "a float: return an int",
        ),
    ],
    ids=[
        "plus-one",
        "pad-once",
        "dilation",
        "stride",
        "ceil",
        "no-floor",
        "other",
        "span-dk",
        "span-no-plus-one",
        "int-truncation",
        "plus-one-inside",
        "padding-after",
        "two-mistakes",
        "np-floor",
    ],
)
def test_output_size_names_the_mistake(wrong, message):
    assert check_output_size(size)
    with pytest.raises(ExerciseError, match=message):
        check_output_size(wrong)


# --------------------------------------------------------------------------------------
# conv_matrix_1d(w, n)


def band(w, n, flip=False, offset=0, rows=None, dtype=float):
    w = w[::-1] if flip else w
    k = len(w)
    rows = n - k + 1 if rows is None else rows
    m = np.zeros((rows, n), dtype=dtype)
    for i in range(rows):
        for t in range(k):
            if 0 <= i + offset + t < n:
                m[i, i + offset + t] = w[t]
    return m


def eye_minus_t(w, n):
    return sum(w[t] * np.eye(n - len(w) + 1, n, -t) for t in range(len(w)))


def reverses_w_in_place(w, n):
    w[:] = w[::-1].copy()
    return band(w, n, flip=True)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda w, n: band(w, n).T, "transposed"),
        (lambda w, n: band(w, n, flip=True), "flipped kernel"),
        (lambda w, n: np.zeros((n, n)), "square"),
        (lambda w, n: band(w, n) * 2, "2 times the right one"),
        (lambda w, n: band(w, n, offset=-(len(w) - 1), rows=n + len(w) - 1), "'full'"),
        (lambda w, n: band(w, n, dtype=int), "integer array"),
        (eye_minus_t, "column i - t"),
        (lambda w, n: band(w, n)[::-1], "reverse order"),
        (lambda w, n: band(w, n, offset=-1), "one column to the left"),
        (reverses_w_in_place, "changed its input w in place"),
        (lambda w, n: band(assume_contiguous(w), n), "stored non-contiguously"),
        (lambda w, n: np.zeros((n - len(w) + 1, n + 1)), "should have shape"),
    ],
    ids=[
        "transposed",
        "flip",
        "square",
        "factor",
        "full",
        "int",
        "eye-minus-t",
        "rows-reversed",
        "shift-left",
        "mutates-w",
        "as-strided",
        "shape",
    ],
)
def test_conv_matrix_names_the_mistake(wrong, message):
    assert check_conv_matrix(band)
    with pytest.raises(ExerciseError, match=message):
        check_conv_matrix(wrong)


def test_conv_matrix_shifted_band():
    with pytest.raises(ExerciseError, match="shifted by one column"):
        check_conv_matrix(lambda w, n: band(w, n, offset=1))


# --------------------------------------------------------------------------------------
# horizontal_edge_kernel()

GOOD = np.array([[1.0, 1, 1], [0, 0, 0], [-1, -1, -1]])
SOBEL = np.array([[1.0, 2, 1], [0, 0, 0], [-1, -2, -1]])


@pytest.mark.parametrize(
    "kernel",
    [
        GOOD,
        SOBEL,
        GOOD / 3,
        [[1, 1, 1], [-1, -1, -1], [0, 0, 0]],
        [[0, 2, 0], [0, 0, 0], [0, -2, 0]],
    ],
    ids=["prewitt", "sobel", "scaled", "upper-rows", "one-column"],
)
def test_edge_kernel_correct_answers_pass(kernel):
    assert check_edge_kernel(lambda: kernel)


@pytest.mark.parametrize(
    "kernel, message",
    [
        (np.ones((3, 3)), "sum to 9.*each column must sum to zero"),
        (GOOD.T, "vertical edges, not horizontal"),
        (-GOOD, "sign flipped"),
        (GOOD + np.array([[1.0, 0, -1]] * 3), "also responds to vertical.*each column"),
        (np.zeros((2, 2)), "3x3"),
        (np.zeros((3, 3)), "no response"),
        ([[-1, -1, -1], [2, 2, 2], [-1, -1, -1]], "both signs"),
        ([[1, 1, 1], [-2, -2, -2], [1, 1, 1]], "both signs"),
        ([[0, 1, 0], [1, -4, 1], [0, 1, 0]], "each column must sum to zero"),
        ([[1, 1, 1], [0, 0, 0], [-1, -2, 0]], r"column must sum to zero \(yours sum"),
        (SOBEL.T, "vertical edges, not horizontal"),
        ([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], "sign flipped"),
        ([[0, 1, 1], [-1, 0, 1], [-1, -1, 0]], "also responds to vertical"),
        ([[1], [0], [-1]], "3x3"),
    ],
    ids=[
        "flat",
        "transposed",
        "sign",
        "mixed",
        "shape",
        "zero",
        "ridge",
        "ridge-negated",
        "laplacian",
        "unbalanced-column",
        "sobel-transposed",
        "sobel-for-convolution",
        "diagonal",
        "column-vector",
    ],
)
def test_edge_kernel_names_the_mistake(kernel, message):
    with pytest.raises(ExerciseError, match=message):
        check_edge_kernel(lambda: kernel)


def test_conv1d_names_numpy_swapping_a_longer_kernel():
    def numpy_valid(x, w, stride=1, padding=0):
        return np.convolve(np.pad(x, padding), w[::-1], "valid")[::stride]

    with pytest.raises(ExerciseError, match="swap their inputs when the second"):
        check_conv1d(numpy_valid)
