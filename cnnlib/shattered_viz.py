"""Figures for shattered gradients (chapter 08): dy/dx against x for networks of
several depths, plain and residual (see :mod:`cnnlib.shattered`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ._checks import check_int
from .shattered import gradient_correlation, input_gradients


def _as_tuple(v):
    return tuple(v) if isinstance(v, (list, tuple, np.ndarray)) else (v,)


def _check_panels(fn, depths, residual):
    depths, residual = _as_tuple(depths), _as_tuple(residual)
    if not depths or not residual:
        raise ValueError(f"{fn}: depths and residual must not be empty")
    depths = tuple(check_int(d, 0, fn, "depths[i]") for d in depths)
    for r in residual:
        if not isinstance(r, (bool, np.bool_)):
            raise TypeError(f"{fn}: residual must hold True or False, got {r!r}")
    return depths, tuple(bool(r) for r in residual)


def _panel(ax, x, grad, corr, title):
    # deep plain nets with batch norm reach |dy/dx| ~ 1e5: plot in units of 10^k,
    # stated inside the panel (matplotlib's offset text would hit the title)
    top = np.abs(grad).max()
    k = 0 if 1e-2 <= top < 1e3 else int(np.floor(np.log10(top)))
    ax.plot(x, grad / 10.0**k, lw=0.8, color="C0")
    ax.axhline(0, color="0.7", lw=0.5)
    if k:
        ax.text(0.02, 0.96, f"× 1e{k}", transform=ax.transAxes, va="top", fontsize=7)
    ax.set_title(f"{title}: corr {round(corr, 2) + 0.0:.2f}", fontsize=9)
    ax.tick_params(labelsize=7)


def draw_input_gradients(depths=(1, 5, 20), residual=(False, True), axes=None, **kw):
    """-> correlations (len(residual), len(depths)): one panel of dy/dx against x per
    network, a row per value of ``residual`` and a column per depth, each titled
    with :func:`~cnnlib.shattered.gradient_correlation` of its gradient.

    ``kw`` go to :func:`~cnnlib.shattered.input_gradients` (batch_norm, seed,
    width, ...); draws on ``axes`` (as many as panels; new ones when None).
    """
    fn = "draw_input_gradients"
    depths, residual = _check_panels(fn, depths, residual)
    rows, cols = len(residual), len(depths)
    if axes is None:
        _, axes = plt.subplots(
            rows, cols, figsize=(2.8 * cols, 2.1 * rows), squeeze=False
        )
    axes = np.ravel(axes)
    if len(axes) != rows * cols:
        raise ValueError(
            f"{fn}: axes must hold {rows * cols} axes ({rows} x {cols}), "
            f"got {len(axes)}"
        )
    norm = ", BN" if kw.get("batch_norm") else ""
    corrs = np.empty((rows, cols))
    for i, r in enumerate(residual):
        for j, d in enumerate(depths):
            x, grad = input_gradients(d, r, **kw)
            corrs[i, j] = gradient_correlation(grad)
            ax = axes[i * cols + j]
            kind = "residual" if r else "plain"
            _panel(ax, x, grad, corrs[i, j], f"{kind}{norm}, D = {d}")
            if i == rows - 1:
                ax.set_xlabel("input x")
            if j == 0:
                ax.set_ylabel("dy/dx")
    return corrs
