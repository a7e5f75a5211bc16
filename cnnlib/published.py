"""The book's table of published results that a chapter reproduces in miniature.

Each :class:`Result` is one row of the appendix page ``book/published_results.md``:
the paper, its figure, ours, the setting that differs, and the chapter section that
reproduces it. ``python scripts/published_results.py --write`` writes the page from
:data:`RESULTS`; ``--check`` (run by the tests) fails when the committed page differs.

The table is checked from both ends. The chapter that reproduces a row asserts its
measured figure against the row, next to its own assertions::

    assert matches_published("unet-572-388", {"input": 572, "output": 388, ...})

so the book build (and nbval) fails when a chapter's figure and the table disagree,
and the tests fail when the page and the table do. The table lives in the package,
not in ``book/``, so that a notebook finds it wherever cnnlib is installed (Colab
installs it from a clone, not in editable mode).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Result:
    """One row. ``ours`` is a format string filled from ``value`` (a mapping's keys,
    or ``{value}``), so the page shows exactly what the chapter asserts. Numbers in
    ``value`` must match within ``tolerance`` (0: exactly); a tuple ``(low, high)``
    is a range the measurement must fall in (``math.inf`` for no upper end), for a
    figure that varies too much between processors to quote one number (training
    follows another path when the processor rounds differently). ``quick_only`` rows
    hold the quick mode's measurements, which the chapter checks only in that mode."""

    key: str
    notebook: str  # file stem in notebooks/
    section: str  # the text of the section's heading in that notebook
    paper: str  # "Author et al. (year)", for readers of this file
    cite: str  # the paper's key in book/references.bib: the page cites it
    published: str
    ours: str
    setting: str
    value: Any
    tolerance: float = 0.0
    quick_only: bool = False

    def ours_text(self) -> str:
        if isinstance(self.value, dict):
            return self.ours.format(**self.value)
        return self.ours.format(value=self.value)


