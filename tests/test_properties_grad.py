"""Property tests of cnnlib.grad and cnnlib.norm against torch autograd (float64):
every backward pass is the gradient of sum(dy * forward(...)) for a random dy, in
every layout; max pooling's NaN and tie rules; ReLU's; the dtype policy of the
backward passes; no mutation, no aliasing, caches that are copies; and finite
differences computed in float64."""

from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _strategies import (
    LAYOUTS,
    TOL,
    TOL32,
    Case,
    assert_agrees,
    assert_no_alias,
    assert_unchanged,
    cast,
    conv_cases,
    expected_dtype,
    ints,
    pool_cases,
    rel_error,
    seeds,
    snapshot,
    tensor,
    torch_call,
)
from hypothesis import given
from hypothesis import strategies as st

from cnnlib import grad, norm

torch.set_num_threads(1)

# torch warns that 'same' with an even kernel pads by a copy; harmless here
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")

CONV = {
    # name: (forward, backward, torch reference, spatial dims); the loop versions
    # (*_naive) get smaller shapes
    "conv1d": (grad.conv1d_forward, grad.conv1d_backward, F.conv1d, 1),
    "conv2d": (grad.conv2d_forward, grad.conv2d_backward, F.conv2d, 2),
    "conv1d_naive": (grad.conv1d_forward, grad.conv1d_backward_naive, F.conv1d, 1),
    "conv2d_naive": (grad.conv2d_forward, grad.conv2d_backward_naive, F.conv2d, 2),
}
POOL = {
    "max_pool1d": (grad.max_pool1d_forward, grad.max_pool1d_backward, F.max_pool1d, 1),
    "max_pool2d": (grad.max_pool2d_forward, grad.max_pool2d_backward, F.max_pool2d, 2),
    "avg_pool1d": (grad.avg_pool1d_forward, grad.avg_pool1d_backward, F.avg_pool1d, 1),
    "avg_pool2d": (grad.avg_pool2d_forward, grad.avg_pool2d_backward, F.avg_pool2d, 2),
}
BATCH_NORM_BACKWARDS = {
    "batch_norm_backward": norm.batch_norm_backward,
    "batch_norm_backward_compact": norm.batch_norm_backward_compact,
}
EPS = st.sampled_from([1e-5, 1e-3, 0.1, 1.0])


def random_like(y, seed):
    """A standard-normal dy with y's shape."""
    return np.random.default_rng([seed, 1]).standard_normal(np.shape(y))


def autograd(ref, arrays, dy, **kwargs):
    """-> (ref(*arrays, **kwargs), gradients of sum(dy * ref(...)) for each array)."""
    out, tensors = torch_call(ref, arrays, kwargs, requires_grad=True)
    out.backward(tensor(dy))
    grads = [None if t is None else t.grad for t in tensors]
    return out, grads


def assert_grads_agree(ours, theirs, names, tol=TOL, floor=0.0):
    """One gradient per name; None exactly where torch has no input. floor: see
    rel_error (it applies to the first gradient, dx, only)."""
    assert len(ours) == len(theirs) == len(names)
    for i, (name, a, b) in enumerate(zip(names, ours, theirs, strict=True)):
        if b is None:
            assert a is None, f"{name} must be None"
        else:
            assert_agrees(a, b, tol, what=name, floor=floor if i == 0 else 0.0)


def family_case(name, layout="batched"):
    """The case strategy of a conv or pooling forward/backward pair."""
    if name in CONV:
        return conv_cases(CONV[name][3], layout, small=name.endswith("_naive"))
    return pool_cases(POOL[name][3], layout)


