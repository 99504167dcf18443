"""The article page in a real browser (headless Chromium, desktop 1280 and phone 390 wide): the
reading aids and trust signals of issue 13 work as a reader uses them, and axe-core finds no
violation of any impact on the article, board and index pages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reviewflow.configfile import load_config
from reviewflow.publish.build import publish
from reviewflow.review.acknowledge import Acceptance
from reviewflow.review.actions import act
from reviewflow.review.model import Action
from tests.browser.chrome import axe_source, chromium, console_errors, requested_urls, reset_logs, serve
from tests.conftest import BOARD_TOML, article_text, as_author, git, make_content_repo
from tests.test_browser import TWO_REFERENCES
from tests.test_publish import Library

SHORT = "It is a very treatable illness"
PATIENT_BODY = f"""## The short answer

{SHORT} [1]. Many people reach a long remission [1].

## What is behind it

Plasma cells grow when they should not [1]. They send out signals [2].

## What treatment does

Treatment goes after the cause [1].

## Questions to ask

Ask your care team what to expect [2].
""" + "\n".join(f"\nMore words about living with the illness, part {n} [1].\n" for n in range(12))
RITA = """affiliation = "City Hospital, Hematology"
competing_interests = "none"
"""
WIDTHS = (1280, 390)
BUILT_AT = datetime(2025, 6, 1, 12, tzinfo=UTC)


def approve(lib: Library, slug: str, day: str) -> None:
    lib.action("alice", Action.SUBMIT, slug, f"{day}T09:00:00Z")
    lib.action("rita", Action.REVIEW, slug, f"{day}T10:00:00Z")
    lib.at(f"{day}T11:00:00Z")
    as_author(lib.monkeypatch, "Dr. Rita Reviewer", "rita@board.example")
    act(lib.repo, load_config(lib.repo), Action.APPROVE, slug, accept=Acceptance(everything=True))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Patient and professional counterparts, a related article, and one overdue for review."""
    base = tmp_path_factory.mktemp("article-site")
    with pytest.MonkeyPatch.context() as mp:
        home = base / "home"
        home.mkdir()
        for name, value in (("HOME", home), ("XDG_CONFIG_HOME", home / ".config"),
                            ("XDG_CACHE_HOME", home / ".cache"), ("GIT_CONFIG_NOSYSTEM", "1")):  # fmt: skip
            mp.setenv(name, str(value))
        mp.delenv("GIT_CONFIG_GLOBAL", raising=False)
        as_author(mp, "Alice Author", "alice@authors.example")
        repo = make_content_repo(base / "content")
        toml = (repo / "reviewflow.toml").read_text()
        toml = toml.replace(BOARD_TOML, BOARD_TOML.replace('"MD, Hematology"\n', '"MD, Hematology"\n' + RITA))
        (repo / "reviewflow.toml").write_text(toml)
        git(repo, "rm", "-q", "articles/what-is-poems-syndrome.md")
        git(repo, "commit", "-q", "-am", "The board declares")
        lib = Library(repo, mp)
        pages = {
            "cure": article_text(PATIENT_BODY, title="Can POEMS syndrome be cured?", references=TWO_REFERENCES,
                                 extra="counterpart: cure-pro\n"),
            "cure-pro": article_text("## Outcomes\n\nResponse rates are high with therapy [1].\n",
                                     audience="professional", title="Treatment outcomes", references=TWO_REFERENCES),
            "outlook": article_text("What the outlook is [1]. Guidance [2].\n", title="What is the outlook?",
                                    references=TWO_REFERENCES),
        }  # fmt: skip
        for slug, text in pages.items():
            lib.write(slug, text, "2024-01-10T08:00:00Z")
        for slug, day in (("outlook", "2024-02-01"), ("cure", "2025-02-01"), ("cure-pro", "2025-02-01")):
            approve(lib, slug, day)  # the outlook's 365-day cycle has run out by the build
        out = publish(repo, base / "public", config=load_config(repo), base_url="https://health.example.org",
                      now=BUILT_AT).out  # fmt: skip
    yield out


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        yield driver


@pytest.fixture(scope="module")
def url(site: Path) -> Iterator[str]:
    with serve(site) as address:
        yield address


@pytest.fixture(params=WIDTHS, ids=lambda w: f"{w}px")
def width(request: pytest.FixtureRequest, browser: Any) -> Iterator[int]:
    browser.set_window_size(request.param, 900)
    yield request.param
    browser.set_window_size(1280, 900)


