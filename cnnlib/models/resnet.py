"""Residual networks (He, Zhang, Ren and Sun, "Deep residual learning for image
recognition", CVPR 2016) in torchvision's layout, with an option for pre-activation
(He et al., "Identity mappings in deep residual networks", ECCV 2016).

``ResNet`` and ``resnet18`` .. ``resnet152`` build torchvision's module tree from
the blocks of :mod:`cnnlib.models.resnet_blocks`, so ``state_dict()`` keys and
shapes are torchvision's and the parameter counts match (11,689,512 / 21,797,672 /
25,557,032 / 44,549,160 / 60,192,808 for 1000 classes); no pretrained weights are
loaded. As in torchvision ("ResNet v1.5") a bottleneck strides in its 3x3
convolution, not in the first 1x1 as in the paper.

Passed ``PreActBasicBlock`` or ``PreActBottleneck``, ``ResNet`` builds a
pre-activation network: the same stem (conv, BN, ReLU, max pool, as in
fb.resnet.torch's ``preresnet.lua``), projection shortcuts without batch norm, and
one more ``bn_final`` + ReLU before the pooling (the last sum is otherwise never
normalised). ``resnet200`` has the layer counts (Bottleneck, [3, 24, 36, 3]) of the
paper's ResNet-200; build it under ``torch.device("meta")`` to inspect it without
allocating memory.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .lenet import check_images, check_int
from .resnet_blocks import (
    BLOCKS,
    BasicBlock,
    Bottleneck,
    PreActBasicBlock,
    PreActBottleneck,
    conv1x1,
    conv3x3,
    last_norm_or_conv,
)

__all__ = [
    "BasicBlock",
    "Bottleneck",
    "PreActBasicBlock",
    "PreActBottleneck",
    "RESNET200_LAYERS",
    "ResNet",
    "conv1x1",
    "conv3x3",
    "init_resnet",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "resnet200",
]

RESNET200_LAYERS = (3, 24, 36, 3)


def init_resnet(model: nn.Module, zero_init_residual: bool, mode="fan_out") -> None:
    """torchvision's initialisation: He normal (``mode``, ReLU gain) convolutions,
    zero conv biases, batch norm weight 1 and bias 0; ``fc`` keeps torch's default.
    With ``zero_init_residual`` every block's residual branch starts at zero
    (Goyal et al. 2017), so each block is the identity (followed by a ReLU for the
    post-activation blocks) at initialisation."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode=mode, nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    if zero_init_residual:
        for m in model.modules():
            if isinstance(m, BLOCKS) and getattr(m, "residual", True):
                nn.init.zeros_(last_norm_or_conv(m).weight)


