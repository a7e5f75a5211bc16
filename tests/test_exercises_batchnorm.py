"""The batch-norm checkers name the mistake: feed them typical wrong answers."""

import numpy as np
import pytest
import torch
from test_exercises_common import assume_contiguous

from cnnlib.exercises._core import ExerciseError
from cnnlib.exercises.batchnorm import (
    check_batch_norm_backward,
    check_batch_norm_forward,
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
        (lambda x, g, b, e: forward(x, g, b, e) + 1e-3, "off by the same amount"),
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
# forward: more wrong answers


def normalises_in_place(x, gamma, beta, eps):
    x -= x.mean(axis=AXES, keepdims=True)
    x /= np.sqrt(x.var(axis=AXES, keepdims=True) + eps)
    return per_channel(gamma) * x + per_channel(beta)


def reshaped_stats(x, gamma, beta, eps):
    flat = x.reshape(x.shape[1], -1)  # groups values by position, not by channel
    mu = flat.mean(axis=1).reshape(1, -1, 1, 1)
    var = flat.var(axis=1).reshape(1, -1, 1, 1)
    return per_channel(gamma) * (x - mu) / np.sqrt(var + eps) + per_channel(beta)


def with_torch(x, gamma, beta, eps):
    bn = torch.nn.BatchNorm2d(x.shape[1], eps=eps)
    with torch.no_grad():
        bn.weight[:], bn.bias[:] = torch.tensor(gamma), torch.tensor(beta)
        return bn(torch.tensor(x, dtype=torch.float32))


@pytest.mark.parametrize(
    "wrong, message",
    [
        (normalises_in_place, "changed its input x in place"),
        (reshaped_stats, "reshape\\(C, -1\\) does not group the values by channel"),
        (lambda x, g, b, e: forward(x, g, b, 1e-5), "not a fixed 1e-5"),
        (
            lambda x, g, b, e: (
                per_channel(g) * (forward(x, 1 + 0 * g, 0 * b, e) + per_channel(b))
            ),
            "beta is scaled too",
        ),
        (with_torch, "float32"),
        (
            lambda x, g, b, e: forward(assume_contiguous(x), g, b, e),
            "stored non-contiguously",
        ),
        (lambda x, g, b, e: forward(x, g, b, e) * np.nan, "nan or inf"),
    ],
    ids=[
        "in-place",
        "reshape",
        "fixed-eps",
        "beta-scaled",
        "torch-float32",
        "as-strided",
        "nan",
    ],
)
def test_forward_new_mistakes(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_batch_norm_forward(wrong)


def test_forward_torch_in_float64_passes():
    def torch64(x, gamma, beta, eps):
        bn = torch.nn.BatchNorm2d(x.shape[1], eps=eps).double()
        with torch.no_grad():
            bn.weight[:], bn.bias[:] = torch.tensor(gamma), torch.tensor(beta)
            return bn(torch.tensor(x))

    assert check_batch_norm_forward(torch64)


# --------------------------------------------------------------------------------------
# backward: more wrong answers


def backward_with(**changes):
    """The compact formula with one term changed."""

    def grad(dy, x, gamma, eps):
        sigma = np.sqrt(x.var(axis=AXES, keepdims=True) + eps)
        x_hat = (x - mean(x)) / sigma
        scale = changes.get("scale", per_channel(gamma) / sigma)
        means = changes.get("means", AXES)
        m_dy = dy.mean(axis=means, keepdims=True)
        m_dyx = (dy * x_hat).mean(axis=means, keepdims=True)
        dx = scale * (dy - changes.get("mu_sign", 1) * m_dy - x_hat * m_dyx)
        return dx, (dy * x_hat).sum(AXES), dy.sum(AXES)

    return grad


def dy_scaled_in_place(dy, x, gamma, eps):
    dy *= per_channel(gamma)  # folds gamma into dy ... of the caller
    dx, dgamma, dbeta = backward(dy, x, 1 + 0 * gamma, eps)
    return dx, dgamma / gamma, dbeta / gamma


def swapped_params(dy, x, gamma, eps):
    dx, dgamma, dbeta = backward(dy, x, gamma, eps)
    return dx, dbeta, dgamma


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda dy, x, g, e: backward_with(scale=per_channel(g))(dy, x, g, e),
            "missing the factor 1 / sigma",
        ),
        (backward_with(mu_sign=-1), "the path through mu has the wrong sign"),
        (backward_with(means=(0,)), "the means in dx are over N only"),
        (dy_scaled_in_place, "changed its input dy in place"),
        (
            swapped_params,
            r"(?s)dgamma is sum\(dy\): that is dbeta.*\n.*dbeta is sum\(dy \* x_hat\)",
        ),
        (
            lambda dy, x, g, e: tuple(
                v.astype(np.float32) for v in backward(dy, x, g, e)
            ),
            "dx: your result is float32|your result is float32",
        ),
        (
            lambda dy, x, g, e: backward(dy, assume_contiguous(x), g, e),
            "stored non-contiguously",
        ),
    ],
    ids=[
        "no-1/sigma",
        "mu-sign",
        "means-over-N",
        "mutates-dy",
        "both-params-swapped",
        "float32",
        "as-strided",
    ],
)
def test_backward_new_mistakes(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_batch_norm_backward(wrong)


def test_backward_blames_only_the_wrong_output():
    def dgamma_wrong(dy, x, gamma, eps):
        dx, dgamma, dbeta = backward(dy, x, gamma, eps)
        return dx, (dy * x).sum(AXES), dbeta

    with pytest.raises(ExerciseError) as err:
        check_batch_norm_backward(dgamma_wrong)
    assert "dgamma is sum(dy * x)" in str(err.value)
    assert "dx" not in str(err.value) and "dbeta" not in str(err.value)