# ------------------------------------------------------ convolution and pooling


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", CONV)
@given(data=st.data())
def test_conv_backward_matches_autograd(name, layout, data):
    """conv*_forward is torch's conv; conv*_backward (and the loop version) give
    torch's dx, dw, db (db None without a bias), for (N, C, *size), (C, *size) and
    N = 0 inputs alike."""
    forward, backward, ref, _ = CONV[name]
    case = data.draw(family_case(name, layout), label="case")
    y, cache = forward(*case.arrays, **case.kwargs)
    dy = random_like(y, case.seed)
    out, expected = autograd(ref, case.arrays, dy, **case.torch_kwargs)
    assert_agrees(y, out)
    assert_grads_agree(backward(dy, cache), expected, ("dx", "dw", "db"))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", POOL)
@given(data=st.data())
def test_pool_backward_matches_autograd(name, layout, data):
    """Pooling forward passes are torch's, and their backward passes give torch's
    dx, in every layout."""
    forward, backward, ref, _ = POOL[name]
    case = data.draw(family_case(name, layout), label="case")
    y, cache = forward(case.x, **case.kwargs)
    dy = random_like(y, case.seed)
    out, (dx,) = autograd(ref, case.arrays, dy, **case.torch_kwargs)
    assert_agrees(y, out)
    assert_agrees(backward(dy, cache), dx, what="dx")


# a few distinct values: windows hold their maximum more than once, hold NaN (one or
# several), or hold only -inf next to the -inf padding
SPECIAL = np.array([np.nan, -np.inf, np.inf, -1.0, 0.0, 1.0, 2.0])


@pytest.mark.parametrize("name", ["max_pool1d", "max_pool2d"])
@given(data=st.data(), weights=st.lists(st.integers(0, 3), min_size=7, max_size=7))
def test_max_pool_nan_and_tie_rules_match_torch(name, data, weights):
    """A window holding NaN gives NaN and sends its gradient to its LAST NaN; ties
    go to the first maximum; the -inf padding gets nothing: torch's CPU rules."""
    forward, backward, ref, nd = POOL[name]
    case = data.draw(pool_cases(nd, small=True), label="case")
    p = np.array(weights, dtype=float) + 1e-3  # how often each special value comes
    rng = np.random.default_rng(case.seed)
    x = rng.choice(SPECIAL, size=case.x.shape, p=p / p.sum())
    y, cache = forward(x, **case.kwargs)
    dy = random_like(y, case.seed)
    out, (dx,) = autograd(ref, [x], dy, **case.torch_kwargs)
    assert_agrees(y, out)
    assert_agrees(backward(dy, cache), dx, what="dx")


# ----------------------------------------------------------------------- layers


@st.composite
def relu_inputs(draw):
    """x of any shape (0-D to 3-D, empty axes included), with NaN, ±inf and 0."""
    shape = draw(st.lists(st.integers(0, 4), max_size=3))
    rng = np.random.default_rng(draw(seeds))
    x = rng.standard_normal(shape)
    special = rng.random(shape) < 0.4  # replace ~40 % by the special values
    return np.where(special, rng.choice(SPECIAL, size=shape), x)


@given(x=relu_inputs())
def test_relu_matches_torch(x):
    """y = max(x, 0) with NaN staying NaN; dx = 0 where x <= 0, dy elsewhere (NaN
    inputs pass their gradient on), as torch.relu and its autograd."""
    y, cache = grad.relu_forward(x)
    dy = random_like(x, 0)
    out, (dx,) = autograd(torch.relu, [x], dy)
    assert_agrees(y, out)
    assert_agrees(grad.relu_backward(dy, cache), dx, what="dx")


@st.composite
def linear_cases(draw):
    """x (*, in_features) with 0 to 2 leading axes (possibly empty), w (out, in),
    b (out,) or None."""
    lead = draw(st.lists(st.integers(0, 3), max_size=2))
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    seed = draw(seeds)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((*lead, n_in))
    w = rng.standard_normal((n_out, n_in))
    b = rng.standard_normal(n_out) if draw(st.booleans()) else None
    return Case([x, w, b], seed=seed)


