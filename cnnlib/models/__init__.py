"""Models the chapters train; each file states its departures from the original."""

from torch import nn

from .cnn1d import MNIST1DCNN, MNIST1DMLP, BetterCNN1d, SpokenDigitCNN
from .mlp import MLP
from .plain import PlainCNN


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters (the sum of ``p.numel()``)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


__all__ = [
    "MLP",
    "MNIST1DCNN",
    "MNIST1DMLP",
    "PlainCNN",
    "BetterCNN1d",
    "SpokenDigitCNN",
    "count_parameters",
]
