"""feature_maps, saliency, occlusion, class_activation_map and confident_mistakes on
models whose right answers are known by construction."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from cnnlib import viz  # noqa: E402
from cnnlib.interpret import (  # noqa: E402
    class_activation_map,
    confident_mistakes,
    feature_maps,
    occlusion,
    patch_starts,
    saliency,
)
from cnnlib.models import SmallVGG  # noqa: E402

torch.set_num_threads(1)
R, C = 5, 3  # the one pixel the model looks at


class OnePixel(nn.Module):
    """x (N, 3, H, W) -> logits (N, 2) = (w x[:, 1, R, C], 0): nothing else matters."""

    def __init__(self, w=2.0):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w, dtype=torch.float64))

    def forward(self, x):
        v = self.w * x[:, 1, R, C]
        return torch.stack([v, torch.zeros_like(v)], dim=1)


def _tiny_cnn():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 4 * 5, 3),
    ).double()


def test_saliency_one_pixel():
    model = OnePixel(w=-3.0)
    x = torch.rand(2, 3, 9, 8, dtype=torch.float64)
    s = saliency(model, x, target=0)
    expected = torch.zeros(2, 9, 8, dtype=torch.float64)
    expected[:, R, C] = 3.0
    assert s.shape == (2, 9, 8) and torch.equal(s, expected)
    assert model.w.grad is None  # only the input's gradient is computed


def test_saliency_matches_autograd_and_restores_modes():
    model = _tiny_cnn().train()
    model[0].eval()  # a mixed state must come back as it was
    x = torch.randn(3, 2, 8, 10, dtype=torch.float64)
    s = saliency(model, x)  # default target: the predicted class
    assert model.training and not model[0].training and model[2].training
    with torch.no_grad():
        model.eval()
        pred = model(x).argmax(1)
    for i in range(3):
        xi = x[i : i + 1].clone().requires_grad_(True)
        model(xi)[0, pred[i]].backward()
        assert torch.allclose(s[i], xi.grad[0].abs().amax(0))
    assert torch.equal(saliency(model, x, target=pred.tolist()), s)


def test_occlusion_one_pixel():
    model = OnePixel(w=2.0)
    x = torch.zeros(1, 3, 12, 11, dtype=torch.float64)
    x[0, 1, R, C] = 1.0  # p(class 0) = sigmoid(2); covering the pixel gives 1/2
    patch, stride = 3, 2
    out = occlusion(model, x, target=0, patch=patch, stride=stride)
    assert out.rows == [0, 2, 4, 6, 8, 9] and out.cols == [0, 2, 4, 6, 8]
    assert out.drop.shape == (1, 6, 5) and out.heatmap.shape == (1, 12, 11)
    full = torch.sigmoid(torch.tensor(2.0, dtype=torch.float64)) - 0.5
    for a, r in enumerate(out.rows):
        for b, c in enumerate(out.cols):
            covers = r <= R < r + patch and c <= C < c + patch
            assert torch.isclose(out.drop[0, a, b], full if covers else 0 * full)
    assert torch.isclose(out.heatmap[0, R, C], full)
    assert out.heatmap[0].argmax() == R * 11 + C


def _occlusion_loop(model, x, target, patch, stride, fill):
    """Reference: one forward pass per patch position."""
    rows = patch_starts(x.shape[2], patch, stride)
    cols = patch_starts(x.shape[3], patch, stride)
    drop = torch.zeros(len(x), len(rows), len(cols), dtype=x.dtype)
    with torch.no_grad():
        p0 = model(x).softmax(1)
        for n in range(len(x)):
            for a, r in enumerate(rows):
                for b, c in enumerate(cols):
                    xc = x[n : n + 1].clone()
                    xc[..., r : r + patch, c : c + patch] = fill
                    p = model(xc).softmax(1)[0, target[n]]
                    drop[n, a, b] = p0[n, target[n]] - p
    return drop


def test_occlusion_equals_loop():
    model = _tiny_cnn()
    x = torch.randn(2, 2, 8, 10, dtype=torch.float64)
    target = [2, 0]
    ref = _occlusion_loop(model.eval(), x, target, 3, 2, 0.5)
    model.train()
    out = occlusion(model, x, target, patch=3, stride=2, fill=0.5, batch_size=5)
    assert model.training and torch.allclose(out.drop, ref)
    pred = model.eval()(x).argmax(1)
    default = occlusion(model, x, None, patch=3, stride=2, fill=0.5)
    assert torch.allclose(default.drop, occlusion(model, x, pred, 3, 2, 0.5).drop)
    # heatmap = mean drop of the patches covering each pixel; pixel (0, 0): one
    assert torch.allclose(out.heatmap[:, 0, 0], ref[:, 0, 0])


def test_patch_starts():
    assert patch_starts(28, 4, 2) == list(range(0, 25, 2))
    assert patch_starts(28, 5, 2)[-2:] == [22, 23]
    assert patch_starts(4, 4, 3) == [0]


def test_feature_maps():
    model = SmallVGG().train()
    x = torch.randn(2, 1, 28, 28)
    maps = feature_maps(model, x, ["features.6", model.features[0]])
    assert list(maps) == ["features.6", "features.0"] and model.training
    with torch.no_grad():
        model.eval()
        assert torch.allclose(maps["features.6"], model.features[:7](x))
        assert torch.allclose(maps["features.0"], model.features[0](x))
    assert not any(m._forward_hooks for m in model.modules())
    # an in-place ReLU must not overwrite what was saved of the convolution
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(inplace=True))
    conv_out = feature_maps(net, x, "0")["0"]
    assert (conv_out < 0).any() and torch.allclose(conv_out, net[0](x).detach())


class Broken(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3)

    def forward(self, x):
        self.conv(x)
        raise RuntimeError("boom")


def test_feature_maps_removes_hooks_on_error():
    model = Broken()
    with pytest.raises(RuntimeError, match="boom"):
        feature_maps(model, torch.zeros(1, 1, 5, 5), "conv")
    assert not model.conv._forward_hooks


def _gap_cnn(inplace=False):
    """conv -> ReLU -> conv -> ReLU ("3": the maps A) -> global average pool -> linear:
    Zhou et al.'s CAM architecture, in float64, with dropout to be switched off."""
    torch.manual_seed(1)
    return nn.Sequential(
        nn.Conv2d(2, 5, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(5, 6, 3, stride=2),
        nn.ReLU(inplace=inplace),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dropout(0.5),
        nn.Linear(6, 4),
    ).double()


def test_grad_cam_equals_zhou_cam_on_a_gap_network():
    model = _gap_cnn().train()
    x = torch.randn(3, 2, 11, 9, dtype=torch.float64)
    target = [3, 0, 2]
    out = class_activation_map(model, x, target, layer="3")
    assert model.training and all(p.grad is None for p in model.parameters())
    with torch.no_grad():
        a = model[:4](x)  # (3, 6, 5, 4): the maps the linear layer averages
    h, w = a.shape[2:]
    v = model[-1].weight  # (4 classes, 6 channels)
    zhou = torch.einsum("nc,nchw->nhw", v[target], a)  # Zhou et al. 2016, no ReLU
    assert (zhou < 0).any() and (zhou > 0).any()  # so that the ReLU matters
    assert out.cam.shape == (3, h, w) and out.weights.shape == (3, 6)
    assert torch.allclose(out.weights * (h * w), v[target], rtol=1e-12, atol=0)
    assert torch.allclose(out.cam * (h * w), zhou.clamp(min=0), rtol=1e-12, atol=1e-15)
    # heatmap: the cam resized bilinearly to the input's 11 x 9
    up = F.interpolate(out.cam[:, None], (11, 9), mode="bilinear", align_corners=False)
    assert out.heatmap.shape == (3, 11, 9) and torch.equal(out.heatmap, up[:, 0])
    # the module itself, a single int target and the default (predicted) target
    by_module = class_activation_map(model, x, 0, layer=model[3])
    assert torch.allclose(by_module.weights, v[0].expand(3, 6) / (h * w))
    pred = model.eval()(x).argmax(1)
    default = class_activation_map(model, x, layer="3")
    assert torch.equal(default.cam, class_activation_map(model, x, pred, layer="3").cam)


def test_grad_cam_matches_autograd_without_gap():
    """On a flatten + linear head the weights are the averaged gradients; an in-place
    ReLU after the layer must not change what was saved of it."""
    model = _tiny_cnn()  # conv "0" -> ReLU -> dropout -> pool -> flatten -> linear
    inplace = _tiny_cnn()
    inplace[1] = nn.ReLU(inplace=True)
    x = torch.randn(2, 2, 8, 10, dtype=torch.float64)
    a = model[0](x).detach().requires_grad_(True)  # (2, 4, 8, 10)
    score = model.eval()[1:](a)[[0, 1], [1, 2]].sum()
    (grad,) = torch.autograd.grad(score, a)
    weights = grad.mean((2, 3))  # (2, 4)
    expected = torch.relu((weights[:, :, None, None] * a).sum(1)).detach()
    for net in (model, inplace):
        out = class_activation_map(net, x, [1, 2], layer="0")
        assert torch.allclose(out.weights, weights, rtol=1e-12, atol=1e-15)
        assert torch.allclose(out.cam, expected, rtol=1e-12, atol=1e-15)
        # the layer has the input's size: the bilinear resize changes nothing
        assert torch.allclose(out.heatmap, out.cam, rtol=1e-12, atol=1e-15)


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.unused = nn.Conv2d(1, 2, 3), nn.Conv2d(1, 2, 3)
        self.fc = nn.Linear(2, 3)

    def forward(self, x):
        self.unused(x)
        return self.fc(self.conv(self.conv(x[:, :1]).sum(1, keepdim=True)).mean((2, 3)))


def test_class_activation_map_errors():
    model = _gap_cnn()
    x = torch.zeros(2, 2, 8, 8, dtype=torch.float64)
    fn = "class_activation_map"
    with pytest.raises(TypeError, match=f"{fn}: model must be an nn.Module"):
        class_activation_map(lambda t: t, x, layer="3")
    with pytest.raises(TypeError, match=f"{fn}: x must be a torch.Tensor"):
        class_activation_map(model, x.numpy(), layer="3")
    with pytest.raises(ValueError, match=rf"{fn}: x must be .* \(2, 8, 8\)"):
        class_activation_map(model, x[0], layer="3")
    with pytest.raises(ValueError, match=f"{fn}: 'conv9' is not a layer"):
        class_activation_map(model, x, layer="conv9")
    with pytest.raises(ValueError, match=f"{fn}: .* is not a layer"):
        class_activation_map(model, x, layer=nn.ReLU())  # a module of another model
    with pytest.raises(TypeError, match=f"{fn}: layer must be a name .* got int"):
        class_activation_map(model, x, layer=3)
    with pytest.raises(ValueError, match=rf"{fn}: layer '5' must output feature maps"):
        class_activation_map(model, x, layer="5")  # flatten: (N, 6)
    with pytest.raises(ValueError, match=r"target classes must be in \[0, 3\]"):
        class_activation_map(model, x, 4, layer="3")
    with pytest.raises(ValueError, match="target must be None, an int or 2 ints"):
        class_activation_map(model, x, [0, 1, 2], layer="3")
    with pytest.raises(TypeError, match="required keyword-only argument: 'layer'"):
        class_activation_map(model, x)  # the layer has no default
    two = TwoHeads().double()
    y = torch.zeros(1, 1, 9, 9, dtype=torch.float64)
    with pytest.raises(ValueError, match=f"{fn}: layer 'conv' ran 2 times"):
        class_activation_map(two, y, layer="conv")
    with pytest.raises(ValueError, match=f"{fn}: the model's output does not depend"):
        class_activation_map(two, y, layer="unused")
    assert not any(m._forward_hooks for m in two.modules())


def test_confident_mistakes():
    probs = np.array(
        [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7], [0.95, 0.05], [0.5, 0.5]]
    )
    y = np.array([1, 1, 1, 0, 0, 1])  # wrong: 0 (0.9), 2 (0.6), 3 (0.7), 5 (0.5)
    assert confident_mistakes(probs, y).tolist() == [0, 3, 2, 5]
    assert confident_mistakes(probs, y, k=2).tolist() == [0, 3]
    idx = confident_mistakes(torch.tensor(probs), torch.tensor(y), k=3)
    assert isinstance(idx, np.ndarray) and idx.tolist() == [0, 3, 2]
    assert confident_mistakes(probs, probs.argmax(1)).tolist() == []
    with pytest.raises(ValueError, match=r"confident_mistakes: .* \(6, 2\) and \(5,\)"):
        confident_mistakes(probs, y[:5])
    with pytest.raises(ValueError, match="confident_mistakes: k must be"):
        confident_mistakes(probs, y, k=0)


