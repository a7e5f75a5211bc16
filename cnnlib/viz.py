"""Figures the chapters share: the sliding window, and matrices drawn as grids."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from .matrices import conv_output_size
from .receptive_field import conv_stack, gradient_map

_INPUT, _PAD, _TAP, _OUT, _ACTIVE = (
    "#dbe9f6",
    "#eeeeee",
    "#f4a259",
    "#d8f0d2",
    "#5cb85c",
)


def _boxes(ax, x0, y, count, colors, labels=None):
    for i in range(count):
        ax.add_patch(
            Rectangle(
                (x0 + i, y), 1, 1, facecolor=colors[i], edgecolor="k", linewidth=0.8
            )
        )
        if labels is not None:
            ax.text(
                x0 + i + 0.5, y + 0.5, labels[i], ha="center", va="center", fontsize=8
            )


def draw_sliding_window(n, k, stride=1, padding=0, dilation=1, position=0, ax=None):
    """Draw one 1D cross-correlation: padded input on top, output below.

    The taps that output ``position`` reads are orange; padding cells are grey.
    Returns the axes. Raises ValueError (from ``conv_output_size``) when the
    kernel does not fit the padded input.
    """
    n_out = conv_output_size(n, k, stride, padding, dilation)
    if not 0 <= position < n_out:
        raise ValueError(f"position must be in [0, {n_out - 1}] (got {position})")
    ax = ax if ax is not None else plt.gca()
    width = n + 2 * padding
    taps = {position * stride + t * dilation for t in range(k)}
    colors = [
        _TAP if i in taps else (_PAD if i < padding or i >= padding + n else _INPUT)
        for i in range(width)
    ]
    labels = [
        ("0" if i < padding or i >= padding + n else f"x{i - padding}")
        for i in range(width)
    ]
    _boxes(ax, 0, 2, width, colors, labels)
    x_out = (width - n_out) / 2  # centre the (shorter) output row
    _boxes(
        ax,
        x_out,
        0,
        n_out,
        [_ACTIVE if j == position else _OUT for j in range(n_out)],
        [f"y{j}" for j in range(n_out)],
    )
    for t in sorted(taps):
        ax.annotate(
            "",
            xy=(x_out + position + 0.5, 1),
            xytext=(t + 0.5, 2),
            arrowprops={"arrowstyle": "->", "color": _TAP, "lw": 1.2},
        )
    ax.set_xlim(-0.5, width + 0.5)
    ax.set_ylim(-0.3, 3.3)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(
        f"n={n}, k={k}, stride={stride}, padding={padding}, dilation={dilation}"
        f"  ->  {n_out} outputs",
        fontsize=9,
    )
    return ax


def show_matrix(m, ax=None, title=None, cmap="RdBu_r"):
    """Draw a matrix as a grid of coloured cells, zeros white, colours symmetric."""
    m = np.asarray(m, dtype=float)
    if m.ndim != 2:
        raise ValueError(f"show_matrix: m must be 2-D, got shape {m.shape}")
    ax = ax if ax is not None else plt.gca()
    vmax = float(np.abs(m).max()) or 1.0
    ax.imshow(m, cmap=cmap, vmin=-vmax, vmax=vmax)
    ax.set_xticks(np.arange(-0.5, m.shape[1], 1), minor=True)
    ax.set_yticks(np.arange(-0.5, m.shape[0], 1), minor=True)
    ax.grid(which="minor", color="0.8", linewidth=0.5)
    ax.tick_params(which="minor", length=0)
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def draw_receptive_fields(kernel, stride, pool, depth, n=64, ax=None):
    """One row per depth: the input samples that reach the middle unit of that layer
    of :func:`cnnlib.receptive_field.conv_stack` (darker = larger gradient), labelled
    with the receptive field r and the number of outputs."""
    ax = ax if ax is not None else plt.gca()
    rows, labels = [], []
    for d in range(1, depth + 1):
        try:
            grad, n_out = gradient_map(conv_stack(kernel, stride, pool, d), n)
        except RuntimeError:  # torch refuses a kernel longer than its input
            labels.append(f"layer {d}: input too short")
            rows.append(np.zeros(n))
            continue
        support = np.flatnonzero(grad)
        labels.append(f"layer {d}: r = {support[-1] - support[0] + 1}, {n_out} outputs")
        rows.append(grad / grad.max())
    ax.imshow(
        np.array(rows),
        cmap="Greens",
        aspect="auto",
        vmin=0,
        vmax=1,
        extent=(-0.5, n - 0.5, depth + 0.5, 0.5),
    )
    ax.set_yticks(range(1, depth + 1), labels, fontsize=8)
    ax.set_xlabel("input sample")
    ax.set_title(f"kernel {kernel}, stride {stride}, pool {pool}", fontsize=9)
    return ax
