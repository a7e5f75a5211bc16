"""Checker for the chapter "Equivariance and invariance": rotating a p4 feature map.

The answer is cnnlib.groups.rotate_p4: every plane turned by r·90° and the rotation
axis shifted cyclically by r. A wrong answer is almost always another pair (turn of
the planes, shift of the axis), maybe with mirrored planes, or the shift along the
wrong axis; the checker finds the pair and names it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import torch

from ..groups import rotate_p4
from ._core import ExerciseError, call, checker, on_layouts
from ._diagnose import as_array, first_match, verdict


def _rotate_p4(y, r):
    """y (..., 4, H, W) -> the rotation by r·90°, from cnnlib.groups.rotate_p4."""
    return rotate_p4(torch.from_numpy(np.ascontiguousarray(y, float)), r).numpy()


def _turned(y, a, b, mirror=False, axis=-3):
    """Every plane (transposed first if ``mirror``) turned by a·90°, then ``axis``
    rolled by b."""
    planes = np.swapaxes(y, -1, -2) if mirror else y
    return np.roll(np.rot90(planes, a, axes=(-2, -1)), b, axis=axis)


_RIGHT = (
    "rotate every plane with np.rot90(y, r, axes=(-2, -1)) and move plane s to "
    "s + r with np.roll(..., r, axis=-3)"
)


def _pair_message(a, b, r) -> str:
    """Name the slip that turns the planes by a·90° and shifts the axis by b."""
    q, back = r % 4, -r % 4
    if not 0 <= r < 4 and a == b:
        did = "left y unchanged" if a == 0 else f"rotated by {a}·90°"
        return (
            f"r is not taken modulo 4: for r = {r} your function {did}, but a "
            f"rotation by {r}·90° is the one by (r % 4)·90° = {q}·90° (Python's "
            "r % 4 is in 0 .. 3, for negative r too)"
        )
    if a == b == 0:
        return f"you returned y unchanged: {_RIGHT}"
    if a == q and b == 0:
        return (
            "the planes are rotated but the rotation axis is not shifted: plane s "
            "must also move to plane s + r (np.roll(..., r, axis=-3))"
        )
    if a == q and b == back:
        return (
            "the rotation axis is shifted the wrong way (by -r): plane s moves to "
            "s + r, np.roll(..., r, axis=-3)"
        )
    if a == back and b == q:
        return (
            "the planes are rotated the wrong way (clockwise, by -r·90°): turn them "
            "as the input turns, np.rot90(plane, r, axes=(-2, -1))"
        )
    if a == back and b == back:
        return f"you applied the inverse rotation, by -r·90°: {_RIGHT}"
    if a == 0 and b == q:
        return (
            "the rotation axis is shifted but the planes are not rotated: every "
            "plane must also turn by r·90° (np.rot90(y, r, axes=(-2, -1)))"
        )
    return (
        f"every plane is turned by {a}·90° and the rotation axis shifted by {b}; "
        f"both should be r % 4 = {q}"
    )


def _p4_mistakes(y, r):
    q = r % 4
    for a, b in itertools.product(range(4), range(4)):
        if (a, b) != (q, q):
            yield _pair_message(a, b, r), lambda a=a, b=b: _turned(y, a, b)
    mirrored = (
        "the planes are mirrored (transposed or flipped), not rotated: a turn by "
        f"90° is a transpose AND a flip; {_RIGHT}"
    )
    for a, b in itertools.product(range(4), range(4)):
        yield mirrored, lambda a=a, b=b: _turned(y, a, b, mirror=True)
    for axis in range(y.ndim):
        if axis != y.ndim - 3:
            yield (
                f"the roll is along axis {axis}: the rotation axis is axis -3 (the "
                "one of length 4 just before H and W), whatever the leading axes",
                lambda axis=axis: _turned(y, q, q, axis=axis),
            )
    yield (
        "np.rot90(y, r) turns the FIRST two axes; the planes are the last two: "
        "np.rot90(y, r, axes=(-2, -1))",
        lambda: np.roll(np.rot90(y, q), q, axis=-3),
    )


def _call_p4(fn, y, r):
    try:
        return call(fn, y, r)
    except ExerciseError as err:
        if 0 <= r < 4 or isinstance(err.__cause__, ExerciseError | None):
            raise
        raise ExerciseError(
            f"{err}\nFor r = {r}: a rotation by r·90° is the one by (r % 4)·90°; "
            "take r % 4 first (it is in 0 .. 3, for negative r too)"
        ) from None


def _check_p4_case(fn, y, r):
    got = as_array(_call_p4(fn, y, r))
    want = _rotate_p4(y, r)
    if got.shape == want.shape:
        message = verdict(got, want, _p4_mistakes(y, r))
    else:
        odd = " (a turn by an odd multiple of 90° swaps H and W)" if r % 2 else ""
        message = first_match(got.astype(float), _p4_mistakes(y, r)) or (
            f"the result should have shape {want.shape}{odd}, got {got.shape}"
        )
    if message:
        raise ExerciseError(f"(y of shape {y.shape}, r={r}): {message}")


def _p4_cases():
    rng = np.random.default_rng(4)
    shapes = [
        ((4, 3, 5), 1),  # H != W: a quarter turn swaps them
        ((2, 4, 4, 4), 3),
        ((1, 2, 4, 3, 2), 2),
        ((3, 4, 5, 5), 0),
        ((4, 2, 3), 5),  # r not in 0 .. 3
        ((2, 4, 3, 4), -1),
    ]
    return [(rng.standard_normal(shape), r) for shape, r in shapes]


_P4_CASES = _p4_cases()


@checker("rotate_p4_np")
def check_rotate_p4(fn: Callable) -> str:
    """Check ``fn(y, r)``: y (..., 4, H, W) -> the p4 feature map rotated by r·90°:
    every plane turned as np.rot90(y, r, axes=(-2, -1)), plane s moved to s + r."""
    for y, r in _P4_CASES:
        _check_p4_case(fn, y, r)
    on_layouts(lambda y: _check_p4_case(fn, y, 1), _P4_CASES[0][0])
    rs = ", ".join(str(r) for _, r in _P4_CASES)
    return (
        f"agrees with cnnlib.groups.rotate_p4 for r = {rs}, on square and "
        "non-square planes, with and without leading axes."
    )
