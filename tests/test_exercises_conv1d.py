"""The 1D chapter's checkers name the mistake: feed them typical wrong answers."""

import numpy as np
import pytest
import scipy.ndimage
from test_exercises_common import assume_contiguous

from cnnlib.exercises._core import ExerciseError
from cnnlib.exercises.conv1d import (
    check_moving_average,
    check_parameter_counts,
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
        (lambda x, m: window(x, m) + 1e-3, "off by the same amount"),
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


def zeros_like_x(x, m):
    """The output takes x's dtype: for integer samples every mean is truncated."""
    y = np.zeros_like(x)
    y[:] = window(x.astype(float), m)
    return y


def cumsum_in_place(x, m):
    c = np.cumsum(np.pad(x, (m + 1, m)))
    np.cumsum(x, out=x)  # an idea abandoned halfway: x is now a running sum
    return (c[2 * m + 1 :] - c[: -2 * m - 1]) / (2 * m + 1)


def negative_start(x, m):
    return np.array([x[t - m : t + m + 1].sum() / (2 * m + 1) for t in range(len(x))])


@pytest.mark.parametrize(
    "wrong, message",
    [
        (zeros_like_x, "integer array .*fractions were cut off"),
        (
            lambda x, m: np.convolve(x, np.ones(2 * m + 1) / (2 * m + 1), "same"),
            r"'same'\) returns max\(n, 2h \+ 1\) values",
        ),
        (
            lambda x, m: window(x, m) * (2 * m + 1) / (2 * m) if m else x,
            "divided by 2h",
        ),
        (negative_start, "counts from the END of x"),
        (cumsum_in_place, "changed its input x in place"),
        (lambda x, m: window(x, m).astype(np.float32), "float32"),
        (lambda x, m: window(assume_contiguous(x), m), "stored non-contiguously"),
        (
            lambda x, m: scipy.ndimage.uniform_filter1d(x, 2 * m + 1, mode="constant"),
            "integer array",
        ),
        (
            lambda x, m: np.array(
                [x[max(t - m, 0) : t + m + 1].mean() for t in range(len(x))]
            ),
            "number of samples inside",
        ),
    ],
    ids=[
        "zeros-like-int",
        "np-same",
        "divide-2m",
        "negative-start",
        "mutates-x",
        "float32",
        "as-strided",
        "uniform-filter-int",
        "clipped-mean",
    ],
)
def test_moving_average_new_mistakes(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_moving_average(wrong)


def test_moving_average_library_answers_pass():
    assert check_moving_average(
        lambda x, m: scipy.ndimage.uniform_filter1d(
            x.astype(float), 2 * m + 1, mode="constant"
        )
    )
    assert check_moving_average(
        lambda x, m: np.convolve(
            np.pad(x, m), np.ones(2 * m + 1) / (2 * m + 1), "valid"
        )
    )


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
        (lambda n, ci, co, k: (dense_ok(n, ci, co, k), 7), "conv: you return 7"),
        (lambda n, ci, co, k: (7, conv_ok(n, ci, co, k)), "dense: you return 7"),
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


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda n, ci, co, k: (dense_ok(n, ci, co, k), co * ci * k + 1),
            "conv: .*one shared bias",
        ),
        (
            lambda n, ci, co, k: (dense_ok(n, ci, co, k), co * ci * k + ci),
            "conv: .*not the c_in input",
        ),
        (
            lambda n, ci, co, k: (dense_ok(n, ci, co, k), co * (ci * k * k + 1)),
            "conv: .*not k \\* k",
        ),
        (
            lambda n, ci, co, k: (dense_ok(n, ci, co, k), co * (ci + k) + co),
            "conv: .*you added c_in and k",
        ),
        (
            lambda n, ci, co, k: (ci * n * co * n + 1, conv_ok(n, ci, co, k)),
            "dense: .*not one shared bias",
        ),
        (
            lambda n, ci, co, k: (ci * n + co * n + co * n, conv_ok(n, ci, co, k)),
            "dense: .*you added",
        ),
        (
            lambda n, ci, co, k: (ci * co + co * n, conv_ok(n, ci, co, k)),
            "dense: .*not c_in \\* c_out",
        ),
        (
            lambda n, ci, co, k: (
                ci * n * co * n + ci * n + co * n,
                conv_ok(n, ci, co, k),
            ),
            "dense: .*inputs too",
        ),
        (
            lambda n, ci, co, k: (ci * n * co * n, co * ci * k),
            "(?s)dense: .*left them out.*\nconv: .*one bias: add c_out",
        ),
        (
            lambda n, ci, co, k: (dense_ok(n, ci, co, k), 2.5),
            "conv: returned 2.5, a fraction",
        ),
    ],
    ids=[
        "conv-shared-bias",
        "conv-input-bias",
        "conv-k2",
        "conv-added",
        "dense-shared-bias",
        "dense-added",
        "dense-no-positions",
        "dense-both-biases",
        "both-wrong",
        "fraction",
    ],
)
def test_parameter_counts_new_mistakes(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_parameter_counts(wrong)


@pytest.mark.parametrize("mode", ["reflect", "symmetric", "wrap"])
def test_moving_average_names_the_padding_mode(mode):
    def padded(x, m):
        xp = np.pad(x.astype(float), m, mode=mode) if len(x) > m else np.pad(x, m) * 1.0
        return np.convolve(xp, np.ones(2 * m + 1) / (2 * m + 1), "valid")

    with pytest.raises(ExerciseError, match=f"mode='{mode}'|repeating the end"):
        check_moving_average(padded)
