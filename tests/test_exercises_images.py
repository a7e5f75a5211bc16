"""The image chapter's checkers name the mistake: feed them typical wrong answers."""

import math

import numpy as np
import pytest
from test_exercises_common import assume_contiguous

from cnnlib.exercises._core import ExerciseError
from cnnlib.exercises.images import (
    check_conv2d_channels,
    check_conv_volume,
)


def test_a_crash_is_reported_with_the_inputs():
    def broken(x, w, b):
        return x[10]

    with pytest.raises(ExerciseError, match="IndexError"):
        check_conv2d_channels(broken)


# --------------------------------------------------------------------------------------
# conv_volume(c_in, h, w, c_out, k, stride, padding) -> ((C, H, W), params)


def size(n, k, s, p):
    return (n + 2 * p - k) // s + 1


def volume(ci, h, w, co, k, s, p, size=size, params=None):
    """A configurable answer, so that each test injects one mistake."""
    count = ci * co * k * k + co if params is None else params(ci, co, k)
    return (co, size(h, k, s, p), size(w, k, s, p)), count


def test_conv_volume_correct_answer_passes(capsys):
    assert check_conv_volume(volume)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda *a: volume(
                *a, size=lambda n, k, s, p: math.ceil((n + 2 * p - k) / s) + 1
            ),
            "not the ceiling|rounded up",
        ),
        (
            lambda *a: volume(*a, size=lambda n, k, s, p: (n + p - k) // s + 1),
            "counted once",
        ),
        (
            lambda *a: volume(*a, size=lambda n, k, s, p: (n - k) // s + 1),
            "padding (is )?ignored",
        ),
        (
            lambda *a: volume(*a, size=lambda n, k, s, p: (n + 2 * p - k) // s),
            "forgot the \\+1",
        ),
        (
            lambda *a: volume(*a, size=lambda n, k, s, p: n + 2 * p - k + 1),
            "stride (is )?ignored",
        ),
        (lambda *a: volume(*a, params=lambda ci, co, k: ci * co * k * k), "biases"),
        (
            lambda *a: volume(*a, params=lambda ci, co, k: co * (k * k + 1)),
            "spans (all c_in|ALL input channels)",
        ),
        (
            lambda *a: volume(*a, params=lambda ci, co, k: co * ci * (k * k + 1)),
            "shared by all input channels",
        ),
        (
            lambda *a: volume(*a, params=lambda ci, co, k: ci * co * k + co),
            "k \\* k weights",
        ),
        (
            lambda *a: volume(*a, params=lambda ci, co, k: 7),
            "parameters: you return 7 whatever",
        ),
        (
            lambda *a: (volume(*a)[0][::-1], volume(*a)[1]),
            "channels come first|swapped",
        ),
        (
            lambda ci, h, w, co, k, s, p: (
                (ci,) + volume(ci, h, w, co, k, s, p)[0][1:],
                volume(ci, h, w, co, k, s, p)[1],
            ),
            "c_out channels, not c_in",
        ),
        (
            lambda *a: (
                (volume(*a)[0][0], volume(*a)[0][2], volume(*a)[0][1]),
                volume(*a)[1],
            ),
            "height and width are swapped",
        ),
        (lambda *a: volume(*a)[0], "return a pair"),
        (lambda *a: (5, 7), "shape \\(C, H, W\\)"),
        (
            lambda c_in, h, w, c_out, k, s, p: (
                (c_out, (h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1),
                c_out * (c_in * k * k + 1),
            ),
            "has fractions",
        ),
    ],
    ids=[
        "ceil",
        "padding-once",
        "no-padding",
        "plus-one",
        "no-stride",
        "no-bias",
        "no-c_in",
        "bias-per-input",
        "k-not-k2",
        "params-other",
        "channels-last",
        "c_in-channels",
        "h-w-swapped",
        "not-a-pair",
        "shape-not-a-tuple",
        "true-division",
    ],
)
def test_conv_volume_diagnoses(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_conv_volume(wrong)


def test_channels_last_is_named():
    with pytest.raises(ExerciseError, match="channels come first"):
        check_conv_volume(
            lambda *a: ((*volume(*a)[0][1:], volume(*a)[0][0]), volume(*a)[1])
        )


# --------------------------------------------------------------------------------------
# conv2d_channels(x, w, b)


def conv_loops(x, w, b, flip=False, first_only=False, bias=1, average=False, size=0):
    c_out, c_in, k, _ = w.shape
    H, W = x.shape[1] - k + 1 + size, x.shape[2] - k + 1 + size
    channels = 1 if first_only else c_in
    y = np.zeros((c_out, H, W))
    xp = np.pad(x, ((0, 0), (0, k), (0, k)))
    for o in range(c_out):
        for i in range(H):
            for j in range(W):
                total = 0.0
                for c in range(channels):
                    kern = w[o, c, ::-1, ::-1] if flip else w[o, c]
                    total += np.sum(kern * xp[c, i : i + k, j : j + k])
                y[o, i, j] = (total / c_in if average else total) + bias * b[o]
    return y


def test_conv2d_channels_correct_answer_passes(capsys):
    assert check_conv2d_channels(conv_loops)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda x, w, b: conv_loops(x, w, b, first_only=True), "first input channel"),
        (lambda x, w, b: conv_loops(x, w, b, flip=True), "flipped kernel"),
        (lambda x, w, b: conv_loops(x, w, b, bias=0), "bias is missing"),
        (lambda x, w, b: conv_loops(x, w, b, bias=x.shape[0]), "once per input"),
        (lambda x, w, b: conv_loops(x, w, b, average=True), "averaged"),
        (lambda x, w, b: conv_loops(x, w, b, size=-1), "one window too few"),
        (
            lambda x, w, b: conv_loops(x, w, b, size=w.shape[2] - 1),
            "keeps the input's size",
        ),
        (lambda x, w, b: conv_loops(x, w, b)[:, :-1], "expected an output of shape"),
        (lambda x, w, b: conv_loops(x, w, b) + 0.01, "off by the same amount"),
    ],
    ids=[
        "first-channel",
        "flipped",
        "no-bias",
        "bias-per-input",
        "average",
        "size-minus-one",
        "same-size",
        "shape",
        "values",
    ],
)
def test_conv2d_channels_diagnoses(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_conv2d_channels(wrong)


def test_conv2d_channels_names_a_depthwise_convolution():
    def depthwise(x, w, b):
        return np.stack(
            [
                conv_loops(x[c : c + 1], w[c : c + 1, c : c + 1], b[c : c + 1])[0]
                for c in range(x.shape[0])
            ]
        )

    with pytest.raises(ExerciseError, match="depthwise"):
        check_conv2d_channels(depthwise)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda *a: volume(*a, params=lambda ci, co, k: ci * co * k * k + 1),
            "not one shared",
        ),
        (
            lambda *a: volume(*a, params=lambda ci, co, k: ci * co * k * k + ci),
            "not per input channel",
        ),
        (
            lambda *a: volume(*a, params=lambda ci, co, k: co * (ci + k * k) + co),
            "a product: you added",
        ),
        (
            lambda ci, h, w, co, k, s, p: volume(ci, h, h, co, k, s, p),
            "W_out is computed from the height h",
        ),
        (lambda *a: ((1, *volume(*a)[0]), volume(*a)[1]), "without a batch dimension"),
        (
            lambda *a: volume(
                *a,
                size=lambda n, k, s, p: (n - k) // s + 1,
                params=lambda ci, co, k: ci * co * k * k,
            ),
            "(?s)output size: padding ignored.*\\n.*forgot the biases",
        ),
        (
            lambda *a: volume(*a, size=lambda n, k, s, p: (n + 2 * p - k + 1) // s),
            "outside the division",
        ),
        (lambda *a: (volume(*a)[0], float(volume(*a)[1]) + 0.5), "a fraction"),
    ],
    ids=[
        "shared-bias",
        "input-bias",
        "added",
        "width-from-h",
        "batch-dim",
        "both-wrong",
        "plus-one-inside",
        "fraction",
    ],
)
def test_conv_volume_new_mistakes(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_conv_volume(wrong)


def overwrites_channels(x, w, b):
    c_out, c_in, k, _ = w.shape
    y = np.zeros((c_out, x.shape[1] - k + 1, x.shape[2] - k + 1))
    for o in range(c_out):
        for i in range(y.shape[1]):
            for j in range(y.shape[2]):
                for c in range(c_in):  # '=' keeps only the last channel
                    y[o, i, j] = np.sum(w[o, c] * x[c, i : i + k, j : j + k]) + b[o]
    return y


def swapped_filter_axes(x, w, b):
    return conv_loops(x, w.transpose(1, 0, 2, 3), b)


def scales_the_window(x, w, b):
    c_out, c_in, k, _ = w.shape
    y = np.zeros((c_out, x.shape[1] - k + 1, x.shape[2] - k + 1))
    x = x.astype(float) if x.dtype.kind != "f" else x
    for o in range(c_out):
        for i in range(y.shape[1]):
            for j in range(y.shape[2]):
                window = x[:, i : i + k, j : j + k]
                window *= w[o]  # a view: this multiplies x itself
                y[o, i, j] = window.sum() + b[o]
    return y


def zeros_like_x(x, w, b):
    c_out, _, k, _ = w.shape
    y = np.zeros_like(x, shape=(c_out, x.shape[1] - k + 1, x.shape[2] - k + 1))
    y[...] = conv_loops(x.astype(float), w, b)
    return y


@pytest.mark.parametrize(
    "wrong, message",
    [
        (overwrites_channels, "you overwrote y\\[o, i, j\\] for every input channel"),
        (lambda x, w, b: conv_loops(x, w, b).transpose(1, 2, 0), "channels last"),
        (
            lambda x, w, b: conv_loops(x, w.transpose(0, 1, 3, 2), b),
            "kernel is transposed",
        ),
        (swapped_filter_axes, "first two axes are swapped"),
        (zeros_like_x, "integer array \\(uint8\\)"),
        (scales_the_window, "changed its input x in place"),
        (
            lambda x, w, b: conv_loops(x, w, b).transpose(0, 2, 1),
            "height and width are swapped",
        ),
        (lambda x, w, b: conv_loops(x, w, b).astype(np.float32), "float32"),
        (
            lambda x, w, b: conv_loops(assume_contiguous(x), w, b),
            "stored non-contiguously",
        ),
    ],
    ids=[
        "overwrite",
        "channels-last",
        "kernel-transposed",
        "w-axes-swapped",
        "uint8",
        "mutates-x",
        "h-w-swapped",
        "float32",
        "as-strided",
    ],
)
def test_conv2d_channels_new_mistakes(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_conv2d_channels(wrong)


def test_conv2d_channels_einsum_answer_passes():
    def einsum(x, w, b):
        k = w.shape[2]
        windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))
        return np.einsum("chwuv,ocuv->ohw", windows, w) + b[:, None, None]

    assert check_conv2d_channels(einsum)


def test_conv2d_channels_names_summed_biases():
    with pytest.raises(ExerciseError, match="sum of all the biases"):
        check_conv2d_channels(lambda x, w, b: conv_loops(x, w, b, bias=0) + b.sum())
