"""How fast is cnnlib? Its NumPy ops against torch's, in one process, on the book's
layers.

For every case: the same inputs go to cnnlib and to torch (CPU), both on the same
number of threads (--threads, default 2), and each call is timed best-of --repeat
(the least disturbed run). First the two results are compared, so a fast wrong
answer cannot pass: float64 within 1e-10 relative, float32 within 1e-4 relative.

    forward           cnnlib.conv2d(x, w)  vs  torch.nn.functional.conv2d(x, w)
    forward+backward  cnnlib.grad.conv2d_forward + conv2d_backward  vs  torch's
                      conv2d with autograd: y = conv(x, w); y.backward(dy)

Prints one row per case with both times and the ratio torch / cnnlib (1 = as fast
as torch, 0.5 = twice torch's time), then the geometric mean of the ratio over the
conv2d layers per pass and dtype: the figure the README quotes.

    python benchmarks/speed.py                 # the full table (about a minute)
    python benchmarks/speed.py --dtype float32 --threads 1
    python benchmarks/speed.py --quick         # tiny batches, one repeat (tests)

Times depend on the machine and on what else runs: they belong in notes and in the
README's table, never in tests.
"""

from __future__ import annotations

import argparse
import math
import platform
import time
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_info, threadpool_limits

import cnnlib
import cnnlib.grad as G
from cnnlib.norm import batch_norm_backward, batch_norm_forward

# (name, x shape, w shape, keyword arguments): the conv2d layers the chapters train,
# e.g. chapter 05's CIFAR-sized VGG and ResNet stages and chapter 04's LeNet.
CONV2D = [
    ("3→16, 32×32, 3×3", (64, 3, 32, 32), (16, 3, 3, 3), dict(padding=1)),
    ("16→32, 32×32, 3×3", (64, 16, 32, 32), (32, 16, 3, 3), dict(padding=1)),
    ("32→32, 14×14, 3×3", (128, 32, 14, 14), (32, 32, 3, 3), dict(padding=1)),
    (
        "32→64, 16×16, 3×3 s2",
        (64, 32, 16, 16),
        (64, 32, 3, 3),
        dict(stride=2, padding=1),
    ),
    ("64→64, 8×8, 3×3", (64, 64, 8, 8), (64, 64, 3, 3), dict(padding=1)),
    ("64→64, 8×8, 1×1", (64, 64, 8, 8), (64, 64, 1, 1), {}),
    ("1→6, 28×28, 5×5", (64, 1, 28, 28), (6, 1, 5, 5), {}),
]
# chapter 03's MNIST-1D network
CONV1D = [
    ("1→32, L=40, k=5", (128, 1, 40), (32, 1, 5), dict(padding=2)),
    ("32→32, L=40, k=5", (128, 32, 40), (32, 32, 5), dict(padding=2)),
    ("32→32, L=40, k=3 d2", (128, 32, 40), (32, 32, 3), dict(padding=2, dilation=2)),
]
# chapter 09's upsampling: x shape, w shape (C_in, C_out, k, k), keyword arguments
CONV_T2D = [
    ("64→32, 16×16, 2×2 s2", (16, 64, 16, 16), (64, 32, 2, 2), dict(stride=2)),
    (
        "32→16, 16×16, 4×4 s2",
        (16, 32, 16, 16),
        (32, 16, 4, 4),
        dict(stride=2, padding=1),
    ),
]
POOL = [
    ("2×2 s2", (64, 32, 32, 32), dict(kernel_size=2)),
    ("3×3 s2 p1", (64, 32, 32, 32), dict(kernel_size=3, stride=2, padding=1)),
]
NORM = [("C=32, 16×16", (64, 32, 16, 16))]


OPS = ("conv2d", "conv1d", "conv_transpose2d", "pool", "batch_norm")


