"""The references page's style: pybtex's "alpha" ([HZRS16a] labels), sorted by author
with accents folded, so that Çiçek sorts under C rather than after Zhou.

Loaded as a Sphinx extension (book/_config.yml: `sphinx: local_extensions` and the
explicit `extensions` list) and selected with `bibtex_default_style: book`.
"""

import unicodedata

from pybtex.plugin import register_plugin
from pybtex.style.formatting.alpha import Style as AlphaStyle
from pybtex.style.sorting.author_year_title import SortingStyle


def _fold(text):
    """'Çiçek' -> 'Cicek': drop the combining marks of the decomposed letters."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class FoldedSortingStyle(SortingStyle):
    def person_key(self, person):
        return _fold(super().person_key(person))


class BookStyle(AlphaStyle):
    default_sorting_style = "book_author_year_title"


def setup(app):
    register_plugin(
        "pybtex.style.sorting", "book_author_year_title", FoldedSortingStyle
    )
    register_plugin("pybtex.style.formatting", "book", BookStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
