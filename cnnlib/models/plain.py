"""A deep "plain" CNN: a stack of 3x3 convolutions without skip connections.

``PlainCNN`` is the plain network of He et al., "Deep residual learning for image
recognition" (CVPR 2016, section 4.2): a first convolution, then three stages of 3x3
convolutions whose widths double (``width``, 2 ``width``, 4 ``width``) while the
first convolution of stages 2 and 3 halves the height and width with stride 2, then
global average pooling and one linear layer. Departures from the paper: ``depth``
counts the convolutions (the paper's "plain-20" has 19 convolutions and a linear
layer), they are split as evenly as the count allows instead of 2n per stage, and
batch normalisation is optional (``batch_norm=False`` is the default here, because
the chapter "Batch normalization" compares both).

Names follow torchvision's ResNet: ``conv1``/``bn1``/``relu`` for the first
convolution, ``layer1``..``layer3`` for the stages (each a ``Sequential`` of
:class:`ConvBNReLU` units with ``conv``, ``bn`` and ``relu``), ``avgpool``, ``fc``.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def _check_int(name: str, value, low: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"PlainCNN: {name} must be an int >= {low}, got {value!r}")


def _conv(c_in, c_out, stride, batch_norm, weight_scale) -> nn.Conv2d:
    """A 3x3 'same' convolution with He (kaiming) normal weights times weight_scale.

    Without batch norm the convolution has a bias, initialised to zero; with batch
    norm it has none, because the norm's beta plays that part.
    """
    conv = nn.Conv2d(c_in, c_out, 3, stride, padding=1, bias=not batch_norm)
    # He et al. 2015: std = sqrt(2 / fan_in) keeps the activations' second moment
    # constant through ReLU layers; weight_scale = 1 is exactly that.
    nn.init.kaiming_normal_(conv.weight, mode="fan_in", nonlinearity="relu")
    with torch.no_grad():
        conv.weight.mul_(weight_scale)
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)
    return conv


class ConvBNReLU(nn.Module):
    """x (N, C_in, H, W) -> (N, C_out, ceil(H / stride), ceil(W / stride)).

    One unit of the plain network: 3x3 convolution (padding 1), batch norm (or
    nothing when ``batch_norm=False``), ReLU.
    """

    def __init__(self, c_in, c_out, stride=1, batch_norm=False, weight_scale=1.0):
        super().__init__()
        self.conv = _conv(c_in, c_out, stride, batch_norm, weight_scale)
        self.bn = nn.BatchNorm2d(c_out) if batch_norm else nn.Identity()
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


def stage_depths(depth: int) -> tuple[int, int, int]:
    """Convolutions per stage after ``conv1``: depth - 1 split as evenly as possible,
    the later stages first getting the extra ones (20 -> (6, 6, 7))."""
    n, extra = divmod(depth - 1, 3)
    return n + (extra > 2), n + (extra > 1), n + (extra > 0)


class PlainCNN(nn.Module):
    """x (N, in_channels, H, W) -> logits (N, num_classes): ``depth`` convolutions.

    ``conv1`` maps the input to ``width`` channels at full size; the three stages
    hold the other ``depth - 1`` convolutions (see :func:`stage_depths`), with
    ``width``, 2 ``width`` and 4 ``width`` channels; the first convolution of stages
    2 and 3 has stride 2, so 28x28 inputs give 28x28, 14x14 and 7x7 maps. Global
    average pooling gives (N, 4 ``width``) and ``fc`` the logits. Every
    convolution is followed by ``BatchNorm2d`` when ``batch_norm`` and by a ReLU.

    Weights are He normal, N(0, 2 / fan_in), times ``weight_scale`` (1 is exact He
    initialisation; the chapter varies it); biases are zero; ``fc`` keeps torch's
    default initialisation. ``PlainCNN(20, 16)`` has 305,674 parameters without
    batch norm and 306,426 with it.
    """

    def __init__(
        self,
        depth: int = 20,
        width: int = 16,
        num_classes: int = 10,
        in_channels: int = 1,
        batch_norm: bool = False,
        weight_scale: float = 1.0,
    ):
        super().__init__()
        _check_int("depth", depth, 4)
        _check_int("width", width, 1)
        _check_int("num_classes", num_classes, 1)
        _check_int("in_channels", in_channels, 1)
        if not (isinstance(weight_scale, int | float) and weight_scale > 0):
            raise ValueError(
                f"PlainCNN: weight_scale must be a number > 0, got {weight_scale!r}"
            )
        self.depth, self.batch_norm, self.in_channels = depth, batch_norm, in_channels
        self.conv1 = _conv(in_channels, width, 1, batch_norm, weight_scale)
        self.bn1 = nn.BatchNorm2d(width) if batch_norm else nn.Identity()
        self.relu = nn.ReLU()
        c_in, stages = width, []
        for i, n in enumerate(stage_depths(depth)):
            c_out = width * 2**i
            units = [
                ConvBNReLU(
                    c_in if j == 0 else c_out,
                    c_out,
                    2 if (i > 0 and j == 0) else 1,
                    batch_norm,
                    weight_scale,
                )
                for j in range(n)
            ]
            stages.append(nn.Sequential(*units))
            c_in = c_out
        self.layer1, self.layer2, self.layer3 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c_in, num_classes)

    def convs(self) -> list[nn.Conv2d]:
        """The ``depth`` convolutions, input side first."""
        return [m for m in self.modules() if isinstance(m, nn.Conv2d)]

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"PlainCNN: expected images (N, {self.in_channels}, H, W), "
                f"got shape {tuple(x.shape)}"
            )
        x = self.relu(self.bn1(self.conv1(x)))  # (N, width, H, W)
        x = self.layer3(self.layer2(self.layer1(x)))  # (N, 4 width, H/4, W/4)
        x = self.avgpool(x).flatten(1)  # (N, 4 width)
        return self.fc(x)  # (N, num_classes)


def he_std(conv: nn.Conv2d) -> float:
    """The He initialisation's standard deviation for ``conv``: sqrt(2 / fan_in)."""
    fan_in = conv.in_channels // conv.groups * math.prod(conv.kernel_size)
    return math.sqrt(2 / fan_in)
