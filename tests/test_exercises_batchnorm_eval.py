"""Batch norm for inference: running statistics, and folding batch norm into the
convolution before it. The checkers name the mistake."""

import numpy as np
import pytest
import torch
from test_exercises_common import assume_contiguous

from cnnlib.exercises._core import ExerciseError
from cnnlib.exercises.batchnorm import (
    _running,
    check_fold_batch_norm,
    check_update_running_stats,
)
from cnnlib.norm import update_running_stats

AXES = (0, 2, 3)


# --------------------------------------------------------------------------------------
# update_running_stats(running_mean, running_var, x, momentum)


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
    with pytest.raises(ExerciseError, match="new_var: every value is off by the same"):
        check_update_running_stats(
            lambda *args: (running(*args)[0], running(*args)[1] + 0.1)
        )


def test_running_reference_is_cnnlib_update_running_stats():
    rng = np.random.default_rng(0)
    x, rm, rv = rng.normal(size=(4, 3, 2, 5)), rng.normal(size=3), rng.uniform(1, 2, 3)
    want = update_running_stats(rm, rv, x.mean(AXES), x.var(AXES), 40, 0.1)
    assert np.allclose(_running(rm, x, 0.1, "mean"), want[0], rtol=1e-12)
    assert np.allclose(_running(rv, x, 0.1, "var"), want[1], rtol=1e-12)


def in_place_update(rm, rv, x, momentum):
    rm *= 1 - momentum
    rm += momentum * x.mean(AXES)
    rv *= 1 - momentum
    rv += momentum * x.var(AXES, ddof=1)
    return rm, rv


def mean_reversed_only(rm, rv, x, momentum):
    new_mean, new_var = running(rm, rv, x, momentum)
    return (1 - momentum) * x.mean(AXES) + momentum * rm, new_var


def var_with(make_var, blend=lambda old, new, mo: (1 - mo) * old + mo * new):
    def stats(rm, rv, x, momentum):
        new_mean = (1 - momentum) * rm + momentum * x.mean(AXES)
        return new_mean, blend(rv, make_var(x), momentum)

    return stats


