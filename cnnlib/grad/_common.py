"""Checks shared by the backward passes: the cache and dy must fit the forward call.

A backward pass handed the wrong cache, or a dy of the wrong shape, would otherwise
fail deep inside numpy ("operands could not be broadcast ...") or, worse, return a
gradient of the wrong size silently.
"""

from .._checks import as_array, float_dtype


def check_cache(cache, cls, fn, op=None):
    """cache must be a `cls` (from `op`_forward when the class serves several ops)."""
    source = f"{op}_forward" if op else fn.replace("_backward", "_forward")
    if isinstance(cache, cls) and (op is None or cache.op == op):
        return cache
    got = type(cache).__name__
    if hasattr(cache, "op"):
        got += f" from {cache.op}_forward"
    raise TypeError(
        f"{fn}: cache must be the {cls.__name__} that {source} returns, got {got}"
    )


def check_dy(dy, shape, fn, *cached, forward_dtype=None):
    """dy -> float array with the forward output's shape, in the dtype that the
    policy of cnnlib._checks gives dy with the `cached` forward arrays and the
    forward pass's dtype (float32 when all are float32), followed by those arrays
    in that dtype."""
    dy = as_array(dy, fn, "dy")
    if dy.shape != tuple(shape):
        raise ValueError(
            f"{fn}: dy must have the shape of the forward output {tuple(shape)}, "
            f"got {dy.shape}"
        )
    dtype = float_dtype(dy, *cached, *([forward_dtype] if forward_dtype else []))
    arrays = [a.astype(dtype, copy=False) for a in (dy, *cached)]
    return arrays if cached else arrays[0]


def crop(x_pad, pads, size):
    """x_pad (N, C, *(size + lo + hi)) -> (N, C, *size): drops the padded border"""
    keep = [slice(lo, lo + n) for (lo, _), n in zip(pads, size, strict=True)]
    return x_pad[(slice(None), slice(None), *keep)]