@given(case=linear_cases())
def test_linear_matches_autograd(case):
    """linear_forward is F.linear; linear_backward gives torch's dx, dw, db."""
    y, cache = grad.linear_forward(*case.arrays)
    dy = random_like(y, case.seed)
    out, expected = autograd(F.linear, case.arrays, dy)
    assert_agrees(y, out)
    assert_grads_agree(grad.linear_backward(dy, cache), expected, ("dx", "dw", "db"))


@given(
    n=st.integers(1, 4),
    c=st.integers(1, 5),
    scale=st.sampled_from([1.0, 30.0]),
    seed=seeds,
)
def test_softmax_cross_entropy_matches_torch(n, c, scale, seed):
    """logits (N, C), targets (N,) -> torch's mean cross-entropy and its gradient;
    large logits (scale 30) must not overflow."""
    rng = np.random.default_rng(seed)
    logits, targets = scale * rng.standard_normal((n, c)), rng.integers(0, c, n)
    loss, dlogits = grad.softmax_cross_entropy(logits, targets)
    t = tensor(logits, requires_grad=True)
    expected = F.cross_entropy(t, torch.from_numpy(targets))
    expected.backward()
    assert abs(loss - expected.item()) <= TOL * max(1.0, abs(expected.item()))
    # dlogits = (p - onehot) / N: where p is 1 - 1e-7 both round p - 1 to 1e-16 of
    # the terms (1 / N), not of the tiny difference
    assert_agrees(dlogits, t.grad, what="dlogits", floor=1.0 / n)


# ------------------------------------------------------------------ batch norm


@st.composite
def batch_norm_cases(draw, layout="batched"):
    """x (N, C, *S) with 0 to 2 spatial axes and at least 2 values per channel (N = 0
    for the "empty" layout), gamma and beta (C,) or None, eps in kwargs."""
    spatial = draw(st.lists(st.integers(1, 3), max_size=2))
    n = 0 if layout == "empty" else draw(st.integers(1, 4))
    if 0 < n * int(np.prod(spatial)) < 2:
        n = 2  # training needs two values per channel (torch's rule)
    c = draw(st.integers(1, 3))
    seed = draw(seeds)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, *spatial)) * draw(st.sampled_from([1.0, 10.0]))
    gamma = rng.standard_normal(c) if draw(st.booleans()) else None
    beta = rng.standard_normal(c) if draw(st.booleans()) else None
    return Case([x, gamma, beta], dict(eps=draw(EPS)), seed=seed)


def torch_batch_norm(x, gamma, beta, eps):
    return F.batch_norm(x, None, None, gamma, beta, training=True, eps=eps)


@pytest.mark.parametrize("layout", ["batched", "empty"])
@pytest.mark.parametrize("backward", BATCH_NORM_BACKWARDS)
@given(data=st.data())
def test_batch_norm_matches_autograd(backward, layout, data):
    """batch_norm_forward is torch's training-mode batch norm; both backward passes
    give torch's dx, dgamma, dbeta (None where gamma/beta were None); an empty batch
    gives an empty dx and zero dgamma, dbeta."""
    case = data.draw(batch_norm_cases(layout), label="case")
    y, cache = norm.batch_norm_forward(*case.arrays, **case.kwargs)
    dy = random_like(y, case.seed)
    out, expected = autograd(torch_batch_norm, case.arrays, dy, **case.kwargs)
    assert_agrees(y, out)
    grads = BATCH_NORM_BACKWARDS[backward](dy, cache)
    floor = batch_norm_scale(cache, dy)
    assert_grads_agree(grads, expected, ("dx", "dgamma", "dbeta"), floor=floor)


