"""Transposed convolutions and checkerboard artifacts (chapter 09; Odena, Dumoulin
and Olah 2016, "Deconvolution and checkerboard artifacts").

A transposed convolution with stride s stamps one copy of its kernel (k taps) into
the output for every input sample, the copies s positions apart. When s does not
divide k the copies overlap unevenly: with an all-ones input and kernel, the output
positions away from the ends receive ceil(k/s) or floor(k/s) taps in a pattern that
repeats every s positions, stripes in 1D and a checkerboard in 2D.
:func:`overlap_counts` computes those numbers with :func:`cnnlib.conv_transpose1d` /
:func:`cnnlib.conv_transpose2d`, :func:`checkerboard_score` condenses them into one,
and :func:`draw_transposed_overlap` draws them.
"""

from __future__ import annotations

from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np

from ._checks import as_array, check_int, is_int
from .conv import conv_transpose1d, conv_transpose2d

_STAMP, _CROP, _INTERIOR = "#dbe9f6", "0.85", "C3"


def _check_sizes(fn, n, k, stride, padding):
    """-> (n, k, stride, padding, n_out), with a message naming the argument."""
    n, k = check_int(n, 1, fn, "n"), check_int(k, 1, fn, "k")
    stride = check_int(stride, 1, fn, "stride")
    padding = check_int(padding, 0, fn, "padding")
    n_out = (n - 1) * stride - 2 * padding + k
    if n_out < 1:
        most = ((n - 1) * stride + k - 1) // 2
        raise ValueError(
            f"{fn}: output size (n - 1)·s - 2p + k = ({n} - 1)·{stride} - "
            f"{2 * padding} + {k} = {n_out} must be >= 1; padding must be at most "
            f"{most} here, got {padding}"
        )
    return n, k, stride, padding, n_out


def transposed_output_size(n, k, stride=1, padding=0):
    """n, k (ints) -> int: n_out = (n - 1)·s - 2p + k

    The output length of a transposed convolution (torch's ConvTranspose1d with
    dilation 1 and output_padding 0): the conv1d that maps n_out back to n is the
    one it transposes.
    """
    return _check_sizes("transposed_output_size", n, k, stride, padding)[-1]


def overlap_border(k, stride, padding=0):
    """k, s, p (ints) -> int: max(k - s - p, 0), the output positions at each end
    that miss taps because there is no input sample before the first (or after the
    last) one.

    Sample i puts tap t at position i·s + t - p, so position j would get a tap from
    the missing sample i = -1 when j + s + p <= k - 1. Between the two ends every
    position j gets all its taps, t ≡ j + p (mod s), so the counts repeat with
    period s there: the interior that :func:`checkerboard_score` measures.
    """
    fn = "overlap_border"
    k, stride = check_int(k, 1, fn, "k"), check_int(stride, 1, fn, "stride")
    padding = check_int(padding, 0, fn, "padding")
    return max(k - stride - padding, 0)


def overlap_counts(n, k, stride, padding=0, ndim=1):
    """n, k, s, p (ints) -> counts (n_out,) for ndim=1, (n_out, n_out) for ndim=2

    counts[j] is the number of kernel taps that land on output position j: the
    transposed convolution (stride s, padding p) of an all-ones input (n,) or (n, n)
    with an all-ones kernel (k,) or (k, k), as int64. In 2D it is the outer product
    of the 1D counts with themselves.
    """
    fn = "overlap_counts"
    n, k, stride, padding, _ = _check_sizes(fn, n, k, stride, padding)
    if not is_int(ndim):
        raise TypeError(f"{fn}: ndim must be 1 or 2, got {ndim!r}")
    if ndim not in (1, 2):
        raise ValueError(f"{fn}: ndim must be 1 or 2, got {ndim}")
    x = np.ones((1, 1) + (n,) * ndim)  # (N=1, C_in=1, n[, n])
    w = np.ones((1, 1) + (k,) * ndim)  # (C_in=1, C_out=1, k[, k])
    op = conv_transpose1d if ndim == 1 else conv_transpose2d
    y = op(x, w, stride=stride, padding=padding)[0, 0]  # (n_out,) or (n_out, n_out)
    return np.rint(y).astype(np.int64)  # sums of ones: exact in float64


def checkerboard_score(y, border=0):
    """y (L,) or (H, W), non-negative -> float in [0, 1]:
    (max - min) / max of y after cutting ``border`` entries from both ends of
    every axis.

    0 when the interior is flat, 1 when it has holes (zeros). Meant for the overlap
    counts (with ``border=overlap_border(k, s, p)``) or the response of a transposed
    convolution to a constant input: that interior repeats with period s, and once
    it holds a whole period the score of the counts is 1 - floor(k/s) / ceil(k/s)
    (0 when s divides k, 1/2 for k = 3, s = 2; in 2D 1 - (floor/ceil)², 3/4 for
    the checkerboard of 1, 2 and 4 taps).
    """
    fn = "checkerboard_score"
    if y is None:
        raise TypeError(f"{fn}: y must be an array, got None")
    y = as_array(y, fn, "y").astype(np.float64)
    if y.ndim not in (1, 2) or 0 in y.shape:
        raise ValueError(f"{fn}: y must be 1-D or 2-D and not empty, got {y.shape}")
    border = check_int(border, 0, fn, "border")
    if 2 * border >= min(y.shape):
        raise ValueError(
            f"{fn}: border {border} at both ends leaves nothing of y {y.shape}"
        )
    if not np.isfinite(y).all():
        raise ValueError(f"{fn}: y holds NaN or infinite values")
    if (y < 0).any():
        raise ValueError(
            f"{fn}: y must be non-negative (overlap counts, or the response to a "
            f"constant input), got a minimum of {y.min():g}"
        )
    inner = y[tuple(slice(border, m - border) for m in y.shape)]
    top = inner.max()
    if top == 0:
        raise ValueError(f"{fn}: y is zero between the borders; nothing to compare")
    return float((top - inner.min()) / top)


