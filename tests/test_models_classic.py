"""LeNet-5, SmallVGG, AlexNet and VGG16: parameter counts, layouts and shapes."""

import pytest
import torch
from torch import nn

from cnnlib.models import VGG16, AlexNet, LeNet5, SmallVGG, count_parameters

torch.set_num_threads(1)


def test_lenet5_count_and_shapes():
    model = LeNet5()
    # 6*1*25+6, 16*6*25+16, 400*120+120, 120*84+84, 84*10+10
    assert count_parameters(model) == 156 + 2416 + 48120 + 10164 + 850 == 61706
    x = torch.randn(3, 1, 28, 28)
    assert model.features(x).shape == (3, 16, 5, 5)
    assert model(x).shape == (3, 10)
    variant = LeNet5(num_classes=5, in_channels=3, activation="relu", pool="max")
    assert count_parameters(variant) == 61706 + 2 * 6 * 25 - 5 * 85
    kinds = [type(m) for m in variant.features]
    assert kinds == [nn.Conv2d, nn.ReLU, nn.MaxPool2d] * 2
    assert [type(m) for m in model.features][1:3] == [nn.Tanh, nn.AvgPool2d]
    assert variant(torch.randn(2, 3, 28, 28)).shape == (2, 5)


def test_lenet5_errors():
    with pytest.raises(ValueError, match="LeNet5: activation must be one of"):
        LeNet5(activation="sigmoid")
    with pytest.raises(ValueError, match="LeNet5: pool must be one of"):
        LeNet5(pool="min")
    with pytest.raises(ValueError, match="LeNet5: num_classes must be an int >= 1"):
        LeNet5(num_classes=0)
    with pytest.raises(ValueError, match=r"LeNet5: expected images \(N, 1, 28, 28\)"):
        LeNet5()(torch.zeros(2, 1, 32, 32))
    with pytest.raises(ValueError, match=r"got shape \(2, 28, 28\)"):
        LeNet5()(torch.zeros(2, 28, 28))


def test_small_vgg_layout():
    model = SmallVGG()
    assert count_parameters(model) == 40794
    assert count_parameters(SmallVGG(batch_norm=False)) == 40634
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [16, 16, 32, 32, 64]
    assert all(c.bias is None and c.kernel_size == (3, 3) for c in convs)
    assert all(c.bias is not None for c in SmallVGG(batch_norm=False).features[:1])
    x = torch.randn(2, 1, 28, 28)
    sizes = []
    for m in model.features:
        x = m(x)
        if isinstance(m, nn.MaxPool2d):
            sizes.append(x.shape[-1])
    assert sizes == [14, 7, 3] and x.shape == (2, 64, 3, 3)
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    two = SmallVGG(widths=(8, 16), convs_per_stage=(1, 1), in_channels=3)
    assert two(torch.randn(1, 3, 28, 28)).shape == (1, 10)
    assert two.classifier[-1].in_features == 16 * 7 * 7
    assert isinstance(model.classifier[1], nn.Dropout) and model.classifier[1].p == 0.3


def test_small_vgg_errors():
    with pytest.raises(ValueError, match="SmallVGG: widths .* same length"):
        SmallVGG(widths=(8, 16), convs_per_stage=(1,))
    with pytest.raises(ValueError, match="below 1x1"):
        SmallVGG(widths=(4,) * 5, convs_per_stage=(1,) * 5)
    with pytest.raises(ValueError, match="SmallVGG: dropout"):
        SmallVGG(dropout=1.0)
    with pytest.raises(ValueError, match=r"SmallVGG: widths\[1\]"):
        SmallVGG(widths=(8, 0, 8))
    with pytest.raises(ValueError, match=r"SmallVGG: expected images \(N, 1, 28, 28\)"):
        SmallVGG()(torch.zeros(1, 3, 28, 28))


# torchvision's state_dict keys for alexnet() and vgg16(): same layout, same names
ALEXNET_KEYS = [f"features.{i}" for i in (0, 3, 6, 8, 10)]
ALEXNET_KEYS += [f"classifier.{i}" for i in (1, 4, 6)]
VGG16_KEYS = [f"features.{i}" for i in (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)]
VGG16_KEYS += [f"classifier.{i}" for i in (0, 3, 6)]


def _layers(model):
    return sorted({k.rsplit(".", 1)[0] for k in model.state_dict()})


def test_imagenet_models_counts_on_meta():
    with torch.device("meta"):  # shapes only: no memory, no initialisation cost
        alexnet, vgg16, vgg16_bn = AlexNet(), VGG16(), VGG16(batch_norm=True)
        alexnet10 = AlexNet(num_classes=10)
    assert count_parameters(alexnet) == 61_100_840
    assert count_parameters(vgg16) == 138_357_544
    assert count_parameters(vgg16_bn) == 138_365_992
    assert count_parameters(alexnet10) == 61_100_840 - 990 * 4097
    assert _layers(alexnet) == sorted(ALEXNET_KEYS)
    assert _layers(vgg16) == sorted(VGG16_KEYS)
    assert isinstance(alexnet.avgpool, nn.AdaptiveAvgPool2d)
    assert alexnet.avgpool.output_size in (6, (6, 6))
    x = torch.zeros(2, 3, 224, 224, device="meta")
    assert vgg16.features(x).shape == (2, 512, 7, 7)
    assert vgg16(x).shape == alexnet(x).shape == (2, 1000)
    assert vgg16_bn(torch.zeros(1, 3, 64, 48, device="meta")).shape == (1, 1000)


def test_alexnet_one_real_forward():
    torch.manual_seed(0)
    model = AlexNet(num_classes=7).eval()
    with torch.no_grad():
        x = torch.randn(1, 3, 224, 224)
        feats = model.features(x)
        y = model(x)
    assert feats.shape == (1, 256, 6, 6) and y.shape == (1, 7)
    assert torch.isfinite(y).all()


def test_imagenet_models_errors():
    with torch.device("meta"):
        alexnet, vgg16 = AlexNet(), VGG16()
    with pytest.raises(ValueError, match=r"AlexNet: expected RGB images"):
        alexnet(torch.zeros(1, 1, 224, 224, device="meta"))
    with pytest.raises(ValueError, match=r"VGG16: .*H, W >= 32"):
        vgg16(torch.zeros(1, 3, 16, 16, device="meta"))
    with pytest.raises(ValueError, match="VGG16: num_classes"):
        VGG16(num_classes=-1)
