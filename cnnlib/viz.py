"""Figures the chapters share: the sliding window, matrices drawn as grids, receptive
fields, filters and feature maps, and how a strided convolution treats a shift."""

from __future__ import annotations

from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from ._checks import as_float, check_int, check_layout, is_int
from .conv import conv1d
from .grad import relative_error
from .matrices import conv_output_size
from .receptive_field import (
    conv_stack,
    conv_stack2d,
    gradient_map,
    gradient_map2d,
    rf_formula,
)

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
    ax.set_title(
        f"kernel k = {kernel}, stride s = {stride}, pool q = {pool}", fontsize=9
    )
    return ax


def draw_receptive_field2d(
    kernel=3, stride=1, pool=1, depth=3, dilation=1, size=None, axes=None
):
    """One panel per layer l = 1..depth of :func:`cnnlib.receptive_field.conv_stack2d`:
    the input pixels that reach the middle unit of layer l (darker = more paths),
    boxed, with r (the side of the box) and the jump j from the formula.

    ``size`` (input H = W) defaults to the last layer's receptive field plus a
    margin, at most 64. Returns the axes.
    """
    specs = []
    for _ in range(depth):
        specs.append((kernel, stride, dilation))
        if pool > 1:
            specs.append((pool, pool, 1))
    steps = rf_formula(specs)  # (r, j) after every conv and pool
    per_layer = steps[1::2] if pool > 1 else steps  # after each block
    r_last, j_last = per_layer[-1]
    size = size or int(np.clip(r_last + max(2 * j_last, 4), 12, 64))
    if axes is None:
        _, axes = plt.subplots(1, depth, figsize=(2.3 * depth, 2.6), squeeze=False)
    axes = np.ravel(axes)
    for d, ax in enumerate(axes[:depth], start=1):
        r, j = per_layer[d - 1]
        ax.set_xticks([])
        ax.set_yticks([])
        # the unit whose field [u j, u j + r - 1] is nearest the input's centre
        u = max(0, round((size - r) / (2 * j)))
        try:
            grad, _ = gradient_map2d(
                conv_stack2d(kernel, stride, pool, d, dilation), size, (u, u)
            )
        except ValueError:
            ax.set_title(f"layer {d}: r = {r} > {size}", fontsize=8)
            ax.text(0.5, 0.5, "no unit fits", ha="center", transform=ax.transAxes)
            continue
        ax.imshow(grad / grad.max(), cmap="Greens", vmin=0, vmax=1)
        rows, cols = np.flatnonzero(grad.any(1)), np.flatnonzero(grad.any(0))
        ax.add_patch(
            Rectangle(
                (cols[0] - 0.5, rows[0] - 0.5),
                cols[-1] - cols[0] + 1,
                rows[-1] - rows[0] + 1,
                fill=False,
                edgecolor=_TAP,
                linewidth=1.5,
            )
        )
        if size <= 32:
            ax.set_xticks(np.arange(-0.5, size, 1), minor=True)
            ax.set_yticks(np.arange(-0.5, size, 1), minor=True)
            ax.grid(which="minor", color="0.85", linewidth=0.3)
            ax.tick_params(which="minor", length=0)
        ax.set_title(f"layer {d}: r = {r}, j = {j}", fontsize=8)
    axes[0].set_ylabel(f"input {size} x {size} pixels", fontsize=8)
    return axes


def _grid(count, ncols, cell=1.2):
    ncols = max(1, min(ncols, count))
    nrows = -(-count // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(cell * ncols, cell * nrows + 0.4), squeeze=False
    )
    for ax in axes.flat:
        ax.axis("off")
    return fig, axes.flat


def _numpy(a, name, ndims):
    a = a.detach().cpu().numpy() if hasattr(a, "detach") else np.asarray(a)
    if a.ndim not in ndims:
        raise ValueError(f"{name} has shape {a.shape}")
    return a.astype(float)


