"""Checkers for the chapter "U-Net and dense prediction".

Cropping a skip connection is checked here; the size of the valid U-Net's output
and of a transposed convolution's in :mod:`cnnlib.exercises.unet_sizes`, the
per-class Dice scores in :mod:`cnnlib.exercises.unet_dice` (all re-exported here).
Array answers are judged over all cases at once (:mod:`cnnlib.exercises.unet_judge`).

The references are written out in these modules with NumPy (and torch in the tests),
so the checkers do not depend on :mod:`cnnlib.models.unet`.

The crop follows the U-Net convention: an ``h x w`` window of an ``H x W`` map
starts at row ``(H - h) // 2`` and column ``(W - w) // 2``, so when ``H - h`` is odd
the extra row is dropped at the bottom (and the extra column at the right). A crop
may be returned as a view of the input (slicing does that); changing the input is a
mistake.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._core import call, checker, on_layouts
from ._diagnose import as_array
from .unet_dice import check_dice
from .unet_judge import judge
from .unet_sizes import check_transposed_output_size, check_valid_unet_size

__all__ = [
    "check_center_crop",
    "check_dice",
    "check_transposed_output_size",
    "check_valid_unet_size",
]

# --------------------------------------------------------------------------------------
# Exercise: the centre crop of a skip connection

_START = {  # where a crop of m out of M samples starts: the rule, then the slips
    "floor": lambda M, m: (M - m) // 2,
    "ceil": lambda M, m: (M - m + 1) // 2,
    "round": lambda M, m: round((M - m) / 2),
    "corner": lambda M, m: 0,
    "end": lambda M, m: M - m,
}
_RULE = "the crop starts at row (H - h) // 2 and column (W - w) // 2"


def _crop(skip, h, w, rows="floor", cols="floor"):
    """skip (N, C, H, W) -> (N, C, h, w); ``rows``/``cols`` name a start rule."""
    H, W = skip.shape[-2:]
    top, left = _START[rows](H, h), _START[cols](W, w)
    return skip[:, :, top : top + h, left : left + w]


_START_MISTAKES = {
    "ceil": (
        "off by one: when the difference is odd the extra row (column) is dropped at "
        f"the bottom (right): {_RULE}, rounded down; you started at (H - h + 1) // 2"
    ),
    "corner": (
        "you cropped one side only: that is the top-left corner skip[:, :, :h, :w]; "
        f"the crop is centred: {_RULE}"
    ),
    "end": (
        "you cropped one side only: that is the bottom-right corner "
        f"skip[:, :, H - h:, W - w:]; the crop is centred: {_RULE}"
    ),
}
_AXIS = {
    (True, False): " (in the rows; your columns are right)",
    (False, True): " (in the columns; your rows are right)",
}


def _crop_dims_swapped(skip, h, w):
    """The crop with H read from axis 3 and W from axis 2."""
    W, H = skip.shape[-2:]
    top, left = (H - h) // 2, (W - w) // 2
    return skip[:, :, top : top + h, left : left + w]


def _crop_mistakes(skip, h, w):
    """(message, thunk) pairs; the thunks may give arrays of other shapes."""
    H, W = skip.shape[-2:]
    dh, dw = H - h, W - w
    yield (
        "round((H - h) / 2) rounds halves to even (torchvision's center_crop does "
        "that), so for some odd differences the extra row or column is dropped at the "
        f"top or left; the U-Net convention rounds down: {_RULE}",
        lambda: _crop(skip, h, w, "round", "round"),
    )
    for rule, message in _START_MISTAKES.items():
        for on_rows, on_cols in ((True, True), (True, False), (False, True)):
            rows, cols = rule if on_rows else "floor", rule if on_cols else "floor"
            yield (
                message + _AXIS.get((on_rows, on_cols), ""),
                lambda rows=rows, cols=cols: _crop(skip, h, w, rows, cols),
            )
    yield (
        "H and W are swapped: skip is (N, C, H, W), so the height is skip.shape[2] "
        "and the width skip.shape[3]",
        lambda: _crop_dims_swapped(skip, h, w),
    )
    yield (
        "h and w are swapped: size is (h, w), height first: the crop has h rows "
        "(axis 2) and w columns (axis 3)",
        lambda: _crop(skip, w, h),
    )
    yield (
        "cutting (H - h) // 2 from both ends leaves one row (column) too many when the "
        "difference is odd: take h rows from top = (H - h) // 2, "
        "skip[:, :, top:top + h, left:left + w]",
        lambda: skip[:, :, dh // 2 : H - dh // 2, dw // 2 : W - dw // 2],
    )
    yield (
        "cutting (H - h + 1) // 2 from both ends leaves one row (column) too few when "
        "the difference is odd: take h rows from top = (H - h) // 2, "
        "skip[:, :, top:top + h, left:left + w]",
        lambda: skip[:, :, (dh + 1) // 2 : H - (dh + 1) // 2][
            ..., (dw + 1) // 2 : W - (dw + 1) // 2
        ],
    )


def _shape_message(got, skip, h, w) -> str:
    N, C, H, W = skip.shape
    want = (N, C, h, w)
    if got.shape == skip.shape:
        return f"nothing was cropped: the result has skip's shape {skip.shape}"
    whole_map = got.ndim == 4 and got.shape[2:] == (H, W)
    if whole_map or got.shape[:2] != (N, C):
        return (
            f"you cropped the wrong axes: the result has shape {got.shape}, not "
            f"{want}. skip is (N, C, H, W): keep the batch and channel axes whole and "
            "crop axes 2 and 3, skip[:, :, top:top + h, left:left + w]"
        )
    if 0 in got.shape and (h == H or w == W):
        return (
            f"your crop is empty (shape {got.shape}): nothing is to be cut here "
            f"(h == H or w == W), and a slice such as skip[..., t:-t] or "
            f"skip[..., top:-bottom] is empty when the number after the minus is 0 "
            f"(-0 is 0); slice top:top + h instead"
        )
    return f"the crop should have shape {want}, got {got.shape}"


def _describe_crop(skip, size) -> str:
    return f"skip of shape {skip.shape}, size={size}"


def _crop_mistakes_of(skip, size):
    return _crop_mistakes(skip, *size)


def _judge_crops(fn, cases):
    """Run the cases; raise ExerciseError naming the mistake if one is wrong."""
    answers = [(case, as_array(call(fn, *case), "the crop")) for case in cases]
    judge(
        answers,
        lambda skip, size: _crop(skip, *size),
        _crop_mistakes_of,
        _describe_crop,
        lambda got, skip, size: _shape_message(got, skip, *size),
        "the crop",
    )


def _crop_cases():
    """(skip, (h, w)): odd differences first (they tell the rounding apart), the
    U-Net's 64 -> 56, a square input with a wide crop, no crop along one axis, no
    crop at all, and a 1 x 1 crop."""
    rng = np.random.default_rng(9)
    shapes = [  # N, C, H, W, h, w
        (2, 3, 9, 12, 6, 7),
        (2, 1, 7, 10, 2, 3),
        (1, 2, 64, 64, 56, 56),  # the paper's skip x4: 64 x 64 cropped to 56 x 56
        (1, 2, 8, 8, 4, 6),
        (1, 2, 6, 9, 3, 3),
        (1, 3, 5, 6, 5, 3),  # h == H: the rows stay whole
        (3, 2, 8, 5, 3, 5),  # w == W
        (2, 2, 6, 6, 6, 6),  # nothing to crop
        (1, 1, 4, 5, 1, 1),
    ]
    return [(rng.standard_normal((n, c, H, W)), (h, w)) for n, c, H, W, h, w in shapes]


_CROP_CASES = _crop_cases()


@checker("center_crop")
def check_center_crop(fn: Callable) -> str:
    """Check ``fn(skip, size)``: skip (N, C, H, W), size (h, w) with h <= H and
    w <= W -> the (N, C, h, w) window starting at row (H - h) // 2 and column
    (W - w) // 2 (for an odd difference the extra row and column are dropped at the
    bottom and the right). A view of skip is fine; changing skip is not."""
    _judge_crops(fn, _CROP_CASES)
    skip, size = _CROP_CASES[0]
    on_layouts(lambda s: _judge_crops(fn, [(s, size)]), skip)
    return (
        f"{len(_CROP_CASES)} crops start at ((H - h) // 2, (W - w) // 2), the U-Net "
        "convention (the extra row and column of an odd difference are dropped at "
        "the bottom and the right)."
    )