def best_time(fn, repeat):
    """The fastest of `repeat` calls of fn(), in seconds, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def agree(ours, theirs, dtype, what):
    """Stop the benchmark when cnnlib's result and torch's differ."""
    theirs = theirs.detach().numpy() if torch.is_tensor(theirs) else theirs
    rtol = 1e-10 if dtype == np.float64 else 1e-4
    scale = max(float(np.abs(theirs).max(initial=0.0)), 1e-30)
    err = float(np.abs(np.asarray(ours, dtype=np.float64) - theirs).max(initial=0.0))
    if ours.dtype != dtype or err > rtol * scale:
        raise AssertionError(
            f"{what}: cnnlib and torch disagree (dtype {ours.dtype}, max error "
            f"{err:.3g}, relative to {scale:.3g})"
        )


def ours_both(forward, backward, args, dy, kw):
    """cnnlib's forward then backward pass: the gradients backward returns."""
    return backward(dy, forward(*args, **kw)[1])


def torch_both(fn, leaves, dy, kw):
    """torch's forward then backward pass (autograd): the leaves' gradients."""
    for leaf in leaves:
        leaf.grad = None
    fn(*leaves, **kw).backward(dy)
    return [leaf.grad for leaf in leaves]


def torch_batch_norm(x, gamma, beta):
    return F.batch_norm(x, None, None, gamma, beta, training=True)


def ours_batch_norm(x, gamma, beta):
    return batch_norm_forward(x, gamma, beta)[0]


def leaves(*arrays):
    """torch tensors that record gradients, sharing the arrays' values."""
    return [torch.from_numpy(a.copy()).requires_grad_() for a in arrays]


def conv_cases(kind, dtype, quick, rng):
    """((op, pass, case), cnnlib call, torch call) per case and pass of one kind."""
    table = {"conv1d": CONV1D, "conv2d": CONV2D, "conv_transpose2d": CONV_T2D}[kind]
    ours, theirs = getattr(cnnlib, kind), getattr(F, kind)
    for name, xs, ws, kw in table:
        xs = (2, *xs[1:]) if quick else xs
        x = rng.standard_normal(xs).astype(dtype)
        w = (rng.standard_normal(ws) / math.sqrt(np.prod(ws[1:]))).astype(dtype)
        tx, tw = torch.from_numpy(x), torch.from_numpy(w)
        y = ours(x, w, **kw)
        agree(y, theirs(tx, tw, **kw), dtype, f"{kind} {name}")
        yield (
            (kind, "forward", name),
            partial(ours, x, w, **kw),
            partial(theirs, tx, tw, **kw),
        )
        if kind == "conv_transpose2d":
            continue  # cnnlib.grad has no transposed-convolution layer
        passes = getattr(G, f"{kind}_forward"), getattr(G, f"{kind}_backward")
        dy = rng.standard_normal(y.shape).astype(dtype)
        mine = partial(ours_both, *passes, (x, w), dy, kw)
        torchs = partial(torch_both, theirs, leaves(x, w), torch.from_numpy(dy), kw)
        (dx, dw, _), (tdx, tdw) = mine(), torchs()
        agree(dx, tdx, dtype, f"{kind} {name} dx")
        agree(dw, tdw, dtype, f"{kind} {name} dw")
        yield (kind, "forward+backward", name), mine, torchs


def pool_cases(dtype, quick, rng):
    for op in ("max_pool2d", "avg_pool2d"):
        ours, theirs = getattr(cnnlib, op), getattr(F, op)
        passes = getattr(G, f"{op}_forward"), getattr(G, f"{op}_backward")
        for name, xs, kw in POOL:
            xs = (2, *xs[1:]) if quick else xs
            x = rng.standard_normal(xs).astype(dtype)
            tx = torch.from_numpy(x)
            y = ours(x, **kw)
            agree(y, theirs(tx, **kw), dtype, f"{op} {name}")
            yield (
                (op, "forward", name),
                partial(ours, x, **kw),
                partial(theirs, tx, **kw),
            )
            dy = rng.standard_normal(y.shape).astype(dtype)
            mine = partial(ours_both, *passes, (x,), dy, kw)
            torchs = partial(torch_both, theirs, leaves(x), torch.from_numpy(dy), kw)
            agree(mine(), torchs()[0], dtype, f"{op} {name} dx")
            yield (op, "forward+backward", name), mine, torchs


