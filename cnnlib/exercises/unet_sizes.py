"""Checkers for the chapter "U-Net and dense prediction": two size formulas.

* the output size of the paper's valid (unpadded) U-Net for an n x n input;
* the output length of a transposed convolution (torch's ``ConvTranspose``).

Both must refuse some arguments with ``ValueError``: an odd size before a 2x2
pooling or a size below 1 for the U-Net, ``output_padding >= max(stride,
dilation)`` for the transposed convolution (torch refuses it too). A refusal is an
answer like a number (:class:`Raised`), so the formulas with switchable mistakes
below return it, and :func:`cnnlib.exercises._diagnose.explain` finds the mistake
(or two) that reproduces the reader's answers, refusals included.
"""

from __future__ import annotations

from collections.abc import Callable

from ._core import ExerciseError, call, checker
from ._diagnose import count_variant, explain, join, whole
from ._formulas import size as conv_size


class Raised:
    """A ValueError as an answer: equal to any other one, whatever its message."""

    def __init__(self, message: str = ""):
        self.message = message

    def __eq__(self, other) -> bool:
        return isinstance(other, Raised)

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return f"ValueError({self.message!r})" if self.message else "a ValueError"


def _answer(fn, args, kwargs, where: str, refuse: bool):
    """The reader's size as an int, or Raised when it raised ValueError; ``refuse``:
    whether the arguments are invalid."""
    try:
        got = call(fn, *args, **kwargs)
    except ExerciseError as err:
        cause = err.__cause__
        if isinstance(cause, ValueError):
            return Raised(str(cause))
        if refuse and cause is not None:
            raise ExerciseError(
                f"{err}\nRight to refuse these arguments, but raise ValueError, the "
                "error for a bad value"
            ) from cause
        raise
    return whole(got, where, want_int=True)


def _verdict(observed, reference, formula, switches, describe) -> str | None:
    """None when every answer is right, else the mistake(s), with an example."""
    wrong = [(case, got) for case, got in observed if got != reference(*case)]
    if not wrong:
        return None
    found = explain(observed, formula, switches)
    message = join(found) if found else None
    if not message:
        refused = [c for c, g in wrong if isinstance(g, Raised)]
        allowed = [c for c, g in wrong if isinstance(reference(*c), Raised)]
        if refused and not allowed:
            message = "you raise ValueError for valid arguments"
        elif allowed and not refused and len(allowed) == len(wrong):
            message = "you return a size where you should raise ValueError"
        else:
            numbers = [
                (c, g) for c, g in observed if not isinstance(reference(*c), Raised)
            ]
            if not any(isinstance(g, Raised) for _, g in numbers):
                message = count_variant(numbers, reference)
    case, got = wrong[0]
    example = f"{describe(case)}: expected {reference(*case)!r}, got {got!r}"
    return f"{message} (e.g. {example})" if message else example


# --------------------------------------------------------------------------------------
# Exercise: the output size of the valid U-Net


class _Invalid(Exception):
    pass


