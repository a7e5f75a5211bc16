"""Interactive explorers (ipywidgets); the book shows a static figure beside each."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from .matrices import conv_output_size
from .shattered_viz import draw_input_gradients
from .transposed_viz import draw_transposed_overlap, transposed_output_size
from .viz import (
    draw_receptive_field2d,
    draw_receptive_fields,
    draw_shift_equivariance,
    draw_sliding_window,
)

BLURS = {"none": None, "[1, 2, 1]": [1, 2, 1], "[1, 4, 6, 4, 1]": [1, 4, 6, 4, 1]}


def _slider(value, lo, hi, label):
    """An integer slider that redraws on release (each redraw makes a figure)."""
    return widgets.IntSlider(
        value=value, min=lo, max=hi, description=label, continuous_update=False
    )


def conv_explorer(n=8, k=3, stride=1, padding=0, dilation=1):
    """Sliders for input size, kernel size, stride, padding and dilation.

    Shows the output size from the formula and the window that one output reads.
    Settings that do not fit print the library's own error message instead.
    """

    def show(n, k, stride, padding, dilation, position):
        try:
            n_out = conv_output_size(n, k, stride, padding, dilation)
        except ValueError as err:
            print(err)
            return
        print("n_out = floor((n + 2p - d(k - 1) - 1) / s) + 1")
        span = dilation * (k - 1)
        print(
            f"      = floor(({n} + {2 * padding} - {span} - 1) / {stride}) + 1"
            f" = {n_out}"
        )
        fig, ax = plt.subplots(figsize=(8, 2.2))
        draw_sliding_window(
            n, k, stride, padding, dilation, min(position, n_out - 1), ax=ax
        )
        plt.show()

    return widgets.interactive(
        show,
        n=_slider(n, 1, 16, "input n"),
        k=_slider(k, 1, 7, "kernel k"),
        stride=_slider(stride, 1, 4, "stride s"),
        padding=_slider(padding, 0, 4, "padding p"),
        dilation=_slider(dilation, 1, 4, "dilation d"),
        position=_slider(0, 0, 15, "output i"),
    )


def receptive_field_explorer(kernel=3, stride=1, pool=1, depth=4):
    """Sliders for a 1D stack (convolution, ReLU, optional average pooling per layer):
    shows, layer by layer, which input samples reach the middle unit."""

    def show(kernel, stride, pool, depth):
        fig, ax = plt.subplots(figsize=(8, 0.5 * depth + 1))
        draw_receptive_fields(kernel, stride, pool, depth, ax=ax)
        plt.tight_layout()
        plt.show()

    return widgets.interactive(
        show,
        kernel=_slider(kernel, 1, 9, "kernel k"),
        stride=_slider(stride, 1, 3, "stride s"),
        pool=_slider(pool, 1, 4, "pool q"),
        depth=_slider(depth, 1, 6, "depth"),
    )


def receptive_field2d_explorer(kernel=3, stride=1, dilation=1, depth=3, pool=1):
    """Sliders for a 2D stack (convolution, ReLU, optional average pooling per
    layer): one panel per layer with the input pixels that reach its middle unit."""

    def show(kernel, stride, dilation, depth, pool):
        draw_receptive_field2d(kernel, stride, pool, depth, dilation)
        plt.tight_layout()
        plt.show()

    return widgets.interactive(
        show,
        kernel=_slider(kernel, 1, 7, "kernel k"),
        stride=_slider(stride, 1, 3, "stride s"),
        dilation=_slider(dilation, 1, 3, "dilation d"),
        depth=_slider(depth, 1, 5, "depth"),
        pool=_slider(pool, 1, 3, "pool q"),
    )


def shift_example(n=48, seed=0):
    """-> x (n,), w (5,): the fixed signal and kernel of :func:`shift_explorer`.

    x is white noise smoothed periodically by a Gaussian of width 1 sample (smooth,
    yet with enough fine detail for a stride to alias), w is standard normal.
    """
    rng = np.random.default_rng(seed)
    z, w = rng.standard_normal(n), rng.standard_normal(5)
    t = np.arange(-3, 4)
    g = np.exp(-(t**2) / 2) / np.exp(-(t**2) / 2).sum()  # (7,), sums to 1
    x = sum(g_t * np.roll(z, t_) for g_t, t_ in zip(g, t, strict=True))  # (n,)
    return x, w


def shift_explorer(shift=0, stride=1, blur="none"):
    """Sliders for the shift v and the stride s, a menu for the blur taps: compares
    f(T_v x) with T_(v/s) f(x) on :func:`shift_example`'s signal (see
    :func:`cnnlib.viz.draw_shift_equivariance`)."""
    x, w = shift_example()

    def show(shift, stride, blur):
        draw_shift_equivariance(x, w, shift, stride, BLURS[blur])
        plt.tight_layout()
        plt.show()

    return widgets.interactive(
        show,
        shift=_slider(shift, -16, 16, "shift v"),
        stride=_slider(stride, 1, 4, "stride s"),
        blur=widgets.Dropdown(options=list(BLURS), value=blur, description="blur"),
    )


def gradient_explorer(depth=10, residual=False, batch_norm=False):
    """A depth slider and two checkboxes (residual blocks, batch norm): dy/dx of
    the network of :func:`cnnlib.shattered.input_gradients` against x, titled with
    the correlation of neighbouring gradients (near 1 smooth, near 0 shattered)."""

    def show(depth, residual, batch_norm):
        fig, ax = plt.subplots(figsize=(7, 2.6))
        draw_input_gradients((depth,), (residual,), axes=ax, batch_norm=batch_norm)
        plt.tight_layout()
        plt.show()

    return widgets.interactive(
        show,
        depth=_slider(depth, 0, 50, "depth D"),
        residual=widgets.Checkbox(value=residual, description="residual"),
        batch_norm=widgets.Checkbox(value=batch_norm, description="batch norm"),
    )


def transposed_conv_explorer(n=6, k=3, stride=2, padding=0):
    """Sliders for input length, kernel size, stride and padding of a transposed
    convolution: prints n_out = (n - 1)·s - 2p + k and the checkerboard scores, and
    draws :func:`cnnlib.transposed_viz.draw_transposed_overlap` (the kernel copies
    in 1D and their sums, and the 2D overlap counts). Settings whose output would be
    empty print the library's own error message instead."""

    def show(n, k, stride, padding):
        try:
            n_out = transposed_output_size(n, k, stride, padding)
        except ValueError as err:
            print(err)
            return
        print("n_out = (n - 1)·s - 2p + k")
        print(f"      = ({n} - 1)·{stride} - {2 * padding} + {k} = {n_out}")
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), width_ratios=[2, 1])
        r = draw_transposed_overlap(n, k, stride, padding, axes=axes)
        if r.score is None:
            print("checkerboard score: no interior (every position is near an end)")
        else:
            print(
                f"checkerboard score (max - min) / max of the interior counts: "
                f"{r.score:.2f} in 1D, {r.score2d:.2f} in 2D"
            )
        plt.tight_layout()
        plt.show()

    return widgets.interactive(
        show,
        n=_slider(n, 2, 10, "input n"),
        k=_slider(k, 1, 7, "kernel k"),
        stride=_slider(stride, 1, 4, "stride s"),
        padding=_slider(padding, 0, 3, "padding p"),
    )
