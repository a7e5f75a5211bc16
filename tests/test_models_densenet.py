"""DenseNet-121 in torchvision's layout and the small DenseNet for 28x28 images:
exact counts, state_dict keys and shapes, concatenation, transitions, sizes.

The key lists are written out from torchvision's source
(torchvision/models/densenet.py: features.conv0/norm0, denseblockB.denselayerL with
norm1, conv1 (1x1 to bn_size k), norm2, conv2 (3x3 to k), transitionB.norm/conv,
features.norm5, classifier), BatchNorm2d giving five entries each.
"""

import math

import pytest
import torch
from torch import nn

from cnnlib.models import (
    DenseBlock,
    DenseLayer,
    DenseNet,
    Transition,
    count_parameters,
    densenet121,
    small_densenet,
)
from cnnlib.models.summary import layer_table

torch.set_num_threads(1)

# 364 parameters (120 convs, 121 norms x 2, classifier x 2) + 121 norms x 3 buffers
DENSENET121_KEY_COUNT = 727

DENSENET121_FIRST = [
    ("features.conv0.weight", (64, 3, 7, 7)),
    ("features.norm0.weight", (64,)),
    ("features.norm0.bias", (64,)),
    ("features.norm0.running_mean", (64,)),
    ("features.norm0.running_var", (64,)),
    ("features.norm0.num_batches_tracked", ()),
    ("features.denseblock1.denselayer1.norm1.weight", (64,)),
    ("features.denseblock1.denselayer1.norm1.bias", (64,)),
    ("features.denseblock1.denselayer1.norm1.running_mean", (64,)),
    ("features.denseblock1.denselayer1.norm1.running_var", (64,)),
    ("features.denseblock1.denselayer1.norm1.num_batches_tracked", ()),
    ("features.denseblock1.denselayer1.conv1.weight", (128, 64, 1, 1)),
    ("features.denseblock1.denselayer1.norm2.weight", (128,)),
    ("features.denseblock1.denselayer1.norm2.bias", (128,)),
    ("features.denseblock1.denselayer1.norm2.running_mean", (128,)),
    ("features.denseblock1.denselayer1.norm2.running_var", (128,)),
    ("features.denseblock1.denselayer1.norm2.num_batches_tracked", ()),
    ("features.denseblock1.denselayer1.conv2.weight", (32, 128, 3, 3)),
    ("features.denseblock1.denselayer2.norm1.weight", (96,)),
    ("features.denseblock1.denselayer2.norm1.bias", (96,)),
    ("features.denseblock1.denselayer2.norm1.running_mean", (96,)),
    ("features.denseblock1.denselayer2.norm1.running_var", (96,)),
    ("features.denseblock1.denselayer2.norm1.num_batches_tracked", ()),
    ("features.denseblock1.denselayer2.conv1.weight", (128, 96, 1, 1)),
    ("features.denseblock1.denselayer2.norm2.weight", (128,)),
    ("features.denseblock1.denselayer2.norm2.bias", (128,)),
    ("features.denseblock1.denselayer2.norm2.running_mean", (128,)),
    ("features.denseblock1.denselayer2.norm2.running_var", (128,)),
    ("features.denseblock1.denselayer2.norm2.num_batches_tracked", ()),
    ("features.denseblock1.denselayer2.conv2.weight", (32, 128, 3, 3)),
]
DENSENET121_LAST = [
    ("features.denseblock4.denselayer15.norm1.bias", (960,)),
    ("features.denseblock4.denselayer15.norm1.running_mean", (960,)),
    ("features.denseblock4.denselayer15.norm1.running_var", (960,)),
    ("features.denseblock4.denselayer15.norm1.num_batches_tracked", ()),
    ("features.denseblock4.denselayer15.conv1.weight", (128, 960, 1, 1)),
    ("features.denseblock4.denselayer15.norm2.weight", (128,)),
    ("features.denseblock4.denselayer15.norm2.bias", (128,)),
    ("features.denseblock4.denselayer15.norm2.running_mean", (128,)),
    ("features.denseblock4.denselayer15.norm2.running_var", (128,)),
    ("features.denseblock4.denselayer15.norm2.num_batches_tracked", ()),
    ("features.denseblock4.denselayer15.conv2.weight", (32, 128, 3, 3)),
    ("features.denseblock4.denselayer16.norm1.weight", (992,)),
    ("features.denseblock4.denselayer16.norm1.bias", (992,)),
    ("features.denseblock4.denselayer16.norm1.running_mean", (992,)),
    ("features.denseblock4.denselayer16.norm1.running_var", (992,)),
    ("features.denseblock4.denselayer16.norm1.num_batches_tracked", ()),
    ("features.denseblock4.denselayer16.conv1.weight", (128, 992, 1, 1)),
    ("features.denseblock4.denselayer16.norm2.weight", (128,)),
    ("features.denseblock4.denselayer16.norm2.bias", (128,)),
    ("features.denseblock4.denselayer16.norm2.running_mean", (128,)),
    ("features.denseblock4.denselayer16.norm2.running_var", (128,)),
    ("features.denseblock4.denselayer16.norm2.num_batches_tracked", ()),
    ("features.denseblock4.denselayer16.conv2.weight", (32, 128, 3, 3)),
    ("features.norm5.weight", (1024,)),
    ("features.norm5.bias", (1024,)),
    ("features.norm5.running_mean", (1024,)),
    ("features.norm5.running_var", (1024,)),
    ("features.norm5.num_batches_tracked", ()),
    ("classifier.weight", (1000, 1024)),
    ("classifier.bias", (1000,)),
]


