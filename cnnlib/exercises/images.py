"""Checkers for the chapter "Convolutions on images"."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..conv import conv2d
from ._core import ExerciseError, call, checker

# --------------------------------------------------------------------------------------
# Exercise: output volume and parameters of a convolution layer


def _size(n, k, s, p):
    return (n + 2 * p - k) // s + 1


def _volume_ref(c_in, h, w, c_out, k, s, p):
    return (c_out, _size(h, k, s, p), _size(w, k, s, p)), c_in * c_out * k * k + c_out


_SIZE_MISTAKES = {  # n, k, s, p -> a wrong size
    "use the floor, not the ceiling: a window that sticks out of the padded "
    "image is dropped": lambda n, k, s, p: -(-(n + 2 * p - k) // s) + 1,
    "the padding is counted once: p rows (columns) of zeros go on EACH side, "
    "2p in all": lambda n, k, s, p: (n + p - k) // s + 1,
    "the padding is ignored: the padded image has n + 2p rows (columns)": (
        lambda n, k, s, p: (n - k) // s + 1
    ),
    "forgot the +1 of floor((n + 2p - k) / s) + 1": (
        lambda n, k, s, p: (n + 2 * p - k) // s
    ),
    "the stride is ignored: with stride s only every s-th window is kept": (
        lambda n, k, s, p: n + 2 * p - k + 1
    ),
}
_PARAM_MISTAKES = {  # c_in, c_out, k -> a wrong count
    "forgot the biases: each of the c_out filters has one, add c_out": (
        lambda ci, co, k: ci * co * k * k
    ),
    "each filter spans all c_in input channels: it has c_in * k * k weights": (
        lambda ci, co, k: co * (k * k + 1)
    ),
    "one bias per filter (c_out in all), not one per (filter, input channel) pair": (
        lambda ci, co, k: co * ci * (k * k + 1)
    ),
    "a k x k kernel has k * k weights per input channel, not k": (
        lambda ci, co, k: ci * co * k + co
    ),
}
_VOLUME_CASES = [  # c_in, h, w, c_out, k, stride, padding
    (3, 5, 5, 2, 3, 2, 1),  # the lecture's example: 3x3x2
    (3, 224, 224, 64, 11, 4, 2),  # AlexNet's first layer (torchvision)
    (1, 28, 28, 6, 5, 1, 2),  # LeNet-5's C1
    (16, 13, 10, 32, 3, 2, 0),  # 10 columns: floor and ceiling differ
    (64, 7, 9, 128, 1, 1, 0),  # a 1x1 convolution
    (8, 12, 17, 4, 5, 3, 1),
]


def _diagnose(wrong, mistakes, want, what):
    """wrong [(args, got)] -> the message of the mistake that explains them all."""
    for message, formula in mistakes.items():
        if all(got == formula(*args) for args, got in wrong):
            return message
    args, got = wrong[0]
    return f"{what}{args}: expected {want(*args):,}, got {got:,}"


def _check_channels(shape, case):
    """ExerciseError for a shape whose layout or channel count is wrong."""
    c_in, h, w, c_out, k, s, p = case
    want_c, want_h, want_w = _volume_ref(*case)[0]
    if len(shape) != 3:
        raise ExerciseError(f"return the shape as 3 numbers (C, H, W), got {shape}")
    if shape == (want_h, want_w, want_c) and shape != (want_c, want_h, want_w):
        raise ExerciseError("channels come first in PyTorch: (C_out, H_out, W_out)")
    if shape[0] == c_in and c_in != c_out:
        raise ExerciseError(
            "the output has one channel per filter: c_out channels, not c_in"
        )
    if shape[0] != want_c:
        raise ExerciseError(f"expected {want_c} output channels, got {shape[0]}")
    if shape[1:] == (want_w, want_h) and want_h != want_w:
        raise ExerciseError("height and width are swapped: (C, H, W)")


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
    try:
        _check_channels(shape, case)
    except ExerciseError as err:
        raise ExerciseError(f"{where}: {err}") from None
    return shape, int(got[1])


@checker("conv_volume")
def check_conv_volume(fn: Callable) -> str:
    """Check ``fn(c_in, h, w, c_out, k, stride, padding) -> ((C, H, W), params)``:
    the output shape and the number of parameters of ``nn.Conv2d(c_in, c_out, k,
    stride, padding)`` on a (c_in, h, w) input."""
    sizes, counts = (
        [],
        [],
    )  # wrong answers: ((n, k, s, p), got), ((c_in, c_out, k), got)
    for case in _VOLUME_CASES:
        shape, params = _volume_answer(fn, case)
        c_in, h, w, c_out, k, s, p = case
        for n, got in ((h, shape[1]), (w, shape[2])):
            if got != _size(n, k, s, p):
                sizes.append(((n, k, s, p), got))
        if params != _volume_ref(*case)[1]:
            counts.append(((c_in, c_out, k), params))
    if sizes:
        raise ExerciseError(
            _diagnose(sizes, _SIZE_MISTAKES, _size, "output size for (n, k, s, p) = ")
        )
    if counts:
        raise ExerciseError(
            _diagnose(
                counts,
                _PARAM_MISTAKES,
                lambda ci, co, k: ci * co * k * k + co,
                "parameters for (c_in, c_out, k) = ",
            )
        )
    return "e.g. AlexNet's first layer: (64, 55, 55) and 23,296 parameters."


# --------------------------------------------------------------------------------------
# Exercise: a convolution over channels, with loops


def _conv_channels_ref(x, w, b):
    return conv2d(x[None], w, b)[0]


def _diagnose_conv_channels(y, x, w, b):
    c_out, c_in, k, _ = w.shape
    want = _conv_channels_ref(x, w, b)
    if y.shape != want.shape:
        if y.shape == (c_out, x.shape[1] - k, x.shape[2] - k):
            return (
                f"output {y.shape}: one window too few in each direction; "
                f"H - k + 1 = {want.shape[1]} windows fit, not H - k"
            )
        if y.shape == (c_out, *x.shape[1:]):
            return (
                f"output {y.shape} keeps the input's size; without padding a "
                f"k x k kernel fits in (H - k + 1, W - k + 1) = {want.shape[1:]} places"
            )
        if y.shape[0] == c_in and c_in != c_out:
            return f"output {y.shape}: one channel per filter (C_out = {c_out})"
        return f"expected an output of shape {want.shape}, got {y.shape}"
    flipped = np.ascontiguousarray(w[:, :, ::-1, ::-1])
    candidates = [
        (
            conv2d(x[None, :1], w[:, :1], b)[0],
            "only the first input channel is used: each output sums over ALL "
            "input channels, y[o] = b[o] + sum_c (w[o, c] star x[c])",
        ),
        (
            _conv_channels_ref(x, flipped, b),
            "flipped kernel: you computed a true convolution; cross-correlation "
            "reads w[o, c, u, v] * x[c, i + u, j + v]",
        ),
        (_conv_channels_ref(x, w, None), "the bias is missing: add b[o] to channel o"),
        (
            _conv_channels_ref(x, w, None) + c_in * b[:, None, None],
            "the bias is added once per input channel: add b[o] once per output",
        ),
        (
            _conv_channels_ref(x, w, None) / c_in + b[:, None, None],
            "the channels are averaged: sum them instead",
        ),
    ]
    for wrong, message in candidates:
        if np.allclose(y, wrong):
            return message
    o, i, j = np.argwhere(~np.isclose(y, want))[0]
    return f"y[{o}, {i}, {j}] is {y[o, i, j]:.4g}, expected {want[o, i, j]:.4g}"


def _conv_channels_cases():
    rng = np.random.default_rng(5)
    return [
        (rng.normal(size=(3, 6, 7)), rng.normal(size=(2, 3, 3, 3)), rng.normal(size=2)),
        (rng.normal(size=(2, 5, 5)), rng.normal(size=(4, 2, 2, 2)), rng.normal(size=4)),
        (rng.normal(size=(1, 4, 6)), rng.normal(size=(3, 1, 3, 3)), rng.normal(size=3)),
    ]


@checker("conv2d_channels")
def check_conv2d_channels(fn: Callable) -> str:
    """Check ``fn(x, w, b)``: x (C_in, H, W), w (C_out, C_in, k, k), b (C_out,) ->
    (C_out, H - k + 1, W - k + 1), the cross-correlation summed over channels."""
    for x, w, b in _conv_channels_cases():
        y = np.asarray(call(fn, x.copy(), w.copy(), b.copy()), dtype=float)
        want = _conv_channels_ref(x, w, b)
        if y.shape != want.shape or not np.allclose(y, want):
            where = f"x {x.shape}, w {w.shape}"
            raise ExerciseError(f"{where}: {_diagnose_conv_channels(y, x, w, b)}")
    return "3 cases agree with torch.nn.functional.conv2d (through cnnlib.conv2d)."


# --------------------------------------------------------------------------------------
# Exercise: the receptive field of a stack with strides and dilations


def _off_by_one_dk(layers):
    r, j = 1, 1
    for k, s, d in layers:
        r, j = r + k * d * j, j * s
    return r


def _rf_ref(layers, dilated=True, jump_before=True, extra=0, start=1):
    """The formula, with switches that reproduce the usual mistakes."""
    r, j = start, 1
    for k, s, d in layers:
        d = d if dilated else 1
        if not jump_before:
            j *= s
        r += ((k - 1) * d + extra) * j
        if jump_before:
            j *= s
    return r


_STACK_MISTAKES = {
    "strides ignored: after a layer with stride s neighbouring units are s "
    "pixels apart, so each later layer adds (k - 1) d times the product of the "
    "strides below it": lambda L: _rf_ref([(k, 1, d) for k, _, d in L]),
    "dilation ignored: a kernel of size k with dilation d spans d(k - 1) + 1 "
    "pixels, so it adds (k - 1) d, not k - 1": lambda L: _rf_ref(L, dilated=False),
    "you multiplied by the strides up to and including the current layer: a "
    "layer's own stride only spaces out the NEXT layer's inputs": (
        lambda L: _rf_ref(L, jump_before=False)
    ),
    "off by one per layer: a dilated window spans d(k - 1) + 1 pixels, so it "
    "adds d(k - 1) times the jump, not d k or d(k - 1) + 1": (
        lambda L: (_rf_ref(L, extra=1), _off_by_one_dk(L))
    ),
    "off by one overall: a single pixel is its own receptive field, so start "
    "from r = 1, not 0": lambda L: _rf_ref(L, start=0),
}
_STACK_CASES = [
    [(3, 1, 1), (3, 1, 1)],
    [(3, 1, 2)],
    [(3, 1, 1), (3, 1, 2), (3, 1, 4)],  # dilations doubling: 3, 7, 15
    [(5, 1, 1), (2, 2, 1), (5, 1, 1), (2, 2, 1)],  # LeNet-5: 16
    [(11, 4, 1), (3, 2, 1), (5, 1, 1), (3, 2, 1), (3, 1, 1), (3, 1, 1), (3, 1, 1)],
    [(3, 2, 2), (3, 1, 3), (2, 2, 1), (3, 1, 2)],
]


@checker("stack_receptive_field")
def check_stack_receptive_field(fn: Callable) -> str:
    """Check ``fn(layers)``: the receptive field (side, in pixels) of one unit after
    a stack of layers given as ``[(kernel, stride, dilation), ...]``."""
    wrong = []
    for layers in _STACK_CASES:
        got = call(fn, list(layers))
        if not isinstance(got, int | np.integer):
            raise ExerciseError(
                f"stack_receptive_field({layers}) returned {got!r}: return an int"
            )
        if got != _rf_ref(layers):
            wrong.append((layers, int(got)))
    if wrong:
        for message, formula in _STACK_MISTAKES.items():
            if all(got in np.atleast_1d(formula(L)) for L, got in wrong):
                raise ExerciseError(message)
        layers, got = wrong[0]
        raise ExerciseError(
            f"stack_receptive_field({layers}): expected {_rf_ref(layers)}, got {got}"
        )
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


@checker("diagonal_edge_kernel")
def check_diagonal_edge_kernel(fn: Callable) -> str:
    """Check ``fn()``: a 3x3 kernel for "\\" edges (bright below-left, dark above-
    right): 0 on flat regions and on "/" edges, positive on the "\\" edge."""
    k = np.asarray(call(fn), dtype=float)
    if k.shape != (3, 3):
        raise ExerciseError(f"return a 3x3 kernel, got shape {k.shape}")
    if not np.isclose(k.sum(), 0):
        raise ExerciseError(
            f"the kernel responds to a flat image (its weights sum to {k.sum():.3g}): "
            "make them sum to zero"
        )
    diag, anti = _respond(k, _DIAG), _respond(k, _ANTI)
    vert, hori = _respond(k, _VERT), _respond(k, _HORI)
    if np.allclose(diag, 0) and not np.allclose(anti, 0):
        raise ExerciseError(
            'it finds the other diagonal ("/"): "\\" runs from top-left to bottom-right'
        )
    if np.allclose(hori, 0) and not np.allclose(vert, 0):
        raise ExerciseError(
            "it finds vertical edges (its rows are alike): a diagonal kernel "
            "changes across the diagonal"
        )
    if np.allclose(vert, 0) and not np.allclose(hori, 0):
        raise ExerciseError(
            "it finds horizontal edges (its columns are alike): a diagonal kernel "
            "changes across the diagonal"
        )
    if not np.allclose(anti, 0):
        raise ExerciseError(
            'it also responds to "/" edges, which are constant along each "/" line; '
            'make the weights on every "/" line of the kernel sum to zero'
        )
    if diag.max() <= 0 < -diag.min():
        raise ExerciseError(
            "sign flipped: the response should be positive where the bright side is "
            "below-left (a kernel written for true convolution is turned by 180 "
            "degrees, which flips this sign)"
        )
    if diag.max() <= 0:
        raise ExerciseError('no response to a "\\" edge')
    if diag.min() < -1e-9 * diag.max():
        raise ExerciseError(
            'it responds with both signs along a "\\" edge: that finds "\\" lines '
            "(a ridge), not edges; put positive weights on one side of the "
            "diagonal and negative on the other"
        )
    return 'flat regions and "/" edges give 0; a "\\" edge is positive.'
