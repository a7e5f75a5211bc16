"""Checkers for the chapter "Equivariance and invariance".

The circular convolution matrix and its eigenvalues are here; the FFT correlation
and the rotation of a p4 feature map are in :mod:`cnnlib.exercises.equivariance_fft`
and :mod:`cnnlib.exercises.equivariance_p4` (re-exported here).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import fft as sfft

from ..matrices import circulant
from ._core import ExerciseError, call, checker, on_layouts
from ._diagnose import as_array, verdict
from .equivariance_fft import check_fft_correlate
from .equivariance_p4 import check_rotate_p4

__all__ = [
    "check_circulant_eigenvalues",
    "check_circulant_matrix",
    "check_fft_correlate",
    "check_rotate_p4",
]

# --------------------------------------------------------------------------------------
# Exercise: the circular convolution matrix C(w)


def _conv_circulant(w):
    """w (n,) -> C (n, n), C[i, j] = w[(i - j) mod n]: column j is np.roll(w, j).

    cnnlib.circulant(w, n) is the cross-correlation matrix, C's transpose.
    """
    return circulant(w, len(w)).T


_ROLL = "column j must be np.roll(w, j), i.e. C[i, j] = w[(i - j) mod n]"


def _circulant_mistakes(w):
    n = len(w)
    i, j = np.indices((n, n))
    return [
        (
            "transposed: you built the CROSS-CORRELATION matrix C[i, j] = "
            "w[(j - i) mod n], whose ROW i is np.roll(w, i) (that is what "
            "cnnlib.circulant(w, n) returns); the convolution matrix is its "
            f"transpose: {_ROLL}",
            lambda: w[(j - i) % n],
        ),
        (
            f"the columns are rolled the wrong way: yours is np.roll(w, -j); {_ROLL} "
            "(w moved down by j places)",
            lambda: w[(i + j) % n],
        ),
        (
            f"off by one roll: column j is np.roll(w, j + 1), one step too far; "
            f"{_ROLL} (column 0 is w itself; rows np.roll(w[::-1], i) give this "
            "too)",
            lambda: w[(i - j - 1) % n],
        ),
        (
            f"off by one roll: column j is np.roll(w, j - 1), one step short; {_ROLL} "
            "(column 0 is w itself)",
            lambda: w[(i - j + 1) % n],
        ),
        (
            "no wrap-around: the entries above the diagonal are zero (a Toeplitz "
            "matrix, shifts that drop what falls off the end); the indices wrap "
            f"around modulo n, {_ROLL}, which np.roll does",
            lambda: np.where(i >= j, w[(i - j) % n], 0.0),
        ),
        (
            "no wrap-around, and transposed: zeros below the diagonal and row i "
            f"holding w from column i on; {_ROLL}, wrapping around modulo n",
            lambda: np.where(j >= i, w[(j - i) % n], 0.0),
        ),
    ]


def _circulant_shape(shape, n) -> str | None:
    if shape == (n, n):
        return None
    if shape == (n,):
        return f"return the ({n}, {n}) matrix C, not a vector"
    if shape == (2 * n - 1, n):
        return (
            f"shape {shape} is the matrix of a linear ('full') convolution; the "
            f"circular one is square, ({n}, {n}): what falls off the end wraps around"
        )
    return (
        f"C should have shape ({n}, {n}), one row and one column a sample, got {shape}"
    )


def _check_circulant_case(fn, w):
    n = len(w)
    C = as_array(call(fn, w), "C")
    message = _circulant_shape(C.shape, n) or verdict(
        C, _conv_circulant(w), _circulant_mistakes(w), what="C"
    )
    if message:
        raise ExerciseError(f"(n={n}, w={np.round(w, 4).tolist()}): {message}")


_CIRCULANT_CASES = [  # asymmetric, non-integer kernels; n = 1 and 2 at the edge
    np.array([1.5, -2.0, 0.75, 3.25, 0.5]),
    np.array([2.0, 0.5, -1.25, 4.0]),
    np.array([0.3, 1.7, -0.9, 2.2, -1.1, 0.6]),
    np.array([1.5, -0.5]),
    np.array([2.5]),
]


@checker("circulant_conv")
def check_circulant_matrix(fn: Callable) -> str:
    """Check ``fn(w)``: w (n,) -> C (n, n), C[i, j] = w[(i - j) mod n], the matrix of
    circular convolution with w (column j is np.roll(w, j))."""
    for w in _CIRCULANT_CASES:
        _check_circulant_case(fn, w)
    on_layouts(lambda w: _check_circulant_case(fn, w), _CIRCULANT_CASES[0])
    return (
        f"{len(_CIRCULANT_CASES)} kernels give C[i, j] = w[(i - j) mod n]; "
        "cnnlib.circulant(w, n) is its transpose, the cross-correlation matrix."
    )


# --------------------------------------------------------------------------------------
# Exercise: the eigenvalues of C(w), in the order of the Fourier modes


def _as_spectrum(raw, n) -> np.ndarray:
    """The reader's eigenvalues as a numeric (maybe complex) array of shape (n,)."""
    if isinstance(raw, tuple) and len(raw) == 2:
        raise ExerciseError(
            "return the eigenvalues only: np.linalg.eig returns the pair "
            "(eigenvalues, eigenvectors)"
        )
    if hasattr(raw, "detach"):
        raw = raw.detach().cpu().numpy()
    got = np.asarray(raw)
    if got.dtype.kind not in "biufc":
        raise ExerciseError(f"return an array of numbers, got dtype {got.dtype}")
    if got.shape == (n,):
        return got
    if got.shape == (n, n):
        raise ExerciseError(
            f"return the {n} eigenvalues as a vector of shape ({n},), not a matrix"
        )
    if got.shape == (n // 2 + 1,) and n > 2:
        raise ExerciseError(
            f"shape {got.shape}: rfft keeps only the n // 2 + 1 non-negative "
            f"frequencies; C has n = {n} eigenvalues, one for each Fourier mode k = "
            "0 .. n - 1 (scipy.fft.fft)"
        )
    raise ExerciseError(f"return the {n} eigenvalues, shape ({n},), got {got.shape}")


def _near(got, want) -> bool:
    """Equal up to rounding, complex numbers allowed."""
    scale = max(1.0, float(np.max(np.abs(want))))
    return got.shape == want.shape and bool(
        np.allclose(got, want, rtol=1e-7, atol=1e-9 * scale)
    )


def _reordered(got, want) -> bool:
    """The same values (up to rounding) in another order."""
    tol = 1e-7 * max(1.0, float(np.max(np.abs(want))))
    left = list(want)
    for g in got:
        gaps = [abs(g - v) for v in left]
        best = int(np.argmin(gaps))
        if gaps[best] > tol:
            return False
        left.pop(best)
    return True


_FFT = "lambda_k = sum_m w[m] exp(-2πi mk/n), which is scipy.fft.fft(w)"


def _eigen_mistakes(w):
    n = len(w)
    W = sfft.fft(w)
    root = np.sqrt(n)
    return [
        (
            f"complex conjugate: your eigenvalues have exp(+2πi mk/n) in them; {_FFT}. "
            "n·ifft(w) gives the conjugate, and so does the cross-correlation matrix "
            "cnnlib.circulant(w, n) = C.T, or eigenvectors exp(-2πi jk/n)",
            lambda: W.conj(),
        ),
        (
            f"you returned ifft(w): it divides by n and conjugates; {_FFT}",
            lambda: W.conj() / n,
        ),
        (
            "normalisation: every eigenvalue is divided by n (norm='forward'); "
            f"{_FFT}, unnormalised",
            lambda: W / n,
        ),
        (
            f"normalisation: every eigenvalue is divided by sqrt(n) (norm='ortho'); "
            f"{_FFT}, unnormalised",
            lambda: W / root,
        ),
        (
            "normalisation and conjugate: ifft(w, norm='ortho') divides by sqrt(n) and "
            f"conjugates; {_FFT}",
            lambda: W.conj() / root,
        ),
        (
            f"the FFT of the reversed kernel w[::-1]: C holds w itself; {_FFT}",
            lambda: sfft.fft(w[::-1]),
        ),
        (
            "only the real part: the eigenvalues of C are complex (C is not "
            f"symmetric), keep the imaginary parts; {_FFT}",
            lambda: W.real,
        ),
        (
            "the magnitudes |lambda_k| (the amplitude spectrum), not the complex "
            f"eigenvalues; {_FFT}",
            lambda: np.abs(W),
        ),
    ]


def _eigen_message(got, w) -> str | None:
    want = sfft.fft(w)
    if got.dtype.kind in "biu" and not _near(got, want):
        return (
            f"your result is an integer array ({got.dtype}): the eigenvalues are "
            "complex numbers (a complex array, e.g. from scipy.fft.fft)"
        )
    kind, size = got.dtype.kind, got.dtype.itemsize
    if (kind == "f" and size < 8) or (kind == "c" and size < 16):
        return (
            f"your result is {got.dtype}, which keeps about 7 significant digits: "
            "compute in float64 / complex128 (torch defaults to float32)"
        )
    if _near(got, want):
        return None
    for message, make in _eigen_mistakes(w):
        if _near(got, make()):
            return message
    if _reordered(got, want):
        return (
            "right values, wrong order: eigenvalue k must belong to Fourier mode k, "
            "the eigenvector psi_k[j] = exp(2πi jk/n); np.linalg.eigvals returns "
            f"them in no particular order, and sorting loses the pairing; {_FFT}"
        )
    if got.dtype.kind != "c" and np.abs(want.imag).max() > 1e-9:
        return "the eigenvalues are complex: return a complex array"
    k = int(np.argmax(np.abs(got - want)))
    return f"eigenvalue {k} is {got[k]:.6g}, expected {want[k]:.6g}; {_FFT}"


def _check_eigen_case(fn, w):
    where = f"(n={len(w)}, w={np.round(w, 4).tolist()})"
    raw = call(fn, w)
    try:
        message = _eigen_message(_as_spectrum(raw, len(w)), w)
    except ExerciseError as err:
        message = str(err)
    if message:
        raise ExerciseError(f"{where}: {message}")


_EIGEN_CASES = [  # asymmetric kernels: complex eigenvalues, lambda_k != lambda_-k
    np.array([1.5, -2.0, 0.75, 3.25, 0.5]),
    np.array([0.3, 1.7, -0.9, 2.2, -1.1, 0.6]),
    np.array([2.0, 0.5, -1.25, 4.0]),
    np.array([0.25, 1.0, -0.5, 0.0, 2.75, -1.5, 0.5]),
    np.array([1.5, -0.5]),
    np.array([-2.5]),
]


@checker("eigenvalues")
def check_circulant_eigenvalues(fn: Callable) -> str:
    """Check ``fn(w)``: w (n,) -> the n complex eigenvalues of C(w), eigenvalue k
    belonging to the Fourier mode psi_k[j] = exp(2πi jk/n)."""
    for w in _EIGEN_CASES:
        _check_eigen_case(fn, w)
    on_layouts(lambda w: _check_eigen_case(fn, w), _EIGEN_CASES[0])
    return (
        f"{len(_EIGEN_CASES)} kernels: C(w) psi_k = fft(w)[k] psi_k, "
        "in the order of the Fourier modes."
    )