def _unet(n, depth=4, *, loss=4, up_loss=None, bottom=True, odd="raise", low="raise",
          order="conv first", up_order="up first", extra=0):  # fmt: skip
    """The valid U-Net's output size for an n x n input; options rebuild mistakes."""
    up_loss = loss if up_loss is None else up_loss

    def double_conv(m, by):
        if m - by < 1 and low == "raise":
            raise _Invalid
        return m - by

    def pool(m):
        if m % 2 and odd == "raise":
            raise _Invalid
        return -(-m // 2) if odd == "ceil" else m // 2

    levels = depth + extra
    try:
        for _ in range(levels):
            if order == "conv first":
                n = pool(double_conv(n, loss))
            else:
                n = double_conv(pool(n), loss)
        if bottom:
            n = double_conv(n, loss)
        for _ in range(levels):
            if up_order == "up first":
                n = double_conv(2 * n, up_loss)
            else:
                n = 2 * double_conv(n, up_loss)
    except _Invalid:
        return Raised()
    return n


_UNET_MISTAKES = {
    "the decoder's convolutions are missing: after each up-convolution doubles the "
    "size, a DoubleConv takes 4 pixels off again (28 -> 56 -> 52)": {"up_loss": 0},
    "each DoubleConv is two 3x3 convolutions without padding, and each of them loses "
    "2 pixels (one at each border): 4 per DoubleConv, not 2": {"loss": 2},
    "the bottom DoubleConv is missing: after the last pooling (32) a DoubleConv "
    "gives 28, which the first up-convolution doubles": {"bottom": False},
    "the order is wrong in the encoder: each level convolves first and pools after "
    "(572 -> 568 -> 284), pooling before the DoubleConv": {"order": "pool first"},
    "the order is wrong in the decoder: each level up-samples first and convolves "
    "after (28 -> 56 -> 52)": {"up_order": "conv first"},
    "you never raise ValueError: an odd size before a 2x2 pooling, or a size that "
    "drops below 1, means the input does not fit the valid U-Net": {
        "odd": "floor",
        "low": "ignore",
    },
    "floor-dividing an odd size: a 2x2 pooling of an odd size drops the last row, "
    "and the cropped skip would no longer line up with the upsampled map; raise "
    "ValueError instead": {"odd": "floor"},
    "rounding an odd size up (ceil_mode): a 2x2 pooling must see an even size; "
    "raise ValueError instead": {"odd": "ceil"},
    "the size drops below 1 (a DoubleConv needs at least 5 pixels, and the decoder's "
    "too): raise ValueError rather than return a size < 1": {"low": "ignore"},
    "off by one: depth is the number of 2x2 poolings (and of up-convolutions); you "
    "used depth + 1": {"extra": 1},
    "off by one: depth is the number of 2x2 poolings (and of up-convolutions); you "
    "used depth - 1": {"extra": -1},
}
_UNET_CASES = [  # (n, depth); depth None: the default, 4
    (572, 4),  # the paper: 572 -> 388
    (572, None),
    (188, 4),  # the smallest input that fits depth 4: 188 -> 4
    (60, 2),
    (76, 2),
    (18, 1),
    (5, 0),  # no pooling: one DoubleConv
    (700, 3),
    (570, 4),  # 566 -> 283, odd
    (571, 4),  # 567, odd at the first pooling
    (172, 4),  # every pooling even; the bottom 3 -> 6 -> 2 -> 4 -> 0
    (16, 1),  # 12 -> 6 -> 2 -> 4 -> 0: below 1 in the decoder
    (14, 1),  # 10 -> 5 -> 1 -> 2 -> -2
    (4, 0),
    (62, 2),  # 58 -> 29, odd at the second pooling
]


def _unet_case(case) -> str:
    n, depth = case
    return (
        f"unet_output_size({n})" if depth is None else f"unet_output_size({n}, {depth})"
    )


def _unet_reference(n, depth=None, **mistakes):
    return _unet(n, 4 if depth is None else depth, **mistakes)


@checker("valid_unet_size")
def check_valid_unet_size(fn: Callable) -> str:
    """Check ``fn(n, depth=4)``: the output size of the valid U-Net for an n x n
    input: depth levels of DoubleConv (-4) then 2x2 pooling (halves), a DoubleConv at
    the bottom, then depth levels of up-convolution (doubles) then DoubleConv (-4);
    ValueError when a pooling would see an odd size or a size drops below 1."""
    observed = []
    for n, depth in _UNET_CASES:
        kwargs = {} if depth is None else {"depth": depth}
        refuse = isinstance(_unet_reference(n, depth), Raised)
        got = _answer(fn, (n,), kwargs, _unet_case((n, depth)), refuse)
        observed.append(((n, depth), got))
    message = _verdict(
        observed, _unet_reference, _unet_reference, _UNET_MISTAKES, _unet_case
    )
    if message:
        raise ExerciseError(message)
    return (
        "572 -> 388 for depth 4, as in the paper; odd sizes before a pooling and "
        "sizes below 1 raise ValueError."
    )


# --------------------------------------------------------------------------------------
# Exercise: the output length of a transposed convolution


def _transposed(n, k, s=1, p=0, op=0, d=1, *, conv=False, use_op=True, pads=2,
                span="d(k-1)+1", first="(n-1)s", rule="max"):  # fmt: skip
    """(n - 1)s - 2p + d(k - 1) + output_padding + 1; options rebuild mistakes."""
    limit = {"max": max(s, d), "stride": s, "min": min(s, d), ">": max(s, d) + 1}
    if op >= limit.get(rule, float("inf")):
        return Raised()
    if conv:
        return conv_size(n, k, s, p, d)
    spans = {"d(k-1)+1": d * (k - 1) + 1, "k": k, "dk": d * k, "d(k-1)": d * (k - 1)}
    start = (n - 1) * s if first == "(n-1)s" else n * s
    return start - pads * p + spans[span] + (op if use_op else 0)


_TRANSPOSED_MISTAKES = {
    "that is the convolution's output size, floor((n + 2p - d(k - 1) - 1) / s) + 1: a "
    "transposed convolution goes the other way, to the length whose convolution has "
    "n outputs, (n - 1)s - 2p + d(k - 1) + 1 (+ output_padding)": {"conv": True},
    "output_padding is missing: it adds output_padding samples at one end (it picks "
    "one of the lengths that a strided convolution maps to n)": {"use_op": False},
    "padding counted once: the transposed convolution removes p samples from EACH "
    "end, 2p in all": {"pads": 1},
    "padding ignored: the transposed convolution removes p samples from each end "
    "(- 2p)": {"pads": 0},
    "padding has the opposite effect here: the transposed convolution removes 2p "
    "samples (the padding of the convolution it transposes); it does not add "
    "them": {"pads": -2},
    "dilation ignored: the kernel spans d(k - 1) + 1 samples, not k": {"span": "k"},
    "a dilated kernel spans d(k - 1) + 1 samples, not d k (there are k - 1 gaps of "
    "d between its k taps)": {"span": "dk"},
    "a dilated kernel spans d(k - 1) + 1 samples: you left out the + 1": {
        "span": "d(k-1)"
    },
    "n·s counts one stride too many: n inputs s apart are (n - 1)·s apart from the "
    "first to the last, so the first term is (n - 1)·s": {"first": "ns"},
    "you never reject output_padding >= max(stride, dilation): torch refuses it "
    "(it would add outputs no input reaches); raise ValueError": {"rule": "none"},
    "output_padding is allowed when it is smaller than the stride OR the dilation, "
    "i.e. smaller than max(stride, dilation); you compared with the stride only": {
        "rule": "stride"
    },
    "output_padding is allowed when it is smaller than the stride OR the dilation, "
    "not both: compare with max(stride, dilation), not min": {"rule": "min"},
    "off by one: output_padding must be strictly smaller than max(stride, "
    "dilation); output_padding == max(stride, dilation) is refused too": {"rule": ">"},
}
_TRANSPOSED_CASES = [  # (n, k, stride, padding, output_padding, dilation)
    (5, 4, 2, 1, 0, 1),  # k = 4, s = 2, p = 1 doubles (DCGAN): 10
    (28, 2, 2, 0, 0, 1),  # the U-Net's 2x2 up-convolution: 28 -> 56
    (7, 3, 2, 1, 1, 1),  # 7 -> 14: output_padding recovers the even length
    (4, 3, 1, 0, 0, 1),
    (6, 3, 3, 2, 2, 1),
    (5, 3, 1, 1, 0, 2),
    (4, 3, 1, 0, 1, 2),  # output_padding 1 >= stride, but < dilation: allowed
    (6, 5, 2, 3, 1, 3),
    (5, 3, 2, 1, 2, 3),  # 2 >= stride, 2 < dilation
    (1, 1, 1, 0, 0, 1),  # size 1
    (1, 4, 3, 0, 2, 1),
    (5, 3, 2, 0, 2, 1),  # output_padding == stride: refused
    (4, 3, 1, 0, 1, 1),
    (5, 3, 2, 1, 3, 3),  # == max(stride, dilation)
    (3, 2, 2, 0, 4, 1),
]


def _transposed_case(case) -> str:
    return (
        "transposed_output_size({}, {}, stride={}, padding={}, output_padding={}, "
        "dilation={})".format(*case)
    )


@checker("transposed_output_size")
def check_transposed_output_size(fn: Callable) -> str:
    """Check ``fn(n, k, stride=1, padding=0, output_padding=0, dilation=1)``: (n - 1)
    s - 2p + d(k - 1) + output_padding + 1, torch's ConvTranspose1d; ValueError when
    output_padding >= max(stride, dilation)."""
    observed = []
    for case in _TRANSPOSED_CASES:
        n, k, s, p, op, d = case
        kwargs = {"stride": s, "padding": p, "output_padding": op, "dilation": d}
        refuse = isinstance(_transposed(*case), Raised)
        got = _answer(fn, (n, k), kwargs, _transposed_case(case), refuse)
        observed.append((case, got))
    message = _verdict(
        observed, _transposed, _transposed, _TRANSPOSED_MISTAKES, _transposed_case
    )
    if message:
        raise ExerciseError(message)
    return (
        f"{len(_TRANSPOSED_CASES)} cases agree with torch's ConvTranspose1d, refusals "
        "of output_padding >= max(stride, dilation) included."
    )
