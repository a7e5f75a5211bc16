"""One-dimensional CNNs: MNIST-1D (the lecture's net, its MLP twin, a better net) and
spoken digits from the raw waveform.

``MNIST1DCNN`` and ``MNIST1DMLP`` are the pair from Prince, *Understanding Deep
Learning* (2023), figures 10.7 and 10.8, on Greydanus's MNIST-1D
(arXiv:2011.14439). ``BetterCNN1d`` is this book's design; each of its constructor
flags switches one ingredient off so that the chapter can measure what it buys.
``SpokenDigitCNN`` follows the shape of Dai et al.'s M5 ("Very deep convolutional
neural networks for raw waveforms", 2017): a short strided first convolution on the
waveform, blocks of convolution and pooling, then global pooling over time. It is
narrower than M5 (16-64 channels instead of 128-512) and uses average pooling inside,
max pooling only at the end.
"""

from __future__ import annotations

import torch
from torch import nn

MNIST1D_LENGTH = 40


def _check_int(owner: str, name: str, value, low: int = 1) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"{owner}: {name} must be an int >= {low}, got {value!r}")


def _as_signals(owner: str, x: torch.Tensor, length: int | None = None):
    """(N, L) or (N, 1, L) -> (N, 1, L); a clear error, naming x's shape, otherwise."""
    shape = tuple(x.shape)
    if length is None:
        want = "(N, L) or (N, 1, L)"
    else:
        want = f"(N, {length}) or (N, 1, {length})"
    if x.ndim == 2:
        x = x[:, None, :]  # (N, 1, L)
    if x.ndim != 3 or x.shape[1] != 1 or (length is not None and x.shape[-1] != length):
        raise ValueError(f"{owner}: expected one-channel signals {want}, got {shape}")
    return x


class MNIST1DCNN(nn.Module):
    """x (N, 40) or (N, 1, 40) -> logits (N, 10): the lecture's CNN for MNIST-1D.

    Three convolutions with kernel size 3, stride 2 and no padding ("valid"), each
    with ``channels`` filters and a ReLU: 40 -> 19 -> 9 -> 4 positions. The
    ``channels`` x 4 values are flattened into one linear layer. With 15 channels it
    has 2,050 parameters: 60 + 690 + 690 in the convolutions, 610 in the linear layer.
    """

    def __init__(self, channels: int = 15, classes: int = 10):
        super().__init__()
        _check_int("MNIST1DCNN", "channels", channels)
        _check_int("MNIST1DCNN", "classes", classes)
        c = channels
        self.features = nn.Sequential(
            nn.Conv1d(1, c, 3, stride=2),  # (N, c, 19)
            nn.ReLU(),
            nn.Conv1d(c, c, 3, stride=2),  # (N, c, 9)
            nn.ReLU(),
            nn.Conv1d(c, c, 3, stride=2),  # (N, c, 4)
            nn.ReLU(),
        )
        self.classifier = nn.Linear(c * 4, classes)

    def forward(self, x):
        x = _as_signals("MNIST1DCNN", x, MNIST1D_LENGTH)
        return self.classifier(self.features(x).flatten(1))  # (N, classes)


class MNIST1DMLP(nn.Module):
    """x (N, 40) or (N, 1, 40) -> logits (N, 10): MNIST1DCNN's fully connected twin.

    As many hidden layers as the CNN, each with as many units as the CNN's layer has
    values (15 channels x 19, 9 and 4 positions = 285, 135 and 60), ReLU between
    them. 59,065 parameters with the default widths.
    """

    def __init__(self, hidden: tuple[int, ...] = (285, 135, 60), classes: int = 10):
        super().__init__()
        for width in hidden:
            _check_int("MNIST1DMLP", "every hidden width", width)
        _check_int("MNIST1DMLP", "classes", classes)
        layers, width = [], MNIST1D_LENGTH
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        x = _as_signals("MNIST1DMLP", x, MNIST1D_LENGTH)
        return self.net(x.flatten(1))  # (N, classes)


