"""Synthetic fluorescence-microscopy cells for the U-Net (segmentation) chapter.

:func:`make_cells` draws images of irregular, textured cells, some of them touching,
seen through a blurry, unevenly lit, noisy microscope, together with their exact
ground truth: a 3-class mask (background / cell interior / cell border) and an
instance map. The border class is the U-Net paper's difficulty: where two cells touch,
only a thin band of border pixels tells them apart.

How an image is made (every random number comes from ``np.random.default_rng([seed,
i])``, so image ``i`` depends only on ``seed`` and ``i``):

1. *Geometry.* Cell ``k`` has a centre ``c_k``, a mean radius ``r_k`` and a star-convex
   outline ``R_k(θ) = r_k (1 + Σ_m a_km cos(m θ - φ_km))`` (a few low-frequency Fourier
   terms). Overlaps are resolved by the power diagram: a pixel ``p`` belongs to the
   cell minimising ``|p - c_k|² - r_k²`` (straight shared walls where cells press
   together), and stays that cell's only if it lies inside that cell's outline. Each
   cell is thus a star-convex shape cut by a convex polygon around its centre: one
   piece, with no holes (centres are kept far enough apart for this to hold).
2. *Masks,* from the geometry alone, before any blur or noise (exact labels).
3. *Appearance.* Background level; per cell a brightness, a smooth internal texture, a
   dimmer rim and a darker, off-centre nucleus; Gaussian blur (the optical PSF); a
   smooth illumination field (gradient and vignetting); Poisson shot noise at a random
   photon count plus Gaussian read noise; clipped to ``[0, 1]``.

Only NumPy is used (blurs by FFT).
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from .._checks import check_int

BACKGROUND, INTERIOR, BORDER = 0, 1, 2
CLASS_NAMES = ("background", "interior", "border")
HARMONICS = np.arange(1, 6)  # m = 1..5 in the outline's Fourier series
MAX_AMPLITUDE = np.array([0.08, 0.25, 0.12, 0.07, 0.04])  # a_m ~ U(0, max), per m
ANGLES = 720  # outlines are tabulated every half degree


class CellImages(NamedTuple):
    """What :func:`make_cells` returns; unpack as ``images, masks, instances = ...``.

    images (N, H, W) float32 in [0, 1]; masks (N, H, W) uint8 with 0 = background,
    1 = cell interior, 2 = cell border; instances (N, H, W) int32 with 0 = background
    and 1..K numbering the K cells of each image.
    """

    images: np.ndarray
    masks: np.ndarray
    instances: np.ndarray


def make_cells(
    n,
    size=128,
    seed=0,
    *,
    n_cells=(3, 15),
    radius=(0.05, 0.11),
    touching=0.5,
    border_width=2,
    start=0,
):
    """n images -> CellImages: images (n, size, size), masks and instances (same shape).

    n_cells: (min, max) cells per image, or one int. radius: (min, max) mean cell
    radius as a fraction of ``size`` (0.05-0.11 is 6-14 px at 128). touching: the
    chance that a cell is placed against an earlier one rather than anywhere.
    border_width: pixels of border class inside a cell along the background; where two
    cells touch, each gives ``ceil(border_width / 2)``, so the wall between them is
    about ``border_width`` wide too. The frame's edge is not a border.
    start: index of the first image. Image ``i`` does not depend on ``n``:
    ``make_cells(1, seed=s, start=i)`` is image ``i`` of ``make_cells(n, seed=s)``.

    A cell that finds no room after 20 tries is left out, so crowded settings can give
    fewer than ``n_cells[0]`` cells. Defaults: ~9 cells and ~95% of images with at
    least one touching pair; pixels ~83% background, ~10% interior, ~7% border.
    """
    fn = "make_cells"
    n, size = check_int(n, 1, fn, "n"), check_int(size, 32, fn, "size")
    seed, start = check_int(seed, 0, fn, "seed"), check_int(start, 0, fn, "start")
    lo, hi = _range(n_cells, fn, "n_cells", integer=True, low=1, high=200)
    r_lo, r_hi = _range(radius, fn, "radius", integer=False, low=0.0, high=0.25)
    if r_lo * size < 2:
        raise ValueError(
            f"{fn}: radius[0]={r_lo} gives cells of {r_lo * size:.1f} px at "
            f"size={size}; use radius[0] >= {2 / size:.3g} (2 px) or a larger size"
        )
    touching = _fraction(touching, fn, "touching")
    border_width = check_int(border_width, 1, fn, "border_width")
    images = np.empty((n, size, size), np.float32)
    masks = np.empty((n, size, size), np.uint8)
    instances = np.empty((n, size, size), np.int32)
    for j in range(n):
        rng = np.random.default_rng([seed, start + j])
        cells = _place_cells(rng, size, (lo, hi), (r_lo * size, r_hi * size), touching)
        label, d, nucleus = _rasterise(size, cells)
        instances[j] = label
        masks[j] = _classes(label, border_width)
        images[j] = _render(rng, label, d, nucleus)
    return CellImages(images, masks, instances)


def cell_stats(masks):
    """masks (N, H, W) or (H, W) of classes 0/1/2 -> (3,) pixel fraction per class.

    The class imbalance a U-Net faces (cells are a minority, borders thinner still).
    """
    masks = np.asarray(masks)
    if masks.ndim not in (2, 3) or masks.size == 0:
        raise ValueError(
            f"cell_stats: masks must be (N, H, W) or (H, W), got shape {masks.shape}"
        )
    if not np.issubdtype(masks.dtype, np.integer):
        raise TypeError(f"cell_stats: masks must be integer, got dtype {masks.dtype}")
    if masks.min() < 0 or masks.max() > 2:
        raise ValueError(
            f"cell_stats: masks must hold classes 0, 1, 2; found values from "
            f"{masks.min()} to {masks.max()}"
        )
    return np.bincount(masks.ravel(), minlength=3) / masks.size


def _range(value, fn, name, integer, low, high):
    """A number or a (min, max) pair -> (min, max) with low <= min <= max <= high."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    kind = numbers.Integral if integer else numbers.Real
    if len(pair) != 2 or not all(
        isinstance(v, kind) and not isinstance(v, bool) for v in pair
    ):
        what = "int" if integer else "number"
        raise TypeError(
            f"{fn}: {name} must be a {what} or a (min, max) pair, got {value!r}"
        )
    lo, hi = pair
    if (lo < low if integer else lo <= low) or hi < lo or hi > high:
        rule = f"{low} {'<=' if integer else '<'} min <= max <= {high}"
        raise ValueError(f"{fn}: {name} must be (min, max) with {rule}, got {value!r}")
    return (int(lo), int(hi)) if integer else (float(lo), float(hi))


