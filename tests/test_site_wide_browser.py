"""The site-wide parts of the published site in a real browser (headless Chromium) and in the
validators readers' tools trust: search, the menu on a phone and a desktop, dark mode and print,
the preview's tracker, the 404 page under a sub-path, axe at any impact and html-validate.

The sites are test_browser.py's (approved patient, professional and hostile articles, and a
preview with a draft), built once per module.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import urllib.request
from functools import partial
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from reviewflow.configfile import load_config
from reviewflow.publish.build import publish
from tests.browser.chrome import _QuietHandler, axe_source, console_errors, requested_urls, serve, unavailable
from tests.conftest import PROJECT
from tests.npm import CACHE, npm_install
from tests.test_browser import (
    AXE_RUN,
    INJECTION_TITLE,
    PAGES,
    Sites,
    browser,
    preview_url,
    public_url,
    sites,
    visit,
)
from tests.test_site_wide import build, library

# Fixtures shared with test_browser.py and test_site_wide.py.
__all__ = ["browser", "library", "preview_url", "public_url", "sites"]

HTML_VALIDATE_DIR = Path(os.environ.get("REVIEWFLOW_HTMLVALIDATE_DIR") or CACHE / "html-validate")
HTML_VALIDATE = HTML_VALIDATE_DIR / "node_modules" / "html-validate" / "bin" / "html-validate.mjs"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
DARK = {"features": [{"name": "prefers-color-scheme", "value": "dark"}]}
EVERY_PAGE = (*PAGES, "search/index.html?q=poems", "404.html")
PREVIEW_PAGES = ("index.html", "articles/draft/index.html", "search/index.html?q=draft")


def wide(driver: Any, size: str = "desktop") -> None:
    driver.set_window_size(*WIDTHS[size])


# --- search ---------------------------------------------------------------------------------


SEARCHED = """
    const status = document.getElementById('search-status');
    return document.readyState === 'complete' && location.search.includes('q=') && status !== null
      && !['', 'Searching\u2026'].includes(status.textContent);
