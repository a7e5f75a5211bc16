"""torch layers whose forward and backward passes are cnnlib's hand-written numpy.

Every module here has the name, constructor, parameter names and initialisation of
its ``torch.nn`` twin, so ``ours.load_state_dict(theirs.state_dict())`` works and the
two compute the same function with the same gradients (tests/test_nn*.py). Only the
arithmetic differs: it runs through the numpy code in cnnlib.grad and cnnlib.norm.
"""

from ._layers import (
    AvgPool1d,
    AvgPool1dFunction,
    AvgPool2d,
    AvgPool2dFunction,
    Conv1d,
    Conv1dFunction,
    Conv2d,
    Conv2dFunction,
    CrossEntropyFunction,
    CrossEntropyLoss,
    Linear,
    LinearFunction,
    MaxPool1d,
    MaxPool1dFunction,
    MaxPool2d,
    MaxPool2dFunction,
    ReLU,
    ReLUFunction,
)
from ._norm import BatchNorm1d, BatchNorm2d, BatchNormFunction

__all__ = [
    "AvgPool1d",
    "AvgPool1dFunction",
    "AvgPool2d",
    "AvgPool2dFunction",
    "Conv1d",
    "Conv1dFunction",
    "Conv2d",
    "Conv2dFunction",
    "CrossEntropyFunction",
    "CrossEntropyLoss",
    "Linear",
    "LinearFunction",
    "MaxPool1d",
    "MaxPool1dFunction",
    "MaxPool2d",
    "MaxPool2dFunction",
    "ReLU",
    "ReLUFunction",
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNormFunction",
]
