"""The rendered book works offline: nothing is fetched from outside, equations are
typeset by the vendored MathJax and widgets render from their saved state.

Needs a built book (`make book`); see conftest.py for when these tests skip or fail.
"""

from __future__ import annotations

import json
import re
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

CHAPTER = "notebooks/02_convolution.html"


def _toc_pages() -> list[str]:
    """index.html and every page listed in book/_toc.yml."""
    toc = yaml.safe_load((Path(__file__).parent.parent / "book/_toc.yml").read_text())
    files = [toc["root"]] + [
        ch["file"] for part in toc.get("parts", []) for ch in part["chapters"]
    ]
    return ["index.html"] + [f"{f}.html" for f in files]


PAGES = _toc_pages()


def _widget_chapters() -> list[str]:
    """The chapters whose notebooks show an ipywidgets explorer."""
    notebooks = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
    return [
        f"notebooks/{nb.stem}.html"
        for nb in notebooks
        if "_explorer(" in nb.read_text(encoding="utf-8")
    ]


WIDGET_CHAPTERS = _widget_chapters()
MATH_PAGES = {"book/notation.html", CHAPTER}  # pages that must show typeset math
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
LOCAL_SCHEMES = {"", "file", "data", "blob", "about"}
# console.error messages that are not failures: pydata-sphinx-theme on a first visit
# (no light/dark choice stored yet).
HARMLESS_CONSOLE = ("Got invalid theme mode",)

