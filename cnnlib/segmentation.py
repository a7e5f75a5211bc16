"""Dense prediction in NumPy: the U-Net paper's pixel weights, per-class Dice and IoU,
and object counts.

:func:`weight_map` is equation (2) of Ronneberger, Fischer and Brox (MICCAI 2015),

    w(x) = w_c(x) + w0 exp(-(d1(x) + d2(x))² / (2σ²)),

where d1(x) and d2(x) are the distances from pixel x to the nearest and the
second-nearest cell (instance), and w_c balances the class frequencies. The paper
leaves w_c open; here w_c(x) = 1 / (K f_c(x)), with f_c the fraction of pixels of
class c (in this image, or given for the training set) and K the number of classes
with f_c > 0. So every class carries the same total weight and the mean of w_c over
the image is exactly 1. As in the paper, the separation term is added on background
pixels (the gaps between touching cells that the loss must learn), and it vanishes
when an image has fewer than two cells (d2 = ∞). d1 and d2 are Euclidean distances
between pixel centres, from one ``scipy.ndimage.distance_transform_edt`` per cell.

:func:`dice` and :func:`iou` score integer label maps class by class:
Dice_c = 2 |P_c ∩ T_c| / (|P_c| + |T_c|), IoU_c = |P_c ∩ T_c| / |P_c ∪ T_c|, with
P_c and T_c the pixels predicted as and truly of class c, pooled over all the
pixels given (a batch counts as one large image).
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy import ndimage

from ._checks import as_array, check_int


def _labels(x, fn: str, name: str) -> np.ndarray:
    """-> x as an integer ndarray >= 0; TypeError/ValueError naming ``name``."""
    a = as_array(x, fn, name)
    if a.dtype.kind not in "biu":
        raise TypeError(f"{fn}: {name} must hold integer labels, got dtype {a.dtype}")
    a = a.astype(np.int64)
    if a.size and a.min() < 0:
        raise ValueError(f"{fn}: {name} must be >= 0, found {a.min()}")
    return a


def _number(fn: str, name: str, value, positive: bool = False) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{fn}: {name} must be a number, got {value!r}")
    if value < 0 or (positive and value == 0) or not np.isfinite(value):
        need = "> 0" if positive else ">= 0"
        raise ValueError(f"{fn}: {name} must be finite and {need}, got {value!r}")
    return float(value)


def class_weights(classes, freq=None) -> np.ndarray:
    """classes (H, W) integer labels -> w_c (H, W) float64 = 1 / (K f_c(x)).

    f_c: the fraction of pixels of class c in ``classes``, or ``freq[c]`` when a
    frequency per class is given (e.g. ``cell_stats`` of the training masks); K: the
    number of classes with f_c > 0. With the image's own frequencies, the mean is 1.
    """
    fn = "class_weights"
    classes = _labels(classes, fn, "classes")
    if freq is None:
        freq = np.bincount(classes.ravel()) / max(classes.size, 1)
    freq = np.asarray(freq, dtype=np.float64)
    if freq.ndim != 1 or (freq < 0).any() or not np.isfinite(freq).all():
        raise ValueError(f"{fn}: freq must be a 1-D array of frequencies >= 0")
    if classes.size and classes.max() >= len(freq):
        raise ValueError(
            f"{fn}: classes holds label {classes.max()} but freq has only "
            f"{len(freq)} entries"
        )
    if classes.size and (freq[classes] == 0).any():
        raise ValueError(f"{fn}: freq is 0 for a class that occurs in classes")
    k = np.count_nonzero(freq)
    with np.errstate(divide="ignore"):
        w = 1.0 / (k * freq)
    return w[classes]


def cell_distances(instances) -> tuple[np.ndarray, np.ndarray]:
    """instances (H, W) (0 background, 1..K cells) -> (d1, d2), each (H, W) float64:
    the distance to the nearest and the second-nearest cell (0 inside a cell for d1;
    inf where there is no such cell).

    One exact Euclidean distance transform per cell, distance_transform_edt(instances
    != k), keeping the two smallest values per pixel as it goes.
    """
    instances = _labels(instances, "cell_distances", "instances")
    if instances.ndim != 2:
        raise ValueError(
            f"cell_distances: instances must be (H, W), got shape {instances.shape}"
        )
    d1 = np.full(instances.shape, np.inf)
    d2 = np.full(instances.shape, np.inf)
    for k in np.unique(instances[instances > 0]):
        d = ndimage.distance_transform_edt(instances != k)  # (H, W) to cell k
        d2 = np.minimum(d2, np.maximum(d1, d))  # the new second smallest
        d1 = np.minimum(d1, d)
    return d1, d2


def weight_map(
    mask_instances,
    classes=None,
    w0: float = 10.0,
    sigma: float = 5.0,
    *,
    freq=None,
    background_only: bool = True,
) -> np.ndarray:
    """instances (H, W) or (N, H, W) -> w (same shape) float64, the paper's weights:
    w = w_c + w0 exp(-(d1 + d2)² / (2 sigma²)) (see the module docstring).

    mask_instances: 0 background, 1..K one label per cell. classes: the class map
    that w_c balances (same shape, e.g. the 3-class masks of ``make_cells``); by
    default cell (1) vs background (0). freq: class frequencies for w_c instead of
    each image's own (see :func:`class_weights`). The separation term is added on
    background pixels only, as in the paper; ``background_only=False`` adds it
    everywhere (then the walls between touching cells, where d1 = 0 and d2 is small,
    get it too). w0 = 10 and sigma = 5 pixels are the paper's values.
    """
    fn = "weight_map"
    inst = _labels(mask_instances, fn, "mask_instances")
    if inst.ndim not in (2, 3):
        raise ValueError(
            f"{fn}: mask_instances must be (H, W) or (N, H, W), got shape {inst.shape}"
        )
    cls = (
        (inst > 0).astype(np.int64)
        if classes is None
        else _labels(classes, fn, "classes")
    )
    if cls.shape != inst.shape:
        raise ValueError(
            f"{fn}: classes has shape {cls.shape} but mask_instances has {inst.shape}"
        )
    w0, sigma = _number(fn, "w0", w0), _number(fn, "sigma", sigma, positive=True)
    if inst.ndim == 3:  # one image at a time (each with its own frequencies)
        out = np.empty(inst.shape)
        for j, (i, c) in enumerate(zip(inst, cls, strict=True)):
            out[j] = weight_map(
                i, c, w0, sigma, freq=freq, background_only=background_only
            )
        return out
    d1, d2 = cell_distances(inst)
    separation = w0 * np.exp(-((d1 + d2) ** 2) / (2 * sigma**2))  # 0 where d2 = inf
    if background_only:
        separation = np.where(inst == 0, separation, 0.0)
    return class_weights(cls, freq) + separation


def confusion(pred, target, num_classes: int, fn: str = "confusion") -> np.ndarray:
    """pred, target (same shape) labels in [0, num_classes) -> (C, C) int64 counts,
    row = true class, column = predicted class."""
    check_int(num_classes, 1, fn, "num_classes")
    pred, target = _labels(pred, fn, "pred"), _labels(target, fn, "target")
    if pred.shape != target.shape:
        raise ValueError(
            f"{fn}: pred has shape {pred.shape} but target has {target.shape}"
        )
    for name, a in (("pred", pred), ("target", target)):
        if a.size and a.max() >= num_classes:
            raise ValueError(
                f"{fn}: {name} holds label {a.max()}, but num_classes={num_classes} "
                f"allows 0..{num_classes - 1}"
            )
    flat = target.ravel() * num_classes + pred.ravel()
    return np.bincount(flat, minlength=num_classes**2).reshape(num_classes, -1)


def _scores(pred, target, num_classes, smooth, fn, dice_not_iou):
    smooth = _number(fn, "smooth", smooth)
    m = confusion(pred, target, num_classes, fn)
    inter = np.diag(m).astype(np.float64)  # |P_c ∩ T_c|
    size_p, size_t = m.sum(axis=0), m.sum(axis=1)  # |P_c|, |T_c|
    if dice_not_iou:
        num, den = 2 * inter + smooth, size_p + size_t + smooth
    else:
        num, den = inter + smooth, size_p + size_t - inter + smooth
    with np.errstate(invalid="ignore"):
        return num / den  # 0 / 0 = nan: a class in neither map


def dice(pred, target, num_classes: int, smooth: float = 0.0) -> np.ndarray:
    """pred, target integer label maps (same shape) -> (num_classes,) float64:
    Dice_c = (2 |P_c ∩ T_c| + smooth) / (|P_c| + |T_c| + smooth).

    A class absent from both maps gives nan with smooth = 0 (nothing to score: use
    np.nanmean to average), and 1 with smooth > 0.
    """
    return _scores(pred, target, num_classes, smooth, "dice", True)


def iou(pred, target, num_classes: int, smooth: float = 0.0) -> np.ndarray:
    """pred, target integer label maps (same shape) -> (num_classes,) float64:
    IoU_c = (|P_c ∩ T_c| + smooth) / (|P_c ∪ T_c| + smooth) (the Jaccard index;
    Dice = 2 IoU / (1 + IoU) class by class when smooth = 0). A class absent from
    both maps gives nan with smooth = 0, and 1 with smooth > 0.
    """
    return _scores(pred, target, num_classes, smooth, "iou", False)


def count_objects(label_map, cls: int = 1, min_size: int = 1, connectivity: int = 4):
    """label_map (H, W) -> the number of connected regions of class ``cls`` with at
    least ``min_size`` pixels (int); (N, H, W) -> (N,) int64, one count per image.

    Regions are 4-connected (edge neighbours) by default, or 8-connected (corners
    too); scipy.ndimage.label finds them. With the 3-class cell masks, ``cls=1``
    counts cell interiors, which the border class keeps apart where cells touch.
    """
    fn = "count_objects"
    a = _labels(label_map, fn, "label_map")
    check_int(cls, 0, fn, "cls")
    check_int(min_size, 1, fn, "min_size")
    if connectivity not in (4, 8):
        raise ValueError(f"{fn}: connectivity must be 4 or 8, got {connectivity!r}")
    if a.ndim == 3:
        return np.array(
            [count_objects(m, cls, min_size, connectivity) for m in a], np.int64
        )
    if a.ndim != 2:
        raise ValueError(
            f"{fn}: label_map must be (H, W) or (N, H, W), got shape {a.shape}"
        )
    structure = ndimage.generate_binary_structure(2, 1 if connectivity == 4 else 2)
    regions, n = ndimage.label(a == cls, structure)
    sizes = np.bincount(regions.ravel(), minlength=n + 1)[1:]  # pixels per region
    return int(np.count_nonzero(sizes >= min_size))
