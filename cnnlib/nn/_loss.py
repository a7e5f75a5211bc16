"""Cross-entropy as an autograd Function on cnnlib.grad.softmax_cross_entropy.

With p = softmax(logits) and Y the one-hot targets, the mean loss has
    dlogits = dloss (p - Y) / N,
and, for an incoming gradient g of dlogits (a gradient penalty), the double backward
    g_dloss  = sum(g (p - Y)) / N
    g_logits = dloss / N (p g - p sum_c(p g)),   the softmax Jacobian applied to g.
Third derivatives are refused with an error (see _bridge.Last).
"""

import numpy as np
import torch

from .. import grad
from ._bridge import Last, check_tensor, to_numpy, to_torch


class CrossEntropyFunction(torch.autograd.Function):
    """logits (N, C), targets (N,) integer classes -> mean cross-entropy (a scalar),
    by cnnlib.grad.softmax_cross_entropy"""

    @staticmethod
    def forward(ctx, logits, targets):
        check_tensor("CrossEntropyLoss", "input", logits)
        if not isinstance(targets, torch.Tensor) or targets.is_floating_point():
            got = targets.dtype if isinstance(targets, torch.Tensor) else type(targets)
            raise TypeError(
                "CrossEntropyLoss: target must be a torch.Tensor of integer class "
                f"indices (N,) (class probabilities are not supported), got {got}"
            )
        classes = targets.detach().cpu().numpy()  # integers: not through to_numpy
        loss, dlogits = grad.softmax_cross_entropy(to_numpy(logits), classes)
        ctx.onehot = np.eye(logits.shape[1], dtype=dlogits.dtype)[classes]  # Y
        ctx.p = dlogits * len(classes) + ctx.onehot  # softmax(logits)
        ctx.save_for_backward(logits)
        return torch.tensor(loss, dtype=logits.dtype, device=logits.device)

    @staticmethod
    def backward(ctx, dloss):
        if not ctx.needs_input_grad[0]:
            return None, None
        (logits,) = ctx.saved_tensors
        dlogits = CrossEntropyBackward.apply(dloss, logits, ctx.p, ctx.onehot)
        return dlogits, None


class CrossEntropyBackward(torch.autograd.Function):
    """(dloss, logits, p, Y) -> dlogits = dloss (p - Y) / N, p = softmax(logits)."""

    @staticmethod
    def forward(ctx, dloss, logits, p, onehot):
        ctx.save_for_backward(dloss, logits)
        ctx.p, ctx.onehot = p, onehot
        return to_torch(to_numpy(dloss) * (p - onehot) / len(p), like=logits)

    @staticmethod
    def backward(ctx, g):
        dloss, logits = ctx.saved_tensors
        p, onehot, N = ctx.p, ctx.onehot, len(ctx.p)

        def compute():
            g_np, dloss_np = to_numpy(g), to_numpy(dloss)
            g_dloss = np.sum(g_np * (p - onehot)) / N
            pg = p * g_np
            g_logits = dloss_np / N * (pg - p * pg.sum(axis=1, keepdims=True))
            return to_torch(np.asarray(g_dloss), like=dloss), to_torch(
                g_logits, like=logits
            )

        g_dloss, g_logits = Last.apply(
            "CrossEntropyLoss", "third derivatives", compute, g, dloss, logits
        )
        return g_dloss, g_logits, None, None
