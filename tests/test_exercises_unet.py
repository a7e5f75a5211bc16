"""The checkers of chapter 09 ("U-Net and dense prediction") name the mistake.

Each wrong answer is a plausible solution with one mistake (or two); the test
asserts that the message names it. The checkers' references are checked here too,
against torch: the crop against F.pad with negative padding, the U-Net's size
against its layers run on the meta device, the transposed convolution's length
against F.conv_transpose1d, the Dice scores against a loop over the pixels.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from test_exercises_common import (
    _assumes_contiguous,
    _changes_its_inputs,
    assume_contiguous,
    stub,
)

from cnnlib.exercises import (
    ExerciseError,
    check_center_crop,
    check_dice,
    check_transposed_output_size,
    check_valid_unet_size,
)
from cnnlib.exercises.unet import _CROP_CASES, _crop
from cnnlib.exercises.unet_dice import _DICE_CASES, _dice
from cnnlib.exercises.unet_sizes import (
    _TRANSPOSED_CASES,
    _UNET_CASES,
    Raised,
    _transposed,
    _unet_reference,
)

CHECKERS = [
    check_center_crop,
    check_valid_unet_size,
    check_transposed_output_size,
    check_dice,
]


@pytest.mark.parametrize("check", CHECKERS, ids=lambda c: c.__name__)
def test_a_stub_is_not_implemented_yet(check, capsys):
    assert check(stub) is False
    assert "not implemented yet" in capsys.readouterr().out


# --------------------------------------------------------------------------------------
# center_crop(skip, size): the (H - h) // 2, (W - w) // 2 window


def center_crop(skip, size):
    h, w = size
    H, W = skip.shape[-2:]
    top, left = (H - h) // 2, (W - w) // 2
    return skip[:, :, top : top + h, left : left + w]


def test_crop_reference_is_negative_padding():
    for skip, (h, w) in _CROP_CASES:
        H, W = skip.shape[-2:]
        top, left = (H - h) // 2, (W - w) // 2
        pads = (-left, -(W - w - left), -top, -(H - h - top))
        want = F.pad(torch.from_numpy(skip), pads).numpy()
        assert np.array_equal(_crop(skip, h, w), want)
    rows = np.arange(9.0).reshape(1, 1, 9, 1)
    assert _crop(rows, 6, 1).ravel().tolist() == [1, 2, 3, 4, 5, 6]  # bottom dropped


def crop_copy(skip, size):
    return np.ascontiguousarray(center_crop(skip, size))


def crop_torch(skip, size):
    return center_crop(torch.from_numpy(skip), size)


@pytest.mark.parametrize(
    "right", [center_crop, crop_copy, crop_torch], ids=["view", "copy", "torch"]
)
def test_center_crop_correct_answers_pass(right, capsys):
    assert check_center_crop(right)
    assert "correct" in capsys.readouterr().out


def crop(rows="floor", cols="floor", swap_size=False, swap_dims=False):
    """center_crop with a start rule per axis, so that each test injects a slip."""
    start = {
        "floor": lambda M, m: (M - m) // 2,
        "ceil": lambda M, m: (M - m + 1) // 2,
        "round": lambda M, m: round((M - m) / 2),
        "corner": lambda M, m: 0,
        "end": lambda M, m: M - m,
    }

    def wrong(skip, size):
        h, w = size[::-1] if swap_size else size
        H, W = skip.shape[-2:][::-1] if swap_dims else skip.shape[-2:]
        top, left = start[rows](H, h), start[cols](W, w)
        return skip[:, :, top : top + h, left : left + w]

    return wrong


def crop_first_axes(skip, size):
    h, w = size
    H, W = skip.shape[-2:]
    top, left = (H - h) // 2, (W - w) // 2
    return skip[top : top + h, left : left + w]


def crop_middle_axes(skip, size):
    h, w = size
    H, W = skip.shape[-2:]
    top, left = (H - h) // 2, (W - w) // 2
    return skip[:, top : top + h, left : left + w]


def crop_both_ends(skip, size):
    h, w = size
    dh, dw = skip.shape[2] - h, skip.shape[3] - w
    return skip[
        :, :, dh // 2 : skip.shape[2] - dh // 2, dw // 2 : skip.shape[3] - dw // 2
    ]


def crop_minus_slice(skip, size):
    h, w = size
    H, W = skip.shape[-2:]
    top, left = (H - h) // 2, (W - w) // 2
    bottom, right = H - h - top, W - w - left
    return skip[:, :, top:-bottom, left:-right]  # empty when bottom or right is 0


def crop_and_centre(skip, size):
    out = center_crop(skip, size)
    out -= out.mean()  # a view: this writes into skip
    return out


CROP_WRONG = [
    (crop("ceil", "ceil"), "off by one: when the difference is odd"),
    (crop("ceil", "floor"), "off by one.*in the rows; your columns are right"),
    (crop("corner", "corner"), "cropped one side only.*top-left corner"),
    (crop("end", "end"), "cropped one side only.*bottom-right corner"),
    (crop("round", "round"), "rounds halves to even.*torchvision"),
    (crop(swap_size=True), "h and w are swapped"),
    (crop(swap_dims=True), "H and W are swapped"),
    (crop_first_axes, "cropped the wrong axes"),
    (crop_middle_axes, "cropped the wrong axes"),
    (crop_both_ends, "one row \\(column\\) too many"),
    (crop_minus_slice, r"size=\(5, 3\): your crop is empty.*-0 is 0"),
    (lambda skip, size: skip, "nothing was cropped"),
    (crop_and_centre, "changed its input skip in place"),
    (lambda skip, size: center_crop(skip, size).astype(np.float32), "float32"),
    (
        lambda skip, size: center_crop(assume_contiguous(skip), size),
        "stored non-contiguously",
    ),
]


@pytest.mark.parametrize(
    "wrong, message",
    CROP_WRONG,
    ids=[
        "ceil",
        "ceil-rows",
        "top-left",
        "bottom-right",
        "round-half-even",
        "swapped-size",
        "swapped-dims",
        "first-axes",
        "middle-axes",
        "both-ends",
        "minus-slice",
        "no-crop",
        "in-place",
        "float32",
        "as-strided",
    ],
)
def test_center_crop_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_center_crop(wrong)


# --------------------------------------------------------------------------------------
# unet_output_size(n, depth=4): 572 -> 388


def unet_output_size(n, depth=4):
    def double_conv(m):
        if m - 4 < 1:
            raise ValueError(f"a DoubleConv of {m} pixels leaves {m - 4}")
        return m - 4

    for _ in range(depth):
        n = double_conv(n)
        if n % 2:
            raise ValueError(f"a 2x2 pooling of {n} pixels")
        n //= 2
    n = double_conv(n)
    for _ in range(depth):
        n = double_conv(2 * n)
    return n


def unet_on_meta(n, depth=4):
    """Run the valid U-Net's layers (one channel) on the meta device: shapes only."""
    x, w3 = (
        torch.empty(1, 1, n, n, device="meta"),
        torch.empty(1, 1, 3, 3, device="meta"),
    )
    w2 = torch.empty(1, 1, 2, 2, device="meta")

    def double_conv(x):
        if x.shape[-1] < 5:  # torch refuses a kernel larger than its input
            raise ValueError("too small")
        return F.conv2d(F.conv2d(x, w3), w3)

    for _ in range(depth):
        x = double_conv(x)
        if x.shape[-1] % 2:  # torch would floor it
            raise ValueError("odd")
        x = F.max_pool2d(x, 2)
    x = double_conv(x)
    for _ in range(depth):
        x = double_conv(F.conv_transpose2d(x, w2, stride=2))
    return x.shape[-1]


