"""The checkers of chapter 06 ("Equivariance and invariance") name the mistake.

Each wrong answer is a plausible solution with one mistake; the test asserts that the
message names it. The references the checkers use are checked here too.
"""

import numpy as np
import pytest
import scipy.linalg
import torch
from scipy import fft as sfft
from test_exercises_common import assume_contiguous, stub

from cnnlib import circulant, conv1d
from cnnlib.exercises import (
    ExerciseError,
    check_circulant_eigenvalues,
    check_circulant_matrix,
    check_fft_correlate,
    check_rotate_p4,
)
from cnnlib.exercises.equivariance import _CIRCULANT_CASES, _EIGEN_CASES
from cnnlib.exercises.equivariance_fft import _FFT_CASES, _circular
from cnnlib.exercises.equivariance_p4 import _P4_CASES
from cnnlib.groups import rotate_p4

CHECKERS = [
    check_circulant_matrix,
    check_circulant_eigenvalues,
    check_fft_correlate,
    check_rotate_p4,
]


@pytest.mark.parametrize("check", CHECKERS, ids=lambda c: c.__name__)
def test_a_stub_is_not_implemented_yet(check, capsys):
    assert check(stub) is False
    assert "not implemented yet" in capsys.readouterr().out


# --------------------------------------------------------------------------------------
# circulant_conv(w) -> C, C[i, j] = w[(i - j) mod n]


def circulant_conv(w):
    return np.stack([np.roll(w, j) for j in range(len(w))], axis=1)


def circulant_loops(w):
    n = len(w)
    C = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            C[i, j] = w[(i - j) % n]
    return C


def test_circulant_references_agree():
    for w in _CIRCULANT_CASES:
        n = len(w)
        C = circulant(w, n).T
        assert np.array_equal(C, scipy.linalg.circulant(w))
        assert np.array_equal(C, circulant_loops(w))
        x = np.linspace(-1, 2, n) ** 2
        # C @ x is the circular convolution: sum_m w[m] x[(i - m) mod n]
        want = [sum(w[m] * x[(i - m) % n] for m in range(n)) for i in range(n)]
        assert np.allclose(C @ x, want)


@pytest.mark.parametrize(
    "right", [circulant_conv, circulant_loops, scipy.linalg.circulant]
)
def test_circulant_correct_answers_pass(right, capsys):
    assert check_circulant_matrix(right)
    assert "correct" in capsys.readouterr().out


def rows_rolled(w):
    return np.stack([np.roll(w, i) for i in range(len(w))])


def toeplitz(w):
    n = len(w)
    C = np.zeros((n, n))
    for j in range(n):
        C[j:, j] = w[: n - j]  # shifted down, nothing wraps around
    return C


def full_matrix(w):
    n = len(w)
    M = np.zeros((2 * n - 1, n))
    for j in range(n):
        M[j : j + n, j] = w
    return M


def int_matrix(w):
    n = len(w)
    C = np.zeros((n, n), dtype=int)
    for j in range(n):
        C[:, j] = np.roll(w, j)
    return C


def rolls_w_in_place(w):
    columns = []
    for j in range(len(w)):
        columns.append(w.copy())
        if j < len(w) - 1:
            w[:] = np.roll(w, 1)
    return np.stack(columns, axis=1)


CIRCULANT_WRONG = [
    (lambda w: circulant(w, len(w)), "transposed.*CROSS-CORRELATION.*cnnlib.circulant"),
    (rows_rolled, "transposed"),
    (
        lambda w: np.stack([np.roll(w, -j) for j in range(len(w))], axis=1),
        "rolled the wrong way",
    ),
    (
        lambda w: np.stack([np.roll(w, j + 1) for j in range(len(w))], axis=1),
        "off by one roll.*one step too far",
    ),
    (
        lambda w: np.stack([np.roll(w[::-1], i) for i in range(len(w))]),
        "off by one roll",
    ),
    (
        lambda w: np.stack([np.roll(w, j - 1) for j in range(len(w))], axis=1),
        "off by one roll.*one step short",
    ),
    (toeplitz, "no wrap-around.*Toeplitz"),
    (lambda w: toeplitz(w).T, "no wrap-around, and transposed"),
    (lambda w: w.copy(), "not a vector"),
    (full_matrix, "linear \\('full'\\) convolution"),
    (lambda w: circulant_conv(w)[:, :-1], "should have shape"),
    (int_matrix, "integer array .*fractions were cut off"),
    (lambda w: circulant_conv(w).astype(np.float32), "float32"),
    (rolls_w_in_place, "changed its input w in place"),
    (lambda w: circulant_conv(assume_contiguous(w)), "stored non-contiguously"),
]


