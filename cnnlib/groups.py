"""Group convolutions on p4: translations and rotations by multiples of 90 degrees.

A plain convolution commutes with shifts but not with rotations. Cohen and Welling
(2016) make rotations commute too by giving every feature map a rotation axis: a p4
feature map is (N, C, 4, H, W), plane s holding the responses of the filters rotated
by s·90°. Rotating the input by r·90° then rotates every plane by r·90° AND moves
plane s to s + r (``rotate_p4``), so the layers are exactly equivariant:

    layer(rot90(x, r)) == rotate_p4(layer(x), r)            for r = 0, 1, 2, 3.

* ``LiftingConv2d`` takes an image (N, C_in, H, W) to a p4 map: output plane s is
  the cross-correlation with every filter rotated by s·90°.
* ``GroupConv2d`` takes a p4 map to a p4 map. Its filters have a rotation axis too,
  (C_out, C_in, 4, k, k); output plane s uses them rotated by s·90° and with their
  rotation axis shifted cyclically by s: w_s[o, c, t] = rot90(w[o, c, t - s], s).
* ``group_pool`` takes the max or mean over the rotation axis: a rotation of the
  input then only rotates the (N, C, H, W) result, and a global spatial pooling
  after it is exactly invariant to 90° rotations.

Both layers build that big rotated filter bank and call one ordinary conv2d;
``lifting_conv2d_reference`` and ``group_conv2d_reference`` write the same in NumPy
on cnnlib.conv2d, one rotation at a time, and the tests check the two agree. Only
stride 1 is offered: a stride breaks the equivariance unless it divides the image
evenly under rotation. The bias is one number per output channel, shared by the four
planes (a bias per plane would break the equivariance).
"""

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._checks import check_int, is_int
from .conv import conv2d

ROTATIONS = 4


def _check_r(r, fn):
    if not is_int(r):
        raise TypeError(f"{fn}: r must be an int (a rotation by r·90°), got {r!r}")
    return int(r) % ROTATIONS


def _check_p4(y, fn, name="input"):
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"{fn}: {name} must be a torch.Tensor, got {type(y).__name__}")
    if y.ndim < 3 or y.shape[-3] != ROTATIONS:
        raise ValueError(
            f"{fn}: {name} must be a p4 feature map (..., 4, H, W) whose axis -3 holds "
            f"the 4 rotations, got shape {tuple(y.shape)}"
        )


def rotate_p4(y, r):
    """y (..., 4, H, W) -> (..., 4, W, H) or (..., 4, H, W): the rotation by r·90° of
    a p4 feature map: every plane rotated as torch.rot90(y, r, dims=(-2, -1)) does,
    and the rotation axis shifted cyclically by r (plane s moves to plane s + r)."""
    fn = "rotate_p4"
    r = _check_r(r, fn)
    _check_p4(y, fn, "y")
    return torch.roll(torch.rot90(y, r, dims=(-2, -1)), shifts=r, dims=-3)


def group_pool(y, mode="max"):
    """y (N, C, 4, H, W) -> (N, C, H, W): max or mean over the rotation axis."""
    fn = "group_pool"
    _check_p4(y, fn, "y")
    if mode == "max":
        return y.amax(dim=-3)
    if mode == "mean":
        return y.mean(dim=-3)
    raise ValueError(f"{fn}: mode must be 'max' or 'mean', got {mode!r}")


def lifting_filters(weight):
    """weight (C_out, C_in, k, k) -> (C_out·4, C_in, k, k): every filter rotated by
    0, 90, 180 and 270 degrees, output channel o·4 + s holding rotation s."""
    rotated = [torch.rot90(weight, s, dims=(-2, -1)) for s in range(ROTATIONS)]
    return torch.stack(rotated, dim=1).flatten(0, 1)


def group_filters(weight):
    """weight (C_out, C_in, 4, k, k) -> (C_out·4, C_in·4, k, k): for output plane s,
    w_s[o, c, t] = rot90(weight[o, c, t - s], s), input channel c·4 + t."""
    banks = [
        torch.rot90(torch.roll(weight, shifts=s, dims=2), s, dims=(-2, -1))
        for s in range(ROTATIONS)
    ]  # each (C_out, C_in, 4, k, k)
    return torch.stack(banks, dim=1).flatten(0, 1).flatten(1, 2)


