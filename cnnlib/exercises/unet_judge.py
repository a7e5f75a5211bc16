"""How the chapter "U-Net and dense prediction" judges array answers.

A checker runs the reader's function on every case first and then names the mistake
that reproduces the answers in ALL of them: one matching only the first wrong case
could name the wrong slip (two rounding rules agree on some sizes, two smoothing
slips on a class present in both maps). A mistake's answer may have another shape
than the reference (one pooled number instead of one per class, a crop of the
wrong axes). When the dtype is the problem (an integer array, float32), that is
what is said.
"""

from __future__ import annotations

import numpy as np

from ._core import ExerciseError
from ._diagnose import close, dtype_problem, verdict


def judge(answers, want_of, mistakes_of, describe, shape_message, what):
    """Raise ExerciseError for the first wrong answer, naming the mistake that
    reproduces every answer (:func:`consistent_mistake`) unless the dtype is the
    problem; else what :func:`verdict` or ``shape_message(got, *case)`` says.
    ``answers``: [(case, answer array)]; ``want_of(*case)``: the reference."""
    wrong = []
    for case, got in answers:
        want = want_of(*case)
        if got.shape != want.shape:
            wrong.append((case, shape_message(got, *case), False))
            continue
        message = verdict(got, want, what=what)
        if message:
            wrong.append((case, message, dtype_problem(got, want) is not None))
    if wrong:
        case, message, dtype = wrong[0]
        found = None if dtype else consistent_mistake(answers, mistakes_of)
        raise ExerciseError(f"{describe(*case)}: {found or message}")


def consistent_mistake(answers, mistakes_of) -> str | None:
    """The first mistake that reproduces the reader's answer in EVERY case, or None.

    ``answers``: [(case, answer array)]; ``mistakes_of(*case)``: (message, thunk)
    pairs whose thunks may give arrays of any shape. A mistake that matches the
    first wrong case only would name the wrong slip (two rounding rules agree on
    some sizes), hence every case.
    """
    found = None
    for case, got in answers:
        got = got.astype(float)
        matching = [m for m, make in mistakes_of(*case) if _gives(got, make)]
        found = matching if found is None else [m for m in found if m in matching]
        if not found:
            return None
    return found[0] if found else None


def _gives(got, make) -> bool:
    try:
        with np.errstate(all="ignore"):
            value = np.asarray(make(), float)
    except (ValueError, IndexError, ZeroDivisionError, FloatingPointError):
        return False
    if got.shape != value.shape or (np.isnan(got) != np.isnan(value)).any():
        return False  # a mistake may divide 0 by 0 (smooth = 0, an absent class)
    return close(np.where(np.isnan(got), 0, got), np.where(np.isnan(value), 0, value))
