"""The backprop chapter's checkers name the mistake: feed them typical wrong answers."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlib.exercises._core import ExerciseError
from cnnlib.exercises.backprop import (
    check_centred_difference,
    check_conv1d_input_grad,
    check_conv1d_kernel_grad,
    check_max_pool2d_backward,
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
        (lambda x, dy, k: kernel_grad(x, dy, k) + 0.1, r"dw\[0\] is"),
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
        (lambda dy, w: input_grad(dy, w) * 1.5, r"dx\[\d\] is"),
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
# max_pool2d_backward(dy, x, k, stride)


def pool_backward(dy, x, k, stride, pick=np.argmax, spread=None, add=True, swap=False):
    dx = np.zeros_like(x)
    for i in range(dy.shape[0]):
        for j in range(dy.shape[1]):
            r, c = i * stride, j * stride
            if spread is not None:
                dx[r : r + k, c : c + k] += dy[i, j] * spread
                continue
            a, b = divmod(int(pick(x[r : r + k, c : c + k])), k)
            if swap:
                a, b = b, a
            dx[r + a, c + b] = (dx[r + a, c + b] if add else 0) + dy[i, j]
    return dx


def torch_pool_backward(dy, x, k, stride):
    xt = torch.tensor(x, requires_grad=True)
    F.max_pool2d(xt[None, None], k, stride).backward(torch.tensor(dy)[None, None])
    return xt.grad.numpy()


def test_max_pool_answer_passes_and_matches_torch(capsys):
    assert check_max_pool2d_backward(pool_backward)
    assert check_max_pool2d_backward(torch_pool_backward)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda dy, x, k, s: pool_backward(dy, x, k, s, spread=1.0), "every element"),
        (
            lambda dy, x, k, s: pool_backward(dy, x, k, s, spread=1 / k**2),
            "average pooling",
        ),
        (lambda dy, x, k, s: pool_backward(dy, x, k, s, pick=np.argmin), "minimum"),
        (lambda dy, x, k, s: pool_backward(dy, x, k, s, add=False), "accumulate"),
        (lambda dy, x, k, s: pool_backward(dy, x, k, s, swap=True), "swapped"),
        (lambda dy, x, k, s: np.zeros((2, 2)), "dx has x's shape"),
        (lambda dy, x, k, s: pool_backward(dy, x, k, s) * 2, r"dx\[\d, \d\] is"),
    ],
    ids=["spread", "mean", "min", "overwrite", "swap", "shape", "values"],
)
def test_max_pool_diagnoses(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_max_pool2d_backward(wrong)


def test_max_pool_window_offset_is_diagnosed():
    def local_position(dy, x, k, s):
        dx = np.zeros_like(x)
        for i in range(dy.shape[0]):
            for j in range(dy.shape[1]):
                window = x[i * s : i * s + k, j * s : j * s + k]
                dx[np.unravel_index(np.argmax(window), window.shape)] += dy[i, j]
        return dx

    with pytest.raises(ExerciseError, match="top-left corner"):
        check_max_pool2d_backward(local_position)


# --------------------------------------------------------------------------------------
# centred_difference(f, x, eps)


def difference(f, x, eps, kind="centred", restore=True, copy=True, scale=1.0):
    x = x.copy() if copy else x
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x0 = x[i]
        x[i] = x0 + eps
        f_plus = f(x)
        x[i] = x0 - eps if kind == "centred" else x0
        f_minus = f(x)
        g[i] = scale * (f_plus - f_minus) / (2 * eps if kind == "centred" else eps)
        if restore:
            x[i] = x0
    return g


def test_centred_difference_answer_passes(capsys):
    assert check_centred_difference(difference)
    assert check_centred_difference(lambda f, x, eps: difference(f, x, eps, copy=False))
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda f, x, e: difference(f, x, e, kind="forward"), "forward difference"),
        (lambda f, x, e: difference(f, x, e, scale=2.0), "twice too large"),
        (lambda f, x, e: difference(f, x, e, scale=0.5), "half the right size"),
        (lambda f, x, e: difference(f, x, e, restore=False), "not restored"),
        (
            lambda f, x, e: difference(f, x, e, restore=False, copy=False),
            "x was left changed",
        ),
        (lambda f, x, e: difference(f, x, 1e-6), "use the step eps"),
        (lambda f, x, e: difference(f, x, e).ravel(), "x's shape"),
        (lambda f, x, e: difference(f, x, e) + 1e-3, "entry"),
    ],
    ids=[
        "forward",
        "scale2",
        "scale-half",
        "no-restore",
        "mutated",
        "eps",
        "shape",
        "values",
    ],
)
def test_centred_difference_diagnoses(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_centred_difference(wrong)
