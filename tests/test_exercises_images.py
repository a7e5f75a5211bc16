"""The image chapter's checkers name the mistake: feed them typical wrong answers."""

import math

import numpy as np
import pytest

from cnnlib.exercises._core import ExerciseError
from cnnlib.exercises.images import (
    check_conv2d_channels,
    check_conv_volume,
    check_diagonal_edge_kernel,
    check_stack_receptive_field,
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
            "not the ceiling",
        ),
        (
            lambda *a: volume(*a, size=lambda n, k, s, p: (n + p - k) // s + 1),
            "counted once",
        ),
        (
            lambda *a: volume(*a, size=lambda n, k, s, p: (n - k) // s + 1),
            "padding is ignored",
        ),
        (
            lambda *a: volume(*a, size=lambda n, k, s, p: (n + 2 * p - k) // s),
            "forgot the \\+1",
        ),
        (
            lambda *a: volume(*a, size=lambda n, k, s, p: n + 2 * p - k + 1),
            "stride is ignored",
        ),
        (lambda *a: volume(*a, params=lambda ci, co, k: ci * co * k * k), "biases"),
        (
            lambda *a: volume(*a, params=lambda ci, co, k: co * (k * k + 1)),
            "spans all c_in",
        ),
        (
            lambda *a: volume(*a, params=lambda ci, co, k: co * ci * (k * k + 1)),
            "not one per \\(filter, input channel\\) pair",
        ),
        (
            lambda *a: volume(*a, params=lambda ci, co, k: ci * co * k + co),
            "k \\* k weights",
        ),
        (
            lambda *a: volume(*a, params=lambda ci, co, k: 7),
            "parameters for .* expected",
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
# conv2d_channels(x, w, b) -> (C_out, H - k + 1, W - k + 1)


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
        (lambda x, w, b: conv_loops(x, w, b) + 0.01, "expected"),
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


def test_conv2d_channels_names_c_in_channels():
    def per_input_channel(x, w, b):
        return np.stack(
            [
                conv_loops(x[c : c + 1], w[:1, c : c + 1], b[:1])[0]
                for c in range(x.shape[0])
            ]
        )

    with pytest.raises(ExerciseError, match="one channel per filter|expected an out"):
        check_conv2d_channels(per_input_channel)


# --------------------------------------------------------------------------------------
# stack_receptive_field(layers) with (kernel, stride, dilation) triples


def rf(layers, use_d=True, use_s=True, current=False, extra=0, start=1):
    r, j = start, 1
    for k, s, d in layers:
        d = d if use_d else 1
        s = s if use_s else 1
        if current:
            j *= s
        r += ((k - 1) * d + extra) * j
        if not current:
            j *= s
    return r


def test_stack_receptive_field_correct_answer_passes(capsys):
    assert check_stack_receptive_field(rf)
    assert "correct" in capsys.readouterr().out


def k_times_d(layers):
    r, j = 1, 1
    for k, s, d in layers:
        r, j = r + k * d * j, j * s
    return r


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda L: rf(L, use_s=False), "strides ignored"),
        (lambda L: rf(L, use_d=False), "dilation ignored"),
        (lambda L: rf(L, current=True), "including the current layer"),
        (lambda L: rf(L, extra=1), "off by one per layer"),
        (k_times_d, "off by one per layer"),
        (lambda L: rf(L, start=0), "off by one overall"),
        (lambda L: float(rf(L)), "return an int"),
        (lambda L: rf(L) + 3, "expected"),
    ],
    ids=[
        "no-stride",
        "no-dilation",
        "current",
        "plus-one",
        "k-times-d",
        "start-0",
        "float",
        "other",
    ],
)
def test_stack_receptive_field_diagnoses(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_stack_receptive_field(wrong)


def test_stack_receptive_field_reference_matches_torch_gradients():
    """The checker's reference is the formula; it agrees with measured fields."""
    torch = pytest.importorskip("torch")
    from cnnlib.receptive_field import measured_receptive_field2d

    layers = [(3, 2, 2), (3, 1, 3), (2, 2, 1), (3, 1, 2)]
    modules = [torch.nn.Conv2d(1, 1, k, s, dilation=d) for k, s, d in layers]
    assert measured_receptive_field2d(modules, 64) == (rf(layers), rf(layers))


# --------------------------------------------------------------------------------------
# diagonal_edge_kernel() -> 3x3

GOOD = np.array([[0.0, -1, -1], [1, 0, -1], [1, 1, 0]])


def test_diagonal_edge_kernel_correct_answers_pass(capsys):
    assert check_diagonal_edge_kernel(lambda: GOOD)
    assert check_diagonal_edge_kernel(lambda: [[0, 0, -1], [0, 0, 0], [1, 0, 0]])
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda: GOOD[:2], "3x3"),
        (lambda: GOOD + 0.1, "flat image"),
        (lambda: GOOD[:, ::-1], "other diagonal"),
        (lambda: [[1, 0, -1], [2, 0, -2], [1, 0, -1]], "vertical edges"),
        (lambda: [[1, 2, 1], [0, 0, 0], [-1, -2, -1]], "horizontal edges"),
        (lambda: -GOOD, "sign flipped"),
        (lambda: GOOD[::-1, ::-1], "sign flipped"),
        (lambda: [[0, -2, 0], [1, 0, 0], [0, 1, 0]], '"/" edges'),
        (lambda: np.zeros((3, 3)), "no response"),
        (lambda: [[0, 0, 1], [0, -2, 0], [1, 0, 0]], "both signs"),
        (lambda: [[0, 0, -1], [0, 2, 0], [-1, 0, 0]], "both signs"),
    ],
    ids=[
        "shape",
        "flat",
        "other-diagonal",
        "vertical",
        "horizontal",
        "negated",
        "convolution",
        "anti-diagonal-response",
        "zeros",
        "line-detector",
        "line-detector-negated",
    ],
)
def test_diagonal_edge_kernel_diagnoses(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_diagonal_edge_kernel(wrong)
