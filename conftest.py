"""How pytest-xdist (`make test`: ``pytest -n JOBS``) spreads the library tests and
nbval's notebooks over the CPU cores.

This file sits at the repository root, so that ``pytest tests``, ``pytest notebooks``
and ``pytest tests notebooks`` all load it.

- Each notebook is one unit of work: nbval's cells share one Jupyter kernel and must
  run in order in the worker that started it (with xdist's default scheduling, cell 5
  would run in another worker's kernel, without what cells 0 to 4 defined). So is
  tests/test_book.py: one Chromium and one web server for all its pages (with two
  browsers at once, next to the notebooks, a page took over 300 s to settle on two
  cores). Every other test is a unit of its own, so they spread evenly. (xdist's
  ``--dist loadgroup`` with ``xdist_group`` marks would group them too, but with
  pytest 9.2's node ids xdist 3.8 silently stops grouping: pytest-xdist issue #1386.)
- The longest units go first; the thousands of short library tests then fill the
  gaps, so the workers finish together.
- Each worker gives torch and BLAS one thread, as every notebook's kernel has
  (cnnlib.setup): two workers and two kernels on two cores, each with two threads,
  would wait for each other (see cnnlib.runtime). ``CNNLIB_THREADS`` still decides.

An explicit ``--dist`` mode other than xdist's default (``load``) is left alone:
``loadfile`` and ``loadscope`` also keep a notebook in one worker.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml


# Seconds each whole-file unit takes on an idle 2-core machine: the notebooks' cell
# times in the book build (book/chapters.yml, which the introduction's map also shows),
# and test_book.py's in a serial pytest run. Only the order matters: a notebook without
# a time counts as the longest and starts first.
def _unit_seconds() -> dict[str, float]:
    book = yaml.safe_load((Path(__file__).parent / "book/chapters.yml").read_text())
    seconds = {f"{c['file']}.ipynb": c["seconds"] for c in book["chapters"]}
    return {"tests/test_book.py": 124, **seconds}


UNIT_SECONDS = _unit_seconds()
WHOLE_FILES = {"tests/test_book.py"}  # besides every notebook


def _whole_file(nodeid: str) -> str | None:
    """The file of a test that runs with the rest of its file, else None."""
    path = nodeid.split("::", 1)[0]  # "notebooks/x.ipynb::Cell 3": nbval's cells
    return path if path.endswith(".ipynb") or path in WHOLE_FILES else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Whole-file units first, longest first; then the tests in collection order."""
    longest = max(UNIT_SECONDS.values()) + 1

    def order(item: pytest.Item) -> tuple[int, float]:
        path = _whole_file(item.nodeid)
        if path is None:
            return (1, 0.0)
        return (0, -UNIT_SECONDS.get(path, longest))

    items.sort(key=order)  # stable: a file's tests stay in order, so do the others


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist, called when it runs
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    if config.getoption("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class WholeFileScheduling(LoadScopeScheduling):
        """A unit per whole file, one per other test; sent in collection order."""

        def _split_scope(self, nodeid: str) -> str:
            return _whole_file(nodeid) or nodeid

    # LoadScopeScheduling would sort the units by their number of tests instead
    config.option.loadscopereorder = False
    return WholeFileScheduling(config, log)


def pytest_configure(config: pytest.Config) -> None:
    if "PYTEST_XDIST_WORKER" in os.environ:
        from cnnlib.runtime import limit_threads, thread_count

        limit_threads(thread_count())
