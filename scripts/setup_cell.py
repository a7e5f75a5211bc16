"""The notebooks' setup cell (their first code cell), made from the repository URL.

``book/_config.yml`` (``repository.url``) is the single place the URL lives: the
book's launch buttons read it, and this script writes it into every notebook's setup
cell. ``python scripts/setup_cell.py --write`` rewrites the cells;
``python scripts/setup_cell.py --check`` (run by the tests) fails when a notebook's
first code cell differs from the template.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "book" / "_config.yml"
TAGS = ("setup", "hide-input")  # collapsed in the rendered book

TEMPLATE = """\
# Setup: on Colab, fetch the book's repository and install cnnlib; elsewhere nothing.
import os
import sys

# The URL is set once, in book/_config.yml (repository.url).
REPO_URL = "{url}"
if "google.colab" in sys.modules and not os.path.isdir("/content/cnn-book"):
    import subprocess

    subprocess.run(["git", "clone", "--depth", "1", REPO_URL, "/content/cnn-book"],
                   check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "/content/cnn-book"],
                   check=True)
    os.environ["CNNLIB_ROOT"] = "/content/cnn-book"  # where cnnlib finds data/
    os.chdir("/content/cnn-book/notebooks")

import cnnlib  # noqa: E402

device = cnnlib.setup(seed=0)  # seeds Python, NumPy and torch; picks cuda if present
FULL = cnnlib.full_scale()  # CNNLIB_FULL=1 runs the bigger experiments"""


def repository_url() -> str:
    config = yaml.safe_load(CONFIG.read_text())
    return config["repository"]["url"]


def setup_source() -> str:
    return TEMPLATE.format(url=repository_url())


def notebooks() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("*.ipynb"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the setup cells")
    parser.add_argument("--check", action="store_true", help="fail on a stale cell")
    args = parser.parse_args(argv)
    source, stale = setup_source(), []
    for path in notebooks():
        nb = nbformat.read(path, as_version=4)
        code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
        first = nb.cells[code[0]] if code else None
        if first is not None and first.source == source:
            continue
        stale.append(path.name)
        if args.write:
            cell = nbformat.v4.new_code_cell(source, metadata={"tags": list(TAGS)})
            if first is not None and TAGS[0] in first.metadata.get("tags", []):
                cell.id = first.get("id", cell.id)
                nb.cells[code[0]] = cell
            else:  # after the title cell, before any other code
                nb.cells.insert(code[0] if code else len(nb.cells), cell)
            nbformat.write(nb, path)
    if stale and args.check and not args.write:
        print("setup cell differs from the template in:", ", ".join(stale))
        print("run: python scripts/setup_cell.py --write")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
