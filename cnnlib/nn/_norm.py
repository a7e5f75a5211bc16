"""BatchNorm1d / BatchNorm2d whose arithmetic is cnnlib.norm's numpy code.

They subclass torch.nn.BatchNorm1d / BatchNorm2d, so the parameters (weight = gamma,
bias = beta), the buffers (running_mean, running_var, num_batches_tracked), their
initialisation, state_dict, repr and input checks are torch's own. Only forward is
replaced: BatchNormFunction runs batch_norm_forward / batch_norm_backward (training)
or batch_norm_eval / batch_norm_eval_backward (evaluation), and the running buffers
are updated by cnnlib.norm.update_running_stats, following torch's rules (momentum,
momentum=None as a cumulative average, affine=False, track_running_stats=False).
"""

import torch

from ..norm import (
    batch_norm_backward,
    batch_norm_eval,
    batch_norm_eval_backward,
    batch_norm_forward,
    update_running_stats,
)
from ._bridge import Last, check_tensor, to_numpy, to_torch


class BatchNormFunction(torch.autograd.Function):
    """y, mu, var = BatchNormFunction.apply(x, weight, bias, running_mean,
    running_var, training, eps)

    x (N, C, *S), weight / bias (C,) or None, running_mean / running_var (C,) ->
    y (N, C, *S). training=True normalises with the batch's statistics (running_*
    are not used and may be None); training=False with running_mean / running_var.
    mu and var (C,) are the statistics used (batch var biased); they carry no
    gradient. Gradients flow to x, weight and bias in both modes; gradients of
    those gradients (a gradient penalty) raise an error.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, eps):
        check_tensor("BatchNorm", "input", x, weight)
        gamma, beta = to_numpy(weight), to_numpy(bias)
        ctx.training = bool(training)
        if ctx.training:
            y, ctx.cache = batch_norm_forward(to_numpy(x), gamma, beta, eps)
            mu, var = ctx.cache.mu, ctx.cache.var
        else:
            mu, var = to_numpy(running_mean), to_numpy(running_var)
            ctx.eval_args = (to_numpy(x), mu, var, gamma, beta, eps)
            y = batch_norm_eval(*ctx.eval_args)
        ctx.save_for_backward(x, weight, bias)
        mu, var = to_torch(mu, like=x), to_torch(var, like=x)
        ctx.mark_non_differentiable(mu, var)
        return to_torch(y, like=x), mu, var

    @staticmethod
    def backward(ctx, dy, _dmu, _dvar):
        x, weight, bias = ctx.saved_tensors

        def compute():
            if ctx.training:
                grads = batch_norm_backward(to_numpy(dy), ctx.cache)
            else:
                grads = batch_norm_eval_backward(to_numpy(dy), *ctx.eval_args)
            likes = (x, weight, bias)
            return tuple(to_torch(g, like=t) for g, t in zip(grads, likes, strict=True))

        # a second derivative through the NumPy backward pass is refused, not wrong
        tensors = [t for t in (dy, x, weight, bias) if t is not None]
        what = "gradients of its gradients"
        dx, dgamma, dbeta = Last.apply("BatchNorm2d", what, compute, *tensors)
        need = ctx.needs_input_grad
        return (
            dx if need[0] else None,
            dgamma if need[1] else None,
            dbeta if need[2] else None,
            None,
            None,
            None,
            None,
        )


class _NumpyBatchNorm:
    """forward of torch's _BatchNorm, with the arithmetic done by cnnlib.norm."""

    def forward(self, input):
        self._check_input_dim(input)
        self._check_channels(input)
        # as torch: batch statistics in training mode, and in eval mode when there
        # are no running statistics (track_running_stats=False)
        use_batch = self.training or (
            self.running_mean is None and self.running_var is None
        )
        y, mu, var = BatchNormFunction.apply(
            input,
            self.weight,
            self.bias,
            None if use_batch else self.running_mean,
            None if use_batch else self.running_var,
            use_batch,
            self.eps,
        )
        if self.training and self.track_running_stats:
            self._update_running_stats(mu, var, input.numel() // input.shape[1])
        return y

    def _check_channels(self, input):
        # torch cannot check without per-channel tensors (affine=False and
        # track_running_stats=False), so neither do we
        if self.weight is None and self.running_mean is None:
            return
        if input.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}: input has {input.shape[1]} channels but "
                f"num_features={self.num_features} (input shape {tuple(input.shape)})"
            )

    @torch.no_grad()
    def _update_running_stats(self, mu, var, n):
        """running = (1 - momentum) * running + momentum * batch, as torch."""
        if self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
        if self.running_mean is None or self.running_var is None or n == 0:
            return  # nothing to track, or an empty batch (torch skips it too)
        momentum, count = self.momentum, None
        if momentum is None:  # cumulative average over the batches seen
            if self.num_batches_tracked is None:
                return  # torch's factor is then 0: nothing changes
            count = int(self.num_batches_tracked)
        new_mean, new_var = update_running_stats(
            to_numpy(self.running_mean),
            to_numpy(self.running_var),
            to_numpy(mu),
            to_numpy(var),
            n,
            momentum,
            count=count,
        )
        self.running_mean.copy_(to_torch(new_mean, like=self.running_mean))
        self.running_var.copy_(to_torch(new_var, like=self.running_var))


class BatchNorm1d(_NumpyBatchNorm, torch.nn.BatchNorm1d):
    """torch.nn.BatchNorm1d on cnnlib.norm: x (N, C) or (N, C, L) -> same shape."""


class BatchNorm2d(_NumpyBatchNorm, torch.nn.BatchNorm2d):
    """torch.nn.BatchNorm2d on cnnlib.norm: x (N, C, H, W) -> same shape."""
