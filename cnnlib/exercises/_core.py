"""What every checker shares: the error type, calling the reader's code, reporting.

Each ``check_*`` function runs the reader's function on cases chosen so that the
usual mistakes give different answers (a flipped kernel, an off-by-one border,
padding on one side only, a forgotten stride), then:

* returns ``True`` and prints a short confirmation when every case is right;
* returns ``False`` and prints ``not implemented yet`` when the function still
  raises ``NotImplementedError`` (the student edition's stubs do);
* raises :class:`ExerciseError` (an ``AssertionError``) with a diagnosis otherwise,
  so a notebook run with a wrong solution fails loudly.

Every call goes through :func:`call`, which hands the reader's function fresh copies
of its arguments (same values, same memory layout) and afterwards compares them with
the originals: a function that changes its inputs in place is told so, whatever its
exercise. :func:`noncontiguous` and :func:`on_layouts` rerun a case with the same
values stored non-contiguously (a strided or transposed view), which catches code
that assumes ``ravel`` or ``reshape`` returns a view. The diagnoses themselves (the
standard variants of a reference, formulas with switchable mistakes) are in
:mod:`cnnlib.exercises._diagnose`.

The reference answers come from cnnlib's own, tested, operations. Each chapter's
checkers live in a module of their own (``conv.py`` for "Convolution from first
principles", ...); this package exports them all.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable

import numpy as np

NOT_IMPLEMENTED = "not implemented yet"


class ExerciseError(AssertionError):
    """A wrong answer, with a message that says what looks wrong."""


class StubNotImplemented(Exception):
    pass


# --------------------------------------------------------------------------------------
# Memory layouts


def noncontiguous(a):
    """The values of ``a`` stored non-contiguously: every other element of a larger
    buffer for 1-D arrays (like ``x[::2]``), a transposed view for 2-D and more."""
    a = np.asarray(a)
    if a.ndim == 0:
        return a.copy()
    if a.ndim >= 2:
        return np.ascontiguousarray(a.transpose()).transpose()
    buffer = np.zeros(2 * a.size, dtype=a.dtype)
    buffer[::2] = a
    return buffer[::2]


def layout_name(a) -> str:
    if a.ndim >= 2:
        return "a transposed view, like a.T of a contiguous array"
    return "a strided view, like every other element x[::2] of a longer array"


def _fresh(a):
    """A copy for the reader's function, with ``a``'s values and memory layout."""
    if isinstance(a, np.ndarray):
        return a.copy() if a.flags.c_contiguous else noncontiguous(a)
    if isinstance(a, list | tuple | dict | set):
        return copy.deepcopy(a)
    return a


def on_layouts(check_case: Callable, *args) -> None:
    """Rerun ``check_case(*args)`` with every array argument non-contiguous.

    Call it after the contiguous cases passed: a failure here is about the layout.
    """
    arrays = [a for a in args if isinstance(a, np.ndarray) and a.ndim]
    if not arrays:
        return
    strided = [noncontiguous(a) if any(a is b for b in arrays) else a for a in args]
    try:
        check_case(*strided)
    except ExerciseError as err:
        raise ExerciseError(
            f"{err}\nThis happened with the same values stored non-contiguously in "
            f"memory ({layout_name(arrays[0])}); on contiguous arrays your function "
            "is right. Something assumes a contiguous layout: x.ravel() and "
            "x.reshape(...) return a copy, not a view, for such arrays, and "
            "np.lib.stride_tricks.as_strided needs x.strides, not the item size."
        ) from None


# --------------------------------------------------------------------------------------
# Calling the reader's function


def short(a) -> str:
    if isinstance(a, np.ndarray):
        return f"array of shape {a.shape}"
    if callable(a):
        return getattr(a, "__name__", "a function")
    return repr(a)


def _arg_names(fn, n_args: int) -> list[str]:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = []
    for i in range(n_args):
        ok = i < len(params) and params[i].kind in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        )
        names.append(params[i].name if ok else f"argument {i + 1}")
    return names


def call(fn: Callable, *args, **kwargs):
    """Run the reader's function; turn its exceptions and side effects into feedback."""
    return call_with(fn, args, kwargs)


