"""ResNet-18 .. ResNet-200 in torchvision's layout: exact parameter counts,
state_dict keys and shapes, strides, initialisation, zero_init_residual,
pre-activation blocks, and the meta device.

The key lists below are written out from torchvision's source
(torchvision/models/resnet.py: conv1, bn1, layer1..layer4 of BasicBlock/Bottleneck
with conv1/bn1/conv2/bn2[/conv3/bn3] and downsample.0 (1x1 conv) / downsample.1
(BatchNorm2d), fc), with BatchNorm2d's five entries (weight, bias, running_mean,
running_var, num_batches_tracked), in registration order.
"""

import math

import pytest
import torch
from torch import nn

from cnnlib.models import (
    RESNET200_LAYERS,
    BasicBlock,
    Bottleneck,
    PreActBasicBlock,
    PreActBottleneck,
    ResNet,
    count_parameters,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
    resnet200,
)
from cnnlib.models.summary import layer_table

torch.set_num_threads(1)

RESNET18_STATE = [
    ("conv1.weight", (64, 3, 7, 7)),
    ("bn1.weight", (64,)),
    ("bn1.bias", (64,)),
    ("bn1.running_mean", (64,)),
    ("bn1.running_var", (64,)),
    ("bn1.num_batches_tracked", ()),
    ("layer1.0.conv1.weight", (64, 64, 3, 3)),
    ("layer1.0.bn1.weight", (64,)),
    ("layer1.0.bn1.bias", (64,)),
    ("layer1.0.bn1.running_mean", (64,)),
    ("layer1.0.bn1.running_var", (64,)),
    ("layer1.0.bn1.num_batches_tracked", ()),
    ("layer1.0.conv2.weight", (64, 64, 3, 3)),
    ("layer1.0.bn2.weight", (64,)),
    ("layer1.0.bn2.bias", (64,)),
    ("layer1.0.bn2.running_mean", (64,)),
    ("layer1.0.bn2.running_var", (64,)),
    ("layer1.0.bn2.num_batches_tracked", ()),
    ("layer1.1.conv1.weight", (64, 64, 3, 3)),
    ("layer1.1.bn1.weight", (64,)),
    ("layer1.1.bn1.bias", (64,)),
    ("layer1.1.bn1.running_mean", (64,)),
    ("layer1.1.bn1.running_var", (64,)),
    ("layer1.1.bn1.num_batches_tracked", ()),
    ("layer1.1.conv2.weight", (64, 64, 3, 3)),
    ("layer1.1.bn2.weight", (64,)),
    ("layer1.1.bn2.bias", (64,)),
    ("layer1.1.bn2.running_mean", (64,)),
    ("layer1.1.bn2.running_var", (64,)),
    ("layer1.1.bn2.num_batches_tracked", ()),
    ("layer2.0.conv1.weight", (128, 64, 3, 3)),
    ("layer2.0.bn1.weight", (128,)),
    ("layer2.0.bn1.bias", (128,)),
    ("layer2.0.bn1.running_mean", (128,)),
    ("layer2.0.bn1.running_var", (128,)),
    ("layer2.0.bn1.num_batches_tracked", ()),
    ("layer2.0.conv2.weight", (128, 128, 3, 3)),
    ("layer2.0.bn2.weight", (128,)),
    ("layer2.0.bn2.bias", (128,)),
    ("layer2.0.bn2.running_mean", (128,)),
    ("layer2.0.bn2.running_var", (128,)),
    ("layer2.0.bn2.num_batches_tracked", ()),
    ("layer2.0.downsample.0.weight", (128, 64, 1, 1)),
    ("layer2.0.downsample.1.weight", (128,)),
    ("layer2.0.downsample.1.bias", (128,)),
    ("layer2.0.downsample.1.running_mean", (128,)),
    ("layer2.0.downsample.1.running_var", (128,)),
    ("layer2.0.downsample.1.num_batches_tracked", ()),
    ("layer2.1.conv1.weight", (128, 128, 3, 3)),
    ("layer2.1.bn1.weight", (128,)),
    ("layer2.1.bn1.bias", (128,)),
    ("layer2.1.bn1.running_mean", (128,)),
    ("layer2.1.bn1.running_var", (128,)),
    ("layer2.1.bn1.num_batches_tracked", ()),
    ("layer2.1.conv2.weight", (128, 128, 3, 3)),
    ("layer2.1.bn2.weight", (128,)),
    ("layer2.1.bn2.bias", (128,)),
    ("layer2.1.bn2.running_mean", (128,)),
    ("layer2.1.bn2.running_var", (128,)),
    ("layer2.1.bn2.num_batches_tracked", ()),
    ("layer3.0.conv1.weight", (256, 128, 3, 3)),
    ("layer3.0.bn1.weight", (256,)),
    ("layer3.0.bn1.bias", (256,)),
    ("layer3.0.bn1.running_mean", (256,)),
    ("layer3.0.bn1.running_var", (256,)),
    ("layer3.0.bn1.num_batches_tracked", ()),
    ("layer3.0.conv2.weight", (256, 256, 3, 3)),
    ("layer3.0.bn2.weight", (256,)),
    ("layer3.0.bn2.bias", (256,)),
    ("layer3.0.bn2.running_mean", (256,)),
    ("layer3.0.bn2.running_var", (256,)),
    ("layer3.0.bn2.num_batches_tracked", ()),
    ("layer3.0.downsample.0.weight", (256, 128, 1, 1)),
    ("layer3.0.downsample.1.weight", (256,)),
    ("layer3.0.downsample.1.bias", (256,)),
    ("layer3.0.downsample.1.running_mean", (256,)),
    ("layer3.0.downsample.1.running_var", (256,)),
    ("layer3.0.downsample.1.num_batches_tracked", ()),
    ("layer3.1.conv1.weight", (256, 256, 3, 3)),
    ("layer3.1.bn1.weight", (256,)),
    ("layer3.1.bn1.bias", (256,)),
    ("layer3.1.bn1.running_mean", (256,)),
    ("layer3.1.bn1.running_var", (256,)),
    ("layer3.1.bn1.num_batches_tracked", ()),
    ("layer3.1.conv2.weight", (256, 256, 3, 3)),
    ("layer3.1.bn2.weight", (256,)),
    ("layer3.1.bn2.bias", (256,)),
    ("layer3.1.bn2.running_mean", (256,)),
    ("layer3.1.bn2.running_var", (256,)),
    ("layer3.1.bn2.num_batches_tracked", ()),
    ("layer4.0.conv1.weight", (512, 256, 3, 3)),
    ("layer4.0.bn1.weight", (512,)),
    ("layer4.0.bn1.bias", (512,)),
    ("layer4.0.bn1.running_mean", (512,)),
    ("layer4.0.bn1.running_var", (512,)),
    ("layer4.0.bn1.num_batches_tracked", ()),
    ("layer4.0.conv2.weight", (512, 512, 3, 3)),
    ("layer4.0.bn2.weight", (512,)),
    ("layer4.0.bn2.bias", (512,)),
    ("layer4.0.bn2.running_mean", (512,)),
    ("layer4.0.bn2.running_var", (512,)),
    ("layer4.0.bn2.num_batches_tracked", ()),
    ("layer4.0.downsample.0.weight", (512, 256, 1, 1)),
    ("layer4.0.downsample.1.weight", (512,)),
    ("layer4.0.downsample.1.bias", (512,)),
    ("layer4.0.downsample.1.running_mean", (512,)),
    ("layer4.0.downsample.1.running_var", (512,)),
    ("layer4.0.downsample.1.num_batches_tracked", ()),
    ("layer4.1.conv1.weight", (512, 512, 3, 3)),
    ("layer4.1.bn1.weight", (512,)),
    ("layer4.1.bn1.bias", (512,)),
    ("layer4.1.bn1.running_mean", (512,)),
    ("layer4.1.bn1.running_var", (512,)),
    ("layer4.1.bn1.num_batches_tracked", ()),
    ("layer4.1.conv2.weight", (512, 512, 3, 3)),
    ("layer4.1.bn2.weight", (512,)),
    ("layer4.1.bn2.bias", (512,)),
    ("layer4.1.bn2.running_mean", (512,)),
    ("layer4.1.bn2.running_var", (512,)),
    ("layer4.1.bn2.num_batches_tracked", ()),
    ("fc.weight", (1000, 512)),
    ("fc.bias", (1000,)),
]
RESNET50_FIRST = [
    ("conv1.weight", (64, 3, 7, 7)),
    ("bn1.weight", (64,)),
    ("bn1.bias", (64,)),
    ("bn1.running_mean", (64,)),
    ("bn1.running_var", (64,)),
    ("bn1.num_batches_tracked", ()),
    ("layer1.0.conv1.weight", (64, 64, 1, 1)),
    ("layer1.0.bn1.weight", (64,)),
    ("layer1.0.bn1.bias", (64,)),
    ("layer1.0.bn1.running_mean", (64,)),
    ("layer1.0.bn1.running_var", (64,)),
    ("layer1.0.bn1.num_batches_tracked", ()),
    ("layer1.0.conv2.weight", (64, 64, 3, 3)),
    ("layer1.0.bn2.weight", (64,)),
    ("layer1.0.bn2.bias", (64,)),
    ("layer1.0.bn2.running_mean", (64,)),
    ("layer1.0.bn2.running_var", (64,)),
    ("layer1.0.bn2.num_batches_tracked", ()),
    ("layer1.0.conv3.weight", (256, 64, 1, 1)),
    ("layer1.0.bn3.weight", (256,)),
    ("layer1.0.bn3.bias", (256,)),
    ("layer1.0.bn3.running_mean", (256,)),
    ("layer1.0.bn3.running_var", (256,)),
    ("layer1.0.bn3.num_batches_tracked", ()),
    ("layer1.0.downsample.0.weight", (256, 64, 1, 1)),
    ("layer1.0.downsample.1.weight", (256,)),
    ("layer1.0.downsample.1.bias", (256,)),
    ("layer1.0.downsample.1.running_mean", (256,)),
    ("layer1.0.downsample.1.running_var", (256,)),
    ("layer1.0.downsample.1.num_batches_tracked", ()),
]
RESNET50_LAST = [
    ("layer4.1.bn2.bias", (512,)),
    ("layer4.1.bn2.running_mean", (512,)),
    ("layer4.1.bn2.running_var", (512,)),
    ("layer4.1.bn2.num_batches_tracked", ()),
    ("layer4.1.conv3.weight", (2048, 512, 1, 1)),
    ("layer4.1.bn3.weight", (2048,)),
    ("layer4.1.bn3.bias", (2048,)),
    ("layer4.1.bn3.running_mean", (2048,)),
    ("layer4.1.bn3.running_var", (2048,)),
    ("layer4.1.bn3.num_batches_tracked", ()),
    ("layer4.2.conv1.weight", (512, 2048, 1, 1)),
    ("layer4.2.bn1.weight", (512,)),
    ("layer4.2.bn1.bias", (512,)),
    ("layer4.2.bn1.running_mean", (512,)),
    ("layer4.2.bn1.running_var", (512,)),
    ("layer4.2.bn1.num_batches_tracked", ()),
    ("layer4.2.conv2.weight", (512, 512, 3, 3)),
    ("layer4.2.bn2.weight", (512,)),
    ("layer4.2.bn2.bias", (512,)),
    ("layer4.2.bn2.running_mean", (512,)),
    ("layer4.2.bn2.running_var", (512,)),
    ("layer4.2.bn2.num_batches_tracked", ()),
    ("layer4.2.conv3.weight", (2048, 512, 1, 1)),
    ("layer4.2.bn3.weight", (2048,)),
    ("layer4.2.bn3.bias", (2048,)),
    ("layer4.2.bn3.running_mean", (2048,)),
    ("layer4.2.bn3.running_var", (2048,)),
    ("layer4.2.bn3.num_batches_tracked", ()),
    ("fc.weight", (1000, 2048)),
    ("fc.bias", (1000,)),
]
RESNET50_KEY_COUNT = 320  # 161 parameters + 53 batch norms x 3 buffers

