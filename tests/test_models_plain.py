"""PlainCNN: shapes, hand-counted parameters, batch norm on or off, initialisation."""

import pytest
import torch
from torch import nn

from cnnlib.models import PlainCNN, count_parameters
from cnnlib.models.plain import he_std, stage_depths


def hand_count(depth, width, batch_norm, classes=10, c_in=1):
    """Weights + biases (no BN) or weights + gamma, beta (BN) of every layer."""
    total, widths = 0, [width]
    for i, n in enumerate(stage_depths(depth)):
        widths += [width * 2**i] * n
    for a, b in zip([c_in, *widths[:-1]], widths, strict=True):
        total += a * b * 9 + (2 * b if batch_norm else b)
    return total + widths[-1] * classes + classes


@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("depth, width", [(20, 8), (20, 16), (7, 4), (4, 2)])
def test_parameter_counts(depth, width, batch_norm):
    model = PlainCNN(depth, width, batch_norm=batch_norm)
    assert count_parameters(model) == hand_count(depth, width, batch_norm)


def test_numbers_in_the_docstring():
    assert count_parameters(PlainCNN(20, 16)) == 305674
    assert count_parameters(PlainCNN(20, 16, batch_norm=True)) == 306426
    assert "305,674" in PlainCNN.__doc__ and "306,426" in PlainCNN.__doc__


def test_stage_depths_split_evenly():
    assert stage_depths(20) == (6, 6, 7)
    assert stage_depths(4) == (1, 1, 1)
    assert stage_depths(6) == (1, 2, 2)
    for depth in range(4, 40):
        n = stage_depths(depth)
        assert sum(n) == depth - 1 and max(n) - min(n) <= 1


@pytest.mark.parametrize("batch_norm", [False, True])
def test_shapes_per_stage(batch_norm):
    model = PlainCNN(10, 4, num_classes=7, in_channels=3, batch_norm=batch_norm)
    x = torch.randn(2, 3, 28, 28)
    assert model(x).shape == (2, 7)
    h = model.relu(model.bn1(model.conv1(x)))
    shapes = []
    for stage in (model.layer1, model.layer2, model.layer3):
        h = stage(h)
        shapes.append(tuple(h.shape))
    assert shapes == [(2, 4, 28, 28), (2, 8, 14, 14), (2, 16, 7, 7)]
    assert model(torch.randn(1, 3, 9, 13)).shape == (1, 7)  # any size: global pool


def test_depth_counts_convolutions_and_bn_follows_each():
    plain, bn = PlainCNN(20, 4), PlainCNN(20, 4, batch_norm=True)
    assert len(plain.convs()) == len(bn.convs()) == 20
    assert not any(isinstance(m, nn.BatchNorm2d) for m in plain.modules())
    assert sum(isinstance(m, nn.BatchNorm2d) for m in bn.modules()) == 20
    assert all(c.bias is None for c in bn.convs())  # beta replaces the bias
    assert all(c.bias is not None and not c.bias.any() for c in plain.convs())
    assert isinstance(bn.bn1, nn.BatchNorm2d) and isinstance(bn.layer1[0].bn, nn.Module)
    assert [c.stride for c in plain.convs()].count((2, 2)) == 2


def test_he_initialisation_and_weight_scale():
    torch.manual_seed(0)
    model = PlainCNN(10, 32)
    conv = model.layer3[-1].conv  # 128 x 128 x 3 x 3 weights
    assert he_std(conv) == pytest.approx((2 / (128 * 9)) ** 0.5)
    assert conv.weight.std().item() == pytest.approx(he_std(conv), rel=0.02)
    torch.manual_seed(0)
    scaled = PlainCNN(10, 32, weight_scale=0.5)
    assert torch.equal(scaled.layer3[-1].conv.weight, 0.5 * conv.weight)
    assert torch.equal(scaled.fc.weight, model.fc.weight)  # fc keeps its default


def test_same_seed_same_model():
    torch.manual_seed(3)
    a = PlainCNN(8, 4, batch_norm=True)
    torch.manual_seed(3)
    b = PlainCNN(8, 4, batch_norm=True)
    x = torch.randn(3, 1, 12, 12)
    assert torch.equal(a(x), b(x))
    for (name, p), q in zip(
        a.state_dict().items(), b.state_dict().values(), strict=True
    ):
        assert torch.equal(p, q), name


def test_batch_norm_model_in_eval_mode_is_per_sample():
    torch.manual_seed(0)
    model = PlainCNN(6, 4, batch_norm=True)
    x = torch.randn(5, 1, 10, 10)
    model(x)  # one training-mode pass updates the running statistics
    model.eval()
    together = model(x)
    alone = torch.cat([model(x[i : i + 1]) for i in range(5)])
    assert torch.allclose(together, alone, atol=1e-5)


def test_errors_name_the_argument_and_shape():
    with pytest.raises(ValueError, match="depth must be an int >= 4"):
        PlainCNN(3)
    with pytest.raises(ValueError, match="width must be an int >= 1"):
        PlainCNN(20, 0)
    with pytest.raises(ValueError, match="weight_scale must be a number > 0"):
        PlainCNN(20, 8, weight_scale=0)
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\), got shape \(2, 3, 8, 8\)"):
        PlainCNN(5, 2)(torch.randn(2, 3, 8, 8))
    with pytest.raises(ValueError, match=r"got shape \(8, 8\)"):
        PlainCNN(5, 2)(torch.randn(8, 8))