def answer(f, *args):
    try:
        return f(*args)
    except ValueError:
        return Raised()


def test_unet_reference_runs_the_layers():
    for n, depth in _UNET_CASES:
        d = 4 if depth is None else depth
        assert _unet_reference(n, depth) == answer(unet_on_meta, n, d)
        assert _unet_reference(n, depth) == answer(unet_output_size, n, d)
    assert unet_on_meta(572) == 388  # the paper's figure


def unet_closed_form(n, depth=4):
    """n = 2^D b + 4 (2^(D+1) - 1) for a bottom size b >= 1 that fits."""
    b, rest = divmod(n - 4 * (2 ** (depth + 1) - 1), 2**depth)
    if rest or b < (1, 3, 4)[min(depth, 2)]:  # the decoder's 2b - 4 must not shrink
        raise ValueError(f"{n} does not fit the valid U-Net of depth {depth}")
    return 2**depth * b - 4 * (2**depth - 1)


@pytest.mark.parametrize(
    "right", [unet_output_size, unet_closed_form], ids=["loop", "closed-form"]
)
def test_valid_unet_size_correct_answers_pass(right, capsys):
    assert check_valid_unet_size(right)
    assert "correct" in capsys.readouterr().out


def unet(loss=4, up_loss=None, odd="raise", low="raise", pool_first=False,
         up_after=False, extra=0, bottom=True, error=ValueError):  # fmt: skip
    """unet_output_size with switchable slips."""
    up_loss = loss if up_loss is None else up_loss

    def wrong(n, depth=4):
        def conv(m, by):
            if m - by < 1 and low == "raise":
                raise error("too small")
            return m - by

        def pool(m):
            if m % 2 and odd == "raise":
                raise error("odd")
            return math.ceil(m / 2) if odd == "ceil" else m // 2

        for _ in range(depth + extra):
            n = conv(pool(n), loss) if pool_first else pool(conv(n, loss))
        n = conv(n, loss) if bottom else n
        for _ in range(depth + extra):
            n = 2 * conv(n, up_loss) if up_after else conv(2 * n, up_loss)
        return n

    return wrong