COUNTS = {
    resnet18: (11_689_512, 122),
    resnet34: (21_797_672, 218),
    resnet50: (25_557_032, 320),
    resnet101: (44_549_160, 626),
    resnet152: (60_192_808, 932),
}


def _state(model):
    return [(k, tuple(v.shape)) for k, v in model.state_dict().items()]


@pytest.fixture(scope="module")
def meta_models():
    """All the ImageNet ResNets on the meta device: shapes only, no memory."""
    with torch.device("meta"):
        return {f: f() for f in COUNTS}


@pytest.fixture(scope="module")
def meta_resnet200():
    with torch.device("meta"):
        return resnet200(), resnet200(preact=True)


def test_parameter_counts_and_key_counts(meta_models):
    for make, (params, keys) in COUNTS.items():
        model = meta_models[make]
        assert count_parameters(model) == params, make.__name__
        assert len(model.state_dict()) == keys, make.__name__
    with torch.device("meta"):
        ten = resnet50(num_classes=10)
    assert count_parameters(ten) == 25_557_032 - 990 * (2048 + 1)


def test_resnet18_state_dict_is_torchvisions(meta_models):
    assert _state(meta_models[resnet18]) == RESNET18_STATE
    assert len(RESNET18_STATE) == 122
    params = [s for k, s in RESNET18_STATE if "running" not in k and "num_b" not in k]
    assert sum(math.prod(s) for s in params) == 11_689_512


