"""Moving tensors into numpy and back, for the autograd Functions of cnnlib.nn.

The hand-written forward and backward passes (cnnlib.grad, cnnlib.norm) compute in
NumPy on the CPU. A Function hands them ``to_numpy(t)`` and returns
``to_torch(a, like=t)``, which puts the result back on ``t``'s device with its dtype,
so a model built from cnnlib.nn trains like a torch one (only slower) on any device.
float64 tensors are computed in float64 and every other floating dtype in float32
(NumPy has no bfloat16, and float16 matrix products are slow and inexact).

``check_tensor`` turns what torch would reject deep inside (a NumPy array, an integer
tensor, a float64 input to a float32 layer) into a TypeError that says what to do.
"""

import numpy as np
import torch


def to_numpy(t):
    """tensor (any device, floating dtype) -> ndarray on the CPU (a copy), float64
    for float64 tensors and float32 for the others"""
    if t is None:
        return None
    dtype = torch.float64 if t.dtype == torch.float64 else torch.float32
    return t.detach().to("cpu", dtype).numpy().copy()


def to_torch(a, like):
    """ndarray -> tensor with ``like``'s device and dtype"""
    if a is None:
        return None
    return torch.from_numpy(np.ascontiguousarray(a)).to(like.device, like.dtype)


def check_tensor(layer, name, t, weight=None):
    """`t` must be a floating-point tensor, with `weight`'s dtype and device if given.

    torch refuses the same inputs (a layer never computes in integers, and a float64
    input does not meet float32 weights); the messages say how to convert.
    """
    if not isinstance(t, torch.Tensor):
        hint = " (convert it with torch.as_tensor)" if hasattr(t, "__len__") else ""
        raise TypeError(
            f"{layer}: {name} must be a torch.Tensor, got {type(t).__name__}{hint}"
        )
    if not t.is_floating_point():
        raise TypeError(
            f"{layer}: {name} has dtype {t.dtype}, but the layer computes in floating "
            f"point (torch refuses it too); convert it with {name}.float()"
        )
    if weight is None:
        return
    if t.dtype != weight.dtype:
        raise TypeError(
            f"{layer}: {name} has dtype {t.dtype} but the weight has {weight.dtype} "
            f"(torch refuses the mix too); use {name}.to({weight.dtype}) or convert "
            f"the layer with .to({t.dtype})"
        )
    if t.device != weight.device:
        raise TypeError(
            f"{layer}: {name} is on {t.device} but the weight on {weight.device}; "
            f"move one of them (torch refuses the mix too)"
        )


class Last(torch.autograd.Function):
    """Last.apply(layer, what, compute, *tensors) -> compute(), recorded as depending
    on `tensors`, with no derivative: differentiating it raises, naming `what`.

    For derivatives computed in NumPy that are not differentiated further (batch
    norm's backward, cross-entropy's double backward): autograd must know which
    tensors the result depends on, or a further derivative would treat it as a
    constant and come out silently wrong. (torch's @once_differentiable guesses the
    dependence from the incoming gradients only, and misses what the forward pass
    saved.)
    """

    @staticmethod
    def forward(ctx, layer, what, compute, *tensors):
        ctx.layer, ctx.what = layer, what
        return compute()

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(
            f"cnnlib.nn.{ctx.layer}: {ctx.what} are not implemented (the NumPy code "
            f"stops there); use torch.nn.{ctx.layer} for them"
        )
