"""The published site in a real browser: headless Chromium over a local HTTP server.

One site is built per module (through the real review workflow) and one browser serves every
test. They check what a reader's browser does with the pages: no console errors, no request
leaves the site, citations land on their references, injected markup never runs, and axe-core
finds no serious or critical accessibility violation.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reviewflow.cli.scaffold import init_repo
from reviewflow.configfile import load_config
from reviewflow.publish.article_page import cut_title
from reviewflow.publish.build import publish
from reviewflow.review.acknowledge import Acceptance
from reviewflow.review.actions import act
from reviewflow.review.model import Action
from tests.browser.chrome import axe_source, chromium, console_errors, requested_urls, reset_logs, serve
from tests.conftest import BOARD_TOML, article_text, git, write

INJECTION_TITLE = "Injection test <script>document.title='pwned'</script>"
INJECTION_BODY = """Plain text first [1].

<script>window.pwned = true; document.title = "pwned"; alert("pwned")</script>

<img src="x" onerror="window.pwned = true">

<iframe src="javascript:parent.pwned = true"></iframe>

<svg onload="window.pwned = true"></svg> <details open ontoggle="window.pwned = true">x</details>

<style>@import url(http://evil.example/x.css); body { display: none }</style>

<meta http-equiv="refresh" content="0;url=http://evil.example/">

[click me](javascript:window.pwned=true) [or me](JAVASCRIPT:window.pwned=true) [data](data:text/html,<script>alert(1)</script>)

![tracking pixel](http://evil.example/pixel.png)

<a href="#" onclick="window.pwned = true" id="bait">bait</a>
"""
PROFESSIONAL_BODY = """## Treatment by extent

Radiation is used for one to a few lesions [1]. Systemic therapy is used for disseminated disease [1, 2].

| Extent | First line |
|:--|:--|
| Limited | Radiation [1] |
| Disseminated | Systemic therapy [2] |
"""
TWO_REFERENCES = """  - id: 1
    type: review
    title: "How I treat POEMS syndrome"
    source: "Blood"
    year: 2012
    doi: "10.1182/blood-2012-03-378992"
    pmid: "22547581"
    pmcid: "PMC3425020"
  - id: 2
    type: guideline
    title: "A guideline without an identifier"
    source: "A Society"
    year: 2023
"""
PATIENT_BODY = "POEMS syndrome is rare [1].\n\n" + "\n\n".join(
    f"## Part {n}\n\nSome words about part {n} of the illness, and what it means for you [{1 + n % 2}]."
    for n in range(1, 12)
)


RITA_DECLARES = """affiliation = "City Hospital, Hematology"
profile_url = "https://city-hospital.example/staff/rita"
competing_interests = "none"
"""


@dataclass(frozen=True)
class Sites:
    public: Path
    preview: Path


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    """A library with approved patient, professional and injection articles, and one draft."""
    base = tmp_path_factory.mktemp("browser-site")
    repo = base / "content"
    with pytest.MonkeyPatch.context() as mp:
        home = base / "home"
        home.mkdir()
        mp.setenv("HOME", str(home))
        mp.setenv("XDG_CONFIG_HOME", str(home / ".config"))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        mp.delenv("GIT_CONFIG_GLOBAL", raising=False)

        def who(name: str, email: str) -> None:
            for role in ("AUTHOR", "COMMITTER"):
                mp.setenv(f"GIT_{role}_NAME", name)
                mp.setenv(f"GIT_{role}_EMAIL", email)
                mp.setenv(f"GIT_{role}_DATE", "2025-04-01T10:00:00Z")

        who("Alice Author", "alice@authors.example")
        init_repo(repo)
        with (repo / "reviewflow.toml").open("a", encoding="utf-8") as handle:
            # Rita declares and links her affiliation; Sam has no declaration on file.
            handle.write(BOARD_TOML.replace('"MD, Hematology"\n', '"MD, Hematology"\n' + RITA_DECLARES))
        articles = {
            "for-patients": article_text(
                PATIENT_BODY, title="Living with POEMS syndrome", references=TWO_REFERENCES
            ),
            "for-clinicians": article_text(
                PROFESSIONAL_BODY,
                audience="professional",
                title="Treatment by extent",
                references=TWO_REFERENCES,
                extra='funding: "The Example Foundation"\nsponsor: "Example Pharma"\n',
            ),  # fmt: skip
            "injection": article_text(INJECTION_BODY, title=INJECTION_TITLE),
            "draft": article_text("Not reviewed yet [1].\n", title="A draft"),
        }
        for slug, text in articles.items():
            write(repo / "articles" / f"{slug}.md", text)
        git(repo, "init", "-q", "-b", "main")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "Start the library")
        config = load_config(repo)
        for slug in ("for-patients", "for-clinicians", "injection"):
            act(repo, config, Action.SUBMIT, slug)
        who("Dr. Rita Reviewer", "rita@board.example")
        for slug in ("for-patients", "for-clinicians", "injection"):
            act(repo, config, Action.REVIEW, slug)
            act(repo, config, Action.APPROVE, slug, accept=Acceptance(everything=True))
        public = publish(repo, base / "public", config=config, base_url="https://health.example.org").out
        preview = publish(repo, base / "preview", config=config, preview=True).out
    yield Sites(public, preview)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        yield driver


@pytest.fixture(scope="module")
def public_url(sites: Sites) -> Iterator[str]:
    with serve(sites.public) as url:
        yield url


@pytest.fixture(scope="module")
def preview_url(sites: Sites) -> Iterator[str]:
    with serve(sites.preview) as url:
        yield url


PAGES = (
    "index.html",
    "for-patients/index.html",
    "for-professionals/index.html",
    "articles/for-patients/index.html",
    "articles/for-clinicians/index.html",
    "articles/injection/index.html",
    "board/index.html",
    "editorial-policy/index.html",
)


def visit(driver: Any, url: str) -> None:
    reset_logs(driver)
    driver.get(url)
    driver.execute_script("return document.readyState")


def test_pages_render_with_no_console_errors_and_no_outside_requests(browser: Any, public_url: str) -> None:
    for page in PAGES:
        visit(browser, f"{public_url}/{page}")
        assert console_errors(browser) == [], page
        outside = [u for u in requested_urls(browser) if not u.startswith(f"{public_url}/")]
        assert outside == [], f"{page} asked for {outside}"
        assert browser.execute_script("return document.styleSheets.length") == 1, page
        assert browser.find_element("css selector", "h1").is_displayed()


def test_the_preview_shows_its_banner(browser: Any, preview_url: str) -> None:
    visit(browser, f"{preview_url}/articles/draft/index.html")
    banner = browser.find_element("css selector", ".banner.pending")
    assert banner.is_displayed() and "Pending medical review" in banner.text
    assert browser.find_element("css selector", 'meta[name="robots"]').get_attribute("content") == "noindex"
    assert console_errors(browser) == []


def test_clicking_a_citation_lands_on_its_reference(browser: Any, public_url: str) -> None:
    visit(browser, f"{public_url}/articles/for-patients/index.html")
    markers = browser.find_elements("css selector", ".body sup.cite a")
    target = markers[-1]  # far down the page, so the jump is real
    wanted = target.get_attribute("href").rsplit("#", 1)[1]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", target)
    target.click()
    assert browser.execute_script("return location.hash") == f"#{wanted}"
    landed = browser.execute_script("return document.querySelector(':target')")
    assert landed.get_attribute("id") == wanted and landed.tag_name == "li"
    assert landed.is_displayed()
    top, bottom = browser.execute_script(
        "const r = document.querySelector(':target').getBoundingClientRect(); return [r.top, r.bottom]"
    )
    assert 0 <= top < browser.execute_script("return window.innerHeight"), "the reference is not in view"
    assert bottom > top
    highlighted = browser.execute_script(
        "return getComputedStyle(document.querySelector(':target')).backgroundColor"
    )
    assert highlighted not in ("rgba(0, 0, 0, 0)", "transparent")  # :target shows where the reader landed


def test_the_injection_page_executed_nothing(browser: Any, public_url: str) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    visit(browser, f"{public_url}/articles/injection/index.html")
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 - reading it is the probe
    assert browser.execute_script("return window.pwned") is None
    # Shown as text: the article's title cut at a word so that it and the site's name fit 70
    # characters as written (article_page.cut_title, then base.html's page_title).
    assert browser.title == f"{cut_title(INJECTION_TITLE, 'Health library')} · Health library"
    assert browser.title == "Injection test… · Health library"
    assert browser.find_element("css selector", "h1").text == INJECTION_TITLE
    found = browser.execute_script("""
        const all = [...document.querySelectorAll('*')];
        return {
          scripts: [...document.scripts].filter(s => s.type !== 'application/ld+json').length,
          frames: document.querySelectorAll('iframe, frame, object, embed, svg, img, style, meta[http-equiv=refresh]').length,
          handlers: all.flatMap(e => [...e.attributes].map(a => a.name)).filter(n => n.startsWith('on')),
          scriptLinks: [...document.links].map(a => a.getAttribute('href')).filter(h => /^\\s*(javascript|data|vbscript):/i.test(h)),
        };
    """)
    assert found == {"scripts": 0, "frames": 0, "handlers": [], "scriptLinks": []}
    body = browser.find_element("css selector", ".body").text
    assert 'window.pwned = true; document.title = "pwned"' in body  # shown as text, never run
    for link in browser.find_elements("css selector", ".body a"):
        if not link.get_attribute("href").startswith("http"):
            link.click()
    assert browser.execute_script("return window.pwned") is None
    assert console_errors(browser) == []
    assert [u for u in requested_urls(browser) if not u.startswith(f"{public_url}/")] == []


AXE_RUN = """
    const done = arguments[arguments.length - 1];
    axe.run(document, {resultTypes: ['violations']})
      .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                              nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)}))))
      .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));
