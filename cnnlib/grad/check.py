"""Gradient checking: compare a hand-written backward pass with finite differences.

For a function y = f(*inputs) and any fixed array dy shaped like y, the scalar
L = sum(dy * f(*inputs)) has gradient backward(dy) with respect to the inputs: that
is exactly what a backward pass computes. Centred differences estimate the same
gradient one entry at a time,
    dL/da[j] ≈ (L(a[j] + eps) - L(a[j] - eps)) / (2·eps),
with a truncation error of order eps² and a rounding error of order u/eps (u, the
float64 rounding unit, is about 1e-16): together about 1e-10 relative for the
default eps = 1e-6. So relative errors around 1e-8 or below mean the backward pass
is right, and errors near 1 mean it is wrong. Example, for y = x @ w.T:

    import numpy as np
    from cnnlib.grad import check_gradient

    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3)), rng.standard_normal((4, 3))

    def f(x, w):
        return x @ w.T  # (2, 4)

    def backward(dy):  # dy (2, 4) -> (dx, dw)
        return dy @ w, dy.T @ x

    errors = check_gradient(f, (x, w), backward)  # two floats, each below 1e-8
    assert max(errors) < 1e-8

Keep the inputs small: numerical_gradient calls f twice per input entry.
"""

import numbers

import numpy as np

from .._checks import as_float


def relative_error(a, b):
    """a, b (same shape) -> max|a - b| / max(max|a|, max|b|), a float in [0, 2]

    0 when both are all zeros (the denominator never drops below the smallest
    positive float64).
    """
    f64 = np.float64
    a = as_float(a, "relative_error", "a", dtype=f64)
    b = as_float(b, "relative_error", "b", dtype=f64)
    if a.shape != b.shape:
        raise ValueError(
            f"relative_error: a and b must have the same shape, got {a.shape} "
            f"and {b.shape}"
        )
    if a.size == 0:
        return 0.0
    scale = max(np.abs(a).max(), np.abs(b).max(), np.finfo(np.float64).tiny)
    return float(np.abs(a - b).max() / scale)


def _check_inputs(f, inputs, fn):
    if not callable(f):
        raise TypeError(f"{fn}: f must be a function, got {type(f).__name__}")
    if not isinstance(inputs, (tuple, list)):
        raise TypeError(
            f"{fn}: inputs must be a tuple of arrays, one per argument of f, got "
            f"{type(inputs).__name__}; for a single input write (x,)"
        )
    # float64 copies (differences need float64): they are perturbed in place
    return [
        None if a is None else as_float(a, fn, f"inputs[{i}]", dtype=np.float64).copy()
        for i, a in enumerate(inputs)
    ]


def _check_eps(eps, fn):
    if not isinstance(eps, numbers.Real) or isinstance(eps, bool):
        raise TypeError(f"{fn}: eps must be a positive float, got {eps!r}")
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError(f"{fn}: eps must be positive and finite, got {eps!r}")
    return float(eps)


def _loss(f, inputs, dy):
    return float(np.sum(dy * np.asarray(f(*inputs), dtype=np.float64)))


def _difference(f, inputs, i, dy, eps):
    """Centred differences of sum(dy * f(*inputs)) w.r.t. inputs[i], entry by entry"""
    a, grad = inputs[i], np.zeros_like(inputs[i])
    for j in np.ndindex(a.shape):
        old = a[j]
        a[j] = old + eps
        up = _loss(f, inputs, dy)
        a[j] = old - eps
        down = _loss(f, inputs, dy)
        a[j] = old
        grad[j] = (up - down) / (2 * eps)
    return grad


def _check_dy(f, inputs, dy, fn):
    shape = np.shape(f(*inputs))
    dy = as_float(dy, fn, "dy", dtype=np.float64)
    if dy.shape != shape:
        raise ValueError(f"{fn}: dy must have f's output shape {shape}, got {dy.shape}")
    return dy


def numerical_gradient(f, inputs, dy, eps=1e-6):
    """f, inputs (tuple of arrays), dy (f's output shape) -> tuple of gradients

    Gradient of L = sum(dy * f(*inputs)) with respect to each input (each the shape
    of its input) by centred finite differences with step eps. An input given as
    None is passed to f as None and gets None back.
    """
    fn = "numerical_gradient"
    inputs = _check_inputs(f, inputs, fn)
    eps = _check_eps(eps, fn)
    dy = _check_dy(f, inputs, dy, fn)
    return tuple(
        None if a is None else _difference(f, inputs, i, dy, eps)
        for i, a in enumerate(inputs)
    )


def check_gradient(f, inputs, backward, seed=0, eps=1e-6):
    """f, inputs (tuple of arrays), backward (dy -> tuple) -> tuple of relative errors

    Draws a random dy shaped like f(*inputs) (standard normal, seeded), calls
    backward(dy), which must return one gradient per input (or None to skip that
    input), and compares each with numerical_gradient. Returns relative_error for
    every input, None for the skipped ones.
    """
    fn = "check_gradient"
    inputs = _check_inputs(f, inputs, fn)
    if not callable(backward):
        raise TypeError(f"{fn}: backward must be a function of dy")
    eps = _check_eps(eps, fn)
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
        raise TypeError(f"{fn}: seed must be a non-negative int, got {seed!r}")
    dy = np.random.default_rng(seed).standard_normal(np.shape(f(*inputs)))
    grads = backward(dy)
    if not isinstance(grads, (tuple, list)) or len(grads) != len(inputs):
        got = len(grads) if isinstance(grads, (tuple, list)) else type(grads).__name__
        raise ValueError(
            f"{fn}: backward(dy) must return a tuple with one gradient per input "
            f"({len(inputs)}), got {got}"
        )
    errors = []
    for i, (a, g) in enumerate(zip(inputs, grads, strict=True)):
        if g is None or a is None:
            errors.append(None)
            continue
        g = as_float(g, fn, f"gradient {i}", dtype=np.float64)
        if g.shape != a.shape:
            raise ValueError(
                f"{fn}: backward's gradient {i} has shape {g.shape} but input {i} "
                f"has shape {a.shape}"
            )
        errors.append(relative_error(g, _difference(f, inputs, i, dy, eps)))
    return tuple(errors)
