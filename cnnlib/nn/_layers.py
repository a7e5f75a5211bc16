"""Convolution, pooling, ReLU, Linear and cross-entropy layers on cnnlib.grad's numpy.

Each ``*Function`` is a torch.autograd.Function whose forward calls a numpy forward
pass of cnnlib.grad (keeping its cache on ``ctx``) and whose backward calls the
matching numpy backward pass. Each module subclasses its torch.nn twin, so the
constructor, the parameters, their names and their initialisation are torch's; only
``forward`` is replaced. Options the numpy code does not implement (padding modes
other than zeros, ceil_mode, dilated pooling, class weights, ...) raise ValueError.
"""

import torch

from .. import grad
from ._bridge import to_numpy, to_torch


def _likes(ctx, *tensors):
    """Remember each input's dtype and device (as an empty tensor) for its gradient."""
    ctx.likes = tuple(None if t is None else t.new_empty(0) for t in tensors)


def _grads(ctx, grads, extra):
    """numpy gradients -> tensors for the inputs that need one, then `extra` Nones"""
    tensors = tuple(
        to_torch(g, like) if need and like is not None else None
        for g, like, need in zip(grads, ctx.likes, ctx.needs_input_grad, strict=False)
    )
    return (*tensors, *[None] * extra)


class Conv1dFunction(torch.autograd.Function):
    """x (N, C_in, L), weight (C_out, C_in // groups, k), bias (C_out,) or None
    -> (N, C_out, L_out), computed by cnnlib.grad.conv1d_forward / conv1d_backward"""

    @staticmethod
    def forward(ctx, x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        args = (stride, padding, dilation, groups)
        y, ctx.cache = grad.conv1d_forward(
            to_numpy(x), to_numpy(weight), to_numpy(bias), *args
        )
        _likes(ctx, x, weight, bias)
        return to_torch(y, like=x)

    @staticmethod
    def backward(ctx, dy):
        return _grads(ctx, grad.conv1d_backward(to_numpy(dy), ctx.cache), extra=4)


class Conv2dFunction(torch.autograd.Function):
    """x (N, C_in, H, W), weight (C_out, C_in // groups, kH, kW), bias (C_out,) or None
    -> (N, C_out, H_out, W_out), by cnnlib.grad.conv2d_forward / conv2d_backward"""

    @staticmethod
    def forward(ctx, x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        args = (stride, padding, dilation, groups)
        y, ctx.cache = grad.conv2d_forward(
            to_numpy(x), to_numpy(weight), to_numpy(bias), *args
        )
        _likes(ctx, x, weight, bias)
        return to_torch(y, like=x)

    @staticmethod
    def backward(ctx, dy):
        return _grads(ctx, grad.conv2d_backward(to_numpy(dy), ctx.cache), extra=4)


def _pool_forward(ctx, forward, x, kernel_size, stride, padding):
    y, ctx.cache = forward(to_numpy(x), kernel_size, stride, padding)
    _likes(ctx, x)
    return to_torch(y, like=x)


def _pool_backward(ctx, backward, dy):
    return _grads(ctx, (backward(to_numpy(dy), ctx.cache),), extra=3)


class MaxPool1dFunction(torch.autograd.Function):
    """x (N, C, L) -> (N, C, L_out), by cnnlib.grad.max_pool1d_forward / _backward"""

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=0):
        args = (kernel_size, stride, padding)
        return _pool_forward(ctx, grad.max_pool1d_forward, x, *args)

    @staticmethod
    def backward(ctx, dy):
        return _pool_backward(ctx, grad.max_pool1d_backward, dy)


class MaxPool2dFunction(torch.autograd.Function):
    """x (N, C, H, W) -> (N, C, H_out, W_out), by cnnlib.grad.max_pool2d_forward /
    max_pool2d_backward"""

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=0):
        args = (kernel_size, stride, padding)
        return _pool_forward(ctx, grad.max_pool2d_forward, x, *args)

    @staticmethod
    def backward(ctx, dy):
        return _pool_backward(ctx, grad.max_pool2d_backward, dy)


class AvgPool1dFunction(torch.autograd.Function):
    """x (N, C, L) -> (N, C, L_out), by cnnlib.grad.avg_pool1d_forward / _backward"""

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=0):
        args = (kernel_size, stride, padding)
        return _pool_forward(ctx, grad.avg_pool1d_forward, x, *args)

    @staticmethod
    def backward(ctx, dy):
        return _pool_backward(ctx, grad.avg_pool1d_backward, dy)


class AvgPool2dFunction(torch.autograd.Function):
    """x (N, C, H, W) -> (N, C, H_out, W_out), by cnnlib.grad.avg_pool2d_forward /
    avg_pool2d_backward"""

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=0):
        args = (kernel_size, stride, padding)
        return _pool_forward(ctx, grad.avg_pool2d_forward, x, *args)

    @staticmethod
    def backward(ctx, dy):
        return _pool_backward(ctx, grad.avg_pool2d_backward, dy)


class ReLUFunction(torch.autograd.Function):
    """x (any shape) -> max(x, 0), by cnnlib.grad.relu_forward / relu_backward"""

    @staticmethod
    def forward(ctx, x):
        y, ctx.cache = grad.relu_forward(to_numpy(x))
        _likes(ctx, x)
        return to_torch(y, like=x)

    @staticmethod
    def backward(ctx, dy):
        return _grads(ctx, (grad.relu_backward(to_numpy(dy), ctx.cache),), extra=0)


class LinearFunction(torch.autograd.Function):
    """x (*, in_features), weight (out_features, in_features), bias or None
    -> (*, out_features), by cnnlib.grad.linear_forward / linear_backward"""

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        y, ctx.cache = grad.linear_forward(
            to_numpy(x), to_numpy(weight), to_numpy(bias)
        )
        _likes(ctx, x, weight, bias)
        return to_torch(y, like=x)

    @staticmethod
    def backward(ctx, dy):
        return _grads(ctx, grad.linear_backward(to_numpy(dy), ctx.cache), extra=0)


class CrossEntropyFunction(torch.autograd.Function):
    """logits (N, C), targets (N,) integer classes -> mean cross-entropy (a scalar),
    by cnnlib.grad.softmax_cross_entropy"""

    @staticmethod
    def forward(ctx, logits, targets):
        classes = targets.detach().cpu().numpy()  # integers: not through to_numpy
        loss, ctx.dlogits = grad.softmax_cross_entropy(to_numpy(logits), classes)
        _likes(ctx, logits)
        return torch.tensor(loss, dtype=logits.dtype, device=logits.device)

    @staticmethod
    def backward(ctx, dloss):
        return _grads(ctx, (ctx.dlogits * to_numpy(dloss),), extra=1)


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
