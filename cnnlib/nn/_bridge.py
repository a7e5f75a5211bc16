"""Moving tensors into numpy and back, for the autograd Functions of cnnlib.nn.

The hand-written forward and backward passes (cnnlib.grad, cnnlib.norm) compute in
float64 numpy on the CPU. A Function hands them ``to_numpy(t)`` and returns
``to_torch(a, like=t)``, which puts the result back on ``t``'s device with its dtype,
so a model built from cnnlib.nn trains like a torch one (only slower) on any device.
"""

import numpy as np
import torch


def to_numpy(t):
    """tensor (any device, any float dtype) -> float64 ndarray on the CPU (a copy)"""
    if t is None:
        return None
    return t.detach().to("cpu", torch.float64).numpy().copy()


def to_torch(a, like):
    """ndarray -> tensor with ``like``'s device and dtype"""
    if a is None:
        return None
    return torch.from_numpy(np.ascontiguousarray(a)).to(like.device, like.dtype)
