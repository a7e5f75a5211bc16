"""Checkers for the chapter "Residual networks".

The basic residual block is checked here; a bottleneck's parameters in
:mod:`cnnlib.exercises.resnets_bottleneck`, the paths of the unrolled network and a
dense block's channels in :mod:`cnnlib.exercises.resnets_counts` (all re-exported
here).

The block takes torch tensors. :func:`cnnlib.exercises._core.call` copies numpy
arrays only, so :func:`_call_block` hands the reader tensors that share memory with
fresh numpy copies (``torch.from_numpy``), which keeps their layout and lets the
copies be compared with the originals afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from ._core import (
    ExerciseError,
    _fresh,
    call,
    checker,
    describe_change,
    noncontiguous,
)
from ._diagnose import as_array, switch_candidates, verdict
from .resnets_bottleneck import check_bottleneck_params
from .resnets_counts import check_dense_channels, check_path_counts

__all__ = [
    "check_basic_block",
    "check_bottleneck_params",
    "check_dense_channels",
    "check_path_counts",
]

# --------------------------------------------------------------------------------------
# Exercise: the basic residual block, relu(branch + shortcut), without batch norm


def _parts(x, w1, w2, stride=1, w_proj=None, *, padding=1, stride_on=1,
           proj_stride=True, use_proj=True, relu_mid=True):  # fmt: skip
    """The residual branch and the shortcut, before they are added."""
    s1, s2 = {1: (stride, 1), 2: (1, stride), 0: (1, 1)}[stride_on]
    h = F.conv2d(x, w1, stride=s1, padding=padding)
    h = F.relu(h) if relu_mid else h
    branch = F.conv2d(h, w2, stride=s2, padding=padding)
    if w_proj is None or not use_proj:
        return branch, x
    return branch, F.conv2d(x, w_proj, stride=stride if proj_stride else 1)


def _block(x, w1, w2, stride=1, w_proj=None, *, relu="after", shortcut_relu=False,
           add="end", **options):  # fmt: skip
    """relu(branch + shortcut) as float64 numpy; the options rebuild the mistakes."""
    x, w1, w2 = (torch.as_tensor(a) for a in (x, w1, w2))
    w_proj = None if w_proj is None else torch.as_tensor(w_proj)
    if add != "end":  # the shortcut added to the first convolution's output
        s1 = stride if options.get("stride_on", 1) == 1 else 1
        shortcut = _parts(x, w1, w2, stride, w_proj, **options)[1]
        h = F.conv2d(x, w1, stride=s1, padding=1)
        h = F.relu(h) + shortcut if add == "after relu" else F.relu(h + shortcut)
        return F.relu(F.conv2d(h, w2, padding=1)).numpy()
    branch, shortcut = _parts(x, w1, w2, stride, w_proj, **options)
    shortcut = F.relu(shortcut) if shortcut_relu else shortcut
    if relu in ("branch", "both"):
        branch = F.relu(branch)
    out = branch + shortcut if relu != "plain" else branch
    return (F.relu(out) if relu in ("after", "both", "plain") else out).numpy()


_FORMULA = "relu(conv3x3(relu(conv3x3(x, w1, stride)), w2) + shortcut)"
_PROJECTION = (
    "when the shape changes the shortcut needs the projection: with w_proj given, "
    "shortcut = F.conv2d(x, w_proj, stride=stride), x itself only when w_proj is None"
)
_STRIDE = (
    "the projection needs the stride too, F.conv2d(x, w_proj, stride=stride): the "
    "shortcut must have the branch's height and width"
)
_PADDING = (
    "both 3x3 convolutions need padding=1: without it each one loses two rows and "
    "two columns, and the branch no longer has x's size"
)
_NO_STRIDE = (
    "the stride is missing from the first 3x3 convolution: it downsamples, "
    "F.conv2d(x, w1, stride=stride, padding=1)"
)

_BLOCK_MISTAKES = {
    "the final ReLU is in the wrong place: you applied it to the branch before the "
    f"addition and not after it; the sum is rectified, {_FORMULA}": {"relu": "branch"},
    "a ReLU on the shortcut too: the identity path carries x unchanged (negative "
    f"values included) up to the addition; only the sum is rectified, {_FORMULA}": {
        "shortcut_relu": True
    },
    "the stride belongs to the FIRST 3x3 convolution (it downsamples, as in "
    "torchvision's BasicBlock); you put it on the second": {"stride_on": 2},
    "the shortcut is added after the SECOND convolution: you added it to the first "
    f"one's output, before conv2; {_FORMULA}": {"add": "after relu"},
    "the shortcut is added after the SECOND convolution (and before the last ReLU), "
    f"not to the first one's output: {_FORMULA}": {"add": "before relu"},
    "you forgot the shortcut: relu(conv3x3(relu(conv3x3(x)))) is a plain block; a "
    "residual block adds x (or its projection) before the last ReLU": {"relu": "plain"},
    f"the ReLU after the addition is missing: {_FORMULA}": {"relu": "none"},
    "a ReLU on the branch AND one after the addition: the branch ends with conv2, "
    f"unrectified; {_FORMULA}": {"relu": "both"},
    f"the ReLU between the two convolutions is missing: {_FORMULA}": {
        "relu_mid": False
    },
    "w_proj is given but your shortcut is x itself: whenever w_proj is given the "
    "shortcut is F.conv2d(x, w_proj, stride=stride), even when the shape does not "
    "change (torchvision passes a projection only when it does)": {"use_proj": False},
}
_SHAPE_MISTAKES = {  # they make branch + shortcut fail: told apart by the sizes
    _PADDING: {"padding": 0},
    _PROJECTION: {"use_proj": False},
    _STRIDE: {"proj_stride": False},
    _NO_STRIDE: {"stride_on": 0},
}


def _block_or_none(*case, **flags):
    """_block, or None when the mistake makes the shapes disagree."""
    try:
        return _block(*case, **flags)
    except RuntimeError:
        return None


_SIZES = re.compile(
    r"size of tensor a \((\d+)\) must match the size of tensor b \((\d+)\) at "
    r"non-singleton dimension (\d+)"
)


def _mismatches(case, flags) -> set:
    """(axis, {size, size}) where the branch and the shortcut differ, with the
    mistake ``flags`` made."""
    tensors = [torch.as_tensor(a) if isinstance(a, np.ndarray) else a for a in case]
    try:
        branch, shortcut = _parts(*tensors, **flags)
    except RuntimeError:
        return set()
    pairs = zip(branch.shape, shortcut.shape, strict=True)
    return {(d, frozenset((a, b))) for d, (a, b) in enumerate(pairs) if a != b}


def _shape_hint(error: str, case, earlier) -> str:
    """Which mistake makes branch + shortcut fail with the sizes ``error`` names;
    one that would have failed a case passed ``earlier`` is not it."""
    found = _SIZES.search(error)
    if not found and "match" not in error:  # not about the sizes of a sum
        return ""
    named = []
    for message, flags in _SHAPE_MISTAKES.items():
        sizes = _mismatches(case, flags)
        if any(_mismatches(c, flags) for c in earlier):
            continue
        if sizes and (
            not found
            or (int(found[3]), frozenset((int(found[1]), int(found[2])))) in sizes
        ):
            named.append(message)
    if not named:
        return ""
    if len(named) == 1 and found:
        return f"\nThe residual branch and the shortcut differ in size: {named[0]}"
    return "\nIf the branch and the shortcut differ in size: " + "; or ".join(named)


def _describe(case) -> str:
    x, w1, _, stride, w_proj = case
    proj = "no w_proj" if w_proj is None else f"w_proj {w_proj.shape}"
    return f"(x {x.shape}, w1 {w1.shape}, stride={stride}, {proj})"


def _tensor_change_message(name, arg, change) -> str:
    return (
        f"{name} changed its input {arg} in place: {change}. A function should "
        f"leave its arguments as it found them; work on new tensors: in-place "
        f"operations such as {arg} += ..., {arg}.relu_(), F.relu({arg}, "
        f"inplace=True) or {arg}[...] = ... write into the caller's tensor, and so "
        f"does out = {arg} followed by out += ... (out is {arg}, not a copy)."
    )


def _call_block(fn, case, earlier):
    """The reader's output for ``case``; its inputs are checked for changes."""
    arrays = [_fresh(a) if a is not None else None for a in case[:3] + case[4:]]
    x, w1, w2, w_proj = (torch.from_numpy(a) if a is not None else a for a in arrays)
    stride, name = case[3], getattr(fn, "__name__", "<")
    name = "your function" if name.startswith("<") else name

    def run():  # call() would print the tensors whole in its messages
        return fn(x, w1, w2, stride=stride, w_proj=w_proj)

    run.__name__ = name
    try:
        raw = call(run)
    except ExerciseError as err:
        cause = err.__cause__
        if cause is None:  # it returned None
            raise
        shapes = isinstance(cause, RuntimeError)
        hint = _shape_hint(str(cause), case, earlier) if shapes else ""
        proj = "None" if w_proj is None else "w_proj"
        raise ExerciseError(
            f"{_describe(case)}: {name}(x, w1, w2, stride={stride}, w_proj={proj}) "
            f"raised {type(cause).__name__}: {cause}{hint}"
        ) from cause
    for arg, before, after in zip(
        ("x", "w1", "w2", "w_proj"), case[:3] + case[4:], arrays, strict=True
    ):
        change = before is not None and describe_change(before, after)
        if change:
            raise ExerciseError(_tensor_change_message(name, arg, change))
    return raw


