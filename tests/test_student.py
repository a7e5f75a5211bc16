"""`make student` swaps solutions for stubs; checkers then say 'not implemented yet'."""

import contextlib
import io
import math
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from cnnlib.exercises import NOT_IMPLEMENTED

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory):
    dest = tmp_path_factory.mktemp("student")
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "make_student.py"),
            str(ROOT / "notebooks"),
            str(dest),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return dest


def exercise_pairs(nb):
    """(solution cell, check cell) pairs, in order."""
    cells = nb.cells
    for i, cell in enumerate(cells):
        if "solution" in cell.metadata.get("tags", []):
            check = next(c for c in cells[i + 1 :] if c.cell_type == "code")
            yield cell, check


def run_pair(solution, check):
    """Execute one exercise's two cells in a fresh namespace; return what they print."""
    import cnnlib.exercises

    namespace = {  # what the chapters import before their exercises
        "np": np,
        "math": math,
        "torch": torch,
        "F": torch.nn.functional,
        **{
            k: getattr(cnnlib.exercises, k)
            for k in dir(cnnlib.exercises)
            if k.startswith("check_")
        },
    }
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(solution.source, "<solution>", "exec"), namespace)
        exec(compile(check.source, "<check>", "exec"), namespace)
    return out.getvalue()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_student_edition_has_stubs_and_clean_checkers(path, student_dir):
    original = nbformat.read(path, as_version=4)
    student = nbformat.read(student_dir / path.name, as_version=4)
    assert len(student.cells) == len(original.cells)
    pairs = list(exercise_pairs(student))
    assert len(pairs) == len(list(exercise_pairs(original)))
    for solution, check in pairs:
        assert "raise NotImplementedError" in solution.source
        printed = run_pair(solution, check)  # must not raise
        assert NOT_IMPLEMENTED in printed, printed


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_solutions_pass_their_checkers(path):
    for solution, check in exercise_pairs(nbformat.read(path, as_version=4)):
        assert "correct" in run_pair(solution, check)


def test_stub_keeps_signature_docstring_and_imports():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from make_student import stub_source
    finally:
        sys.path.pop(0)
    source = (
        "import numpy as np\n\n"
        "def f(x, k=3):\n"
        '    """Doc."""\n'
        "    return np.sum(x) * k\n"
    )
    stub = stub_source(source)
    assert "import numpy as np" in stub and "def f(x, k=3):" in stub
    assert '"""Doc."""' in stub and "np.sum" not in stub
    namespace = {}
    exec(stub, namespace)
    with pytest.raises(NotImplementedError):
        namespace["f"](1)
    with pytest.raises(ValueError, match="must define"):
        stub_source("x = 1\n")
