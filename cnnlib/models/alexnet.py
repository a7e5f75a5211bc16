"""AlexNet (Krizhevsky, Sutskever and Hinton, "ImageNet classification with deep
convolutional neural networks", NeurIPS 2012), in torchvision's layout.

torchvision follows the "one weird trick" variant (Krizhevsky 2014) rather than the
2012 paper: one tower instead of two GPUs' halves (so no grouped convolutions), 64,
192, 384, 256, 256 channels instead of 96, 256, 384, 384, 256, no local response
normalisation, and an adaptive average pooling to 6x6 before the classifier, so that
inputs other than 224x224 work. Parameter names and count (61,100,840 for 1000
classes) match ``torchvision.models.alexnet``; no pretrained weights are loaded.
"""

from __future__ import annotations

from torch import nn

from .lenet import check_int


class AlexNet(nn.Module):
    """x (N, 3, H, W) -> logits (N, num_classes); 224x224 gives 55, 27, 13, 6 maps.

    ``features``: conv 11x11 stride 4 padding 2 (64) -> ReLU -> max-pool 3 stride 2 ->
    conv 5x5 padding 2 (192) -> ReLU -> max-pool -> conv 3x3 (384) -> ReLU -> conv 3x3
    (256) -> ReLU -> conv 3x3 (256) -> ReLU -> max-pool; ``avgpool``:
    AdaptiveAvgPool2d(6); ``classifier``: Dropout(0.5) -> 9,216 -> 4096 -> ReLU ->
    Dropout(0.5) -> 4096 -> ReLU -> ``num_classes``. 61,100,840 parameters for 1000
    classes (about 244 MB in float32). torch's default initialisation, as in
    torchvision. The ReLUs are not in-place, so forward hooks see each layer's output.
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5):
        super().__init__()
        check_int("AlexNet", "num_classes", num_classes)
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),  # (N, 64, 55, 55)
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),  # (N, 64, 27, 27)
            nn.Conv2d(64, 192, kernel_size=5, padding=2),  # (N, 192, 27, 27)
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),  # (N, 192, 13, 13)
            nn.Conv2d(192, 384, kernel_size=3, padding=1),  # (N, 384, 13, 13)
            nn.ReLU(),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),  # (N, 256, 13, 13)
            nn.ReLU(),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),  # (N, 256, 13, 13)
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),  # (N, 256, 6, 6)
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != 3 or min(x.shape[2:]) < 63:
            raise ValueError(
                f"AlexNet: expected RGB images (N, 3, H, W) with H, W >= 63, got "
                f"shape {tuple(x.shape)}"
            )
        x = self.avgpool(self.features(x))  # (N, 256, 6, 6)
        return self.classifier(x.flatten(1))  # (N, num_classes)
