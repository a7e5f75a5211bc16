"""Checkers for the chapter "Convolutions on images"."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..conv import conv2d
from ._core import ExerciseError, call, checker, on_layouts
from ._diagnose import (
    as_array,
    count_variant,
    edge_sign,
    explain,
    formula_verdict,
    join,
    kernel3x3,
    verdict,
    whole,
)
from ._formulas import (
    CONV2D_PARAM_MISTAKES,
    RF_DILATION_MISTAKES,
    RF_MISTAKES,
    SIZE_MISTAKES,
    conv2d_params,
    rf_verdict,
    size,
)

# --------------------------------------------------------------------------------------
# Exercise: output volume and parameters of a convolution layer


def _volume_ref(c_in, h, w, c_out, k, s, p):
    shape = (c_out, size(h, k, s, p), size(w, k, s, p))
    return shape, conv2d_params(c_in, c_out, k)


_VOLUME_CASES = [  # c_in, h, w, c_out, k, stride, padding
    (3, 5, 5, 2, 3, 2, 1),  # the lecture's example: 3x3x2
    (3, 224, 224, 64, 11, 4, 2),  # AlexNet's first layer (torchvision)
    (1, 28, 28, 6, 5, 1, 2),  # LeNet-5's C1
    (16, 13, 10, 32, 3, 2, 0),  # 10 columns: floor and ceiling differ
    (64, 7, 9, 128, 1, 1, 0),  # a 1x1 convolution
    (8, 12, 17, 4, 5, 3, 1),
    (5, 4, 6, 5, 2, 1, 0),  # c_in = c_out
    (2, 3, 3, 4, 3, 1, 0),  # the kernel covers the input: (4, 1, 1)
]


def _layout_message(shape, case):
    """A message for a shape whose layout or channel count is wrong, or None."""
    c_in, h, w, c_out, k, s, p = case
    want = _volume_ref(*case)[0]
    if len(shape) == 4 and shape[0] == 1 and shape[1:] == want:
        return "return (C, H, W) for one input, without a batch dimension"
    if len(shape) != 3:
        return f"return the shape as 3 numbers (C, H, W), got {shape}"
    if shape == want[1:] + want[:1] and shape != want:
        return "channels come first in PyTorch: (C_out, H_out, W_out)"
    if shape[0] == c_in and c_in != c_out:
        return "the output has one channel per filter: c_out channels, not c_in"
    if shape[0] != c_out:
        return f"expected {c_out} output channels, got {shape[0]}"
    if shape[1:] == (want[2], want[1]) and want[1] != want[2]:
        return "height and width are swapped: (C, H, W)"
    return None


def _volume_answer(fn, case):
    """Call fn on one case -> (shape, params) as ints, or ExerciseError."""
    got = call(fn, *case)
    where = "(c_in={}, h={}, w={}, c_out={}, k={}, stride={}, padding={})".format(*case)
    if not isinstance(got, tuple | list) or len(got) != 2:
        raise ExerciseError(f"{where}: return a pair ((C, H, W), params), got {got!r}")
    try:
        values = [float(v) for v in got[0]]
    except (TypeError, ValueError):
        raise ExerciseError(
            f"{where}: the first item should be the shape (C, H, W), got {got[0]!r}"
        ) from None
    if not all(v.is_integer() for v in values):  # also nan and inf
        raise ExerciseError(
            f"{where}: the shape {tuple(got[0])} has fractions: a window fits a "
            "whole number of times, so round down, (n + 2p - k) // s + 1"
        )
    shape = tuple(int(v) for v in values)
    message = _layout_message(shape, case)
    if message:
        raise ExerciseError(f"{where}: {message}")
    return shape, whole(got[1], f"{where}, params")


def _size_message(heights, widths):
    """heights, widths: [((n, k, s, p), got)] -> the named mistake, or None."""
    if all(got == size(*c) for c, got in heights + widths):
        return None
    pairs = zip(heights, widths, strict=True)
    from_h = [size(hc[0], *wc[1:]) for (hc, _), (wc, _) in pairs]
    if all(got == size(*c) for c, got in heights) and from_h == [g for _, g in widths]:
        return "W_out is computed from the height h: the width comes from w"
    found = explain(heights + widths, size, SIZE_MISTAKES)
    found = join(found) if found else count_variant(heights + widths, size)
    c, got = next((c, g) for c, g in heights + widths if g != size(*c))
    example = "n={}, k={}, s={}, p={}".format(*c) + f": expected {size(*c)}, got {got}"
    return (
        f"output size: {found} (e.g. {example})" if found else f"output size {example}"
    )


@checker("conv_volume")
def check_conv_volume(fn: Callable) -> str:
    """Check ``fn(c_in, h, w, c_out, k, stride, padding) -> ((C, H, W), params)``:
    the output shape and the number of parameters of ``nn.Conv2d(c_in, c_out, k,
    stride, padding)`` on a (c_in, h, w) input."""
    heights, widths, counts = [], [], []
    for case in _VOLUME_CASES:
        shape, params = _volume_answer(fn, case)
        c_in, h, w, c_out, k, s, p = case
        heights.append(((h, k, s, p), shape[1]))
        widths.append(((w, k, s, p), shape[2]))
        counts.append(((c_in, c_out, k), params))
    params = formula_verdict(
        counts,
        conv2d_params,
        conv2d_params,
        CONV2D_PARAM_MISTAKES,
        lambda c: "(c_in, c_out, k) = ({}, {}, {})".format(*c),
    )
    messages = [_size_message(heights, widths), params and f"parameters: {params}"]
    messages = [m for m in messages if m]
    if messages:
        raise ExerciseError("\n".join(messages))
    return "e.g. AlexNet's first layer: (64, 55, 55) and 23,296 parameters."


# --------------------------------------------------------------------------------------
# Exercise: a convolution over channels, with loops


def _conv_channels_ref(x, w, b):
    return conv2d(np.asarray(x, float)[None], w, b)[0]


def _channels_shape_message(shape, x, w):
    c_out, c_in, k, _ = w.shape
    want = (c_out, x.shape[1] - k + 1, x.shape[2] - k + 1)
    if shape == (c_out, x.shape[1] - k, x.shape[2] - k):
        return (
            f"output {shape}: one window too few in each direction; H - k + 1 = "
            f"{want[1]} windows fit, not H - k"
        )
    if shape == (c_out, *x.shape[1:]):
        return (
            f"output {shape} keeps the input's size; without padding a k x k kernel "
            f"fits in (H - k + 1, W - k + 1) = {want[1:]} places"
        )
    if shape == (*want[1:], c_out) and shape != want:
        return (
            f"output {shape} has the channels last: PyTorch's layout is (C_out, H, W)"
        )
    if shape == (c_out, want[2], want[1]):
        return f"output {shape}: height and width are swapped, (C_out, H', W')"
    if len(shape) == 3 and shape[0] == c_in and c_in != c_out:
        return f"output {shape}: one channel per filter (C_out = {c_out})"
    return f"expected an output of shape {want}, got {shape}"


def _depthwise(x, w, b):
    if w.shape[0] != w.shape[1]:
        return None
    return np.concatenate(
        [
            conv2d(x[None, c : c + 1], w[c : c + 1, c : c + 1], b[c : c + 1])[0]
            for c in range(w.shape[0])
        ]
    )


def _channels_mistakes(x, w, b):
    c_in = w.shape[1]
    plain = _conv_channels_ref(x, w, None)
    x = np.asarray(x, float)
    return [
        (
            "only the first input channel is used: each output sums over ALL input "
            "channels, y[o] = b[o] + sum_c (w[o, c] star x[c])",
            lambda: conv2d(x[None, :1], w[:, :1], b)[0],
        ),
        (
            "you overwrote y[o, i, j] for every input channel (=, not +=): only the "
            "last channel's contribution is left; accumulate over the channels",
            lambda: conv2d(x[None, -1:], w[:, -1:], b)[0] if c_in > 1 else None,
        ),
        (
            "flipped kernel: you computed a true convolution; cross-correlation "
            "reads w[o, c, u, v] * x[c, i + u, j + v]",
            lambda: _conv_channels_ref(x, w[:, :, ::-1, ::-1].copy(), b),
        ),
        (
            "the kernel is transposed: w[o, c, u, v] multiplies x[c, i + u, j + v], "
            "u down the rows, v along the columns",
            lambda: _conv_channels_ref(x, w.transpose(0, 1, 3, 2).copy(), b),
        ),
        (
            "w's first two axes are swapped: w has shape (C_out, C_in, k, k), so "
            "output o uses w[o, c], not w[c, o]",
            lambda: _conv_channels_ref(x, w.transpose(1, 0, 2, 3).copy(), b),
        ),
        (
            "output channel o sees only input channel o (a depthwise convolution): "
            "each output sums w[o, c] star x[c] over ALL input channels c",
            lambda: _depthwise(x, w, b),
        ),
        ("the bias is missing: add b[o] to channel o", lambda: plain),
        (
            "every output channel got the sum of all the biases: add b[o] to channel o "
            "only",
            lambda: plain + b.sum(),
        ),
        (
            "the bias is added once per input channel (inside the sum over c): add "
            "b[o] once per output",
            lambda: plain + c_in * b[:, None, None],
        ),
        (
            "the channels are averaged: sum them instead",
            lambda: plain / c_in + b[:, None, None],
        ),
    ]


def _check_channels_case(fn, x, w, b):
    y = as_array(call(fn, x, w, b), "y")
    want = _conv_channels_ref(x, w, b)
    where = f"x {x.shape}{' (' + x.dtype.name + ')' if x.dtype.kind != 'f' else ''}"
    where += f", w {w.shape}"
    if y.shape != want.shape:
        raise ExerciseError(f"{where}: {_channels_shape_message(y.shape, x, w)}")
    message = verdict(y, want, _channels_mistakes(x, w, b), what="y")
    if message:
        raise ExerciseError(f"{where}: {message}")


def _conv_channels_cases():
    rng = np.random.default_rng(5)
    shapes = [  # x, w: C_in, C_out, k all vary
        ((3, 5, 6), (3, 3, 2, 2)),  # C_in = C_out: w[c, o] for w[o, c] still runs
        ((3, 6, 7), (2, 3, 3, 3)),
        ((2, 5, 5), (4, 2, 2, 2)),
        ((1, 4, 6), (3, 1, 3, 3)),
        ((2, 4, 5), (3, 2, 1, 1)),  # a 1 x 1 convolution
        ((2, 3, 3), (2, 2, 3, 3)),  # the kernel covers the image: 1 x 1 output
    ]
    cases = [
        (rng.normal(size=xs), rng.normal(size=ws), rng.normal(size=ws[0]))
        for xs, ws in shapes
    ]
    image = rng.integers(0, 256, size=(3, 5, 6)).astype(np.uint8)  # 8-bit pixels
    cases.append((image, rng.normal(size=(2, 3, 2, 2)), rng.normal(size=2)))
    return cases


@checker("conv2d_channels")
def check_conv2d_channels(fn: Callable) -> str:
    """Check ``fn(x, w, b)``: x (C_in, H, W), w (C_out, C_in, k, k), b (C_out,) ->
    (C_out, H - k + 1, W - k + 1), the cross-correlation summed over channels."""
    cases = _conv_channels_cases()
    for x, w, b in cases:
        _check_channels_case(fn, x, w, b)
    on_layouts(lambda x, w, b: _check_channels_case(fn, x, w, b), *cases[0])
    return (
        f"{len(cases)} cases agree with torch.nn.functional.conv2d (through "
        "cnnlib.conv2d)."
    )


# --------------------------------------------------------------------------------------
# Exercise: the receptive field of a stack with strides and dilations

_STACK_CASES = [
    [(3, 1, 1), (3, 1, 1)],
    [(3, 1, 2)],
    [(3, 1, 1), (3, 1, 2), (3, 1, 4)],  # dilations doubling: 3, 7, 15
    [(5, 1, 1), (2, 2, 1), (5, 1, 1), (2, 2, 1)],  # LeNet-5: 16
    [(11, 4, 1), (3, 2, 1), (5, 1, 1), (3, 2, 1), (3, 1, 1), (3, 1, 1), (3, 1, 1)]
    + [(3, 2, 1)],  # AlexNet's features: 195
    [(3, 2, 2), (3, 1, 3), (2, 2, 1), (3, 1, 2)],
    [(1, 2, 1), (3, 1, 1)],  # a strided 1x1 layer first: 5
    [(2, 2, 1)],  # a pooling layer alone
    [(3, 2, 3), (5, 1, 1), (3, 3, 2)],
]


@checker("stack_receptive_field")
def check_stack_receptive_field(fn: Callable) -> str:
    """Check ``fn(layers)``: the receptive field (side, in pixels) of one unit after
    a stack of layers given as ``[(kernel, stride, dilation), ...]``."""
    observed = []
    for layers in _STACK_CASES:
        got = call(fn, list(layers))
        where = f"stack_receptive_field({layers})"
        observed.append(((layers,), whole(got, where, want_int=True)))
    message = rf_verdict(observed, RF_MISTAKES | RF_DILATION_MISTAKES)
    if message:
        raise ExerciseError(message)
    return "three dilated 3x3 layers (d = 1, 2, 4) see 15 x 15; AlexNet's 195."


# --------------------------------------------------------------------------------------
# Exercise: a kernel that finds diagonal edges

_N = 8
_ROWS, _COLS = np.indices((_N, _N))
_DIAG = (_ROWS > _COLS) * 10.0  # bright below the "\" diagonal, dark above it
_ANTI = (_ROWS + _COLS > _N - 1) * 10.0  # bright below the "/" diagonal
_VERT = (_COLS < _N // 2) * 10.0  # bright left half
_HORI = (_ROWS < _N // 2) * 10.0  # bright top half


def _respond(kernel, image):
    return conv2d(image[None, None], kernel[None, None])[0, 0]


def _diagonal_orientation(k) -> str | None:
    """A message when the kernel answers to the wrong orientation."""
    diag, anti = _respond(k, _DIAG), _respond(k, _ANTI)
    vert, hori = _respond(k, _VERT), _respond(k, _HORI)
    if np.allclose(diag, 0) and not np.allclose(anti, 0):
        return (
            'it finds the other diagonal ("/"): "\\" runs from top-left to bottom-right'
        )
    if np.allclose(hori, 0) and not np.allclose(vert, 0):
        return (
            "it finds vertical edges (each row sums to zero, so horizontal edges give "
            "nothing): a diagonal kernel changes across the diagonal"
        )
    if np.allclose(vert, 0) and not np.allclose(hori, 0):
        return (
            "it finds horizontal edges (each column sums to zero, so vertical edges "
            "give nothing): a diagonal kernel changes across the diagonal"
        )
    if not np.allclose(anti, 0):
        return (
            'it also responds to "/" edges, which are constant along each "/" line; '
            'make the weights on every "/" line of the kernel sum to zero'
        )
    return None


@checker("diagonal_edge_kernel")
def check_diagonal_edge_kernel(fn: Callable) -> str:
    """Check ``fn()``: a 3x3 kernel for "\\" edges (bright below-left, dark above-
    right): 0 on flat regions and on "/" edges, positive on the "\\" edge."""
    k = kernel3x3(call(fn))
    if not np.isclose(k.sum(), 0):
        raise ExerciseError(
            f"the kernel responds to a flat image (its weights sum to {k.sum():.3g}): "
            "make them sum to zero"
        )
    message = _diagonal_orientation(k)
    if message:
        raise ExerciseError(message)
    fix = "put positive weights below-left of the diagonal and negative above-right"
    message = edge_sign(_respond(k, _DIAG), 'a "\\" edge', fix)
    if message:
        raise ExerciseError(message)
    return 'flat regions and "/" edges give 0; a "\\" edge is positive.'
