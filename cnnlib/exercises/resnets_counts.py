"""Checkers for the chapter "Residual networks": two lists of counts.

* the paths of the unrolled network of K residual blocks, by length ℓ: C(K, ℓ);
* the channels through a dense block: c0, c0 + g, ..., c0 + D g (g the growth
  rate, D the number of layers).

Whole numbers: a channel count must be an int (it becomes ``nn.Conv2d``'s
``in_channels``, which refuses a float). A path count that is a float with a whole
value is accepted, with a note: the exercise is the binomial, and a float holds
such counts exactly up to 2**53, far beyond the cases here.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ._core import ExerciseError, call, checker

# --------------------------------------------------------------------------------------
# Lists of whole numbers


def _numbers(raw, what: str) -> list:
    """The reader's answer as a list of Python numbers, or an ExerciseError."""
    if hasattr(raw, "detach"):
        raw = raw.detach().cpu().numpy()
    if isinstance(raw, np.ndarray):
        if raw.ndim != 1:
            raise ExerciseError(f"{what}: return a flat list, got shape {raw.shape}")
        raw = raw.tolist()
    if not isinstance(raw, list | tuple):
        raise ExerciseError(f"{what}: return a list of counts, got {raw!r}")
    for item in raw:
        if isinstance(item, bool) or not isinstance(
            item, int | float | np.integer | np.floating
        ):
            raise ExerciseError(f"{what}: return a flat list of numbers, got {raw!r}")
    return [item.item() if isinstance(item, np.generic) else item for item in raw]


def _same(got: list, want) -> bool:
    return len(got) == len(want) and bool(
        np.allclose(np.asarray(got, float), np.asarray(want, float), rtol=1e-9)
    )


def _diagnosis(got, want, mistakes) -> str:
    for message, value in mistakes:
        if value is not None and _same(got, value):
            return message
    if len(got) != len(want):
        return f"return {len(want)} counts, got {len(got)}"
    i = next(i for i, (g, w) in enumerate(zip(got, want, strict=True)) if g != w)
    return f"entry {i} is {got[i]}, expected {want[i]}"


# --------------------------------------------------------------------------------------
# Exercise: the paths through K residual blocks, by length


def _path_mistakes(K):
    ells = range(K + 1)
    cumulative = list(np.cumsum([math.comb(K, ell) for ell in ells]))
    choose = "choosing which ℓ of the K blocks a path goes through: C(K, ℓ)"
    return [
        (
            f"K**ℓ counts sequences with repetition; a path is fixed by {choose}",
            [K**ell for ell in ells],
        ),
        (
            f"2**ℓ is the number of subsets of ℓ blocks; count {choose}",
            [2**ell for ell in ells],
        ),
        (
            "order does not matter: a path passes its ℓ branches in the blocks' "
            f"order, so count choices, not arrangements K!/(K - ℓ)!; {choose}",
            [math.perm(K, ell) for ell in ells],
        ),
        (
            "cumulative: entry ℓ is the number of paths of length AT MOST ℓ; count "
            f"those of length exactly ℓ, {choose}",
            cumulative,
        ),
        (
            "cumulative from the top: entry ℓ is the number of paths of length AT "
            f"LEAST ℓ; count those of length exactly ℓ, {choose}",
            [2**K - c for c in [0, *cumulative[:-1]]],
        ),
        (
            "those are probabilities, the fractions C(K, ℓ) / 2**K of the 2**K "
            "paths; return the counts themselves",
            [math.comb(K, ell) / 2**K for ell in ells],
        ),
        (
            "off by one: the path of length 0 is missing, the one that skips every "
            "residual branch (x straight to the output); return K + 1 counts, "
            "ℓ = 0 .. K",
            [math.comb(K, ell) for ell in range(1, K + 1)],
        ),
        (
            "off by one: the path of length K is missing, the one through every "
            "residual branch; return K + 1 counts, ℓ = 0 .. K",
            [math.comb(K, ell) for ell in range(K)],
        ),
        (
            "off by one: those are the counts for K - 1 blocks; return K + 1 "
            "counts, ℓ = 0 .. K",
            [math.comb(K - 1, ell) for ell in range(K)] if K else None,
        ),
        (
            "off by one: those are the counts for K + 1 blocks; return K + 1 "
            "counts, ℓ = 0 .. K",
            [math.comb(K + 1, ell) for ell in range(K + 2)],
        ),
    ]


_PATH_KS = [4, 1, 2, 3, 7, 10, 16, 0]  # the deck's example first: 4 blocks, 16 paths


def _check_paths_case(fn, K) -> bool:
    """Whether the counts are right; True when they are floats (with whole values)."""
    raw = call(fn, K)
    want = [math.comb(K, ell) for ell in range(K + 1)]
    if isinstance(raw, int | float | np.integer | np.floating) and raw == 2**K:
        raise ExerciseError(
            f"K={K}: return the list of K + 1 counts (one per length ℓ = 0 .. K), "
            f"not their total 2**K = {2**K}"
        )
    got = _numbers(raw, f"K={K}")
    if got != want:
        raise ExerciseError(f"K={K}: {_diagnosis(got, want, _path_mistakes(K))}")
    return any(isinstance(g, float) for g in got)