def batch_norm_scale(cache, dy):
    """The size of the terms of dx = gamma / sigma · (dy - mean(dy) - x_hat ·
    mean(dy · x_hat)): they cancel exactly when x_hat spans dy's space (m = 2 values
    per channel gives x_hat = ±1), leaving a dx of order eps / var that no two
    float64 computations agree on to 1e-10 of itself, only of these terms."""
    if dy.size == 0:
        return 0.0
    gamma = 1.0 if cache.gamma is None else max(1.0, np.abs(cache.gamma).max())
    return float(np.abs(dy).max() * gamma / cache.sigma.min())


@st.composite
def eval_cases(draw):
    """x (N, C, *S) (any N, even 1), running mean and var (C,), gamma, beta."""
    case = draw(batch_norm_cases())
    x, gamma, beta = case.arrays
    rng = np.random.default_rng([case.seed, 2])
    c = x.shape[1]
    mean, var = rng.standard_normal(c), rng.random(c) * 2
    return replace(case, arrays=[x[:1] if draw(st.booleans()) else x, mean, var])


@given(case=eval_cases(), data=st.data())
def test_batch_norm_eval_matches_torch(case, data):
    """batch_norm_eval is torch's eval-mode batch norm; batch_norm_eval_backward
    gives torch's dx, dgamma, dbeta (the running statistics are constants)."""
    x, mean, var = case.arrays
    c, rng = x.shape[1], np.random.default_rng(case.seed)
    gamma = rng.standard_normal(c) if data.draw(st.booleans()) else None
    beta = rng.standard_normal(c) if data.draw(st.booleans()) else None
    eps = case.kwargs["eps"]
    y = norm.batch_norm_eval(x, mean, var, gamma, beta, eps)
    dy = random_like(y, case.seed)
    # only x, gamma and beta are variables: the running statistics are buffers
    t_x, t_gamma, t_beta = [
        None if a is None else tensor(a, requires_grad=True) for a in (x, gamma, beta)
    ]
    out = F.batch_norm(t_x, tensor(mean), tensor(var), t_gamma, t_beta, eps=eps)
    out.backward(tensor(dy))
    dx, dgamma, dbeta = [None if t is None else t.grad for t in (t_x, t_gamma, t_beta)]
    assert_agrees(y, out)
    grads = norm.batch_norm_eval_backward(dy, x, mean, var, gamma, beta, eps)
    assert_grads_agree(grads, [dx, dgamma, dbeta], ("dx", "dgamma", "dbeta"))


@given(
    case=batch_norm_cases(),
    momentum=st.sampled_from([None, 0.0, 0.1, 0.5, 1.0]),
    count=st.integers(1, 5),
)
def test_update_running_stats_matches_torch(case, momentum, count):
    """torch's running averages: momentum·batch + (1 - momentum)·old with the
    unbiased batch variance; momentum=None averages over `count` batches."""
    x = case.x
    axes, c = (0, *range(2, x.ndim)), x.shape[1]
    rng = np.random.default_rng(case.seed)
    old_mean, old_var = rng.standard_normal(c), rng.random(c) + 0.5
    mu, var, m = x.mean(axis=axes), x.var(axis=axes), x.size // c
    new = norm.update_running_stats(old_mean, old_var, mu, var, m, momentum, count)
    mean_t, var_t = tensor(old_mean), tensor(old_var)
    # torch's module passes 1 / num_batches_tracked for momentum=None
    factor = 1.0 / count if momentum is None else momentum
    F.batch_norm(tensor(x), mean_t, var_t, training=True, momentum=factor)
    assert_agrees(new[0], mean_t, what="running_mean")
    assert_agrees(new[1], var_t, what="running_var")


# ------------------------------------------------------------------ dtype policy


PAIRS = [*CONV, *POOL, "relu", "linear", *BATCH_NORM_BACKWARDS]


