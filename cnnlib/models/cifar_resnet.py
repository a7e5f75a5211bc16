"""The small residual networks of He et al. 2016 (section 4.2, CIFAR-10), sized for
28x28 grey images, with switches for the chapter's experiments.

``CifarResNet(depth)`` has depth = 6n + 2 weight layers: a 3x3 stem convolution,
three stages of n blocks of two 3x3 convolutions (``width``, 2 ``width``, 4 ``width``
channels; the first convolution of stages 2 and 3 has stride 2), global average
pooling and one linear layer. Departures from the paper: the shortcut that changes
shape is the paper's option B (a 1x1 convolution with stride 2, plus batch norm),
not option A (subsampling and zero-padding the extra channels), so the net has
2 w^2 + 8 w^2 weights more (+ 12 w norm parameters; 2,752 for w = 16); the
convolutions are initialised He normal with fan_in (He et al. 2015, which keeps
the forward variance; torchvision's ImageNet nets use fan_out); and the default
input has 1 channel.

Switches: ``residual=False`` gives the "plain" twin: the same layers without the
sums and so without projections, exactly their parameters fewer (10 w^2 + 12 w;
10 w^2 + 6 w without batch norm, 10 w^2 with ``preact``). ``preact=True`` uses the
pre-activation block of He et al., "Identity mappings in deep residual networks"
(ECCV 2016): the stem is reduced to its convolution, projections have no norm (they
see the block's pre-activated input), and a final batch norm + ReLU precedes the
pooling. ``batch_norm=False`` drops every norm (the convolutions then get biases,
initialised to zero), for the variance-growth experiment.
"""

from __future__ import annotations

import torch
from torch import nn

from .lenet import check_images, check_int
from .resnet import init_resnet
from .resnet_blocks import BasicBlock, PreActBasicBlock, conv1x1, conv3x3


def cifar_blocks(depth: int, owner: str = "CifarResNet") -> int:
    """depth = 6n + 2 -> n, the blocks per stage; ValueError naming ``depth``."""
    if not isinstance(depth, int) or isinstance(depth, bool):
        raise TypeError(f"{owner}: depth must be an int, got {depth!r}")
    if depth < 8 or (depth - 2) % 6:
        raise ValueError(
            f"{owner}: depth must be 6n + 2 with n >= 1 (8, 14, 20, 32, 44, 56, "
            f"110, ...), got {depth}"
        )
    return (depth - 2) // 6


class CifarResNet(nn.Module):
    """x (N, in_channels, H, W) -> logits (N, num_classes), any H, W >= 1.

    ``conv1`` 3x3 (``width``) -> ``bn1`` -> ``relu`` at full size, then ``layer1``
    (H, W), ``layer2`` (ceil(H/2), ceil(W/2)), ``layer3`` (ceil(H/4), ceil(W/4)) of
    n = (depth - 2) / 6 blocks each, ``avgpool`` (global) and ``fc``. 28x28 inputs
    give 28, 14 and 7; 13x17 give 13x17, 7x9 and 4x5. ``CifarResNet(20)`` has
    272,186 parameters (269,434 plain); with ``in_channels=3``, 272,474 (the
    paper's option A net has 0.27 M). See the module docstring for the
    switches and the departures from the paper.
    """

    def __init__(
        self,
        depth: int,
        width: int = 16,
        num_classes: int = 10,
        in_channels: int = 1,
        residual: bool = True,
        preact: bool = False,
        batch_norm: bool = True,
    ):
        super().__init__()
        n = cifar_blocks(depth)
        check_int("CifarResNet", "width", width)
        check_int("CifarResNet", "num_classes", num_classes)
        check_int("CifarResNet", "in_channels", in_channels)
        self.depth, self.in_channels = depth, in_channels
        self.residual, self.preact, self.batch_norm = residual, preact, batch_norm
        self.inplanes = width
        self.conv1 = conv3x3(in_channels, width, bias=not batch_norm)
        norm = nn.BatchNorm2d if batch_norm else nn.Identity
        # pre-activation: the first block's bn1 + ReLU follow the stem convolution
        self.bn1 = nn.Identity() if preact else norm(width)
        self.relu = nn.ReLU()
        self.layer1 = self._make_layer(width, n)
        self.layer2 = self._make_layer(2 * width, n, stride=2)
        self.layer3 = self._make_layer(4 * width, n, stride=2)
        if preact:
            self.bn_final = norm(4 * width)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(4 * width, num_classes)
        init_resnet(self, zero_init_residual=False, mode="fan_in")

    def _make_layer(self, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        """``blocks`` blocks of ``planes`` channels, the first with ``stride`` and
        an option-B projection shortcut when the shape changes (residual only)."""
        block = PreActBasicBlock if self.preact else BasicBlock
        downsample = None
        if self.residual and (stride != 1 or self.inplanes != planes):
            proj = [conv1x1(self.inplanes, planes, stride, bias=not self.batch_norm)]
            if self.batch_norm and not self.preact:
                proj.append(nn.BatchNorm2d(planes))
            downsample = nn.Sequential(*proj)
        opts = {"batch_norm": self.batch_norm, "residual": self.residual}
        units = [block(self.inplanes, planes, stride, downsample, **opts)]
        self.inplanes = planes
        units += [block(planes, planes, **opts) for _ in range(1, blocks)]
        return nn.Sequential(*units)

    def blocks(self) -> list[nn.Module]:
        """The 3n blocks, input side first."""
        return [b for layer in (self.layer1, self.layer2, self.layer3) for b in layer]

    def forward(self, x):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"CifarResNet: x must be a torch.Tensor, got {type(x)}")
        check_images("CifarResNet", x, self.in_channels)
        x = self.conv1(x)  # (N, w, H, W)
        if not self.preact:
            x = self.relu(self.bn1(x))
        x = self.layer3(self.layer2(self.layer1(x)))  # (N, 4w, H/4, W/4), rounded up
        if self.preact:
            x = self.relu(self.bn_final(x))
        x = self.avgpool(x).flatten(1)  # (N, 4w)
        return self.fc(x)  # (N, num_classes)
