"""Checker for the chapter "Equivariance and invariance": cross-correlation by FFTs.

The reader's ``fft_correlate(x, w)`` must give cnnlib.conv1d's 'valid' answer. The
usual slips are modelled on the circular correlation of period P that an FFT product
computes: a convolution instead (the kernel's spectrum not conjugated), the wrong
spectrum conjugated, a crop that starts in the wrong place (windows that wrap around,
or run into the padding), an FFT shorter than the signal.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import fft as sfft

from ..conv import conv1d
from ._core import ExerciseError, call, checker, on_layouts
from ._diagnose import as_array, close, first_match, verdict


def _valid_xcorr(x, w):
    """x (n,), w (k,) -> (n - k + 1,): y[i] = sum_t w[t] x[i + t], cnnlib.conv1d."""
    return conv1d(np.asarray(x, float)[None, None], np.asarray(w, float)[None, None])[
        0, 0
    ]


def _fit(a, P):
    """a zero-padded, or cut, to P samples: what rfft(a, P) transforms."""
    out = np.zeros(P)
    out[: min(P, len(a))] = a[:P]
    return out


def _circular(x, w, P, convolve=False):
    """The length-P circular cross-correlation y[j] = sum_t w[t] x[(j + t) mod P]
    (convolution, x[(j - t) mod P], with ``convolve``) of x and w fitted to P."""
    xp, wp = _fit(x, P), _fit(w, P)
    j, t = np.indices((P, P))
    return xp[(j - t if convolve else j + t) % P] @ wp  # (P,)


def _lengths(n, k):
    """FFT lengths a reader might pick: n, n + k - 1, fast or power-of-two ones, and
    one too short."""
    full = n + k - 1
    fast = [sfft.next_fast_len(m, real=real) for m in (n, full) for real in (0, 1)]
    powers = [1 << (m - 1).bit_length() for m in (n, full)]
    return sorted({n - k + 1, n, full, 2 * n, *fast, *powers})


_VALID = (
    "the valid outputs of irfft(X * conj(W), P) are its first n - k + 1 (any "
    "P >= n; with the kernel reversed instead, a convolution, outputs k - 1 .. n - 1)"
)


def _offset_message(x, w, P, d):
    n, k, m = len(x), len(w), len(x) - len(w) + 1
    i = np.arange(m)
    far = 2 * (n + k)  # a period long enough that nothing wraps
    wraps = not close(
        _circular(x, w, P)[(i + d) % P], _circular(x, w, far)[(i + d) % far]
    )
    where = f"x[i {'+' if d > 0 else '-'} {abs(d)}]"
    if wraps:
        why = (
            "windows past an end of x wrap around to the other end, as an FFT "
            f"product is a CIRCULAR correlation of period P = {P}"
        )
    else:
        why = "windows past an end of x meet the zero padding"
    start = f"wrong crop: your output i is the window that starts at {where}"
    return f"{start}: {why}; {_VALID}"


def _fft_mistakes(x, w):
    """(message, thunk) pairs, each computing one slip's answer."""
    n, k, m = len(x), len(w), len(x) - len(w) + 1
    i = np.arange(m)
    for P in _lengths(n, k):
        if P < n:
            yield (
                f"your FFT length P = {P} is shorter than the signal (n = {n}): "
                "rfft(x, P) cuts x off and the correlation wraps around; use P >= n",
                lambda P=P: _circular(x, w, P)[:m],
            )
        conv = (
            "convolution instead of cross-correlation: X * W is the spectrum of a "
            "convolution (the kernel flipped); cross-correlation multiplies by the "
            "kernel's CONJUGATE spectrum, X * np.conj(W) (or reverse w first)"
        )
        yield conv, lambda P=P: _circular(x, w, P, convolve=True)[:m]
        yield conv, lambda P=P: _circular(x, w, P, convolve=True)[k - 1 : k - 1 + m]
        yield (
            "the wrong spectrum is conjugated: conj(X) * W correlates w with x, which "
            "reverses the order of the outputs (index -i mod P); use X * np.conj(W)",
            lambda P=P: _circular(x, w, P)[-i % P],
        )
        for d in dict.fromkeys((k - 1, 1 - k, 1, -1)):
            if d:
                yield (
                    _offset_message(x, w, P, d),
                    lambda P=P, d=d: _circular(x, w, P)[(i + d) % P],
                )


def _length_message(length, n, k) -> str:
    m = n - k + 1
    if length == n + k - 1:
        return (
            f"you returned n + k - 1 = {length} values, the 'full' correlation: keep "
            f"only the n - k + 1 = {m} windows that fit entirely in x ('valid')"
        )
    if length == n:
        return (
            f"you returned n = {n} values: only n - k + 1 = {m} windows fit entirely "
            f"in x; crop to y[:n - k + 1] (the other {k - 1} wrap around, or run "
            "into the padding)"
        )
    if length in _lengths(n, k):
        return (
            f"you returned all P = {length} outputs of the inverse FFT: crop to the "
            f"first n - k + 1 = {m}"
        )
    return f"the result should have length n - k + 1 = {m}, got {length}"


def _real(raw) -> tuple[np.ndarray, str]:
    """The reader's answer as an array, its real part if complex, and a note."""
    if hasattr(raw, "detach"):
        raw = raw.detach().cpu().numpy()
    y = np.asarray(raw)
    if y.dtype.kind != "c":
        return y, ""
    return y.real, (
        f"your result is complex ({y.dtype}): the correlation of real signals is "
        "real; scipy.fft.irfft returns real values (ifft returns complex ones: take "
        ".real)"
    )


def _check_fft_case(fn, x, w):
    n, k = len(x), len(w)
    y, note = _real(call(fn, x, w))
    y = as_array(y)
    want = _valid_xcorr(x, w)
    if y.ndim != 1:
        message = f"return a 1-D array of length n - k + 1 = {n - k + 1}, got {y.shape}"
    elif len(y) != len(want):
        found = first_match(y.astype(float), _fft_mistakes(x, w))
        message = found or _length_message(len(y), n, k)
    else:
        message = verdict(y, want, _fft_mistakes(x, w))
    if note:
        message = f"{note}; besides, {message}" if message else note
    if message:
        raise ExerciseError(f"(n={n}, k={k}): {message}")


def _fft_cases():
    rng = np.random.default_rng(6)
    sizes = [(10, 3), (9, 4), (13, 5), (16, 2), (8, 1), (6, 6)]  # k = 1, k = n
    return [
        (np.round(rng.uniform(-2, 2, n), 3), np.round(rng.uniform(-1, 1, k), 3))
        for n, k in sizes
    ]


_FFT_CASES = _fft_cases()


@checker("fft_correlate")
def check_fft_correlate(fn: Callable) -> str:
    """Check ``fn(x, w)``: x (n,), w (k,), k <= n -> (n - k + 1,), the valid
    cross-correlation y[i] = sum_t w[t] x[i + t], computed with FFTs."""
    for x, w in _FFT_CASES:
        _check_fft_case(fn, x, w)
    on_layouts(lambda x, w: _check_fft_case(fn, x, w), *_FFT_CASES[0])
    return (
        f"{len(_FFT_CASES)} cases (k = 1 and k = n among them) agree with "
        "cnnlib.conv1d: no wrap-around, the right crop."
    )
