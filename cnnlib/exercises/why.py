"""Checkers for the chapter "Why convolutions"."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._core import ExerciseError, call, checker, on_layouts
from ._diagnose import formula_verdict, verdict, whole
from ._formulas import CONV2D_PARAM_MISTAKES, conv2d_params

# --------------------------------------------------------------------------------------
# Exercise: parameters of a dense layer


def _dense(n_in, n_out, weights="product", bias="output"):
    """Weights plus biases of a dense layer; the options rebuild the usual mistakes."""
    w = {"product": n_in * n_out, "sum": n_in + n_out}[weights]
    b = {
        "output": n_out,
        "none": 0,
        "input": n_in,
        "shared": 1,
        "both": n_in + n_out,
        "constant input": n_in + n_out + 1,
    }[bias]
    return w + b


_DENSE_MISTAKES = {
    "you forgot the biases, one per output": {"bias": "none"},
    "one bias per OUTPUT unit, not per input": {"bias": "input"},
    "one bias per output unit (n_out of them), not one shared by the whole layer": {
        "bias": "shared"
    },
    "biases on the inputs too: only the outputs get a bias (n_out of them)": {
        "bias": "both"
    },
    "only the outputs get a bias (n_out of them): (n_in + 1)(n_out + 1) also gives "
    "the outputs a bias unit of their own": {"bias": "constant input"},
    "every input connects to every output: n_in * n_out weights, a product, not "
    "a sum": {"weights": "sum"},
}
_DENSE_CASES = [(784, 256), (3, 5), (2_073_600, 1), (10, 10), (150_528, 150_528)]


@checker("dense_params")
def check_dense_params(fn: Callable) -> str:
    """Check ``fn(n_in, n_out)``: weights plus biases of a fully connected layer."""
    observed = []
    for n_in, n_out in _DENSE_CASES:
        where = f"n_in={n_in}, n_out={n_out}"
        observed.append(((n_in, n_out), whole(call(fn, n_in, n_out), where)))
    message = formula_verdict(
        observed,
        _dense,
        _dense,
        _DENSE_MISTAKES,
        lambda c: "n_in={}, n_out={}".format(*c),
    )
    if message:
        raise ExerciseError(message)
    return "weights n_in * n_out plus one bias per output."


# --------------------------------------------------------------------------------------
# Exercise: parameters of a 2D convolution layer


_CONV_CASES = [(16, 32, 7), (3, 16, 3), (1, 8, 5), (64, 128, 1), (5, 5, 2)]


@checker("conv2d_params")
def check_conv2d_params(fn: Callable) -> str:
    """Check ``fn(c_in, c_out, k)``: parameters of a k x k convolution with biases."""
    observed = []
    for case in _CONV_CASES:
        where = "c_in={}, c_out={}, k={}".format(*case)
        observed.append((case, whole(call(fn, *case), where)))
    message = formula_verdict(
        observed,
        conv2d_params,
        conv2d_params,
        CONV2D_PARAM_MISTAKES,
        lambda c: "c_in={}, c_out={}, k={}".format(*c),
    )
    if message:
        raise ExerciseError(message)
    return "c_in * c_out * k * k weights plus c_out biases; no input size involved."


# --------------------------------------------------------------------------------------
# Exercise: the translation operator


def _translate(x, v, fill="zeros"):
    """(T_v x)[i] = x[i - v]; fill="edge" repeats the end value instead of zeros."""
    n = len(x)
    out = np.zeros(n) if fill == "zeros" else np.full(n, x[0] if v > 0 else x[-1])
    v = max(-n, min(n, v))
    if v >= 0:
        out[v:] = x[: n - v]
    else:
        out[:v] = x[-v:]
    return out


def _zeros_other_side(x, v):
    """np.roll, then the zeros written over the wrong end."""
    out = np.roll(x, v)
    if v > 0:
        out[len(x) - v :] = 0
    elif v < 0:
        out[:-v] = 0
    return out


_ROLL = (
    "values that leave on one side come back on the other (np.roll); fill with "
    "zeros instead"
)
_EDGE = "the new places repeat the end value (np.pad's mode='edge'): fill them with 0"
_OTHER_END = (
    "the zeros are at the wrong end: new values come in on the side the signal "
    "moves away from"
)


def _translate_mistakes(x, v):
    way = "RIGHT for v > 0" if v > 0 else "LEFT for v < 0 (did you use |v|?)"
    return [
        (f"wrong direction: T_v moves the signal {way}", lambda: _translate(x, -v)),
        (_ROLL, lambda: np.roll(x, v)),
        (
            "np.roll(x, -v) moves the wrong way, and wraps around",
            lambda: np.roll(x, -v),
        ),
        (f"off by one: you shifted by {v - 1}", lambda: _translate(x, v - 1)),
        (f"off by one: you shifted by {v + 1}", lambda: _translate(x, v + 1)),
        (_EDGE, lambda: _translate(x, v, fill="edge")),
        (_OTHER_END, lambda: _zeros_other_side(x, v)),
    ]


def _check_translate_case(fn, x, v):
    where = f"v={v} (n={len(x)})"
    try:
        raw = call(fn, x, v)
    except ExerciseError as err:
        hint = " (with v = 0, x[:-v] is x[:-0] = x[:0], empty)" if v == 0 else ""
        raise ExerciseError(f"{err}{hint}") from None
    got = np.asarray(raw)
    if got.shape != x.shape:
        hint = (
            ": with v = 0, x[:-v] is x[:-0] = x[:0], an empty array; slice with "
            "x[:len(x) - v]"
            if v == 0 and got.size == 0
            else ""
        )
        raise ExerciseError(
            f"{where}: keep the length {x.shape}; got shape {got.shape}{hint}"
        )
    message = verdict(raw, _translate(x, v), _translate_mistakes(x, v))
    if message:
        raise ExerciseError(f"{where}: {message}")


_X = np.array([3.1, 1.4, 4.1, 5.9, 2.6, 5.3, 5.8, 9.7])


@checker("translate")
def check_translate(fn: Callable) -> str:
    """Check ``fn(x, v)``: (T_v x)[i] = x[i - v], zeros where i - v is outside."""
    for v in (2, 1, 0, -3, 7, -1, 8, -8):
        _check_translate_case(fn, _X, v)
    for v in (1, -1):  # a signal of one sample
        _check_translate_case(fn, np.array([2.5]), v)
    on_layouts(lambda x: _check_translate_case(fn, x, 3), _X)
    return "shifts right for v > 0, left for v < 0, with zeros coming in."
