"""Convolution and linear layers as autograd Functions on cnnlib.grad's NumPy code,
differentiable to any order.

Both layers are bilinear: y = B(x, w) + b. Their backward pass is
    dx = B_x^T(dy; w),   dw = B_w^T(dy; x),   db = sum of dy,
written by hand in cnnlib.grad and wrapped here as a Function of its own
(ConvBackward, LinearBackward), so that a gradient penalty can differentiate it
(``torch.autograd.grad(..., create_graph=True)``). Its derivative, the "double
backward", needs no new arithmetic: for incoming gradients (g_dx, g_dw, g_db),
    g_dy = B(g_dx, w) + B(x, g_dw) + g_db     (the forward pass, twice)
    g_x  = B_x^T(dy; g_dw)                    (the backward pass, with g_dw as w)
    g_w  = B_w^T(dy; g_dx)                    (the backward pass, with g_dx as x)
and since those are the same Functions again, every higher derivative is exact too.
"""

import torch

from .. import grad
from ._bridge import check_tensor, to_numpy, to_torch

CONV_BACKWARD = {"conv1d": grad.conv1d_backward, "conv2d": grad.conv2d_backward}


def _check(layer, x, weight, bias):
    check_tensor(layer, "input", x, weight)
    check_tensor(layer, "weight", weight)
    if bias is not None:
        check_tensor(layer, "bias", bias, weight)


def _conv_forward(ctx, cls, x, weight, bias, args):
    layer, forward = cls.layer, cls.numpy_forward
    _check(layer, x, weight, bias)
    y, ctx.cache = forward(to_numpy(x), to_numpy(weight), to_numpy(bias), *args)
    ctx.save_for_backward(x, weight)
    ctx.has_bias, ctx.cls, ctx.args = bias is not None, cls, args
    return to_torch(y, like=x)


def _conv_backward(ctx, dy):
    x, weight = ctx.saved_tensors
    dx, dw, db = ConvBackward.apply(dy, x, weight, ctx.cache, ctx.cls, ctx.args)
    need = ctx.needs_input_grad
    db = db if ctx.has_bias and need[2] else None
    dx, dw = (dx if need[0] else None), (dw if need[1] else None)
    return dx, dw, db, None, None, None, None