UNET_WRONG = [
    (unet(up_loss=0), "decoder's convolutions are missing"),
    (unet(loss=2), "each DoubleConv is two 3x3 convolutions"),
    (unet(odd="floor"), "floor-dividing an odd size"),
    (unet(odd="ceil"), "rounding an odd size up"),
    (unet(low="ignore"), "the size drops below 1"),
    (unet(odd="floor", low="ignore"), "you never raise ValueError"),
    (unet(pool_first=True), "order is wrong in the encoder"),
    (unet(up_after=True), "order is wrong in the decoder"),
    (unet(extra=1), "you used depth \\+ 1"),
    (unet(extra=-1), "you used depth - 1"),
    (unet(bottom=False), "bottom DoubleConv is missing"),
    (
        unet(loss=2, up_loss=0),
        "two mistakes: \\(1\\) the decoder's convolutions.*\\(2\\) each DoubleConv",
    ),
    (unet(error=AssertionError), "raised AssertionError.*\nRight to refuse"),
    (lambda n, depth=4: float(unet_output_size(n, depth)), "a float: return an int"),
    (lambda n, depth=3: unet_output_size(n, depth), "unet_output_size\\(572\\): exp"),
    (lambda n, depth=4: 388, "you return 388 whatever the arguments"),
]


@pytest.mark.parametrize(
    "wrong, message",
    UNET_WRONG,
    ids=[
        "no-decoder-convs",
        "loses-2",
        "floor-odd",
        "ceil-odd",
        "below-1",
        "never-raises",
        "pool-first",
        "up-after",
        "depth+1",
        "depth-1",
        "no-bottom",
        "two-mistakes",
        "assertion",
        "float",
        "default-depth",
        "constant",
    ],
)
def test_valid_unet_size_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_valid_unet_size(wrong)


# --------------------------------------------------------------------------------------
# transposed_output_size(n, k, stride, padding, output_padding, dilation)


