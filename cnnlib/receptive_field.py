"""Receptive fields, measured: which input samples can reach one unit of a stack?

The gradient of a unit with respect to the input is non-zero exactly on the samples
the unit depends on, provided no two paths cancel. :func:`gradient_map` ensures that
by setting every weight and bias to 1 (all activations positive, every ReLU open);
use average pooling rather than max pooling, which passes the gradient to one input.

The formula (:func:`rf_formula`, :func:`receptive_field`) gives the same numbers for
any stack of (kernel k, stride s, dilation d) layers: starting from r_0 = j_0 = 1,
r_l = r_(l-1) + (k_l - 1) d_l j_(l-1) and j_l = j_(l-1) s_l. In 2D,
:func:`gradient_map2d` measures the field on a copy whose activations are identities
and whose max pooling is average pooling (same windows), so it works for the book's
models too; :func:`effective_receptive_field` measures how the gradient of a
randomly initialised network actually spreads (Luo et al. 2016): less widely.
"""

from __future__ import annotations

import copy
from typing import NamedTuple

import numpy as np
import torch
from torch import nn


def conv_stack(kernel: int, stride: int, pool: int, depth: int) -> list[nn.Module]:
    """``depth`` blocks of Conv1d(1, 1, kernel, stride) -> ReLU (-> AvgPool1d(pool))."""
    layers: list[nn.Module] = []
    for _ in range(depth):
        layers += [nn.Conv1d(1, 1, kernel, stride), nn.ReLU()]
        if pool > 1:
            layers.append(nn.AvgPool1d(pool))
    return layers


def gradient_map(layers, n: int, position: int | None = None):
    """d unit / d input for one unit of ``layers`` (1 input channel), input length n.

    -> (gradient (n,), length of the last layer's output). By default the unit in the
    middle of the last layer's first channel.
    """
    net = copy.deepcopy(nn.Sequential(*layers)).double().eval()
    with torch.no_grad():
        for p in net.parameters():
            p.fill_(1.0)
    x = torch.ones(1, 1, n, dtype=torch.float64, requires_grad=True)
    out = net(x)  # (1, C, n_out)
    if out.ndim != 3:
        raise ValueError(
            f"gradient_map: the stack must output (1, C, L), got {out.shape}"
        )
    position = out.shape[-1] // 2 if position is None else position
    if not 0 <= position < out.shape[-1]:
        raise ValueError(
            f"gradient_map: position must be in [0, {out.shape[-1] - 1}], "
            f"got {position}"
        )
    out[0, 0, position].backward()
    return x.grad[0, 0].numpy(), out.shape[-1]


def measured_receptive_field(layers, n: int, position: int | None = None) -> int:
    """Width of the input stretch one unit depends on (via :func:`gradient_map`)."""
    grad, _ = gradient_map(layers, n, position)
    support = np.flatnonzero(grad)
    return int(support[-1] - support[0] + 1)


# --- the formula, in 1D and 2D -------------------------------------------------------

_POINTWISE = (
    nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid, nn.GELU, nn.ELU, nn.SiLU, nn.Identity,
    nn.Dropout, nn.Dropout1d, nn.Dropout2d,
    nn.BatchNorm1d, nn.BatchNorm2d,
)  # fmt: skip
_WINDOWED = (
    nn.Conv1d, nn.Conv2d, nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d,
)  # fmt: skip


def _flatten(layers) -> list:
    """A module, Sequential or list (nested allowed) -> its layers, in order.

    A module with children is read as its children in registration order (right for
    ``model.features`` and the book's plain stacks, wrong for branching models).
    """
    if isinstance(layers, list | tuple) and not _is_spec(layers):
        return [m for layer in layers for m in _flatten(layer)]
    if isinstance(layers, nn.Module) and list(layers.children()):
        return [m for layer in layers.children() for m in _flatten(layer)]
    return [layers]


def _is_spec(item) -> bool:
    return isinstance(item, int) or (
        isinstance(item, tuple) and 1 <= len(item) <= 3
        and all(isinstance(v, int) for v in item)
    )  # fmt: skip


def _axis_value(module, attr: str, axis: int | None) -> int:
    v = getattr(module, attr, 1)
    v = v if v is not None else module.kernel_size  # AvgPool's stride=None
    v = (v,) if isinstance(v, int) else tuple(v)
    if axis is not None and len(v) > 1:
        return int(v[axis])
    if len(set(v)) > 1:
        raise ValueError(
            f"receptive_field: {type(module).__name__} has {attr} {v}, different "
            "along height and width; pass axis=0 (height) or axis=1 (width)"
        )
    return int(v[0])