@pytest.mark.parametrize(
    "wrong, message",
    [
        (in_place_update, "changed its input rm in place"),
        (
            mean_reversed_only,
            "(?s)^(?!.*new_var).*new_mean: momentum is applied the other way round",
        ),
        (
            var_with(
                lambda x: (
                    x.var(AXES) * (x.size // x.shape[1]) / (x.size // x.shape[1] + 1)
                )
            ),
            "not var \\* m / \\(m \\+ 1\\)",
        ),
        (var_with(lambda x: x.var((2, 3), ddof=1).mean(0)), "taken per image"),
        (
            var_with(lambda x: x.var(AXES, ddof=1), lambda old, new, mo: old),
            "comes back unchanged",
        ),
        (
            var_with(
                lambda x: x.var(AXES, ddof=1), lambda old, new, mo: old + mo * new
            ),
            "kept whole",
        ),
        (
            lambda *args: (
                running(*args, mistake="reversed")[:1]
                + running(*args, mistake="biased")[1:]
            ),
            "(?s)new_mean: momentum.*\\nnew_var: .*biased batch variance",
        ),
        (
            lambda *args: tuple(v.astype(np.float32) for v in running(*args)),
            "float32",
        ),
        (
            lambda rm, rv, x, mo: running(rm, rv, assume_contiguous(x), mo),
            "stored non-contiguously",
        ),
    ],
    ids=[
        "in-place",
        "mean-reversed-only",
        "m-plus-1",
        "per-image",
        "var-not-updated",
        "sum-not-average",
        "each-its-own",
        "float32",
        "as-strided",
    ],
)
def test_running_stats_new_mistakes(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_update_running_stats(wrong)


# --------------------------------------------------------------------------------------
# fold_batch_norm(w, b, gamma, beta, running_mean, running_var, eps)


def fold(w, b, gamma, beta, mu, var, eps, axis=(slice(None), None, None, None), **slip):
    """The right answer, with one slip injected when asked."""
    sigma = slip.get("sigma", lambda var, eps: np.sqrt(var + eps))(var, eps)
    scale = (1.0 if slip.get("no_gamma") else gamma) / sigma
    b0 = np.zeros_like(mu) if b is None else b
    if slip.get("ignore_b"):
        b0 = 0 * mu
    w_f = w * scale if axis is None else w * scale[axis]
    b_f = slip.get("bias", lambda b0, mu, scale, beta: (b0 - mu) * scale + beta)(
        b0, mu, scale, beta
    )
    return w_f, b_f


def test_fold_correct_answers_pass(capsys):
    assert check_fold_batch_norm(fold)
    assert "correct" in capsys.readouterr().out

    def torch_fusion(w, b, gamma, beta, mu, var, eps):
        from torch.nn.utils.fusion import fuse_conv_bn_weights

        t = torch.from_numpy
        b = None if b is None else t(b)
        return fuse_conv_bn_weights(t(w), b, t(mu), t(var), eps, t(gamma), t(beta))

    assert check_fold_batch_norm(torch_fusion)


def test_fold_reference_agrees_with_torch_conv_and_batchnorm_in_eval_mode():
    from cnnlib.exercises.batchnorm import _fold_cases

    for x, w, b, gamma, beta, mu, var, eps in _fold_cases():
        conv = torch.nn.Conv2d(w.shape[1], w.shape[0], w.shape[2:], bias=b is not None)
        bn = torch.nn.BatchNorm2d(w.shape[0], eps=eps)
        conv, bn = conv.double(), bn.double().eval()
        with torch.no_grad():
            conv.weight[:] = torch.tensor(w)
            if b is not None:
                conv.bias[:] = torch.tensor(b)
            bn.weight[:], bn.bias[:] = torch.tensor(gamma), torch.tensor(beta)
            bn.running_mean[:], bn.running_var[:] = torch.tensor(mu), torch.tensor(var)
            want = bn(conv(torch.tensor(x))).numpy()
            w_f, b_f = fold(w, b, gamma, beta, mu, var, eps)
            got = torch.nn.functional.conv2d(
                torch.tensor(x), torch.tensor(w_f), torch.tensor(b_f)
            )
        assert np.allclose(got.numpy(), want, rtol=1e-10, atol=1e-12)


def scales_w_in_place(w, b, gamma, beta, mu, var, eps):
    scale = gamma / np.sqrt(var + eps)
    w *= scale[:, None, None, None]
    return w, (np.zeros_like(mu) if b is None else b - mu) * scale + beta


def fails_without_bias(w, b, gamma, beta, mu, var, eps):
    scale = gamma / np.sqrt(var + eps)
    return w * scale[:, None, None, None], (b - mu) * scale + beta


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda *a: fold(*a, axis=(slice(None), None, None)),
            "belongs to the OUTPUT channels",
        ),
        (lambda *a: fold(*a, axis=None), "LAST axis"),
        (lambda *a: fold(*a, sigma=lambda v, e: np.sqrt(v)), "eps is missing"),
        (lambda *a: fold(*a, sigma=lambda v, e: v + e), "divided by sigma\\^2"),
        (lambda *a: fold(*a, sigma=lambda v, e: v), "divided by the variance"),
        (
            lambda *a: fold(*a, sigma=lambda v, e: np.sqrt(v) + e),
            "inside the square root",
        ),
        (lambda *a: fold(*a, sigma=lambda v, e: np.sqrt(v + 1e-5)), "not a fixed 1e-5"),
        (lambda *a: fold(*a, no_gamma=True), "gamma is missing"),
        (
            lambda *a: fold(*a, bias=lambda b0, mu, s, beta: b0 * s - mu + beta),
            "^[^\\n]*b_folded: subtract the running mean BEFORE scaling",
        ),
        (
            lambda *a: fold(*a, bias=lambda b0, mu, s, beta: (b0 - mu) * s),
            "beta is missing",
        ),
        (lambda *a: fold(*a, ignore_b=True), "own bias b is ignored"),
        (
            lambda *a: fold(*a, bias=lambda b0, mu, s, beta: b0 * s + beta),
            "running mean is not subtracted",
        ),
        (fails_without_bias, "b is None \\(a convolution without bias"),
        (scales_w_in_place, "changed its input w in place"),
        (
            lambda *a: (fold(*a)[0], fold(*a)[1].reshape(-1, 1, 1, 1)),
            "b_folded must have shape \\(C_out,\\)",
        ),
        (lambda *a: (fold(*a)[0][:, :1], fold(*a)[1]), "w_folded must have w's shape"),
        (lambda *a: (fold(*a)[0], None), "b_folded is None"),
        (lambda *a: tuple(v.astype(np.float32) for v in fold(*a)), "float32"),
        (lambda w, *a: fold(assume_contiguous(w), *a), "stored non-contiguously"),
        (lambda *a: fold(*a)[0], "return the pair"),
    ],
    ids=[
        "input-channel-axis",
        "last-axis",
        "no-eps",
        "sigma-squared",
        "variance",
        "eps-outside",
        "fixed-eps",
        "no-gamma",
        "mu-after-scaling",
        "no-beta",
        "ignores-b",
        "no-mu",
        "b-none-crash",
        "mutates-w",
        "b-shape",
        "w-shape",
        "b-none-returned",
        "float32",
        "as-strided",
        "not-a-pair",
    ],
)
def test_fold_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_fold_batch_norm(wrong)


def test_fold_blames_only_the_wrong_output():
    with pytest.raises(ExerciseError) as err:
        check_fold_batch_norm(lambda *a: fold(*a, axis=None))
    assert "w_folded" in str(err.value) and "b_folded" not in str(err.value)
    with pytest.raises(ExerciseError) as err:
        check_fold_batch_norm(
            lambda *a: fold(*a, bias=lambda b0, mu, s, beta: (b0 - mu) * s)
        )
    assert "b_folded" in str(err.value) and "w_folded" not in str(err.value)
    with pytest.raises(ExerciseError) as err:  # the same slip in both: said once
        check_fold_batch_norm(lambda *a: fold(*a, sigma=lambda v, e: np.sqrt(v)))
    assert "w_folded and b_folded: eps is missing" in str(err.value)


def test_running_stats_names_an_unweighted_batch():
    def unweighted(rm, rv, x, momentum):
        return (1 - momentum) * rm + x.mean(AXES), (1 - momentum) * rv + x.var(
            AXES, ddof=1
        )

    with pytest.raises(
        ExerciseError, match="new_mean and new_var: the batch statistic"
    ):
        check_update_running_stats(unweighted)