def visit(driver: Any, address: str) -> None:
    reset_logs(driver)
    driver.get(address)
    driver.execute_script("return document.readyState")


def click(driver: Any, element: Any) -> None:
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def in_view(driver: Any, css: str) -> bool:
    top, bottom = driver.execute_script(
        f"const r = document.querySelector({json.dumps(css)}).getBoundingClientRect(); return [r.top, r.bottom]"
    )
    return bool(0 <= top < driver.execute_script("return window.innerHeight") and bottom > top)


AXE_RUN = """
    const done = arguments[arguments.length - 1];
    axe.run(document, {resultTypes: ['violations']})
      .then(r => done(r.violations.map(v => `${v.id} (${v.impact}): ${v.nodes.map(n => n.target.join(' ')).slice(0, 3)}`)))
      .catch(e => done(['axe-error: ' + e]));
"""
PAGES = ("articles/cure/index.html", "articles/cure-pro/index.html", "articles/outlook/index.html",
         "board/index.html", "index.html")  # fmt: skip


def test_axe_finds_no_violation_of_any_impact_and_nothing_scrolls_sideways(
    browser: Any, url: str, width: int
) -> None:
    source = axe_source()
    problems = []
    for page in PAGES:
        visit(browser, f"{url}/{page}")
        browser.execute_script(source)
        problems += [f"{page} at {width}px: {v}" for v in browser.execute_async_script(AXE_RUN)]
        scroll, view = browser.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert scroll <= view, f"{page} is {scroll}px wide on a {view}px screen"
        assert console_errors(browser) == [], page
        assert [u for u in requested_urls(browser) if not u.startswith(f"{url}/")] == [], page
    assert problems == []


def test_the_short_answer_is_read_once_with_its_sources(browser: Any, url: str, width: int) -> None:
    visit(browser, f"{url}/articles/cure/index.html")
    text = browser.find_element("css selector", "article").text
    assert text.count(SHORT) == 1
    summary = browser.find_element("css selector", ".summary")
    assert SHORT in summary.text and summary.is_displayed()
    assert summary.find_elements("css selector", "sup.cite a")  # the body's citations came along
    headings = [h.text for h in browser.find_elements("css selector", ".body h2")]
    assert headings == ["What is behind it", "What treatment does", "Questions to ask"]


def test_a_citation_and_its_back_link_lead_to_each_other(browser: Any, url: str, width: int) -> None:
    visit(browser, f"{url}/articles/cure/index.html")
    marker = browser.find_elements("css selector", '.body sup.cite a[href="#ref-1"]')[1]
    marker_id = marker.get_attribute("id")
    click(browser, marker)
    assert browser.execute_script("return location.hash") == "#ref-1" and in_view(browser, "#ref-1")
    back = browser.find_element("css selector", f'#ref-1 .ref-back a[href="#{marker_id}"]')
    # The short answer cites reference 1 twice (a, b), so the body's second marker is its fourth place.
    assert marker_id == "cite-1-4" and back.text.split()[-1] == "d"
    click(browser, back)
    assert browser.execute_script("return location.hash") == f"#{marker_id}"
    assert in_view(browser, f"#{marker_id}")
    label = browser.find_element("css selector", "#ref-1 .ref-type").text
    assert label.casefold() == "review"
    assert browser.find_element("css selector", "#ref-2 .ref-type").text.casefold() == "guideline"
    assert "PubMed 22547581" in browser.find_element("css selector", "#ref-1 .ref-links").text


def test_the_contents_list_jumps_to_its_sections(browser: Any, url: str, width: int) -> None:
    visit(browser, f"{url}/articles/cure/index.html")
    entries = browser.find_elements("css selector", ".contents a")
    assert [e.text for e in entries] == ["What is behind it", "What treatment does", "Questions to ask"]
    click(browser, entries[-1])
    assert browser.execute_script("return location.hash") == "#s-questions-to-ask"
    assert in_view(browser, "#s-questions-to-ask")
    visit(browser, f"{url}/articles/cure-pro/index.html")
    assert browser.find_elements("css selector", ".contents") == []  # one section: no list


