"""What every checker shares: the error type, calling the reader's code, reporting.

Each ``check_*`` function runs the reader's function on cases chosen so that the
usual mistakes give different answers (a flipped kernel, an off-by-one border,
padding on one side only, a forgotten stride), then:

* returns ``True`` and prints a short confirmation when every case is right;
* returns ``False`` and prints ``not implemented yet`` when the function still
  raises ``NotImplementedError`` (the student edition's stubs do);
* raises :class:`ExerciseError` (an ``AssertionError``) with a diagnosis otherwise,
  so a notebook run with a wrong solution fails loudly.

The reference answers come from cnnlib's own, tested, operations. Each chapter's
checkers live in a module of their own (``conv.py`` for "Convolution from first
principles", ...); this package exports them all.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

NOT_IMPLEMENTED = "not implemented yet"


class ExerciseError(AssertionError):
    """A wrong answer, with a message that says what looks wrong."""


class StubNotImplemented(Exception):
    pass


def call(fn: Callable, *args, **kwargs):
    """Run the reader's function; turn its exceptions into feedback."""
    name = getattr(fn, "__name__", "your function")
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise StubNotImplemented from None
    except Exception as err:  # the reader's bug, reported with the inputs
        shown = ", ".join(
            [short(a) for a in args] + [f"{k}={v}" for k, v in kwargs.items()]
        )
        raise ExerciseError(
            f"{name}({shown}) raised {type(err).__name__}: {err}"
        ) from err


def short(a) -> str:
    if isinstance(a, np.ndarray):
        return f"array of shape {a.shape}"
    return repr(a)


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