@checker("path_counts")
def check_path_counts(fn: Callable) -> str:
    """Check ``fn(K)``: a list of K + 1 counts whose entry ℓ is the number of paths
    through ℓ residual branches in the unrolled network of K blocks, C(K, ℓ); they
    sum to 2**K. Ints are expected; floats with whole values are accepted, with a
    note."""
    floats = [_check_paths_case(fn, K) for K in _PATH_KS]
    note = (
        " Your counts are floats: right here, but a float holds whole numbers "
        "exactly only up to 2**53; math.comb gives exact ints for any K."
        if any(floats)
        else ""
    )
    return (
        f"C(K, ℓ) paths of length ℓ for K = {', '.join(map(str, _PATH_KS))}; 2**K "
        f"in all (16 for the 4 blocks of the lecture's example).{note}"
    )


# --------------------------------------------------------------------------------------
# Exercise: the channels through a dense block (g = growth_rate, D = num_layers)


def _dense_mistakes(c0, g, D):
    right = [c0 + ell * g for ell in range(D + 1)]
    grows = "each layer adds its g new channels to what it received, c0 + ℓ·g"
    return [
        (
            "you left out the block's input: concatenation keeps the c0 input "
            "channels, so entry ℓ is c0 + ℓ·g, not ℓ·g",
            [ell * g for ell in range(D + 1)],
        ),
        (
            "you left out the block's input: concatenation keeps the c0 input "
            "channels (entry ℓ is c0 + ℓ·g), and the list starts with c0",
            [ell * g for ell in range(1, D + 1)],
        ),
        (
            "off by one: the list ends with what enters the last layer; add the "
            "block's output, c0 + num_layers·g (the last layer's g channels are "
            "concatenated too): num_layers + 1 counts in all",
            right[:-1],
        ),
        (
            "off by one: the list starts with c0, the channels entering the first "
            "layer: num_layers + 1 counts in all",
            right[1:],
        ),
        (
            "off by one: num_layers layers give num_layers + 1 counts (what enters "
            "each layer, then the block's output); yours has one too many",
            right + [c0 + (D + 1) * g],
        ),
        (
            "g is a layer's OUTPUT (its g new channels), not a count entering a "
            "layer: in the lecture's 3 -> 32 -> 35 -> 67 the 32 is the first layer's "
            "output; list c0 + ℓ·g only",
            [c0, g, *right[1:]] if D else None,
        ),
        (
            f"multiplied instead of added: {grows}",
            [c0 * g**ell for ell in range(D + 1)],
        ),
        (
            f"doubled at every layer: a layer outputs g channels, not as many as it "
            f"receives; {grows}",
            [c0 * 2**ell for ell in range(D + 1)],
        ),
        (
            "earlier outputs counted again at every layer: each layer's g channels "
            "are concatenated once and then carried along, so entry ℓ is c0 + ℓ·g",
            [c0 + g * ell * (ell + 1) // 2 for ell in range(D + 1)],
        ),
    ]


_DENSE_CASES = [  # (c0, growth_rate, num_layers)
    (3, 32, 4),  # the lecture's example: 3, 35, 67, ...
    (64, 32, 6),  # DenseNet-121's first block: 64 -> 256
    (16, 12, 12),  # DenseNet-40: 16 -> 160
    (5, 7, 1),
    (1, 1, 3),
    (10, 4, 0),  # no layers: the input passes through
]


def _check_dense_case(fn, c0, g, D):
    where = f"c0={c0}, growth_rate={g}, num_layers={D}"
    got = _numbers(call(fn, c0, g, D), where)
    want = [c0 + ell * g for ell in range(D + 1)]
    if got != want:
        raise ExerciseError(
            f"{where}: {_diagnosis(got, want, _dense_mistakes(c0, g, D))}"
        )
    if any(isinstance(n, float) for n in got):
        raise ExerciseError(
            f"{where}: right values, but floats: a channel count becomes nn.Conv2d's "
            "in_channels, which must be an int (np.linspace gives floats; use range "
            "or integer arithmetic)"
        )


@checker("dense_channels")
def check_dense_channels(fn: Callable) -> str:
    """Check ``fn(c0, growth_rate, num_layers)``: the channel counts entering each of
    the num_layers layers of a dense block, then leaving it, as ints: [c0, c0 + g,
    ..., c0 + num_layers·g] with g = growth_rate (num_layers + 1 counts). The
    lecture's DenseNet figure is c0 = 3, g = 32: 3, 35, 67, ..."""
    for case in _DENSE_CASES:
        _check_dense_case(fn, *case)
    return (
        "c0 + ℓ·g channels enter layer ℓ (counting from 0); the block outputs "
        "c0 + num_layers·g (3, 35, 67, 99, 131 for the lecture's c0 = 3, g = 32)."
    )