def test_resnet50_state_dict_ends_are_torchvisions(meta_models):
    state = _state(meta_models[resnet50])
    assert len(state) == RESNET50_KEY_COUNT
    assert state[:30] == RESNET50_FIRST
    assert state[-30:] == RESNET50_LAST


def test_v15_strides_in_the_3x3_convolution(meta_models):
    first = meta_models[resnet50].layer2[0]
    assert isinstance(first, Bottleneck) and first.expansion == 4
    assert first.conv1.stride == (1, 1) and first.conv2.stride == (2, 2)
    assert first.downsample[0].stride == (2, 2)
    block = meta_models[resnet18].layer3[0]
    assert isinstance(block, BasicBlock) and block.expansion == 1
    assert block.conv1.stride == (2, 2) and block.conv2.stride == (1, 1)
    assert meta_models[resnet18].layer1[0].downsample is None  # 64 -> 64, stride 1
    assert meta_models[resnet50].layer1[0].downsample is not None  # 64 -> 256


def test_shapes_on_meta_at_224(meta_models):
    model = meta_models[resnet152]
    x = torch.zeros(2, 3, 224, 224, device="meta")
    x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    shapes = [tuple(x.shape)]
    for layer in (model.layer1, model.layer2, model.layer3, model.layer4):
        x = layer(x)
        shapes.append(tuple(x.shape))
    assert shapes == [
        (2, 64, 56, 56),
        (2, 256, 56, 56),
        (2, 512, 28, 28),
        (2, 1024, 14, 14),
        (2, 2048, 7, 7),
    ]
    assert model(torch.zeros(2, 3, 224, 224, device="meta")).shape == (2, 1000)


