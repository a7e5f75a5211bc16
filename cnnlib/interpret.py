"""Looking inside a trained CNN: feature maps, saliency, occlusion, class activation
maps, confident mistakes.

Every function puts the model in evaluation mode while it works (dropout off, batch
norm on its running statistics) and then restores each submodule's own mode; none
of them touches the parameters' ``.grad``.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


@contextmanager
def evaluating(model: nn.Module):
    """Run the block with ``model`` in eval mode; restore every submodule's mode."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for m, training in modes:
            m.training = training


def _check_model(fn: str, model) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"{fn}: model must be an nn.Module, got {type(model).__name__}")


def _check_images(fn: str, x) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{fn}: x must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(
            f"{fn}: x must be a batch of images (N, C, H, W), got shape "
            f"{tuple(x.shape)} (use x[None] for a single image)"
        )


def _targets(fn: str, target, logits: torch.Tensor) -> torch.Tensor:
    """None (the predicted class), an int, or N ints -> LongTensor (N,)."""
    n, k = logits.shape
    if target is None:
        return logits.argmax(1)
    t = torch.as_tensor(target, dtype=torch.long, device=logits.device)
    if t.ndim == 0:
        t = t.expand(n)
    if t.shape != (n,):
        raise ValueError(
            f"{fn}: target must be None, an int or {n} ints (one per image), got "
            f"shape {tuple(t.shape)}"
        )
    if t.min() < 0 or t.max() >= k:
        raise ValueError(f"{fn}: target classes must be in [0, {k - 1}], got {target}")
    return t


def _logits(fn: str, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    out = model(x)
    if out.ndim != 2 or out.shape[0] != x.shape[0]:
        raise ValueError(
            f"{fn}: the model must return logits (N, classes) for x of shape "
            f"{tuple(x.shape)}, got {tuple(out.shape)}"
        )
    return out


def _layer_name(fn: str, model: nn.Module, layer) -> str:
    """A name from ``model.named_modules()`` or one of its modules -> that name."""
    named = dict(model.named_modules())
    if not isinstance(layer, str | nn.Module):
        raise TypeError(
            f"{fn}: layer must be a name from model.named_modules() or a module, "
            f"got {type(layer).__name__}"
        )
    if isinstance(layer, nn.Module):
        name = {id(m): n for n, m in named.items()}.get(id(layer))
    else:
        name = layer
    if name not in named:
        some = ", ".join(repr(n) for n in list(named)[1:9])
        raise ValueError(
            f"{fn}: {layer!r} is not a layer of the model; names look like {some}, ..."
        )
    return name


def feature_maps(model: nn.Module, x: torch.Tensor, layers) -> dict:
    """x (N, C, H, W), layers (names or modules) -> {name: that layer's output}.

    ``layers`` is one name from ``model.named_modules()`` ("features.0"), a module,
    or a list of them. The outputs are detached copies, in the order of ``layers``.
    Runs without gradients, in eval mode; the hooks are removed even on an error.
    """
    _check_model("feature_maps", model)
    _check_images("feature_maps", x)
    named = dict(model.named_modules())
    wanted = [layers] if isinstance(layers, str | nn.Module) else list(layers)
    names = [_layer_name("feature_maps", model, layer) for layer in wanted]
    maps: dict = {}

    def hook(name):
        def save(module, inputs, out):
            maps[name] = out.detach().clone()

        return save

    handles = [named[n].register_forward_hook(hook(n)) for n in names]
    try:
        with evaluating(model), torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return {n: maps[n] for n in names}


def saliency(model: nn.Module, x: torch.Tensor, target=None) -> torch.Tensor:
    """x (N, C, H, W) -> (N, H, W): |d logit[target] / d x|, max over the channels.

    Simonyan, Vedaldi and Zisserman 2014. ``target`` is None (each image's predicted
    class), one class for all images, or N classes. The gradient is of the logit
    (the score before the softmax), in eval mode.
    """
    _check_model("saliency", model)
    _check_images("saliency", x)
    x = x.detach().clone().requires_grad_(True)
    with evaluating(model), torch.enable_grad():
        logits = _logits("saliency", model, x)  # (N, classes)
        t = _targets("saliency", target, logits)
        score = logits.gather(1, t[:, None]).sum()  # images are independent
        (grad,) = torch.autograd.grad(score, x)  # (N, C, H, W)
    return grad.abs().amax(dim=1)


class OcclusionMap(NamedTuple):
    """drop (N, len(rows), len(cols)): drop[n, a, b] is p(target) of image n minus
    p(target) with the patch at top-left corner (rows[a], cols[b]) covered;
    heatmap (N, H, W): each pixel's mean drop over the patches that cover it."""

    drop: torch.Tensor
    heatmap: torch.Tensor
    rows: list
    cols: list


def patch_starts(size: int, patch: int, stride: int) -> list[int]:
    """Top-left corners 0, stride, 2 stride, ..., plus size - patch if the steps
    miss it, so that every pixel is covered by at least one patch."""
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] != size - patch:
        starts.append(size - patch)
    return starts