class ResNet(nn.Module):
    """x (N, 3, H, W) -> logits (N, num_classes); torchvision's ``ResNet``.

    Stem: ``conv1`` 7x7 stride 2 (64) -> ``bn1`` -> ``relu`` -> ``maxpool`` 3x3
    stride 2 (224 -> 112 -> 56). ``layer1`` .. ``layer4``: ``layers[i]`` blocks of
    64, 128, 256, 512 "planes" (times ``block.expansion`` channels out), the first
    block of layers 2-4 with stride 2 (56 -> 28 -> 14 -> 7) and a ``downsample``
    projection (1x1 conv with the stride, then batch norm) wherever the shape
    changes. ``avgpool`` (global) and ``fc``. Any H, W >= 1 works. With a
    pre-activation block the projections have no batch norm and ``bn_final`` + ReLU
    follow ``layer4``.
    """

    def __init__(
        self,
        block: type[nn.Module],
        layers: Sequence[int],
        num_classes: int = 1000,
        zero_init_residual: bool = False,
    ):
        super().__init__()
        if block not in BLOCKS:
            names = ", ".join(b.__name__ for b in BLOCKS)
            raise TypeError(f"ResNet: block must be one of {names}, got {block!r}")
        if not isinstance(layers, Sequence):
            raise TypeError(
                f"ResNet: layers must be a sequence of 4 ints, got {layers!r}"
            )
        layers = tuple(layers)
        if len(layers) != 4:
            raise ValueError(
                f"ResNet: layers must hold 4 block counts, got {layers!r} "
                f"(length {len(layers)})"
            )
        for i, n in enumerate(layers):
            check_int("ResNet", f"layers[{i}]", n)
        check_int("ResNet", "num_classes", num_classes)
        self.inplanes, self.preact = 64, block.preact
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        if self.preact:
            self.bn_final = nn.BatchNorm2d(512 * block.expansion)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        init_resnet(self, zero_init_residual)

    def _make_layer(self, block, planes: int, blocks: int, stride: int = 1):
        """``blocks`` blocks of ``planes``; the first has ``stride`` and, when the
        shape changes, a 1x1 projection shortcut (+ batch norm unless pre-act)."""
        downsample = None
        out = planes * block.expansion
        if stride != 1 or self.inplanes != out:
            proj = [conv1x1(self.inplanes, out, stride)]
            if not block.preact:
                proj.append(nn.BatchNorm2d(out))
            downsample = nn.Sequential(*proj)
        units = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = out
        units += [block(out, planes) for _ in range(1, blocks)]
        return nn.Sequential(*units)

    def forward(self, x):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"ResNet: x must be a torch.Tensor, got {type(x)}")
        check_images("ResNet", x, 3)
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))  # (N, 64, H/4, W/4)
        x = self.layer2(self.layer1(x))  # (N, 128 e, H/8, W/8), e = expansion
        x = self.layer4(self.layer3(x))  # (N, 512 e, H/32, W/32)
        if self.preact:
            x = self.relu(self.bn_final(x))
        x = self.avgpool(x).flatten(1)  # (N, 512 e)
        return self.fc(x)  # (N, num_classes)


def resnet18(num_classes: int = 1000, zero_init_residual: bool = False) -> ResNet:
    """ResNet-18: BasicBlock, [2, 2, 2, 2]; 11,689,512 parameters (1000 classes)."""
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes, zero_init_residual)


def resnet34(num_classes: int = 1000, zero_init_residual: bool = False) -> ResNet:
    """ResNet-34: BasicBlock, [3, 4, 6, 3]; 21,797,672 parameters (1000 classes)."""
    return ResNet(BasicBlock, [3, 4, 6, 3], num_classes, zero_init_residual)


def resnet50(num_classes: int = 1000, zero_init_residual: bool = False) -> ResNet:
    """ResNet-50: Bottleneck, [3, 4, 6, 3]; 25,557,032 parameters (1000 classes)."""
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes, zero_init_residual)


def resnet101(num_classes: int = 1000, zero_init_residual: bool = False) -> ResNet:
    """ResNet-101: Bottleneck, [3, 4, 23, 3]; 44,549,160 parameters (1000 classes)."""
    return ResNet(Bottleneck, [3, 4, 23, 3], num_classes, zero_init_residual)


def resnet152(num_classes: int = 1000, zero_init_residual: bool = False) -> ResNet:
    """ResNet-152: Bottleneck, [3, 8, 36, 3]; 60,192,808 parameters (1000 classes)."""
    return ResNet(Bottleneck, [3, 8, 36, 3], num_classes, zero_init_residual)


def resnet200(
    num_classes: int = 1000, zero_init_residual: bool = False, preact: bool = False
) -> ResNet:
    """ResNet-200: (Pre-act)Bottleneck, [3, 24, 36, 3] (``RESNET200_LAYERS``).

    64,673,832 parameters with ``Bottleneck`` (1000 classes), 64,666,280 with
    ``preact=True``, the variant He et al. 2016 trained. Build it under
    ``with torch.device("meta"):`` to count or tabulate it without memory.
    """
    block = PreActBottleneck if preact else Bottleneck
    return ResNet(block, RESNET200_LAYERS, num_classes, zero_init_residual)