"""


def test_axe_finds_no_serious_or_critical_violations(browser: Any, public_url: str, preview_url: str) -> None:
    source = axe_source()
    pages = [f"{public_url}/{page}" for page in PAGES] + [f"{preview_url}/articles/draft/index.html"]
    problems = []
    for url in pages:
        visit(browser, url)
        browser.execute_script(source)
        for violation in browser.execute_async_script(AXE_RUN):
            if violation["impact"] in ("serious", "critical"):
                problems.append(
                    f"{url}: {violation['id']} ({violation['impact']}): {violation['help']} {violation['nodes']}"
                )
    assert problems == []
    # The audit is live: a field without a label on the same page is reported.
    browser.execute_script(
        "document.querySelector('main').insertAdjacentHTML('beforeend', '<input type=text>')"
    )
    assert "label" in [v["id"] for v in browser.execute_async_script(AXE_RUN) if v["impact"] == "critical"]


def test_a_sponsored_article_says_so_before_its_summary(browser: Any, public_url: str) -> None:
    visit(browser, f"{public_url}/articles/for-clinicians/index.html")
    notice = browser.find_element("css selector", ".sponsored")
    assert notice.is_displayed() and notice.text.startswith("Sponsored by Example Pharma.")
    summary = browser.find_element("css selector", ".summary")
    assert notice.rect["y"] + notice.rect["height"] <= summary.rect["y"]  # read before the answer
    declarations = browser.find_element("css selector", ".declarations").text
    assert "Dr. Rita Reviewer, MD, Hematology, City Hospital, Hematology (medical reviewer)" in declarations
    assert "Funding\nThe Example Foundation" in declarations
    visit(browser, f"{public_url}/board/index.html")
    link = browser.find_element("link text", "City Hospital, Hematology")
    assert link.get_attribute("href") == "https://city-hospital.example/staff/rita"
    assert console_errors(browser) == []


def test_the_site_works_from_file_urls(browser: Any, sites: Sites) -> None:
    visit(browser, (sites.public / "index.html").as_uri())
    assert browser.execute_script("return getComputedStyle(document.body).fontFamily").startswith("system-ui")
    browser.find_element("link text", "Treatment by extent").click()
    assert browser.current_url.endswith("/articles/for-clinicians/index.html")
    assert browser.find_element("css selector", "h1").text == "Treatment by extent"
    browser.find_element("link text", "Advisory board").click()
    assert browser.current_url.endswith("/board/index.html")
    assert console_errors(browser) == []


def test_the_audience_chooser_works_without_javascript(browser: Any, public_url: str) -> None:
    visit(browser, f"{public_url}/index.html")
    browser.find_element("partial link text", "healthcare professional").click()
    titles = [h.text for h in browser.find_elements("css selector", ".cards h3")]
    assert titles == ["Treatment by extent"]
    chosen = browser.find_element("css selector", '.chooser a[aria-current="page"]')
    assert "healthcare professional" in chosen.text


def test_a_phone_sized_screen_needs_no_sideways_scrolling(browser: Any, public_url: str) -> None:
    browser.set_window_size(360, 800)
    try:
        for page in ("index.html", "articles/for-clinicians/index.html", "articles/for-patients/index.html"):
            visit(browser, f"{public_url}/{page}")
            width, viewport = browser.execute_script(
                "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert width <= viewport, f"{page} is {width}px wide on a {viewport}px screen"
    finally:
        browser.set_window_size(1280, 900)


def test_print_hides_navigation_and_keeps_the_content(browser: Any, public_url: str) -> None:
    visit(browser, f"{public_url}/articles/for-patients/index.html")
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        hidden = browser.execute_script(
            "return getComputedStyle(document.querySelector('.site-header nav')).display"
        )
        assert hidden == "none"
        assert browser.find_element("css selector", ".references").is_displayed()
        assert browser.find_element("css selector", ".disclaimer").is_displayed()
        pdf = browser.execute_cdp_cmd("Page.printToPDF", {"printBackground": False})
        assert len(pdf["data"]) > 1000
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
