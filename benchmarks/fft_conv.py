"""Direct against FFT convolution as the kernel grows, in 1D and 2D.

cnnlib.conv1d/conv2d (im2col and a matrix product: work ~ n_out·k per channel pair)
against cnnlib.fft_conv1d/fft_conv2d (the convolution theorem: work ~ P log P per
channel pair, whatever k) on the same float64 inputs, best of --repeat runs, one
thread. Prints the times, their ratio and the crossover: the smallest kernel from
which the FFT is faster. Timings depend on the machine; chapter 06 asserts only what
cannot flip (direct wins at k = 3, the FFT at the largest kernels).

    python benchmarks/fft_conv.py [--repeat 5]
"""

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

import cnnlib

SETTINGS = {
    1: dict(shape=(8, 4, 2048), c_out=4, kernels=(3, 5, 9, 17, 33, 65, 129, 257, 513)),
    2: dict(shape=(4, 4, 64, 64), c_out=4, kernels=(3, 5, 7, 9, 13, 17, 25, 33, 49)),
}


def best_time(fn, *args, repeat=5, **kwargs):
    """The fastest of `repeat` calls, in seconds (the least disturbed one)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args, **kwargs)
        times.append(time.perf_counter() - start)
    return min(times)


def sweep(nd, repeat=5, seed=0):
    """-> [(k, direct seconds, fft seconds), ...] for the kernels of SETTINGS[nd]"""
    setting, rng = SETTINGS[nd], np.random.default_rng(seed)
    x = rng.standard_normal(setting["shape"])
    direct = cnnlib.conv1d if nd == 1 else cnnlib.conv2d
    fft = cnnlib.fft_conv1d if nd == 1 else cnnlib.fft_conv2d
    rows = []
    for k in setting["kernels"]:
        w = rng.standard_normal((setting["c_out"], x.shape[1], *[k] * nd))
        rows.append(
            (
                k,
                best_time(direct, x, w, padding="same", repeat=repeat),
                best_time(fft, x, w, padding="same", repeat=repeat),
            )
        )
    return rows


def crossover(rows):
    """The smallest k from which the FFT is faster for every larger k, or None."""
    for i, (k, _, _) in enumerate(rows):
        if all(t_fft < t_direct for _, t_direct, t_fft in rows[i:]):
            return k
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with threadpool_limits(1):
        for nd in (1, 2):
            shape = SETTINGS[nd]["shape"]
            print(f"{nd}D, input {shape}, 'same' padding, float64, one thread")
            print(f"{'k':>5} {'direct ms':>10} {'fft ms':>8} {'direct/fft':>11}")
            rows = sweep(nd, args.repeat)
            for k, t_direct, t_fft in rows:
                print(
                    f"{k:>5} {1e3 * t_direct:>10.2f} {1e3 * t_fft:>8.2f} "
                    f"{t_direct / t_fft:>11.2f}"
                )
            print(f"crossover: the FFT is faster from k = {crossover(rows)}\n")


if __name__ == "__main__":
    main()
