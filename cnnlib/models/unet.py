"""U-Net (Ronneberger, Fischer and Brox, MICCAI 2015) for dense prediction: one class
score per pixel, from the parts in :mod:`cnnlib.models.unet_parts`.

``UNet(1, 2)`` is the paper's network: valid (unpadded) 3x3 convolutions, no batch
norm, 64 channels doubling at each of 4 poolings to 1024 at the bottom, 2x2 up-
convolutions halving them, skips centre-cropped and concatenated, a 1x1 convolution
to 2 classes. A 572x572 tile gives a 388x388 map of its centre (92 pixels of
context on each side: the paper tiles large images with overlap and mirrors the
border to give the edge pixels that context); it has 31,030,658 parameters. Only
some sizes fit (see :mod:`cnnlib.models.unet_sizes`): ``forward`` raises a
ValueError that names the nearest ones.

``valid=False`` is the common PyTorch implementation (milesial/Pytorch-UNet): zero-
padded convolutions, batch norm by default (the convolutions before a norm lose
their biases: 31,036,546 parameters for ``UNet(1, 2, valid=False)``, 31,037,698 with
3 input channels), any size from 2^depth up (odd ones too) with the output the size
of the input. Module and ``state_dict`` names follow it (``inc``, ``down1``..
``down4``, ``up1``..``up4``, ``outc``; ``double_conv``, ``maxpool_conv``), and
``forward`` names the skips x1..x5. Departure from the paper: the dropout layers at
the end of the contracting path are left out. Unlike the common implementation, the
paper's initialisation is used (Gaussian, std sqrt(2/N) with N the inputs of one
unit; zero biases).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .lenet import check_int
from .unet_parts import DoubleConv, Down, OutConv, Up, layers_for
from .unet_sizes import fits, misfit_message

AXES = {2: ("H", "W"), 3: ("D", "H", "W")}


def init_unet(model: nn.Module) -> None:
    """The paper's initialisation: weights ~ N(0, 2/N), N the inputs of one output
    unit (C_in k^d for a convolution; C_in for a 2x2 stride-2 up-convolution, whose
    outputs each see one tap per input channel); biases 0; norms stay (1, 0)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d | nn.Conv3d):
            n = m.in_channels * math.prod(m.kernel_size)
        elif isinstance(m, nn.ConvTranspose2d | nn.ConvTranspose3d):
            n = m.in_channels * math.prod(m.kernel_size) // math.prod(m.stride)
        else:
            continue
        nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / n))
        if m.bias is not None:
            nn.init.zeros_(m.bias)