def occlusion(
    model: nn.Module,
    x: torch.Tensor,
    target=None,
    patch: int = 4,
    stride: int = 2,
    fill: float = 0.0,
    batch_size: int = 256,
) -> OcclusionMap:
    """x (N, C, H, W) -> OcclusionMap(drop (N, H', W'), heatmap (N, H, W), rows, cols).

    Zeiler and Fergus 2014: slide a ``patch`` x ``patch`` square of value ``fill``
    over each image with step ``stride`` (see :func:`patch_starts`) and record how
    much the softmax probability of ``target`` (None: the predicted class) drops.
    Positive = the covered pixels supported the class. The occluded copies of an
    image are run ``batch_size`` at a time, without gradients, in eval mode.
    """
    _check_model("occlusion", model)
    _check_images("occlusion", x)
    n, c, h, w = x.shape
    for name, v in (("patch", patch), ("stride", stride), ("batch_size", batch_size)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"occlusion: {name} must be an int >= 1, got {v!r}")
    if patch > min(h, w):
        raise ValueError(f"occlusion: patch {patch} is larger than the image {h}x{w}")
    rows, cols = patch_starts(h, patch, stride), patch_starts(w, patch, stride)
    mask = torch.zeros(len(rows), len(cols), h, w, dtype=torch.bool, device=x.device)
    for a, r in enumerate(rows):
        for b, s in enumerate(cols):
            mask[a, b, r : r + patch, s : s + patch] = True
    mask = mask.reshape(-1, 1, h, w)  # (P, 1, H, W), P = len(rows) * len(cols)
    drops = []
    with evaluating(model), torch.no_grad():
        p0 = F.softmax(_logits("occlusion", model, x), dim=1)  # (N, classes)
        t = _targets("occlusion", target, p0)
        for i in range(n):
            p = []
            for m in mask.split(batch_size):
                covered = torch.where(m, float(fill), x[i])  # (chunk, C, H, W)
                p.append(F.softmax(model(covered), dim=1)[:, t[i]])  # (chunk,)
            drops.append(p0[i, t[i]] - torch.cat(p))  # (P,)
    drop = torch.stack(drops)  # (N, P)
    m = mask[:, 0].to(drop.dtype)  # (P, H, W)
    heatmap = torch.einsum("np,phw->nhw", drop, m) / m.sum(0)  # (N, H, W)
    return OcclusionMap(drop.reshape(n, len(rows), len(cols)), heatmap, rows, cols)


class ClassActivationMap(NamedTuple):
    """heatmap (N, H, W): ``cam`` resized to the input's size (bilinear);
    cam (N, H', W'): ReLU(sum_c weights[:, c] * a[:, c]) at the layer's size;
    weights (N, C): each channel's gradient of the class score, averaged over its
    H' W' positions."""

    heatmap: torch.Tensor
    cam: torch.Tensor
    weights: torch.Tensor


