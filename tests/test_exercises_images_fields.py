"""The image chapter's receptive-field and diagonal-kernel checkers: wrong answers."""

import numpy as np
import pytest

from cnnlib.exercises._core import ExerciseError
from cnnlib.exercises.images import (
    check_diagonal_edge_kernel,
    check_stack_receptive_field,
)

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


def dilation_in_jump(layers):
    r, j = 1, 1
    for k, s, d in layers:
        r, j = r + (k - 1) * d * j, j * s * d
    return r


def reverses_in_place(layers):
    layers.reverse()
    r = 1
    for k, s, d in layers:
        r = s * r + (d * (k - 1) + 1 - s)
    return r


@pytest.mark.parametrize(
    "wrong, message",
    [
        (dilation_in_jump, "does not multiply the jump"),
        (lambda L: rf_span_dk(L), "not d k"),
        (lambda L: rf(L[::-1]), "wrong order"),
        (lambda L: sum(k for k, _, _ in L), "adding the kernel sizes"),
        (reverses_in_place, "changed its input layers in place: it was reversed"),
        (lambda L: rf(L, use_d=False, use_s=False), "two mistakes"),
    ],
    ids=["dilated-jump", "span-dk", "top-down", "sum-k", "reverse-in-place", "two"],
)
def test_stack_receptive_field_new_mistakes(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_stack_receptive_field(wrong)


def rf_span_dk(layers):
    r, j = 1, 1
    for k, s, d in layers:
        r, j = r + (d * k - 1) * j, j * s
    return r


def test_stack_receptive_field_top_down_recursion_passes():
    def recursion(layers):
        r = 1
        for k, s, d in reversed(layers):
            r = s * r + (d * (k - 1) + 1 - s)
        return r

    assert check_stack_receptive_field(recursion)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda: [[0, 1, 2], [-1, 0, 1], [-2, -1, 0]], "sign flipped"),
        (lambda: [[2, -1, -1], [-1, 2, -1], [-1, -1, 2]], '"/" edges'),
        (lambda: [[0, 0, 0], [1, 0, -1], [0, 0, 0]], "vertical edges .*each row sums"),
        (lambda: [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], '"/" edges'),
        (lambda: None, "returned None"),
    ],
    ids=[
        "sobel-wrong-polarity",
        "line-detector",
        "row-difference",
        "laplacian",
        "none",
    ],
)
def test_diagonal_edge_kernel_new_mistakes(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_diagonal_edge_kernel(wrong)


def test_diagonal_edge_kernel_sobel_diagonal_passes():
    assert check_diagonal_edge_kernel(lambda: [[0, -1, -2], [1, 0, -1], [2, 1, 0]])
