"""torch layers whose forward and backward passes are cnnlib's hand-written numpy.

Every module here has the name, constructor, parameter names and initialisation of
its ``torch.nn`` twin, so ``ours.load_state_dict(theirs.state_dict())`` works and the
two compute the same function with the same gradients (tests/test_nn*.py). Only the
arithmetic differs: it runs through the numpy code in cnnlib.grad and cnnlib.norm.
Gradients of gradients (a gradient penalty) are exact too, except through batch norm
and past the second derivative of cross-entropy, where they raise an error.
"""

from ._conv import Conv1dFunction, Conv2dFunction, LinearFunction
from ._layers import (
    AvgPool1d,
    AvgPool2d,
    Conv1d,
    Conv2d,
    CrossEntropyLoss,
    Linear,
    MaxPool1d,
    MaxPool2d,
    ReLU,
)
from ._loss import CrossEntropyFunction
from ._norm import BatchNorm1d, BatchNorm2d, BatchNormFunction
from ._route import (
    AvgPool1dFunction,
    AvgPool2dFunction,
    MaxPool1dFunction,
    MaxPool2dFunction,
    ReLUFunction,
)

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
