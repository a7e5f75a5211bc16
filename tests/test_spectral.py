"""cnnlib.spectral: convolution by the convolution theorem, against torch in float64
and against the direct ops' checks and errors."""

import re
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import cnnlib
from cnnlib.grad import relative_error
from cnnlib.spectral import fft_conv1d, fft_conv2d

torch.set_num_threads(1)
OPS = {
    1: (fft_conv1d, F.conv1d, cnnlib.conv1d),
    2: (fft_conv2d, F.conv2d, cnnlib.conv2d),
}


def configurations(nd, count=60, seed=0):
    """Random valid (x, w, b, padding) for stride 1, dilation 1, groups 1."""
    rng = np.random.default_rng(seed + nd)
    for _ in range(count):
        size = rng.integers(1, 14, size=nd)
        pad = [0, 1, 3, "same", "valid", tuple(rng.integers(0, 3, size=nd))]
        padding = pad[rng.integers(len(pad))]
        room = size + (0 if isinstance(padding, str) else 2 * np.array(padding))
        k = [int(rng.integers(1, r + 1)) for r in room]
        if padding == "same":
            k = [int(rng.integers(1, 8)) for _ in room]  # 'same' always fits
        N, C_in, C_out = rng.integers(1, 4), rng.integers(1, 4), rng.integers(1, 5)
        x = rng.standard_normal((N, C_in, *size))
        w = rng.standard_normal((C_out, C_in, *k))
        b = rng.standard_normal(C_out) if rng.random() < 0.5 else None
        yield x, w, b, padding


@pytest.mark.parametrize("nd", [1, 2])
def test_equals_torch_in_float64(nd):
    fft_conv, torch_conv, _ = OPS[nd]
    worst = 0.0
    for x, w, b, padding in configurations(nd):
        with warnings.catch_warnings():  # torch: 'same' with an even kernel pads a copy
            warnings.simplefilter("ignore")
            want = torch_conv(
                torch.tensor(x),
                torch.tensor(w),
                None if b is None else torch.tensor(b),
                padding=padding,
            ).numpy()
        got = fft_conv(x, w, b, padding=padding)
        assert got.shape == want.shape and got.dtype == np.float64
        worst = max(worst, relative_error(got, want))
    assert worst < 1e-10


@pytest.mark.parametrize("nd", [1, 2])
def test_float32_stays_float32_and_unbatched_and_empty_inputs_work(nd):
    fft_conv, _, direct = OPS[nd]
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, *[9] * nd)).astype(np.float32)
    w = rng.standard_normal((4, 3, *[4] * nd)).astype(np.float32)
    y = fft_conv(x, w, padding="same")
    assert y.dtype == np.float32
    assert relative_error(y, direct(x, w, padding="same")) < 1e-5
    np.testing.assert_allclose(fft_conv(x[0], w), fft_conv(x, w)[0], atol=1e-5)
    assert fft_conv(x[:0], w).shape == (0, 4, *[6] * nd)


X, W = np.zeros((1, 2, 8)), np.zeros((3, 2, 3))  # a valid pair
BAD = [
    ((X, np.zeros((3, 4, 3))), {}, ValueError, "input has 2 channels"),
    ((X[..., :4], np.zeros((3, 2, 5))), {}, ValueError, "kernel size 5"),
    ((X, np.zeros((3, 2))), {}, ValueError, "weight must be 3-D"),
    ((np.zeros((8,)), W), {}, ValueError, "input must be 3-D"),
    ((X, W), {"padding": -1}, ValueError, "padding"),
    ((X, W), {"padding": "full"}, ValueError, "padding"),
    ((X, W), {"padding": 1.5}, TypeError, "padding"),
    ((X, W, np.zeros(2)), {}, ValueError, "bias"),
    ((X + 1j, W), {}, TypeError, "must be real"),
]


@pytest.mark.parametrize("args, kwargs, error, message", BAD)
def test_bad_inputs_get_the_direct_ops_messages_under_their_own_name(
    args, kwargs, error, message
):
    with pytest.raises(error, match=f"fft_conv1d: .*{message}") as ours:
        fft_conv1d(*args, **kwargs)
    with pytest.raises(error) as direct:
        cnnlib.conv1d(*args, **kwargs)
    assert str(ours.value) == str(direct.value).replace("conv1d", "fft_conv1d", 1)


def test_a_two_dimensional_error_names_the_axis():
    with pytest.raises(
        ValueError, match=re.escape("fft_conv2d: kernel size 9 along W")
    ):
        fft_conv2d(np.zeros((1, 1, 9, 4)), np.zeros((1, 1, 3, 9)))
