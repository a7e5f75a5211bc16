"""Diagnoses shared by the checkers: name the mistake, not just "expected X, got Y".

* :func:`verdict` compares an array answer with the reference: wrong dtype (an int
  array truncates, float32 drops digits), then the exercise's own list of mistakes,
  then the standard variants of the reference (:func:`standard_variant`: transposed,
  reversed, sign flipped, shifted by one, scaled by a named factor, offset), and
  only then the worst entry;
* :func:`explain` finds the mistakes (one, or two together) that turn a formula into
  the reader's answers on every case: the formula takes switches, one per mistake;
* :func:`edge_sign` judges an edge detector's response along its edge (one sign,
  both signs, the wrong sign or none), for the edge-kernel exercises.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable

import numpy as np

from ._core import ExerciseError

RTOL, ATOL = 1e-7, 1e-9  # float64 answers differ by rounding only, far below this


def close(got, want) -> bool:
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        return False
    scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
    with np.errstate(all="ignore"):
        return bool(np.allclose(got, want, rtol=RTOL, atol=ATOL * scale))


def as_array(raw, what: str = "your result") -> np.ndarray:
    """The reader's answer as a numeric array (a torch tensor is fine), or an error."""
    if hasattr(raw, "detach"):
        raw = raw.detach().cpu().numpy()
    try:
        got = np.asarray(raw)
    except (TypeError, ValueError) as err:
        raise ExerciseError(f"{what} is not an array of numbers: {err}") from None
    if got.dtype.kind not in "biuf":
        raise ExerciseError(
            f"{what} should be an array of numbers, got {type(raw).__name__} of "
            f"dtype {got.dtype}"
        )
    return got


def dtype_problem(got, want) -> str | None:
    """Integer results where the answer has fractions; float32 or float16."""
    kind, name = got.dtype.kind, got.dtype.name
    if kind in "biu" and not np.allclose(want, np.round(want)):
        i = np.unravel_index(int(np.argmax(np.abs(want - np.round(want)))), want.shape)
        value = f" ({want[i]:.4g} became {got[i]})" if got.shape == want.shape else ""
        return (
            f"your result is an integer array ({name}), so fractions were cut off"
            f"{value}: create it as a float array (np.zeros(n) is float64, while "
            "np.zeros_like(x) copies x's dtype, an int one if x holds integers)"
        )
    if kind == "f" and got.dtype.itemsize < 8:
        return (
            f"your result is {name}, which keeps about "
            f"{7 if got.dtype.itemsize == 4 else 3} significant digits; the inputs are "
            "float64: compute in float64 (torch tensors default to float32)"
        )
    return None


def worst(got, want) -> str:
    """Where ``got`` is furthest from ``want``, as a phrase."""
    got, want = np.asarray(got, float), np.asarray(want, float)
    i = np.unravel_index(int(np.argmax(np.abs(got - want))), want.shape)
    where = "[" + ", ".join(str(int(j)) for j in i) + "]"
    return f"entry {where} is {got[i]:.6g}, expected {want[i]:.6g}"


def _shift(a, axis, by):
    out = np.zeros_like(a)
    src = [slice(None)] * a.ndim
    dst = [slice(None)] * a.ndim
    src[axis] = slice(0, a.shape[axis] - by) if by > 0 else slice(-by, None)
    dst[axis] = slice(by, None) if by > 0 else slice(0, a.shape[axis] + by)
    out[tuple(dst)] = a[tuple(src)]
    return out


def _axis(a, axis) -> str:
    return "" if a.ndim == 1 else f" along axis {axis}"


def _reshaped(want) -> Iterable[tuple[str, np.ndarray]]:
    if want.ndim == 2 and want.shape[0] == want.shape[1]:
        yield "transposed: rows and columns are swapped", want.T
    for axis in range(want.ndim):
        if want.shape[axis] > 1:
            yield (
                f"reversed{_axis(want, axis)}: first and last swap",
                np.flip(want, axis),
            )
    yield "the sign is flipped: every value has the wrong sign", -want
    for axis, by in itertools.product(range(want.ndim), (1, -1)):
        if want.shape[axis] > 1:
            way = "later" if by > 0 else "earlier"
            yield (
                f"off by one: every value sits one position {way}{_axis(want, axis)}",
                _shift(want, axis, by),
            )


