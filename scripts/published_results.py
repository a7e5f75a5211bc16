"""Write the appendix page book/published_results.md from cnnlib.published.RESULTS.

The table lives in ``cnnlib/published.py``; each chapter asserts its figure against
its row there (``matches_published``), and this script turns the rows into the page.
``python scripts/published_results.py --write`` rewrites the page;
``python scripts/published_results.py --check`` (run by the tests) fails when the
committed page differs from what the table gives.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cnnlib.published import RESULTS, Result  # noqa: E402

PAGE = ROOT / "book" / "published_results.md"

HEADER = """\
# Published results, reproduced

<!-- Written by scripts/published_results.py from cnnlib/published.py: do not edit
here; change the table there and run `python scripts/published_results.py --write`. -->

Several chapters rerun a published experiment in miniature, small enough for a laptop
CPU. This page lists them: the paper, its figure, ours, the setting that differs, and
the section that reproduces it. The column "ours" is not copied by hand: it is written
from the table in `cnnlib/published.py`, and the chapter's code asserts its measured
figure against the same table (`assert matches_published(...)`, next to the chapter's
own checks), so a chapter whose result drifts stops the book build instead of leaving
this page out of date. Trained results are those of the quick mode that produced these
pages; the full mode (`CNNLIB_FULL=1`) trains longer and checks them only against the
chapter's own margins. Parameter counts and measurements at initialisation hold in
both modes.

The point of each row is the comparison, not the absolute number: our networks are
smaller, our data sets are subsets and our training runs last seconds, so accuracies
differ from the papers', while the orderings and ratios the papers report come out the
same.
"""

COLUMNS = ("Paper", "Published", "Ours", "Setting that differs", "Section")


def slug(heading: str) -> str:
    """The anchor MyST gives a heading (myst_heading_anchors, GitHub style)."""
    from myst_parser.mdit_to_docutils.base import default_slugify

    return default_slugify(heading)


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def row(result: Result) -> str:
    number = int(result.notebook[:2])
    title = re.sub(r"^(\d+)\. ", r"\1 ", result.section)  # "§10 MNIST-1D"
    link = (
        f"[chapter {number}, §{title}]"
        f"(../notebooks/{result.notebook}.ipynb#{slug(result.section)})"
    )
    ours = result.ours_text() + (" (quick mode)" if result.quick_only else "")
    paper = f"{{cite:t}}`{result.cite}`"  # 'Author et al. (year)', linked
    texts = (paper, result.published, ours, result.setting, link)
    return "| " + " | ".join(cell(t) for t in texts) + " |"


def page() -> str:
    lines = [
        HEADER,
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join(" --- " for _ in COLUMNS) + "|",
    ]
    lines += [row(result) for result in RESULTS]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the page")
    parser.add_argument("--check", action="store_true", help="fail on a stale page")
    args = parser.parse_args(argv)
    text = page()
    current = PAGE.read_text() if PAGE.exists() else None
    if args.write and current != text:
        PAGE.write_text(text)
        print(f"wrote {PAGE.relative_to(ROOT)}")
    elif current != text:
        print(
            f"{PAGE.relative_to(ROOT)} is out of date with cnnlib/published.py: "
            "run `python scripts/published_results.py --write`"
        )
        return 1 if args.check else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