def transposed_output_size(n, k, stride=1, padding=0, output_padding=0, dilation=1):
    if output_padding >= max(stride, dilation):
        raise ValueError("output_padding must be smaller than max(stride, dilation)")
    return (n - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1


def transposed_in_torch(n, k, stride=1, padding=0, output_padding=0, dilation=1):
    x, w = torch.zeros(1, 1, n), torch.zeros(1, 1, k)
    try:
        y = F.conv_transpose1d(x, w, None, stride, padding, output_padding, 1, dilation)
    except RuntimeError as err:
        raise ValueError(str(err)) from err
    return y.shape[-1]


def test_transposed_reference_is_torch():
    for case in _TRANSPOSED_CASES:
        assert _transposed(*case) == answer(transposed_in_torch, *case)
    assert transposed_in_torch(28, 2, 2) == 56  # the U-Net's up-convolution


@pytest.mark.parametrize(
    "right",
    [transposed_output_size, transposed_in_torch],
    ids=["formula", "torch"],
)
def test_transposed_output_size_correct_answers_pass(right, capsys):
    assert check_transposed_output_size(right)
    assert "correct" in capsys.readouterr().out


def transposed(conv=False, op=True, pads=2, span="right", ns=False, limit="max"):
    """transposed_output_size with switchable slips."""

    def wrong(n, k, stride=1, padding=0, output_padding=0, dilation=1):
        s, p, d = stride, padding, dilation
        bound = {"max": max(s, d), "stride": s, "min": min(s, d), "none": math.inf}
        if output_padding >= bound.get(limit, max(s, d) + 1):
            raise ValueError("output_padding too large")
        if conv:
            return (n + 2 * p - d * (k - 1) - 1) // s + 1
        reach = {"right": d * (k - 1) + 1, "k": k, "d(k-1)": d * (k - 1)}[span]
        first = n * s if ns else (n - 1) * s
        return first - pads * p + reach + (output_padding if op else 0)

    return wrong


def torch_unwrapped(n, k, stride=1, padding=0, output_padding=0, dilation=1):
    x, w = torch.zeros(1, 1, n), torch.zeros(1, 1, k)
    y = F.conv_transpose1d(x, w, None, stride, padding, output_padding, 1, dilation)
    return y.shape[-1]


TRANSPOSED_WRONG = [
    (transposed(conv=True), "that is the convolution's output size"),
    (transposed(op=False), "output_padding is missing"),
    (transposed(pads=1), "padding counted once"),
    (transposed(pads=-2), "padding has the opposite effect"),
    (transposed(span="k"), "dilation ignored"),
    (transposed(span="d(k-1)"), "you left out the \\+ 1"),
    (transposed(ns=True), "n·s counts one stride too many"),
    (transposed(limit="none"), "you never reject output_padding"),
    (transposed(limit="stride"), "you compared with the stride only"),
    (transposed(limit="min"), "not both: compare with max"),
    (transposed(limit=">"), "strictly smaller"),
    (transposed(pads=1, op=False), "two mistakes: .*output_padding is missing"),
    (torch_unwrapped, "raised RuntimeError.*\nRight to refuse"),
    (lambda *a, **k: float(transposed_output_size(*a, **k)), "a float"),
]


@pytest.mark.parametrize(
    "wrong, message",
    TRANSPOSED_WRONG,
    ids=[
        "convolution",
        "no-output-padding",
        "padding-once",
        "padding-added",
        "no-dilation",
        "no-plus-one",
        "n-times-s",
        "never-rejects",
        "stride-only",
        "min",
        "off-by-one-limit",
        "two-mistakes",
        "runtime-error",
        "float",
    ],
)
def test_transposed_output_size_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_transposed_output_size(wrong)


# --------------------------------------------------------------------------------------
# dice_scores(pred, target, num_classes, smooth=1.0)


def dice_scores(pred, target, num_classes, smooth=1.0):
    scores = np.zeros(num_classes)
    for c in range(num_classes):
        p, t = pred == c, target == c
        scores[c] = (2 * np.sum(p & t) + smooth) / (p.sum() + t.sum() + smooth)
    return scores


def dice_by_pixels(pred, target, num_classes, smooth=1.0):
    inter, size_p, size_t = [0] * num_classes, [0] * num_classes, [0] * num_classes
    for a, b in zip(np.ravel(pred), np.ravel(target), strict=True):
        size_p[a] += 1
        size_t[b] += 1
        inter[a] += int(a == b)
    counts = zip(inter, size_p, size_t, strict=True)
    return np.array([(2 * i + smooth) / (p + t + smooth) for i, p, t in counts])


def dice_bincount(pred, target, num_classes, smooth=1.0):
    pred, target = np.ravel(pred), np.ravel(target)
    inter = np.bincount(pred[pred == target], minlength=num_classes)
    sizes = np.bincount(pred, minlength=num_classes)
    sizes = sizes + np.bincount(target, minlength=num_classes)
    return (2 * inter + smooth) / (sizes + smooth)


def dice_one_hot(pred, target, num_classes, smooth=1.0):
    p = F.one_hot(torch.as_tensor(pred, dtype=torch.long), num_classes)
    t = F.one_hot(torch.as_tensor(target, dtype=torch.long), num_classes)
    dims = tuple(range(p.ndim - 1))
    inter = (p * t).sum(dims).double()
    return (2 * inter + smooth) / (p.sum(dims) + t.sum(dims) + smooth)


def test_dice_reference_counts_pixels():
    for pred, target, num_classes, smooth in _DICE_CASES:
        s = 1.0 if smooth is None else smooth
        want = dice_by_pixels(pred, target, num_classes, s)
        assert np.allclose(_dice(pred, target, num_classes, s), want, rtol=1e-12)
    same = np.array([[0, 1], [1, 2]])
    assert np.array_equal(_dice(same, same, 4), np.ones(4))  # class 3: 1 / 1


@pytest.mark.parametrize(
    "right",
    [dice_scores, dice_by_pixels, dice_bincount, dice_one_hot],
    ids=["masks", "pixels", "bincount", "one-hot"],
)
def test_dice_correct_answers_pass(right, capsys):
    assert check_dice(right)
    assert "correct" in capsys.readouterr().out


def dice(formula):
    """dice_scores with another formula of (|P ∩ T|, |P|, |T|, smooth)."""

    def wrong(pred, target, num_classes, smooth=1.0):
        out = []
        for c in range(num_classes):
            p, t = pred == c, target == c
            out.append(formula(np.sum(p & t), p.sum(), t.sum(), smooth))
        return np.array(out, dtype=float)

    return wrong


def pooled(pred, target, num_classes, smooth=1.0):
    inter = np.sum(pred == target)
    return (2 * inter + smooth) / (2 * pred.size + smooth)


def soft(pred, target, num_classes, smooth=1.0):
    return (2 * np.sum(pred * target) + smooth) / (pred.sum() + target.sum() + smooth)


def foreground(pred, target, num_classes, smooth=1.0):
    p, t = pred > 0, target > 0
    return (2 * np.sum(p & t) + smooth) / (p.sum() + t.sum() + smooth)


def masks_in_place(pred, target, num_classes, smooth=1.0):
    scores = np.zeros(num_classes)
    for c in range(num_classes):
        p, t = pred == c, target == c
        scores[c] = (2 * np.sum(p & t) + smooth) / (p.sum() + t.sum() + smooth)
        pred[p] = -1  # class c is counted: mark it (in the caller's pred too)
    return scores


def int_scores(pred, target, num_classes, smooth=1.0):
    scores = np.zeros(num_classes, dtype=int)
    scores[:] = dice_scores(pred, target, num_classes, smooth)
    return scores


def skip_absent(pred, target, num_classes, smooth=1.0):
    scores = dice_scores(pred, target, num_classes, smooth)
    for c in range(num_classes):
        if not np.any(pred == c) and not np.any(target == c):
            scores[c] = 0.0
    return scores


DICE_WRONG = [
    (pooled, "pooled over the classes"),
    (lambda *a, **k: dice_scores(*a, **k).mean(), "averaged over the classes"),
    (dice(lambda i, p, t, s: (i + s) / (p + t - i + s)), "that is IoU"),
    (dice(lambda i, p, t, s: (2 * i + s) / (p + t)), "numerator only"),
    (dice(lambda i, p, t, s: 2 * i / (p + t + s)), "denominator only"),
    (dice(lambda i, p, t, s: (i + s) / (p + t + s)), "factor 2 is missing"),
    (dice(lambda i, p, t, s: 2 * (i + s) / (p + t + s)), "multiplies smooth too"),
    (dice(lambda i, p, t, s: (2 * i + s) // (p + t + s)), "integer division"),
    (lambda *a, **k: dice_scores(*a, **k)[0], "background \\(class 0\\) only"),
    (lambda *a, **k: dice_scores(*a, **k)[1:], "background \\(class 0\\) is a class"),
    (
        lambda pred, target, c, smooth=1.0: dice_scores(
            pred - 1, target - 1, c, smooth
        ),
        "you scored 1 .. num_classes",
    ),
    (skip_absent, "absent from both maps scores"),
    (soft, "not probabilities"),
    (foreground, "foreground against background"),
    (int_scores, "integer array"),
    (lambda *a, **k: dice_scores(*a, **k).astype(np.float32), "float32"),
    (masks_in_place, "changed its input pred in place"),
    (
        lambda pred, *a, **k: dice_scores(assume_contiguous(pred), *a, **k),
        "stored non-contiguously",
    ),
    (
        lambda pred, target, *a, **k: dice_scores(
            pred, assume_contiguous(target), *a, **k
        ),
        "stored non-contiguously",
    ),
    (lambda *a, **k: dice_scores(*a, **k)[:2], "should have shape \\(3,\\), got \\(2,"),
]


@pytest.mark.parametrize(
    "wrong, message",
    DICE_WRONG,
    ids=[
        "pooled",
        "mean",
        "iou",
        "smooth-numerator",
        "smooth-denominator",
        "no-factor-2",
        "factor-2-on-smooth",
        "floor-division",
        "background-only",
        "no-background",
        "classes-1-to-C",
        "absent-is-0",
        "soft-dice",
        "foreground",
        "int-array",
        "float32",
        "in-place",
        "as-strided-pred",
        "as-strided-target",
        "wrong-shape",
    ],
)
@pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")
def test_dice_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_dice(wrong)


# --------------------------------------------------------------------------------------
# What tests/test_exercises_common.py does to the notebooks' solutions


@pytest.mark.parametrize(
    "check, right",
    [(check_center_crop, center_crop), (check_dice, dice_scores)],
    ids=["center_crop", "dice"],
)
def test_the_notebook_wrappers_are_caught(check, right):
    with pytest.raises(ExerciseError, match="changed its input .* in place"):
        check(_changes_its_inputs(right))
    with pytest.raises(ExerciseError, match="stored non-contiguously"):
        check(_assumes_contiguous(right))