def _factor(got, want, factors: dict) -> str | None:
    """'every value is c times too large', naming c when it is one of ``factors``."""
    nonzero = np.abs(want) > 1e-9 * max(1.0, float(np.max(np.abs(want))))
    if not nonzero.any() or not close(got[~nonzero], 0 * want[~nonzero]):
        return None
    ratio = got[nonzero] / want[nonzero]
    c = float(np.median(ratio))
    if not np.allclose(ratio, c, rtol=1e-6) or np.isclose(c, 1) or np.isclose(c, 0):
        return None
    for name, value in factors.items():
        if np.isclose(c, value):
            return f"every value is {name} = {value:.4g} times too large"
        if np.isclose(c, 1 / value):
            return f"every value is divided by {name} = {value:.4g}; it should not be"
    return f"every value is {c:.4g} times the right one: a factor is wrong"


def standard_variant(got, want, factors: dict | None = None) -> str | None:
    """Name the usual slip that turns ``want`` into ``got``, if one does."""
    if got.shape != want.shape:
        return None
    if not got.any() and want.any():
        return (
            "your result is all zeros: nothing reached it (a loop that never runs, "
            "or values written into a copy)"
        )
    for message, variant in _reshaped(want):
        if close(got, variant):
            return message
    message = _factor(got, want, factors or {})
    if message:
        return message
    offset = got - want
    if want.size > 1 and np.allclose(offset, offset.flat[0], rtol=0, atol=1e-9):
        return f"every value is off by the same amount, {offset.flat[0]:.4g}"
    return None


def first_match(got, candidates: Iterable[tuple[str, Callable]], same=None):
    """The message of the first candidate whose thunk reproduces ``got`` (compared
    with ``same(got, value)``, :func:`close` by default), or None."""
    same = same or close
    for message, make in candidates:
        try:
            with np.errstate(all="ignore"):
                value = make()
        except (ValueError, IndexError, ZeroDivisionError, FloatingPointError):
            continue
        if value is not None and same(got, np.asarray(value, float)):
            return message
    return None


def _roughly(got, value) -> bool:
    """Equal up to float32 rounding, or up to truncation to integers."""
    if got.dtype.kind in "biu":
        return close(got, np.trunc(value))
    return got.shape == value.shape and bool(np.allclose(got, value, rtol=1e-5))


def verdict(raw, want, candidates=(), factors=None, what="the result") -> str | None:
    """None when ``raw`` is right, otherwise what is wrong with it (shape checked by
    the caller). ``candidates``: (message, thunk) pairs, the exercise's mistakes."""
    got, want = as_array(raw, what), np.asarray(want, float)
    if got.shape != want.shape:
        return f"{what} should have shape {want.shape}, got {got.shape}"
    low_precision = got.dtype.kind == "f" and got.dtype.itemsize < 8
    if close(got, want) and not low_precision:
        return None
    candidates = list(candidates)
    problem = dtype_problem(got, want)
    if problem:
        also = None if _roughly(got, want) else first_match(got, candidates, _roughly)
        return problem + (f"; besides, {also}" if also else "")
    got = got.astype(float)
    found = first_match(got, candidates) or standard_variant(got, want, factors)
    return found or worst(got, want)


def explain(observed, formula: Callable, switches: dict, size: int = 2, same=None):
    """The mistakes (messages of ``switches``) that reproduce every observed answer.

    ``observed``: [(case, answer)]; ``formula(*case, **flags)``; ``switches``: message
    -> flags. Single mistakes are tried first, then pairs. None if nothing fits.
    ``same(answer, value)`` compares (``==`` by default; :func:`close` for arrays).
    """
    items = list(switches.items())
    for r in range(1, size + 1):
        for combo in itertools.combinations(items, r):
            flags = {}
            for _, f in combo:
                flags.update(f)
            if len(flags) < sum(len(f) for _, f in combo):
                continue  # two settings of the same switch
            if all(
                _predicts(formula, case, flags, got, same) for case, got in observed
            ):
                return [message for message, _ in combo]
    return None


def _predicts(formula, case, flags, got, same=None) -> bool:
    try:
        with np.errstate(all="ignore"):
            value = formula(*case, **flags)
    except (ValueError, ZeroDivisionError, IndexError):
        return False
    return bool(same(got, value)) if same else value == got


def join(messages) -> str:
    """Several mistakes in one sentence."""
    if len(messages) == 1:
        return messages[0]
    return "two mistakes: (1) " + "; (2) ".join(messages)