def _check_block_case(fn, case, earlier=()):
    """``earlier``: the cases already passed, which rule some mistakes out."""
    raw = _call_block(fn, case, earlier)
    got = as_array(raw, "the block's output")
    mistakes = switch_candidates(case, _block_or_none, _BLOCK_MISTAKES)
    message = verdict(got, _block(*case), mistakes, what="the block's output")
    if message:
        raise ExerciseError(f"{_describe(case)}: {message}")


def _block_cases():
    """(x, w1, w2, stride, w_proj): identity, then projections that change the
    channels (stride 1), nothing (same shape), both size and channels, then a 1x1
    image; the order lets an error's sizes name the mistake."""
    rng = np.random.default_rng(8)
    shapes = [  # N, C_in, C, H, W, stride, projection
        (2, 3, 3, 5, 6, 1, False),
        (1, 2, 4, 5, 5, 1, True),
        (1, 3, 3, 4, 4, 1, True),
        (2, 3, 4, 6, 7, 2, True),
        (2, 2, 2, 7, 5, 2, True),
        (1, 2, 3, 1, 1, 2, True),
    ]
    cases = []
    for n, c_in, c, h, w, stride, projection in shapes:
        x = rng.standard_normal((n, c_in, h, w))
        w1 = rng.standard_normal((c, c_in, 3, 3)) / np.sqrt(9 * c_in)
        w2 = rng.standard_normal((c, c, 3, 3)) / np.sqrt(9 * c)
        w_proj = rng.standard_normal((c, c_in, 1, 1)) if projection else None
        cases.append((x, w1, w2, stride, w_proj))
    return cases


