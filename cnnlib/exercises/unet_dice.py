"""Checker for the chapter "U-Net and dense prediction": per-class Dice scores.

For integer label maps ``pred`` and ``target`` of the same shape (any shape) and
each class c, with P = (pred == c) and T = (target == c) counted in pixels,

    Dice_c = (2 |P ∩ T| + smooth) / (|P| + |T| + smooth),

so a class absent from both maps scores 1 (for smooth > 0), and smooth = 0 gives the
plain Dice coefficient. The reference and each usual mistake are computed from the
per-class counts; a mistake may give another shape (one pooled number, the classes
without the background). :func:`cnnlib.exercises.unet_judge.judge` names the one
that reproduces the answers in every case.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._core import call, checker, on_layouts
from ._diagnose import as_array
from .unet_judge import judge


def _counts(pred, target, classes):
    """|P ∩ T|, |P|, |T| per class, as float arrays."""
    pred, target = np.asarray(pred), np.asarray(target)
    inter = [np.sum((pred == c) & (target == c)) for c in classes]
    p = [np.sum(pred == c) for c in classes]
    t = [np.sum(target == c) for c in classes]
    return (np.asarray(v, dtype=float) for v in (inter, p, t))


def _dice(pred, target, num_classes, smooth=1.0):
    """pred, target (any shape, the same) -> (num_classes,) Dice scores."""
    inter, p, t = _counts(pred, target, range(num_classes))
    return (2 * inter + smooth) / (p + t + smooth)


def _shifted(pred, target, num_classes, smooth):
    """The scores of classes 1 .. num_classes."""
    pred, target = (np.asarray(a, np.int64) - 1 for a in (pred, target))
    return _dice(pred, target, num_classes, smooth)


def _foreground(pred, target, smooth):
    """One score: label > 0 against label 0."""
    inter, p, t = _counts(np.asarray(pred) > 0, np.asarray(target) > 0, [True])
    return (2 * inter + smooth) / (p + t + smooth)


def _soft(pred, target, smooth):
    """The soft Dice of probability maps, applied to the labels themselves."""
    pred, target = np.asarray(pred, float), np.asarray(target, float)
    return np.array(
        [
            (2 * np.sum(pred * target) + smooth)
            / (np.sum(pred) + np.sum(target) + smooth)
        ]
    )


_COUNT = "count the pixels of class c with pred == c and target == c"


def _dice_mistakes(pred, target, num_classes, smooth):
    """(message, thunk) pairs; some thunks give one number or num_classes - 1."""
    inter, p, t = _counts(pred, target, range(num_classes))
    dice = (2 * inter + smooth) / (p + t + smooth)
    formula = "(2|P ∩ T| + smooth) / (|P| + |T| + smooth)"
    return [
        (
            f"that is IoU (Jaccard), |P ∩ T| / |P ∪ T|; Dice is {formula}",
            lambda: (inter + smooth) / (p + t - inter + smooth),
        ),
        (
            f"smooth is added in the numerator only: Dice is {formula}",
            lambda: (2 * inter + smooth) / (p + t),
        ),
        (
            f"smooth is added in the denominator only: Dice is {formula}",
            lambda: 2 * inter / (p + t + smooth),
        ),
        (
            f"the factor 2 is missing: Dice is {formula} (without the 2 a perfect "
            "prediction scores about 1/2)",
            lambda: (inter + smooth) / (p + t + smooth),
        ),
        (
            f"the factor 2 multiplies smooth too: Dice is {formula}",
            lambda: 2 * (inter + smooth) / (p + t + smooth),
        ),
        (
            "integer division: // rounds each score down (to 0, or 1 for a perfect "
            "one); divide with /",
            lambda: np.floor(dice),
        ),
        (
            "the classes are 0 .. num_classes - 1 (range(num_classes)); you scored "
            "1 .. num_classes",
            lambda: _shifted(pred, target, num_classes, smooth),
        ),
        (
            "a class absent from both maps scores (0 + smooth) / (0 + smooth) = 1 "
            "(nothing to find, nothing predicted): do not special-case it",
            lambda: np.where(p + t == 0, 0.0, dice),
        ),
        (
            "pooled over the classes: one score, (2 Σ|P ∩ T| + smooth) / (Σ|P| + "
            "Σ|T| + smooth); return one score per class, shape (num_classes,)",
            lambda: np.array([(2 * inter.sum() + smooth) / (2 * p.sum() + smooth)]),
        ),
        (
            "averaged over the classes (the mean Dice): return the score of every "
            "class, shape (num_classes,)",
            lambda: np.array([dice.mean()]),
        ),
        (
            "that is the score of the background (class 0) only: return the score of "
            "every class, shape (num_classes,)",
            lambda: dice[:1],
        ),
        (
            "the background (class 0) is a class too: return num_classes scores, "
            "class 0 first",
            lambda: dice[1:],
        ),
        (
            "foreground against background (label > 0) gives one score: return the "
            f"score of every class; {_COUNT}",
            lambda: _foreground(pred, target, smooth),
        ),
        (
            "pred and target hold class labels (0 .. num_classes - 1), not "
            "probabilities: sum(pred * target) multiplies labels (the soft Dice of "
            f"probability maps); {_COUNT}",
            lambda: _soft(pred, target, smooth),
        ),
    ]


def _describe(pred, num_classes, smooth) -> str:
    shown = "" if smooth is None else f", smooth={smooth}"
    return f"pred of shape {pred.shape}, num_classes={num_classes}{shown}"


def _shape_message(got, num_classes) -> str:
    if got.size == 1:
        return (
            f"return one Dice score per class, shape ({num_classes},), not a single "
            "number"
        )
    return f"the scores should have shape ({num_classes},), got {got.shape}"


def _dice_answer(fn, pred, target, num_classes, smooth=None):
    kwargs = {} if smooth is None else {"smooth": smooth}
    got = as_array(call(fn, pred, target, num_classes, **kwargs), "the scores")
    return got.reshape(1) if got.ndim == 0 else got


def _dice_mistakes_of(pred, target, num_classes, smooth=None):
    return _dice_mistakes(pred, target, num_classes, 1.0 if smooth is None else smooth)


def _dice_reference(pred, target, num_classes, smooth=None):
    return _dice(pred, target, num_classes, 1.0 if smooth is None else smooth)


def _judge_dice(fn, cases):
    """Run the cases; raise ExerciseError naming the mistake if one is wrong."""
    answers = [(case, _dice_answer(fn, *case)) for case in cases]
    judge(
        answers,
        _dice_reference,
        _dice_mistakes_of,
        lambda pred, target, c, smooth: _describe(pred, c, smooth),
        lambda got, pred, target, c, smooth: _shape_message(got, c),
        "the scores",
    )


def _dice_cases():
    """(pred, target, num_classes, smooth): the default smooth first, then an absent
    class, 1-D, a perfect prediction, smooth = 0, a class missing from pred, uint8
    masks and a single pixel."""
    rng = np.random.default_rng(10)
    pred, target = rng.integers(0, 3, (6, 7)), rng.integers(0, 3, (6, 7))
    target[:2] = pred[:2]  # some overlap beyond chance
    cases = [(pred, target, 3, None)]
    pred = rng.integers(0, 3, (2, 5, 4))  # class 3 in neither map: scores 1
    cases.append((pred, np.where(rng.random((2, 5, 4)) < 0.6, pred, 0), 4, 0.5))
    cases.append((rng.integers(0, 2, 10), rng.integers(0, 2, 10), 2, 0.25))
    same = rng.integers(0, 3, (4, 4))
    cases.append((same, same.copy(), 3, 1.0))
    pred = rng.integers(0, 3, (2, 1, 5, 5))  # every class in both: plain Dice
    pred[0, 0, 0, :3] = [0, 1, 2]
    cases.append((pred, np.roll(pred, 1, axis=-1), 3, 0.0))
    target = rng.integers(0, 3, (5, 6))  # class 2 only in target
    cases.append((np.minimum(target, 1), target, 3, 1.5))
    pred = rng.integers(0, 5, (8, 8)).astype(np.uint8)
    cases.append((pred, rng.integers(0, 5, (8, 8)).astype(np.uint8), 5, 2.5))
    cases.append((np.array([1]), np.array([0]), 2, 1.0))
    return cases


_DICE_CASES = _dice_cases()


@checker("dice_scores")
def check_dice(fn: Callable) -> str:
    """Check ``fn(pred, target, num_classes, smooth=1.0)``: integer label maps pred
    and target of the same shape -> the (num_classes,) Dice scores, entry c being
    (2|P ∩ T| + smooth) / (|P| + |T| + smooth) with P = (pred == c), T = (target ==
    c)."""
    _judge_dice(fn, _DICE_CASES)
    pred, target, num_classes, smooth = _DICE_CASES[0]
    on_layouts(lambda p: _judge_dice(fn, [(p, target, num_classes, smooth)]), pred)
    on_layouts(lambda t: _judge_dice(fn, [(pred, t, num_classes, smooth)]), target)
    return (
        f"{len(_DICE_CASES)} pairs of label maps (1-D to 4-D, uint8 masks, absent "
        "classes, smooth = 0) give (2|P ∩ T| + smooth) / (|P| + |T| + smooth) per "
        "class."
    )