def pair_case(name):
    """A strategy of (forward, backward, case) for every forward/backward pair."""
    if name in CONV or name in POOL:
        forward, backward = (CONV.get(name) or POOL[name])[:2]
        cases = family_case(name)
    elif name == "relu":
        forward, backward = grad.relu_forward, grad.relu_backward
        cases = relu_inputs().map(lambda x: Case([x]))
    elif name == "linear":
        forward, backward = grad.linear_forward, grad.linear_backward
        cases = linear_cases()
    else:
        forward, backward = norm.batch_norm_forward, BATCH_NORM_BACKWARDS[name]
        cases = batch_norm_cases()
    return cases.map(lambda case: (forward, backward, case))


def as_tuple(grads):
    return grads if isinstance(grads, tuple) else (grads,)


@pytest.mark.parametrize("name", PAIRS)
@given(
    data=st.data(),
    forward_dtype=st.sampled_from([np.float32, np.float64, np.int64, np.bool_]),
    dy_dtype=st.sampled_from([np.float32, np.float64]),
)
def test_backward_dtype_policy(name, data, forward_dtype, dy_dtype):
    """The gradients' dtype is the policy applied to the forward output's and dy's
    dtypes (float32 forward + float32 dy -> float32, any float64 -> float64); their
    values match the float64 computation to float32 precision."""
    forward, backward, case = data.draw(pair_case(name), label="case")
    arrays = [None if a is None else cast(a, forward_dtype) for a in case.arrays]
    y, cache = forward(*arrays, **case.kwargs)
    assert y.dtype == expected_dtype(forward_dtype), "forward dtype"
    dy = random_like(y, case.seed).astype(dy_dtype)
    grads = as_tuple(backward(dy, cache))
    want = expected_dtype(y.dtype, dy_dtype)
    # the reference: the same values (all exact in float64) computed in float64
    exact = [None if a is None else a.astype(np.float64) for a in arrays]
    _, cache64 = forward(*exact, **case.kwargs)
    reference = as_tuple(backward(dy.astype(np.float64), cache64))
    # a float32 forward pass rounds what it caches, even when dy is float64
    tol = TOL32 if np.float32 in (y.dtype, dy_dtype) else TOL
    floor = batch_norm_scale(cache64, dy) if "batch_norm" in name else 0.0
    for i, (g, r) in enumerate(zip(grads, reference, strict=True)):
        if g is not None:
            assert g.dtype == want, (i, g.dtype, want)
            assert_agrees(g, r, tol, f"gradient {i}", floor if i == 0 else 0.0)


# ------------------------------------- no mutation, no aliasing, copied caches


def mutate(arrays):
    """Change every array in place (as a caller reusing its buffers might)."""
    for a in arrays:
        if isinstance(a, np.ndarray) and a.size:
            a[...] = -a - 1


@pytest.mark.parametrize("name", PAIRS)
@given(data=st.data())
def test_passes_neither_mutate_nor_alias_and_caches_are_copies(name, data):
    """Forward and backward passes leave x, w, b, gamma, dy unchanged; y and the
    gradients share memory with no input, no cache array and no other output; and
    changing the caller's arrays (and y) after the forward pass changes nothing in
    the backward pass."""
    forward, backward, case = data.draw(pair_case(name), label="case")
    arrays, copies = case.arrays, snapshot(*case.arrays)
    y, cache = forward(*arrays, **case.kwargs)
    assert_unchanged(arrays, copies)
    cached = [a for a in cache if isinstance(a, np.ndarray)]
    assert_no_alias([y], [*arrays, *cached])
    dy = random_like(y, case.seed)
    dy_copy = dy.copy()
    expected = as_tuple(backward(dy, forward(*copies, **case.kwargs)[1]))
    mutate([*arrays, y])
    grads = as_tuple(backward(dy, cache))
    assert_unchanged([dy], [dy_copy])
    assert_no_alias(list(grads), [dy, y, *arrays, *cached])
    for i, (g, e) in enumerate(zip(grads, expected, strict=True)):
        if e is not None:
            np.testing.assert_array_equal(g, e, err_msg=f"gradient {i}")