class UNet(nn.Module):
    """x (N, in_channels, H, W) -> logits (N, num_classes, H', W').

    valid=True: H' = H - 184 for depth 4 (572 -> 388); H and W must fit
    (:func:`~cnnlib.models.unet_sizes.valid_input_sizes`). valid=False: H' = H,
    any H, W >= 2^depth. ``base`` channels at the top, doubling at each of ``depth``
    levels. ``batch_norm`` None means "as the mode's original": off when valid (the
    paper), on when padded (the common implementation). ``bilinear=True`` upsamples
    bilinearly and halves the channels with a 1x1 convolution instead of a 2x2
    transposed convolution.
    """

    dims = 2

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 2,
        valid: bool = True,
        base: int = 64,
        depth: int = 4,
        batch_norm: bool | None = None,
        bilinear: bool = False,
    ):
        super().__init__()
        owner = type(self).__name__
        for name, value in [
            ("in_channels", in_channels),
            ("num_classes", num_classes),
            ("base", base),
            ("depth", depth),
        ]:
            check_int(owner, name, value)
        layers_for(self.dims, owner)
        bn = (not valid) if batch_norm is None else bool(batch_norm)
        self.in_channels, self.num_classes, self.depth = in_channels, num_classes, depth
        self.valid, self.batch_norm, self.bilinear = bool(valid), bn, bool(bilinear)
        kw = {"dims": self.dims}
        self.inc = DoubleConv(in_channels, base, valid, bn, **kw)
        for i in range(1, depth + 1):
            c = base * 2 ** (i - 1)
            setattr(self, f"down{i}", Down(c, 2 * c, valid, bn, **kw))
        for i in range(1, depth + 1):
            c = base * 2 ** (depth - i + 1)  # channels coming up from below
            setattr(self, f"up{i}", Up(c, c // 2, valid, bn, bilinear, **kw))
        self.outc = OutConv(base, num_classes, **kw)
        init_unet(self)

    def forward(self, x):
        self.check_input(x)
        if self.depth != 4:
            return self.forward_any_depth(x)
        x1 = self.inc(x)  # (N, 64, 568, 568) for the paper's 572x572 tile
        x2 = self.down1(x1)  # (N, 128, 280, 280)
        x3 = self.down2(x2)  # (N, 256, 136, 136)
        x4 = self.down3(x3)  # (N, 512, 64, 64)
        x5 = self.down4(x4)  # (N, 1024, 28, 28): the bottom
        x = self.up1(x5, x4)  # x4 cropped to 56x56 -> (N, 512, 52, 52)
        x = self.up2(x, x3)  # (N, 256, 100, 100)
        x = self.up3(x, x2)  # (N, 128, 196, 196)
        x = self.up4(x, x1)  # (N, 64, 388, 388)
        return self.outc(x)  # (N, num_classes, 388, 388)

    def forward_any_depth(self, x):
        """``forward`` for any depth: the skips x1, x2, ... kept in a list."""
        skips = [self.inc(x)]  # [x1]
        for i in range(1, self.depth + 1):
            skips.append(getattr(self, f"down{i}")(skips[-1]))  # x2, x3, ...
        x = skips.pop()  # the bottom
        for i in range(1, self.depth + 1):
            x = getattr(self, f"up{i}")(x, skips.pop())
        return self.outc(x)

    def check_input(self, x) -> None:
        """TypeError/ValueError unless x is (N, in_channels, *sizes) with sizes
        that this network takes."""
        owner, axes = type(self).__name__, AXES[self.dims]
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{owner}: input must be a torch tensor, got {type(x)}")
        if x.ndim != 2 + self.dims or x.shape[1] != self.in_channels:
            raise ValueError(
                f"{owner}: expected input (N, {self.in_channels}, {', '.join(axes)}), "
                f"got shape {tuple(x.shape)}"
            )
        for axis, n in zip(axes, x.shape[2:], strict=True):
            if self.valid and not fits(n, self.depth):
                raise ValueError(
                    misfit_message(f"{owner}: input {axis} = {n}", n, self.depth)
                )
            low = 2**self.depth
            if not self.valid and n < low:
                raise ValueError(
                    f"{owner}: input {axis} = {n} is too small for {self.depth} 2x2 "
                    f"poolings; the padded U-Net needs sizes >= {low}"
                )


class UNet3D(UNet):
    """x (N, in_channels, D, H, W) -> logits (N, num_classes, D', H', W'): the same
    network from 3D layers (3x3x3 convolutions, 2x2x2 poolings and up-convolutions),
    as in the 3D U-Net of Çiçek et al. (MICCAI 2016) for volumes.

    Each axis follows the size rules of the 2D network; the default depth 3 takes the
    3D U-Net's 132x132x116 tile to 44x44x28. Departures from Çiçek et al.: the
    channels follow :class:`UNet` (``base``, doubling per level) where they double
    inside each level's first convolution, and batch norm follows the ``batch_norm``
    rule of :class:`UNet` (pass ``batch_norm=True`` for theirs).
    """

    dims = 3

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 2,
        valid: bool = True,
        base: int = 32,
        depth: int = 3,
        batch_norm: bool | None = None,
        bilinear: bool = False,
    ):
        super().__init__(
            in_channels, num_classes, valid, base, depth, batch_norm, bilinear
        )
