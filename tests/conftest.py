"""Shared pytest fixtures: the repository root, the built book, a local web server for
it, and a headless Chromium driven by Playwright.

Tests that need the rendered book skip when it has not been built (run `make book`
first), and fail instead when ``CNNBOOK_REQUIRE_BOOK=1`` (as in CI). Browser tests skip
when Debian's Chromium is missing, and fail instead when ``CNNBOOK_REQUIRE_BROWSER=1``.

It also registers the hypothesis profiles of the property suite
(tests/test_properties_*.py), chosen with ``HYPOTHESIS_PROFILE`` (default "ci"):
"ci" runs a fixed, reproducible set of examples; "explore" runs many more random ones
and keeps failing examples in .hypothesis/ to replay them.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
BOOK_HTML = ROOT / "book" / "_build" / "html"
ARTIFACTS = ROOT / "book" / "_build" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CI_EXAMPLES = 25  # per property test: the ci profile's suite runs in about 35 s
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# ci: the same examples on every run (derandomize, no example database), no deadline
# (a shared two-core machine makes timings noisy), and the blob to reproduce a failure.
# No health check is suppressed: the strategies build their arguments constructively
# (next to no filtering) and draw array values from a seed, so generation is fast.
# explore: 40 times the examples, random, failures kept in .hypothesis/ (the whole
# suite takes 15 to 25 minutes; pick tests with -k).
settings.register_profile(
    "ci",
    max_examples=CI_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
)
settings.register_profile(
    "explore",
    max_examples=40 * CI_EXAMPLES,
    derandomize=False,
    deadline=None,
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _required(variable: str) -> bool:
    return os.environ.get(variable, "").strip() not in ("", "0")


def _skip_or_fail(message: str, variable: str) -> None:
    if _required(variable):
        pytest.fail(f"{message} ({variable}=1 makes this an error)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root."""
    return ROOT


@pytest.fixture(scope="session")
def book_html() -> Path:
    """book/_build/html, once it holds a built book."""
    if not (BOOK_HTML / "index.html").is_file():
        _skip_or_fail(
            f"no built book at {BOOK_HTML / 'index.html'}: run `make book` first",
            "CNNBOOK_REQUIRE_BOOK",
        )
    return BOOK_HTML


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """book/_build/artifacts: screenshots and other files CI keeps."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def book_server(book_html: Path) -> Iterator[str]:
    """Serve the built book on 127.0.0.1 (a free port); yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(book_html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """A headless Debian Chromium (Playwright ``Browser``), shared by the session."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        _skip_or_fail(
            f"{CHROMIUM} not found: install Debian's chromium: "
            "apt-get install chromium",
            "CNNBOOK_REQUIRE_BROWSER",
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail(
            "the playwright package is missing: pip install playwright",
            "CNNBOOK_REQUIRE_BROWSER",
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
