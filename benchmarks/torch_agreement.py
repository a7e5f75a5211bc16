"""How closely does cnnlib agree with torch.nn.functional in float64?

Sweeps about 700 random configurations (shapes, stride, padding, dilation, groups,
bias, output sizes and scale factors) over every op and prints, per op, the largest
relative error ||ours - torch|| / ||torch|| and the largest absolute error
max|ours - torch|.
Exits with status 1 if any of them exceeds 1e-10.

    python benchmarks/torch_agreement.py [--seed 0] [--per-op 30]
"""

import argparse
import sys
import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F

from cnnlib.conv import (
    conv1d,
    conv1d_naive,
    conv2d,
    conv2d_naive,
    conv_transpose1d,
    conv_transpose1d_naive,
    conv_transpose2d,
    conv_transpose2d_naive,
    convolve1d,
    convolve2d,
)
from cnnlib.matrices import circulant, conv_matrix
from cnnlib.pool import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d, max_unpool2d
from cnnlib.upsample import interpolate

TOL = 1e-10


def _t(a):
    return None if a is None else torch.from_numpy(np.ascontiguousarray(a))


def _ints(rng, lo, hi, nd):
    return tuple(int(v) for v in rng.integers(lo, hi + 1, nd))


def _flip(w, nd):
    return w[(..., *[slice(None, None, -1)] * nd)].copy()