def _fraction(value, fn, name):
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{fn}: {name} must be a number in [0, 1], got {value!r}")
    if not 0 <= value <= 1:
        raise ValueError(f"{fn}: {name} must be in [0, 1], got {value!r}")
    return float(value)


class _Cells(NamedTuple):
    centre: np.ndarray  # (K, 2) (y, x) in pixels
    r: np.ndarray  # (K,) mean radius
    amp: np.ndarray  # (K, M) Fourier amplitudes a_km of the outline
    phase: np.ndarray  # (K, M) phases φ_km
    nucleus: np.ndarray  # (K, 2) nucleus centre
    nucleus_r: np.ndarray  # (K,) nucleus radius


def _place_cells(rng, size, n_cells, radius, touching, tries=20):
    """-> _Cells with K <= n_cells[1] cells; centres lie inside the frame.

    Centres are kept at least max(r_a, r_b) and 0.75 (r_a + r_b) apart, so every centre
    lies in its own power cell (which keeps each cell one star-convex piece).
    """
    k_wanted = rng.integers(n_cells[0], n_cells[1] + 1)
    r_all = rng.uniform(*radius, size=k_wanted)
    centres, radii = np.empty((k_wanted, 2)), []
    for r in r_all:
        k = len(radii)
        for _ in range(tries):
            if k and rng.random() < touching:  # against a random earlier cell
                j, angle = rng.integers(k), rng.uniform(0, 2 * np.pi)
                gap = (radii[j] + r) * rng.uniform(0.78, 1.0)
                c = centres[j] + gap * np.array([np.sin(angle), np.cos(angle)])
            else:
                c = rng.uniform(0, size - 1, size=2)
            sep = np.hypot(*(centres[:k] - c).T)
            need = np.maximum(0.75 * (np.array(radii) + r), np.maximum(radii, r))
            if np.all((c >= 0) & (c <= size - 1)) and np.all(sep >= need):
                centres[k], radii = c, radii + [r]
                break
    k, r = len(radii), np.array(radii)
    amp = rng.uniform(0, 1, size=(k, len(HARMONICS))) * MAX_AMPLITUDE
    phase = rng.uniform(0, 2 * np.pi, size=(k, len(HARMONICS)))
    offset = rng.uniform(0, 0.25, size=(k, 1)) * r[:, None]
    angle = rng.uniform(0, 2 * np.pi, size=(k, 1))
    nucleus = centres[:k] + offset * np.hstack([np.sin(angle), np.cos(angle)])
    return _Cells(centres[:k], r, amp, phase, nucleus, rng.uniform(0.3, 0.5, k) * r)