def layer_specs(layers, axis: int | None = None) -> list[tuple[int, int, int]]:
    """layers (modules or (k, s, d) tuples) -> [(k, s, d)], one per windowed layer.

    Convolutions and pooling give (kernel, stride, dilation); pointwise layers
    (ReLU, batch norm, dropout, ...) are skipped; a tuple (k,), (k, s) or (k, s, d) or
    an int k is taken as it is. ``axis`` picks height (0) or width (1) for 2D layers
    whose sizes differ between the two.
    """
    specs = []
    for item in _flatten(layers):
        if _is_spec(item):
            t = (item,) if isinstance(item, int) else item
            specs.append(tuple(t) + (1,) * (3 - len(t)))
        elif isinstance(item, _WINDOWED):
            specs.append(
                tuple(
                    _axis_value(item, a, axis)
                    for a in ("kernel_size", "stride", "dilation")
                )
            )
        elif not isinstance(item, _POINTWISE):
            raise ValueError(
                f"receptive_field: cannot read a kernel from {type(item).__name__}; "
                "pass convolutions, pooling, pointwise layers or (k, s, d) tuples"
            )
    for k, s, d in specs:
        if min(k, s, d) < 1:
            raise ValueError(
                f"receptive_field: (k, s, d) must be >= 1, got {(k, s, d)}"
            )
    return specs


def rf_formula(specs) -> list[tuple[int, int]]:
    """[(k_l, s_l, d_l)] -> [(r_l, j_l)] for l = 1..L, starting from r_0 = j_0 = 1:

    r_l = r_(l-1) + (k_l - 1) d_l j_(l-1),   j_l = j_(l-1) s_l.
    """
    r, j, out = 1, 1, []
    for k, s, d in layer_specs(list(specs)):
        r, j = r + (k - 1) * d * j, j * s
        out.append((r, j))
    return out


def receptive_field(layers, axis: int | None = None) -> tuple[int, int]:
    """layers (modules or (k, s, d) tuples) -> (r, j) of the last layer's units.

    Padding does not change r (it only moves where the windows sit). (1, 1) for a
    stack without windowed layers.
    """
    steps = rf_formula(layer_specs(layers, axis))
    return steps[-1] if steps else (1, 1)


# --- measured in 2D: which input pixels reach one unit ------------------------------


def conv_stack2d(
    kernel: int,
    stride: int,
    pool: int,
    depth: int,
    dilation: int = 1,
    channels: int = 1,
) -> list[nn.Module]:
    """``depth`` blocks of Conv2d(kernel, stride, dilation) -> ReLU (-> AvgPool2d).

    The first convolution reads 1 channel; every convolution has ``channels`` outputs.
    """
    layers: list[nn.Module] = []
    for i in range(depth):
        c_in = 1 if i == 0 else channels
        layers += [nn.Conv2d(c_in, channels, kernel, stride, dilation=dilation)]
        layers.append(nn.ReLU())
        if pool > 1:
            layers.append(nn.AvgPool2d(pool))
    return layers


def _as_net(layers) -> nn.Module:
    """A float64 copy in eval mode, inside a container (so _linearise reaches it)."""
    if isinstance(layers, nn.Module):
        net = nn.Sequential(layers)
    else:
        net = nn.Sequential(*layers)
    return copy.deepcopy(net).double().eval()


def _in_channels(net: nn.Module) -> int:
    first = next((m for m in net.modules() if hasattr(m, "in_channels")), None)
    return first.in_channels if first is not None else 1


def _size2d(fn: str, size) -> tuple[int, int]:
    hw = (size, size) if isinstance(size, int) else tuple(size)
    if len(hw) != 2 or not all(isinstance(v, int) and v >= 1 for v in hw):
        raise ValueError(
            f"{fn}: size must be an int or (H, W) of ints >= 1, got {size}"
        )
    return hw


