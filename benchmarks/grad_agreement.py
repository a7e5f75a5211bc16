"""How closely do cnnlib's hand-written gradients agree with torch autograd in float64?

Sweeps random configurations (shapes, stride, padding, dilation, groups, bias) for
every backward pass in cnnlib.grad, and for the autograd Functions of cnnlib.nn that
wrap them, and prints per op the largest relative error
max|ours - torch| / max(max|ours|, max|torch|) of each gradient (cnnlib.grad's
relative_error); for the cross-entropy rows dx is the gradient of the logits, for
the batch-norm rows (cnnlib.norm) dw and db are dgamma and dbeta. The
"(ties)" rows draw inputs from {-1, 0, 1, -inf}, so most windows hold their maximum
more than once and torch's tie rule is tested. Exits with status 1 if any relative
error exceeds 1e-10.

    python benchmarks/grad_agreement.py [--seed 0] [--per-op 200]
"""

import argparse
import sys
import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch_agreement import conv_case, pool_case

import cnnlib.grad as G
import cnnlib.nn as cnn
import cnnlib.norm as norm

TOL = 1e-10
GRADS = ("dx", "dw", "db")


def _t(a, grad=True):
    return None if a is None else torch.tensor(a, requires_grad=grad)


def torch_grads(f, arrays, dy, *args, **kwargs):
    """gradients of sum(dy * f(*arrays)) by torch autograd, None for None inputs"""
    tensors = [_t(a) for a in arrays]
    f(*tensors, *args, **kwargs).backward(torch.as_tensor(dy))
    return [None if t is None else t.grad.numpy() for t in tensors]


def grad_case(forward, backward, torch_fn, make):
    """A run(rng) -> (our gradients, torch's) for a forward/backward pair."""

    def run(rng):
        arrays, kwargs = make(rng)
        y, cache = forward(*arrays, **kwargs)
        dy = rng.standard_normal(y.shape)
        ours = backward(dy, cache)
        ours = ours if isinstance(ours, tuple) else (ours,)
        return ours, torch_grads(torch_fn, arrays, dy, **kwargs)

    return run


def function_case(function, torch_fn, make, order):
    """A run(rng) comparing an autograd Function of cnnlib.nn with torch's op."""

    def run(rng):
        arrays, kwargs = make(rng)
        args = [kwargs[k] for k in order]
        y = torch_fn(*[_t(a, False) for a in arrays], **kwargs)
        dy = rng.standard_normal(tuple(y.shape))
        ours = torch_grads(function.apply, arrays, dy, *args)
        return ours, torch_grads(torch_fn, arrays, dy, **kwargs)

    return run


def conv(nd, small=False):
    def make(rng):
        x, w, b, kwargs = conv_case(rng, nd, small)
        return (x, w, b), kwargs

    return make


def pool(nd):
    def make(rng):
        x, kwargs = pool_case(rng, nd)
        return (x,), kwargs

    return make


def pool_ties(nd):
    """pooling cases whose windows tie: values in {-1, 0, 1}, some -inf"""

    def make(rng):
        x, kwargs = pool_case(rng, nd)
        x = rng.integers(-1, 2, x.shape).astype(float)
        x[rng.random(x.shape) < 0.2] = -np.inf
        return (x,), kwargs

    return make


def dense(rng):
    n_in, n_out = (int(v) for v in rng.integers(1, 33, 2))
    x = rng.standard_normal((int(rng.integers(1, 17)), n_in))
    w = rng.standard_normal((n_out, n_in))
    b = rng.standard_normal(n_out) if rng.random() < 0.5 else None
    return (x, w, b), {}


def batch(rng):
    """x (N, C), (N, C, L) or (N, C, H, W) with per-channel offsets and scales,
    gamma (C,), beta (C,). N >= 3: with two values per channel x_hat is +-1 and dx
    is pure rounding noise, which a relative error cannot judge."""
    C, N = int(rng.integers(1, 9)), int(rng.integers(3, 9))
    shape = (N, C, *(int(v) for v in rng.integers(1, 7, int(rng.integers(0, 3)))))
    x = rng.standard_normal(shape) * rng.uniform(0.1, 5) + rng.uniform(-3, 3)
    return (x, rng.standard_normal(C), rng.standard_normal(C)), {}


def torch_batch_norm(x, gamma, beta):
    return F.batch_norm(x, None, None, gamma, beta, training=True, eps=1e-5)


def elementwise(rng):
    shape = tuple(int(v) for v in rng.integers(1, 9, int(rng.integers(1, 5))))
    x = rng.standard_normal(shape)
    x[rng.random(shape) < 0.1] = 0.0  # the kink: torch's slope there is 0
    return (x,), {}


def run_cross_entropy(rng, through_function=False):
    N, C = (int(v) for v in rng.integers(1, 33, 2))
    logits = rng.standard_normal((N, C)) * float(rng.choice([1, 10, 100]))
    targets = rng.integers(0, C, N)
    if through_function:
        ours = torch_grads(
            cnn.CrossEntropyFunction.apply, (logits,), 1.0, _t(targets, False)
        )
    else:
        ours = [G.softmax_cross_entropy(logits, targets)[1]]
    return ours, torch_grads(F.cross_entropy, (logits,), 1.0, _t(targets, False))