def norm_cases(dtype, quick, rng):
    for name, xs in NORM:
        xs = (2, *xs[1:]) if quick else xs
        x = rng.standard_normal(xs).astype(dtype)
        gamma = (1 + 0.1 * rng.standard_normal(xs[1])).astype(dtype)
        beta = (0.1 * rng.standard_normal(xs[1])).astype(dtype)
        dy = rng.standard_normal(xs).astype(dtype)
        t_args = [torch.from_numpy(a) for a in (x, gamma, beta)]
        agree(
            ours_batch_norm(x, gamma, beta),
            torch_batch_norm(*t_args),
            dtype,
            f"batch_norm {name}",
        )
        passes = batch_norm_forward, batch_norm_backward
        mine = partial(ours_both, *passes, (x, gamma, beta), dy, {})
        t_leaves = leaves(x, gamma, beta)
        torchs = partial(
            torch_both, torch_batch_norm, t_leaves, torch.from_numpy(dy), {}
        )
        agree(mine()[0], torchs()[0], dtype, f"batch_norm {name} dx")
        yield (
            ("batch_norm", "forward", name),
            partial(ours_batch_norm, x, gamma, beta),
            partial(torch.no_grad()(torch_batch_norm), *t_args),
        )
        yield ("batch_norm", "forward+backward", name), mine, torchs


def op_cases(op, dtype, quick, rng):
    if op in ("conv2d", "conv1d", "conv_transpose2d"):
        return conv_cases(op, dtype, quick, rng)
    return (
        pool_cases(dtype, quick, rng) if op == "pool" else norm_cases(dtype, quick, rng)
    )


def run(dtypes, threads, repeat, quick, ops=OPS, seed=0):
    """-> [(op, pass, case, dtype name, torch s, cnnlib s)]"""
    rows = []
    torch.set_num_threads(threads)
    with threadpool_limits(threads), torch.inference_mode(False):
        for dtype in dtypes:
            rng = np.random.default_rng(seed)
            cases = [case for op in ops for case in op_cases(op, dtype, quick, rng)]
            for key, ours, theirs in cases:
                t_torch, t_ours = best_time(theirs, repeat), best_time(ours, repeat)
                rows.append((*key, np.dtype(dtype).name, t_torch, t_ours))
    return rows


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


def report(rows, threads):
    blas = ", ".join(f"{i['internal_api']} {i['version']}" for i in threadpool_info())
    print(
        f"{platform.processor() or platform.machine()}, {threads} thread(s); "
        f"numpy {np.__version__} ({blas}); torch {torch.__version__}"
    )
    head = f"{'op':<17} {'pass':<17} {'case':<22} {'dtype':<8}"
    print(f"{head} {'torch ms':>9} {'cnnlib ms':>10} {'torch/cnnlib':>12}")
    for op, which, case, dtype, t_torch, t_ours in rows:
        print(
            f"{op:<17} {which:<17} {case:<22} {dtype:<8} {1e3 * t_torch:9.2f} "
            f"{1e3 * t_ours:10.2f} {t_torch / t_ours:12.2f}"
        )
    print("\ngeometric mean of torch/cnnlib over the conv2d layers:")
    summary = {}
    for dtype in sorted({r[3] for r in rows if r[0] == "conv2d"}):
        for which in ("forward", "forward+backward"):
            ratios = [
                r[4] / r[5]
                for r in rows
                if r[0] == "conv2d" and r[1] == which and r[3] == dtype
            ]
            summary[dtype, which] = geomean(ratios)
            print(f"  {dtype:<8} {which:<17} {summary[dtype, which]:.2f}")
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--dtype", choices=["float32", "float64", "both"], default="both"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--quick", action="store_true", help="batches of 2 and one repeat (tests)"
    )
    parser.add_argument(
        "--ops", nargs="+", choices=OPS, default=OPS, help="which ops (default: all)"
    )
    args = parser.parse_args(argv)
    dtypes = (
        [np.float32, np.float64]
        if args.dtype == "both"
        else [np.dtype(args.dtype).type]
    )
    repeat = 1 if args.quick else args.repeat
    rows = run(dtypes, args.threads, repeat, args.quick, args.ops)
    report(rows, args.threads)
    print(f"\n{len(rows)} timings; cnnlib and torch agreed on every case")


if __name__ == "__main__":
    main()