@pytest.fixture(scope="module")
def meta121():
    with torch.device("meta"):
        return densenet121()


def _state(model):
    return [(k, tuple(v.shape)) for k, v in model.state_dict().items()]


def test_densenet121_count_and_keys(meta121):
    assert count_parameters(meta121) == 7_978_856
    state = _state(meta121)
    assert len(state) == DENSENET121_KEY_COUNT
    assert state[:30] == DENSENET121_FIRST
    assert state[-30:] == DENSENET121_LAST
    shapes = dict(state)
    # 64 + 6*32 = 256 -> 128; 128 + 12*32 = 512 -> 256; 256 + 24*32 = 1024 -> 512
    assert shapes["features.transition1.conv.weight"] == (128, 256, 1, 1)
    assert shapes["features.transition2.conv.weight"] == (256, 512, 1, 1)
    assert shapes["features.transition3.conv.weight"] == (512, 1024, 1, 1)
    assert shapes["features.denseblock3.denselayer24.norm1.weight"] == (256 + 23 * 32,)
    convs = [m for m in meta121.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) + 1 == 121  # the "121": convolutions + the classifier


def test_densenet121_sizes_on_meta(meta121):
    rows = {r.name: r.output_shape for r in layer_table(meta121, (1, 3, 224, 224))}
    assert rows["features.pool0"] == (1, 64, 56, 56)
    assert rows["features.denseblock1.denselayer6.conv2"] == (1, 32, 56, 56)
    assert rows["features.transition1.pool"] == (1, 128, 28, 28)
    assert rows["features.transition3.pool"] == (1, 512, 7, 7)
    assert rows["features.norm5"] == (1, 1024, 7, 7)
    assert rows["classifier"] == (1, 1000)
    assert meta121(torch.zeros(2, 3, 29, 40, device="meta")).shape == (2, 1000)
    with pytest.raises(ValueError, match=r"H, W must be >= 29, got shape \(2, 3, 28"):
        meta121(torch.zeros(2, 3, 28, 40, device="meta"))


def test_densenet121_real_small_input_and_init():
    torch.manual_seed(0)
    model = densenet121(num_classes=10)
    with torch.no_grad():
        assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    conv = model.features.denseblock4.denselayer16.conv1  # 128 x 992, fan_in 992
    assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / 992), rel=0.02)
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert all(bool((m.weight == 1).all() and (m.bias == 0).all()) for m in norms)
    assert not model.classifier.bias.any()


