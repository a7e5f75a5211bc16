"""Receptive fields, measured: which input samples can reach one unit of a stack?

The gradient of a unit with respect to the input is non-zero exactly on the samples
the unit depends on, provided no two paths cancel. :func:`gradient_map` ensures that
by setting every weight and bias to 1 (all activations positive, every ReLU open);
use average pooling rather than max pooling, which passes the gradient to one input.
"""

from __future__ import annotations

import copy

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
