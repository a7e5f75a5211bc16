"""Conventions every chapter notebook follows (see the README's contributor section)."""

import ast
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


# --- Folded figure code ---------------------------------------------------------------
# The rule: a code cell whose every statement only draws is tagged hide-input, and a
# hide-input cell (setup aside) holds no assert or checker and binds nothing a later
# cell reads.
# "Only draws" is mechanical: each top-level statement is a call on pyplot, a figure or
# axes (plt., fig, ax..., viz., widgets.), a call of a cnnlib figure or widget helper
# (draw_*, show_*, *_explorer in cnnlib's viz and widgets modules, plot_history), an
# assignment of such a call or of constants, or a for/with/if made of such statements.

_VIZ_MODULES = ["viz", "shattered_viz", "transposed_viz", "widgets"]
DRAWING_HELPERS = {"plot_history"} | {
    node.name
    for module in _VIZ_MODULES
    for node in ast.parse((ROOT / "cnnlib" / f"{module}.py").read_text()).body
    if isinstance(node, ast.FunctionDef)
    and re.match(r"(draw|show|plot)_|.*_explorer$", node.name)
}
DRAWING_OBJECTS = re.compile(r"plt|fig\w*|ax\w*|a_|viz|\w+_viz|widgets")


def _draws(stmt):
    """Does this statement only draw (see the rule above)?"""
    if isinstance(stmt, ast.Assign):
        if not all(isinstance(t, (ast.Name, ast.Tuple)) for t in stmt.targets):
            return False  # x[i] = ... changes data
        names = {n.id for n in ast.walk(stmt.value) if isinstance(n, ast.Name)}
        if names <= {"dict"}:  # a figure's settings: constants, lists, dicts
            return True
    if isinstance(stmt, (ast.Expr, ast.Assign)) and isinstance(stmt.value, ast.Call):
        func = stmt.value.func
        name = getattr(func, "attr", getattr(func, "id", ""))
        while isinstance(func, (ast.Attribute, ast.Subscript, ast.Call)):
            func = func.func if isinstance(func, ast.Call) else func.value
        root = getattr(func, "id", "")
        return bool(DRAWING_OBJECTS.fullmatch(root)) or name in DRAWING_HELPERS
    if isinstance(stmt, (ast.For, ast.With, ast.If)):
        return all(_draws(s) for s in stmt.body + getattr(stmt, "orelse", []))
    return False


def _binds(body):
    """Names a cell binds: assignment and loop targets, defs, imports."""
    out = set()
    for node in (n for s in body for n in ast.walk(s)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, ast.alias):
            out.add((node.asname or node.name).split(".")[0])
    return out


def _reads(node, bound, out):
    """Add to `out` the names `node` reads before binding them, in source order;
    names local to a function, lambda or comprehension do not count."""
    local = set()
    if isinstance(node, (ast.FunctionDef, ast.Lambda)):
        args = node.args
        local = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
        local |= {a.arg for a in (args.vararg, args.kwarg) if a}
        if isinstance(node, ast.FunctionDef):
            local |= _binds(node.body) | {node.name}
            bound.add(node.name)
    elif isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
        local = {
            n.id
            for g in node.generators
            for n in ast.walk(g.target)
            if isinstance(n, ast.Name)
        }
    if local:
        bound = bound | local
    if isinstance(node, ast.Name):
        if isinstance(node.ctx, ast.Load) and node.id not in bound:
            out.add(node.id)
        elif not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        return
    children = list(ast.iter_child_nodes(node))
    if isinstance(node, ast.Assign):  # the value is evaluated before the targets
        children = [node.value, *node.targets]
    for child in children:
        _reads(child, bound, out)


def _read_before_bound(body):
    out, bound = set(), set()
    for stmt in body:
        _reads(stmt, bound, out)
    return out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_figure_code_is_folded(path):
    """Every code cell that only draws (see the rule above) is tagged hide-input, and
    every hide-input cell but the setup cell only draws in this sense: it holds no
    assert and no checker, is no exercise, and binds no name that a later cell reads
    (so everything a reader needs stays visible)."""
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    bodies = [ast.parse(c.source).body for c in cells]
    for i, (cell, body) in enumerate(zip(cells, bodies, strict=True)):
        tags = set(cell.metadata.get("tags", []))
        first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
        where = f"{path.name}: code cell {i} ({first[:50]!r})"
        exercise = tags & {"solution", "check", "setup"}
        if body and all(_draws(s) for s in body) and not exercise:
            assert "hide-input" in tags, f"{where} only draws: tag it hide-input"
        if "hide-input" not in tags or "setup" in tags:
            continue
        assert not tags & {"solution", "check"}, f"{where}: an exercise is not folded"
        nodes = [n for s in body for n in ast.walk(s)]
        assert not any(isinstance(n, ast.Assert) for n in nodes), (
            f"{where} asserts: keep the check visible (split the cell)"
        )
        assert "check_" not in cell.source, f"{where} calls a checker"
        live, used = _binds(body), set()
        for later in bodies[i + 1 :]:
            used |= live & _read_before_bound(later)
            live -= _binds(later)
        assert not used, f"{where} is folded but later cells read {sorted(used)}"
