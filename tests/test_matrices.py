"""cnnlib.matrices: output sizes, convolution as a matrix (and its transpose), and
circulant matrices, checked against torch and cnnlib.conv."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlib.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from cnnlib.matrices import circulant, conv_matrix, conv_output_size

TORCH_CONV = {1: F.conv1d, 2: F.conv2d}
TORCH_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d}
CONV_T = {1: conv_transpose1d, 2: conv_transpose2d}


def assert_close(actual, expected, tol=1e-10):
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape
    assert actual.dtype == np.float64
    assert np.linalg.norm(actual - expected) <= tol * np.linalg.norm(expected)


# --- conv_output_size --------------------------------------------------------------


@pytest.mark.parametrize(
    "n, k, stride, padding, dilation, expected",
    [
        (7, 3, 2, 0, 1, 3),  # floor((7 - 3) / 2) + 1
        (5, 3, 2, 1, 1, 3),  # floor((5 + 2 - 3) / 2) + 1
        (5, 3, 1, 0, 1, 3),  # the 5x5 image and 3x3 kernel of the slides
        (3, 2, 1, 1, 1, 4),  # the zero-padding example: 3x3 -> 4x4
        (6, 3, 1, 1, 1, 6),  # 'same' for an odd kernel
        (8, 3, 3, 0, 1, 2),  # floor(5 / 3) + 1
        (7, 3, 1, 0, 2, 3),  # dilation 2 spans 5 inputs
        (1, 1, 1, 0, 1, 1),
    ],
)
def test_conv_output_size_hand_cases(n, k, stride, padding, dilation, expected):
    assert conv_output_size(n, k, stride, padding, dilation) == expected


def test_conv_output_size_matches_torch_shapes():
    rng = np.random.default_rng(5)
    for _ in range(60):
        k, stride, padding, dilation = (int(v) for v in rng.integers(1, 4, 4))
        n = max(1, dilation * (k - 1) + 1 - 2 * padding) + int(rng.integers(0, 6))
        x, w = torch.zeros(1, 1, n, dtype=torch.float64), torch.zeros(1, 1, k).double()
        y = F.conv1d(x, w, stride=stride, padding=padding, dilation=dilation)
        assert conv_output_size(n, k, stride, padding, dilation) == y.shape[-1]


# --- conv_matrix -------------------------------------------------------------------


def matrix_configs(nd, count, seed):
    rng = np.random.default_rng(seed)
    configs = []
    for i in range(count):
        k = tuple(int(v) for v in rng.integers(1, 4, nd))
        dilation = tuple(int(v) for v in rng.integers(1, 3, nd))
        stride = tuple(int(v) for v in rng.integers(1, 4, nd))
        padding = tuple(int(v) for v in rng.integers(0, 3, nd))
        size = tuple(
            max(1, d * (kk - 1) + 1 - 2 * p) + int(rng.integers(0, 5))
            for kk, d, p in zip(k, dilation, padding, strict=True)
        )
        c_out, c_in = (int(v) for v in rng.integers(1, 4, 2))
        configs.append(
            dict(
                seed=seed * 1000 + i,
                w=(c_out, c_in, *k),
                size=size[0] if nd == 1 else size,
                kwargs=dict(stride=stride, padding=padding, dilation=dilation),
            )
        )
    return configs


MATRIX_CASES = [(nd, c) for nd in (1, 2) for c in matrix_configs(nd, 60, seed=20 + nd)]
matrix_cases = pytest.mark.parametrize(
    "nd, cfg",
    MATRIX_CASES,
    ids=[
        f"w{c['w']}-n{c['size']}-{c['kwargs']}".replace(" ", "")
        for _, c in MATRIX_CASES
    ],
)


def _torch(fn, *arrays, **kwargs):
    return fn(*(torch.from_numpy(a) for a in arrays), **kwargs).numpy()


@matrix_cases
def test_conv_matrix_times_x_is_conv(nd, cfg):
    rng = np.random.default_rng(cfg["seed"])
    w = rng.standard_normal(cfg["w"])
    x = rng.standard_normal((w.shape[1], *np.atleast_1d(cfg["size"])))
    M = conv_matrix(w, cfg["size"], **cfg["kwargs"])
    y = _torch(TORCH_CONV[nd], x[None], w, **cfg["kwargs"])[0]
    assert M.shape == (y.size, x.size)
    assert_close(M @ x.ravel(), y.ravel())


def per_axis(cfg, w):
    """(n, k, stride, padding, dilation) for each spatial axis of a config."""
    kw = cfg["kwargs"]
    sizes = np.atleast_1d(cfg["size"]).tolist()
    return zip(
        sizes, w.shape[2:], kw["stride"], kw["padding"], kw["dilation"], strict=True
    )


@matrix_cases
def test_conv_matrix_transpose_is_conv_transpose(nd, cfg):
    rng = np.random.default_rng(cfg["seed"])
    w = rng.standard_normal(cfg["w"])
    M = conv_matrix(w, cfg["size"], **cfg["kwargs"])
    out = [conv_output_size(*axis) for axis in per_axis(cfg, w)]
    y = rng.standard_normal((w.shape[0], *out))
    # output_padding restores the input positions the forward floor division dropped
    out_pad = tuple(
        (n + 2 * p - d * (k - 1) - 1) % s for n, k, s, p, d in per_axis(cfg, w)
    )
    kw = dict(cfg["kwargs"], output_padding=out_pad)
    x_back = _torch(TORCH_CONV_T[nd], y[None], w, **kw)[0]
    assert x_back.shape == (w.shape[1], *np.atleast_1d(cfg["size"]))
    assert_close(M.T @ y.ravel(), x_back.ravel())
    assert_close(M.T @ y.ravel(), CONV_T[nd](y[None], w, **kw)[0].ravel())


def test_conv_matrix_of_a_plain_kernel_is_banded():
    M = conv_matrix([1, 2, 3], 5)
    expected = [[1, 2, 3, 0, 0], [0, 1, 2, 3, 0], [0, 0, 1, 2, 3]]
    assert_close(M, expected, tol=0)
    strided = conv_matrix([1, 2], 5, stride=2, padding=1)  # rows shift by 2
    assert_close(strided, [[2, 0, 0, 0, 0], [0, 1, 2, 0, 0], [0, 0, 0, 1, 2]], tol=0)


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_conv_matrix_accepts_padding_strings(padding):
    rng = np.random.default_rng(2)
    w, x = rng.standard_normal((2, 3, 2, 3)), rng.standard_normal((3, 5, 4))
    M = conv_matrix(w, (5, 4), padding=padding, dilation=(2, 1))
    expected = conv2d(x[None], w, padding=padding, dilation=(2, 1))[0]
    assert_close(M @ x.ravel(), expected.ravel())


# --- circulant ---------------------------------------------------------------------


def test_circulant_hand_example():
    expected = [[1, 2, 0, 0], [0, 1, 2, 0], [0, 0, 1, 2], [2, 0, 0, 1]]
    assert_close(circulant([1, 2], 4), expected, tol=0)


@pytest.mark.parametrize("n, k", [(1, 1), (5, 1), (5, 3), (6, 6), (9, 4), (16, 5)])
def test_circulant_is_periodic_cross_correlation(n, k):
    rng = np.random.default_rng(n * 100 + k)
    w, x = rng.standard_normal(k), rng.standard_normal(n)
    wrapped = np.concatenate([x, x[: k - 1]])  # x continued periodically
    expected = conv1d(wrapped[None, None], w[None, None])[0, 0]
    assert_close(circulant(w, n) @ x, expected)


@pytest.mark.parametrize("n, k", [(5, 3), (8, 5), (7, 1), (12, 7)])
def test_circulant_matches_torch_circular_padding(n, k):
    # torch pads (k - 1) / 2 on each side, so its output is ours rolled by that much
    rng = np.random.default_rng(n + k)
    w, x = rng.standard_normal(k), rng.standard_normal(n)
    layer = torch.nn.Conv1d(1, 1, k, padding=(k - 1) // 2, padding_mode="circular")
    layer = layer.double()
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(w).view(1, 1, k))
        layer.bias.zero_()
        y = layer(torch.from_numpy(x).view(1, 1, n))[0, 0].numpy()
    assert_close(np.roll(circulant(w, n) @ x, (k - 1) // 2), y)


@pytest.mark.parametrize("n, k", [(4, 2), (7, 3), (10, 10)])
def test_circulant_commutes_with_cyclic_shift(n, k):
    C = circulant(np.random.default_rng(k).standard_normal(k), n)
    S = np.roll(np.eye(n), 1, axis=0)  # (S x)[i] = x[i - 1]
    assert_close(C @ S, S @ C)
    assert not np.allclose(S @ np.diag(np.arange(n)), np.diag(np.arange(n)) @ S)
