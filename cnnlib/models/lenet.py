"""LeNet-5 (LeCun, Bottou, Bengio and Haffner, "Gradient-based learning applied to
document recognition", Proc. IEEE 1998), as it is usually rebuilt today.

The paper's network reads 32x32 images; here 28x28 MNIST-sized images are padded by 2
in the first convolution, which gives the same 28x28 maps after C1. Departures from the
paper: (1) padding instead of a 32x32 input; (2) C3 connects every one of the 6 input
maps to each of its 16 maps (the paper used a hand-picked table of 60 connections);
(3) the subsampling layers S2 and S4 are plain average (or max) pooling, without the
paper's trainable coefficient and bias per map; (4) the output is a linear layer with
``num_classes`` logits instead of the paper's Euclidean radial basis function units;
(5) the activation is torch's ``tanh`` (the paper used a scaled tanh, 1.7159
tanh(2x/3)) or ReLU.
"""

from __future__ import annotations

from torch import nn


def check_int(owner: str, name: str, value, low: int = 1) -> None:
    """ValueError naming ``owner`` and ``name`` unless value is an int >= low."""
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"{owner}: {name} must be an int >= {low}, got {value!r}")


def check_images(owner: str, x, channels: int, size: int | None = None) -> None:
    """ValueError unless x is (N, channels, H, W) (with H = W = size when given)."""
    hw = "H, W" if size is None else f"{size}, {size}"
    ok = x.ndim == 4 and x.shape[1] == channels
    if ok and size is not None:
        ok = tuple(x.shape[2:]) == (size, size)
    if not ok:
        raise ValueError(
            f"{owner}: expected images (N, {channels}, {hw}), got shape "
            f"{tuple(x.shape)}"
        )


def _choice(owner: str, name: str, value, options: dict):
    if value not in options:
        raise ValueError(
            f"{owner}: {name} must be one of {sorted(options)}, got {value!r}"
        )
    return options[value]


class LeNet5(nn.Module):
    """x (N, in_channels, 28, 28) -> logits (N, num_classes).

    ``features``: C1 conv 5x5 padding 2 -> 6 maps 28x28, activation, S2 pool 2 ->
    14x14, C3 conv 5x5 -> 16 maps 10x10, activation, S4 pool 2 -> 5x5.
    ``classifier``: flatten (400) -> 120 -> 84 -> ``num_classes``, activation between.
    ``activation`` is "tanh" or "relu", ``pool`` "avg" or "max". The default has
    61,706 parameters: 156 + 2,416 in the convolutions, 48,120 + 10,164 + 850 in the
    linear layers. See the module docstring for the departures from LeCun et al. 1998.
    """

    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 1,
        activation: str = "tanh",
        pool: str = "avg",
    ):
        super().__init__()
        check_int("LeNet5", "num_classes", num_classes)
        check_int("LeNet5", "in_channels", in_channels)
        act = _choice(
            "LeNet5", "activation", activation, {"tanh": nn.Tanh, "relu": nn.ReLU}
        )
        pool_cls = _choice(
            "LeNet5", "pool", pool, {"avg": nn.AvgPool2d, "max": nn.MaxPool2d}
        )
        self.in_channels = in_channels
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=2),  # C1: (N, 6, 28, 28)
            act(),
            pool_cls(2),  # S2: (N, 6, 14, 14)
            nn.Conv2d(6, 16, 5),  # C3: (N, 16, 10, 10)
            act(),
            pool_cls(2),  # S4: (N, 16, 5, 5)
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),  # (N, 400)
            nn.Linear(16 * 5 * 5, 120),  # C5
            act(),
            nn.Linear(120, 84),  # F6
            act(),
            nn.Linear(84, num_classes),  # output
        )

    def forward(self, x):
        check_images("LeNet5", x, self.in_channels, 28)
        return self.classifier(self.features(x))
