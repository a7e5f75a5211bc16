"""The benchmarks keep running: a few configurations per op, exit status 0.

The full sweeps (`python benchmarks/torch_agreement.py`, `grad_agreement.py`) give
the figures quoted in the notes; this only keeps the scripts from rotting and makes
their own tolerance (1e-10 relative to torch in float64) part of the test suite.
"""

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def run_benchmark(script, *args):
    """Run benchmarks/<script> with args; its stdout (after checking it exited 0)."""
    result = subprocess.run(
        [sys.executable, script, *args],
        cwd=BENCHMARKS,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.parametrize("script", ["torch_agreement.py", "grad_agreement.py"])
def test_benchmark_runs_and_agrees(script):
    assert "configurations in" in run_benchmark(script, "--per-op", "5", "--seed", "1")


def test_speed_benchmark_runs_and_agrees():
    """benchmarks/speed.py compares every result with torch's before timing it."""
    out = run_benchmark("speed.py", "--quick", "--threads", "1")
    assert "cnnlib and torch agreed on every case" in out
    assert "geometric mean" in out
