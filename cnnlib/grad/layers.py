"""Backward passes of ReLU, a fully connected layer and softmax cross-entropy."""

from typing import NamedTuple

import numpy as np

from .._checks import as_array, as_float, as_floats, check_layout
from ._common import check_cache, check_dy


class ReLUCache(NamedTuple):
    """What relu_backward needs: where the gradient passes."""

    passes: np.ndarray  # bool, not (x <= 0): x > 0, and NaN (as in torch)
    dtype: np.dtype  # the forward pass's: dx has it (or float64 for a float64 dy)


class LinearCache(NamedTuple):
    """What linear_backward needs from the forward pass (x and w are copies)."""

    x: np.ndarray  # (*, in_features)
    w: np.ndarray  # (out_features, in_features)
    has_bias: bool
    y_shape: tuple  # (*, out_features)


def relu_forward(x):
    """x (any shape) -> (y, cache), y = max(x, 0) with x's shape (NaN stays NaN)"""
    x = as_float(x, "relu_forward")
    return np.maximum(x, 0), ReLUCache(~(x <= 0), x.dtype)


def relu_backward(dy, cache):
    """dy (x's shape), cache -> dx (x's shape)

    torch's rule: dx = 0 where x <= 0 and dx = dy elsewhere. So at x == 0 the slope
    is taken as 0, and a NaN input passes its gradient on (NaN <= 0 is false).
    """
    fn = "relu_backward"
    cache = check_cache(cache, ReLUCache, fn)
    dy = check_dy(dy, cache.passes.shape, fn, forward_dtype=cache.dtype)
    return np.where(cache.passes, dy, 0)


def _check_linear(x, w, b, fn):
    x, w, b = as_floats(fn, (x, "input"), (w, "weight"), (b, "bias"))
    check_layout(w, 2, "(out_features, in_features)", fn, "weight")
    if x.ndim == 0 or x.shape[-1] != w.shape[1]:
        raise ValueError(
            f"{fn}: input has {x.shape[-1] if x.ndim else 0} features (last axis of "
            f"shape {x.shape}) but weight expects {w.shape[1]} (weight shape "
            f"{w.shape}, laid out (out_features, in_features))"
        )
    if b is not None:
        if b.shape != (w.shape[0],):
            raise ValueError(
                f"{fn}: bias must have shape (out_features,) = ({w.shape[0]},), "
                f"got {b.shape}"
            )
    return x, w, b


def linear_forward(x, w, b=None):
    """x (N, in_features), w (out_features, in_features), b (out_features,)
    -> (y, cache), y (N, out_features)

    y = x @ w.T + b, torch.nn.functional.linear's layout; x may have any number of
    leading axes (*, in_features), as in torch.
    """
    x, w, b = _check_linear(x, w, b, "linear_forward")
    y = x @ w.T if b is None else x @ w.T + b
    return y, LinearCache(x.copy(), w.copy(), b is not None, y.shape)


def linear_backward(dy, cache):
    """dy (N, out_features), cache -> (dx, dw, db)

    dx (N, in_features) = dy @ w, dw (out_features, in_features) = dy^T @ x and
    db (out_features,) = dy summed over the batch (None when there was no bias).
    """
    fn = "linear_backward"
    cache = check_cache(cache, LinearCache, fn)
    dy, x, w = check_dy(dy, cache.y_shape, fn, cache.x, cache.w)
    dy_rows = dy.reshape(-1, w.shape[0])  # (N, out_features), leading axes merged
    dw = dy_rows.T @ x.reshape(-1, w.shape[1])  # (out_features, in_features)
    db = dy_rows.sum(axis=0) if cache.has_bias else None
    return dy @ w, dw, db


def _check_targets(logits, targets, fn):
    logits = as_float(logits, fn, "logits")
    if logits.ndim != 2:
        raise ValueError(
            f"{fn}: logits must be 2-D (N, C), got {logits.ndim}-D shape {logits.shape}"
        )
    (N, C), targets = logits.shape, as_array(targets, fn, "targets")
    if targets.dtype.kind not in "iu":
        raise TypeError(
            f"{fn}: targets must be integer class indices, got dtype {targets.dtype}"
        )
    if N == 0 or C == 0:
        raise ValueError(
            f"{fn}: logits must hold at least one sample and one class, got shape "
            f"{logits.shape} (the mean loss of an empty batch is undefined; torch "
            "returns nan)"
        )
    if targets.shape != (N,):
        raise ValueError(
            f"{fn}: targets must have shape (N,) = ({N},) to match logits of shape "
            f"{logits.shape}, got {targets.shape}"
        )
    if targets.min() < 0 or targets.max() >= C:
        raise ValueError(
            f"{fn}: targets must be class indices in [0, {C - 1}] (logits have "
            f"C={C} columns), got values from {targets.min()} to {targets.max()}"
        )
    return logits, targets


def softmax_cross_entropy(logits, targets):
    """logits (N, C), targets (N,) integer classes -> (loss, dlogits (N, C))

    loss = mean over n of -log p[n, targets[n]] with p = softmax(logits) along C,
    like torch.nn.functional.cross_entropy (reduction='mean'); dlogits is the
    gradient of that mean, (p - onehot(targets)) / N. The log-softmax subtracts each
    row's maximum first, so large logits do not overflow exp.
    """
    logits, targets = _check_targets(logits, targets, "softmax_cross_entropy")
    N = logits.shape[0]
    z = logits - logits.max(axis=1, keepdims=True)  # (N, C), each row's max is 0
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))  # log-softmax
    rows = np.arange(N)
    loss = -log_p[rows, targets].mean()
    dlogits = np.exp(log_p)  # p
    dlogits[rows, targets] -= 1.0
    return float(loss), dlogits / N