def _rasterise(size, cells):
    """-> label (H, W) int (0 = background, k + 1 = cell k), d (H, W) = |p - c| / R(θ)
    of the pixel's cell, nucleus (H, W) = distance to its nucleus / nucleus radius."""
    y = np.arange(size, dtype=float)
    cy, cx = cells.centre.T
    dy2 = (y[:, None] - cy) ** 2 - cells.r**2  # (H, K)
    dx2 = (y[:, None] - cx) ** 2  # (W, K)
    power = dy2[:, None, :] + dx2[None, :, :]  # (H, W, K): |p - c_k|² - r_k²
    k = power.argmin(axis=-1)  # (H, W) the pixel's cell in the power diagram
    dy, dx = y[:, None] - cy[k], y[None, :] - cx[k]  # (H, W) each
    # the outlines R_k(θ) tabulated at ANGLES angles, then looked up per pixel
    theta = np.linspace(-np.pi, np.pi, ANGLES + 1)
    wave = np.cos(HARMONICS[:, None] * theta - cells.phase[:, :, None])  # (K, M, A+1)
    table = cells.r[:, None] * (1 + np.einsum("km,kma->ka", cells.amp, wave))
    a = np.rint((np.arctan2(dy, dx) + np.pi) * (ANGLES / (2 * np.pi))).astype(int)
    outline = table[k, a]  # (H, W)
    d = np.hypot(dy, dx) / outline
    label = np.where(d < 1, k + 1, 0).astype(np.int32)
    ny, nx = cells.nucleus[k].transpose(2, 0, 1)
    nucleus = np.hypot(y[:, None] - ny, y[None, :] - nx) / cells.nucleus_r[k]
    return label, d, nucleus