def test_errors():
    model = OnePixel()
    x = torch.zeros(3, 8, 8)
    with pytest.raises(
        ValueError, match=r"saliency: x must be .* \(3, 8, 8\).*x\[None\]"
    ):
        saliency(model, x)
    with pytest.raises(ValueError, match=r"target classes must be in \[0, 1\]"):
        saliency(model, x[None].double(), target=2)
    with pytest.raises(ValueError, match="target must be None, an int or 1 ints"):
        occlusion(model, x[None].double(), target=[0, 1])
    with pytest.raises(ValueError, match="occlusion: patch 9 is larger"):
        occlusion(model, x[None].double(), patch=9)
    with pytest.raises(ValueError, match="feature_maps: 'conv9' is not a layer"):
        feature_maps(SmallVGG(), torch.zeros(1, 1, 28, 28), "conv9")
    with pytest.raises(TypeError, match="saliency: model must be an nn.Module"):
        saliency(lambda x: x, x[None])


def test_figures():
    w = SmallVGG().features[0].weight  # (16, 1, 3, 3)
    fig = viz.show_filters(w, ncols=8)
    assert len([a for a in fig.axes if a.images]) == 16
    fig = viz.show_filters(torch.randn(5, 3, 4, 4))
    assert fig.axes[0].images[0].get_array().shape == (4, 4, 3)  # drawn as RGB
    fig = viz.show_feature_maps(torch.randn(1, 40, 6, 6), max_maps=12, ncols=5)
    assert len([a for a in fig.axes if a.images]) == 12
    ax = viz.show_heatmap(torch.randn(1, 6, 6), torch.rand(6, 6))
    assert len(ax.images) == 2
    with pytest.raises(ValueError, match="show_filters: expected"):
        viz.show_filters(torch.randn(3, 3))
    with pytest.raises(ValueError, match="show_heatmap: image"):
        viz.show_heatmap(torch.randn(6, 6), torch.rand(5, 6))
    plt.close("all")
