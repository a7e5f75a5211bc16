"""A layer-by-layer table of a model: output shape and parameters of every layer.

The shapes come from one forward pass of a zeros input with forward hooks on the
leaf modules. By default the pass runs on PyTorch's "meta" device, which tracks
shapes without computing anything or allocating memory, so a table for VGG16 at
224x224 costs milliseconds; modules that cannot run on "meta" fall back to a real
pass on the model's device, without gradients.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import NamedTuple

import torch
from torch import nn


class LayerRow(NamedTuple):
    """One leaf module: its qualified name, class name, output shape, parameters."""

    name: str
    kind: str
    output_shape: tuple
    params: int


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters (the sum of ``p.numel()``)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _check_shape(input_shape) -> tuple[int, ...]:
    try:
        shape = tuple(int(s) for s in input_shape)
    except TypeError:
        raise TypeError(
            "layer_table: input_shape must be a tuple of ints such as (1, 3, 224, "
            f"224), got {input_shape!r}"
        ) from None
    if not shape or min(shape) < 1:
        raise ValueError(
            f"layer_table: input_shape must hold sizes >= 1 (batch included, e.g. "
            f"(1, 1, 28, 28)), got {input_shape!r}"
        )
    return shape


def _shape_of(out) -> tuple:
    if isinstance(out, torch.Tensor):
        return tuple(out.shape)
    if isinstance(out, list | tuple):
        return tuple(_shape_of(o) for o in out)
    return ()


@contextmanager
def _on_meta(model: nn.Module):
    """Swap every parameter and buffer for a "meta" twin (same shape, no data) and
    put the originals back afterwards, even on an error."""
    saved = []
    try:
        for m in model.modules():  # each module once, even when shared
            for store in (m._parameters, m._buffers):
                for name, t in list(store.items()):
                    if t is None or t.device.type == "meta":
                        continue
                    saved.append((store, name, t))
                    twin = torch.empty_like(t, device="meta")
                    if isinstance(t, nn.Parameter):
                        twin = nn.Parameter(twin, t.requires_grad)
                    store[name] = twin
        yield
    finally:
        for store, name, t in saved:
            store[name] = t


def _run(model: nn.Module, shape: tuple[int, ...], device: str | None) -> list:
    """Forward a zeros input with hooks on the leaves; -> [(name, module, out)]."""
    seen: list = []
    leaves = [(n, m) for n, m in model.named_modules() if not list(m.children())]
    hooks = [
        m.register_forward_hook(lambda mod, i, out, n=n: seen.append((n, mod, out)))
        for n, m in leaves
    ]
    was_training = model.training
    model.eval()  # batch norm with one sample, and no running statistics updated
    try:
        with torch.no_grad():
            if device == "meta":
                with _on_meta(model):
                    model(torch.zeros(shape, device="meta"))
            else:
                p = next(model.parameters(), None)
                x = torch.zeros(
                    shape,
                    device=p.device if p is not None else "cpu",
                    dtype=p.dtype if p is not None else torch.float32,
                )
                model(x)
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return seen


def layer_table(model: nn.Module, input_shape, meta: bool = True) -> list[LayerRow]:
    """model, input_shape (N, C, H, W) (batch included) -> one LayerRow per leaf call.

    Rows come in the order the layers run; a layer called twice appears twice, its
    parameters counted on the first row only, so the ``params`` column sums to the
    parameters of the layers that ran (all of them, for the book's models). With
    ``meta=True`` (default) the pass runs on the "meta" device (shapes only), falling
    back to a real pass when a module refuses; ``meta=False`` always runs for real.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"layer_table: model must be an nn.Module, got {type(model)}")
    shape = _check_shape(input_shape)
    seen = None
    if meta:
        try:
            seen = _run(model, shape, "meta")
        except (NotImplementedError, RuntimeError, TypeError, ValueError):
            seen = None  # e.g. a module computing in numpy: run it for real
    if seen is None:
        seen = _run(model, shape, None)
    rows, counted = [], set()
    for name, mod, out in seen:
        params = 0
        if id(mod) not in counted:
            counted.add(id(mod))
            params = sum(p.numel() for p in mod.parameters() if p.requires_grad)
        rows.append(LayerRow(name, type(mod).__name__, _shape_of(out), params))
    return rows


def format_table(rows: list[LayerRow]) -> str:
    """rows from :func:`layer_table` -> aligned text with a total line.

    Parameters get thousands separators: "61,706".
    """
    rows = list(rows)
    if not all(isinstance(r, tuple) and len(r) == 4 for r in rows):
        raise TypeError("format_table: rows must be LayerRow tuples from layer_table")
    head = ("layer", "kind", "output shape", "params")
    body = [(r.name, r.kind, str(tuple(r.output_shape)), f"{r.params:,}") for r in rows]
    total = f"{sum(r.params for r in rows):,}"
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(4)]
    widths[3] = max(widths[3], len(total))

    def fmt(line):
        left = [c.ljust(w) for c, w in zip(line[:3], widths, strict=False)]
        return "  ".join([*left, line[3].rjust(widths[3])]).rstrip()

    rule = "-" * len(fmt(head))
    lines = [fmt(head), rule, *map(fmt, body), rule]
    lines.append(f"{'total parameters'.ljust(len(rule) - widths[3])}{total}")
    return "\n".join(lines)


def summarize(model: nn.Module, input_shape, meta: bool = True) -> str:
    """model, input_shape (N, C, H, W) -> ``format_table(layer_table(...))``."""
    return format_table(layer_table(model, input_shape, meta))