class Conv1dFunction(torch.autograd.Function):
    """x (N, C_in, L), weight (C_out, C_in // groups, k), bias (C_out,) or None
    -> (N, C_out, L_out), computed by cnnlib.grad.conv1d_forward / conv1d_backward"""

    layer, numpy_forward = "Conv1d", grad.conv1d_forward

    @staticmethod
    def forward(ctx, x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        args = (stride, padding, dilation, groups)
        return _conv_forward(ctx, Conv1dFunction, x, weight, bias, args)

    @staticmethod
    def backward(ctx, dy):
        return _conv_backward(ctx, dy)


class Conv2dFunction(torch.autograd.Function):
    """x (N, C_in, H, W), weight (C_out, C_in // groups, kH, kW), bias (C_out,) or None
    -> (N, C_out, H_out, W_out), by cnnlib.grad.conv2d_forward / conv2d_backward"""

    layer, numpy_forward = "Conv2d", grad.conv2d_forward

    @staticmethod
    def forward(ctx, x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        args = (stride, padding, dilation, groups)
        return _conv_forward(ctx, Conv2dFunction, x, weight, bias, args)

    @staticmethod
    def backward(ctx, dy):
        return _conv_backward(ctx, dy)


class ConvBackward(torch.autograd.Function):
    """(dy, x, weight, cache, cls, args) -> (dx, dweight, dbias): the backward pass of
    cls (Conv1dFunction or Conv2dFunction with its args) as a Function. cache is
    the NumPy cache of cls's forward pass with x and weight."""

    @staticmethod
    def forward(ctx, dy, x, weight, cache, cls, args):
        dy_np = to_numpy(dy)
        dx, dw, _ = CONV_BACKWARD[cache.op](dy_np, cache)
        c_axis = 1 if dy_np.ndim == cache.x.ndim else 0  # 0: an input without N
        db = dy_np.sum(axis=tuple(a for a in range(dy_np.ndim) if a != c_axis))
        ctx.save_for_backward(dy, x, weight)
        ctx.cache, ctx.cls, ctx.args = cache, cls, args
        dw, db = to_torch(dw, like=weight), to_torch(db, like=weight)
        return to_torch(dx, like=x), dw, db

    @staticmethod
    def backward(ctx, g_dx, g_dw, g_db):
        dy, x, weight = ctx.saved_tensors
        cache, cls, args = ctx.cache, ctx.cls, ctx.args
        g_dy = g_x = g_w = None
        if g_dx is not None or g_db is not None:  # B(g_dx, w) + g_db
            g = torch.zeros_like(x) if g_dx is None else g_dx
            g_dy = cls.apply(g, weight, g_db, *args)
        if g_dw is not None:  # + B(x, g_dw)
            term = cls.apply(x, g_dw, None, *args)
            g_dy = term if g_dy is None else g_dy + term
            g_x = ConvBackward.apply(
                dy, x, g_dw, cache._replace(w=to_numpy(g_dw)), cls, args
            )[0]
        if g_dx is not None:
            g_x_np = to_numpy(g_dx).reshape(cache.x.shape)  # with a batch axis
            g_w = ConvBackward.apply(
                dy, g_dx, weight, cache._replace(x=g_x_np), cls, args
            )[1]
        return g_dy, g_x, g_w, None, None, None


class LinearFunction(torch.autograd.Function):
    """x (*, in_features), weight (out_features, in_features), bias or None
    -> (*, out_features), by cnnlib.grad.linear_forward / linear_backward"""

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        _check("Linear", x, weight, bias)
        y, ctx.cache = grad.linear_forward(
            to_numpy(x), to_numpy(weight), to_numpy(bias)
        )
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return to_torch(y, like=x)

    @staticmethod
    def backward(ctx, dy):
        x, weight = ctx.saved_tensors
        dx, dw, db = LinearBackward.apply(dy, x, weight, ctx.cache)
        need = ctx.needs_input_grad
        db = db if ctx.has_bias and need[2] else None
        return dx if need[0] else None, dw if need[1] else None, db


class LinearBackward(torch.autograd.Function):
    """(dy, x, weight, cache) -> (dx, dweight, dbias) of y = x @ weight.T + bias;
    cache is linear_forward's with x and weight."""

    @staticmethod
    def forward(ctx, dy, x, weight, cache):
        dy_np = to_numpy(dy)
        dx, dw, _ = grad.linear_backward(dy_np, cache)
        db = dy_np.reshape(-1, cache.w.shape[0]).sum(axis=0)
        ctx.save_for_backward(dy, x, weight)
        ctx.cache = cache
        dw, db = to_torch(dw, like=weight), to_torch(db, like=weight)
        return to_torch(dx, like=x), dw, db

    @staticmethod
    def backward(ctx, g_dx, g_dw, g_db):
        dy, x, weight = ctx.saved_tensors
        g_dy = g_x = g_w = None
        if g_dx is not None or g_db is not None:  # g_dx @ w.T + g_db
            g = torch.zeros_like(x) if g_dx is None else g_dx
            g_dy = LinearFunction.apply(g, weight, g_db)
        if g_dw is not None:  # + x @ g_dw.T
            term = LinearFunction.apply(x, g_dw, None)
            g_dy = term if g_dy is None else g_dy + term
            cache = ctx.cache._replace(w=to_numpy(g_dw))
            g_x = LinearBackward.apply(dy, x, g_dw, cache)[0]
        if g_dx is not None:
            cache = ctx.cache._replace(x=to_numpy(g_dx))
            g_w = LinearBackward.apply(dy, g_dx, weight, cache)[1]
        return g_dy, g_x, g_w, None
