"""Measured receptive fields agree with r_l = r_(l-1) + (k_l - 1) j_(l-1)."""

import pytest
from torch import nn

from cnnlib.receptive_field import conv_stack, gradient_map, measured_receptive_field


def formula(kernel, stride, pool, depth):
    r, jump = 1, 1
    for _ in range(depth):
        r, jump = r + (kernel - 1) * jump, jump * stride
        if pool > 1:
            r, jump = r + (pool - 1) * jump, jump * pool
    return r


@pytest.mark.parametrize(
    "kernel, stride, pool", [(3, 1, 1), (3, 2, 1), (3, 1, 2), (5, 2, 2), (2, 1, 3)]
)
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_measured_equals_formula(kernel, stride, pool, depth):
    layers = conv_stack(kernel, stride, pool, depth)
    assert measured_receptive_field(layers, 200) == formula(kernel, stride, pool, depth)


def test_path_counts_and_position():
    grad, n_out = gradient_map(conv_stack(3, 1, 1, 2), 20, position=0)
    assert n_out == 16 and grad[:5].tolist() == [1, 2, 3, 2, 1] and grad[5:].sum() == 0
    with pytest.raises(ValueError, match="position must be in"):
        gradient_map(conv_stack(3, 1, 1, 1), 10, position=8)
    with pytest.raises(ValueError, match="must output"):
        gradient_map([nn.Conv1d(1, 1, 3), nn.Flatten()], 10)
