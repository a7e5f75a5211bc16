"""Conventions every chapter notebook follows (see the README's contributor section)."""

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TOC = (ROOT / "book" / "_toc.yml").read_text()


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.outputs or c.execution_count is not None)
    ]
    assert not dirty, (
        f"{path.name}: cells {dirty} have outputs; strip them before committing"
    )
    assert "widgets" not in nb.metadata, f"{path.name}: widget state in metadata"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_numbered_and_in_the_toc(path):
    assert re.fullmatch(r"(\d\d|A\d)_[a-z0-9_]+\.ipynb", path.name), (
        f"{path.name}: name chapters NN_topic.ipynb, appendices AN_topic.ipynb"
    )
    assert f"notebooks/{path.stem}" in TOC, f"{path.name} is missing from book/_toc.yml"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_title_then_setup_cell(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "setup" in code[0].metadata.get("tags", []), "first code cell must be setup"


def test_setup_cells_match_the_template():
    """The repository URL lives in book/_config.yml; the setup cells are generated."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "setup_cell.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_exercise_has_solution_and_checker(path):
    nb = nbformat.read(path, as_version=4)
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    solutions = [i for i, t in enumerate(tags) if "solution" in t]
    for i in solutions:
        nxt = [
            j for j in range(i + 1, len(nb.cells)) if nb.cells[j].cell_type == "code"
        ]
        assert nxt and "check" in tags[nxt[0]], (
            f"{path.name}: solution cell {i} is not followed by a cell tagged 'check'"
        )
        check = nb.cells[nxt[0]].source.strip()
        assert "check_" in check
        # the checker prints its verdict and returns True: the ';' keeps the rendered
        # book from showing that True under the verdict
        assert check.endswith(";"), f"{path.name}: end check cell {nxt[0]} with ';'"
    assert sum("{exercise-start}" in c.source for c in nb.cells) == len(solutions)
