"""ReLU and pooling as autograd Functions on cnnlib.grad's NumPy code, differentiable
to any order.

Their backward passes route dy through a pattern fixed by the forward pass: where
x > 0 (ReLU), to the arg-max of each window (max pooling), evenly over each window
(average pooling). So dx = R(dy) is linear in dy, and its derivative is the adjoint
R^T: for an incoming gradient g of dx, g_dy = R^T(g), which is the forward
pattern again (mask, pick at the arg-max, average). The pattern does not move when
x moves a little, so x gets no gradient from dx, as in torch. RouteBackward applies
R and differentiates to R^T, which differentiates back to R, and so on.
"""

import math

import numpy as np
import torch

from .. import grad
from ..conv import _pad, _windows
from ..pool import avg_pool1d, avg_pool2d
from ._bridge import check_tensor, to_numpy, to_torch


class RouteBackward(torch.autograd.Function):
    """(dy, like, route, adjoint) -> route(dy), as a tensor like `like` (its dtype and
    device); differentiates to adjoint. route and adjoint map ndarrays."""

    @staticmethod
    def forward(ctx, dy, like, route, adjoint):
        ctx.route, ctx.adjoint, ctx.like = route, adjoint, dy.new_empty(0)
        return to_torch(route(to_numpy(dy)), like=like)

    @staticmethod
    def backward(ctx, g):
        g_dy = RouteBackward.apply(g, ctx.like, ctx.adjoint, ctx.route)
        return g_dy, None, None, None


def _forward(ctx, layer, numpy_forward, x, *args):
    check_tensor(layer, "input", x)
    y, ctx.cache = numpy_forward(to_numpy(x), *args)
    ctx.like = x.new_empty(0)
    return to_torch(y, like=x)


def _backward(ctx, dy, numpy_backward, adjoint, extra):
    if not ctx.needs_input_grad[0]:
        return (None, *[None] * extra)
    cache = ctx.cache
    dx = RouteBackward.apply(
        dy, ctx.like, lambda d: numpy_backward(d, cache), adjoint(cache)
    )
    return (dx, *[None] * extra)


def relu_adjoint(cache):
    """g -> the same mask as relu_backward (the mask is symmetric)."""
    return lambda g: np.where(cache.passes, g, 0)


def max_pool_adjoint(cache):
    """g (x's shape) -> each window's value of g at the window's arg-max."""
    k, pads = cache.kernel_size, [(p, p) for p in cache.padding]

    def pick(g):
        g = _pad(g.reshape(cache.x_shape), pads)  # (N, C, *padded size)
        windows = _windows(g, k, cache.stride, (1,) * len(k))  # (N, C, *out, *k)
        flat = windows.reshape(*windows.shape[: 2 + len(k)], math.prod(k))
        picked = np.take_along_axis(flat, cache.argmax[..., None], axis=-1)
        return picked.reshape(cache.y_shape)

    return pick


def avg_pool_adjoint(cache):
    """g (x's shape) -> average pooling of g with the same windows."""
    pool = avg_pool1d if len(cache.kernel_size) == 1 else avg_pool2d

    def average(g):
        g = g.reshape(cache.x_shape)
        return pool(g, cache.kernel_size, cache.stride, cache.padding).reshape(
            cache.y_shape
        )

    return average


class MaxPool1dFunction(torch.autograd.Function):
    """x (N, C, L) -> (N, C, L_out), by cnnlib.grad.max_pool1d_forward / _backward"""

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=0):
        args = (kernel_size, stride, padding)
        return _forward(ctx, "MaxPool1d", grad.max_pool1d_forward, x, *args)

    @staticmethod
    def backward(ctx, dy):
        return _backward(ctx, dy, grad.max_pool1d_backward, max_pool_adjoint, 3)


class MaxPool2dFunction(torch.autograd.Function):
    """x (N, C, H, W) -> (N, C, H_out, W_out), by cnnlib.grad.max_pool2d_forward /
    max_pool2d_backward"""

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=0):
        args = (kernel_size, stride, padding)
        return _forward(ctx, "MaxPool2d", grad.max_pool2d_forward, x, *args)

    @staticmethod
    def backward(ctx, dy):
        return _backward(ctx, dy, grad.max_pool2d_backward, max_pool_adjoint, 3)


class AvgPool1dFunction(torch.autograd.Function):
    """x (N, C, L) -> (N, C, L_out), by cnnlib.grad.avg_pool1d_forward / _backward"""

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=0):
        args = (kernel_size, stride, padding)
        return _forward(ctx, "AvgPool1d", grad.avg_pool1d_forward, x, *args)

    @staticmethod
    def backward(ctx, dy):
        return _backward(ctx, dy, grad.avg_pool1d_backward, avg_pool_adjoint, 3)


class AvgPool2dFunction(torch.autograd.Function):
    """x (N, C, H, W) -> (N, C, H_out, W_out), by cnnlib.grad.avg_pool2d_forward /
    avg_pool2d_backward"""

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=0):
        args = (kernel_size, stride, padding)
        return _forward(ctx, "AvgPool2d", grad.avg_pool2d_forward, x, *args)

    @staticmethod
    def backward(ctx, dy):
        return _backward(ctx, dy, grad.avg_pool2d_backward, avg_pool_adjoint, 3)


class ReLUFunction(torch.autograd.Function):
    """x (any shape) -> max(x, 0), by cnnlib.grad.relu_forward / relu_backward"""

    @staticmethod
    def forward(ctx, x):
        return _forward(ctx, "ReLU", grad.relu_forward, x)

    @staticmethod
    def backward(ctx, dy):
        return _backward(ctx, dy, grad.relu_backward, relu_adjoint, 0)
