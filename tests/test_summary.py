"""layer_table: shapes equal the real forward's, totals equal count_parameters."""

import pytest
import torch
from torch import nn

from cnnlib.models import AlexNet, LeNet5, PlainCNN, SmallVGG, count_parameters
from cnnlib.models.summary import LayerRow, format_table, layer_table, summarize

torch.set_num_threads(1)


def _real_shapes(model, x):
    """Output shapes of the leaf modules, recorded by hand with hooks."""
    shapes = {}
    leaves = [(n, m) for n, m in model.named_modules() if not list(m.children())]

    def save(name):
        return lambda _module, _inputs, out: shapes.__setitem__(name, out.shape)

    hooks = [m.register_forward_hook(save(n)) for n, m in leaves]
    with torch.no_grad():
        model.eval()(x)
    for h in hooks:
        h.remove()
    return {n: tuple(s) for n, s in shapes.items()}


@pytest.mark.parametrize(
    "make", [LeNet5, SmallVGG, lambda: PlainCNN(8, 4, batch_norm=True)]
)
def test_shapes_and_totals(make):
    torch.manual_seed(0)
    model = make()
    rows = layer_table(model, (2, 1, 28, 28))
    assert all(isinstance(r, LayerRow) for r in rows)
    assert sum(r.params for r in rows) == count_parameters(model)
    real = _real_shapes(model, torch.randn(2, 1, 28, 28))
    assert {r.name: r.output_shape for r in rows} == real
    assert layer_table(model, (2, 1, 28, 28), meta=False) == rows
    assert rows[-1].output_shape == (2, 10)


def test_lenet5_rows():
    rows = layer_table(LeNet5(), (1, 1, 28, 28))
    assert [r.name for r in rows[:3]] == ["features.0", "features.1", "features.2"]
    assert [r.kind for r in rows[:3]] == ["Conv2d", "Tanh", "AvgPool2d"]
    convs = [(r.output_shape, r.params) for r in rows if r.kind == "Conv2d"]
    assert convs == [((1, 6, 28, 28), 156), ((1, 16, 10, 10), 2416)]
    assert [r.params for r in rows if r.kind == "Linear"] == [48120, 10164, 850]


def test_alexnet_at_224_without_memory():
    with torch.device("meta"):
        model = AlexNet()
    rows = {r.name: r for r in layer_table(model, (1, 3, 224, 224))}
    assert rows["features.0"].output_shape == (1, 64, 55, 55)
    assert rows["features.2"].output_shape == (1, 64, 27, 27)
    assert rows["features.5"].output_shape == (1, 192, 13, 13)
    assert rows["features.12"].output_shape == (1, 256, 6, 6)
    assert rows["classifier.6"].output_shape == (1, 1000)
    assert sum(r.params for r in rows.values()) == 61_100_840


def test_mode_stats_and_shared_layers():
    model = SmallVGG().train()
    before = model.features[1].running_mean.clone()
    layer_table(model, (1, 1, 28, 28), meta=False)
    assert model.training and torch.equal(model.features[1].running_mean, before)
    conv = nn.Conv2d(1, 1, 3, padding=1)
    twice = nn.Sequential(conv, nn.ReLU(), conv)
    rows = layer_table(twice, (1, 1, 5, 5))
    assert [r.name for r in rows] == ["0", "1", "0"]
    assert [r.params for r in rows] == [10, 0, 0]
    # the meta pass swapped the weights for data-less twins: the real ones are back
    assert conv.weight.device.type == "cpu" and conv.weight.requires_grad
    assert isinstance(conv.weight, nn.Parameter) and twice[0].bias is conv.bias


def test_weights_restored_after_an_error():
    model = LeNet5()
    weight = model.features[0].weight
    with pytest.raises(ValueError, match="LeNet5: expected images"):
        layer_table(model, (1, 1, 30, 30))
    assert model.features[0].weight is weight and weight.device.type == "cpu"
    assert not model.features[0]._forward_hooks  # hooks removed too


class NumpyDouble(nn.Module):
    """Computes in numpy: cannot run on the meta device."""

    def forward(self, x):
        return torch.from_numpy(x.numpy() * 2)


def test_falls_back_to_a_real_pass():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), NumpyDouble(), nn.Flatten())
    rows = layer_table(model, (1, 1, 5, 5))
    assert [r.output_shape for r in rows] == [(1, 2, 3, 3), (1, 2, 3, 3), (1, 18)]


def test_format_table():
    text = format_table(layer_table(LeNet5(), (1, 1, 28, 28)))
    lines = text.splitlines()
    assert lines[0].split() == ["layer", "kind", "output", "shape", "params"]
    body = lines[2:-2]
    assert len(body) == 12 and len({len(line) for line in body}) == 1  # aligned
    assert body[0].split()[-1] == "156" and "48,120" in body[7]
    assert lines[-1].startswith("total parameters") and lines[-1].endswith(" 61,706")
    assert len(lines[-1]) == len(body[0])
    assert summarize(LeNet5(), (1, 1, 28, 28)) == text


def test_errors():
    with pytest.raises(TypeError, match="layer_table: model must be an nn.Module"):
        layer_table("LeNet5", (1, 1, 28, 28))
    with pytest.raises(ValueError, match="layer_table: input_shape must hold sizes"):
        layer_table(LeNet5(), (1, 0, 28, 28))
    with pytest.raises(TypeError, match="layer_table: input_shape must be a tuple"):
        layer_table(LeNet5(), 28)
    with pytest.raises(ValueError, match=r"LeNet5: expected images"):
        layer_table(LeNet5(), (1, 1, 32, 32))
    with pytest.raises(TypeError, match="format_table: rows must be LayerRow"):
        format_table([("a", "b")])