def edge_sign(response, edge: str, fix: str) -> str | None:
    """None when the response along ``edge`` is >= 0 and somewhere > 0.

    ``fix`` says where the positive weights go, for a sign or a both-signs answer.
    """
    response = np.asarray(response, float)
    tol = 1e-9 * max(1.0, float(np.max(np.abs(response))))
    top, bottom = response.max(), response.min()
    if top <= tol and bottom >= -tol:
        return f"no response to {edge}"
    if top <= tol:
        return (
            f"sign flipped: the response to {edge} is negative; it should be positive "
            f"({fix}; a kernel written for true convolution is turned by 180 degrees, "
            "which flips this sign)"
        )
    if bottom < -tol:
        return (
            f"it responds with both signs along {edge} (from {bottom:.3g} to "
            f"{top:.3g}): that finds lines (a ridge), not edges, and it is also "
            f"positive on the opposite edge; {fix}"
        )
    return None


def count_variant(observed, reference: Callable) -> str | None:
    """Generic slips in whole-number answers: int32 overflow, off by a constant
    amount or factor in every case. ``observed``: [(case, answer)]."""
    pairs = [(reference(*case), got) for case, got in observed]
    answers, wants = {got for _, got in pairs}, {want for want, _ in pairs}
    if len(answers) == 1 and len(wants) > 1:
        return f"you return {answers.pop()} whatever the arguments"
    wrong = [(want, got) for want, got in pairs if got != want]
    if wrong and all(got == ((want + 2**31) % 2**32) - 2**31 for want, got in wrong):
        return (
            "the count overflowed: a 32-bit integer (np.int32) wraps around past "
            "2**31 - 1; use Python ints or np.int64"
        )
    offsets = {got - want for want, got in wrong}
    if wrong and len(offsets) == 1 and len(wrong) == len(pairs):
        d = offsets.pop()
        what = "one" if abs(d) == 1 else f"{abs(d):g}"
        return f"every answer is {what} too {'large' if d > 0 else 'small'}"
    ratios = {round(got / want, 9) for want, got in wrong if want}
    if wrong and len(ratios) == 1 and len(wrong) == len(pairs):
        return f"every answer is {ratios.pop():g} times the right one"
    return None


WINDOWS = "a window fits a whole number of times, so take the floor (// rounds down)"


def whole(got, where: str, want_int: bool = False, fraction: str = "") -> int:
    """The reader's count or size as an int; a fraction (or, with ``want_int``, any
    float) is an ExerciseError whose message ends with ``fraction`` (a hint)."""
    number = int | float | np.integer | np.floating
    if isinstance(got, bool) or not isinstance(got, number):
        raise ExerciseError(f"{where}: return a number, got {got!r}")
    if isinstance(got, float | np.floating):
        if not float(got).is_integer():
            hint = fraction or "a count is a whole number"
            raise ExerciseError(f"{where}: returned {got}, a fraction: {hint}")
        if want_int:
            raise ExerciseError(
                f"{where}: returned {got!r}, a float: return an int (// keeps ints "
                "ints; np.floor and / give floats)"
            )
    return int(got)


def formula_verdict(observed, reference, formula, switches, describe) -> str | None:
    """None when every answer is right; otherwise the named mistake(s), with one
    wrong case as an example. ``describe(case)`` names a case."""
    wrong = [(case, got) for case, got in observed if got != reference(*case)]
    if not wrong:
        return None
    found = explain(observed, formula, switches)
    message = join(found) if found else count_variant(observed, reference)
    case, got = wrong[0]
    example = f"{describe(case)}: expected {reference(*case)}, got {got}"
    return f"{message} (e.g. {example})" if message else example


def kernel3x3(raw) -> np.ndarray:
    """The reader's kernel as a float 3x3 array, or an ExerciseError."""
    k = as_array(raw, "the kernel")
    if k.shape != (3, 3):
        raise ExerciseError(f"return a 3x3 kernel, got shape {k.shape}")
    return k.astype(float)


def switch_candidates(case, formula: Callable, switches: dict, size: int = 2):
    """(message, thunk) pairs for :func:`verdict`: ``formula(*case, **flags)`` for
    each mistake in ``switches`` (message -> flags), then for each pair of them."""
    items = list(switches.items())
    for r in range(1, size + 1):
        for combo in itertools.combinations(items, r):
            flags = {}
            for _, f in combo:
                flags.update(f)
            if len(flags) == sum(len(f) for _, f in combo):
                message = join([m for m, _ in combo])
                yield message, lambda flags=flags: formula(*case, **flags)
