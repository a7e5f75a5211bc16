"""The receptive-field formula r_l = r_(l-1) + (k_l - 1) d_l j_(l-1), j_l = j_(l-1) s_l
agrees with the pixels a unit measurably depends on (2D and 1D); the effective field
of a random deep stack is smaller than the theoretical one."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from cnnlib import viz, widgets  # noqa: E402
from cnnlib.models import LeNet5, SmallVGG  # noqa: E402
from cnnlib.receptive_field import (  # noqa: E402
    conv_stack2d,
    effective_receptive_field,
    gradient_map2d,
    layer_specs,
    measured_receptive_field,
    measured_receptive_field2d,
    receptive_field,
    rf_formula,
)

torch.set_num_threads(1)


def test_formula_by_hand():
    assert rf_formula([(3, 1, 1)] * 3) == [(3, 1), (5, 1), (7, 1)]
    assert rf_formula([(3, 2, 1), (3, 2, 1)]) == [(3, 2), (7, 4)]
    assert rf_formula([(2, 1, 1), (2, 1, 2), (2, 1, 4)]) == [(2, 1), (4, 1), (8, 1)]
    assert rf_formula([5, (2, 2)]) == [(5, 1), (6, 2)]  # k, then (k, s)
    assert receptive_field([]) == (1, 1)
    assert receptive_field(LeNet5().features) == (16, 4)
    assert receptive_field(SmallVGG().features) == (28, 8)


def _random_stack(rng, dims):
    """Random convolutions (k 1-5, s 1-2, d 1-2) and pooling; in 2D 1 or 2 channels
    and max or average pooling, in 1D one channel (as the 1D tool expects)."""
    conv = nn.Conv2d if dims == 2 else nn.Conv1d
    avg, mx = (nn.AvgPool2d, nn.MaxPool2d) if dims == 2 else (nn.AvgPool1d, None)
    layers, c = [], 1
    for _ in range(rng.integers(1, 5)):
        c_out = int(rng.integers(1, 3)) if dims == 2 else 1
        k, s, d = (int(v) for v in rng.integers([1, 1, 1], [6, 3, 3]))
        layers += [conv(c, c_out, k, s, dilation=d), nn.ReLU()]
        c = c_out
        if rng.random() < 0.4:
            k = int(rng.integers(2, 4))
            use_max = mx is not None and rng.random() < 0.5
            layers.append((mx if use_max else avg)(k, int(rng.integers(1, k + 1))))
    return layers


@pytest.mark.parametrize("seed", range(12))
def test_formula_equals_measured_2d(seed):
    rng = np.random.default_rng(seed)
    for _ in range(3):
        layers = _random_stack(rng, 2)
        r, j = receptive_field(layers)
        size = r + 2 * j + int(rng.integers(0, 3))  # no padding: every unit fits
        assert measured_receptive_field2d(layers, size) == (r, r), layers


@pytest.mark.parametrize("seed", range(6))
def test_formula_equals_measured_1d(seed):
    rng = np.random.default_rng(100 + seed)
    for _ in range(4):
        layers = _random_stack(rng, 1)
        r, _ = receptive_field(layers)
        assert measured_receptive_field(layers, r + 7) == r, layers


def test_padding_and_max_pooling_measured():
    # LeNet5: padding 2, tanh, average pooling; SmallVGG: BN, ReLU, max pooling
    assert measured_receptive_field2d(LeNet5().features, 28) == (16, 16)
    assert measured_receptive_field2d(SmallVGG().features, 60) == (28, 28)
    # the corner unit's field starts 10 pixels into the padding (1 + 1 + 2 + 2 + 4):
    # it sees 28 - 10 = 18 pixels a side
    assert measured_receptive_field2d(SmallVGG().features, 28, (0, 0)) == (18, 18)


def test_non_square_kernels():
    layers = [nn.Conv2d(1, 1, (3, 5), stride=(1, 2)), nn.Conv2d(1, 1, 3)]
    assert receptive_field(layers, axis=0) == (5, 1)
    assert receptive_field(layers, axis=1) == (9, 2)
    assert measured_receptive_field2d(layers, 20) == (5, 9)
    with pytest.raises(ValueError, match=r"different along height and width.*axis"):
        receptive_field(layers)


def test_path_counts_and_errors():
    grad, out_size = gradient_map2d(conv_stack2d(3, 1, 1, 2), 9)
    counts = np.array([1, 2, 3, 2, 1])
    assert out_size == (5, 5)
    assert np.array_equal(grad[2:7, 2:7], np.outer(counts, counts))
    assert grad.sum() == 81 and np.count_nonzero(grad) == 25
    with pytest.raises(ValueError, match=r"position must be in \[0, 4\] x \[0, 4\]"):
        gradient_map2d(conv_stack2d(3, 1, 1, 2), 9, position=(5, 0))
    with pytest.raises(ValueError, match="gradient_map2d: input .* too small"):
        gradient_map2d(conv_stack2d(5, 1, 1, 3), 10)
    with pytest.raises(ValueError, match=r"must output \(N, C, H, W\)"):
        gradient_map2d([nn.Conv2d(1, 1, 3), nn.Flatten()], 8)
    with pytest.raises(ValueError, match="cannot read a kernel from Flatten"):
        receptive_field([nn.Conv2d(1, 1, 3), nn.Flatten(), nn.Linear(4, 2)])
    with pytest.raises(ValueError, match=r"\(k, s, d\) must be >= 1"):
        layer_specs([(3, 0, 1)])


def test_effective_smaller_than_theoretical():
    torch.manual_seed(0)
    shallow = effective_receptive_field(conv_stack2d(3, 1, 1, 2, channels=8), 21)
    deep = effective_receptive_field(conv_stack2d(3, 1, 1, 10, channels=8), 37)
    assert deep.theoretical == 21 and shallow.theoretical == 5
    assert deep.grad.shape == (37, 37) and np.isclose(deep.grad.sum(), 1.0)
    # the gradient stays inside the theoretical field
    assert deep.grad[:8].sum() == 0 and deep.grad[:, 29:].sum() == 0
    assert deep.extent < deep.theoretical and deep.fraction < 0.8
    assert deep.fraction < shallow.fraction
    more = effective_receptive_field(conv_stack2d(3, 1, 1, 10, channels=8), 37, mass=1)
    assert more.extent == 21  # all of the mass: the whole theoretical field
    lenet = effective_receptive_field(
        LeNet5(activation="relu", pool="max").features, 28
    )
    assert lenet.theoretical == 16 and lenet.extent <= 16
    with pytest.raises(ValueError, match="mass must be in"):
        effective_receptive_field(conv_stack2d(3, 1, 1, 1), 9, mass=0)


def test_figure_and_widget():
    axes = viz.draw_receptive_field2d(3, 2, 1, 3)
    assert [ax.get_title() for ax in axes] == [
        "layer 1: r = 3, j = 2",
        "layer 2: r = 7, j = 4",
        "layer 3: r = 15, j = 8",
    ]
    box = axes[2].patches[0]  # the receptive field's outline: 15 x 15 pixels
    assert (box.get_width(), box.get_height()) == (15, 15)
    axes = viz.draw_receptive_field2d(7, 3, 3, 3, dilation=3)
    assert axes[1].get_title().endswith("> 64") and not axes[1].images
    w = widgets.receptive_field2d_explorer(kernel=5, depth=2)
    assert [c.description for c in w.children[:5]] == [
        "kernel k",
        "stride s",
        "dilation d",
        "depth",
        "pool q",
    ]
    plt.close("all")
