"""A plain CNN and its p4 twin for rotated digits, after Cohen and Welling's Z2CNN and
P4CNN ("Group equivariant convolutional networks", ICML 2016), shrunk to train on a
CPU.

Both read square (N, 1, S, S) images (S = ``image_size``, a multiple of 4) and stack
the same blocks: ``depth`` 3x3 convolutions with 'same' padding, batch norm and ReLU,
with 2x2 max pooling after the 1st and the 3rd, then, as in the paper, a last
convolution whose kernel covers the whole remaining S/4 x S/4 map and gives the 10
logits. Z2CNN's convolutions are nn.Conv2d. P4CNN's first is a LiftingConv2d and the
others, the last included, GroupConv2d; its batch norm shares one mean and variance
per channel over the rotation axis (BatchNorm3d on (N, C, 4, H, W), so that rotating
the input only rotates what the statistics see), and the logits are the maximum over
the rotation axis of the last layer's output (group pooling). So P4CNN is exactly
invariant to rotations of its input by multiples of 90°: S/2 is even at both
poolings, so every 2x2 pooling grid maps onto itself under rot90.

Departures from the paper: fewer layers (7 there), 'same' padding and pooling twice
instead of valid convolutions and pooling once, no dropout. A p4 layer with C
channels in and out has 4C²k² weights and a plain one C²k², so a P4CNN with C
channels has about as many parameters as a Z2CNN with 2C to 3C (the p4 head counts
4 times too): :func:`matched_channels` finds the width that matches.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import nn

from ..groups import GroupConv2d, LiftingConv2d, group_pool
from .lenet import check_images, check_int
from .summary import count_parameters

POOL_AFTER = (0, 2)  # max pooling after the 1st and the 3rd convolution
NUM_CLASSES = 10


def _check_args(owner, channels, depth, image_size):
    for name, value, low in [("channels", channels, 1), ("depth", depth, 3)]:
        check_int(owner, name, value, low)
    check_int(owner, "image_size", image_size, 4)
    if image_size % 4:
        raise ValueError(
            f"{owner}: image_size must be a multiple of 4 (two 2x2 poolings that "
            f"rotations map onto themselves), got {image_size}"
        )


class Z2CNN(nn.Module):
    """x (N, 1, S, S) -> logits (N, 10): a plain CNN.

    ``depth`` (>= 3) 3x3 convolutions of ``channels`` channels with batch norm and
    ReLU, 2x2 max pooling after the 1st and the 3rd, then an (S/4 x S/4) convolution
    to the 10 logits. ``image_size`` S: 28 for MNIST.
    """

    def __init__(self, channels=21, depth=4, image_size=28):
        super().__init__()
        _check_args("Z2CNN", channels, depth, image_size)
        layers, c_in = [], 1
        for i in range(depth):
            layers += [
                nn.Conv2d(c_in, channels, 3, padding=1, bias=False),
                nn.BatchNorm2d(channels),
                nn.ReLU(),
            ]
            if i in POOL_AFTER:
                layers.append(nn.MaxPool2d(2))
            c_in = channels
        self.features = nn.Sequential(*layers)
        self.head = nn.Conv2d(channels, NUM_CLASSES, image_size // 4)
        self.image_size = image_size

    def forward(self, x):
        check_images("Z2CNN", x, 1, self.image_size)
        return self.head(self.features(x)).flatten(1)


class P4MaxPool2d(nn.Module):
    """(N, C, 4, H, W) -> (N, C, 4, H // 2, W // 2): 2x2 max pooling of every plane."""

    def forward(self, y):
        return F.max_pool2d(y.flatten(1, 2), 2).unflatten(1, y.shape[1:3])


class P4CNN(nn.Module):
    """x (N, 1, S, S) -> logits (N, 10): Z2CNN's layout on p4.

    A LiftingConv2d, then ``depth - 1`` GroupConv2d, each with batch norm over
    (N, 4, H, W) per channel and ReLU, 2x2 max pooling of every plane after the 1st
    and the 3rd; an (S/4 x S/4) GroupConv2d to 10 channels and the maximum over the
    rotation axis. Exactly invariant to 90° rotations of the input (module docstring).
    """

    def __init__(self, channels=8, depth=4, image_size=28):
        super().__init__()
        _check_args("P4CNN", channels, depth, image_size)
        layers = []
        for i in range(depth):
            conv = (
                LiftingConv2d(1, channels, 3, padding=1, bias=False)
                if i == 0
                else GroupConv2d(channels, channels, 3, padding=1, bias=False)
            )
            layers += [conv, nn.BatchNorm3d(channels), nn.ReLU()]
            if i in POOL_AFTER:
                layers.append(P4MaxPool2d())
        self.features = nn.Sequential(*layers)
        self.head = GroupConv2d(channels, NUM_CLASSES, image_size // 4)
        self.image_size = image_size

    def forward(self, x):
        check_images("P4CNN", x, 1, self.image_size)
        y = self.head(self.features(x))  # (N, 10, 4, 1, 1)
        return group_pool(y, "max").flatten(1)


def matched_channels(p4_channels=8, depth=4, image_size=28) -> int:
    """The Z2CNN width whose parameter count is closest to P4CNN(p4_channels)'s."""
    target = count_parameters(P4CNN(p4_channels, depth, image_size))
    return min(
        range(1, 8 * p4_channels + 1),
        key=lambda c: abs(count_parameters(Z2CNN(c, depth, image_size)) - target),
    )
