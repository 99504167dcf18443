"""Headless Chromium for the browser tests: find it, serve a site to it, and read what it saw.

The browser is Debian's `chromium` with `chromium-driver`, driven by Selenium with the driver's
path given, so that Selenium Manager downloads nothing. axe-core comes from the npm registry
into a cache directory outside the repository. Where either is missing the tests skip with the
reason, unless REVIEWFLOW_BROWSER_TESTS=require (as .ci/run sets once it installed them), when
they fail instead: CI must really run them.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.npm import npm_install

BROWSERS = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
DRIVERS = ("/usr/bin/chromedriver", "chromedriver")
AXE_DIR = Path(os.environ.get("REVIEWFLOW_AXE_DIR") or Path.home() / ".cache" / "reviewflow-tests" / "axe")
AXE_FILE = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
CHROME_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
    "--window-size=1280,900",
)


def unavailable(reason: str) -> None:
    """Skip, or fail where the browser tests are required (CI)."""
    if os.environ.get("REVIEWFLOW_BROWSER_TESTS") == "require":
        pytest.fail(f"browser tests are required here, but {reason}")
    pytest.skip(reason)


def _which(candidates: tuple[str, ...]) -> str | None:
    for candidate in candidates:
        found = (
            candidate
            if os.path.isabs(candidate) and os.access(candidate, os.X_OK)
            else shutil.which(candidate)
        )
        if found:
            return found
    return None


def browser_paths() -> tuple[str, str]:
    try:
        import selenium  # noqa: F401
    except ImportError:
        unavailable("selenium is not installed (pip install -e '.[test]')")
    browser, driver = _which(BROWSERS), _which(DRIVERS)
    if browser is None or driver is None:
        unavailable(
            "no headless Chromium here: install the Debian packages `chromium` and `chromium-driver` "
            "(.ci/run does) to run the browser tests"
        )
    assert browser is not None and driver is not None
    return browser, driver


def axe_source() -> str:
    """axe-core's browser build, installed from npm into AXE_DIR on first use."""
    if not AXE_FILE.is_file() and (why := npm_install("axe-core@4", AXE_DIR)):
        unavailable(why)
    return AXE_FILE.read_text(encoding="utf-8")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve DIRECTORY over HTTP on 127.0.0.1 in a thread; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def chromium(profile: Path) -> Iterator[Any]:
    """A headless Chromium with a fresh profile, logging the console and the network."""
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in (*CHROME_ARGS, f"--user-data-dir={profile}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(driver_path), options=options)
    except WebDriverException as exc:
        unavailable(f"Chromium did not start: {exc.msg}")
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver: Any) -> list[str]:
    """The console messages of level SEVERE since the last call (reading them empties the log)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def requested_urls(driver: Any) -> list[str]:
    """Every URL the page asked for since the last call, from the DevTools network events."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def reset_logs(driver: Any) -> None:
    driver.get_log("browser")
    driver.get_log("performance")