def show_filters(weight, ncols=8, channel=None, title=None):
    """weight (C_out, C_in, kH, kW) -> figure, one cell per filter.

    Filters with 3 input channels are drawn as RGB images (each stretched to
    [0, 1]); otherwise input channel ``channel`` (default 0) with a diverging map,
    zero white, one colour scale for all filters so that they compare.
    """
    try:
        w = _numpy(weight, "weight", (4,))
    except ValueError as err:
        raise ValueError(
            f"show_filters: expected (C_out, C_in, kH, kW); {err}"
        ) from None
    rgb = w.shape[1] == 3 and channel is None
    fig, axes = _grid(len(w), ncols, cell=0.9)
    vmax = float(np.abs(w).max()) or 1.0
    for i, ax in enumerate(axes):
        if i >= len(w):
            break
        if rgb:
            f = w[i].transpose(1, 2, 0)  # (kH, kW, 3)
            ax.imshow((f - f.min()) / (np.ptp(f) or 1.0))
        else:
            ax.imshow(w[i, channel or 0], cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        ax.set_title(str(i), fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    return fig


def show_feature_maps(maps, ncols=8, max_maps=32, title=None, cmap="viridis"):
    """maps (C, H, W) or (1, C, H, W) -> figure with the first ``max_maps`` channels,
    each on its own colour scale, labelled with its channel index."""
    try:
        m = _numpy(maps, "maps", (3, 4))
    except ValueError as err:
        raise ValueError(f"show_feature_maps: expected (C, H, W); {err}") from None
    if m.ndim == 4:
        if m.shape[0] != 1:
            raise ValueError(
                f"show_feature_maps: pass one image's maps (C, H, W), got {m.shape}"
            )
        m = m[0]
    m = m[:max_maps]
    fig, axes = _grid(len(m), ncols)
    for c, ax in enumerate(axes):
        if c >= len(m):
            break
        ax.imshow(m[c], cmap=cmap)
        ax.set_title(f"channel {c}", fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    return fig


def show_heatmap(image, heat, ax=None, alpha=0.5, title=None, cmap="inferno"):
    """image (H, W) or (C, H, W), heat (H, W) -> axes: the heat map (saliency,
    occlusion) drawn over the image, grey or RGB."""
    img = _numpy(image, "image", (2, 3))
    heat = _numpy(heat, "heat", (2,))
    if img.ndim == 3:
        img = img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0)
    if img.shape[:2] != heat.shape:
        raise ValueError(
            f"show_heatmap: image {img.shape[:2]} and heat {heat.shape} differ"
        )
    ax = ax if ax is not None else plt.gca()
    img = (img - img.min()) / (np.ptp(img) or 1.0)
    ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
    ax.imshow(heat, cmap=cmap, alpha=alpha)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=8)
    return ax


class ShiftEquivariance(NamedTuple):
    """What :func:`draw_shift_equivariance` measured (feature maps (n / s,))."""

    y: np.ndarray  # g(x): the feature map of x
    y_shifted: np.ndarray  # g(T_v x): the feature map of the shifted input
    predicted: np.ndarray  # T_u g(x), u = v / s, or the best whole shift u
    out_shift: int  # u
    error: float  # relative_error(predicted, y_shifted)
    error_fractional: float  # against g(x) shifted by v / s, band-limited
    axes: np.ndarray  # the three panels


def _periodic_conv1d(x, w):
    """x (n,), w (k,) -> (n,): y[i] = sum_t w[t] x[(i + t) mod n], via conv1d."""
    x_wrap = np.concatenate([x, x[: len(w) - 1]])  # (n + k - 1,)
    return conv1d(x_wrap[None, None], w[None, None])[0, 0]


def _feature_map(x, w, stride, blur):
    """g(x): periodic w ⋆ x, blurred by the (normalised, centred) taps if any,
    then every stride-th value (Zhang 2019's BlurPool when blur is given)."""
    y = _periodic_conv1d(x, w)  # (n,)
    if blur is not None:
        y = _periodic_conv1d(np.roll(y, len(blur) // 2), blur / blur.sum())
    return y[::stride]  # (n / s,)


def _fourier_shift(y, u):
    """y (m,) periodic, u real -> (m,): y delayed by u samples, band-limited
    (sinc) interpolation between samples; np.roll(y, u) when u is whole."""
    k = np.fft.fftfreq(len(y)) * len(y)  # (m,) frequencies, Nyquist as -m/2
    return np.fft.ifft(np.fft.fft(y) * np.exp(-2j * np.pi * k * u / len(y))).real


def _check_shift_args(x, w, shift, stride, blur):
    fn = "draw_shift_equivariance"
    x, w = as_float(x, fn, "x", np.float64), as_float(w, fn, "w", np.float64)
    check_layout(x, 1, "(n,)", fn, "x")
    check_layout(w, 1, "(k,)", fn, "w")
    if len(w) > len(x):
        raise ValueError(f"{fn}: w {w.shape} is longer than x {x.shape}")
    if not is_int(shift):
        raise TypeError(f"{fn}: shift must be an int, got {shift!r}")
    stride = check_int(stride, 1, fn, "stride")
    if len(x) % stride:
        raise ValueError(
            f"{fn}: the length of x {x.shape} must be a multiple of stride "
            f"{stride}, or the strided output is not periodic"
        )
    if blur is not None:
        blur = as_float(blur, fn, "blur", np.float64)
        if blur.ndim != 1 or len(blur) % 2 == 0 or len(blur) > len(x):
            raise ValueError(
                f"{fn}: blur must be 1-D taps of odd length at most {len(x)} "
                f"(like [1, 2, 1]), got shape {blur.shape}"
            )
        if blur.sum() == 0:
            raise ValueError(f"{fn}: blur taps sum to 0 and cannot be normalised")
    return x, w, int(shift), stride, blur


def _measure_shift(x, w, v, s, blur):
    y, y_shifted = _feature_map(x, w, s, blur), _feature_map(np.roll(x, v), w, s, blur)
    m = len(y)
    if v % s == 0:
        u = v // s
    else:  # the whole output shift that comes closest, as a signed shift
        u = min(range(m), key=lambda u: relative_error(np.roll(y, u), y_shifted))
        u = u - m if u > m // 2 else u
    predicted = np.roll(y, u)
    error = relative_error(predicted, y_shifted)
    fractional = relative_error(_fourier_shift(y, v / s), y_shifted)
    return y, y_shifted, predicted, u, error, fractional


def _draw_shift(axes, x, v, s, measured, title):
    y, y_shifted, predicted, u, _, _ = measured
    top, mid, bottom = axes
    i, j = np.arange(len(x)), np.arange(len(y)) * s  # output j sits at input s·j
    top.plot(i, x, ".-", color="0.6", label="$x$")
    top.plot(i, np.roll(x, v), ".-", color="C0", label=f"$T_{{{v}}}\\,x$")
    top.set_title(f"input x (n = {len(x)}, periodic), shifted by v = {v}", fontsize=9)
    mid.plot(j, y_shifted, "o-", color="C0", label=f"$g(T_{{{v}}}\\,x)$")
    what = "equivariance predicts" if v % s == 0 else "best whole shift"
    mid.plot(j, predicted, "x--", color="C3", label=f"$T_{{{u}}}\\,g(x)$: {what}")
    if v % s:
        label = f"$T_{{{v / s:g}}}\\,g(x)$: band-limited shift"
        mid.plot(j, _fourier_shift(y, v / s), ":", color="C2", lw=2, label=label)
    mid.set_title(title, fontsize=9)
    bottom.stem(j, y_shifted - predicted, basefmt="k-")
    bottom.set_title(f"difference $g(T_{{{v}}}\\,x) - T_{{{u}}}\\,g(x)$", fontsize=9)
    bottom.set_xlabel("input sample i (output j sits at i = s·j)")
    for ax in (top, mid):  # outside, on the right: the curves fill the panels
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))


def draw_shift_equivariance(x, w, shift, stride=1, blur=None, axes=None):
    """x (n,) periodic, w (k,), shift v -> ShiftEquivariance (feature maps (n / s,)).

    g(x) is the periodic cross-correlation w ⋆ x, blurred with the normalised taps
    ``blur`` (e.g. [1, 2, 1]) when given, keeping every s-th value. Stride 1 is
    exactly equivariant, g(T_v x) = T_v g(x); stride s only for shifts v that are
    multiples of s, g(T_v x) = T_(v/s) g(x). For other shifts the middle panel
    compares g(T_v x) with the best whole output shift u of g(x) (``error``) and
    with g(x) shifted by v / s with band-limited interpolation
    (``error_fractional``, small when the blur has removed the aliasing); the
    bottom panel shows g(T_v x) - T_u g(x). Draws on three ``axes`` (new when None).
    """
    x, w, v, s, blur = _check_shift_args(x, w, shift, stride, blur)
    measured = _measure_shift(x, w, v, s, blur)
    error, fractional = measured[4:]
    if axes is None:
        _, axes = plt.subplots(3, 1, figsize=(9.5, 6), sharex=True)
    axes = np.ravel(axes)
    if len(axes) != 3:
        raise ValueError(
            f"draw_shift_equivariance: axes must hold 3 axes, got {len(axes)}"
        )
    taps = "" if blur is None else f", blur [{', '.join(f'{t:g}' for t in blur)}]"
    title = f"g: k = {len(w)}, stride s = {s}{taps}; relative error {error:.2g}"
    if v % s:
        title += f" (whole shift), {fractional:.2g} (band-limited)"
    _draw_shift(axes, x, v, s, measured, title)
    return ShiftEquivariance(*measured, axes)
