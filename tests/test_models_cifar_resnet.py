"""CifarResNet (He et al. 2016, section 4.2): depth 6n + 2, option-B projections,
the plain twin, pre-activation, no batch norm, odd input sizes."""

import math

import pytest
import torch
from torch import nn

from cnnlib.models import (
    BasicBlock,
    CifarResNet,
    PreActBasicBlock,
    count_parameters,
)
from cnnlib.models.cifar_resnet import cifar_blocks

torch.set_num_threads(1)


def hand_count(depth, w, residual, bn, classes=10, c_in=1):
    """Convolutions, norms (2 per channel) or biases (1), projections, fc."""
    n, extra = (depth - 2) // 6, 2 if bn else 1
    total = c_in * w * 9 + extra * w  # stem
    for s in range(3):
        c = w * 2**s
        first_in = w if s == 0 else c // 2
        total += first_in * c * 9 + (2 * n - 1) * c * c * 9 + 2 * n * extra * c
        if residual and s > 0:
            total += first_in * c + extra * c  # 1x1 projection (option B)
    return total + 4 * w * classes + classes


@pytest.mark.parametrize("depth, w", [(8, 4), (20, 16), (32, 8)])
@pytest.mark.parametrize("bn", [True, False])
@pytest.mark.parametrize("residual", [True, False])
def test_parameter_counts_by_hand(depth, w, bn, residual):
    model = CifarResNet(depth, w, residual=residual, batch_norm=bn)
    assert count_parameters(model) == hand_count(depth, w, residual, bn)


@pytest.mark.parametrize("w", [4, 16])
def test_plain_twin_differs_exactly_by_the_projections(w):
    def diff(**kw):
        res = CifarResNet(20, w, **kw)
        plain = CifarResNet(20, w, residual=False, **kw)
        return count_parameters(res) - count_parameters(plain)

    assert diff() == 10 * w * w + 12 * w  # 2 w^2 + 8 w^2 weights, 2 (2w + 4w) norm
    assert diff(batch_norm=False) == 10 * w * w + 6 * w  # biases instead of norms
    assert diff(preact=True) == 10 * w * w  # pre-act projections: conv only


def test_numbers_in_the_docstrings():
    assert count_parameters(CifarResNet(20)) == 272_186
    assert count_parameters(CifarResNet(20, residual=False)) == 269_434
    assert count_parameters(CifarResNet(20, in_channels=3)) == 272_474
    assert "272,186" in CifarResNet.__doc__ and "269,434" in CifarResNet.__doc__


@pytest.mark.parametrize("depth", [8, 20, 56])
def test_depth_counts_weight_layers(depth):
    model = CifarResNet(depth)
    convs3 = [
        m
        for m in model.modules()
        if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)
    ]
    assert len(convs3) + 1 == depth  # + fc; the 1x1 projections are not counted
    assert len([b for b in model.blocks() if isinstance(b, BasicBlock)]) == 3 * (
        (depth - 2) // 6
    )
    strided = [c for c in convs3 if c.stride == (2, 2)]
    assert len(strided) == 2


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"residual": False},
        {"preact": True},
        {"batch_norm": False},
        {"preact": True, "residual": False, "batch_norm": False},
    ],
)
def test_stage_shapes_on_odd_sizes(kw):
    torch.manual_seed(0)
    model = CifarResNet(8, 4, num_classes=7, **kw)
    for size, stages in [
        ((28, 28), [(28, 28), (14, 14), (7, 7)]),
        ((13, 17), [(13, 17), (7, 9), (4, 5)]),
        ((1, 2), [(1, 2), (1, 1), (1, 1)]),
    ]:
        x = model.conv1(torch.randn(2, 1, *size))
        got = []
        for layer in (model.layer1, model.layer2, model.layer3):
            x = layer(x)
            got.append(tuple(x.shape[2:]))
        assert got == stages, size
        assert model(torch.randn(2, 1, *size)).shape == (2, 7)


def test_plain_twin_has_no_skips():
    torch.manual_seed(0)
    plain = CifarResNet(8, 4, residual=False)
    assert all(b.downsample is None and not b.residual for b in plain.blocks())
    block = plain.layer2[0]
    x = torch.randn(2, 4, 9, 9)
    branch = block.bn2(block.conv2(block.relu(block.bn1(block.conv1(x)))))
    assert torch.allclose(block(x), torch.relu(branch))
    res = CifarResNet(8, 4)
    assert [type(m) for m in res.layer2[0].downsample] == [nn.Conv2d, nn.BatchNorm2d]
    assert res.layer2[0].downsample[0].kernel_size == (1, 1)


def test_batch_norm_off_and_initialisation():
    torch.manual_seed(0)
    model = CifarResNet(8, 64, batch_norm=False)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert all(c.bias is not None and not c.bias.any() for c in convs)
    conv = model.layer3[0].conv2  # 256 x 256 x 3 x 3, He normal with fan_in
    assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / (256 * 9)), rel=0.02)
    first = model.layer3[0].conv1  # fan_in 128 * 9 (fan_out would be 256 * 9)
    assert first.weight.std().item() == pytest.approx(
        math.sqrt(2 / (128 * 9)), rel=0.02
    )


def test_preact_layout():
    model = CifarResNet(14, 4, preact=True)
    assert all(isinstance(b, PreActBasicBlock) for b in model.blocks())
    assert isinstance(model.bn1, nn.Identity) and isinstance(
        model.bn_final, nn.BatchNorm2d
    )
    assert len(model.layer3[0].downsample) == 1
    assert model.layer3[0].bn1.num_features == 8  # normalises the block's input


def test_errors_name_the_argument_and_shape():
    for depth in (0, 2, 7, 21):
        with pytest.raises(ValueError, match=r"CifarResNet: depth must be 6n \+ 2"):
            CifarResNet(depth)
    for depth in (20.0, "20", True):
        with pytest.raises(TypeError, match="CifarResNet: depth must be an int"):
            CifarResNet(depth)
    assert cifar_blocks(110) == 18
    with pytest.raises(ValueError, match="CifarResNet: width must be an int >= 1"):
        CifarResNet(20, 0)
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\), got shape \(2, 3, 28, 28\)"):
        CifarResNet(8, 2)(torch.zeros(2, 3, 28, 28))
    with pytest.raises(TypeError, match="CifarResNet: x must be a torch.Tensor"):
        CifarResNet(8, 2)([0.0])