@pytest.mark.parametrize(
    "wrong, message",
    CIRCULANT_WRONG,
    ids=[
        "cnnlib-circulant",
        "rows-rolled",
        "wrong-way",
        "one-too-far",
        "rows-of-reversed",
        "one-short",
        "toeplitz",
        "toeplitz-transposed",
        "vector",
        "full",
        "shape",
        "int",
        "float32",
        "mutates-w",
        "as-strided",
    ],
)
def test_circulant_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_circulant_matrix(wrong)


# --------------------------------------------------------------------------------------
# eigenvalues(w): lambda_k = fft(w)[k], eigenvector psi_k[j] = exp(2πi jk/n)


def fourier_modes(n):
    j, k = np.indices((n, n))
    return np.exp(2j * np.pi * j * k / n)  # column k is psi_k


def eigenvalues_by_modes(w, matrix=None):
    """Apply C to each Fourier mode and read off the factor."""
    n = len(w)
    C = circulant(w, n).T if matrix is None else matrix
    psi = fourier_modes(n)
    return (C @ psi)[0] / psi[0]  # psi[0, k] = 1


def eigenvalues_dft(w):
    n = len(w)
    m, k = np.indices((n, n))
    return np.exp(-2j * np.pi * m * k / n) @ w


def test_the_fourier_modes_are_eigenvectors_with_eigenvalues_fft():
    for w in _EIGEN_CASES:
        n = len(w)
        C, psi = circulant(w, n).T, fourier_modes(n)
        assert np.allclose(C @ psi, psi * sfft.fft(w))
        # the cross-correlation matrix has the conjugate eigenvalues
        assert np.allclose(circulant(w, n) @ psi, psi * np.conj(sfft.fft(w)))


@pytest.mark.parametrize(
    "right",
    [sfft.fft, np.fft.fft, eigenvalues_by_modes, eigenvalues_dft],
    ids=["scipy", "numpy", "modes", "dft"],
)
def test_eigenvalues_correct_answers_pass(right, capsys):
    assert check_circulant_eigenvalues(right)
    assert "correct" in capsys.readouterr().out


def reversed_in_place(w):
    w[:] = w[::-1]
    return sfft.fft(w[::-1])


EIGEN_WRONG = [
    (lambda w: np.conj(sfft.fft(w)), "complex conjugate"),
    (lambda w: len(w) * sfft.ifft(w), "complex conjugate"),
    (
        lambda w: eigenvalues_by_modes(w, circulant(w, len(w))),
        "complex conjugate.*cnnlib.circulant",
    ),
    (sfft.ifft, "ifft"),
    (lambda w: sfft.fft(w) / len(w), "divided by n"),
    (lambda w: sfft.fft(w, norm="ortho"), "sqrt\\(n\\)"),
    (lambda w: sfft.ifft(w, norm="ortho"), "sqrt\\(n\\) and conjugates"),
    (
        lambda w: np.linalg.eigvals(circulant(w, len(w)).T),
        "right values, wrong order: eigenvalue k must belong to Fourier mode k",
    ),
    (lambda w: np.sort_complex(sfft.fft(w)), "right values, wrong order"),
    (lambda w: sfft.fft(w).real, "only the real part"),
    (lambda w: sfft.fft(w).real + 0j, "only the real part"),
    (lambda w: np.abs(sfft.fft(w)), "magnitudes"),
    (lambda w: sfft.fft(w[::-1]), "reversed kernel"),
    (sfft.rfft, "rfft keeps only"),
    (lambda w: np.linalg.eig(circulant(w, len(w)).T), "np.linalg.eig returns"),
    (lambda w: np.diag(sfft.fft(w)), "not a matrix"),
    (lambda w: sfft.fft(w).astype(np.complex64), "complex64"),
    (lambda w: sfft.fft(w) + 0.01, "eigenvalue 0 is"),
    (reversed_in_place, "changed its input w in place: its entries were reversed"),
    (lambda w: sfft.fft(assume_contiguous(w)), "stored non-contiguously"),
]


@pytest.mark.parametrize(
    "wrong, message",
    EIGEN_WRONG,
    ids=[
        "conj",
        "n-ifft",
        "cross-correlation",
        "ifft",
        "over-n",
        "ortho",
        "ifft-ortho",
        "eigvals",
        "sorted",
        "real",
        "real-as-complex",
        "abs",
        "reversed",
        "rfft",
        "eig-pair",
        "matrix",
        "complex64",
        "offset",
        "mutates-w",
        "as-strided",
    ],
)
def test_eigenvalues_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_circulant_eigenvalues(wrong)


# --------------------------------------------------------------------------------------
# fft_correlate(x, w): valid cross-correlation through FFTs