RESULTS: tuple[Result, ...] = (
    Result(
        key="mnist1d-cnn-mlp",
        notebook="03_conv1d",
        section="10. MNIST-1D",
        paper="Greydanus (2020)",
        cite="greydanus2020scaling",
        published="MNIST-1D test accuracy: CNN 94%, MLP 68%",
        ours="CNN about {CNN:.0%}, MLP about {MLP:.0%}",
        setting="the lecture's CNN (2,050 parameters) and MLP; 40 epochs of SGD "
        "instead of the paper's 6,000 steps (150 epochs in the full mode); on three "
        "processors: CNN 92.1% to 92.2%, MLP 71.0% to 72.9%",
        value={"CNN": 0.92, "MLP": 0.72},
        tolerance=0.02,
        quick_only=True,
    ),
    Result(
        key="lenet5-parameters",
        notebook="05_images",
        section="6. A typical architecture",
        paper="LeCun et al. (1998)",
        cite="lecun1998gradient",
        published="LeNet-5: about 60,000 trainable parameters",
        ours="{value:,} parameters",
        setting="the modern variant (ReLU, max pooling, full connections from S2 "
        "to C3, a linear output layer) on 28 × 28 images",
        value=61_706,
    ),
    Result(
        key="alexnet-parameters",
        notebook="05_images",
        section="8. Classic ImageNet networks: AlexNet and VGG-16",
        paper="Krizhevsky et al. (2012)",
        cite="krizhevsky2012imagenet",
        published="AlexNet: 60 million parameters",
        ours="{value:,} parameters",
        setting="torchvision's single-GPU layout (64, 192, 384, 256, 256 channels "
        "instead of 96, 256, 384, 384, 256 split over two GPUs); not trained",
        value=61_100_840,
    ),
    Result(
        key="vgg16-parameters",
        notebook="05_images",
        section="8. Classic ImageNet networks: AlexNet and VGG-16",
        paper="Simonyan and Zisserman (2014)",
        cite="simonyan2014very",
        published="VGG-16 (configuration D): 138 million parameters",
        ours="{value:,} parameters",
        setting="torchvision's layout; not trained",
        value=138_357_544,
    ),
    Result(
        key="p4cnn-rotated-mnist",
        notebook="06_equivariance",
        section="7. The experiment: rotated digits",
        paper="Cohen and Welling (2016)",
        cite="cohen2016group",
        published="rotated MNIST test error: Z2CNN 5.03%, P4CNN 2.28% (ratio 0.45)",
        ours="Z2CNN {Z2CNN:.1f}%, P4CNN {P4CNN:.1f}%",
        setting="4,000 training digits instead of 12,000; 5 epochs, mean of 2 "
        "seeds; parameter counts matched to 2%",
        value={"Z2CNN": 12.7, "P4CNN": 5.3},
        tolerance=1.0,
        quick_only=True,
    ),
    Result(
        key="batchnorm-steps",
        notebook="07_batch_norm",
        section="6. Training with and without batch norm",
        paper="Ioffe and Szegedy (2015)",
        cite="ioffe2015batch",
        published="BN-Inception reaches Inception's accuracy in 14 times fewer "
        "training steps, with a larger learning rate",
        ours="steps to 60% training accuracy: with batch norm (learning rate 0.1) "
        "{bn[0]} to {bn[1]}; without it (0.01) more than {plain[0]}, or never",
        setting="a 20-layer plain CNN (8 channels) on 12,000 Fashion-MNIST images "
        "instead of Inception on ImageNet; one seed, on three processors (with "
        "batch norm 100, 100 and 120 steps; without, 420 steps, and twice not "
        "within 500)",
        value={"plain": (400, math.inf), "bn": (80, 140)},
        quick_only=True,
    ),
    Result(
        key="resnet-degradation",
        notebook="08_resnets",
        section="1. Depth, and the degradation problem",
        paper="He et al. (2016)",
        cite="he2016deep",
        published="CIFAR-10 training error: plain-56 above plain-20, ResNet-56 below "
        "ResNet-20",
        ours="final training loss, highest first: {value}",
        setting="depths 8 and 32, widths 8, 16, 32; 3,000 Fashion-MNIST images at "
        "14 × 14; 3 epochs, mean of 2 seeds",
        value="plain-32 > plain-8 > residual-8 > residual-32",
        quick_only=True,
    ),
    Result(
        key="veit-lesion",
        notebook="08_resnets",
        section="2. Residual connections, and the network unrolled",
        paper="Veit et al. (2016)",
        cite="veit2016residual",
        published="deleting one block of a 110-layer ResNet barely changes its "
        "CIFAR-10 error; deleting a layer of VGG drops it to chance",
        ours="share of the skill above chance kept with one block deleted: "
        "residual {residual:.0%}, plain less than {plain[1]:.0%}",
        setting="the 32-layer networks of section 1 (seed 0), 1,000 test images; "
        "on three processors: residual 79% to 80%, plain 6% to 23%",
        value={"residual": 0.80, "plain": (0.0, 0.35)},
        tolerance=0.05,
        quick_only=True,
    ),
    Result(
        key="shattered-gradients",
        notebook="08_resnets",
        section="3. Gradients through a residual network",
        paper="Balduzzi et al. (2017)",
        cite="balduzzi2017shattered",
        published="at depth 50 the gradients of a batch-normalised plain net look "
        "like white noise, a ResNet's like brown noise",
        ours="correlation of neighbouring gradients at depth 50: plain {plain:.2f}, "
        "residual {residual:.2f}",
        setting="200 units per layer, one input and one output, mean of 3 seeds",
        value={"plain": 0.00, "residual": 0.64},
        tolerance=0.01,
    ),
    Result(
        key="checkerboard",
        notebook="09_unet",
        section="2. Transposed convolution",
        paper="Odena et al. (2016)",
        cite="odena2016deconvolution",
        published="transposed convolutions make checkerboard artifacts, even with "
        "kernels divisible by the stride; resizing and then convolving makes none",
        ours="checkerboard score (0: none): k = 3, s = 2: {k3:.2f}; k = 4, s = 2: "
        "{k4:.2f}; resize, then convolve: {resize:.2f}",
        setting="the response to a constant 8 × 8 image, 20 random positive "
        "kernels instead of trained generators",
        value={"k3": 0.82, "k4": 0.44, "resize": 0.0},
        tolerance=0.005,
    ),
    Result(
        key="unet-572-388",
        notebook="09_unet",
        section="4. U-Net",
        paper="Ronneberger et al. (2015)",
        cite="ronneberger2015unet",
        published="a 572 × 572 input tile gives a 388 × 388 segmentation map",
        ours="{input} → {output}; {parameters:,} parameters",
        setting="the paper's network (valid convolutions, centre-cropped skips), "
        "built without memory on PyTorch's meta device",
        value={"input": 572, "output": 388, "parameters": 31_030_658},
    ),
)

_BY_KEY = {result.key: result for result in RESULTS}


def published_result(key: str) -> Result:
    """The row called ``key``."""
    if key not in _BY_KEY:
        raise KeyError(
            f"no row {key!r} in cnnlib.published.RESULTS; rows: {', '.join(_BY_KEY)}"
        )
    return _BY_KEY[key]


def published_value(key: str) -> Any:
    """The figure (``value``) that row ``key`` gives for ours."""
    return published_result(key).value


def _agree(measured: Any, expected: Any, tolerance: float) -> bool:
    if isinstance(expected, dict):
        return (
            isinstance(measured, dict)
            and set(measured) == set(expected)
            and all(_agree(measured[k], v, tolerance) for k, v in expected.items())
        )
    if isinstance(expected, str) or isinstance(measured, str):
        return measured == expected
    if isinstance(expected, tuple):  # (low, high): a range, either end may be inf
        low, high = expected
        return low <= float(measured) <= high
    return math.isclose(float(measured), expected, rel_tol=0, abs_tol=tolerance)


def matches_published(key: str, measured: Any) -> bool:
    """True when ``measured`` agrees with row ``key``'s value (numbers within the
    row's tolerance); otherwise raises AssertionError saying what differs."""
    row = published_result(key)
    if not _agree(measured, row.value, row.tolerance):
        raise AssertionError(
            f"the chapter measures {measured!r} but the book's table of published "
            f"results (cnnlib/published.py, row {key!r}) says {row.value!r} "
            f"(tolerance {row.tolerance}). If the new figure is right, change the "
            "row and run `python scripts/published_results.py --write`."
        )
    return True
