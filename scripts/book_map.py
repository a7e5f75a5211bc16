"""The map of the book on book/intro.md, made from book/chapters.yml.

``python scripts/book_map.py --write`` draws book/figures/chapter_map.svg (which
chapter needs which) and rewrites the map block of book/intro.md (the figure and a
table: chapter, what it needs, how long it runs); ``--check`` (run by the tests)
fails when the block in intro.md differs from what chapters.yml gives.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "book" / "chapters.yml"
INTRO = ROOT / "book" / "intro.md"
FIGURE = ROOT / "book" / "figures" / "chapter_map.svg"
START = "<!-- map: written by scripts/book_map.py from book/chapters.yml -->"
END = "<!-- map: end -->"


def chapters() -> list[dict]:
    return yaml.safe_load(CHAPTERS.read_text())["chapters"]


def about(seconds: int) -> str:
    """'about 70 s': to the second under 20 s, to 10 s above."""
    return f"about {seconds if seconds < 20 else 10 * round(seconds / 10)} s"


def levels(rows: list[dict]) -> dict[str, int]:
    """Each chapter's column in the figure: one more than its deepest need."""
    level: dict[str, int] = {}
    for r in rows:  # needs come first (the tests check it)
        level[r["number"]] = 1 + max((level[n] for n in r["needs"]), default=-1)
    return level


def implied(rows: list[dict]) -> set[tuple[str, str]]:
    """(need, chapter) pairs that follow from others: a need of another need."""
    needs = {r["number"]: set(r["needs"]) for r in rows}

    def below(number: str) -> set[str]:
        return set().union(*({n} | below(n) for n in needs[number]))

    return {
        (n, r)
        for r in needs
        for n in needs[r]
        if any(n in below(m) for m in needs[r] - {n})
    }


def draw(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "chapter-map"})
    rows = [r for r in rows if not r["number"].startswith("A")]  # chapters only
    level, skip = levels(rows), implied(rows)
    columns: dict[int, list[str]] = {}
    for r in rows:
        columns.setdefault(level[r["number"]], []).append(r["number"])
    pos = {}
    for col, numbers in columns.items():
        for i, number in enumerate(numbers):
            pos[number] = (col * 2.7, (len(numbers) - 1) / 2 - i)
    fig, ax = plt.subplots(figsize=(8.6, 2.5))
    box = {"boxstyle": "round,pad=0.4", "fc": "#eef3fa", "ec": "#4a6fa5"}
    texts = {}
    for r in rows:
        label = f"{r['number']} {r['short']}\n{about(r['seconds'])}"
        texts[r["number"]] = ax.text(
            *pos[r["number"]], label, ha="center", va="center", fontsize=10, bbox=box
        )
    for r in rows:
        for need in r["needs"]:
            if (need, r["number"]) in skip:
                continue
            bend = 0.15 if pos[need][1] < 0 and pos[r["number"]][1] >= 0 else 0
            arrow = {
                "arrowstyle": "-|>",
                "color": "0.4",
                "lw": 1,
                "patchA": texts[need].get_bbox_patch(),  # from box edge to box edge
                "patchB": texts[r["number"]].get_bbox_patch(),
                "shrinkA": 1,
                "shrinkB": 1,
                "connectionstyle": f"arc3,rad={bend}",
            }
            ax.annotate("", xy=pos[r["number"]], xytext=pos[need], arrowprops=arrow)
    xs, ys = zip(*pos.values(), strict=True)
    ax.set(xlim=(min(xs) - 1, max(xs) + 1), ylim=(min(ys) - 0.6, max(ys) + 0.6))
    ax.axis("off")
    fig.tight_layout(pad=0.2)
    fig.savefig(path, format="svg", metadata={"Date": None})
    plt.close(fig)


def block(rows: list[dict]) -> str:
    arrows = "; ".join(
        f"{r['number']} needs {', '.join(r['needs'])}" for r in rows if r["needs"]
    )
    total = sum(r["seconds"] for r in rows)
    lines = [
        START,
        "```{figure} figures/chapter_map.svg",
        f":alt: Which chapter needs which: {arrows}.",
        ":width: 100%",
        "",
        "Which chapter needs which: an arrow points from a chapter to one that builds "
        "on it (arrows that follow from others are left out; the table lists every "
        "need). Under each title, how long the chapter takes to run on two CPU cores.",
        "```",
        "",
        "| Chapter | Needs | Runs in |",
        "| --- | --- | --- |",
    ]
    for r in rows:
        needs = ", ".join(r["needs"]) or "none"
        link = f"{r['number']} {{doc}}`../{r['file']}`"
        lines.append(f"| {link} | {needs} | {about(r['seconds'])} |")
    lines += [
        "",
        f"All of them together: about {round(total / 60)} minutes.",
        END,
    ]
    return "\n".join(lines)


def intro_with_map(text: str, rows: list[dict]) -> str:
    if START not in text or END not in text:
        raise SystemExit(f"{INTRO}: the map's markers ({START} ... {END}) are missing")
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    return head + block(rows) + tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite map and figure")
    parser.add_argument("--check", action="store_true", help="fail on a stale map")
    args = parser.parse_args(argv)
    rows, text = chapters(), INTRO.read_text()
    new = intro_with_map(text, rows)
    if args.write:
        FIGURE.parent.mkdir(exist_ok=True)
        draw(rows, FIGURE)
        if new != text:
            INTRO.write_text(new)
        print(f"wrote {FIGURE.relative_to(ROOT)} and the map in {INTRO.name}")
        return 0
    if new != text or not FIGURE.exists():
        print(
            f"the map in {INTRO.relative_to(ROOT)} (or its figure) is out of date "
            "with book/chapters.yml: run `python scripts/book_map.py --write`"
        )
        return 1 if args.check else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