def class_activation_map(
    model: nn.Module, x: torch.Tensor, target=None, *, layer
) -> ClassActivationMap:
    """x (N, C_in, H, W) -> ClassActivationMap(heatmap (N, H, W), cam (N, H', W'),
    weights (N, C)), where a (N, C, H', W') is the output of ``layer``.

    Grad-CAM (Selvaraju et al. 2017): with z_t the logit of class t = ``target``
    (None: each image's predicted class; an int; or N ints),

        weights[n, c] = mean over (i, j) of dz_t / da[n, c, i, j],
        cam[n] = ReLU(sum_c weights[n, c] a[n, c]),

    and ``heatmap`` is ``cam`` resized to H x W by
    ``F.interpolate(mode="bilinear", align_corners=False)``. When the network ends
    in global average pooling and one linear layer of weight w_fc (classes, C), as
    in Zhou et al. 2016, dz_t / da[n, c, i, j] = w_fc[t, c] / (H' W'), so ``cam`` is
    Zhou's class activation map sum_c w_fc[t, c] a[n, c], after a ReLU, divided by
    H' W'. ``layer`` is a name from ``model.named_modules()`` or a module; it must
    run exactly once per forward pass and return (N, C, H', W'). Runs in eval mode;
    the parameters' ``.grad`` are left untouched.
    """
    fn = "class_activation_map"
    _check_model(fn, model)
    _check_images(fn, x)
    a, grad = _output_and_gradient(fn, model, x, target, layer)  # (N, C, H', W') x2
    weights = grad.mean(dim=(2, 3))  # (N, C)
    cam = F.relu(torch.einsum("nc,nchw->nhw", weights, a))  # (N, H', W')
    heatmap = F.interpolate(
        cam[:, None], size=tuple(x.shape[2:]), mode="bilinear", align_corners=False
    )[:, 0]  # (N, H, W)
    return ClassActivationMap(heatmap, cam, weights)


def _output_and_gradient(fn: str, model: nn.Module, x, target, layer):
    """-> (a, dz_t / da): ``layer``'s output (N, C, H', W') and the gradient of the
    target logits' sum with respect to it, both detached; in eval mode."""
    module = dict(model.named_modules())[_layer_name(fn, model, layer)]
    saved: list = []

    def save(mod, inputs, out):
        if not isinstance(out, torch.Tensor) or out.ndim != 4:
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out)
            raise ValueError(
                f"{fn}: layer {layer!r} must output feature maps (N, C, H', W'), got "
                f"{shape}"
            )
        saved.append(out)
        return out.clone()  # later in-place ops (ReLU(inplace=True)) leave it intact

    handle = module.register_forward_hook(save)
    try:
        with evaluating(model), torch.enable_grad():
            x = x.detach().clone().requires_grad_(True)  # so that a has a gradient
            logits = _logits(fn, model, x)  # (N, classes)
            if len(saved) != 1:
                raise ValueError(
                    f"{fn}: layer {layer!r} ran {len(saved)} times in one forward "
                    "pass; it must run exactly once"
                )
            t = _targets(fn, target, logits)
            score = logits.gather(1, t[:, None]).sum()  # images are independent
            (grad,) = torch.autograd.grad(score, saved[0], allow_unused=True)
    finally:
        handle.remove()
    if grad is None:
        raise ValueError(f"{fn}: the model's output does not depend on layer {layer!r}")
    return saved[0].detach(), grad


def confident_mistakes(probs, y, k: int = 8) -> np.ndarray:
    """probs (N, classes), y (N,) -> indices of at most k wrong predictions.

    A prediction is argmax(probs); the mistakes are ordered by their confidence
    (the predicted class's probability), highest first, ties by index. Fewer than k
    indices come back when there are fewer mistakes. Tensors or arrays.
    """
    probs = np.asarray(probs.detach().cpu() if torch.is_tensor(probs) else probs)
    y = np.asarray(y.detach().cpu() if torch.is_tensor(y) else y)
    if probs.ndim != 2 or y.shape != (probs.shape[0],):
        raise ValueError(
            "confident_mistakes: probs must be (N, classes) and y (N,), got shapes "
            f"{probs.shape} and {y.shape}"
        )
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"confident_mistakes: k must be an int >= 1, got {k!r}")
    pred = probs.argmax(1)
    wrong = np.flatnonzero(pred != y)
    confidence = probs[wrong, pred[wrong]]
    order = np.argsort(-confidence, kind="stable")
    return wrong[order[:k]].astype(np.int64)