def _unit(fn: str, out: torch.Tensor, position) -> tuple[int, int]:
    if out.ndim != 4:
        raise ValueError(f"{fn}: the stack must output (N, C, H, W), got {out.shape}")
    h, w = out.shape[-2:]
    i, j = (h // 2, w // 2) if position is None else position
    if not (0 <= i < h and 0 <= j < w):
        raise ValueError(
            f"{fn}: position must be in [0, {h - 1}] x [0, {w - 1}], got {position}"
        )
    return i, j


def _linearise(net: nn.Module) -> None:
    """Replace activations by identities (a saturated tanh has a zero gradient) and
    max pooling by average pooling on the same windows (max pooling passes the
    gradient to one input only): what remains is the dependency structure."""
    for name, child in net.named_children():
        if isinstance(child, nn.MaxPool2d) and child.dilation in (1, (1, 1)):
            pool = nn.AvgPool2d(
                child.kernel_size, child.stride, child.padding, child.ceil_mode
            )
            setattr(net, name, pool)
        elif (
            type(child).__module__ == nn.ReLU.__module__
        ):  # torch.nn.modules.activation
            setattr(net, name, nn.Identity())
        else:
            _linearise(child)


def gradient_map2d(layers, size, position=None):
    """d unit / d input for one unit of ``layers``, input (1, C, H, W) of ones.

    -> (gradient (H, W) summed over input channels, (H_out, W_out) of the last
    layer). ``size`` is H = W or (H, W); ``position`` (i, j) in the output, by
    default the middle unit of channel 0. On a copy, every weight and bias is set to
    1 (so no paths cancel), activations become identities and max pooling becomes
    average pooling on the same windows, so that the support of the gradient is the
    receptive field and its values count the paths from each pixel.
    """
    hw = _size2d("gradient_map2d", size)
    net = _as_net(layers)
    _linearise(net)
    with torch.no_grad():
        for p in net.parameters():
            p.fill_(1.0)
    x = torch.ones(1, _in_channels(net), *hw, dtype=torch.float64, requires_grad=True)
    try:
        out = net(x)  # (1, C, H_out, W_out)
    except RuntimeError as err:  # torch: "Output size is too small" and the like
        raise ValueError(f"gradient_map2d: input {hw} too small? torch: {err}") from err
    i, j = _unit("gradient_map2d", out, position)
    out[0, 0, i, j].backward()
    return x.grad[0].sum(0).numpy(), tuple(out.shape[-2:])


def _support_box(grad: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.flatnonzero(grad.any(1)), np.flatnonzero(grad.any(0))
    return rows[0], rows[-1], cols[0], cols[-1]


def measured_receptive_field2d(layers, size, position=None) -> tuple[int, int]:
    """-> (r_H, r_W): height and width of the input pixels one unit depends on."""
    top, bottom, left, right = _support_box(gradient_map2d(layers, size, position)[0])
    return int(bottom - top + 1), int(right - left + 1)


class EffectiveRF(NamedTuple):
    """grad (H, W): mean |d unit / d input|, normalised to sum 1; extent: side of
    the smallest square around the theoretical field's centre holding ``mass`` of
    it; theoretical: side of the theoretical receptive field; fraction: extent /
    theoretical (the area fraction is its square)."""

    grad: np.ndarray
    extent: int
    theoretical: int
    fraction: float


def effective_receptive_field(
    model_or_layers, size, n_inputs: int = 16, mass: float = 0.9, seed: int = 0,
    position=None,
) -> EffectiveRF:  # fmt: skip
    """size H = W or (H, W) -> EffectiveRF of the middle unit (or ``position``).

    Luo, Li, Urtasun and Zemel 2016: the gradient of one output unit (summed over
    its channels) with respect to the input, in magnitude, averaged over
    ``n_inputs`` standard normal inputs, for the weights the network has (use a
    freshly initialised one). The theoretical field comes from
    :func:`gradient_map2d`; choose ``size`` so that it fits inside the input.
    """
    if not 0 < mass <= 1:
        raise ValueError(
            f"effective_receptive_field: mass must be in (0, 1], got {mass}"
        )
    hw = _size2d("effective_receptive_field", size)
    ones, _ = gradient_map2d(model_or_layers, hw, position)
    top, bottom, left, right = _support_box(ones)
    theoretical = int(max(bottom - top, right - left) + 1)
    net = _as_net(model_or_layers)
    gen = torch.Generator().manual_seed(seed)
    shape = (n_inputs, _in_channels(net), *hw)
    x = torch.randn(shape, generator=gen, dtype=torch.float64).requires_grad_(True)
    out = net(x)  # (n_inputs, C, H_out, W_out); eval mode: the inputs are independent
    i, j = _unit("effective_receptive_field", out, position)
    out[:, :, i, j].sum().backward()
    grad = x.grad.abs().sum(1).mean(0).numpy()  # (H, W)
    grad = grad / grad.sum()
    # Chebyshev distance to the theoretical field's centre: squares of side 2 D + 1
    rows, cols = np.indices(hw)
    dist = np.maximum(abs(rows - (top + bottom) / 2), abs(cols - (left + right) / 2))
    radii = np.unique(dist)
    inside = np.array([grad[dist <= r].sum() for r in radii])
    radius = radii[np.argmax(inside >= mass - 1e-12)]
    extent = int(round(2 * radius + 1))
    return EffectiveRF(grad, extent, theoretical, extent / theoretical)
