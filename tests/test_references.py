"""The bibliography and the glossary agree with the text that uses them.

Citations are MyST roles, {cite:t}`he2016deep` or {cite:p}`he2016deep`, whose keys live
in book/references.bib (printed by book/references.md); glossary links are
{term}`receptive field` or {term}`fields <receptive field>`, whose targets are the terms
of book/glossary.md. Sphinx reports a missing key or term only when the whole book is
built (minutes); these checks take a second and name the file.
"""

import re
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
BIB = BOOK / "references.bib"
GLOSSARY = BOOK / "glossary.md"

CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]*)`")
TERM = re.compile(r"\{term\}`([^`]*)`")
BIB_ENTRY = re.compile(r"^@(\w+)\s*\{\s*([^,\s]+)\s*,", re.M)


def markdown_sources():
    """(name, text) of every markdown cell of the notebooks and every book page."""
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "markdown":
                yield f"{path.name} cell {i}", cell.source
    for path in sorted(BOOK.glob("*.md")):
        yield path.name, path.read_text()


def cited_keys(text):
    """Keys of every {cite...} role: {cite:p}`a,b` cites a and b."""
    keys = []
    for match in CITE.finditer(text):
        # sphinxcontrib-bibtex allows {pre}{post} text before the keys
        body = re.sub(r"^(\{[^}]*\})+", "", match.group(1))
        keys += [k.strip() for k in body.split(",") if k.strip()]
    return keys


def term_targets(text):
    """Targets of every {term} role: the text, or what is in <...> after it."""
    targets = []
    for match in TERM.finditer(text):
        body = match.group(1)
        m = re.fullmatch(r"(?s)(.*?)\s*<([^<>]+)>", body)
        targets.append(m.group(2) if m else body)
    return [_norm(t) for t in targets]


def _norm(term):
    return " ".join(term.split()).lower()


def bib_keys(text):
    return [key for kind, key in BIB_ENTRY.findall(text) if kind.lower() != "comment"]


def glossary_entries(text):
    """The glossary directive's entries, each a list of its terms (a term line, then
    optional alias lines, then the indented definition)."""
    block = re.search(r"^```\{glossary\}\n(.*?)^```", text, re.M | re.S)
    assert block, "book/glossary.md has no ```{glossary} block"
    entries, current = [], None
    for line in block.group(1).splitlines():
        if not line.strip() or line.startswith(":"):
            current = None
            continue
        if line[0].isspace():
            current = None  # a definition line ends the entry's term lines
            continue
        if current is None:
            current = []
            entries.append(current)
        current.append(line.strip())
    return entries


@pytest.fixture(scope="module")
def sources():
    return list(markdown_sources())


@pytest.fixture(scope="module")
def keys():
    return bib_keys(BIB.read_text())


def test_bib_keys_are_unique(keys):
    assert keys, f"no entries found in {BIB}"
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    assert not duplicates, f"book/references.bib defines {duplicates} more than once"


def test_bib_parses():
    pybtex = pytest.importorskip("pybtex.database")
    data = pybtex.parse_file(str(BIB))
    for key, entry in data.entries.items():
        missing = [f for f in ("title", "year") if f not in entry.fields]
        assert not missing, f"book/references.bib: {key} has no {', '.join(missing)}"
        assert entry.persons.get("author") or entry.persons.get("editor"), (
            f"book/references.bib: {key} has no author"
        )


def test_every_cited_key_is_in_the_bibliography(sources, keys):
    missing = [
        f"{name}: {key}"
        for name, text in sources
        for key in cited_keys(text)
        if key not in keys
    ]
    assert not missing, (
        "cited but not in book/references.bib (add the entry, or fix the key):\n"
        + "\n".join(missing)
    )


def test_every_bibliography_entry_is_cited(sources, keys):
    cited = {key for _, text in sources for key in cited_keys(text)}
    uncited = [key for key in keys if key not in cited]
    assert not uncited, (
        f"book/references.bib has entries no page cites: {uncited} "
        "(cite them where the text uses them, or remove them)"
    )


def test_glossary_terms_are_sorted_and_unique():
    entries = glossary_entries(GLOSSARY.read_text())
    assert 20 <= len(entries) <= 40, f"{len(entries)} glossary entries"
    firsts = [entry[0] for entry in entries]
    in_order = sorted(firsts, key=str.lower)
    assert firsts == in_order, (
        "book/glossary.md: keep the entries in alphabetical order; the first out of "
        f"place is {next(a for a, b in zip(firsts, in_order, strict=True) if a != b)!r}"
    )
    terms = [_norm(t) for entry in entries for t in entry]
    duplicates = sorted({t for t in terms if terms.count(t) > 1})
    assert not duplicates, f"book/glossary.md defines {duplicates} twice"


def test_every_term_link_is_in_the_glossary(sources):
    entries = glossary_entries(GLOSSARY.read_text())
    terms = {_norm(t) for entry in entries for t in entry}
    missing = [
        f"{name}: {target}"
        for name, text in sources
        for target in term_targets(text)
        if target not in terms
    ]
    assert not missing, (
        "{term} links to terms book/glossary.md does not define:\n" + "\n".join(missing)
    )


def test_chapters_link_to_the_glossary(sources):
    """The glossary is reached from the text: each chapter links some of its terms."""
    linked = {name.split(" cell ")[0] for name, text in sources if term_targets(text)}
    chapters = {p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    assert chapters <= linked, f"no {{term}} links in {sorted(chapters - linked)}"


def test_glossary_links_to_existing_chapters():
    text = GLOSSARY.read_text()
    docs = re.findall(r"\{doc\}`(?:[^`<]*<)?([^`>]+)>?`", text)
    assert docs, "the glossary should say which chapter teaches each term"
    for doc in docs:
        target = (BOOK / doc).resolve()
        assert any(target.with_suffix(ext).exists() for ext in (".ipynb", ".md")), (
            f"book/glossary.md links to {doc}, which does not exist"
        )


def test_the_book_is_configured_for_both():
    config = yaml.safe_load((BOOK / "_config.yml").read_text())
    assert "book/references.bib" in config.get("bibtex_bibfiles", [])
    # the explicit extension list replaces Jupyter Book's default one
    assert "sphinxcontrib.bibtex" in config["sphinx"]["config"]["extensions"]
    assert "```{bibliography}" in (BOOK / "references.md").read_text()
    toc = (BOOK / "_toc.yml").read_text()
    for page in ("book/references", "book/glossary"):
        assert re.search(rf"file:\s*{page}\s*$", toc, re.M), f"{page} is not in the toc"
