"""The backprop chapter's max pooling and centred-difference checkers: wrong answers."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from test_exercises_common import assume_contiguous

from cnnlib.exercises._core import ExerciseError
from cnnlib.exercises.backprop import (
    check_centred_difference,
    check_max_pool2d_backward,
)

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
        (lambda dy, x, k, s: pool_backward(dy, x, k, s) * 2, "2 times the right one"),
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
            "changed its input x in place",
        ),
        (lambda f, x, e: difference(f, x, 1e-6), "use the step eps"),
        (lambda f, x, e: difference(f, x, e).ravel(), "x's shape"),
        (lambda f, x, e: difference(f, x, e) + 1e-3, "off by the same amount"),
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


def zero_start_max(dy, x, k, s):
    """The maximum search starts at 0, so all-negative windows get nothing."""
    dx = np.zeros_like(x)
    for i in range(dy.shape[0]):
        for j in range(dy.shape[1]):
            best, where = 0.0, None
            for a in range(k):
                for b in range(k):
                    if x[i * s + a, j * s + b] > best:
                        best, where = x[i * s + a, j * s + b], (i * s + a, j * s + b)
            if where is not None:
                dx[where] += dy[i, j]
    return dx


def mask_assign(dy, x, k, s):
    dx = np.zeros_like(x)
    for i in range(dy.shape[0]):
        for j in range(dy.shape[1]):
            window = x[i * s : i * s + k, j * s : j * s + k]
            dx[i * s : i * s + k, j * s : j * s + k] = (window == window.max()) * dy[
                i, j
            ]
    return dx


def unravel_with_x_shape(dy, x, k, s):
    dx = np.zeros_like(x)
    for i in range(dy.shape[0]):
        for j in range(dy.shape[1]):
            window = x[i * s : i * s + k, j * s : j * s + k]
            a, b = np.unravel_index(np.argmax(window), x.shape)
            dx[i * s + a, j * s + b] += dy[i, j]
    return dx


def zeroes_the_window(dy, x, k, s):
    dx = np.zeros_like(x)
    for i in range(dy.shape[0]):
        for j in range(dy.shape[1]):
            window = x[i * s : i * s + k, j * s : j * s + k]
            keep = window == window.max()
            dx[i * s : i * s + k, j * s : j * s + k] += keep * dy[i, j]
            window[~keep] = 0  # "mark it as used": a view, so x changes
    return dx


@pytest.mark.parametrize(
    "wrong, message",
    [
        (zero_start_max, "all negative get no gradient"),
        (mask_assign, "overwrites what overlapping windows put there"),
        (unravel_with_x_shape, "with the WINDOW's shape|IndexError"),
        (
            lambda dy, x, k, s: pool_backward(dy, x, k, 1),
            "the stride is forgotten",
        ),
        (zeroes_the_window, "changed its input x in place"),
        (lambda dy, x, k, s: pool_backward(dy, x, k, s).astype(int), "integer array"),
        (lambda dy, x, k, s: np.zeros_like(dy), "that is dy's shape"),
        (
            lambda dy, x, k, s: pool_backward(dy, assume_contiguous(x), k, s),
            "stored non-contiguously",
        ),
    ],
    ids=[
        "zero-start",
        "mask-assign",
        "unravel-x",
        "no-stride",
        "mutates-x",
        "int",
        "dy-shape",
        "as-strided",
    ],
)
def test_max_pool_new_mistakes(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_max_pool2d_backward(wrong)


def perturbs_a_flat_copy(f, x, eps):
    g = np.zeros(x.size)
    flat = x.ravel()  # a view when x is contiguous, a copy when it is not
    for i in range(x.size):
        old = flat[i]
        flat[i] = old + eps
        f_plus = f(x)
        flat[i] = old - eps
        f_minus = f(x)
        flat[i] = old
        g[i] = (f_plus - f_minus) / (2 * eps)
    return g.reshape(x.shape)


def restores_by_adding(f, x, eps):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += eps
        f_plus = f(x)
        x[i] -= 2 * eps
        f_minus = f(x)
        x[i] += eps  # rounding: x[i] may not come back exactly
        g[i] = (f_plus - f_minus) / (2 * eps)
    return g


def second_point_is_x(f, x, eps):
    x = x.copy()
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        f_plus = f(x)
        x[i] = old
        g[i] = (f_plus - f(x)) / (2 * eps)
    return g


@pytest.mark.parametrize(
    "wrong, message",
    [
        (perturbs_a_flat_copy, "(?s)all zeros.*stored non-contiguously"),
        (restores_by_adding, "changed its input x in place.*rounding error"),
        (second_point_is_x, "your second point is x itself"),
        (
            lambda f, x, e: np.full(x.shape, (f(x + e) - f(x - e)) / (2 * e)),
            "every entry at once",
        ),
        (lambda f, x, e: difference(f, x, e).astype(np.float32), "float32"),
        (lambda f, x, e: np.zeros_like(x), "all zeros"),
    ],
    ids=[
        "ravel-copy",
        "restore-by-adding",
        "half-forward",
        "all-at-once",
        "float32",
        "zeros",
    ],
)
def test_centred_difference_new_mistakes(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_centred_difference(wrong)


def test_max_pool_names_swapped_indices():
    def swapped(dy, x, k, s):
        dx = np.zeros_like(x)
        for i in range(dy.shape[0]):
            for j in range(dy.shape[1]):
                window = x[j * s : j * s + k, i * s : i * s + k]
                a, b = np.unravel_index(np.argmax(window), window.shape)
                dx[j * s + a, i * s + b] += dy[i, j]
        return dx

    with pytest.raises(ExerciseError, match="i and j are swapped"):
        check_max_pool2d_backward(swapped)


def test_centred_difference_names_half_steps():
    def half_steps(f, x, eps):
        g = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            old = x[i]
            x[i] = old + eps / 2
            f_plus = f(x)
            x[i] = old - eps / 2
            f_minus = f(x)
            x[i] = old
            g[i] = (f_plus - f_minus) / eps
        return g

    with pytest.raises(ExerciseError, match="x - eps/2 and x \\+ eps/2"):
        check_centred_difference(half_steps)
