"""The backprop chapter's checkers name the mistake: feed them typical wrong answers."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from test_exercises_common import assume_contiguous

from cnnlib.exercises._core import ExerciseError
from cnnlib.exercises.backprop import (
    check_conv1d_input_grad,
    check_conv1d_kernel_grad,
)


def test_a_crash_is_reported_with_the_inputs():
    def broken(x, dy, k):
        return x[100]

    with pytest.raises(ExerciseError, match="IndexError"):
        check_conv1d_kernel_grad(broken)


# --------------------------------------------------------------------------------------
# conv1d_kernel_grad(x, dy, k)


def kernel_grad(x, dy, k, shift=0, positions=None, flip=False, mean=False):
    """dw[t] = sum_i dy[i] x[i + t], with one mistake injected on request."""
    n_out = len(dy)
    dw = np.zeros(k)
    for i in range(n_out) if positions is None else positions(n_out):
        for t in range(k):
            j = i + (k - 1 - t if flip else t) + shift
            if 0 <= j < len(x):
                dw[t] += dy[i] * x[j]
    return dw / n_out if mean else dw


def test_kernel_grad_answer_passes_and_matches_torch(capsys):
    assert check_conv1d_kernel_grad(kernel_grad)
    assert "correct" in capsys.readouterr().out
    x = torch.randn(1, 1, 9, dtype=torch.float64)
    w = torch.randn(1, 1, 4, dtype=torch.float64, requires_grad=True)
    dy = torch.randn(1, 1, 6, dtype=torch.float64)
    F.conv1d(x, w).backward(dy)
    got = kernel_grad(x[0, 0].numpy(), dy[0, 0].numpy(), 4)
    assert np.allclose(got, w.grad[0, 0].numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda x, dy, k: kernel_grad(x, dy, k, flip=True), "reversed"),
        (lambda x, dy, k: kernel_grad(x, dy, k, shift=1), "off by one"),
        (lambda x, dy, k: kernel_grad(x, dy, k, shift=-1), "off by one"),
        (lambda x, dy, k: kernel_grad(x, dy, k, mean=True), "averaged"),
        (
            lambda x, dy, k: kernel_grad(x, dy, k, positions=lambda m: [m - 1]),
            "only output position 4 contributes",
        ),
        (
            lambda x, dy, k: kernel_grad(x, dy, k, positions=lambda m: range(m - 1)),
            "the last output position is missing",
        ),
        (
            lambda x, dy, k: kernel_grad(x, dy, k, positions=lambda m: range(1, m)),
            "the first output position is missing",
        ),
        (lambda x, dy, k: dy * 1.0, "one per output position"),
        (lambda x, dy, k: np.convolve(dy, np.ones(k)), "one per input sample"),
        (lambda x, dy, k: np.zeros(k + 1), "should have k = 3 entries"),
        (lambda x, dy, k: kernel_grad(x, dy, k)[None], "1-D array"),
        (lambda x, dy, k: kernel_grad(x, dy, k) + 0.1, "off by the same amount"),
    ],
    ids=[
        "flip",
        "shift+1",
        "shift-1",
        "mean",
        "one-position",
        "last-missing",
        "first-missing",
        "per-output",
        "per-input",
        "length",
        "ndim",
        "values",
    ],
)
def test_kernel_grad_diagnoses(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_conv1d_kernel_grad(wrong)


# --------------------------------------------------------------------------------------
# conv1d_input_grad(dy, w)


def input_grad(dy, w, overwrite=False):
    dx = np.zeros(len(dy) + len(w) - 1)
    for i in range(len(dy)):
        for t in range(len(w)):
            dx[i + t] = dy[i] * w[t] + (0 if overwrite else dx[i + t])
    return dx


def test_input_grad_answer_passes_and_matches_torch(capsys):
    assert check_conv1d_input_grad(input_grad)
    assert check_conv1d_input_grad(lambda dy, w: np.convolve(dy, w, "full"))
    assert "correct" in capsys.readouterr().out
    x = torch.randn(1, 1, 9, dtype=torch.float64, requires_grad=True)
    w = torch.randn(1, 1, 4, dtype=torch.float64)
    dy = torch.randn(1, 1, 6, dtype=torch.float64)
    F.conv1d(x, w).backward(dy)
    got = input_grad(dy[0, 0].numpy(), w[0, 0].numpy())
    assert np.allclose(got, x.grad[0, 0].numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda dy, w: np.correlate(dy, w, "full"), "missing flip"),
        (lambda dy, w: np.convolve(dy, w, "valid"), "'valid'"),
        (lambda dy, w: np.convolve(dy, w, "same"), "'same'"),
        (
            lambda dy, w: np.correlate(np.r_[np.zeros(len(w) - 1), dy], w[::-1]),
            "padded on one side only",
        ),
        (lambda dy, w: input_grad(dy, w)[::-1], "reversed end to end"),
        (lambda dy, w: input_grad(dy, w, overwrite=True), r"accumulate \(\+=\)"),
        (lambda dy, w: np.roll(input_grad(dy, w), 1), "off by one"),
        (lambda dy, w: np.zeros(len(dy) + len(w)), "should have n = n_out"),
        (lambda dy, w: input_grad(dy, w)[None], "1-D array"),
        (lambda dy, w: input_grad(dy, w) * 1.5, "1.5 times the right one"),
    ],
    ids=[
        "no-flip",
        "valid",
        "same",
        "one-sided",
        "reversed",
        "overwrite",
        "shift",
        "length",
        "ndim",
        "values",
    ],
)
def test_input_grad_diagnoses(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_conv1d_input_grad(wrong)


# --------------------------------------------------------------------------------------
# kernel gradient: more wrong answers


def zeros_like_x(x, dy, k):
    dw = np.zeros_like(x[:k])  # x's dtype: an int signal truncates dw
    dw[:] = kernel_grad(x.astype(float), dy, k)
    return dw


def aliased_patch(x, dy, k):
    dw = np.zeros(k)
    for i in range(len(dy)):
        patch = x[i : i + k]  # a view into x ...
        patch *= dy[i]  # ... so this scales x itself
        dw += patch
    return dw


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda x, dy, k: np.convolve(x, dy, "valid"),
            "np.convolve\\(x, dy, 'valid'\\) flips dy",
        ),
        (zeros_like_x, "integer array"),
        (aliased_patch, "changed its input x in place"),
        (
            lambda x, dy, k: kernel_grad(assume_contiguous(x), dy, k),
            "stored non-contiguously",
        ),
        (lambda x, dy, k: kernel_grad(x, dy, k).astype(np.float32), "float32"),
        (lambda x, dy, k: kernel_grad(x, dy, k) / len(x), "divided by n = 7"),
    ],
    ids=["convolve", "int", "aliased-view", "as-strided", "float32", "divided-by-n"],
)
def test_kernel_grad_new_mistakes(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_conv1d_kernel_grad(wrong)


def test_kernel_grad_correlate_passes():
    assert check_conv1d_kernel_grad(lambda x, dy, k: np.correlate(x, dy, "valid"))


def flips_w_in_place(dy, w):
    w[:] = w[::-1].copy()
    return np.correlate(np.pad(dy, len(w) - 1), w, "valid")


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda dy, w: np.convolve(dy, w, "full")[1:-1], "k - 1 zeros on EACH side"),
        (lambda dy, w: np.pad(np.convolve(dy, w, "full"), 1), "padded dy with 3 zeros"),
        (flips_w_in_place, "changed its input w in place: its entries were reversed"),
        (lambda dy, w: input_grad(dy, w).astype(int), "integer array"),
        (lambda dy, w: input_grad(assume_contiguous(dy), w), "stored non-contiguously"),
        (lambda dy, w: input_grad(dy, w) / len(w), "divided by k = 3"),
        (lambda dy, w: np.roll(input_grad(dy, w), -1), "off by one"),
    ],
    ids=[
        "pad-k-2",
        "pad-k",
        "mutates-w",
        "int",
        "as-strided",
        "divided-by-k",
        "shift-left",
    ],
)
def test_input_grad_new_mistakes(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_conv1d_input_grad(wrong)