def test_dense_block_concatenates():
    torch.manual_seed(0)
    block = DenseBlock(3, 5, bn_size=2, growth_rate=4).eval()
    assert list(block) == ["denselayer1", "denselayer2", "denselayer3"]
    assert [layer.norm1.num_features for layer in block.values()] == [5, 9, 13]
    x = torch.randn(2, 5, 7, 6)
    with torch.no_grad():
        y = block(x)
        assert y.shape == (2, 5 + 3 * 4, 7, 6)
        assert torch.equal(y[:, :5], x)  # the input is carried unchanged
        new1 = block.denselayer1(x)
        assert torch.equal(y[:, 5:9], new1)
        assert torch.allclose(y[:, 9:13], block.denselayer2(torch.cat([x, new1], 1)))
    layer = DenseLayer(6, growth_rate=3, bn_size=4)
    assert layer.conv1.weight.shape == (12, 6, 1, 1)
    assert layer.conv2.weight.shape == (3, 12, 3, 3)
    trans = Transition(8, 4)
    assert [n for n, _ in trans.named_children()] == ["norm", "relu", "conv", "pool"]
    assert trans(torch.randn(2, 8, 7, 5)).shape == (2, 4, 3, 2)


def small_count(k, config, c_in=1, classes=10, bn_size=4):
    """By hand: 3x3 stem to 2k, bottleneck layers, transitions, norm5, classifier."""
    c = 2 * k
    total = c_in * c * 9 + 2 * c
    for i, n in enumerate(config):
        for _ in range(n):
            total += 2 * c + c * bn_size * k + 2 * bn_size * k + bn_size * k * k * 9
            c += k
        if i < len(config) - 1:
            total += 2 * c + c * (c // 2)
            c //= 2
    return total + 2 * c + c * classes + classes


@pytest.mark.parametrize(
    "k, config", [(12, (4, 4)), (8, (2, 3, 4)), (4, (1,)), (6, (3, 3, 3, 3))]
)
def test_small_densenet_counts(k, config):
    model = small_densenet(k, config)
    assert count_parameters(model) == small_count(k, config)
    assert (
        model.num_features == dict(model.named_modules())["features.norm5"].num_features
    )


def test_small_densenet_default_and_sizes():
    torch.manual_seed(0)
    model = small_densenet()
    assert count_parameters(model) == 65_458 and "65,458" in small_densenet.__doc__
    assert model.features.conv0.weight.shape == (24, 1, 3, 3)
    assert "pool0" not in dict(model.features.named_children())
    rows = {r.name: r.output_shape for r in layer_table(model, (2, 1, 28, 28))}
    assert rows["features.denseblock1.denselayer4.conv2"] == (2, 12, 28, 28)
    assert rows["features.transition1.pool"] == (2, 36, 14, 14)
    assert rows["features.norm5"] == (2, 84, 14, 14)
    for size in [(28, 28), (13, 17), (2, 3)]:
        assert model(torch.randn(2, 1, *size)).shape == (2, 10)
    three = small_densenet(block_config=(2, 2, 2))
    assert three.min_size() == 4
    assert three(torch.randn(2, 1, 4, 5)).shape == (2, 10)
    with pytest.raises(ValueError, match=r"must be >= 4, got shape \(1, 1, 3, 5\)"):
        three(torch.randn(1, 1, 3, 5))


def test_errors_name_the_argument_and_shape():
    with pytest.raises(TypeError, match="DenseNet: block_config must be a sequence"):
        DenseNet(block_config=6)
    with pytest.raises(ValueError, match="DenseNet: block_config must hold"):
        DenseNet(block_config=())
    with pytest.raises(ValueError, match=r"DenseNet: block_config\[1\] must be"):
        small_densenet(block_config=(4, 0))
    with pytest.raises(ValueError, match="DenseNet: growth_rate must be an int"):
        small_densenet(growth_rate=0)
    with pytest.raises(ValueError, match="DenseNet: in_channels must be an int"):
        small_densenet(in_channels=0)
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\), got shape \(2, 3, 28, 28\)"):
        small_densenet()(torch.zeros(2, 3, 28, 28))
    with pytest.raises(TypeError, match="DenseNet: x must be a torch.Tensor"):
        small_densenet()([0.0])
