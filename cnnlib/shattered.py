"""Shattered gradients (chapter 08; Balduzzi et al. 2017): how the gradient dy/dx of
a randomly initialised ReLU network with one input and one output changes as x moves.

The experiment, after the paper's figures 1 and 2: a fully connected network of
width n = 200 maps a scalar x to a scalar y; x runs over 256 evenly spaced points of
[-2, 2]; nothing is trained. A shallow network's gradient is a random walk in x
("brown noise": neighbouring values agree); the paper shows that a deep plain
network's gradient looks like white noise (neighbours unrelated, "shattered"),
while a residual network's keeps much of its correlation.

The network (the paper does not give every detail; the choices below are ours):

- stem: h = φ(W_0 x + b_0), W_0 (n, 1), φ = ReLU;
- ``depth`` blocks D, each one of
  plain:     h <- φ(BN(W h))
  residual:  h <- h + W_2 φ(BN(W_1 h))   (weight, batch norm, ReLU, weight)
  where BN is batch norm (statistics over the 256 grid points, γ = 1, β = 0) with
  ``batch_norm=True`` and the identity without it;
- head: y = w_out · h.

Weights are He-normal, N(0, 2 / fan-in) (the head's N(0, 1 / fan-in): no ReLU
follows it; its scale does not change any correlation). The stem's biases are
N(0, 1), so that its n kinks, at x = -b_0 / W_0, spread over the input range (about
78% of them inside [-2, 2]); every other bias is 0 (before batch norm a bias would
be subtracted anyway). With every bias 0 the network is positively homogeneous,
y(c x) = c y(x) for c > 0, so its gradient takes two values, one for x < 0 and one
for x > 0, at any depth: correlation 0.99 in our runs, nothing to see.

Batch norm's statistics are computed once, on the grid, and then held fixed: the
gradient is that of y_i with respect to its own x_i, the network as it is for this
batch (as after setting the running statistics to the grid's). Differentiating
through the statistics too would mix every point's output into every gradient.

Measured (``gradient_correlations``, mean over seeds 0-9, float64; depth 0 is the
stem alone, one hidden layer):

    depth                      0     1     2     5    10    20    50
    plain,    batch norm    0.98  0.95  0.90  0.76  0.31 -0.07  0.00
    residual, batch norm    0.98  0.95  0.95  0.91  0.84  0.78  0.64
    plain,    no batch norm 0.98  0.98  0.97  0.96  0.93  0.89  0.81
    residual, no batch norm 0.98  0.97  0.97  0.97  0.96  0.90  0.81

With batch norm the plain network shatters by depth 20 (seeds 0-9: at most 0.08 at
depth 20 and 50) while the residual one keeps most of its correlation (at least
0.72 at depth 20, 0.55 at depth 50), as in the paper. Without batch norm neither
shatters much up to depth 50, and plain is no worse than residual: deep plain ReLU
networks at He initialisation map all inputs to ever more similar hidden vectors,
units switch on and off together for nearly every x, and the gradient stays smooth.
Batch norm centres every unit over the inputs, so each is active for about half of
them, and that is what lets a plain network's gradients shatter here (the paper
discusses this co-activation too). The choice of residual block matters as well:
h <- h + φ(BN(W h)), one layer per block, kept 0.91 at depth 50 in our runs, the
two-layer block above 0.64.
"""

from __future__ import annotations

import numpy as np
import torch

from ._checks import as_float, check_int

X_RANGE = (-2.0, 2.0)  # the paper's input range
BN_EPS = 1e-5  # δ, as torch's BatchNorm1d


def _check_flag(v, fn, name):
    if not isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{fn}: {name} must be True or False, got {v!r}")
    return bool(v)


def _check_network_args(fn, depth, residual, width, points, batch_norm, seed, dtype):
    depth = check_int(depth, 0, fn, "depth")
    width = check_int(width, 1, fn, "width")
    points = check_int(points, 3, fn, "points")
    seed = check_int(seed, 0, fn, "seed")
    residual = _check_flag(residual, fn, "residual")
    batch_norm = _check_flag(batch_norm, fn, "batch_norm")
    if dtype not in (torch.float32, torch.float64):
        raise TypeError(
            f"{fn}: dtype must be torch.float32 or torch.float64, got {dtype!r}"
        )
    return depth, residual, width, points, batch_norm, seed


def _he_normal(fan_out, fan_in, gen, gain=2.0):
    """-> W (fan_out, fan_in), N(0, gain / fan_in), as torch's nn.Linear.weight."""
    w = torch.randn(fan_out, fan_in, generator=gen, dtype=torch.float64)
    return w * np.sqrt(gain / fan_in)


def _parameters(depth, residual, width, seed, dtype):
    """The stem (W_0, b_0), one tuple of weights per block, the head w_out; drawn in
    float64 from one seeded generator, so float32 gets the same numbers rounded."""
    gen = torch.Generator().manual_seed(seed)
    w0 = _he_normal(width, 1, gen)  # (n, 1)
    b0 = torch.randn(width, generator=gen, dtype=torch.float64)  # (n,), N(0, 1)
    per_block = 2 if residual else 1
    blocks = [
        tuple(_he_normal(width, width, gen) for _ in range(per_block))
        for _ in range(depth)
    ]
    head = _he_normal(1, width, gen, gain=1.0)

    def cast(ws):
        return tuple(w.to(dtype) for w in ws)

    return cast((w0, b0)), [cast(ws) for ws in blocks], head.to(dtype)


