"""The 1D chapter's models: shapes, hand-counted parameters, errors that name shapes."""

import pytest
import torch
from torch import nn

from cnnlib.models import count_parameters
from cnnlib.models.cnn1d import MNIST1DCNN, MNIST1DMLP, BetterCNN1d, SpokenDigitCNN


def conv_params(c_in, c_out, k, bias=True):
    return c_out * c_in * k + (c_out if bias else 0)


def linear_params(n_in, n_out):
    return n_in * n_out + n_out


def bn_params(c):
    return 2 * c  # gamma and beta; the running statistics are buffers


# --------------------------------------------------------------------------------------
# MNIST1DCNN and MNIST1DMLP


def test_mnist1d_cnn_shapes_and_parameters():
    model = MNIST1DCNN()
    x = torch.randn(5, 1, 40)
    assert model(x).shape == (5, 10)
    assert model(x[:, 0]).shape == (5, 10)  # (N, 40) works too
    lengths = [model.features[: 2 * i + 1](x).shape[-1] for i in range(3)]
    assert lengths == [19, 9, 4]
    # the lecture's numbers: 60 + 690 + 690 + 610
    hand = 3 * 15 + 15 + 2 * (15 * 15 * 3 + 15) + (15 * 4 * 10 + 10)
    assert hand == 2050
    assert count_parameters(model) == hand
    wide = MNIST1DCNN(channels=32)
    assert count_parameters(wide) == (
        conv_params(1, 32, 3) + 2 * conv_params(32, 32, 3) + linear_params(128, 10)
    )


def test_mnist1d_mlp_shapes_and_parameters():
    model = MNIST1DMLP()
    assert model(torch.randn(4, 40)).shape == (4, 10)
    assert model(torch.randn(4, 1, 40)).shape == (4, 10)
    hand = 40 * 285 + 285 + 285 * 135 + 135 + 135 * 60 + 60 + 60 * 10 + 10
    assert hand == 59065
    assert count_parameters(model) == hand
    small = MNIST1DMLP(hidden=(100, 100))
    assert count_parameters(small) == (
        linear_params(40, 100) + linear_params(100, 100) + linear_params(100, 10)
    )


@pytest.mark.parametrize("cls", [MNIST1DCNN, MNIST1DMLP])
@pytest.mark.parametrize("shape", [(2, 3, 40), (2, 41), (2, 1, 39), (40,)])
def test_mnist1d_models_name_the_bad_shape(cls, shape):
    with pytest.raises(
        ValueError, match=str(shape).replace("(", r"\(").replace(")", r"\)")
    ):
        cls()(torch.randn(*shape))


def test_mnist1d_models_check_their_arguments():
    with pytest.raises(ValueError, match="channels must be an int >= 1"):
        MNIST1DCNN(channels=0)
    with pytest.raises(ValueError, match="hidden width"):
        MNIST1DMLP(hidden=(10, 0))


# --------------------------------------------------------------------------------------
# BetterCNN1d


def better_hand_count(channels=32, depth=3, k=5, batch_norm=True, global_pool=True):
    c, total, c_in = channels, 0, 1
    for _ in range(depth):
        total += conv_params(c_in, c, k, bias=not batch_norm)
        total += bn_params(c) if batch_norm else 0
        c_in = c
    n = 40 // 2 // 2 // 2  # 'same' padding, then max pooling of 2, three times: 5
    return total + linear_params(c if global_pool else c * n, 10)


@pytest.mark.parametrize(
    "kwargs, hand",
    [
        ({}, better_hand_count()),
        ({"padding": False}, better_hand_count()),  # same weights, shorter signals
        ({"channels": 15}, better_hand_count(channels=15)),
        ({"batch_norm": False}, better_hand_count(batch_norm=False)),
        ({"global_pool": False}, better_hand_count(global_pool=False)),
        ({"downsample": "stride"}, better_hand_count()),
    ],
)
def test_better_cnn_parameters(kwargs, hand):
    model = BetterCNN1d(**kwargs)
    assert count_parameters(model) == hand
    assert model(torch.randn(3, 1, 40)).shape == (3, 10)


def test_better_cnn_numbers_in_the_docstring():
    assert count_parameters(BetterCNN1d()) == 10922
    assert count_parameters(BetterCNN1d(channels=15)) == 2575
    assert "10,922" in BetterCNN1d.__doc__


def test_better_cnn_global_pool_takes_any_length_flatten_does_not():
    assert BetterCNN1d()(torch.randn(2, 64)).shape == (2, 10)
    with pytest.raises(ValueError, match=r"\(N, 40\) or \(N, 1, 40\), got \(2, 64\)"):
        BetterCNN1d(global_pool=False)(torch.randn(2, 64))


def test_better_cnn_errors():
    with pytest.raises(ValueError, match="downsample must be 'pool' or 'stride'"):
        BetterCNN1d(downsample="avg")
    with pytest.raises(ValueError, match="shrinks to nothing"):
        BetterCNN1d(depth=6, padding=False)
    with pytest.raises(ValueError, match=r"\(2, 2, 40\)"):
        BetterCNN1d()(torch.randn(2, 2, 40))


# --------------------------------------------------------------------------------------
# SpokenDigitCNN


def test_spoken_digit_cnn_shapes_and_parameters():
    model = SpokenDigitCNN()
    assert model(torch.randn(2, 8000)).shape == (2, 10)
    assert model(torch.randn(2, 1, 8000)).shape == (2, 10)
    hand = (
        conv_params(1, 16, 16, bias=False)
        + bn_params(16)
        + conv_params(16, 32, 3, bias=False)
        + bn_params(32)
        + conv_params(32, 64, 3, bias=False)
        + bn_params(64)
        + conv_params(64, 64, 3, bias=False)
        + bn_params(64)
        + linear_params(64, 10)
    )
    assert hand == 21226
    assert count_parameters(model) == hand
    # 8000 -> 1000 (stride 8) -> 250 -> 62 -> 15 positions before global pooling
    assert model.features(torch.randn(1, 1, 8000)).shape == (1, 64, 15)


def test_spoken_digit_cnn_is_shift_invariant_by_whole_strides():
    """Global max pooling: a shift by whole multiples of the total stride (512
    samples) in a zero-padded clip leaves the logits unchanged."""
    torch.manual_seed(0)
    model = SpokenDigitCNN().eval()
    x = torch.zeros(1, 8000)
    x[0, 3000:4000] = torch.randn(1000)
    shifted = torch.roll(x, 1024, dims=-1)
    assert torch.allclose(model(x), model(shifted), atol=1e-5)


def test_spoken_digit_cnn_errors_name_shapes():
    model = SpokenDigitCNN()
    assert model.min_length == 512
    assert model.eval()(torch.randn(1, 512)).shape == (1, 10)
    with pytest.raises(ValueError, match=r"at least 512 samples, got shape \(1, 511\)"):
        model(torch.randn(1, 511))
    with pytest.raises(ValueError, match=r"\(2, 3, 8000\)"):
        model(torch.randn(2, 3, 8000))
    with pytest.raises(ValueError, match="channels must list 4 widths"):
        SpokenDigitCNN(channels=(8, 8))
    with pytest.raises(ValueError, match="pool_type must be 'avg' or 'max'"):
        SpokenDigitCNN(pool_type="median")


def test_models_are_modules():
    for model in (MNIST1DCNN(), MNIST1DMLP(), BetterCNN1d(), SpokenDigitCNN()):
        assert isinstance(model, nn.Module)