# <link rel=...> values that make the browser fetch (or connect to) the href.
FETCHING_RELS = {
    "stylesheet",
    "preload",
    "modulepreload",
    "prefetch",
    "icon",
    "apple-touch-icon",
    "manifest",
    "preconnect",
    "dns-prefetch",
}
# (tag, attribute) pairs the browser fetches on its own.
FETCHING_ATTRS = {
    ("script", "src"),
    ("img", "src"),
    ("img", "srcset"),
    ("source", "src"),
    ("source", "srcset"),
    ("iframe", "src"),
    ("frame", "src"),
    ("embed", "src"),
    ("object", "data"),
    ("video", "src"),
    ("video", "poster"),
    ("audio", "src"),
    ("track", "src"),
    ("input", "src"),
    ("image", "href"),
    ("image", "xlink:href"),
    ("use", "href"),
    ("use", "xlink:href"),
}
CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]*)\1\s*\)""")
CSS_IMPORT = re.compile(r"""@import\s+(['"])([^'"]+)\1""")


def is_outside(url: str) -> bool:
    """True for an address on another machine (http(s), ws, ftp, //host/...)."""
    url = url.strip()
    if url.startswith("//"):
        return True
    parts = urlsplit(url)
    if parts.scheme.lower() in LOCAL_SCHEMES:
        return False
    return parts.hostname not in LOCAL_HOSTS


def srcset_urls(value: str) -> list[str]:
    return [item.split()[0] for item in value.split(",") if item.strip()]


class ResourceParser(HTMLParser):
    """Collects what a page makes the browser fetch: (description, url) pairs, plus
    the inline MathJax configuration and the widget manager's CDN setting."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fetched: list[tuple[str, str]] = []
        self.settings: list[tuple[str, str]] = []  # addresses in JS configuration
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        for name, value in values.items():
            if (tag, name) in FETCHING_ATTRS:
                urls = srcset_urls(value) if name == "srcset" else [value]
                self.fetched += [(f"<{tag} {name}>", url) for url in urls if url]
            if name == "style":
                self.fetched += [(f"<{tag} style> url()", u) for u in css_refs(value)]
            if tag == "script" and name.startswith("data-"):
                self.settings.append((f"<script {name}>", value))
        rels = set(values.get("rel", "").lower().split())
        if tag == "link" and rels & FETCHING_RELS and values.get("href"):
            self.fetched.append((f"<link rel={values['rel']}>", values["href"]))
        self._in = tag if tag in ("style", "script") else None

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "style":
            self.fetched += [("<style> url()/@import", u) for u in css_refs(data)]
        elif self._in == "script" and "window.MathJax" in data:
            config = json.loads(data.split("=", 1)[1].strip().rstrip(";"))
            self.settings += [("MathJax config", s) for s in json_strings(config)]


def css_refs(css: str) -> list[str]:
    """The addresses a stylesheet loads: url(...) and @import "..."."""
    refs = [m.group(2) for m in CSS_URL.finditer(css)]
    return refs + [m.group(2) for m in CSS_IMPORT.finditer(css)]


def json_strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [s for item in value for s in json_strings(item)]
    return []


def local_target(base: Path, url: str) -> Path | None:
    """The file a local (relative) reference points to, or None for data: etc."""
    parts = urlsplit(url)
    if parts.scheme or not parts.path:
        return None
    return (base.parent / unquote(parts.path)).resolve()


def book_pages(root: Path) -> list[Path]:
    """The site's pages: every *.html but the theme's templates in _static and the
    vendored libraries."""
    skip = {"_static", "_sources", "_images", "vendor"}
    pages = root.rglob("*.html")
    return sorted(p for p in pages if p.relative_to(root).parts[0] not in skip)


def scan_book(root: Path) -> tuple[list[str], list[str]]:
    """(outside addresses fetched, local references to missing files) over every page
    and the stylesheets they load."""
    root = root.resolve()
    outside, missing = [], []
    css_seen: set[Path] = set()
    css_todo: list[Path] = []

    def check(source: Path, what: str, url: str) -> None:
        where = f"{source.relative_to(root)}: {what} {url}"
        if is_outside(url):
            outside.append(where)
            return
        target = local_target(source, url)
        if target is None:
            return
        if not target.is_file():
            missing.append(where)
        elif target.suffix == ".css" and target not in css_seen:
            css_seen.add(target)
            css_todo.append(target)

    for page in book_pages(root):
        parser = ResourceParser()
        parser.feed(page.read_text(encoding="utf-8"))
        for what, url in parser.fetched:
            check(page, what, url)
        for what, value in parser.settings:
            if is_outside(value) and re.match(r"(?i)^\s*(https?:|ftp:|ws:|//)", value):
                outside.append(f"{page.relative_to(root)}: {what} {value}")
    while css_todo:
        sheet = css_todo.pop()
        for url in css_refs(sheet.read_text(encoding="utf-8", errors="replace")):
            check(sheet, "url()/@import", url)
    return outside, missing


# --- the built HTML -----------------------------------------------------------------


def test_is_outside() -> None:
    assert is_outside("https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js")
    assert is_outside("//unpkg.com/x.js")
    assert not is_outside("../_static/../vendor/mathjax/tex-chtml-full.js?v=1")
    assert not is_outside("data:font/woff2;base64,AAAA")
    assert not is_outside("http://127.0.0.1:8000/index.html")


def test_html_fetches_nothing_from_outside(book_html: Path) -> None:
    outside, missing = scan_book(book_html)
    assert not outside, "the built book fetches from outside:\n" + "\n".join(outside)
    assert not missing, "references to files missing from the build:\n" + "\n".join(
        missing
    )


def test_offline_assets_are_vendored(book_html: Path) -> None:
    chapter = (book_html / CHAPTER).read_text(encoding="utf-8")
    for path in (
        "vendor/mathjax/tex-chtml-full.js",
        "vendor/requirejs/require.js",
        "vendor/html-manager/embed-amd.js",
    ):
        assert (book_html / path).is_file(), f"{path} missing from the build"
        assert path in chapter, f"the chapter page does not load {path}"
    fonts = book_html / "vendor/mathjax/output/chtml/fonts/woff-v2"
    assert any(fonts.glob("*.woff")), "MathJax's CHTML fonts are missing"


def test_colab_launch_link(book_html: Path, repo_root: Path) -> None:
    config = yaml.safe_load((repo_root / "book" / "_config.yml").read_text())
    repo = config["repository"]
    org_repo = urlsplit(repo["url"]).path.strip("/")
    expected = (
        f"https://colab.research.google.com/github/{org_repo}/blob/{repo['branch']}"
        "/notebooks/02_convolution.ipynb"
    )
    chapter = (book_html / CHAPTER).read_text(encoding="utf-8")
    assert f'href="{expected}"' in chapter, f"no Colab link to {expected}"


# --- in a browser -------------------------------------------------------------------


def is_local_request(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "file"):
        return True
    return parts.scheme in ("http", "https") and parts.hostname in LOCAL_HOSTS


@pytest.fixture(params=["http", "file"])
def book_url(request: pytest.FixtureRequest, book_html: Path) -> str:
    """The book's base URL: served on 127.0.0.1, or opened straight from disk."""
    if request.param == "http":
        return request.getfixturevalue("book_server")
    return book_html.as_uri() + "/"


@pytest.fixture
def browser_page(chromium, book_url: str):
    """A fresh page whose requests are recorded; outside requests are aborted (and
    reported by the tests), so nothing waits on a network that is not there."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    log = {"requests": [], "failed": [], "errors": [], "console": []}

    def route(route):
        if is_local_request(route.request.url):
            route.continue_()
        else:
            route.abort()

    def on_response(response) -> None:
        if response.status >= 400:
            log["failed"].append(f"{response.url} (HTTP {response.status})")

    def on_console(message) -> None:
        if message.type == "error" and not message.text.startswith(HARMLESS_CONSOLE):
            log["console"].append(message.text)

    context.route("**/*", route)
    page = context.new_page()
    log["pending"] = {}  # request -> its URL, until it finishes or fails
    log["last_change"] = [time.monotonic()]

    def started(request) -> None:
        log["requests"].append(request.url)
        log["pending"][request] = request.url
        log["last_change"][0] = time.monotonic()

    def ended(request) -> None:
        log["pending"].pop(request, None)
        log["last_change"][0] = time.monotonic()

    # generous: on a 2-core machine busy with other jobs, a long chapter's page once
    # took over 30 s, and once over 120 s, to reach "networkidle" (file://)
    page.set_default_timeout(300_000)
    page.on("request", started)
    page.on("requestfinished", ended)
    page.on("requestfailed", ended)
    page.on("requestfailed", lambda r: log["failed"].append(f"{r.url} ({r.failure})"))
    page.on("response", on_response)
    page.on("pageerror", lambda e: log["errors"].append(str(e)))
    page.on("console", on_console)
    try:
        yield page, log
    finally:
        context.close()


def wait_until_quiet(page, log: dict, quiet: float = 0.5, limit: float = 300) -> None:
    """Wait until no request has been in flight for `quiet` seconds: Playwright's
    "networkidle", tracked from the page's own request events. (Chromium's own
    network-idle signal once never came for a file:// chapter on a busy machine,
    although every request had finished; this way a timeout names what is pending.)"""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if not log["pending"] and time.monotonic() - log["last_change"][0] >= quiet:
            return
        page.wait_for_timeout(100)
    pending = "\n".join(sorted(log["pending"].values())) or "(none)"
    raise AssertionError(f"requests still in flight after {limit:.0f} s:\n{pending}")


REFRESH = re.compile(r"""<meta http-equiv="refresh" content="0; url=([^"]+)""", re.I)


def open_and_typeset(page, book_url: str, path: str, book_html: Path) -> dict:
    """Open a page (following index.html's redirect), wait for MathJax to finish and
    count typeset, untypeset and failed equations."""
    url = book_url + path
    redirect = REFRESH.search((book_html / path).read_text(encoding="utf-8"))
    if redirect:  # index.html sends the reader to the first page
        page.goto(url, wait_until="commit")
        page.wait_for_url(book_url + redirect.group(1), wait_until="load")
    else:
        page.goto(url, wait_until="load")
    has_mathjax = page.evaluate(
        "() => !!document.querySelector('script[src*=mathjax]')"
    )
    if has_mathjax:
        page.wait_for_function(
            "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
            timeout=300_000,
        )
        page.evaluate("() => MathJax.startup.promise")
    return page.evaluate(
        """() => ({
            math: document.querySelectorAll('.math').length,
            typeset: document.querySelectorAll('mjx-container').length,
            untypeset: [...document.querySelectorAll('.math')]
                .filter(e => !e.querySelector('mjx-container')).length,
            errors: document.querySelectorAll('mjx-merror, [data-mjx-error]').length,
        })"""
    )


@pytest.mark.parametrize("path", PAGES)
def test_page_offline_in_browser(
    browser_page, book_url: str, book_html: Path, artifacts_dir: Path, path: str
) -> None:
    """Each page loads once per scheme (loading a chapter is the slow part): its
    requests, its equations and, on a chapter with an explorer, its widgets."""
    page, log = browser_page
    math = open_and_typeset(page, book_url, path, book_html)
    if path in WIDGET_CHAPTERS:
        page.wait_for_selector(".cell_output .jupyter-widgets", timeout=300_000)
    wait_until_quiet(page, log)

    outside = [url for url in log["requests"] if not is_local_request(url)]
    assert not outside, "requests that leave the machine:\n" + "\n".join(outside)
    assert not log["failed"], "local resources that failed:\n" + "\n".join(
        log["failed"]
    )
    assert not log["errors"], "JavaScript errors:\n" + "\n".join(log["errors"])
    assert not log["console"], "console errors:\n" + "\n".join(log["console"])

    assert math["errors"] == 0, f"MathJax reported {math['errors']} errors"
    assert math["untypeset"] == 0, f"{math['untypeset']} equations left as raw TeX"
    if path in MATH_PAGES:
        assert math["typeset"] > 0, f"no typeset equations on {path}"
    if path in WIDGET_CHAPTERS:
        check_widgets_rendered(page)
        if book_url.startswith("http"):
            shot = artifacts_dir / f"chapter-{Path(path).stem[:2]}.png"
            page.screenshot(path=str(shot), full_page=True)


def test_widget_chapters_are_found():
    assert CHAPTER in WIDGET_CHAPTERS and len(WIDGET_CHAPTERS) >= 3
    assert set(WIDGET_CHAPTERS) <= set(PAGES)  # so the page test checks their widgets


def check_widgets_rendered(page) -> None:
    """Every saved widget view of the open chapter rendered, sliders included."""
    views = page.locator('script[type="application/vnd.jupyter.widget-view+json"]')
    assert views.count() > 0, "the chapter has no widget outputs"
    rendered = page.evaluate(
        """() => [...document.querySelectorAll(
                'script[type="application/vnd.jupyter.widget-view+json"]')]
            .filter(s => s.parentElement.querySelector('.jupyter-widgets')).length"""
    )
    assert rendered == views.count(), (
        f"{views.count() - rendered} of {views.count()} widgets did not render"
    )
    assert page.locator(".cell_output .widget-slider").count() > 0, "no slider"
    outputs = page.locator(".cell_output").all_inner_texts()
    assert not any("Loading widget" in text for text in outputs)