"""


def search(driver: Any, url: str, query: str) -> list[str]:
    """Type QUERY into the search page and press Enter; the titles of the results."""
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    visit(driver, f"{url}/search/index.html")
    field = driver.find_element("id", "search-query")
    field.send_keys(query, Keys.ENTER)
    WebDriverWait(driver, 10).until(lambda d: d.execute_script(SEARCHED))
    return [a.text for a in driver.find_elements("css selector", "#search-results h2 a")]


def test_search_finds_articles_by_their_words_prefixes_and_accents(browser: Any, public_url: str) -> None:
    wide(browser)
    assert search(browser, public_url, "POEMS syndrome")[0] == "Living with POEMS syndrome"  # in its title
    status = browser.find_element("id", "search-status").text
    assert status.endswith("match “POEMS syndrome”.") and status[0].isdigit()
    assert search(browser, public_url, "treatm") == ["Treatment by extent"]  # a word being typed
    assert search(browser, public_url, "Tréatment EXTENT") == ["Treatment by extent"]
    assert search(browser, public_url, "radiation systemic") == ["Treatment by extent"]  # every word
    assert search(browser, public_url, "radiation zebra") == []
    assert browser.find_element("id", "search-status").text == "No articles match “radiation zebra”."
    search(browser, public_url, "extent")
    browser.find_element("css selector", "#search-results a").click()
    assert browser.current_url == f"{public_url}/articles/for-clinicians/index.html"
    assert console_errors(browser) == []


def test_search_reads_only_its_own_index_files(browser: Any, public_url: str) -> None:
    search(browser, public_url, "syndrome")
    asked = requested_urls(browser)
    assert asked and all(u.startswith(f"{public_url}/") for u in asked), asked
    index = [u for u in asked if "/search/" in u and u.endswith(".json")]
    assert f"{public_url}/search/index.json" in index and f"{public_url}/search/docs/0.json" in index
    assert len([u for u in index if "/search/terms/" in u]) == 1  # one word: one shard


def test_a_hostile_title_is_shown_as_text_in_the_results(browser: Any, public_url: str) -> None:
    assert search(browser, public_url, "injection") == [INJECTION_TITLE]
    assert browser.execute_script("return window.pwned") is None
    assert browser.title.startswith("Search articles")
    assert browser.execute_script("return document.querySelectorAll('#search-results script').length") == 0


def test_without_javascript_the_search_page_says_so_and_links_to_the_index(
    browser: Any, public_url: str
) -> None:
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        visit(browser, f"{public_url}/search/index.html")
        assert "Search needs JavaScript" in browser.find_element("tag name", "main").text
        assert not browser.find_element("id", "search-form").is_displayed()
        browser.find_element("link text", "index of all articles").click()
        assert browser.current_url == f"{public_url}/index.html"
    finally:
        browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


def test_opened_from_files_the_search_page_says_it_cannot_search_and_links_to_the_index(
    browser: Any, sites: Sites
) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    visit(browser, (sites.public / "search" / "index.html").as_uri() + "?q=poems")
    fallback = browser.find_element("id", "search-fallback")
    WebDriverWait(browser, 10).until(lambda d: fallback.is_displayed())
    assert "cannot read its index" in fallback.text
    assert browser.find_elements("css selector", "#search-results li") == []
    fallback.find_element("link text", "index of all articles").click()
    assert browser.current_url == (sites.public / "index.html").as_uri()


# --- the menu -------------------------------------------------------------------------------------


def shown(driver: Any, element: Any) -> bool:
    """Whether the browser renders ELEMENT (Selenium's is_displayed calls anything in a closed
    <details> hidden, whatever the style sheet does with it)."""
    return bool(driver.execute_script("return arguments[0].checkVisibility()", element))


def test_on_a_phone_the_menu_is_folded_and_opens_from_the_keyboard(browser: Any, public_url: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    wide(browser, "phone")
    try:
        visit(browser, f"{public_url}/articles/for-patients/index.html")
        summary = browser.find_element("css selector", "nav summary")
        links = browser.find_elements("css selector", "nav[aria-label=Site] .menu a")
        first, last = links[0], links[-1]
        assert not any(shown(browser, a) for a in browser.find_elements("css selector", ".menu-row a"))
        assert shown(browser, summary) and not shown(browser, first)
        keys = ActionChains(browser)
        for _ in range(3):  # the skip link, the site's name, the menu
            keys.send_keys(Keys.TAB)
        keys.perform()
        assert browser.switch_to.active_element == summary
        ActionChains(browser).send_keys(Keys.ENTER).perform()
        assert shown(browser, first) and shown(browser, last) and last.text == "Search"
        ActionChains(browser).send_keys(Keys.TAB).perform()
        assert browser.switch_to.active_element == first
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= 390
    finally:
        wide(browser)


def test_on_a_desktop_the_menu_is_a_row_of_links(browser: Any, public_url: str) -> None:
    wide(browser)
    visit(browser, f"{public_url}/index.html")
    assert not shown(browser, browser.find_element("css selector", "nav summary"))
    links = browser.find_elements("css selector", "nav[aria-label=Site] .menu-row a")
    assert all(shown(browser, a) for a in links)
    assert not any(shown(browser, a) for a in browser.find_elements("css selector", ".menu a"))
    assert browser.execute_script("return arguments[0].textContent", links[-1]) == "Search"
    assert links[0].rect["y"] == links[1].rect["y"] and links[1].rect["x"] > links[0].rect["x"]


# --- dark mode, print, the preview ----------------------------------------------------------------


def colours(driver: Any, selector: str) -> tuple[str, str]:
    found: list[str] = driver.execute_script(
        "const s = getComputedStyle(document.querySelector(arguments[0])); return [s.color, s.backgroundColor]",
        selector,
    )
    return found[0], found[1]


def test_dark_mode_turns_the_page_dark_and_print_turns_it_back(browser: Any, public_url: str) -> None:
    visit(browser, f"{public_url}/articles/for-patients/index.html")
    assert colours(browser, "body")[1] == "rgb(255, 255, 255)"
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", DARK)
    try:
        text, ground = colours(browser, "body")
        assert ground == "rgb(17, 20, 24)" and text == "rgb(230, 232, 235)"
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {**DARK, "media": "print"})
        assert colours(browser, "body") == ("rgb(0, 0, 0)", "rgb(255, 255, 255)")
        hidden = browser.execute_script(
            "return ['.site-footer', '.site-header nav', '.skip-link']"
            ".map(s => getComputedStyle(document.querySelector(s)).display)"
        )
        assert hidden == ["none", "none", "none"]
        shown = browser.execute_script(
            "return getComputedStyle(document.querySelector('.ref-links a'), '::after').content"
        )
        assert "https://doi.org/" in shown  # a printed reference keeps its address
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "", "features": []})


def test_a_step_in_progress_is_not_coloured_like_approved(browser: Any, library: Path) -> None:
    preview = build(library, "preview", preview=True)
    with serve(preview) as url:
        visit(browser, f"{url}/articles/pending/index.html")
        pending = colours(browser, ".tracker li.current")
        assert "Changes requested" in browser.find_element("css selector", ".banner.pending").text
        assert "changes-requested" not in browser.find_element("tag name", "body").text
        assert browser.find_element("css selector", "header .preview-bar").is_displayed()
        visit(browser, f"{url}/articles/nerves/index.html")
        approved = colours(browser, ".tracker li.current")
        assert pending != approved and pending[1] != approved[1]
        # The pending colours pass axe's contrast audit, light and dark, as everything else does.
        source = axe_source()
        problems = axe_violations(browser, f"{url}/articles/pending/index.html", source)
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", DARK)
        try:
            problems += axe_violations(browser, f"{url}/articles/pending/index.html", source)
        finally:
            browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "", "features": []})
    assert problems == []


# --- 404 under a sub-path ------------------------------------------------------------------------


class _NotFoundHandler(_QuietHandler):
    """Serves SITE/404.html for every missing path, as a web server configured for it does."""

    not_found: Path

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        if code != 404:
            super().send_error(code, message, explain)
            return
        body = self.not_found.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_the_404_page_works_from_any_depth_under_a_sub_path(
    browser: Any, sites: Sites, tmp_path: Path
) -> None:
    repo = sites.public.parent / "content"
    site = publish(
        repo, tmp_path / "www" / "health", config=load_config(repo), base_url="https://x.example/health/"
    )
    handler = type("Handler", (_NotFoundHandler,), {"not_found": site.out / "404.html"})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(tmp_path / "www")))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    root = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        for missing in ("/health/nothing", "/health/articles/gone/index.html", "/health/a/b/c/d/"):
            visit(browser, root + missing)
            assert browser.find_element("tag name", "h1").text == "Page not found"
            assert browser.execute_script("return document.styleSheets[0].cssRules.length") > 10, missing
            hrefs = {a.get_attribute("href") for a in browser.find_elements("css selector", "a[href]")}
            for href in sorted(h for h in hrefs if h.startswith(root) and "#" not in h):
                with urllib.request.urlopen(href) as response:  # noqa: S310 - our own local server
                    assert response.status == 200, href
            assert f"{root}/health/search/index.html" in hrefs
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- axe at any impact, html-validate -----------------------------------------------------------------


def axe_violations(driver: Any, url: str, source: str) -> list[str]:
    visit(driver, url)
    if "q=" in url:  # let the search page show its results before the audit
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(driver, 10).until(lambda d: d.execute_script(SEARCHED))
    driver.execute_script(source)
    return [
        f"{url}: {v['id']} ({v['impact']}): {v['help']} {v['nodes']}"
        for v in driver.execute_async_script(AXE_RUN)
    ]


def test_axe_finds_nothing_on_any_page_at_any_impact_wide_narrow_and_dark(
    browser: Any, public_url: str, preview_url: str
) -> None:
    source = axe_source()
    urls = [f"{public_url}/{p}" for p in EVERY_PAGE] + [f"{preview_url}/{p}" for p in PREVIEW_PAGES]
    problems = []
    try:
        for size in WIDTHS:
            wide(browser, size)
            problems += [p for url in urls for p in axe_violations(browser, url, source)]
        wide(browser)
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", DARK)
        problems += [f"dark: {p}" for url in urls for p in axe_violations(browser, url, source)]
    finally:
        wide(browser)
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "", "features": []})
    assert problems == []


def html_validate() -> Path:
    """html-validate's command, installed from npm on first use (as .ci/run does)."""
    if not HTML_VALIDATE.is_file() and (why := npm_install("html-validate@9", HTML_VALIDATE_DIR)):
        unavailable(why)
    if not HTML_VALIDATE.is_file():
        unavailable(f"html-validate is not in {HTML_VALIDATE_DIR} after installing it")
    if shutil.which("node") is None:
        unavailable("node is not installed, and html-validate runs on it")
    return HTML_VALIDATE