_BLOCK_CASES = _block_cases()


def _on_tensor_layouts(fn, i):
    """Rerun case ``i`` with every tensor a permuted view of a contiguous one."""
    case = _BLOCK_CASES[i]
    strided = tuple(noncontiguous(a) if isinstance(a, np.ndarray) else a for a in case)
    try:
        _check_block_case(fn, strided, _BLOCK_CASES[:i])
    except ExerciseError as err:
        raise ExerciseError(
            f"{err}\nThis happened with the same values stored non-contiguously in "
            "memory (every tensor a permuted view, like x.permute(3, 2, 1, 0) of a "
            "contiguous one); on contiguous tensors your function is right. "
            "Something assumes a contiguous layout: x.view(...) refuses such tensors "
            "(x.reshape(...) works), and x.numpy() or torch.as_strided with strides "
            "of your own read the wrong elements."
        ) from None


@checker("basic_block")
def check_basic_block(fn: Callable) -> str:
    """Check ``fn(x, w1, w2, stride=1, w_proj=None)``: torch float64 tensors x (N,
    C_in, H, W), w1 (C, C_in, 3, 3), w2 (C, C, 3, 3), w_proj (C, C_in, 1, 1) or None
    -> relu(conv3x3(relu(conv3x3(x, w1, stride, padding 1)), w2, padding 1) +
    shortcut) of shape (N, C, H_out, W_out), where shortcut is x when w_proj is None
    and conv1x1(x, w_proj, stride) otherwise. No batch norm, for brevity (torchvision's
    BasicBlock puts one after each convolution)."""
    for i, case in enumerate(_BLOCK_CASES):
        _check_block_case(fn, case, _BLOCK_CASES[:i])
    _on_tensor_layouts(fn, 3)
    return (
        f"{len(_BLOCK_CASES)} blocks (identity and projection shortcuts, strides 1 "
        "and 2, a 1x1 image) give relu(branch + shortcut). torchvision's BasicBlock "
        "adds a batch norm after each convolution, left out here for brevity."
    )
