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


@pytest.mark.parametrize("script", ["torch_agreement.py", "grad_agreement.py"])
def test_benchmark_runs_and_agrees(script):
    result = subprocess.run(
        [sys.executable, script, "--per-op", "5", "--seed", "1"],
        cwd=BENCHMARKS,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "configurations in" in result.stdout


def test_speed_benchmark_runs_and_agrees():
    """benchmarks/speed.py compares every result with torch's before timing it."""
    result = subprocess.run(
        [sys.executable, "speed.py", "--quick", "--threads", "1"],
        cwd=BENCHMARKS,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "cnnlib and torch agreed on every case" in result.stdout
    assert "geometric mean" in result.stdout
