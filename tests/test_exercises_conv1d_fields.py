"""The 1D chapter's receptive-field and length checkers: wrong answers."""

import math

import pytest

from cnnlib.exercises._core import ExerciseError
from cnnlib.exercises._formulas import receptive_field
from cnnlib.exercises.conv1d import (
    check_conv_pool_length,
    check_receptive_field,
)

# --------------------------------------------------------------------------------------
# receptive_field(layers)


def rf(layers):
    r, j = 1, 1
    for k, s in layers:
        r, j = r + (k - 1) * j, j * s
    return r


def test_receptive_field_correct_answer_passes(capsys):
    assert check_receptive_field(rf)
    assert "correct" in capsys.readouterr().out


def jumps_including_current(layers):
    r, j = 1, 1
    for k, s in layers:
        j *= s
        r += (k - 1) * j
    return r


def k_instead_of_k_minus_1(layers):
    r, j = 0, 1
    for k, s in layers:
        r, j = r + k * j, j * s
    return r


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda layers: 1 + sum(k - 1 for k, _ in layers), "strides ignored"),
        (jumps_including_current, "up to and including the current layer"),
        (k_instead_of_k_minus_1, "off by one per layer"),
        (lambda layers: math.prod(k for k, _ in layers), "not multiplication"),
        (lambda layers: math.prod(s for _, s in layers), "that is the jump"),
        (lambda layers: float(rf(layers)), "return an int"),
        (lambda layers: rf(layers) + 2, "expected"),
    ],
    ids=["no-strides", "current-stride", "k", "product", "jump", "float", "other"],
)
def test_receptive_field_diagnoses(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_receptive_field(wrong)


def walked_top_down(layers):
    r, j = 1, 1
    for k, s in reversed(layers):
        r, j = r + (k - 1) * j, j * s
    return r


def jump_not_multiplied(layers):
    r, j = 1, 1
    for k, s in layers:
        r, j = r + (k - 1) * j, s
    return r


def jumps_added(layers):
    r, j = 1, 1
    for k, s in layers:
        r, j = r + (k - 1) * j, j + s
    return r


def recursion(layers):
    r = 1
    for k, s in layers:
        r = s * r + (k - s)
    return r


def recursion_top_down(layers):
    r = 1
    for k, s in reversed(layers):
        r = s * r + (k - s)
    return r


def reverses_in_place(layers):
    layers.reverse()
    return recursion(layers)


def pops_the_list(layers):
    r, j = 1, 1
    while layers:
        k, s = layers.pop(0)
        r, j = r + (k - 1) * j, j * s
    return r


def test_receptive_field_top_down_recursion_passes():
    assert check_receptive_field(recursion_top_down)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda layers: sum(k for k, _ in layers), "adding the kernel sizes"),
        (walked_top_down, "wrong order"),
        (jump_not_multiplied, "only the previous layer's stride"),
        (jumps_added, "not s1 \\+ s2"),
        (lambda layers: rf(layers) - 1, "start from r = 1"),
        (recursion, "wrong order.*r = s r \\+ \\(k - s\\) is the same rule"),
        (reverses_in_place, "changed its input layers in place: it was reversed"),
        (pops_the_list, "changed its input layers in place: it was emptied"),
        (lambda layers: receptive_field(layers, start=0, jump="none"), "two mistakes"),
    ],
    ids=[
        "sum-k",
        "top-down",
        "previous-stride",
        "jumps-added",
        "start-0",
        "recursion-bottom-up",
        "reverse-in-place",
        "pop",
        "two-mistakes",
    ],
)
def test_receptive_field_new_mistakes(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_receptive_field(wrong)


# --------------------------------------------------------------------------------------
# conv_pool_length(n, k, stride, padding, pool)


def length_ok(n, k, s, p, q):
    return ((n + 2 * p - k) // s + 1) // q


def test_conv_pool_length_correct_answer_passes(capsys):
    assert check_conv_pool_length(length_ok)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda n, k, s, p, q: math.ceil(((n + 2 * p - k) // s + 1) / q), "not ceil"),
        (lambda n, k, s, p, q: ((n + 2 * p - k) // s) // q, "forgot the \\+1"),
        (lambda n, k, s, p, q: ((n + p - k) // s + 1) // q, "padding counted once"),
        (lambda n, k, s, p, q: (n + 2 * p - k) // s + 1, "pooling is missing"),
        (lambda n, k, s, p, q: (n + 2 * p - k + 1) // q, "stride is missing"),
        (lambda n, k, s, p, q: (n // q + 2 * p - k) // s + 1, "pooled before"),
        (lambda n, k, s, p, q: ((n + 2 * p - k) / s + 1) / q, "take the floor"),
        (lambda n, k, s, p, q: length_ok(n, k, s, p, q) + 3, "expected"),
    ],
    ids=[
        "ceil",
        "plus-one",
        "padding",
        "no-pool",
        "no-stride",
        "order",
        "float",
        "other",
    ],
)
def test_conv_pool_length_diagnoses(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_conv_pool_length(wrong)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda n, k, s, p, q: (int((n + 2 * p - k) / s) + 1) // q,
            "int\\(\\) rounds toward",
        ),
        (
            lambda n, k, s, p, q: ((n + 2 * p - k) // s + 1) - q + 1,
            "do not overlap",
        ),
        (
            lambda n, k, s, p, q: (((n + 2 * p - k) // s + 1) + 2 * p - q) // q + 1,
            "no padding",
        ),
        (lambda n, k, s, p, q: ((n + 2 * p - k + 1) // s) // q, "outside the division"),
        (lambda n, k, s, p, q: -(-((n + p - k) // s + 1) // q), "two mistakes"),
        (lambda n, k, s, p, q: 250, "you return 250 whatever"),
    ],
    ids=[
        "int-truncation",
        "pool-stride-1",
        "pool-padded",
        "plus-one-inside",
        "two",
        "constant",
    ],
)
def test_conv_pool_length_new_mistakes(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_conv_pool_length(wrong)