@given(case=eval_cases())
def test_batch_norm_eval_neither_mutates_nor_aliases(case):
    """batch_norm_eval and its backward pass return new arrays, inputs unchanged."""
    x, mean, var = case.arrays
    gamma, beta = mean + 1, var - 1  # any (C,) arrays
    args = [x, mean, var, gamma, beta]
    copies = snapshot(*args)
    y = norm.batch_norm_eval(*args, case.kwargs["eps"])
    dy = random_like(y, case.seed)
    grads = norm.batch_norm_eval_backward(dy, *args, case.kwargs["eps"])
    assert_unchanged([*args, dy], [*copies, random_like(y, case.seed)])
    assert_no_alias([y, *grads], [*args, dy])


@given(n=st.integers(1, 3), c=st.integers(1, 4), seed=seeds)
def test_softmax_cross_entropy_neither_mutates_nor_aliases(n, c, seed):
    rng = np.random.default_rng(seed)
    logits, targets = rng.standard_normal((n, c)), rng.integers(0, c, n)
    copies = snapshot(logits, targets)
    _, dlogits = grad.softmax_cross_entropy(logits, targets)
    assert_unchanged([logits, targets], copies)
    assert_no_alias([dlogits], [logits, targets])


@given(case=batch_norm_cases(), momentum=st.sampled_from([0.0, 0.1, 1.0]))
def test_update_running_stats_returns_new_arrays(case, momentum):
    """Even momentum 0 or 1 (new == old or new == batch) gives fresh arrays."""
    c, rng = case.x.shape[1], np.random.default_rng(case.seed)
    args = [
        rng.standard_normal(c),
        rng.random(c),
        rng.standard_normal(c),
        rng.random(c),
    ]
    copies = snapshot(*args)
    new = norm.update_running_stats(*args, 4, momentum)
    assert_unchanged(args, copies)
    assert_no_alias(list(new), args)


# ------------------------------------------------------------ finite differences


@given(
    shape=st.lists(st.integers(1, 3), min_size=1, max_size=2),
    seed=seeds,
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_numerical_gradient_computes_in_float64(shape, seed, dtype):
    """f sees float64 copies; the gradient is float64, the same as for float64 x and
    dy, and accurate (in float32 a step of 1e-6 would be lost to rounding)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    seen = []

    def cube(a):
        seen.append(a.dtype)
        return a**3

    copy = x.copy()
    (g,) = grad.numerical_gradient(cube, (x,), dy)
    assert set(seen) == {np.dtype(np.float64)} and g.dtype == np.float64
    np.testing.assert_array_equal(x, copy)
    x64, dy64 = x.astype(np.float64), dy.astype(np.float64)
    np.testing.assert_array_equal(g, grad.numerical_gradient(cube, (x64,), dy64)[0])
    # the centred difference of x³ with step h is 3x² + h² exactly
    assert rel_error(g, (3 * x64**2 + 1e-12) * dy64) < 1e-6


@given(
    n=st.integers(1, 3),
    sizes=ints(2, 1, 3),
    seed=seeds,
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_check_gradient_computes_in_float64(n, sizes, seed, dtype):
    """check_gradient passes float64 inputs and a float64 dy, so a right backward
    pass scores far below float32's precision even for float32 inputs."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, sizes[0])).astype(dtype)
    w = rng.standard_normal((sizes[1], sizes[0])).astype(dtype)
    seen = []

    def f(x, w):  # (n, in), (out, in) -> (n, out)
        seen.extend([x.dtype, w.dtype])
        return x @ w.T

    def backward(dy):
        seen.append(dy.dtype)
        return dy @ w.astype(np.float64), dy.T @ x.astype(np.float64)

    copies = snapshot(x, w)
    errors = grad.check_gradient(f, (x, w), backward, seed=seed % 1000)
    assert_unchanged([x, w], copies)  # it perturbs float64 copies, not x and w
    assert set(seen) == {np.dtype(np.float64)}
    assert max(errors) < 1e-8, errors
