"""Highway networks (Srivastava, Greff and Schmidhuber, "Training very deep
networks", NeurIPS 2015) for convolutional feature maps: the gated ancestor of the
residual connection.

A highway layer mixes a transformation H(x) and its input x with a learned gate
T(x) in (0, 1), per channel and position: y = H(x) T(x) + x (1 - T(x)). Here H is a
3x3 convolution (padding 1) -> batch norm -> ReLU, and T = sigmoid of a convolution
(3x3 as in the paper's convolutional highway layers, or 1x1) whose bias starts at
``gate_bias`` < 0, so that at initialisation T is about sigmoid(-2) = 0.12 and each
layer mostly carries its input through, as the paper recommends for deep nets.
A residual block is the ungated limit y = H(x) + x.

``HighwayCNN`` mirrors :class:`~cnnlib.models.cifar_resnet.CifarResNet` (6n + 2
weight layers, widths w, 2w, 4w) so the chapter can compare them. Departure: a
highway layer cannot change the shape of x, so the first layer of stages 2 and 3
is a plain 3x3 stride-2 convolution + batch norm + ReLU (:class:`ConvBNReLU` of
:mod:`cnnlib.models.plain`) instead of a highway layer.
"""

from __future__ import annotations

import torch
from torch import nn

from .cifar_resnet import cifar_blocks
from .lenet import check_images, check_int
from .plain import ConvBNReLU


def _check_number(owner: str, name: str, value) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r}")


class HighwayBlock(nn.Module):
    """x (N, channels, H, W) -> y (N, channels, H, W) = H(x) T(x) + x (1 - T(x)).

    H: ``conv`` (3x3) -> ``bn`` (identity when ``batch_norm=False``; the conv then
    has a bias) -> ``relu``. T: ``gate`` (a ``gate_kernel_size`` convolution, 3 or 1,
    with bias ``gate_bias``) -> ``sigmoid``; a forward hook on ``sigmoid`` records
    the gate values. H's weights are He normal (fan_in), the gate's torch's default.
    Parameters: 9 C^2 (+ 2 C norm or C bias) for H, k^2 C^2 + C for T.
    """

    def __init__(
        self,
        channels: int,
        gate_bias: float = -2.0,
        batch_norm: bool = True,
        gate_kernel_size: int = 3,
    ):
        super().__init__()
        check_int("HighwayBlock", "channels", channels)
        _check_number("HighwayBlock", "gate_bias", gate_bias)
        if gate_kernel_size not in (1, 3):
            raise ValueError(
                "HighwayBlock: gate_kernel_size must be 1 or 3, got "
                f"{gate_kernel_size!r}"
            )
        self.channels = channels
        self.conv = nn.Conv2d(channels, channels, 3, padding=1, bias=not batch_norm)
        self.bn = nn.BatchNorm2d(channels) if batch_norm else nn.Identity()
        self.relu = nn.ReLU()
        k = gate_kernel_size
        self.gate = nn.Conv2d(channels, channels, k, padding=k // 2)
        self.sigmoid = nn.Sigmoid()
        nn.init.kaiming_normal_(self.conv.weight, mode="fan_in", nonlinearity="relu")
        if self.conv.bias is not None:
            nn.init.zeros_(self.conv.bias)
        nn.init.constant_(self.gate.bias, float(gate_bias))

    def forward(self, x):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"HighwayBlock: x must be a torch.Tensor, got {type(x)}")
        check_images("HighwayBlock", x, self.channels)
        t = self.sigmoid(self.gate(x))  # T(x) (N, C, H, W), in (0, 1)
        h = self.relu(self.bn(self.conv(x)))  # H(x) (N, C, H, W)
        return h * t + x * (1 - t)


class HighwayCNN(nn.Module):
    """x (N, in_channels, H, W) -> logits (N, num_classes), any H, W >= 1.

    ``conv1`` 3x3 (``width``) -> ``bn1`` -> ``relu``; ``layer1``: 2n highway layers
    of ``width`` channels; ``layer2``, ``layer3``: a plain stride-2 ConvBNReLU to 2
    ``width`` (4 ``width``) then 2n - 1 highway layers; ``avgpool`` and ``fc``. The
    3x3 transform convolutions are the same layers as in ``CifarResNet(depth,
    residual=False)``; the gates add k^2 C^2 + C parameters per highway layer.
    ``HighwayCNN(20)`` has 514,234 parameters (269,434 + 244,800 in the gates).
    """

    def __init__(
        self,
        depth: int,
        width: int = 16,
        num_classes: int = 10,
        in_channels: int = 1,
        gate_bias: float = -2.0,
        batch_norm: bool = True,
        gate_kernel_size: int = 3,
    ):
        super().__init__()
        n = cifar_blocks(depth, owner="HighwayCNN")
        check_int("HighwayCNN", "width", width)
        check_int("HighwayCNN", "num_classes", num_classes)
        check_int("HighwayCNN", "in_channels", in_channels)
        _check_number("HighwayCNN", "gate_bias", gate_bias)
        self.depth, self.in_channels = depth, in_channels
        self.conv1 = nn.Conv2d(in_channels, width, 3, padding=1, bias=not batch_norm)
        self.bn1 = nn.BatchNorm2d(width) if batch_norm else nn.Identity()
        self.relu = nn.ReLU()
        nn.init.kaiming_normal_(self.conv1.weight, mode="fan_in", nonlinearity="relu")
        if self.conv1.bias is not None:
            nn.init.zeros_(self.conv1.bias)
        stages = []
        for i in range(3):
            c = width * 2**i
            units = [ConvBNReLU(c // 2, c, 2, batch_norm)] if i > 0 else []
            units += [
                HighwayBlock(c, gate_bias, batch_norm, gate_kernel_size)
                for _ in range(2 * n - len(units))
            ]
            stages.append(nn.Sequential(*units))
        self.layer1, self.layer2, self.layer3 = stages
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(4 * width, num_classes)

    def blocks(self) -> list[HighwayBlock]:
        """The highway layers, input side first."""
        return [m for m in self.modules() if isinstance(m, HighwayBlock)]

    def forward(self, x):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"HighwayCNN: x must be a torch.Tensor, got {type(x)}")
        check_images("HighwayCNN", x, self.in_channels)
        x = self.relu(self.bn1(self.conv1(x)))  # (N, w, H, W)
        x = self.layer3(self.layer2(self.layer1(x)))  # (N, 4w, H/4, W/4), rounded up
        x = self.avgpool(x).flatten(1)  # (N, 4w)
        return self.fc(x)  # (N, num_classes)
