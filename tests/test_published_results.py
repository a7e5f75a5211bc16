"""The published-results page and the map of the book stay true mechanically.

The page book/published_results.md is written from cnnlib.published.RESULTS, and each
row's chapter asserts its figure against that row (``matches_published("key", ...)``),
so a chapter whose figure drifts fails nbval and the book build. These tests check the
other links: the page is up to date with the table, each row is checked by exactly the
notebook it names, and the section it links to exists. The map on book/intro.md is
written from book/chapters.yml; its tests check that it lists every chapter of the
toc once and that a chapter needs only earlier ones.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from cnnlib.published import (
    RESULTS,
    matches_published,
    published_result,
    published_value,
)

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
USE = re.compile(r"""\b(?:matches_published|published_value)\(\s*["']([^"']+)["']""")


def run_script(name: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / name), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def code_cells(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code"]


def headings(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    found = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            found += [
                m.group(2).strip()
                for m in re.finditer(r"^(#{1,2}) +(.+)$", cell.source, flags=re.M)
            ]
    return found


def uses() -> dict[str, set[str]]:
    """{row key: notebooks whose code cells check it}."""
    found: dict[str, set[str]] = {}
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        for source in code_cells(path):
            for key in USE.findall(source):
                found.setdefault(key, set()).add(path.stem)
    return found


def test_page_is_up_to_date_with_the_table():
    result = run_script("published_results.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_papers_are_in_the_bibliography():
    bib = (ROOT / "book" / "references.bib").read_text()
    for row in RESULTS:
        assert re.search(r"^@\w+\{" + re.escape(row.cite) + ",", bib, re.M), row.cite


def test_keys_are_unique_and_rows_format():
    keys = [r.key for r in RESULTS]
    assert len(keys) == len(set(keys))
    for row in RESULTS:
        assert row.ours_text()  # the template fits the value
        assert (NOTEBOOKS / f"{row.notebook}.ipynb").is_file(), row.key


def test_every_row_is_checked_by_exactly_its_notebook():
    found = uses()
    for row in RESULTS:
        assert found.get(row.key) == {row.notebook}, (
            f"row {row.key!r}: checked in {sorted(found.get(row.key, ()))}, "
            f"expected exactly in {row.notebook}"
        )
    unknown = set(found) - {r.key for r in RESULTS}
    assert not unknown, f"notebooks check rows that the table lacks: {unknown}"


def test_quick_only_rows_are_checked_only_in_the_quick_mode():
    for row in RESULTS:
        sources = code_cells(NOTEBOOKS / f"{row.notebook}.ipynb")
        source = next(s for s in sources if f'"{row.key}"' in s)
        lines = source.splitlines()
        at = next(i for i, line in enumerate(lines) if f'"{row.key}"' in line)
        guarded = any(
            "if not FULL" in line and not line.startswith(" ") for line in lines[:at]
        ) and lines[at].startswith(" ")
        assert guarded == row.quick_only, row.key


def test_links_point_to_existing_sections():
    page = (ROOT / "book" / "published_results.md").read_text()
    from myst_parser.mdit_to_docutils.base import default_slugify

    for row in RESULTS:
        path = NOTEBOOKS / f"{row.notebook}.ipynb"
        assert row.section in headings(path), f"{row.key}: no heading {row.section!r}"
        target = f"../notebooks/{row.notebook}.ipynb#{default_slugify(row.section)}"
        assert f"({target})" in page, target


def test_matches_published_names_the_row_on_a_mismatch():
    row = published_result("unet-572-388")
    assert matches_published(row.key, dict(row.value))
    with pytest.raises(AssertionError, match="unet-572-388"):
        matches_published(row.key, {**row.value, "output": 390})
    with pytest.raises(AssertionError):
        matches_published(row.key, {"input": 572})  # a missing figure
    tolerant = published_result("mnist1d-cnn-mlp")
    near = {k: v + 0.9 * tolerant.tolerance for k, v in tolerant.value.items()}
    assert matches_published(tolerant.key, near)
    far = {k: v + 2 * tolerant.tolerance for k, v in tolerant.value.items()}
    with pytest.raises(AssertionError):
        matches_published(tolerant.key, far)
    ranged = published_result("batchnorm-steps")  # ranges: {"plain": (400, inf), ...}
    (low, high), (bn_low, bn_high) = ranged.value["plain"], ranged.value["bn"]
    assert matches_published(ranged.key, {"plain": low, "bn": bn_high})
    assert matches_published(ranged.key, {"plain": high, "bn": bn_low})  # inf: never
    with pytest.raises(AssertionError, match="batchnorm-steps"):
        matches_published(ranged.key, {"plain": low - 1, "bn": bn_low})
    with pytest.raises(AssertionError, match="batchnorm-steps"):
        matches_published(ranged.key, {"plain": low, "bn": bn_high + 1})
    assert published_value("resnet-degradation").startswith("plain-32 >")
    with pytest.raises(KeyError, match="no row"):
        published_result("no-such-row")


# --- The map of the book on the intro page ---------------------------------------


def toc_notebooks() -> list[str]:
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    return [f for f in files if f.startswith("notebooks/")]


def chapters() -> list[dict]:
    return yaml.safe_load((ROOT / "book" / "chapters.yml").read_text())["chapters"]


def test_map_is_up_to_date_with_chapters_yml():
    result = run_script("book_map.py")
    assert result.returncode == 0, result.stdout + result.stderr
    svg = ROOT / "book" / "figures" / "chapter_map.svg"
    assert svg.stat().st_size < 50_000


def test_intro_lists_every_chapter_once():
    intro = (ROOT / "book" / "intro.md").read_text()
    assert "{tableofcontents}" not in intro  # the map replaces the listing
    assert "## Chapters" not in intro  # the sidebar's caption already says it
    for file in toc_notebooks():
        assert intro.count(f"`../{file}`") == 1, file
    linked = re.findall(r"`\.\./(notebooks/[\w.]+)`", intro)
    assert sorted(linked) == sorted(toc_notebooks())


def test_chapters_yml_matches_the_toc_and_needs_point_backwards():
    rows = chapters()
    assert [r["file"] for r in rows] == toc_notebooks()
    seen: set[str] = set()
    for r in rows:
        assert r["file"].split("/")[1].startswith(r["number"]), r
        assert set(r["needs"]) <= seen, f"{r['number']} needs a later chapter"
        assert r["seconds"] > 0
        seen.add(r["number"])
