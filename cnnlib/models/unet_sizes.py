"""Which input sizes the paper's valid (unpadded) U-Net can take, and the size of
every level on the way down and up.

Per spatial axis, with depth d (d poolings): each :class:`DoubleConv` takes 4 pixels
off, each 2x2 pooling halves (and must see an even size, else it drops the last row
and the cropped skip no longer lines up with the upsampled map), each up-convolution
doubles. For d = 4: 572 -> 570 -> 568 -> 284 -> 282 -> 280 -> 140 -> 138 -> 136 -> 68
-> 66 -> 64 -> 32 -> 30 -> 28 (the bottom) -> 56 -> 54 -> 52 -> 104 -> 102 -> 100 ->
200 -> 198 -> 196 -> 392 -> 390 -> 388. With b the bottom's size, the input is
2^d b + 4 (2^(d+1) - 1) and the output 2^d b - 4 (2^d - 1), so the sizes that fit are
those = -4 mod 2^d from the first whose output is >= 1: for d = 4, 16 k + 12 from 188
(out 4) on: ..., 556, 572, 588, ...
"""

from __future__ import annotations

from .lenet import check_int


def _walk(n: int, depth: int) -> tuple[list[tuple[str, int]], str | None]:
    """-> ([(step, size)], problem): the sizes along the valid U-Net for an input of
    size n, up to the first problem (None when there is none)."""
    steps = [("input", n)]
    s = n
    for i in range(depth + 1):
        block = f"down{i}" if i else "inc"
        if i:
            if s % 2:
                return steps, (
                    f"the 2x2 max pooling of {block} would see {s}, an odd size (it "
                    "would drop the last row and the cropped skip would no longer line "
                    "up with the upsampled map)"
                )
            s //= 2
            steps.append((f"{block}.pool", s))
        for j in (1, 2):
            s -= 2
            steps.append((f"{block}.conv{j}", s))
    for i in range(1, depth + 1):
        s *= 2
        steps.append((f"up{i}.up", s))
        for j in (1, 2):
            s -= 2
            steps.append((f"up{i}.conv{j}", s))
    bad = [(step, size) for step, size in steps if size < 1]
    if bad:
        step, size = bad[0]
        return steps, f"{step} would leave {size} pixels (the output needs >= 1)"
    return steps, None


def unet_size_steps(input_size: int, depth: int = 4) -> list[tuple[str, int]]:
    """input size -> [(step, size)] along one axis of the valid U-Net, from
    ``("input", 572)``, ``("inc.conv1", 570)``, ... to ``("up4.conv2", 388)``.

    Steps are named after the modules of :class:`~cnnlib.models.UNet`: ``inc.conv1``
    and ``inc.conv2`` (its two 3x3 convolutions), then ``downI.pool``,
    ``downI.conv1``, ``downI.conv2`` for I = 1..depth, then ``upI.up`` (the
    upsampling; the skip is cropped to this size), ``upI.conv1``, ``upI.conv2``.
    ValueError when the size does not fit, naming the nearest sizes that do.
    """
    check_int("unet_sizes", "input_size", input_size)
    check_int("unet_sizes", "depth", depth)
    steps, problem = _walk(input_size, depth)
    if problem:
        raise ValueError(
            misfit_message(f"unet_sizes: input_size {input_size}", input_size, depth)
        )
    return steps


def unet_sizes(input_size: int, depth: int = 4) -> list[int]:
    """input size -> the sizes along one axis of the valid U-Net, input first and
    output last: ``unet_sizes(572)`` is [572, 570, 568, 284, ..., 390, 388]
    (3 + 6 depth numbers; :func:`unet_size_steps` names each)."""
    return [size for _, size in unet_size_steps(input_size, depth)]


def fits(n: int, depth: int) -> bool:
    """Whether the valid U-Net of this depth takes size n along an axis."""
    return n >= 1 and _walk(n, depth)[1] is None


def valid_input_sizes(max_size: int = 600, depth: int = 4) -> list[int]:
    """-> the sizes 1..max_size that the valid U-Net of this depth takes (per axis):
    every pooling sees an even size and the output is >= 1. For depth 4:
    [188, 204, ..., 556, 572, 588] (16 k + 12 from 188)."""
    check_int("valid_input_sizes", "max_size", max_size)
    check_int("valid_input_sizes", "depth", depth)
    return [n for n in range(1, max_size + 1) if fits(n, depth)]


def nearest_valid_sizes(n: int, depth: int) -> tuple[int | None, int]:
    """-> (the largest size below n that fits or None, the smallest above n)."""
    below = next((m for m in range(n - 1, 0, -1) if fits(m, depth)), None)
    above = n + 1
    while not fits(above, depth):  # fitting sizes recur every 2^depth
        above += 1
    return below, above


def misfit_message(prefix: str, n: int, depth: int) -> str:
    """'<prefix> does not fit ...: <problem>; the nearest sizes that fit are ...'."""
    problem = _walk(n, depth)[1] if n >= 1 else "sizes start at 1"
    below, above = nearest_valid_sizes(max(n, 1), depth)
    if below is None:
        near = f"the smallest size that fits is {above}"
    else:
        near = f"the nearest sizes that fit are {below} and {above}"
    return (
        f"{prefix} does not fit the valid (unpadded) U-Net of depth {depth}: "
        f"{problem}; {near} (see "
        f"valid_input_sizes(depth={depth}), or use valid=False for any size)"
    )