@pytest.fixture(scope="module")
def real18():
    torch.manual_seed(0)
    return resnet18(num_classes=10), resnet18(num_classes=10, zero_init_residual=True)


def test_small_and_odd_inputs(real18):
    model = real18[0]
    with torch.no_grad():
        assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
        assert model.eval()(torch.randn(1, 3, 13, 17)).shape == (1, 10)
    model.train()


def test_torchvision_initialisation(real18):
    model = real18[0]
    conv = model.layer4[1].conv2  # 512 x 512 x 3 x 3 weights, fan_out 512 * 9
    std = math.sqrt(2 / (512 * 9))
    assert conv.weight.std().item() == pytest.approx(std, rel=0.01)
    stem = model.conv1.weight  # fan_out 64 * 49: fan_in (3 * 49) would give 0.117
    assert stem.std().item() == pytest.approx(math.sqrt(2 / (64 * 49)), rel=0.05)
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(norms) == 20
    assert all(bool((m.weight == 1).all() and (m.bias == 0).all()) for m in norms)


def _blocks(model):
    return [
        b
        for layer in (model.layer1, model.layer2, model.layer3, model.layer4)
        for b in layer
    ]


def _identity_check(model, x):
    """Feed x through the blocks; -> per block, whether block(x) equals the ReLU of
    its shortcut (x, or downsample(x))."""
    results = []
    for block in _blocks(model):
        y = block(x)
        short = x if block.downsample is None else block.downsample(x)
        results.append(torch.equal(y, torch.relu(short)))
        x = y
    return results


def test_zero_init_residual_makes_each_block_its_shortcut(real18):
    plain_init, zero_init = real18
    assert all(not b.bn2.weight.any() for b in _blocks(zero_init))
    x = torch.randn(2, 64, 8, 8)  # any sign: the block gives relu(shortcut)
    with torch.no_grad():
        assert _identity_check(zero_init, x) == [True] * 8
        assert _identity_check(plain_init, x) == [False] * 8
        # after the stem (ReLU, then max pool) x >= 0, so layer1 is the identity
        stem = zero_init.maxpool(
            zero_init.relu(zero_init.bn1(zero_init.conv1(torch.randn(2, 3, 32, 32))))
        )
        assert torch.equal(zero_init.layer1(stem), stem)


