"""cnnlib.runtime: the thread policy that keeps notebooks steady on a busy computer,
seeding and the full-scale switch. (How steady: benchmarks/under_load.py, not a
timed test.)"""

import os
import subprocess
import sys

import pytest
import torch
from threadpoolctl import threadpool_info

import cnnlib
from cnnlib import runtime


def run(code, **env):
    """Run `code` in a fresh interpreter (so the import order is real) -> stdout."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=True,
    )
    return result.stdout.strip()


def test_import_cnnlib_makes_waiting_openmp_threads_sleep():
    code = "import os; os.environ.pop('OMP_WAIT_POLICY', None); import cnnlib; "
    code += "print(os.environ['OMP_WAIT_POLICY'])"
    assert run(code) == "PASSIVE"


def test_a_readers_own_wait_policy_is_kept():
    code = "import os, cnnlib; print(os.environ['OMP_WAIT_POLICY'])"
    assert run(code, OMP_WAIT_POLICY="ACTIVE") == "ACTIVE"


def test_setup_gives_torch_and_blas_one_thread_by_default(monkeypatch, capsys):
    monkeypatch.delenv("CNNLIB_THREADS", raising=False)
    before = torch.get_num_threads()
    try:
        cnnlib.setup(seed=0)
        assert torch.get_num_threads() == 1
        blas = [p for p in threadpool_info() if p["user_api"] == "blas"]
        assert blas and all(p["num_threads"] == 1 for p in blas)
        assert "1 CPU thread," in capsys.readouterr().out
    finally:
        cnnlib.limit_threads(before)


def test_cnnlib_threads_asks_for_more(monkeypatch, capsys):
    monkeypatch.setenv("CNNLIB_THREADS", "2")
    before = torch.get_num_threads()
    try:
        cnnlib.setup(seed=0)
        assert torch.get_num_threads() == 2
        assert "2 CPU threads" in capsys.readouterr().out
    finally:
        cnnlib.limit_threads(before)


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_a_bad_cnnlib_threads_names_the_variable(monkeypatch, value):
    monkeypatch.setenv("CNNLIB_THREADS", value)
    with pytest.raises(ValueError, match="CNNLIB_THREADS must be a positive integer"):
        runtime.thread_count()


def test_setup_warns_when_torch_came_first():
    code = (
        "import torch, cnnlib; import os; os.environ['CNNLIB_THREADS'] = '2'; "
        "cnnlib.setup()"
    )
    assert "torch was imported before cnnlib" in run(code)


@pytest.mark.parametrize("value, expected", [("1", True), ("0", False), ("", False)])
def test_full_scale_switch(monkeypatch, value, expected):
    monkeypatch.setenv("CNNLIB_FULL", value)
    assert cnnlib.full_scale() is expected


def test_full_scale_rejects_other_values(monkeypatch):
    monkeypatch.setenv("CNNLIB_FULL", "maybe")
    with pytest.raises(ValueError, match="CNNLIB_FULL must be 0 or 1"):
        cnnlib.full_scale()
