"""Multilayer perceptrons: the baseline every convolutional model is compared with."""

from __future__ import annotations

from torch import nn


class MLP(nn.Module):
    """x (N, *in_shape) -> logits (N, classes): flatten, then ``depth`` hidden layers.

    ``hidden`` is the width of every hidden layer; ReLU between layers.
    """

    def __init__(
        self, in_features: int, hidden: int = 256, classes: int = 10, depth: int = 2
    ):
        super().__init__()
        for name, value in (
            ("in_features", in_features),
            ("hidden", hidden),
            ("classes", classes),
            ("depth", depth),
        ):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"MLP: {name} must be an int >= 1, got {value!r}")
        layers, width = [nn.Flatten()], in_features
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        layers.append(nn.Linear(width, classes))
        self.net = nn.Sequential(*layers)
        self.in_features = in_features

    def forward(self, x):
        if x[0].numel() != self.in_features:
            raise ValueError(
                f"MLP: each sample has {x[0].numel()} values (input shape "
                f"{tuple(x.shape)}) but the model expects {self.in_features}"
            )
        return self.net(x)
