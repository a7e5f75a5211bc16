"""The parts of a U-Net (Ronneberger, Fischer and Brox, "U-Net: convolutional networks
for biomedical image segmentation", MICCAI 2015), with the names of the common PyTorch
implementation (milesial/Pytorch-UNet): ``DoubleConv``, ``Down``, ``Up``, ``OutConv``.
:mod:`cnnlib.models.unet` assembles them.

Every part has two modes. ``valid=True`` is the paper's: 3x3 convolutions without
padding (each takes 2 pixels off the height and width) and, in ``Up``, the skip
tensor centre-cropped to the upsampled size before the concatenation. ``valid=False``
is the common implementation's: 3x3 convolutions with zero padding 1 (same size out)
and, in ``Up``, the upsampled tensor zero-padded to the skip's size (they differ by
one pixel where a pooling saw an odd size). ``batch_norm=True`` puts a batch norm
after each 3x3 convolution (which then has no bias, as in the common
implementation); the paper has none. ``dims=3`` builds the same parts from
``Conv3d``, ``MaxPool3d``, ... for volumes (N, C, D, H, W).

Departures from the common implementation: ``Up`` takes ``(x, skip)`` rather than
``(x1, x2)``; ``bilinear=True`` upsamples and then halves the channels with a 1x1
convolution (the common implementation instead halves them inside the next
``DoubleConv`` and the bottom); bilinear upsampling uses ``align_corners=False``; the
ReLUs are not in-place (forward hooks see each layer's own output).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F


class _Layers(NamedTuple):
    conv: type
    conv_transpose: type
    max_pool: type
    batch_norm: type
    upsample_mode: str


_LAYERS = {
    2: _Layers(nn.Conv2d, nn.ConvTranspose2d, nn.MaxPool2d, nn.BatchNorm2d, "bilinear"),
    3: _Layers(
        nn.Conv3d, nn.ConvTranspose3d, nn.MaxPool3d, nn.BatchNorm3d, "trilinear"
    ),
}


def layers_for(dims: int, owner: str = "U-Net") -> _Layers:
    """dims 2 or 3 -> the torch layer classes of that many spatial dimensions."""
    if dims not in _LAYERS:
        raise ValueError(
            f"{owner}: dims must be 2 (images) or 3 (volumes), got {dims!r}"
        )
    return _LAYERS[dims]


def _pairs(fn: str, x: torch.Tensor, size, grow: bool) -> list[tuple[int, int]]:
    """-> [(current, wanted)] per spatial axis; ValueError unless each wanted size is
    >= (grow) or <= (crop) the current one."""
    size, spatial = tuple(int(s) for s in size), tuple(x.shape[2:])
    ok = len(size) == len(spatial)
    pairs = list(zip(spatial, size, strict=ok)) if ok else []
    if not ok or any((s < t) if grow else (s > t) for t, s in pairs):
        verb = "pad" if grow else "crop"
        raise ValueError(f"{fn}: cannot {verb} spatial size {spatial} to {size}")
    return pairs


def center_crop(x: torch.Tensor, size) -> torch.Tensor:
    """x (N, C, *S) -> (N, C, *size): the centre of x, ``size[i] <= S[i]``.

    An odd difference leaves one more row (column, slice) off the end than the start.
    """
    index = [
        slice((t - s) // 2, (t - s) // 2 + s)
        for t, s in _pairs("center_crop", x, size, False)
    ]
    return x[(slice(None), slice(None), *index)]


def pad_to(x: torch.Tensor, size) -> torch.Tensor:
    """x (N, C, *S) -> (N, C, *size) zero-padded, ``size[i] >= S[i]``; an odd
    difference puts the extra zero at the end, as the common U-Net does."""
    pad = []
    for t, s in reversed(_pairs("pad_to", x, size, True)):  # F.pad: last axis first
        pad += [(s - t) // 2, (s - t) - (s - t) // 2]
    return F.pad(x, pad)


class DoubleConv(nn.Module):
    """x (N, in_ch, H, W) -> (N, out_ch, H - 4, W - 4) (valid) or (N, out_ch, H, W).

    (3x3 conv -> [batch norm] -> ReLU) twice, in ``double_conv`` (an nn.Sequential).
    The convolutions have biases unless a batch norm follows them.
    """

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        valid: bool = True,
        batch_norm: bool = False,
        *,
        dims: int = 2,
    ):
        super().__init__()
        L = layers_for(dims, "DoubleConv")
        padding = 0 if valid else 1
        seq = []
        for c_in in (in_ch, out_ch):
            seq.append(L.conv(c_in, out_ch, 3, padding=padding, bias=not batch_norm))
            if batch_norm:
                seq.append(L.batch_norm(out_ch))
            seq.append(nn.ReLU())
        self.double_conv = nn.Sequential(*seq)

    def forward(self, x):
        return self.double_conv(x)


class Down(nn.Module):
    """x (N, in_ch, H, W) -> (N, out_ch, H/2 - 4, W/2 - 4) (valid; H, W even) or
    (N, out_ch, floor(H/2), floor(W/2)): ``maxpool_conv`` = 2x2 max pool (stride 2),
    then :class:`DoubleConv`."""

    def __init__(self, in_ch, out_ch, valid=True, batch_norm=False, *, dims=2):
        super().__init__()
        L = layers_for(dims, "Down")
        self.maxpool_conv = nn.Sequential(
            L.max_pool(2), DoubleConv(in_ch, out_ch, valid, batch_norm, dims=dims)
        )

    def forward(self, x):
        return self.maxpool_conv(x)


class Up(nn.Module):
    """x (N, in_ch, h, w), skip (N, in_ch // 2, H, W) -> (N, out_ch, 2h - 4, 2w - 4)
    (valid) or (N, out_ch, H, W) (padded).

    ``up`` doubles the height and width and halves the channels: a 2x2 transposed
    convolution with stride 2, or (``bilinear=True``) bilinear upsampling followed by
    a 1x1 convolution. Then the skip is centre-cropped to (2h, 2w) (valid), or the
    upsampled tensor is zero-padded to (H, W) (padded); ``[skip, up]`` are
    concatenated (in_ch channels) and ``conv`` (a :class:`DoubleConv`) follows.
    """

    def __init__(
        self, in_ch, out_ch, valid=True, batch_norm=False, bilinear=False, *, dims=2
    ):
        super().__init__()
        L = layers_for(dims, "Up")
        if bilinear:
            self.up = nn.Sequential(
                nn.Upsample(scale_factor=2, mode=L.upsample_mode, align_corners=False),
                L.conv(in_ch, in_ch // 2, 1),
            )
        else:
            self.up = L.conv_transpose(in_ch, in_ch // 2, 2, stride=2)
        self.conv = DoubleConv(in_ch, out_ch, valid, batch_norm, dims=dims)
        self.valid = valid

    def forward(self, x, skip):
        x = self.up(x)  # (N, in_ch // 2, 2h, 2w)
        if self.valid:
            skip = center_crop(skip, x.shape[2:])  # the paper's dashed squares
        else:
            x = pad_to(x, skip.shape[2:])
        return self.conv(torch.cat([skip, x], dim=1))  # (N, in_ch, ., .)


class OutConv(nn.Module):
    """x (N, in_ch, H, W) -> logits (N, out_ch, H, W): one 1x1 convolution ``conv``."""

    def __init__(self, in_ch, out_ch, *, dims=2):
        super().__init__()
        self.conv = layers_for(dims, "OutConv").conv(in_ch, out_ch, 1)

    def forward(self, x):
        return self.conv(x)
