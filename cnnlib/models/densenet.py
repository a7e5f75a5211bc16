"""Densely connected networks (Huang, Liu, van der Maaten and Weinberger, "Densely
connected convolutional networks", CVPR 2017), in torchvision's layout.

Inside a dense block every layer reads the concatenation of the block's input and
of all earlier layers' outputs and adds ``growth_rate`` (k) new channels, so a block
of L layers maps C channels to C + L k. ``DenseNet`` is the paper's DenseNet-BC:
each layer is a bottleneck (BN -> ReLU -> 1x1 conv to ``bn_size`` k channels ->
BN -> ReLU -> 3x3 conv to k), and each transition between blocks halves the channels
(compression 0.5) and the height and width (2x2 average pooling).

Module names follow torchvision (``features.conv0``, ``features.denseblock1
.denselayer1.norm1``, ``features.transition1.conv``, ``features.norm5``,
``classifier``), so ``densenet121()`` has torchvision's ``state_dict`` keys, shapes
and 7,978,856 parameters; no pretrained weights are loaded, and torchvision's
``drop_rate`` and ``memory_efficient`` options are left out. The ReLUs are not
in-place. ``small_densenet`` swaps the ImageNet stem (7x7 stride 2 conv + max pool)
for one 3x3 convolution, as the paper's CIFAR networks do, so 28x28 grey images
keep their resolution until the first transition.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from .lenet import check_images, check_int


class DenseLayer(nn.Module):
    """x (N, C_in, H, W) -> the ``growth_rate`` new maps (N, k, H, W).

    ``norm1`` -> ``relu1`` -> ``conv1`` (1x1, C_in -> ``bn_size`` k) -> ``norm2`` ->
    ``relu2`` -> ``conv2`` (3x3, padding 1, -> k). The block concatenates.
    """

    def __init__(self, num_input_features: int, growth_rate: int, bn_size: int):
        super().__init__()
        mid = bn_size * growth_rate
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU()
        self.conv1 = nn.Conv2d(num_input_features, mid, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(mid)
        self.relu2 = nn.ReLU()
        self.conv2 = nn.Conv2d(mid, growth_rate, 3, padding=1, bias=False)

    def forward(self, x):
        bottleneck = self.conv1(self.relu1(self.norm1(x)))  # (N, bn_size k, H, W)
        return self.conv2(self.relu2(self.norm2(bottleneck)))  # (N, k, H, W)


class DenseBlock(nn.ModuleDict):
    """x (N, C, H, W) -> (N, C + L k, H, W), L = ``num_layers``, k = ``growth_rate``.

    ``denselayer1`` .. ``denselayerL``; layer i (from 1) reads C + (i - 1) k
    channels, everything before it, and adds k.
    """

    def __init__(self, num_layers, num_input_features, bn_size, growth_rate):
        super().__init__()
        for i in range(num_layers):
            layer = DenseLayer(
                num_input_features + i * growth_rate, growth_rate, bn_size
            )
            self.add_module(f"denselayer{i + 1}", layer)

    def forward(self, x):
        features = [x]
        for layer in self.values():
            features.append(layer(torch.cat(features, 1)))
        return torch.cat(features, 1)  # (N, C + L k, H, W)


class Transition(nn.Sequential):
    """x (N, C_in, H, W) -> (N, C_out, floor(H/2), floor(W/2)).

    ``norm`` -> ``relu`` -> ``conv`` (1x1, C_in -> C_out) -> ``pool`` (2x2 average).
    """

    def __init__(self, num_input_features: int, num_output_features: int):
        super().__init__()
        self.add_module("norm", nn.BatchNorm2d(num_input_features))
        self.add_module("relu", nn.ReLU())
        self.add_module(
            "conv", nn.Conv2d(num_input_features, num_output_features, 1, bias=False)
        )
        self.add_module("pool", nn.AvgPool2d(kernel_size=2, stride=2))


def _stem(in_channels: int, c_out: int, small: bool) -> list[tuple[str, nn.Module]]:
    if small:  # the paper's CIFAR stem: one 3x3 convolution, full resolution
        conv = nn.Conv2d(in_channels, c_out, 3, padding=1, bias=False)
        return [("conv0", conv), ("norm0", nn.BatchNorm2d(c_out)), ("relu0", nn.ReLU())]
    conv = nn.Conv2d(in_channels, c_out, 7, stride=2, padding=3, bias=False)
    return [
        ("conv0", conv),  # (N, c_out, ceil(H/2), ceil(W/2))
        ("norm0", nn.BatchNorm2d(c_out)),
        ("relu0", nn.ReLU()),
        ("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),  # H/4, W/4
    ]


class DenseNet(nn.Module):
    """x (N, in_channels, H, W) -> logits (N, num_classes); torchvision's DenseNet.

    ``features``: stem (``conv0``, ``norm0``, ``relu0``, ``pool0``), then for each
    entry L of ``block_config`` a ``denseblock`` of L layers, with a ``transition``
    (channels and size halved) between blocks, and ``norm5``; then ReLU, global
    average pooling and ``classifier`` (Linear). Initialisation as torchvision: He
    normal (fan_in) convolutions, batch norm weight 1 and bias 0, linear bias 0.
    Keyword-only ``in_channels`` (3) and ``small_stem`` (False: the ImageNet stem,
    True: one 3x3 convolution) serve :func:`small_densenet`.
    """

    def __init__(
        self,
        growth_rate: int = 32,
        block_config: Sequence[int] = (6, 12, 24, 16),
        num_init_features: int = 64,
        bn_size: int = 4,
        num_classes: int = 1000,
        *,
        in_channels: int = 3,
        small_stem: bool = False,
    ):
        super().__init__()
        if not isinstance(block_config, Sequence):
            raise TypeError(
                "DenseNet: block_config must be a sequence of ints, got "
                f"{block_config!r}"
            )
        block_config = tuple(block_config)
        if not block_config:
            raise ValueError("DenseNet: block_config must hold at least one block size")
        for i, n in enumerate(block_config):
            check_int("DenseNet", f"block_config[{i}]", n)
        for name, value in [
            ("growth_rate", growth_rate),
            ("num_init_features", num_init_features),
            ("bn_size", bn_size),
            ("num_classes", num_classes),
            ("in_channels", in_channels),
        ]:
            check_int("DenseNet", name, value)
        self.in_channels, self.small_stem = in_channels, small_stem
        self.num_transitions = len(block_config) - 1
        stem = _stem(in_channels, num_init_features, small_stem)
        self.features = nn.Sequential(OrderedDict(stem))
        c = num_init_features
        for i, num_layers in enumerate(block_config):
            block = DenseBlock(num_layers, c, bn_size, growth_rate)
            self.features.add_module(f"denseblock{i + 1}", block)
            c += num_layers * growth_rate
            if i != len(block_config) - 1:
                self.features.add_module(f"transition{i + 1}", Transition(c, c // 2))
                c //= 2
        # torchvision calls the final norm "norm5" whatever the number of blocks
        self.features.add_module("norm5", nn.BatchNorm2d(c))
        self.classifier = nn.Linear(c, num_classes)
        self.num_features = c
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def min_size(self) -> int:
        """The smallest H (and W) for which every transition's 2x2 pooling gets at
        least 2x2: 2^t before the first of the t transitions, so 2^t with the small
        stem and 4 (2^t - 1) + 1 with the ImageNet stem (ceil(H/4) >= 2^t)."""
        size = 2**self.num_transitions
        return size if self.small_stem else 4 * size - 3

    def forward(self, x):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"DenseNet: x must be a torch.Tensor, got {type(x)}")
        check_images("DenseNet", x, self.in_channels)
        if min(x.shape[2:]) < self.min_size():
            raise ValueError(
                f"DenseNet: {self.num_transitions} transitions halve the size; H, W "
                f"must be >= {self.min_size()}, got shape {tuple(x.shape)}"
            )
        features = self.features(x)  # (N, num_features, H', W')
        out = F.relu(features)
        out = F.adaptive_avg_pool2d(out, (1, 1)).flatten(1)  # (N, num_features)
        return self.classifier(out)  # (N, num_classes)


def densenet121(num_classes: int = 1000) -> DenseNet:
    """DenseNet-121: k = 32, blocks (6, 12, 24, 16), 64 stem features, bn_size 4;
    7,978,856 parameters (1000 classes): 120 convolutions + 1 linear layer."""
    return DenseNet(32, (6, 12, 24, 16), 64, 4, num_classes)


def small_densenet(
    growth_rate: int = 12,
    block_config: Sequence[int] = (4, 4),
    in_channels: int = 1,
    num_classes: int = 10,
    bn_size: int = 4,
) -> DenseNet:
    """A DenseNet-BC for 28x28 grey images: 3x3 stem with 2 k channels (as the
    paper's CIFAR nets), blocks of ``block_config`` layers with a transition
    between consecutive blocks (28 -> 14 -> 7 for three blocks). The default (k =
    12, two blocks of 4 layers: 24 -> 72 channels, transition to 36, -> 84) has
    65,458 parameters."""
    return DenseNet(
        growth_rate,
        block_config,
        2 * growth_rate,
        bn_size,
        num_classes,
        in_channels=in_channels,
        small_stem=True,
    )
