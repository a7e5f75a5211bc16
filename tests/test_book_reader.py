"""What a reader and a teacher see in the built book: chapter and exercise numbers,
folded figure code, and the appendix pages (glossary, references, published results).

Needs a built book (`make book`), as tests/test_book.py; the browser test there opens
every page of the toc, these new pages included.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _exercise_count(notebook: Path) -> int:
    nb = nbformat.read(notebook, as_version=4)
    return sum(
        "{exercise-start}" in c.source for c in nb.cells if c.cell_type != "code"
    )


def _folded_count(notebook: Path) -> int:
    nb = nbformat.read(notebook, as_version=4)
    return sum(
        "hide-input" in c.metadata.get("tags", [])
        for c in nb.cells
        if c.cell_type == "code"
    )


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_and_exercises_numbered_as_the_file(book_html: Path, notebook: Path):
    """Chapter NN is "N." in its title and the sidebar, its exercises "Exercise N.1",
    "Exercise N.2", ...: "do 5.3" means one thing."""
    number = int(notebook.name[:2])
    html = (book_html / "notebooks" / f"{notebook.stem}.html").read_text()
    title = re.search(r'<h1><span class="section-number">([^<]*)</span>', html)
    assert title and title.group(1).strip() == f"{number}.", (
        f"{notebook.name}: page title numbered {title and title.group(1)!r}"
    )
    sidebar = re.search(rf'href="(?:#|{notebook.stem}\.html)">\s*{number}\. ', html)
    assert sidebar, f"{notebook.name}: the sidebar does not number it {number}."
    labels = re.findall(r"Exercise (\d+)\.(\d+)", html)
    count = _exercise_count(notebook)
    found = sorted({(int(a), int(b)) for a, b in labels})
    assert found == [(number, k) for k in range(1, count + 1)], (
        f"{notebook.name}: exercises labelled {found}, expected {number}.1 to "
        f"{number}.{count}"
    )


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.stem)
def test_figure_code_is_folded(book_html: Path, notebook: Path):
    """Every cell tagged hide-input renders folded (the theme's "show code" toggle)."""
    html = (book_html / "notebooks" / f"{notebook.stem}.html").read_text()
    folded = len(re.findall(r'class="cell [^"]*\btag_hide-input\b', html))
    assert folded == _folded_count(notebook), notebook.name


def test_glossary_page(book_html: Path):
    html = (book_html / "book" / "glossary.html").read_text()
    terms = re.findall(r'<dt id="term-[^"]+"', html)
    assert len(terms) >= 20, f"the glossary has {len(terms)} terms"
    chapter = (book_html / "notebooks" / "05_images.html").read_text()
    assert "glossary.html#term-" in chapter, "chapter 05 links no glossary term"


def test_references_page(book_html: Path):
    html = (book_html / "book" / "references.html").read_text()
    entries = re.findall(
        r'<div class="citation" id="id\d+"|<dt class="label" id=', html
    )
    assert len(entries) >= 16, f"the references page lists {len(entries)} entries"
    chapter = (book_html / "notebooks" / "08_resnets.html").read_text()
    assert "references.html#id" in chapter, "chapter 08 cites nothing"


def test_published_results_page(book_html: Path):
    html = (book_html / "book" / "published_results.html").read_text()
    rows = re.findall(r"<tr[ >]", html)
    assert len(rows) >= 10, f"the published-results table has {len(rows)} rows"
    links = re.findall(r'href="\.\./notebooks/(\d\d_[a-z0-9_]+)\.html#([^"]+)"', html)
    assert links, "the published-results page links to no chapter section"
    for stem, anchor in links:
        page = (book_html / "notebooks" / f"{stem}.html").read_text()
        assert f'id="{anchor}"' in page, f"{stem}.html has no section #{anchor}"


def test_intro_lists_each_chapter_once(book_html: Path):
    """The introduction's text (its map of the book) links every chapter once."""
    html = (book_html / "book" / "intro.html").read_text()
    article = html[html.index('<article class="bd-article"') : html.index("</article>")]
    for notebook in CHAPTERS:
        links = re.findall(rf'href="\.\./notebooks/{notebook.stem}\.html"', article)
        assert len(links) == 1, f"intro.html links {notebook.stem} {len(links)} times"