def validate(files: list[Path]) -> list[str]:
    """html-validate's errors in FILES under the project's .htmlvalidate.json, one line each."""
    node = subprocess.run(
        ["node", str(html_validate()), "--config", str(PROJECT / ".htmlvalidate.json"), "--formatter", "json",
         *map(str, files)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert node.returncode in (0, 1) and node.stdout.strip(), node.stderr
    return [
        f"{result['filePath']}:{m['line']}:{m['column']}: {m['message']} ({m['ruleId']})"
        for result in json.loads(node.stdout)
        for m in result["messages"]
        if m["severity"] == 2
    ]


def test_html_validate_finds_no_error_on_any_page(sites: Sites) -> None:
    pages = sorted(sites.public.rglob("*.html")) + sorted(sites.preview.rglob("*.html"))
    kinds = {
        p.relative_to(site).as_posix() for site in (sites.public, sites.preview) for p in site.rglob("*.html")
    }
    assert {"index.html", "404.html", "search/index.html", "board/index.html", "editorial-policy/index.html",
            "for-patients/index.html", "articles/draft/index.html"} <= kinds  # fmt: skip
    assert validate(pages) == []
    # The validator is live: a page with an error in it is reported, at its line and column.
    broken = sites.public.parent / "broken.html"
    broken.write_text((sites.public / "index.html").read_text().replace("<main", "<main><div><p></div>", 1))
    assert any("broken.html" in e for e in validate([broken]))