def fft_correlate(x, w, P=None, conj=True, crop=0, length=None):
    """A configurable FFT correlation, so that each test injects one mistake."""
    n, k = len(x), len(w)
    P = P or n
    W = sfft.rfft(w, P)
    y = sfft.irfft(sfft.rfft(x, P) * (np.conj(W) if conj else W), P)
    return y[crop : crop + (n - k + 1 if length is None else length)]


def reversed_kernel(x, w, P=None, crop=None):
    """Cross-correlation as the convolution with the reversed kernel."""
    n, k = len(x), len(w)
    P = P or n + k - 1
    y = sfft.irfft(sfft.rfft(x, P) * sfft.rfft(w[::-1], P), P)
    start = k - 1 if crop is None else crop
    return y[start : start + n - k + 1]


def test_fft_reference_is_cnnlib_conv1d_and_numpy():
    for x, w in _FFT_CASES:
        want = conv1d(x[None, None], w[None, None])[0, 0]
        assert np.allclose(want, np.correlate(x, w, mode="valid"))
        n, k = len(x), len(w)
        for P in (n, n + k - 1, 2 * n):  # any P >= n: the first n - k + 1 never wrap
            assert np.allclose(_circular(x, w, P)[: n - k + 1], want)


@pytest.mark.parametrize(
    "right",
    [
        fft_correlate,
        lambda x, w: fft_correlate(x, w, P=sfft.next_fast_len(len(x) + len(w) - 1)),
        reversed_kernel,
        lambda x, w: reversed_kernel(x, w, P=len(x)),  # P = n is enough here too
        lambda x, w: np.correlate(x, w, mode="valid"),
    ],
    ids=["P=n", "fast-full", "reversed-kernel", "reversed-kernel-P=n", "np"],
)
def test_fft_correlate_correct_answers_pass(right, capsys):
    assert check_fft_correlate(right)
    assert "correct" in capsys.readouterr().out


def complex_ifft(x, w, conj=True):
    n, k = len(x), len(w)
    W = sfft.fft(w, n)
    return sfft.ifft(sfft.fft(x) * (np.conj(W) if conj else W))[: n - k + 1]


def reverses_w_in_place(x, w):
    w[:] = w[::-1]
    return reversed_kernel(x, w[::-1])


FFT_WRONG = [
    (lambda x, w: fft_correlate(x, w, conj=False), "convolution instead"),
    (
        lambda x, w: fft_correlate(x, w, P=2 * len(x), conj=False),
        "convolution instead",
    ),
    (lambda x, w: np.convolve(x, w, mode="valid"), "convolution instead"),
    (
        lambda x, w: sfft.irfft(np.conj(sfft.rfft(x)) * sfft.rfft(w, len(x)), len(x))[
            : len(x) - len(w) + 1
        ],
        "wrong spectrum is conjugated",
    ),
    (
        lambda x, w: fft_correlate(x, w, crop=len(w) - 1),
        "wrong crop.*x\\[i \\+ 2\\].*wrap around.*CIRCULAR",
    ),
    (
        lambda x, w: fft_correlate(x, w, P=len(x) + len(w) - 1, crop=len(w) - 1),
        "wrong crop.*zero padding",
    ),
    (
        lambda x, w: reversed_kernel(x, w, P=len(x), crop=0),
        "wrong crop.*x\\[i - 2\\].*wrap around",
    ),
    (
        lambda x, w: reversed_kernel(x, w, crop=0),
        "wrong crop.*x\\[i - 2\\].*zero padding",
    ),
    (
        lambda x, w: fft_correlate(x, w, P=len(x) - len(w) + 1),
        "shorter than the signal",
    ),
    (
        lambda x, w: fft_correlate(
            x, w, P=len(x) + len(w) - 1, length=len(x) + len(w) - 1
        ),
        "n \\+ k - 1 = 12 values, the 'full' correlation",
    ),
    (lambda x, w: fft_correlate(x, w, length=len(x)), "you returned n = 10 values"),
    (
        lambda x, w: fft_correlate(x, w, P=2 * len(x), length=2 * len(x)),
        "all P = 20 outputs",
    ),
    (lambda x, w: fft_correlate(x, w)[1:], "length n - k \\+ 1 = 8, got 7"),
    (lambda x, w: fft_correlate(x, w)[None], "1-D array"),
    (
        complex_ifft,
        "^\\(n=10, k=3\\): your result is complex \\(complex128\\)[^;]*;[^;]*$",
    ),
    (
        lambda x, w: complex_ifft(x, w, conj=False),
        "complex.*besides, convolution instead",
    ),
    (lambda x, w: fft_correlate(x, w).astype(np.float32), "float32"),
    (
        lambda x, w: fft_correlate(x, w).astype(int),
        "integer array .*fractions were cut off",
    ),
    (reverses_w_in_place, "changed its input w in place: its entries were reversed"),
    (lambda x, w: fft_correlate(assume_contiguous(x), w), "stored non-contiguously"),
]


