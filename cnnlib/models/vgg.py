"""VGG networks (Simonyan and Zisserman, "Very deep convolutional networks for
large-scale image recognition", ICLR 2015): stages of 3x3 convolutions, each stage
ended by 2x2 max pooling, channels doubling as the resolution halves.

``VGG16`` is torchvision's ``vgg16`` layout (configuration "D"), so its parameter
names and counts match (138,357,544 for 1000 classes; 138,365,992 with batch norm),
built here without torchvision and never with pretrained weights. ``SmallVGG`` is
the same recipe sized for 28x28 grayscale images; its departures from the paper:
batch normalisation after each convolution (added later by Ioffe and Szegedy 2015),
far fewer channels, and one dropout + linear layer instead of three linear layers.
"""

from __future__ import annotations

from torch import nn

from .lenet import check_images, check_int

VGG16_CONFIG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M")
VGG16_CONFIG += (512, 512, 512, "M", 512, 512, 512, "M")


def make_stage(c_in: int, c_out: int, n_convs: int, batch_norm: bool) -> list:
    """``n_convs`` x [3x3 conv padding 1 (no bias with BN) -> (BN) -> ReLU], pool 2."""
    layers: list[nn.Module] = []
    for i in range(n_convs):
        layers.append(
            nn.Conv2d(
                c_in if i == 0 else c_out, c_out, 3, padding=1, bias=not batch_norm
            )
        )
        if batch_norm:
            layers.append(nn.BatchNorm2d(c_out))
        layers.append(nn.ReLU())
    layers.append(nn.MaxPool2d(2))
    return layers


class SmallVGG(nn.Module):
    """x (N, in_channels, image_size, image_size) -> logits (N, num_classes).

    ``features``: one stage per entry of ``widths``, with ``convs_per_stage[i]`` 3x3
    convolutions of ``widths[i]`` channels (padding 1, so the size is kept), each
    followed by BatchNorm2d (when ``batch_norm``; the convolution then has no bias)
    and ReLU, then 2x2 max pooling: 28 -> 14 -> 7 -> 3 with the default three
    stages. ``classifier``: flatten -> Dropout(``dropout``) -> Linear. The default
    (widths 16, 32, 64; 2, 2, 1 convolutions) has 40,794 parameters with batch norm
    (40,634 without).
    """

    def __init__(
        self,
        widths: tuple[int, ...] = (16, 32, 64),
        convs_per_stage: tuple[int, ...] = (2, 2, 1),
        num_classes: int = 10,
        in_channels: int = 1,
        batch_norm: bool = True,
        dropout: float = 0.3,
        image_size: int = 28,
    ):
        super().__init__()
        widths, convs_per_stage = tuple(widths), tuple(convs_per_stage)
        if not widths or len(widths) != len(convs_per_stage):
            raise ValueError(
                f"SmallVGG: widths {widths} and convs_per_stage {convs_per_stage} "
                "must be non-empty and have the same length (one entry per stage)"
            )
        for i, (w, n) in enumerate(zip(widths, convs_per_stage, strict=True)):
            check_int("SmallVGG", f"widths[{i}]", w)
            check_int("SmallVGG", f"convs_per_stage[{i}]", n)
        check_int("SmallVGG", "num_classes", num_classes)
        check_int("SmallVGG", "in_channels", in_channels)
        check_int("SmallVGG", "image_size", image_size)
        if not (isinstance(dropout, int | float) and 0 <= dropout < 1):
            raise ValueError(f"SmallVGG: dropout must be in [0, 1), got {dropout!r}")
        final = image_size // 2 ** len(widths)
        if final < 1:
            raise ValueError(
                f"SmallVGG: {len(widths)} stages halve {image_size}x{image_size} "
                "images below 1x1; use fewer stages or larger images"
            )
        self.in_channels, self.image_size = in_channels, image_size
        layers, c_in = [], in_channels
        for w, n in zip(widths, convs_per_stage, strict=True):
            layers += make_stage(c_in, w, n, batch_norm)
            c_in = w
        self.features = nn.Sequential(*layers)  # (N, widths[-1], final, final)
        self.classifier = nn.Sequential(
            nn.Flatten(),  # (N, widths[-1] * final * final)
            nn.Dropout(dropout),
            nn.Linear(c_in * final * final, num_classes),
        )

    def forward(self, x):
        check_images("SmallVGG", x, self.in_channels, self.image_size)
        return self.classifier(self.features(x))


class VGG16(nn.Module):
    """x (N, 3, H, W) -> logits (N, num_classes); torchvision's ``vgg16`` layout.

    ``features``: 13 3x3 convolutions (padding 1) with ReLU (and BatchNorm2d when
    ``batch_norm``) in 5 stages of 64, 128, 256, 512, 512 channels, each ended by
    2x2 max pooling (224 -> 7); ``avgpool``: AdaptiveAvgPool2d(7), so any H, W >= 32
    works; ``classifier``: 25,088 -> 4096 -> 4096 -> ``num_classes`` with ReLU and
    Dropout(0.5). Initialised like torchvision (He normal, fan_out, for the
    convolutions; N(0, 0.01) for the linear layers; zero biases). 138,357,544
    parameters for 1000 classes (about 553 MB in float32). The ReLUs are not in-place
    (torchvision's are), so that forward hooks see each layer's own output.
    """

    def __init__(self, num_classes: int = 1000, batch_norm: bool = False):
        super().__init__()
        check_int("VGG16", "num_classes", num_classes)
        layers: list[nn.Module] = []
        c_in = 3
        for v in VGG16_CONFIG:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
                continue
            layers.append(nn.Conv2d(c_in, v, 3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(v))
            layers.append(nn.ReLU())
            c_in = v
        self.features = nn.Sequential(*layers)  # (N, 512, H/32, W/32)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))  # (N, 512, 7, 7)
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(4096, num_classes),
        )
        self._init_weights()

    def _init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != 3 or min(x.shape[2:]) < 32:
            raise ValueError(
                f"VGG16: expected RGB images (N, 3, H, W) with H, W >= 32, got shape "
                f"{tuple(x.shape)}"
            )
        x = self.avgpool(self.features(x))  # (N, 512, 7, 7)
        return self.classifier(x.flatten(1))  # (N, num_classes)