def _batch_norm(z, stats, i):
    """z (N, n) -> (z - μ) / sqrt(var + δ), with the i-th recorded (μ, var); records
    them from z (biased variance, as training mode) when there are not yet i + 1."""
    if len(stats) == i:
        stats.append((z.mean(0).detach(), z.var(0, unbiased=False).detach()))
    mu, var = stats[i]
    return (z - mu) / torch.sqrt(var + BN_EPS)


def _forward(params, x, residual, batch_norm, stats):
    """x (N,) -> y (N,); batch norm uses (and on the first call records) stats."""
    (w0, b0), blocks, head = params
    h = torch.relu(x[:, None] @ w0.T + b0)  # (N, n)
    for i, ws in enumerate(blocks):
        z = h @ ws[0].T  # (N, n)
        if batch_norm:
            z = _batch_norm(z, stats, i)
        if residual:
            h = h + torch.relu(z) @ ws[1].T  # the skip adds the branch
        else:
            h = torch.relu(z)
    return (h @ head.T)[:, 0]  # (N,)


def grid(points=256, dtype=torch.float64):
    """-> x (points,): evenly spaced over X_RANGE = [-2, 2], ends included."""
    points = check_int(points, 3, "grid", "points")
    return torch.linspace(*X_RANGE, points, dtype=dtype)


def _network(fn, depth, residual, width, points, batch_norm, seed, dtype):
    depth, residual, width, points, batch_norm, seed = _check_network_args(
        fn, depth, residual, width, points, batch_norm, seed, dtype
    )
    params = _parameters(depth, residual, width, seed, dtype)
    stats = []
    with torch.no_grad():
        _forward(params, grid(points, dtype), residual, batch_norm, stats)

    def f(x):
        return _forward(params, x, residual, batch_norm, stats)

    return f


def make_network(
    depth,
    residual,
    width=200,
    points=256,
    batch_norm=False,
    seed=0,
    dtype=torch.float64,
):
    """-> f: x (N,) tensor of ``dtype`` -> y (N,): the network of
    :func:`input_gradients`, at initialisation, with batch norm's statistics those
    of the grid (held fixed, so f(x) is a function of each x alone and can be
    evaluated anywhere, e.g. for finite differences)."""
    return _network(
        "make_network", depth, residual, width, points, batch_norm, seed, dtype
    )


def input_gradients(
    depth,
    residual,
    width=200,
    points=256,
    batch_norm=False,
    seed=0,
    dtype=torch.float64,
):
    """-> x (points,), grad (points,) as NumPy arrays: dy/dx on the grid over [-2, 2].

    ``depth`` blocks (0: the stem alone, one hidden layer of ``width`` ReLUs), plain
    or ``residual``, with or without ``batch_norm``; the network and its settings
    are described in the module docstring. Same seed, same arrays, whatever the
    global random state (the weights come from a torch.Generator of their own).
    """
    fn = "input_gradients"
    f = _network(fn, depth, residual, width, points, batch_norm, seed, dtype)
    x = grid(points, dtype).requires_grad_()
    # y_i depends on x_i alone (fixed statistics), so the gradient of the sum
    # holds every dy_i / dx_i
    (grad,) = torch.autograd.grad(f(x).sum(), x)
    return x.detach().numpy(), grad.numpy()


def gradient_correlation(grad):
    """grad (N,), N >= 3 -> Pearson correlation of neighbours, corr(grad[:-1],
    grad[1:]): near 1 for a smooth ("brown") gradient, near 0 for white noise."""
    fn = "gradient_correlation"
    g = as_float(grad, fn, "grad", np.float64)
    if g.ndim != 1 or len(g) < 3:
        raise ValueError(
            f"{fn}: grad must be 1-D with at least 3 entries, got shape {g.shape}"
        )
    if not np.isfinite(g).all():
        raise ValueError(f"{fn}: grad holds NaN or infinite values")
    a, b = g[:-1], g[1:]
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        raise ValueError(
            f"{fn}: grad is constant (over grad[:-1] or grad[1:]), so the "
            "correlation is undefined"
        )
    a, b = a - a.mean(), b - b.mean()
    return float(a @ b / np.sqrt((a @ a) * (b @ b)))


def gradient_correlations(depths, residual, seeds=(0, 1, 2), **kw):
    """depths (K,) -> (K,): :func:`gradient_correlation` averaged over ``seeds`` for
    each depth; ``kw`` go to :func:`input_gradients` (width, batch_norm, ...)."""
    depths, seeds = list(depths), list(seeds)
    if not depths or not seeds:
        raise ValueError("gradient_correlations: depths and seeds must not be empty")

    def corr(depth, seed):
        _, grad = input_gradients(depth, residual, seed=seed, **kw)
        return gradient_correlation(grad)

    return np.array([np.mean([corr(d, s) for s in seeds]) for d in depths])