def _classes(label, border_width):
    """label (H, W) -> mask (H, W) uint8: 0 background, 1 interior, 2 border."""
    near_bg = _dilate(label == 0, border_width)
    h = -(-border_width // 2)  # ceil: each touching cell's share of the wall
    padded = np.pad(label, h, mode="edge")  # the frame's edge is not a border
    H, W = label.shape
    near_other = np.zeros(label.shape, bool)
    for sy in range(2 * h + 1):
        for sx in range(2 * h + 1):
            nb = padded[sy : sy + H, sx : sx + W]
            near_other |= (nb != label) & (nb != 0)
    mask = (label > 0).astype(np.uint8)
    mask[(label > 0) & (near_bg | near_other)] = BORDER
    return mask


def _dilate(a, steps):
    """a (H, W) bool -> True within Chebyshev distance `steps` of a True pixel."""
    a = a.copy()
    for _ in range(steps):  # numpy buffers overlapping in-place operands
        a[1:] |= a[:-1]
        a[:-1] |= a[1:]
        a[:, 1:] |= a[:, :-1]
        a[:, :-1] |= a[:, 1:]
    return a


def _render(rng, label, d, nucleus):
    """label, d, nucleus (H, W) -> image (H, W) float in [0, 1]."""
    size, k = label.shape[0], label.max()
    bright = np.concatenate([[0.0], rng.uniform(0.25, 0.7, k)])  # above background
    dark = np.concatenate([[0.0], rng.uniform(0.25, 0.6, k)])  # nucleus dimming
    sigmas = rng.uniform(0.8, 2.0), rng.uniform(2.5, 5.0), 10.0
    grain, mottle, haze = _smooth_noise(rng, size, sigmas)
    texture = grain + 0.5 * mottle
    in_nucleus = np.clip(2 * (1 - nucleus), 0, 1)
    cell = (1 - 0.4 * d**2) * (1 - dark[label] * in_nucleus)
    cell *= 1 + rng.uniform(0.1, 0.3) * texture
    background = rng.uniform(0.04, 0.2) * (1 + 0.15 * haze)
    clean = background + bright[label] * cell  # bright[0] = 0: background
    clean = _blur(clean, rng.uniform(0.7, 1.6)) * _illumination(rng, size)
    photons = np.exp(rng.uniform(np.log(30), np.log(400)))  # per unit intensity
    noisy = rng.poisson(np.clip(clean, 0, None) * photons) / photons
    read = rng.uniform(0.005, 0.03)  # Gaussian read noise, std in intensity units
    noisy += read * rng.standard_normal(noisy.shape, dtype=np.float32)
    return np.clip(noisy, 0, 1)


def _gaussian_ft(shape, sigma):
    """-> (H, W // 2 + 1): the rfft2 of a Gaussian blur with std `sigma` pixels."""
    fy, fx = np.fft.fftfreq(shape[0]), np.fft.rfftfreq(shape[1])
    gy, gx = (np.exp(-2 * (np.pi * sigma * f) ** 2) for f in (fy, fx))
    return gy[:, None] * gx[None, :]


def _blur(x, sigma):
    """x (H, W) -> x blurred by a Gaussian with std `sigma` px, (H, W); edges mirrored.

    By FFT: a product with a Gaussian matrix would be shorter, but multithreaded BLAS
    on a tiny matrix can be 100x slower on a busy 2-core laptop.
    """
    p = int(np.ceil(4 * sigma))
    xp = np.pad(x, p, mode="reflect")  # (H + 2p, W + 2p)
    out = np.fft.irfft2(np.fft.rfft2(xp) * _gaussian_ft(xp.shape, sigma), s=xp.shape)
    return out[p:-p, p:-p]


def _smooth_noise(rng, size, sigmas):
    """-> one (size, size) field per sigma: the same white noise blurred with std
    sigma (periodically), rescaled to std 1."""
    white = np.fft.rfft2(rng.standard_normal((size, size)))
    fields = []
    for sigma in sigmas:
        f = np.fft.irfft2(white * _gaussian_ft((size, size), sigma), s=(size, size))
        fields.append(f / f.std())
    return fields


def _illumination(rng, size):
    """-> (size, size) smooth field in (0, 1], max 1: a tilt times a vignette."""
    y = np.linspace(-1, 1, size)
    gy, gx = rng.uniform(-0.25, 0.25, 2)
    oy, ox = rng.uniform(-0.6, 0.6, 2)
    field = (1 + gy * y[:, None] + gx * y[None, :]) * np.exp(
        -rng.uniform(0.05, 0.35) * ((y[:, None] - oy) ** 2 + (y[None, :] - ox) ** 2)
    )
    return field / field.max()
