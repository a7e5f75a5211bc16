"""The batch-norm checkers name the mistake: feed them typical wrong answers."""

import numpy as np
import pytest

from cnnlib.exercises._core import ExerciseError
from cnnlib.exercises.batchnorm import (
    check_batch_norm_backward,
    check_batch_norm_forward,
    check_update_running_stats,
)

AXES = (0, 2, 3)


def per_channel(v):
    return np.asarray(v).reshape(1, -1, 1, 1)


def test_a_crash_is_reported_with_the_inputs():
    def broken(x, gamma, beta, eps):
        return x * gamma  # (N, C, H, W) * (C,): broadcasts along W, not C

    with pytest.raises(ExerciseError, match="ValueError"):
        check_batch_norm_forward(broken)


# --------------------------------------------------------------------------------------
# batch_norm_forward(x, gamma, beta, eps) -> y


def forward(x, gamma, beta, eps, axes=AXES, ddof=0, eps_inside=True, swap=False):
    """A configurable forward pass, so that each test injects one mistake."""
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, ddof=ddof, keepdims=True)
    sigma = np.sqrt(var + eps) if eps_inside else np.sqrt(var) + eps
    x_hat = (x - mu) / sigma
    if swap:
        gamma, beta = beta, gamma
    return per_channel(gamma) * x_hat + per_channel(beta)


