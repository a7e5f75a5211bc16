"""cnnlib.groups: p4 lifting and group convolutions, exactly equivariant to 90°
rotations, equal to their NumPy references, and strict about their inputs."""

import numpy as np
import pytest
import torch

from cnnlib.groups import (
    GroupConv2d,
    LiftingConv2d,
    group_conv2d_reference,
    group_pool,
    lifting_conv2d_reference,
    rotate_p4,
)

torch.set_num_threads(1)
F64 = torch.float64
P4 = torch.zeros(1, 1, 4, 3, 3)  # a p4 feature map (N, C, 4, H, W)


def rot(x, r):
    return torch.rot90(x, r, dims=(-2, -1))


def layers(dtype, padding=1):
    torch.manual_seed(0)
    lift = LiftingConv2d(3, 5, 3, padding=padding).to(dtype)
    group = GroupConv2d(5, 4, 3, padding=padding).to(dtype)
    return lift, group


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-5), (F64, 1e-12)])
@pytest.mark.parametrize("padding", [0, 1])
@pytest.mark.parametrize("r", [0, 1, 2, 3, -1, 5])
def test_layers_and_stacks_are_exactly_equivariant(dtype, tol, padding, r):
    lift, group = layers(dtype, padding)
    x = torch.randn(2, 3, 9, 11, generator=torch.Generator().manual_seed(r + 9))
    x = x.to(dtype)
    with torch.no_grad():
        y = lift(x)
        assert (lift(rot(x, r)) - rotate_p4(y, r)).abs().max() < tol
        assert (group(rotate_p4(y, r)) - rotate_p4(group(y), r)).abs().max() < tol
        stack = torch.nn.Sequential(lift, torch.nn.ReLU(), group, torch.nn.ReLU())
        assert (stack(rot(x, r)) - rotate_p4(stack(x), r)).abs().max() < tol


def test_a_plain_convolution_is_not_rotation_equivariant():
    torch.manual_seed(1)
    conv = torch.nn.Conv2d(1, 2, 3, padding=1).double()
    x = torch.randn(1, 1, 8, 8, dtype=F64)
    with torch.no_grad():
        gap = (conv(rot(x, 1)) - rot(conv(x), 1)).abs().max()
    assert gap > 0.1


def test_group_pooling_then_global_pooling_is_exactly_invariant():
    lift, group = layers(F64)
    x = torch.randn(3, 3, 10, 10, dtype=F64)

    def features(x):
        return group_pool(group(torch.relu(lift(x))), "max").mean(dim=(-2, -1))

    with torch.no_grad():
        for r in range(4):
            assert (features(rot(x, r)) - features(x)).abs().max() < 1e-12


@pytest.mark.parametrize("padding", [0, 2])
def test_the_modules_equal_their_numpy_references(padding):
    lift, group = layers(F64, padding)
    x = torch.randn(2, 3, 7, 8, dtype=F64)
    with torch.no_grad():
        y = lift(x)
        z = group(y)
    w, b = lift.weight.detach().numpy(), lift.bias.detach().numpy()
    np.testing.assert_allclose(
        lifting_conv2d_reference(x.numpy(), w, b, padding), y.numpy(), atol=1e-12
    )
    w, b = group.weight.detach().numpy(), group.bias.detach().numpy()
    np.testing.assert_allclose(
        group_conv2d_reference(y.numpy(), w, b, padding), z.numpy(), atol=1e-12
    )


def test_parameter_counts_against_a_plain_convolution():
    lift, group = LiftingConv2d(3, 8, 5), GroupConv2d(8, 8, 3, bias=False)
    plain = torch.nn.Conv2d(3, 8, 5)
    assert sum(p.numel() for p in lift.parameters()) == sum(
        p.numel() for p in plain.parameters()
    )
    assert group.weight.shape == (8, 8, 4, 3, 3)
    assert group.weight.numel() == 4 * torch.nn.Conv2d(8, 8, 3).weight.numel()


def test_rotate_p4_moves_plane_s_to_s_plus_r():
    y = torch.arange(4.0).view(1, 1, 4, 1, 1).expand(1, 1, 4, 2, 2)
    assert rotate_p4(y, 1)[0, 0, :, 0, 0].tolist() == [3.0, 0.0, 1.0, 2.0]
    assert torch.equal(rotate_p4(rotate_p4(y, 3), 1), y)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: rotate_p4(P4, 1.0), TypeError, "rotate_p4: r must be an int"),
        (lambda: rotate_p4(P4, True), TypeError, "rotate_p4: r must be an int"),
        (lambda: rotate_p4(torch.zeros(1, 3, 3, 3), 1), ValueError, r"y must be a p4"),
        (lambda: rotate_p4(np.zeros((1, 4, 3, 3)), 1), TypeError, "torch.Tensor"),
        (lambda: group_pool(torch.zeros(1, 1, 4, 3, 3), "sum"), ValueError, "mode"),
        (lambda: group_pool(torch.zeros(1, 3, 3), "max"), ValueError, "group_pool"),
        (
            lambda: GroupConv2d(2, 3, 3)(torch.zeros(1, 2, 8, 8)),
            ValueError,
            r"GroupConv2d: input must be 5-D \(N, C_in, 4, H, W\), got 4-D shape "
            r"\(1, 2, 8, 8\); a LiftingConv2d",
        ),
        (
            lambda: GroupConv2d(2, 3, 3)(torch.zeros(1, 2, 3, 8, 8)),
            ValueError,
            "axis 2 must hold the 4 rotations",
        ),
        (
            lambda: LiftingConv2d(2, 3, 3)(torch.zeros(1, 3, 8, 8)),
            ValueError,
            r"LiftingConv2d: input has 3 channels but the layer expects "
            r"in_channels=2 \(input shape \(1, 3, 8, 8\)\)",
        ),
        (
            lambda: LiftingConv2d(2, 3, 3)(torch.zeros(2, 8, 8)),
            ValueError,
            r"LiftingConv2d: input must be 4-D",
        ),
        (lambda: LiftingConv2d(2, 3, 0), ValueError, "kernel_size must be >= 1"),
        (lambda: LiftingConv2d(2, 3, 3, padding=-1), ValueError, "padding"),
        (lambda: GroupConv2d(2.0, 3, 3), TypeError, "in_channels must be an int"),
    ],
)  # fmt: skip
def test_bad_inputs_name_the_argument_and_the_shapes(call, error, message):
    with pytest.raises(error, match=message):
        call()
