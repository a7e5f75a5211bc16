"""Write the student edition: every solution cell replaced by a stub.

A solution is a code cell tagged ``solution``. Each function it defines keeps its
signature and docstring; its body becomes ``raise NotImplementedError``, which the
checkers in ``cnnlib.exercises`` report as "not implemented yet". Everything else in
the notebook is copied unchanged, and outputs are dropped.

    python scripts/make_student.py notebooks student
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

import nbformat

SOLUTION_TAG = "solution"
STUB_BODY = 'raise NotImplementedError("Exercise: write this function")'


def stub_source(source: str) -> str:
    """Keep the imports and each function's signature and docstring; drop the rest."""
    tree = ast.parse(source)
    lines = source.splitlines()
    out: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            out.extend(lines[node.lineno - 1 : node.end_lineno])
        elif isinstance(node, ast.FunctionDef):
            out.extend(_stub_function(node, lines))
    if not any(isinstance(node, ast.FunctionDef) for node in tree.body):
        raise ValueError(
            "a solution cell must define at least one function:\n" + source
        )
    return "\n".join(out).strip() + "\n"


def _stub_function(node: ast.FunctionDef, lines: list[str]) -> list[str]:
    first_body = node.body[0]
    head = lines[node.lineno - 1 : first_body.lineno - 1]  # decorators and signature
    if node.decorator_list:
        head = lines[node.decorator_list[0].lineno - 1 : first_body.lineno - 1]
    indent = " " * first_body.col_offset
    doc = []
    if ast.get_docstring(node) is not None:
        doc = lines[first_body.lineno - 1 : first_body.end_lineno]
    return ["", *head, *doc, indent + "# Your code here.", indent + STUB_BODY]


def student_notebook(nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, int]:
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        if SOLUTION_TAG in cell.metadata.get("tags", []):
            cell.source = stub_source(cell.source)
            count += 1
    return nb, count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="folder of notebooks")
    parser.add_argument("dest", type=Path, help="folder for the student edition")
    args = parser.parse_args(argv)
    args.dest.mkdir(parents=True, exist_ok=True)
    for path in sorted(args.source.glob("*.ipynb")):
        nb, count = student_notebook(nbformat.read(path, as_version=4))
        nbformat.write(nb, args.dest / path.name)
        print(f"{path.name}: {count} solution(s) replaced by stubs")
    print(f"student edition written to {args.dest.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