class BetterCNN1d(nn.Module):
    """x (N, L) or (N, 1, L) -> logits (N, classes): the chapter's MNIST-1D CNN.

    ``depth`` blocks of [convolution (``kernel_size``) -> BatchNorm1d -> ReLU ->
    halve the length], then global average pooling over positions and one linear
    layer. Each flag switches one ingredient off, for the ablation:

    - ``padding=False``: "valid" convolutions instead of zero padding that keeps the
      length ("same");
    - ``batch_norm=False``: no BatchNorm1d (the convolutions then get a bias);
    - ``global_pool=False``: flatten all positions into the linear layer instead of
      averaging them (the input length must then be ``length``);
    - ``downsample="stride"``: halve the length with stride-2 convolutions instead of
      a convolution followed by max pooling of 2 (``"pool"``).

    With the defaults (32 channels, depth 3, kernel 5) it has 10,922 parameters.
    """

    def __init__(
        self,
        channels: int = 32,
        depth: int = 3,
        kernel_size: int = 5,
        padding: bool = True,
        batch_norm: bool = True,
        global_pool: bool = True,
        downsample: str = "pool",
        length: int = MNIST1D_LENGTH,
        classes: int = 10,
    ):
        super().__init__()
        for name, value in (
            ("channels", channels),
            ("depth", depth),
            ("kernel_size", kernel_size),
            ("length", length),
            ("classes", classes),
        ):
            _check_int("BetterCNN1d", name, value)
        if downsample not in ("pool", "stride"):
            raise ValueError(
                "BetterCNN1d: downsample must be 'pool' or 'stride', "
                f"got {downsample!r}"
            )
        pad = (kernel_size - 1) // 2 if padding else 0
        stride = 2 if downsample == "stride" else 1
        layers, c_in, n = [], 1, length
        for _ in range(depth):
            layers.append(
                nn.Conv1d(c_in, channels, kernel_size, stride, pad, bias=not batch_norm)
            )
            if batch_norm:
                layers.append(nn.BatchNorm1d(channels))
            layers.append(nn.ReLU())
            n = (n + 2 * pad - kernel_size) // stride + 1
            if downsample == "pool":
                layers.append(nn.MaxPool1d(2))
                n //= 2
            c_in = channels
            if n < 1:
                raise ValueError(
                    f"BetterCNN1d: an input of length {length} shrinks to nothing "
                    f"after {len([m for m in layers if isinstance(m, nn.Conv1d)])} "
                    "blocks; use padding, a smaller depth or a longer input"
                )
        self.features = nn.Sequential(*layers)
        self.global_pool, self.length = global_pool, length
        if global_pool:
            self.classifier = nn.Linear(channels, classes)
        else:
            self.classifier = nn.Linear(channels * n, classes)

    def forward(self, x):
        x = _as_signals("BetterCNN1d", x, None if self.global_pool else self.length)
        h = self.features(x)  # (N, channels, n)
        if self.global_pool:
            h = h.mean(-1)  # (N, channels): the average over positions
        return self.classifier(h.flatten(1))  # (N, classes)


class SpokenDigitCNN(nn.Module):
    """x (N, L) or (N, 1, L) waveforms -> logits (N, classes), L >= 512 samples.

    A first convolution with ``first_kernel`` taps and stride ``first_stride`` turns
    the waveform into ``channels[0]`` feature signals; three more convolutions
    (kernel 3, zero padding) follow. Every convolution is followed by BatchNorm1d and
    a ReLU; the first three blocks end with pooling of ``pool`` (``pool_type``
    "avg" or "max"). Global max pooling over time then keeps, per channel, the
    strongest response wherever it occurs, so a word is recognised wherever it is
    in the clip; a linear layer gives the logits. At 8 kHz with the defaults the
    last convolution sees 1,864 samples (233 ms) of the waveform, one position
    every 512 samples; 21,226 parameters. The pooled features are exactly
    shift-invariant only for shifts by multiples of that total stride of 512
    samples (64 ms); other shifts change them through aliasing (chapter 03
    measures it). With 8,000-sample clips the second and third poolings drop the
    positions that do not fill a window, so the last 156 samples reach no output;
    a length that is a multiple of 512, such as 8,192, is read to the end.
    """

    def __init__(
        self,
        channels: tuple[int, int, int, int] = (16, 32, 64, 64),
        first_kernel: int = 16,
        first_stride: int = 8,
        pool: int = 4,
        pool_type: str = "avg",
        classes: int = 10,
    ):
        super().__init__()
        if len(channels) != 4:
            raise ValueError(
                f"SpokenDigitCNN: channels must list 4 widths, got {channels!r}"
            )
        for width in channels:
            _check_int("SpokenDigitCNN", "every channel width", width)
        _check_int("SpokenDigitCNN", "first_kernel", first_kernel)
        _check_int("SpokenDigitCNN", "first_stride", first_stride)
        _check_int("SpokenDigitCNN", "pool", pool)
        _check_int("SpokenDigitCNN", "classes", classes)
        if pool_type not in ("avg", "max"):
            raise ValueError(
                f"SpokenDigitCNN: pool_type must be 'avg' or 'max', got {pool_type!r}"
            )
        Pool = nn.AvgPool1d if pool_type == "avg" else nn.MaxPool1d
        pad = max(first_kernel - first_stride, 0) // 2
        layers, c_in = [], 1
        for i, c in enumerate(channels):
            if i == 0:
                conv = nn.Conv1d(1, c, first_kernel, first_stride, pad, bias=False)
            else:
                conv = nn.Conv1d(c_in, c, 3, padding=1, bias=False)
            layers += [conv, nn.BatchNorm1d(c), nn.ReLU()]
            if i < 3:
                layers.append(Pool(pool))
            c_in = c
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(c_in, classes)
        # the shortest waveform that leaves one position after the three poolings
        self.min_length = first_stride * (pool**3 - 1) + first_kernel - 2 * pad

    def forward(self, x):
        shape = tuple(x.shape)
        x = _as_signals("SpokenDigitCNN", x)
        if x.shape[-1] < self.min_length:
            raise ValueError(
                f"SpokenDigitCNN: waveforms must have at least {self.min_length} "
                f"samples, got shape {shape}"
            )
        h = self.features(x)  # (N, channels[-1], positions)
        h = h.amax(-1)  # (N, channels[-1]): global max pooling over time
        return self.classifier(h)  # (N, classes)