def test_forward_correct_answer_passes(capsys):
    assert check_batch_norm_forward(forward)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda x, g, b, e: forward(x, g, b, e, axes=(2, 3)), "instance norm"),
        (lambda x, g, b, e: forward(x, g, b, e, axes=(1, 2, 3)), "layer norm"),
        (lambda x, g, b, e: forward(x, g, b, e, axes=(0, 1, 2, 3)), "all channels"),
        (lambda x, g, b, e: forward(x, g, b, e, axes=(0,)), "over N only"),
        (lambda x, g, b, e: forward(x, g, b, e, ddof=1), "unbiased variance"),
        (lambda x, g, b, e: forward(x, g, b, e, eps_inside=False), "outside the sq"),
        (lambda x, g, b, e: forward(x, g, b, 1e-300), "eps is missing"),
        (lambda x, g, b, e: forward(x, g, b, e, swap=True), "swapped"),
        (lambda x, g, b, e: forward(x, 1 + 0 * g, 0 * b, e), "returned x_hat"),
        (lambda x, g, b, e: forward(x, g, b, e)[:, :, :-1], "x's shape"),
        (lambda x, g, b, e: forward(x, g, b, e) + 1e-3, "expected"),
        (lambda x, g, b, e: (forward(x, g, b, e), None), "not a tuple"),
    ],
    ids=[
        "instance",
        "layer",
        "global",
        "per-position",
        "unbiased",
        "eps-outside",
        "no-eps",
        "swapped",
        "no-affine",
        "shape",
        "other",
        "tuple",
    ],
)
def test_forward_diagnoses(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_batch_norm_forward(wrong)


# --------------------------------------------------------------------------------------
# batch_norm_backward(dy, x, gamma, eps) -> (dx, dgamma, dbeta)


def mean(v):
    return v.mean(axis=AXES, keepdims=True)


def backward(dy, x, gamma, eps, mistake=None):
    """The compact formula, dx = gamma / sigma (dy - mean(dy) - x_hat mean(dy x_hat)),
    with one mistake injected when asked."""
    ddof = 1 if mistake == "unbiased" else 0
    sigma = np.sqrt(x.var(axis=AXES, ddof=ddof, keepdims=True) + eps)
    x_hat = (x - mean(x)) / sigma
    scale = (1 if mistake == "no-gamma" else per_channel(gamma)) / sigma
    through_mu = 0 if mistake in ("constants", "mu-constant") else mean(dy)
    through_sigma = 0 if mistake in ("constants", "sigma-constant") else 1
    dx = scale * (dy - through_mu - through_sigma * x_hat * mean(dy * x_hat))
    dgamma, dbeta = (dy * x_hat).sum(AXES), dy.sum(AXES)
    if mistake == "swapped":
        dgamma, dbeta = dbeta, dgamma
    elif mistake == "over-N":
        dgamma = (dy * x_hat).sum(0)
    elif mistake == "everything":
        dbeta = dy.sum()
    elif mistake == "per-sample":
        dbeta = dy.sum((1, 2, 3))
    elif mistake == "mean":
        dbeta = dy.mean(AXES)
    elif mistake == "x-not-x_hat":
        dgamma = (dy * x).sum(AXES)
    elif mistake == "sums":
        sum_dy_x_hat = (dy * x_hat).sum(AXES, keepdims=True)
        dx = scale * (dy - dy.sum(AXES, keepdims=True) - x_hat * sum_dy_x_hat)
    return dx, dgamma, dbeta


def test_backward_correct_answer_passes(capsys):
    assert check_batch_norm_backward(backward)
    assert "correct" in capsys.readouterr().out


def test_backward_accepts_per_channel_vectors_shaped_1_c_1_1():
    def keepdims(dy, x, gamma, eps):
        dx, dgamma, dbeta = backward(dy, x, gamma, eps)
        return dx, per_channel(dgamma), per_channel(dbeta)

    assert check_batch_norm_backward(keepdims)


@pytest.mark.parametrize(
    "mistake, message",
    [
        ("constants", "treats mu and sigma as constants"),
        ("mu-constant", "treats mu as a constant"),
        ("sigma-constant", "treats sigma as a constant"),
        ("no-gamma", "missing the factor gamma"),
        ("swapped", "that is dbeta"),
        ("over-N", "dgamma is summed over N only"),
        ("everything", "dbeta is summed over everything"),
        ("per-sample", "dbeta is summed per sample"),
        ("mean", "dbeta is a mean"),
        ("x-not-x_hat", "sum\\(dy \\* x\\)"),
        ("sums", "sums where it should average"),
        ("unbiased", "x_hat uses the unbiased variance"),
    ],
)
def test_backward_diagnoses(mistake, message):
    with pytest.raises(ExerciseError, match=message):
        check_batch_norm_backward(lambda dy, x, g, e: backward(dy, x, g, e, mistake))


def test_backward_wants_three_arrays():
    with pytest.raises(ExerciseError, match="return \\(dx, dgamma, dbeta\\)"):
        check_batch_norm_backward(lambda dy, x, g, e: backward(dy, x, g, e)[0])


# --------------------------------------------------------------------------------------
# update_running_stats(running_mean, running_var, x, momentum) -> (mean, var)


def running(rm, rv, x, momentum, mistake=None):
    mu = x.mean(AXES)
    var = x.var(AXES, ddof=0 if mistake == "biased" else 1)
    if mistake == "bessel-with-N":
        var = x.var(AXES) * len(x) / (len(x) - 1)
    if mistake == "reversed":
        return (1 - momentum) * mu + momentum * rm, (1 - momentum) * var + momentum * rv
    if mistake == "std":
        var = np.sqrt(var)
    if mistake == "batch":
        return mu, var
    if mistake == "shape":
        return x.mean((0, 2)), var
    return (1 - momentum) * rm + momentum * mu, (1 - momentum) * rv + momentum * var


def test_running_stats_correct_answer_passes(capsys):
    assert check_update_running_stats(running)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "mistake, message",
    [
        ("reversed", "other way round"),
        ("biased", "biased batch variance"),
        ("std", "standard deviations"),
        ("batch", "returned the batch statistics"),
        ("shape", "new_mean must have shape"),
        ("bessel-with-N", "divides by N - 1"),
    ],
)
def test_running_stats_diagnoses(mistake, message):
    with pytest.raises(ExerciseError, match=message):
        check_update_running_stats(lambda *args: running(*args, mistake=mistake))


def test_running_stats_other_errors():
    with pytest.raises(ExerciseError, match="return the pair"):
        check_update_running_stats(lambda rm, rv, x, mo: rm)
    with pytest.raises(ExerciseError, match="new_var at index"):
        check_update_running_stats(
            lambda *args: (running(*args)[0], running(*args)[1] + 0.1)
        )
