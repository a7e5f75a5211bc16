"""HighwayBlock and HighwayCNN: the gate formula, its carry and transform limits,
counts against the plain twin of CifarResNet, shapes and errors."""

import pytest
import torch
from torch import nn

from cnnlib.models import CifarResNet, HighwayBlock, HighwayCNN, count_parameters

torch.set_num_threads(1)


def test_block_formula_and_count():
    torch.manual_seed(0)
    block = HighwayBlock(4)
    # H: 9 C^2 weights + 2 C norm; T: 9 C^2 weights + C biases
    assert count_parameters(block) == 144 + 8 + 144 + 4 == 300
    assert torch.equal(block.gate.bias, torch.full((4,), -2.0))
    x = torch.randn(2, 4, 7, 5)
    t = torch.sigmoid(block.gate(x))
    h = torch.relu(block.bn(block.conv(x)))
    assert torch.allclose(block(x), h * t + x * (1 - t))
    one = HighwayBlock(4, gate_kernel_size=1, batch_norm=False)
    assert one.gate.weight.shape == (4, 4, 1, 1)
    assert count_parameters(one) == 144 + 4 + 16 + 4
    assert one(x).shape == x.shape


def test_gate_starts_mostly_closed():
    torch.manual_seed(0)
    block = HighwayBlock(16)
    gates = []
    block.sigmoid.register_forward_hook(lambda m, i, out: gates.append(out))
    block(torch.randn(4, 16, 8, 8))
    mean = gates[0].mean().item()  # sigmoid(-2) = 0.119, spread by the weights
    assert 0.08 < mean < 0.2


def test_carry_and_transform_limits():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 6, 6)
    carry = HighwayBlock(3, gate_bias=-100.0)
    assert torch.allclose(carry(x), x)  # T = 0: the input passes unchanged
    transform = HighwayBlock(3, gate_bias=100.0)
    h = torch.relu(transform.bn(transform.conv(x)))
    assert torch.allclose(transform(x), h)  # T = 1: a plain layer
    assert not torch.allclose(transform(x), x)


def test_highway_cnn_matches_the_plain_twin_plus_gates():
    for depth, w in [(8, 4), (20, 16)]:
        highway = HighwayCNN(depth, w)
        plain = CifarResNet(depth, w, residual=False)
        gates = sum(
            b.gate.weight.numel() + b.gate.bias.numel() for b in highway.blocks()
        )
        assert count_parameters(highway) == count_parameters(plain) + gates
        convs = [
            m.weight.shape
            for n, m in highway.named_modules()
            if isinstance(m, nn.Conv2d) and not n.endswith("gate")
        ]
        plain_convs = [
            m.weight.shape for m in plain.modules() if isinstance(m, nn.Conv2d)
        ]
        assert convs == plain_convs
        assert len(convs) + 1 == depth
    assert count_parameters(HighwayCNN(20)) == 514_234
    assert "514,234" in HighwayCNN.__doc__
    assert len(HighwayCNN(20).blocks()) == 6 + 5 + 5


def test_highway_cnn_shapes():
    torch.manual_seed(0)
    model = HighwayCNN(8, 4, num_classes=5, in_channels=3, batch_norm=False)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    for size in [(28, 28), (13, 17), (1, 1)]:
        assert model(torch.randn(2, 3, *size)).shape == (2, 5)
    x = model.relu(model.bn1(model.conv1(torch.randn(2, 3, 13, 17))))
    shapes = []
    for layer in (model.layer1, model.layer2, model.layer3):
        x = layer(x)
        shapes.append(tuple(x.shape))
    assert shapes == [(2, 4, 13, 17), (2, 8, 7, 9), (2, 16, 4, 5)]


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: HighwayCNN(21), ValueError, r"HighwayCNN: depth must be 6n \+ 2"),
        (lambda: HighwayCNN(20.0), TypeError, "HighwayCNN: depth must be an int"),
        (lambda: HighwayCNN(8, 0), ValueError, "HighwayCNN: width must be an int"),
        (lambda: HighwayCNN(8, gate_bias="-2"), TypeError, "HighwayCNN: gate_bias"),
        (lambda: HighwayBlock(0), ValueError, "HighwayBlock: channels must be"),
        (lambda: HighwayBlock(4, gate_kernel_size=5), ValueError, "gate_kernel_size"),
        (lambda: HighwayBlock(4, gate_bias=None), TypeError, "HighwayBlock: gate_bias"),
    ],
)
def test_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_bad_inputs_name_the_shape():
    with pytest.raises(ValueError, match=r"\(N, 4, H, W\), got shape \(2, 3, 5, 5\)"):
        HighwayBlock(4)(torch.zeros(2, 3, 5, 5))
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\), got shape \(1, 28, 28\)"):
        HighwayCNN(8, 2)(torch.zeros(1, 28, 28))
    with pytest.raises(TypeError, match="HighwayCNN: x must be a torch.Tensor"):
        HighwayCNN(8, 2)([0.0])
