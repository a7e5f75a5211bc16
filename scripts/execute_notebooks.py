"""Execute the book's notebooks into the jupyter-cache, in parallel (run by
scripts/build_book.sh before `jupyter-book build`).

Jupyter Book 1 (myst-nb) executes the notebooks it finds outdated in the cache one
after the other, while Sphinx reads the pages. This script runs them first with
jupyter-cache's own `local-parallel` executor (one notebook per CPU core; each kernel
uses one thread, see cnnlib.setup) and the settings of the config's execute: section
(timeout, allow_errors, run_in_temp, exclude_patterns), so that the build then finds
every notebook in the cache ("Using cached notebook" in its log) and executes none
again. Notebooks already cached with the same code are not run again.

Exit status 1 when a notebook fails (the executor logs the cell and its traceback),
so that `make book` stops there, as the build itself would.

    python scripts/execute_notebooks.py CONFIG TOC CACHE_DIR
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path, PurePosixPath

import yaml
from jupyter_cache import get_cache
from jupyter_cache.executors import load_executor


def toc_notebooks(toc: Path) -> list[Path]:
    """The .ipynb files among the pages of a Jupyter Book toc (paths from the root)."""
    found: list[Path] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("root", "file") and isinstance(value, str):
                    path = Path(value).with_suffix(".ipynb")
                    if path.is_file():
                        found.append(path)
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load(toc.read_text()))
    return found


def main(config_path: str, toc_path: str, cache_dir: str) -> int:
    config = yaml.safe_load(Path(config_path).read_text())
    execute = config.get("execute") or {}
    if execute.get("execute_notebooks", "auto") != "cache":
        print("execute_notebooks: the book does not use the cache; nothing to do")
        return 0
    excluded = execute.get("exclude_patterns") or []  # matched as myst-nb does
    paths = [
        path
        for path in toc_notebooks(Path(toc_path))
        if not any(PurePosixPath(path.resolve().as_posix()).match(p) for p in excluded)
    ]
    cache = get_cache(execute.get("cache") or cache_dir)
    uris = [cache.add_nb_to_project(str(path)).uri for path in paths]
    logger = logging.getLogger("execute_notebooks")
    logging.basicConfig(format="%(name)s: %(message)s")
    logger.setLevel(logging.INFO)  # also makes the workers report each notebook
    executor = "temp-parallel" if execute.get("run_in_temp") else "local-parallel"
    result = load_executor(executor, cache, logger=logger).run_and_cache(
        filter_uris=uris,
        timeout=execute.get("timeout", 30),
        allow_errors=bool(execute.get("allow_errors", False)),
    )
    for uri in result.succeeded:
        seconds = cache.get_cached_project_nb(uri).data.get("execution_seconds", 0)
        logger.info(f"{Path(uri).name} ran in {seconds:.0f} s")
    failed = result.excepted + result.errored
    if failed:
        logger.error(f"FAILED (traceback above): {', '.join(failed)}")
        return 1
    logger.info(f"all {len(uris)} notebooks are in the cache")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