def test_the_reviewer_byline_leads_to_the_board_entry(browser: Any, url: str, width: int) -> None:
    visit(browser, f"{url}/articles/cure/index.html")
    link = browser.find_element("css selector", ".byline a")
    assert link.text == "Dr. Rita Reviewer"
    click(browser, link)
    assert browser.current_url.endswith("/board/index.html#member-dr-rita-reviewer")
    entry = browser.find_element("css selector", "#member-dr-rita-reviewer")
    assert in_view(browser, "#member-dr-rita-reviewer")
    text = entry.text
    assert "MD, Hematology" in text and "City Hospital, Hematology" in text
    assert "Competing interests: None declared." in text
    entry.find_element("css selector", "summary").click()  # the approved articles, opened
    titles = [a.text for a in entry.find_elements("css selector", ".member-approved a")]
    assert titles == ["Can POEMS syndrome be cured?", "Treatment outcomes", "What is the outlook?"]


def test_the_audience_switch_leads_to_the_counterpart_and_back(browser: Any, url: str, width: int) -> None:
    visit(browser, f"{url}/articles/cure/index.html")
    switch = browser.find_element("css selector", ".switch")
    assert switch.find_element("css selector", "h2").text == "Which best describes you?"
    here = switch.find_element("css selector", '[aria-current="page"]')
    assert here.text == "I am a patient, family member or caregiver"
    click(browser, switch.find_element("partial link text", "I am a healthcare professional"))
    assert browser.current_url.endswith("/articles/cure-pro/index.html")
    assert browser.find_element("css selector", "h1").text == "Treatment outcomes"
    back = browser.find_element("css selector", ".switch a")
    click(browser, back)
    assert browser.current_url.endswith("/articles/cure/index.html")
    visit(browser, f"{url}/articles/outlook/index.html")
    assert browser.find_elements("css selector", ".switch") == []  # it declares no counterpart


def test_related_articles_link_to_the_same_condition(browser: Any, url: str, width: int) -> None:
    visit(browser, f"{url}/articles/outlook/index.html")
    links = browser.find_elements("css selector", ".related li a")
    assert [a.text for a in links] == ["Can POEMS syndrome be cured?", "Treatment outcomes"]
    click(browser, links[0])
    assert browser.find_element("css selector", "h1").text == "Can POEMS syndrome be cured?"


def test_an_overdue_review_heads_the_article_and_is_flagged_on_its_card(
    browser: Any, url: str, width: int
) -> None:
    visit(browser, f"{url}/articles/outlook/index.html")
    notice = browser.find_element("css selector", ".notice.review-due")
    title = browser.find_element("css selector", "h1")
    assert notice.is_displayed() and notice.rect["y"] < title.rect["y"]
    assert "1 February 2024" in notice.text and "31 January 2025" in notice.text  # 2024 is a leap year
    times = browser.execute_script("return [...document.querySelectorAll('time')].map(t => t.dateTime)")
    assert "2024-02-01" in times
    visit(browser, f"{url}/index.html")
    cards = {
        c.find_element("css selector", "h3").text: c for c in browser.find_elements("css selector", ".card")
    }
    assert cards["What is the outlook?"].find_element("css selector", ".badge.overdue").text == "Review due"
    assert cards["Can POEMS syndrome be cured?"].find_elements("css selector", ".badge.overdue") == []


def test_the_head_carries_a_short_title_description_and_open_graph(browser: Any, url: str) -> None:
    visit(browser, f"{url}/articles/cure/index.html")
    assert len(browser.title) <= 70 and browser.title.endswith(" · Health library")
    head = browser.execute_script("""
        const meta = n => (document.querySelector(`meta[name="${n}"], meta[property="${n}"]`) || {}).content;
        return {description: meta('description'), type: meta('og:type'), url: meta('og:url'),
                site: meta('og:site_name'), title: meta('og:title'),
                ld: JSON.parse(document.querySelector('script[type="application/ld+json"]').textContent)};
    """)
    assert len(head["description"]) <= 160
    assert (head["type"], head["site"], head["title"]) == (
        "article",
        "Health library",
        "Can POEMS syndrome be cured?",
    )
    assert head["url"] == "https://health.example.org/articles/cure/"
    ld = head["ld"]
    assert ld["author"][0]["@type"] == "Person"
    assert ld["reviewedBy"][0]["url"] == "https://health.example.org/board/#member-dr-rita-reviewer"
    assert [c["name"] for c in ld["breadcrumb"]["itemListElement"]][-1] == "Can POEMS syndrome be cured?"
    assert ld["isPartOf"]["@type"] == "WebSite" and ld["publisher"]["@type"] == "Organization"