@pytest.mark.parametrize(
    "wrong, message",
    FFT_WRONG,
    ids=[
        "no-conj",
        "no-conj-padded",
        "np-convolve",
        "conj-x",
        "crop-wraps",
        "crop-padding",
        "reversed-crop-wraps",
        "reversed-crop-padding",
        "P-too-short",
        "full",
        "length-n",
        "length-P",
        "one-short",
        "2-D",
        "complex",
        "complex-and-convolution",
        "float32",
        "int",
        "mutates-w",
        "as-strided",
    ],
)
def test_fft_correlate_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_fft_correlate(wrong)


# --------------------------------------------------------------------------------------
# rotate_p4_np(y, r): planes turned by r·90°, plane s moved to s + r


def rotate_p4_np(y, r, a=1, b=1, axis=-3):
    """A configurable rotation: planes turned by a·r·90°, axis shifted by b·r."""
    return np.roll(np.rot90(y, a * r, axes=(-2, -1)), b * r, axis=axis)


def rotate_by_loop(y, r):
    for _ in range(r):  # range(-1) is empty: r % 4 is missing
        y = rotate_p4_np(y, 1)
    return y


def rotate_by_index(y, r):
    planes = [s - r for s in range(4)]  # no % 4: s - 5 is out of range
    return np.rot90(y[..., planes, :, :], r, axes=(-2, -1))


def rolls_y_in_place(y, r):
    np.copyto(y, np.roll(y, r, axis=-3))
    return np.rot90(y, r, axes=(-2, -1))


def test_rotate_p4_reference_agrees_with_numpy():
    for y, r in _P4_CASES:
        want = rotate_p4(torch.from_numpy(y), r).numpy()
        assert np.array_equal(want, rotate_p4_np(y, r % 4))


@pytest.mark.parametrize(
    "right",
    [
        rotate_p4_np,
        lambda y, r: np.rot90(np.roll(y, r, axis=-3), r, axes=(-2, -1)),  # a view
        lambda y, r: y if r % 4 == 0 else rotate_p4_np(y, r),  # y itself for r = 0
        lambda y, r: rotate_p4(torch.from_numpy(y), r).numpy(),
        lambda y, r: rotate_by_loop(y, r % 4),
    ],
    ids=["numpy", "view", "aliases-y", "torch", "loop-mod-4"],
)
def test_rotate_p4_correct_answers_pass(right, capsys):
    assert check_rotate_p4(right)
    assert "correct" in capsys.readouterr().out


P4_WRONG = [
    (lambda y, r: rotate_p4_np(y, r, b=0), "rotated but the rotation axis is not"),
    (lambda y, r: rotate_p4_np(y, r, b=-1), "shifted the wrong way"),
    (lambda y, r: rotate_p4_np(y, r, a=-1), "rotated the wrong way \\(clockwise"),
    (lambda y, r: rotate_p4_np(y, r, a=-1, b=-1), "inverse rotation"),
    (lambda y, r: rotate_p4_np(y, r, a=0), "shifted but the planes are not rotated"),
    (lambda y, r: y.copy(), "returned y unchanged"),
    (rotate_by_loop, "not taken modulo 4: for r = -1 your function left y unchanged"),
    (rotate_by_index, "IndexError.*\n.*r % 4"),
    (lambda y, r: rotate_p4_np(y, r, axis=0), "roll is along axis 0"),
    (lambda y, r: rotate_p4_np(y, r, axis=2), "roll is along axis 2"),
    (lambda y, r: np.roll(np.rot90(y, r), r, axis=-3), "turns the FIRST two axes"),
    (
        lambda y, r: np.roll(np.swapaxes(y, -1, -2), r, axis=-3),
        "mirrored .*not rotated",
    ),
    (lambda y, r: rotate_p4_np(y, r).astype(np.float32), "float32"),
    (lambda y, r: rotate_p4_np(y, r)[..., :-1], "should have shape \\(4, 5, 3\\)"),
    (rolls_y_in_place, "changed its input y in place"),
    (lambda y, r: rotate_p4_np(assume_contiguous(y), r), "stored non-contiguously"),
]


@pytest.mark.parametrize(
    "wrong, message",
    P4_WRONG,
    ids=[
        "axis-not-shifted",
        "axis-wrong-way",
        "clockwise",
        "inverse",
        "not-rotated",
        "unchanged",
        "no-mod-loop",
        "no-mod-index",
        "axis-0",
        "axis-2",
        "rot90-default-axes",
        "transposed",
        "float32",
        "shape",
        "mutates-y",
        "as-strided",
    ],
)
def test_rotate_p4_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_rotate_p4(wrong)