def call_with(fn: Callable, args, kwargs=None, hint: str = ""):
    """:func:`call` with a ``hint`` added to the message when an input is changed."""
    kwargs = kwargs or {}
    name = getattr(fn, "__name__", "<")
    name = "your function" if name.startswith("<") else name
    given = [_fresh(a) for a in args]
    given_kw = {k: _fresh(v) for k, v in kwargs.items()}
    try:
        result = fn(*given, **given_kw)
    except NotImplementedError:
        raise StubNotImplemented from None
    except Exception as err:  # the reader's bug, reported with the inputs
        shown = ", ".join(
            [short(a) for a in args] + [f"{k}={v}" for k, v in kwargs.items()]
        )
        raise ExerciseError(
            f"{name}({shown}) raised {type(err).__name__}: {err}"
        ) from err
    pairs = list(zip(_arg_names(fn, len(args)), args, given, strict=True))
    pairs += [(k, kwargs[k], given_kw[k]) for k in kwargs]
    for arg, before, after in pairs:
        change = describe_change(before, after)
        if change:
            raise ExerciseError(_mutation_message(name, arg, change, after, hint))
    if result is None:
        raise ExerciseError(f"{name} returned None: is its return statement missing?")
    return result


# --------------------------------------------------------------------------------------
# Inputs changed in place


def describe_change(before, after) -> str | None:
    """How ``after`` (what the reader's function got) differs from ``before``."""
    if isinstance(before, np.ndarray):
        return _array_change(before, np.asarray(after))
    if isinstance(before, list | dict | set):
        return _list_change(before, after)
    return None


def _array_change(before, after) -> str | None:
    if after.shape != before.shape:
        return f"its shape changed from {before.shape} to {after.shape}"
    if after.dtype != before.dtype:
        return f"its dtype changed from {before.dtype} to {after.dtype}"
    if np.array_equal(before, after, equal_nan=before.dtype.kind in "fc"):
        return None
    if before.ndim and np.array_equal(after, before[::-1]):
        return "its entries were reversed"
    if not after.any():
        return "it was overwritten with zeros"
    diff = np.argwhere(~((after == before) | (np.isnan(after) & np.isnan(before))))
    i = tuple(int(j) for j in diff[0])
    where = "[" + ", ".join(str(j) for j in i) + "]"
    return (
        f"{len(diff)} of its {before.size} entries changed, e.g. entry {where} was "
        f"{before[i].item()!r} and is now {after[i].item()!r}"
    )


def _equal(a, b) -> bool:
    """a == b for nested lists, tuples and dicts that may hold arrays."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return _array_change(np.asarray(a), np.asarray(b)) is None
    if isinstance(a, list | tuple):
        return (
            type(a) is type(b)
            and len(a) == len(b)
            and all(_equal(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return a == b


def _list_change(before, after) -> str | None:
    if _equal(before, after):
        return None
    if isinstance(before, list) and _equal(after, before[::-1]):
        return "it was reversed (list.reverse() changes the list itself)"
    if not after:
        return "it was emptied (pop() and remove() change the list itself)"
    if len(after) < len(before):
        return (
            f"it lost {len(before) - len(after)} of its {len(before)} items "
            "(pop() and remove() change the list itself)"
        )
    try:
        if isinstance(before, list) and after == sorted(before):
            return "it was sorted (list.sort() changes the list itself)"
    except (TypeError, ValueError):  # items that do not compare
        pass
    return f"it was {before!r} and is now {after!r}"


def _mutation_message(name, arg, change, after, hint) -> str:
    if isinstance(after, np.ndarray):
        fix = (
            f"work on a copy ({arg} = {arg}.copy()) or build a new array: in-place "
            f"operations such as {arg} -= ..., {arg}[...] = ... or out={arg} write "
            f"into the caller's array, and so do views of it such as {arg}[i:i + k]"
        )
    else:
        fix = (
            f"loop over it without changing it, or copy it first ({arg} = list({arg}))"
        )
    return (
        f"{name} changed its input {arg} in place: {change}. A function should "
        f"leave its arguments as it found them; {hint or fix + '.'}"
    )


# --------------------------------------------------------------------------------------
# The decorator every checker wears


def checker(title: str):
    """Decorate a checker: report success, and 'not implemented yet' for stubs."""

    def wrap(check):
        def run(fn: Callable) -> bool:
            if not callable(fn):
                raise TypeError(
                    f"{check.__name__}: pass your function itself, got {fn!r}"
                )
            try:
                summary = check(fn)
            except StubNotImplemented:
                print(
                    f"{title}: {NOT_IMPLEMENTED} (fill in the stub that raises "
                    "NotImplementedError)"
                )
                return False
            print(f"{title}: correct. {summary}")
            return True

        run.__name__, run.__doc__ = check.__name__, check.__doc__
        return run

    return wrap