def conv_case(rng, nd, small=False, grouped=True):
    """Random valid conv arguments -> (x, w, b, kwargs)."""
    groups = int(rng.choice([1, 1, 2, 3, 4])) if grouped else 1
    c_in = groups * int(rng.integers(1, 3 if small else 9))
    c_out = groups * int(rng.integers(1, 3 if small else 9))
    k, dilation = _ints(rng, 1, 5, nd), _ints(rng, 1, 3, nd)
    mode = rng.choice(["int", "same", "valid"])
    stride = (1,) * nd if mode == "same" else _ints(rng, 1, 3, nd)
    pads = _ints(rng, 0, 3, nd) if mode == "int" else (0,) * nd
    padding = pads if mode == "int" else str(mode)
    low = [
        1 if mode == "same" else max(1, d * (kk - 1) + 1 - 2 * p)
        for kk, d, p in zip(k, dilation, pads, strict=True)
    ]
    size = [n + int(rng.integers(0, 4 if small else 25)) for n in low]
    x = rng.standard_normal((int(rng.integers(1, 3 if small else 5)), c_in, *size))
    w = rng.standard_normal((c_out, c_in // groups, *k))
    b = rng.standard_normal(c_out) if rng.random() < 0.5 else None
    return (
        x,
        w,
        b,
        dict(stride=stride, padding=padding, dilation=dilation, groups=groups),
    )


def conv_t_case(rng, nd, small=False):
    """Random valid conv_transpose arguments -> (x, w, b, kwargs)."""
    while True:
        groups = int(rng.choice([1, 1, 2, 3]))
        c_in, c_out_g = groups * int(rng.integers(1, 4)), int(rng.integers(1, 4))
        k, size = _ints(rng, 1, 4, nd), _ints(rng, 1, 4 if small else 9, nd)
        stride, padding = _ints(rng, 1, 3, nd), _ints(rng, 0, 2, nd)
        dilation = _ints(rng, 1, 3, nd)
        out_pad = tuple(
            int(rng.integers(0, max(s, d)))
            for s, d in zip(stride, dilation, strict=True)
        )
        sizes = [
            (n - 1) * s - 2 * p + d * (kk - 1) + op + 1
            for n, s, p, d, kk, op in zip(
                size, stride, padding, dilation, k, out_pad, strict=True
            )
        ]
        if min(sizes) >= 1:
            break
    x = rng.standard_normal((int(rng.integers(1, 4)), c_in, *size))
    w = rng.standard_normal((c_in, c_out_g, *k))
    b = rng.standard_normal(c_out_g * groups) if rng.random() < 0.5 else None
    kwargs = dict(
        stride=stride,
        padding=padding,
        output_padding=out_pad,
        groups=groups,
        dilation=dilation,
    )
    return x, w, b, kwargs


def pool_case(rng, nd):
    k = _ints(rng, 1, 5, nd)
    padding = tuple(int(rng.integers(0, kk // 2 + 1)) for kk in k)
    stride = None if rng.random() < 0.3 else _ints(rng, 1, 4, nd)
    size = [
        max(1, kk - 2 * p) + int(rng.integers(0, 12))
        for kk, p in zip(k, padding, strict=True)
    ]
    x = rng.standard_normal((int(rng.integers(1, 4)), int(rng.integers(1, 6)), *size))
    return x, dict(kernel_size=k, stride=stride, padding=padding)


def run_conv(ours, theirs, nd, flip=False, small=False):
    def run(rng):
        x, w, b, kw = conv_case(rng, nd, small)
        w_ref = _flip(w, nd) if flip else w
        return ours(x, w, b, **kw), theirs(_t(x), _t(w_ref), _t(b), **kw).numpy()

    return run


def run_conv_t(ours, theirs, nd, small=False):
    def run(rng):
        x, w, b, kw = conv_t_case(rng, nd, small)
        return ours(x, w, b, **kw), theirs(_t(x), _t(w), _t(b), **kw).numpy()

    return run


def run_pool(ours, theirs, nd):
    def run(rng):
        x, kw = pool_case(rng, nd)
        return ours(x, **kw), theirs(_t(x), **kw).numpy()

    return run


def run_pool_indices(rng):
    x, kw = pool_case(rng, 2)
    x = np.round(x)  # many ties
    _, ours = max_pool2d(x, **kw, return_indices=True)
    _, theirs = F.max_pool2d(_t(x), **kw, return_indices=True)
    return ours.astype(float), theirs.numpy().astype(float)


def run_unpool(rng):
    x, kw = pool_case(rng, 2)
    y, indices = max_pool2d(x, **kw, return_indices=True)
    ours = max_unpool2d(y, indices, **kw, output_size=x.shape)
    t_y, t_indices = F.max_pool2d(_t(x), **kw, return_indices=True)
    return ours, F.max_unpool2d(t_y, t_indices, **kw, output_size=x.shape).numpy()


def run_interpolate(nd, mode):
    """Sizes and scale factors (halves, thirds, any float). 4-D nearest outputs have
    H_out + W_out > 128, where torch uses its general kernel (cnnlib.upsample)."""

    def run(rng):
        big = nd == 2 and mode == "nearest"
        size_in = _ints(rng, 60 if big else 1, 80 if big else 20, nd)
        x = rng.standard_normal(
            (int(rng.integers(1, 4)), int(rng.integers(1, 4)), *size_in)
        )
        kw = dict(mode=mode, align_corners=None)
        if mode != "nearest":
            kw["align_corners"] = bool(rng.random() < 0.5)
        if rng.random() < 0.5:
            kw["size"] = _ints(rng, 65 if big else 1, 100 if big else 40, nd)
        else:
            nice = [1.5, 2.0, 3.0, 2.5] + ([] if big else [1.25, 0.5, 1 / 3, 0.75])
            choices = [
                float(rng.choice(nice)),
                float(rng.uniform(1.7 if big else 0.3, 4)),
            ]
            kw["scale_factor"] = tuple(
                max(choices[int(rng.integers(0, 2))], 1 / n) for n in size_in
            )
        return interpolate(x, **kw), F.interpolate(_t(x), **kw).numpy()

    return run


def run_conv_matrix(nd):
    def run(rng):
        x, w, _, kw = conv_case(rng, nd, small=True, grouped=False)
        del kw["groups"]
        M = conv_matrix(w, x.shape[2] if nd == 1 else x.shape[2:], **kw)
        y = (F.conv1d if nd == 1 else F.conv2d)(_t(x[:1]), _t(w), **kw).numpy()
        return M @ x[0].ravel(), y.ravel()

    return run


def run_circulant(rng):
    n = int(rng.integers(3, 40))
    k = 2 * int(rng.integers(0, (n + 1) // 2)) + 1  # odd: torch pads (k - 1) / 2 a side
    w, x = rng.standard_normal(k), rng.standard_normal(n)
    x_wrapped = F.pad(_t(x).view(1, 1, n), ((k - 1) // 2,) * 2, mode="circular")
    y = F.conv1d(x_wrapped, _t(w).view(1, 1, k))[0, 0].numpy()
    return np.roll(circulant(w, n) @ x, (k - 1) // 2), y


OPS = {
    "conv1d": run_conv(conv1d, F.conv1d, 1),
    "conv2d": run_conv(conv2d, F.conv2d, 2),
    "conv1d_naive": run_conv(conv1d_naive, F.conv1d, 1, small=True),
    "conv2d_naive": run_conv(conv2d_naive, F.conv2d, 2, small=True),
    "convolve1d": run_conv(convolve1d, F.conv1d, 1, flip=True),
    "convolve2d": run_conv(convolve2d, F.conv2d, 2, flip=True),
    "conv_transpose1d": run_conv_t(conv_transpose1d, F.conv_transpose1d, 1),
    "conv_transpose2d": run_conv_t(conv_transpose2d, F.conv_transpose2d, 2),
    "conv_transpose1d_naive": run_conv_t(
        conv_transpose1d_naive, F.conv_transpose1d, 1, small=True
    ),
    "conv_transpose2d_naive": run_conv_t(
        conv_transpose2d_naive, F.conv_transpose2d, 2, small=True
    ),
    "max_pool1d": run_pool(max_pool1d, F.max_pool1d, 1),
    "max_pool2d": run_pool(max_pool2d, F.max_pool2d, 2),
    "avg_pool1d": run_pool(avg_pool1d, F.avg_pool1d, 1),
    "avg_pool2d": run_pool(avg_pool2d, F.avg_pool2d, 2),
    "max_pool2d (indices)": run_pool_indices,
    "max_unpool2d": run_unpool,
    "interpolate nearest 1d": run_interpolate(1, "nearest"),
    "interpolate nearest 2d": run_interpolate(2, "nearest"),
    "interpolate linear": run_interpolate(1, "linear"),
    "interpolate bilinear": run_interpolate(2, "bilinear"),
    "conv_matrix (1d)": run_conv_matrix(1),
    "conv_matrix (2d)": run_conv_matrix(2),
    "circulant": run_circulant,
}


def sweep(per_op, seed):
    """-> {op: (cases, max relative error, max absolute error)}"""
    results = {}
    for i, (name, run) in enumerate(OPS.items()):
        rng = np.random.default_rng([seed, i])
        rel = abs_ = 0.0
        for _ in range(per_op):
            ours, theirs = run(rng)
            if ours.shape != theirs.shape:
                raise AssertionError(
                    f"{name}: shape {ours.shape} != torch {theirs.shape}"
                )
            diff = ours - theirs
            rel = max(rel, np.linalg.norm(diff) / max(np.linalg.norm(theirs), 1e-300))
            abs_ = max(abs_, float(np.abs(diff).max()))
        results[name] = (per_op, rel, abs_)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--per-op", type=int, default=30, help="configurations per op")
    args = parser.parse_args(argv)
    # torch notes that 'same' with an even kernel makes a padded copy; harmless here
    warnings.filterwarnings("ignore", message="Using padding='same'")
    start = time.perf_counter()
    results = sweep(args.per_op, args.seed)
    total = sum(n for n, _, _ in results.values())
    print(f"{'op':<24} {'cases':>5} {'max rel err':>12} {'max abs err':>12}")
    for name, (n, rel, abs_) in results.items():
        flag = "" if max(rel, abs_) <= TOL else "  <-- exceeds 1e-10"
        print(f"{name:<24} {n:>5} {rel:>12.2e} {abs_:>12.2e}{flag}")
    print(f"{total} configurations in {time.perf_counter() - start:.1f} s")
    worst = max(max(rel, abs_) for _, rel, abs_ in results.values())
    return 0 if worst <= TOL else 1


if __name__ == "__main__":
    sys.exit(main())
