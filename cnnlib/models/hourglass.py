"""The hourglass block of stacked hourglass networks (Newell, Yang and Deng, "Stacked
hourglass networks for human pose estimation", ECCV 2016): a U-Net-like encoder-
decoder whose convolutions are zero-padded (the output has the input's shape) and
whose skips are added, after passing through a residual module, rather than
concatenated.

Names follow the authors' PyTorch code (princeton-vl/pytorch_stacked_hourglass):
``up1`` (the skip branch), ``pool1``, ``low1``, ``low2`` (the inner hourglass, or a
residual module at the bottom), ``low3``, ``up2`` (nearest-neighbour x2 upsampling).
Departures: the channels stay ``channels`` at every level (their ``increase=0``),
the convolutions have no biases where a batch norm follows, and where a pooling saw
an odd size (and dropped the last row or column) the upsampled map gets it back by
repeating its own last row or column, so any H, W >= 2^depth works.
"""

from __future__ import annotations

from torch import nn
from torch.nn import functional as F

from .lenet import check_int


class Residual(nn.Module):
    """x (N, channels, H, W) -> (N, channels, H, W): Newell's residual module.

    A pre-activation bottleneck of width channels // 2: x + conv3(a(conv2(a(conv1(
    a(x)))))), a = batch norm -> ReLU, conv1 and conv3 1x1, conv2 3x3 padding 1.
    """

    def __init__(self, channels: int):
        super().__init__()
        check_int("Residual", "channels", channels, low=2)
        mid = channels // 2
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv1 = nn.Conv2d(channels, mid, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, padding=1, bias=False)
        self.bn3, self.conv3 = nn.BatchNorm2d(mid), nn.Conv2d(mid, channels, 1)
        self.relu = nn.ReLU()

    def forward(self, x):
        out = self.conv1(self.relu(self.bn1(x)))  # (N, channels // 2, H, W)
        out = self.conv2(self.relu(self.bn2(out)))
        return x + self.conv3(self.relu(self.bn3(out)))  # (N, channels, H, W)


class Hourglass(nn.Module):
    """x (N, channels, H, W) -> (N, channels, H, W), any H, W >= 2^depth.

    up1(x) + upsample(low3(low2(low1(pool1(x))))), where low2 is an hourglass of depth
    - 1 (a residual module when depth = 1): ``depth`` 2x2 poolings in all, and a skip
    added back at every resolution.
    """

    def __init__(self, channels: int, depth: int):
        super().__init__()
        check_int("Hourglass", "channels", channels, low=2)
        check_int("Hourglass", "depth", depth)
        self.channels, self.depth = channels, depth
        self.up1 = Residual(channels)
        self.pool1 = nn.MaxPool2d(2)
        self.low1 = Residual(channels)
        self.low2 = Hourglass(channels, depth - 1) if depth > 1 else Residual(channels)
        self.low3 = Residual(channels)
        self.up2 = nn.Upsample(scale_factor=2, mode="nearest")

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.channels:
            raise ValueError(
                f"Hourglass: expected input (N, {self.channels}, H, W), got shape "
                f"{tuple(x.shape)}"
            )
        if min(x.shape[2:]) < 2**self.depth:
            raise ValueError(
                f"Hourglass: input {tuple(x.shape[2:])} is too small for "
                f"{self.depth} 2x2 poolings; H and W must be >= {2**self.depth}"
            )
        up1 = self.up1(x)
        low = self.low3(self.low2(self.low1(self.pool1(x))))  # (N, C, H // 2, W // 2)
        up2 = self.up2(low)  # (N, C, 2 (H // 2), 2 (W // 2))
        h, w = x.shape[2] - up2.shape[2], x.shape[3] - up2.shape[3]  # 0 or 1
        if h or w:
            up2 = F.pad(up2, (0, w, 0, h), mode="replicate")  # (N, C, H, W)
        return up1 + up2