CONV_ARGS = ("stride", "padding", "dilation", "groups")
POOL_ARGS = ("kernel_size", "stride", "padding")
OPS = {
    "conv1d_backward": grad_case(
        G.conv1d_forward, G.conv1d_backward, F.conv1d, conv(1)
    ),
    "conv2d_backward": grad_case(
        G.conv2d_forward, G.conv2d_backward, F.conv2d, conv(2)
    ),
    "conv1d_backward_naive": grad_case(
        G.conv1d_forward, G.conv1d_backward_naive, F.conv1d, conv(1, small=True)
    ),
    "conv2d_backward_naive": grad_case(
        G.conv2d_forward, G.conv2d_backward_naive, F.conv2d, conv(2, small=True)
    ),
    "max_pool1d_backward": grad_case(
        G.max_pool1d_forward, G.max_pool1d_backward, F.max_pool1d, pool(1)
    ),
    "max_pool2d_backward": grad_case(
        G.max_pool2d_forward, G.max_pool2d_backward, F.max_pool2d, pool(2)
    ),
    "max_pool1d (ties)": grad_case(
        G.max_pool1d_forward, G.max_pool1d_backward, F.max_pool1d, pool_ties(1)
    ),
    "max_pool2d (ties)": grad_case(
        G.max_pool2d_forward, G.max_pool2d_backward, F.max_pool2d, pool_ties(2)
    ),
    "avg_pool1d_backward": grad_case(
        G.avg_pool1d_forward, G.avg_pool1d_backward, F.avg_pool1d, pool(1)
    ),
    "avg_pool2d_backward": grad_case(
        G.avg_pool2d_forward, G.avg_pool2d_backward, F.avg_pool2d, pool(2)
    ),
    "relu_backward": grad_case(G.relu_forward, G.relu_backward, F.relu, elementwise),
    "linear_backward": grad_case(G.linear_forward, G.linear_backward, F.linear, dense),
    "softmax_cross_entropy": run_cross_entropy,
    "batch_norm_backward": grad_case(
        norm.batch_norm_forward, norm.batch_norm_backward, torch_batch_norm, batch
    ),
    "batch_norm_backward_compact": grad_case(
        norm.batch_norm_forward,
        norm.batch_norm_backward_compact,
        torch_batch_norm,
        batch,
    ),
    "nn.Conv1dFunction": function_case(
        cnn.Conv1dFunction, F.conv1d, conv(1), CONV_ARGS
    ),
    "nn.Conv2dFunction": function_case(
        cnn.Conv2dFunction, F.conv2d, conv(2), CONV_ARGS
    ),
    "nn.MaxPool1dFunction": function_case(
        cnn.MaxPool1dFunction, F.max_pool1d, pool(1), POOL_ARGS
    ),
    "nn.MaxPool2dFunction": function_case(
        cnn.MaxPool2dFunction, F.max_pool2d, pool(2), POOL_ARGS
    ),
    "nn.AvgPool1dFunction": function_case(
        cnn.AvgPool1dFunction, F.avg_pool1d, pool(1), POOL_ARGS
    ),
    "nn.AvgPool2dFunction": function_case(
        cnn.AvgPool2dFunction, F.avg_pool2d, pool(2), POOL_ARGS
    ),
    "nn.ReLUFunction": function_case(cnn.ReLUFunction, F.relu, elementwise, ()),
    "nn.LinearFunction": function_case(cnn.LinearFunction, F.linear, dense, ()),
    "nn.CrossEntropyFunction": lambda rng: run_cross_entropy(rng, True),
}


def sweep(per_op, seed):
    """-> {op: [largest relative error of dx, dw, db (None where not an output)]}"""
    results = {}
    for i, (name, run) in enumerate(OPS.items()):
        rng = np.random.default_rng([seed, i])
        worst = [None, None, None]
        for _ in range(per_op):
            ours, theirs = run(rng)
            for j, (a, b) in enumerate(zip(ours, theirs, strict=True)):
                if (a is None) != (b is None):
                    raise AssertionError(f"{name}: {GRADS[j]} is None on one side")
                if a is not None:
                    if a.shape != b.shape:
                        raise AssertionError(f"{name}: {GRADS[j]} shape {a.shape}")
                    worst[j] = max(worst[j] or 0.0, G.relative_error(a, b))
        results[name] = worst
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--per-op", type=int, default=200, help="configurations per op")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", message="Using padding='same'")
    start = time.perf_counter()
    results = sweep(args.per_op, args.seed)
    print(
        f"largest relative error vs torch autograd (float64), {args.per_op} configs/op"
    )
    print(f"{'op':<28} {'dx':>10} {'dw':>10} {'db':>10}")
    for name, worst in results.items():
        cells = ["-" if e is None else f"{e:.2e}" for e in worst]
        flag = "" if max(e or 0.0 for e in worst) <= TOL else "  <-- exceeds 1e-10"
        print(f"{name:<28} {cells[0]:>10} {cells[1]:>10} {cells[2]:>10}{flag}")
    total = args.per_op * len(results)
    print(f"{total} configurations in {time.perf_counter() - start:.1f} s")
    worst = max(e or 0.0 for errors in results.values() for e in errors)
    return 0 if worst <= TOL else 1


if __name__ == "__main__":
    sys.exit(main())