class Overlap(NamedTuple):
    """What :func:`draw_transposed_overlap` drew; score(2d) is None when the output
    has no interior (2·border >= n_out)."""

    counts: np.ndarray  # (n_out,)
    counts2d: np.ndarray  # (n_out, n_out)
    n_out: int
    border: int
    score: float | None
    score2d: float | None
    axes: tuple


def _score(y, border):
    return checkerboard_score(y, border) if 2 * border < len(y) else None


def _fmt(score):
    return "no interior" if score is None else f"checkerboard {score:.2f}"


def _stamps(ax, n, k, stride, padding, counts, border, cmap):
    """One row per input sample i (its kernel at i·s - p .. i·s - p + k - 1), the
    summed counts below; positions cropped by the padding are shaded."""
    n_out = len(counts)
    for i in range(n):
        start = i * stride - padding
        taps = start + np.arange(k) - 0.5
        ax.barh(n - i, 1, left=taps, height=0.7, color=_STAMP, ec="k", lw=0.6)
    colors = cmap(counts / max(counts.max(), 1))
    ax.barh(-1, 1, left=np.arange(n_out) - 0.5, height=0.9, color=colors, ec="k")
    if n_out <= 24:
        for j, c in enumerate(counts):
            tone = "k" if c > 0.6 * counts.max() else "w"
            ax.text(j, -1, c, ha="center", va="center", fontsize=7, color=tone)
    for lo, hi in ((-padding, 0), (n_out, n_out + padding)):
        if hi > lo:
            ax.axvspan(lo - 0.5, hi - 0.5, color=_CROP, zorder=0, lw=0)
    if 2 * border < n_out:
        ax.plot([border - 0.5, n_out - border - 0.5], [-1.75, -1.75], color=_INTERIOR)
    ax.set_yticks([*range(n, 0, -1), -1], [*(f"x{i}" for i in range(n)), "sum"])
    ax.set_xlim(-padding - 0.7, n_out + padding - 0.3)
    ax.set_ylim(-2.1, n + 0.6)
    step = 1 if n_out + 2 * padding <= 24 else 5
    ax.set_xticks(range(0, n_out, step))
    ax.set_xlabel("output position j (grey: cropped by padding, red: interior)")
    ax.tick_params(labelsize=7, length=2)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)


def _grid(ax, counts2d, border, cmap):
    n_out = len(counts2d)
    ax.imshow(counts2d, cmap=cmap, vmin=0, vmax=max(counts2d.max(), 1))
    if n_out <= 16:
        for (r, c), v in np.ndenumerate(counts2d):
            tone = "k" if v > 0.6 * counts2d.max() else "w"
            ax.text(c, r, v, ha="center", va="center", fontsize=6, color=tone)
    if 2 * border < n_out:
        side = n_out - 2 * border
        box = plt.Rectangle(
            (border - 0.5,) * 2, side, side, fill=False, ec=_INTERIOR, lw=1.5
        )
        ax.add_patch(box)
    ax.set_xlabel("output column")
    ax.set_ylabel("output row")
    ax.tick_params(labelsize=7, length=2)


def draw_transposed_overlap(n=6, k=3, stride=2, padding=0, axes=None):
    """-> :class:`Overlap`: how the kernel copies of a transposed convolution add up.

    Left, 1D: one row per input sample x_i with its stamp of the k-tap kernel on the
    output axis (shifted by s per row), and the summed overlap counts below. Right,
    2D: the counts of a k×k kernel with stride s in both directions as an image, a
    checkerboard when s does not divide k. Draws on ``axes`` (2 axes; new ones when
    None).
    """
    fn = "draw_transposed_overlap"
    n, k, stride, padding, n_out = _check_sizes(fn, n, k, stride, padding)
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9, 3.2), width_ratios=[2, 1])
    axes = tuple(np.ravel(axes))
    if len(axes) != 2:
        raise ValueError(f"{fn}: axes must hold 2 axes, got {len(axes)}")
    counts = overlap_counts(n, k, stride, padding)
    counts2d = overlap_counts(n, k, stride, padding, ndim=2)
    border = overlap_border(k, stride, padding)
    score, score2d = _score(counts, border), _score(counts2d, border)
    cmap = plt.get_cmap("viridis")
    _stamps(axes[0], n, k, stride, padding, counts, border, cmap)
    axes[0].set_title(
        f"1D: n = {n}, k = {k}, s = {stride}, p = {padding}, n_out = {n_out}: "
        f"{_fmt(score)}",
        fontsize=9,
    )
    _grid(axes[1], counts2d, border, cmap)
    axes[1].set_title(f"2D, {k}×{k} kernel: {_fmt(score2d)}", fontsize=9)
    return Overlap(counts, counts2d, n_out, border, score, score2d, axes)