class _P4Conv(nn.Module):
    """What LiftingConv2d and GroupConv2d share: arguments, parameters, init."""

    def __init__(self, in_channels, out_channels, kernel_size, padding, bias, axis):
        super().__init__()
        fn = type(self).__name__
        self.in_channels = check_int(in_channels, 1, fn, "in_channels")
        self.out_channels = check_int(out_channels, 1, fn, "out_channels")
        self.kernel_size = check_int(kernel_size, 1, fn, "kernel_size")
        self.padding = check_int(padding, 0, fn, "padding")
        k = self.kernel_size
        shape = (out_channels, in_channels, *axis, k, k)
        self.weight = nn.Parameter(torch.empty(shape))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        """As torch.nn.Conv2d: Kaiming-uniform weights, fan_in = weight[0].numel()."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.weight[0].numel())
            nn.init.uniform_(self.bias, -bound, bound)

    def _check(self, x, ndim, layout):
        fn = type(self).__name__
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{fn}: input must be a torch.Tensor, got {type(x)}")
        if x.ndim != ndim:
            hint = (
                "; a LiftingConv2d turns an image into one"
                if ndim == 5 and x.ndim == 4
                else ""
            )
            raise ValueError(
                f"{fn}: input must be {ndim}-D {layout}, got {x.ndim}-D shape "
                f"{tuple(x.shape)}{hint}"
            )
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f"{fn}: input has {x.shape[1]} channels but the layer expects "
                f"in_channels={self.in_channels} (input shape {tuple(x.shape)})"
            )
        if ndim == 5 and x.shape[2] != ROTATIONS:
            raise ValueError(
                f"{fn}: input's axis 2 must hold the 4 rotations, got shape "
                f"{tuple(x.shape)}"
            )

    def _finish(self, y, n):
        """(N, C_out·4, H', W') -> (N, C_out, 4, H', W'), plus the shared bias."""
        y = y.unflatten(1, (self.out_channels, ROTATIONS))
        return y if self.bias is None else y + self.bias.view(-1, 1, 1, 1)

    def extra_repr(self):
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
            f", padding={self.padding}, bias={self.bias is not None}"
        )


class LiftingConv2d(_P4Conv):
    """x (N, C_in, H, W) -> (N, C_out, 4, H', W'), H' = H + 2·padding - k + 1.

    Plane s: cross-correlation with the filters rotated by s·90°. Parameters: weight
    (C_out, C_in, k, k), bias (C_out,): as many as an nn.Conv2d with these channels.
    """

    def __init__(self, in_channels, out_channels, kernel_size, padding=0, bias=True):
        super().__init__(in_channels, out_channels, kernel_size, padding, bias, ())

    def forward(self, x):
        self._check(x, 4, "(N, C_in, H, W)")
        y = F.conv2d(x, lifting_filters(self.weight), padding=self.padding)
        return self._finish(y, x.shape[0])


class GroupConv2d(_P4Conv):
    """x (N, C_in, 4, H, W) -> (N, C_out, 4, H', W'), H' = H + 2·padding - k + 1.

    Parameters: weight (C_out, C_in, 4, k, k), bias (C_out,): four times those of an
    nn.Conv2d with these channels, which is what buys the rotation axis.
    """

    def __init__(self, in_channels, out_channels, kernel_size, padding=0, bias=True):
        super().__init__(
            in_channels, out_channels, kernel_size, padding, bias, (ROTATIONS,)
        )

    def forward(self, x):
        self._check(x, 5, "(N, C_in, 4, H, W)")
        filters = group_filters(self.weight)  # (C_out·4, C_in·4, k, k)
        y = F.conv2d(x.flatten(1, 2), filters, padding=self.padding)
        return self._finish(y, x.shape[0])


# ------------------------------------------------------- NumPy references, by hand


def lifting_conv2d_reference(x, w, b=None, padding=0):
    """x (N, C_in, H, W), w (C_out, C_in, k, k), b (C_out,) -> (N, C_out, 4, H', W')

    LiftingConv2d in NumPy: one cnnlib.conv2d per rotation s of the filters.
    """
    planes = [
        conv2d(x, np.rot90(w, s, axes=(-2, -1)), b, padding=padding)
        for s in range(ROTATIONS)
    ]
    return np.stack(planes, axis=2)


def group_conv2d_reference(x, w, b=None, padding=0):
    """x (N, C_in, 4, H, W), w (C_out, C_in, 4, k, k), b (C_out,)
    -> (N, C_out, 4, H', W')

    GroupConv2d in NumPy: output plane s sums, over input channels c and input
    planes t, the cross-correlation of x[:, c, t] with rot90(w[:, c, t - s], s).
    """
    x, w = np.asarray(x), np.asarray(w)
    N, C_in, _, H, W = x.shape
    planes = []
    for s in range(ROTATIONS):
        w_s = np.empty_like(w)
        for t in range(ROTATIONS):  # the filters as seen from plane s
            w_s[:, :, t] = np.rot90(w[:, :, (t - s) % ROTATIONS], s, axes=(-2, -1))
        flat_w = w_s.reshape(w.shape[0], C_in * ROTATIONS, *w.shape[-2:])
        planes.append(
            conv2d(x.reshape(N, C_in * ROTATIONS, H, W), flat_w, b, padding=padding)
        )
    return np.stack(planes, axis=2)