def test_zero_init_residual_bottleneck():
    torch.manual_seed(0)
    model = resnet50(num_classes=10, zero_init_residual=True)
    assert all(not b.bn3.weight.any() and b.bn2.weight.all() for b in _blocks(model))
    with torch.no_grad():
        assert _identity_check(model, torch.randn(2, 64, 8, 8)) == [True] * 16
        assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_preact_basic_block_formula():
    torch.manual_seed(0)
    proj = nn.Sequential(nn.Conv2d(4, 8, 1, stride=2, bias=False))
    block = PreActBasicBlock(4, 8, stride=2, downsample=proj).train()
    x = torch.randn(3, 4, 9, 7)
    a = torch.relu(block.bn1(x))
    expected = block.conv2(torch.relu(block.bn2(block.conv1(a)))) + proj(a)
    assert torch.allclose(block(x), expected)
    assert block(x).shape == (3, 8, 5, 4)
    assert block.bn1.num_features == 4 and block.bn2.num_features == 8
    same = PreActBasicBlock(8, 8)
    y = torch.randn(2, 8, 5, 5)
    assert (
        same(y)
        - y
        - same.conv2(torch.relu(same.bn2(same.conv1(torch.relu(same.bn1(y))))))
    ).abs().max() < 1e-6  # no ReLU after the sum


def test_preact_resnet():
    with torch.device("meta"):
        pre18 = ResNet(PreActBasicBlock, [2, 2, 2, 2])
    # resnet18 - 3 projection norms (128+256+512)*2 - bn1 of the first block of
    # layers 2-4 on half the channels (64+128+256)*2 + bn_final 512*2
    assert count_parameters(pre18) == 11_689_512 - 1792 - 896 + 1024 == 11_687_848
    assert isinstance(pre18.bn_final, nn.BatchNorm2d)
    assert len(pre18.layer2[0].downsample) == 1  # conv only
    assert pre18(torch.zeros(1, 3, 64, 64, device="meta")).shape == (1, 1000)
    torch.manual_seed(0)
    small = ResNet(PreActBasicBlock, [1, 1, 1, 1], 10, zero_init_residual=True)
    block = small.layer1[0]
    assert not block.conv2.weight.any()
    x = torch.randn(2, 64, 6, 6)
    with torch.no_grad():
        assert torch.equal(block(x), x)  # the identity, exactly, signs included
        assert small(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_resnet200_on_meta(meta_resnet200):
    model, pre = meta_resnet200
    assert RESNET200_LAYERS == (3, 24, 36, 3)
    assert [
        len(layer) for layer in (model.layer1, model.layer2, model.layer3, model.layer4)
    ] == [3, 24, 36, 3]
    assert count_parameters(model) == 64_673_832
    assert len(model.state_dict()) == 1220
    assert count_parameters(pre) == 64_666_280
    assert isinstance(pre.layer3[5], PreActBottleneck)
    assert all(p.is_meta for p in model.parameters())


def test_layer_table_of_resnet200_without_memory(meta_resnet200):
    model = meta_resnet200[0]
    rows = layer_table(model, (1, 3, 224, 224))
    assert sum(r.params for r in rows) == 64_673_832
    by_name = {r.name: r for r in rows}
    assert by_name["conv1"].output_shape == (1, 64, 112, 112)
    assert by_name["maxpool"].output_shape == (1, 64, 56, 56)
    assert by_name["layer3.35.conv3"].output_shape == (1, 1024, 14, 14)
    assert by_name["layer4.2.conv3"].output_shape == (1, 2048, 7, 7)
    assert rows[-1].name == "fc" and rows[-1].output_shape == (1, 1000)
    assert all(p.is_meta for p in model.parameters())  # still nothing allocated


def test_errors_name_the_argument_and_shape(meta_models):
    with pytest.raises(TypeError, match="ResNet: block must be one of BasicBlock"):
        ResNet(nn.Conv2d, [2, 2, 2, 2])
    with pytest.raises(ValueError, match=r"ResNet: layers must hold 4 .*length 3"):
        ResNet(BasicBlock, [2, 2, 2])
    with pytest.raises(TypeError, match="ResNet: layers must be a sequence"):
        ResNet(BasicBlock, 18)
    with pytest.raises(ValueError, match=r"ResNet: layers\[1\] must be an int >= 1"):
        ResNet(BasicBlock, [2, 0, 2, 2])
    with pytest.raises(ValueError, match="ResNet: num_classes must be an int >= 1"):
        resnet18(num_classes=0)
    model = meta_models[resnet18]
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\), got shape \(1, 1, 32, 32\)"):
        model(torch.zeros(1, 1, 32, 32, device="meta"))
    with pytest.raises(ValueError, match=r"got shape \(3, 32, 32\)"):
        model(torch.zeros(3, 32, 32, device="meta"))
    with pytest.raises(TypeError, match="ResNet: x must be a torch.Tensor"):
        model([[0.0]])
    with pytest.raises(ValueError, match="BasicBlock: downsample must be None"):
        BasicBlock(4, 8, 2, nn.Conv2d(4, 8, 1, 2), residual=False)
