"""Do the notebooks stay steady on a busy machine?

Executes each notebook twice with nbclient (the executor jupyter-book and nbval use):
once on an idle machine, then while CPU-bound processes (one per core by default)
keep every core busy, as a browser, an IDE or a video call do on a reader's laptop.
Prints each notebook's wall time in both runs and their ratio. A notebook that
shares two cores with two busy processes gets about 2/3 of a core per thread, so a
ratio near 1.5 is what the hardware allows; the book's goal is at most about 2.5.
Ratios far above that mean threads waiting for each other (oversubscription).

    python benchmarks/under_load.py                      # every notebook
    python benchmarks/under_load.py 05_images 07_batch_norm --load 2 --cells 3

The times depend on the machine and on what else runs: they belong in notes, not
in tests. CNNLIB_THREADS is passed through, so the policy of cnnlib.setup() can be
compared with another: CNNLIB_THREADS=2 python benchmarks/under_load.py 05_images

Linux's autogroup scheduling (on in most desktop distributions) shares the cores
between sessions first, and Jupyter starts each kernel in a session of its own, so
there a notebook keeps about one core however many busy processes another session
runs. ``--no-autogroup`` (root only) switches it off for the run, the harsher case
of a system that shares the cores thread by thread.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from datetime import datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
AUTOGROUP = Path("/proc/sys/kernel/sched_autogroup_enabled")


def burn(stop: mp.Event) -> None:
    """Keep one core busy with pure-Python arithmetic until `stop` is set."""
    x = 1.0
    while not stop.is_set():
        for _ in range(100_000):
            x = x * 1.000001 + 1e-9


class Load:
    """Context manager: `n` busy processes while the block runs."""

    def __init__(self, n: int):
        self.n, self.stop, self.procs = n, mp.Event(), []

    def __enter__(self):
        self.procs = [mp.Process(target=burn, args=(self.stop,)) for _ in range(self.n)]
        for p in self.procs:
            p.start()
        time.sleep(1.0)  # let the scheduler see them before the clock starts
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for p in self.procs:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()


def execute(path: Path, timeout: int) -> tuple[float, list[tuple[float, int]]]:
    """Run a notebook top to bottom -> (wall seconds, [(seconds, cell index), ...])"""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
        record_timing=True,
    )
    start = time.perf_counter()
    client.execute()
    wall = time.perf_counter() - start
    cells = []
    for i, cell in enumerate(nb.cells):
        timing = cell.get("metadata", {}).get("execution", {})
        if cell.cell_type == "code" and "shell.execute_reply" in timing:
            t0 = _parse(timing["iopub.execute_input"])
            t1 = _parse(timing["shell.execute_reply"])
            cells.append((t1 - t0, i))
    return wall, sorted(cells, reverse=True)


def _parse(stamp: str) -> float:
    """nbclient's ISO timestamp -> seconds"""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


class NoAutogroup:
    """Context manager: Linux's autogroup scheduling off while the block runs."""

    def __enter__(self):
        self.before = AUTOGROUP.read_text().strip()
        try:
            AUTOGROUP.write_text("0")
        except OSError as err:
            sys.exit(f"under_load: --no-autogroup needs root ({err})")
        return self

    def __exit__(self, *exc):
        AUTOGROUP.write_text(self.before)


def autogroup_state() -> str:
    return AUTOGROUP.read_text().strip() if AUTOGROUP.exists() else "n/a"


def resolve(names: list[str]) -> list[Path]:
    if not names:
        return sorted(NOTEBOOKS.glob("*.ipynb"))
    paths = []
    for name in names:
        matches = sorted(NOTEBOOKS.glob(f"{Path(name).stem}*.ipynb"))
        if not matches:
            sys.exit(f"under_load: no notebook matches {name!r} in {NOTEBOOKS}")
        paths.extend(matches)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="names or prefixes (default all)")
    parser.add_argument(
        "--load", type=int, default=os.cpu_count(), help="busy processes (cores)"
    )
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    parser.add_argument(
        "--cells", type=int, default=0, help="also list the N slowest cells"
    )
    parser.add_argument(
        "--no-autogroup",
        action="store_true",
        help="switch Linux's autogroup scheduling off for the run (root)",
    )
    args = parser.parse_args()
    if args.no_autogroup:
        with NoAutogroup():
            run(args)
    else:
        run(args)


def run(args) -> None:
    os.environ.setdefault("CNNLIB_PROGRESS", "0")
    paths = resolve(args.notebooks)
    threads = os.environ.get("CNNLIB_THREADS", "cnnlib's default")
    print(
        f"{os.cpu_count()} cores, load: {args.load} busy processes, "
        f"CNNLIB_THREADS: {threads}, autogroup: {autogroup_state()}"
    )
    rows = []
    for path in paths:
        idle, idle_cells = execute(path, args.timeout)
        with Load(args.load):
            busy, busy_cells = execute(path, args.timeout)
        rows.append((path.stem, idle, busy))
        print(
            f"  {path.stem:<22} idle {idle:7.1f} s   loaded {busy:7.1f} s   "
            f"x{busy / idle:.2f}",
            flush=True,
        )
        if args.cells:
            busy_by_cell = {i: t for t, i in busy_cells}
            for t, i in idle_cells[: args.cells]:
                print(
                    f"      cell {i:3d}: idle {t:6.1f} s, loaded "
                    f"{busy_by_cell.get(i, float('nan')):6.1f} s"
                )
    print()
    print("| notebook | idle (s) | loaded (s) | ratio |\n|---|---|---|---|")
    for name, idle, busy in rows:
        print(f"| {name} | {idle:.1f} | {busy:.1f} | {busy / idle:.2f} |")
    total_idle = sum(r[1] for r in rows)
    total_busy = sum(r[2] for r in rows)
    print(
        f"| all | {total_idle:.1f} | {total_busy:.1f} | {total_busy / total_idle:.2f} |"
    )
    worst = max(rows, key=lambda r: r[2] / r[1])
    print(f"\nworst ratio: {worst[0]} x{worst[2] / worst[1]:.2f} (goal: about 2.5)")


if __name__ == "__main__":
    main()
