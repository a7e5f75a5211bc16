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

import pytest

# Seconds each whole-file unit took on an idle 2-core machine (the notebooks' cells in
# the book build, one thread each; test_book.py in a serial pytest run). Only the order
# matters: a notebook that is not listed yet counts as the longest and starts first;
# update the figures when a chapter grows or shrinks.
UNIT_SECONDS = {
    "tests/test_book.py": 142,
    "notebooks/07_batch_norm.ipynb": 129,
    "notebooks/06_equivariance.ipynb": 111,
    "notebooks/05_images.ipynb": 107,
    "notebooks/03_conv1d.ipynb": 88,
    "notebooks/08_resnets.ipynb": 83,
    "notebooks/01_why_convolutions.ipynb": 69,
    "notebooks/09_unet.ipynb": 48,
    "notebooks/04_backprop.ipynb": 16,
    "notebooks/A1_datasets.ipynb": 11,
    "notebooks/02_convolution.ipynb": 7,
}
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
