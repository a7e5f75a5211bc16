"""The torch.nn modules of cnnlib.nn: convolution, pooling, ReLU, Linear and
cross-entropy, whose arithmetic is cnnlib.grad's NumPy code.

Each module subclasses its torch.nn twin, so the constructor, the parameters, their
names and their initialisation are torch's; only ``forward`` is replaced, by the
autograd Functions of _conv.py, _route.py and _loss.py. Options the numpy code does
not implement (padding modes other than zeros, ceil_mode, dilated pooling, class
weights, ...) raise ValueError; inputs torch would refuse (NumPy arrays, integer
tensors, a dtype other than the weight's) raise TypeError.
"""

import torch

from ._conv import Conv1dFunction, Conv2dFunction, LinearFunction
from ._loss import CrossEntropyFunction
from ._route import (
    AvgPool1dFunction,
    AvgPool2dFunction,
    MaxPool1dFunction,
    MaxPool2dFunction,
    ReLUFunction,
)


def _reject(cls, **options):
    """ValueError for each option (name=(value, default)) that is not its default."""
    for name, (value, default) in options.items():
        if value != default:
            raise ValueError(
                f"{cls}: {name}={value!r} is not supported by the numpy layers "
                f"(only {name}={default!r}); use torch.nn.{cls} for it"
            )


class Conv1d(torch.nn.Conv1d):
    """torch.nn.Conv1d computed by cnnlib.grad: x (N, C_in, L) -> (N, C_out, L_out)

    Same arguments, parameters and initialisation as torch.nn.Conv1d; padding is an
    int, a 1-tuple, 'valid' or 'same', and padding_mode must be 'zeros'.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _reject("Conv1d", padding_mode=(self.padding_mode, "zeros"))

    def forward(self, x):
        _reject("Conv1d", padding_mode=(self.padding_mode, "zeros"))
        args = (self.stride, self.padding, self.dilation, self.groups)
        return Conv1dFunction.apply(x, self.weight, self.bias, *args)


class Conv2d(torch.nn.Conv2d):
    """torch.nn.Conv2d computed by cnnlib.grad: x (N, C_in, H, W)
    -> (N, C_out, H_out, W_out)

    Same arguments, parameters and initialisation as torch.nn.Conv2d; padding is an
    int, a pair, 'valid' or 'same', and padding_mode must be 'zeros'.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _reject("Conv2d", padding_mode=(self.padding_mode, "zeros"))

    def forward(self, x):
        _reject("Conv2d", padding_mode=(self.padding_mode, "zeros"))
        args = (self.stride, self.padding, self.dilation, self.groups)
        return Conv2dFunction.apply(x, self.weight, self.bias, *args)


class Linear(torch.nn.Linear):
    """torch.nn.Linear computed by cnnlib.grad: x (*, in_features)
    -> (*, out_features)"""

    def forward(self, x):
        return LinearFunction.apply(x, self.weight, self.bias)


class ReLU(torch.nn.ReLU):
    """torch.nn.ReLU computed by cnnlib.grad: x (any shape) -> max(x, 0), same shape

    inplace=True is not supported (the numpy code always returns a new array).
    """

    def __init__(self, inplace=False):
        _reject("ReLU", inplace=(inplace, False))
        super().__init__(inplace)

    def forward(self, x):
        return ReLUFunction.apply(x)


def _check_max_pool(cls, pool):
    _reject(
        cls,
        dilation=(pool.dilation, 1),
        return_indices=(pool.return_indices, False),
        ceil_mode=(pool.ceil_mode, False),
    )


def _check_avg_pool(cls, pool):
    _reject(
        cls,
        ceil_mode=(pool.ceil_mode, False),
        count_include_pad=(pool.count_include_pad, True),
        divisor_override=(getattr(pool, "divisor_override", None), None),
    )


class MaxPool1d(torch.nn.MaxPool1d):
    """torch.nn.MaxPool1d computed by cnnlib.grad: x (N, C, L) -> (N, C, L_out)

    dilation, return_indices and ceil_mode must keep their defaults.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _check_max_pool("MaxPool1d", self)

    def forward(self, x):
        _check_max_pool("MaxPool1d", self)
        args = (self.kernel_size, self.stride, self.padding)
        return MaxPool1dFunction.apply(x, *args)


class MaxPool2d(torch.nn.MaxPool2d):
    """torch.nn.MaxPool2d computed by cnnlib.grad: x (N, C, H, W)
    -> (N, C, H_out, W_out); dilation, return_indices and ceil_mode keep defaults."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _check_max_pool("MaxPool2d", self)

    def forward(self, x):
        _check_max_pool("MaxPool2d", self)
        args = (self.kernel_size, self.stride, self.padding)
        return MaxPool2dFunction.apply(x, *args)


class AvgPool1d(torch.nn.AvgPool1d):
    """torch.nn.AvgPool1d computed by cnnlib.grad: x (N, C, L) -> (N, C, L_out)

    ceil_mode=False and count_include_pad=True only (padded zeros count).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _check_avg_pool("AvgPool1d", self)

    def forward(self, x):
        _check_avg_pool("AvgPool1d", self)
        args = (self.kernel_size, self.stride, self.padding)
        return AvgPool1dFunction.apply(x, *args)


class AvgPool2d(torch.nn.AvgPool2d):
    """torch.nn.AvgPool2d computed by cnnlib.grad: x (N, C, H, W)
    -> (N, C, H_out, W_out); ceil_mode=False, count_include_pad=True and
    divisor_override=None only."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _check_avg_pool("AvgPool2d", self)

    def forward(self, x):
        _check_avg_pool("AvgPool2d", self)
        args = (self.kernel_size, self.stride, self.padding)
        return AvgPool2dFunction.apply(x, *args)


class CrossEntropyLoss(torch.nn.CrossEntropyLoss):
    """torch.nn.CrossEntropyLoss computed by cnnlib.grad.softmax_cross_entropy:
    logits (N, C), targets (N,) integer classes -> mean loss (a scalar)

    Only the defaults: no class weights, reduction='mean', no ignore_index (-100,
    and a target of -100 is an error rather than skipped), no label smoothing.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _reject(
            "CrossEntropyLoss",
            weight=(None if self.weight is None else "a tensor", None),
            ignore_index=(self.ignore_index, -100),
            reduction=(self.reduction, "mean"),
            label_smoothing=(self.label_smoothing, 0.0),
        )

    def forward(self, logits, targets):
        return CrossEntropyFunction.apply(logits, targets)
