"""The blocks of residual networks, in torchvision's vocabulary: ``BasicBlock`` and
``Bottleneck`` (He et al., CVPR 2016; stride in the 3x3 convolution as torchvision's
"v1.5"), and their pre-activation versions ``PreActBasicBlock`` and
``PreActBottleneck`` (He et al., "Identity mappings in deep residual networks",
ECCV 2016). :mod:`cnnlib.models.resnet` assembles them into networks.

Departures from torchvision that leave the ``state_dict`` unchanged: the ReLUs are
not in-place (forward hooks see each layer's own output) and the sum is
``out + identity``, not ``out += identity``. ``BasicBlock`` and ``PreActBasicBlock``
take two keyword-only switches for the chapter's experiments, ``batch_norm`` and
``residual``.
"""

from __future__ import annotations

from torch import nn


def conv3x3(in_planes: int, out_planes: int, stride: int = 1, bias=False) -> nn.Conv2d:
    """3x3 convolution, padding 1: (N, in, H, W) -> (N, out, ceil(H/s), ceil(W/s))."""
    return nn.Conv2d(in_planes, out_planes, 3, stride, padding=1, bias=bias)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1, bias=False) -> nn.Conv2d:
    """1x1 convolution: (N, in, H, W) -> (N, out, ceil(H/s), ceil(W/s))."""
    return nn.Conv2d(in_planes, out_planes, 1, stride, bias=bias)


def _norm(channels: int, batch_norm: bool) -> nn.Module:
    return nn.BatchNorm2d(channels) if batch_norm else nn.Identity()


class BasicBlock(nn.Module):
    """x (N, inplanes, H, W) -> (N, planes, ceil(H/stride), ceil(W/stride)).

    relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut), two 3x3 convolutions, the first
    with ``stride``; the shortcut is ``downsample(x)`` when given, else x.
    ``batch_norm=False`` replaces the norms by identities (the convolutions then have
    biases); ``residual=False`` drops the sum (a "plain" block; ``downsample`` must
    then be None).
    """

    expansion = 1
    preact = False

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        *,
        batch_norm: bool = True,
        residual: bool = True,
    ):
        super().__init__()
        _check_block(type(self).__name__, downsample, residual)
        self.conv1 = conv3x3(inplanes, planes, stride, bias=not batch_norm)
        self.bn1 = _norm(planes, batch_norm)
        self.relu = nn.ReLU()
        self.conv2 = conv3x3(planes, planes, bias=not batch_norm)
        self.bn2 = _norm(planes, batch_norm)
        self.downsample = downsample
        self.stride, self.residual = stride, residual

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))  # (N, planes, H/s, W/s)
        out = self.bn2(self.conv2(out))
        if self.residual:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class Bottleneck(nn.Module):
    """x (N, inplanes, H, W) -> (N, 4 planes, ceil(H/stride), ceil(W/stride)).

    1x1 conv to ``planes`` -> 3x3 conv (``stride``) -> 1x1 conv to 4 ``planes``, each
    followed by batch norm, ReLU after the first two and after the sum with the
    shortcut (``downsample(x)`` or x).
    """

    expansion = 4
    preact = False

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        width = planes
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU()
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))  # (N, planes, H, W)
        out = self.relu(self.bn2(self.conv2(out)))  # (N, planes, H/s, W/s)
        out = self.bn3(self.conv3(out))  # (N, 4 planes, H/s, W/s)
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class PreActBasicBlock(nn.Module):
    """x (N, inplanes, H, W) -> (N, planes, ceil(H/stride), ceil(W/stride)).

    a = relu(bn1(x)); out = conv2(relu(bn2(conv1(a)))) + shortcut, with no ReLU after
    the sum. The shortcut is x, or ``downsample(a)`` when the shape changes (the
    projection sees the pre-activated input, as in He et al.'s code, so it needs no
    norm of its own). ``batch_norm`` and ``residual`` as in :class:`BasicBlock`.
    """

    expansion = 1
    preact = True

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        *,
        batch_norm: bool = True,
        residual: bool = True,
    ):
        super().__init__()
        _check_block(type(self).__name__, downsample, residual)
        self.bn1 = _norm(inplanes, batch_norm)
        self.relu = nn.ReLU()
        self.conv1 = conv3x3(inplanes, planes, stride, bias=not batch_norm)
        self.bn2 = _norm(planes, batch_norm)
        self.conv2 = conv3x3(planes, planes, bias=not batch_norm)
        self.downsample = downsample
        self.stride, self.residual = stride, residual

    def forward(self, x):
        a = self.relu(self.bn1(x))
        out = self.conv2(self.relu(self.bn2(self.conv1(a))))  # (N, planes, H/s, W/s)
        if not self.residual:
            return out
        return out + (x if self.downsample is None else self.downsample(a))


class PreActBottleneck(nn.Module):
    """x (N, inplanes, H, W) -> (N, 4 planes, ceil(H/stride), ceil(W/stride)).

    Pre-activation bottleneck: BN -> ReLU -> 1x1 conv, BN -> ReLU -> 3x3 conv
    (``stride``), BN -> ReLU -> 1x1 conv, plus the shortcut as in
    :class:`PreActBasicBlock`.
    """

    expansion = 4
    preact = True

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inplanes)
        self.conv1 = conv1x1(inplanes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn3 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.relu = nn.ReLU()
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        a = self.relu(self.bn1(x))
        out = self.conv1(a)  # (N, planes, H, W)
        out = self.conv2(self.relu(self.bn2(out)))  # (N, planes, H/s, W/s)
        out = self.conv3(self.relu(self.bn3(out)))  # (N, 4 planes, H/s, W/s)
        return out + (x if self.downsample is None else self.downsample(a))


BLOCKS = (BasicBlock, Bottleneck, PreActBasicBlock, PreActBottleneck)


def _check_block(owner: str, downsample, residual: bool) -> None:
    if not residual and downsample is not None:
        raise ValueError(f"{owner}: downsample must be None when residual=False")


def last_norm_or_conv(block: nn.Module) -> nn.Module:
    """The last layer of a block's residual branch: what zero_init_residual zeroes
    (``bn3``/``bn2`` for post-activation blocks, ``conv3``/``conv2`` for pre-activation
    ones, whose branch ends in a convolution)."""
    names = ("conv3", "conv2") if block.preact else ("bn3", "bn2", "conv2")
    # a block built with batch_norm=False has identities for norms: use its conv
    return next(
        getattr(block, n)
        for n in names
        if isinstance(getattr(block, n, None), nn.BatchNorm2d | nn.Conv2d)
    )
