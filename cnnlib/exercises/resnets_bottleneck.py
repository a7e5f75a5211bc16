"""Checker for the chapter "Residual networks": a bottleneck block's parameters.

The reference is the formula below; the tests build torchvision's ``Bottleneck``
(expansion 4) in torch and check that it counts the same ``parameters()``. Each
option of :func:`_bottleneck` rebuilds one usual mistake, and
:func:`cnnlib.exercises._diagnose.formula_verdict` finds the one (or two) that
reproduce the reader's counts. A count must be an int.
"""

from __future__ import annotations

from collections.abc import Callable

from ._core import ExerciseError, call, checker
from ._diagnose import formula_verdict, whole

# --------------------------------------------------------------------------------------
# Exercise: the parameters of a bottleneck block


def _bottleneck(c_in, width, stride=1, *, bn=2, buffers=0, proj="needed",
                proj_bn=True, bias=False, expand="conv3", mid_k=3):  # fmt: skip
    """Parameters of torchvision's Bottleneck (expansion 4); options = mistakes."""
    out = width if expand == "inside" else 4 * width
    inner = width // 4 if expand == "inside" else width
    mid_out = out if expand == "conv2" else inner
    convs = [(c_in, inner, 1), (inner, mid_out, mid_k), (mid_out, out, 1)]
    use = {
        "needed": stride != 1 or c_in != out,
        "never": False,
        "always": True,
        "stride": stride != 1,
        "channels": c_in != out,
    }[proj]
    if use:
        convs.append((c_in, out, 1))
    total = 0
    for i, (ci, co, k) in enumerate(convs):
        total += ci * co * k * k + (co if bias else 0)
        if i < 3 or proj_bn:
            total += bn * co + buffers
    return total


_EXPANDED = "4·width"
_BOTTLENECK_MISTAKES = {
    "you forgot the batch norms: each convolution (the projection's too) is followed "
    "by a BatchNorm2d with 2 parameters per channel, gamma and beta": {"bn": 0},
    "the running mean and variance are buffers, not parameters: a BatchNorm2d has 2 "
    "parameters per channel (gamma and beta), not 4": {"bn": 4},
    "you counted the state_dict: running_mean, running_var and num_batches_tracked "
    "are buffers; parameters() holds only gamma and beta, 2 per channel": {
        "bn": 4,
        "buffers": 1,
    },
    f"you forgot the projection: when stride != 1 or in_channels != {_EXPANDED} the "
    f"shortcut is a 1x1 convolution in_channels -> {_EXPANDED} followed by a "
    "BatchNorm2d": {"proj": "never"},
    f"the projection is counted always: it exists only when stride != 1 or "
    f"in_channels != {_EXPANDED}; otherwise the shortcut is the identity, with no "
    "parameters": {"proj": "always"},
    f"the projection is needed when in_channels != {_EXPANDED} too (the addition "
    "needs equal channel counts), not only when stride != 1": {"proj": "stride"},
    f"the projection is needed when stride != 1 too (the shortcut must be "
    f"downsampled), not only when in_channels != {_EXPANDED}": {"proj": "channels"},
    f"the projection's BatchNorm2d({_EXPANDED}) is missing: downsample is a 1x1 "
    "convolution AND a batch norm": {"proj_bn": False},
    "the convolutions have no bias (bias=False): the BatchNorm after each one has "
    "its own shift beta, which would make a bias redundant": {"bias": True},
    f"the expansion by 4 is applied to the wrong convolution: it belongs to the "
    f"LAST 1x1 (width -> {_EXPANDED}); the 3x3 maps width -> width": {
        "expand": "conv2"
    },
    f"width is the bottleneck's inner channel count: the block outputs {_EXPANDED} "
    f"channels (conv3 maps width -> {_EXPANDED}), it does not shrink to width / 4": {
        "expand": "inside"
    },
    "the middle convolution is 3x3: width · width · 9 weights; you counted it as a "
    "1x1": {"mid_k": 1},
}
_BOTTLENECK_CASES = [  # (in_channels, width, stride)
    (64, 64, 1),  # ResNet-50's first block: 64 -> 256, projection for channels
    (256, 64, 1),  # identity shortcut
    (256, 128, 2),  # projection for stride and channels
    (512, 128, 2),  # projection for the stride only
    (512, 128, 1),
    (3, 8, 1),
    (12, 3, 2),
    (4, 1, 1),  # width 1
    (1, 1, 1),
]


def _bottleneck_case(case) -> str:
    return "in_channels={}, width={}, stride={}".format(*case)


@checker("bottleneck_params")
def check_bottleneck_params(fn: Callable) -> str:
    """Check ``fn(in_channels, width, stride=1)``: the parameters of torchvision's
    Bottleneck: 1x1 in_channels -> width, 3x3 width -> width (the stride), 1x1 width
    -> 4·width, each bias-free and followed by a BatchNorm2d (2 parameters per
    channel), plus a 1x1 projection and its BatchNorm2d to 4·width when stride != 1
    or in_channels != 4·width."""
    observed = []
    for case in _BOTTLENECK_CASES:
        raw = call(fn, *case)
        where = _bottleneck_case(case)
        observed.append((case, whole(raw, where, want_int=True)))
    message = formula_verdict(
        observed, _bottleneck, _bottleneck, _BOTTLENECK_MISTAKES, _bottleneck_case
    )
    if message:
        raise ExerciseError(message)
    return (
        f"{len(_BOTTLENECK_CASES)} blocks agree with torchvision's Bottleneck: "
        "three bias-free convolutions, three batch norms, and a projection only "
        "when the shape changes."
    )
