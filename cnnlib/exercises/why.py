"""Checkers for the chapter "Why convolutions"."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._core import ExerciseError, call, checker

# --------------------------------------------------------------------------------------
# Exercise: parameters of a dense layer

_DENSE_CASES = [(784, 256), (3, 5), (2_073_600, 1), (10, 10)]


@checker("dense_params")
def check_dense_params(fn: Callable) -> str:
    """Check ``fn(n_in, n_out)``: weights plus biases of a fully connected layer."""
    for n_in, n_out in _DENSE_CASES:
        got = call(fn, n_in, n_out)
        want = n_in * n_out + n_out
        if got == want:
            continue
        where = f"n_in={n_in}, n_out={n_out}"
        if got == n_in * n_out:
            raise ExerciseError(f"{where}: you forgot the biases, one per output")
        if got == n_in * n_out + n_in:
            raise ExerciseError(f"{where}: one bias per OUTPUT unit, not per input")
        if got == (n_in + 1) * (n_out + 1):
            raise ExerciseError(f"{where}: only the outputs get a bias (n_out of them)")
        raise ExerciseError(f"{where}: expected {want}, got {got}")
    return "weights n_in * n_out plus one bias per output."


# --------------------------------------------------------------------------------------
# Exercise: parameters of a 2D convolution layer

_CONV_CASES = [(16, 32, 7), (3, 16, 3), (1, 8, 5), (64, 128, 1)]  # first: all distinct


@checker("conv2d_params")
def check_conv2d_params(fn: Callable) -> str:
    """Check ``fn(c_in, c_out, k)``: parameters of a k x k convolution with biases."""
    for c_in, c_out, k in _CONV_CASES:
        got = call(fn, c_in, c_out, k)
        want = c_in * c_out * k * k + c_out
        if got == want:
            continue
        where = f"c_in={c_in}, c_out={c_out}, k={k}"
        wrong = {
            c_in * c_out * k * k: "you forgot the biases, one per output channel",
            c_out * k * k + c_out: "each kernel spans ALL input channels: it has "
            "c_in x k x k weights",
            c_in * c_out * k + c_out: "a k x k kernel has k * k weights, not k",
            c_in * c_out * k * k + c_in * c_out: "one bias per output channel, "
            "shared by all input channels",
        }
        if got in wrong and got != want:
            raise ExerciseError(f"{where}: {wrong[got]}")
        raise ExerciseError(f"{where}: expected {want}, got {got}")
    return "c_in * c_out * k * k weights plus c_out biases; no input size involved."


# --------------------------------------------------------------------------------------
# Exercise: the translation operator


def _translate(x, s):
    out = np.zeros_like(x)
    if s >= 0:
        out[s:] = x[: len(x) - s]
    else:
        out[:s] = x[-s:]
    return out


@checker("translate")
def check_translate(fn: Callable) -> str:
    """Check ``fn(x, s)``: (T_s x)[i] = x[i - s], zeros where i - s is outside."""
    x = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0])
    for s in (2, 1, 0, -3, 7):
        got = np.asarray(call(fn, x.copy(), s), dtype=float)
        want = _translate(x, s)
        if got.shape != x.shape:
            raise ExerciseError(
                f"s={s}: keep the length {x.shape}; got shape {got.shape}"
            )
        if np.allclose(got, want):
            continue
        if np.allclose(got, _translate(x, -s)):
            raise ExerciseError(
                f"s={s}: wrong direction: T_s moves the signal to the "
                "RIGHT for s > 0, (T_s x)[i] = x[i - s]"
            )
        if np.allclose(got, np.roll(x, s)):
            raise ExerciseError(
                f"s={s}: values that leave on one side come back on the "
                "other (np.roll); fill with zeros instead"
            )
        for off in (s - 1, s + 1):
            if np.allclose(got, _translate(x, off)):
                raise ExerciseError(f"s={s}: off by one: you shifted by {off}")
        raise ExerciseError(f"s={s}: expected {want}, got {got}")
    return "shifts right for s > 0, left for s < 0, with zeros coming in."
