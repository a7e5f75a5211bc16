"""Z2CNN and P4CNN: shapes, hand-counted parameters, matched widths, P4CNN's exact
invariance to 90° rotations (in train mode's batch statistics too), bad inputs."""

import pytest
import torch
from torch import nn

from cnnlib.models import P4CNN, Z2CNN, count_parameters, matched_channels

torch.set_num_threads(1)


def rot(x, r):
    return torch.rot90(x, r, dims=(-2, -1))


def z2_count(c, depth=4, size=28):
    convs = 1 * c * 9 + (depth - 1) * c * c * 9
    head = c * 10 * (size // 4) ** 2 + 10
    return convs + 2 * c * depth + head  # + batch norm's gamma and beta


def p4_count(c, depth=4, size=28):
    convs = 1 * c * 9 + (depth - 1) * c * 4 * c * 9
    head = c * 4 * 10 * (size // 4) ** 2 + 10
    return convs + 2 * c * depth + head


@pytest.mark.parametrize("c, depth, size", [(8, 4, 28), (3, 3, 12), (5, 6, 16)])
def test_parameter_counts_by_hand(c, depth, size):
    assert count_parameters(Z2CNN(c, depth, size)) == z2_count(c, depth, size)
    assert count_parameters(P4CNN(c, depth, size)) == p4_count(c, depth, size)


def test_matched_channels_is_the_closest_width():
    for p4 in (4, 8):
        target = p4_count(p4)
        best = matched_channels(p4)
        gaps = {c: abs(z2_count(c) - target) for c in range(1, 8 * p4 + 1)}
        assert gaps[best] == min(gaps.values())
    assert matched_channels(8) == 21  # chapter 06's pair
    assert abs(z2_count(21) - p4_count(8)) / p4_count(8) < 0.02


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-5), (torch.float64, 1e-12)])
@pytest.mark.parametrize("train", [False, True])
def test_p4cnn_is_exactly_invariant_to_90_degree_rotations(dtype, tol, train):
    torch.manual_seed(0)
    net = P4CNN(4, depth=3, image_size=12).to(dtype).train(train)
    x = torch.randn(5, 1, 12, 12, dtype=dtype)
    with torch.no_grad():
        y = net(x)
        assert y.shape == (5, 10)
        for r in (1, 2, 3):
            # in train mode the batch statistics see the rotated batch: unchanged too
            assert (net(rot(x, r)) - y).abs().max() <= tol * y.abs().max()


def test_z2cnn_is_not_invariant():
    torch.manual_seed(0)
    net = Z2CNN(6, image_size=12).eval()
    x = torch.randn(5, 1, 12, 12)
    with torch.no_grad():
        y = net(x)
        assert y.shape == (5, 10)
        assert (net(rot(x, 1)) - y).abs().max() > 0.05 * y.abs().max()


def test_both_train():
    torch.manual_seed(0)
    x, labels = torch.randn(8, 1, 12, 12), torch.arange(8) % 10
    for net in (Z2CNN(4, image_size=12), P4CNN(2, image_size=12)):
        loss = nn.functional.cross_entropy(net(x), labels)
        loss.backward()
        assert all(p.grad is not None for p in net.parameters())


@pytest.mark.parametrize("cls", [Z2CNN, P4CNN])
@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(channels=0), "channels must be an int >= 1"),
        (dict(channels=2.0), "channels must be an int >= 1"),
        (dict(depth=2), "depth must be an int >= 3"),
        (dict(image_size=30), "image_size must be a multiple of 4"),
        (dict(image_size=True), "image_size must be an int"),
    ],
)
def test_bad_arguments(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


@pytest.mark.parametrize("cls", [Z2CNN, P4CNN])
@pytest.mark.parametrize("shape", [(2, 1, 27, 28), (2, 3, 28, 28), (1, 28, 28)])
def test_bad_images_name_the_shape(cls, shape):
    with pytest.raises(
        ValueError, match=r"expected images \(N, 1, 28, 28\), got shape"
    ):
        cls(2)(torch.zeros(shape))
