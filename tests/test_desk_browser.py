"""The review desk in a real headless Chromium: a reviewer's whole job with a mouse, then with the
keyboard alone, and axe-core on every desk page (the project's browser-test setup, tests/browser/).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from reviewflow.desk.pages import ROWS_PER_PAGE
from reviewflow.desk.server import DeskServer
from tests.browser.chrome import axe_source, chromium, console_errors, requested_urls, reset_logs
from tests.conftest import article_text, git, write
from tests.deskclient import running_desk
from tests.gitrepo import ALICE, RITA, SLUG, act_as, edit, head, ok

Run = Callable[..., Result]
AXE_RUN = """
    const done = arguments[arguments.length - 1];
    axe.run(document, {resultTypes: ['violations'], iframes: false})
      .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                              nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)}))))
      .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));
"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        yield driver


@pytest.fixture
def edited(content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An approved article, edited and submitted again: its diff has words to read."""
    act_as(monkeypatch, ALICE)
    ok(run(content_repo, "submit", SLUG))
    act_as(monkeypatch, RITA)
    ok(run(content_repo, "review", SLUG))
    ok(run(content_repo, "approve", SLUG))
    act_as(monkeypatch, ALICE)
    edit(content_repo, "A sentence added since the approval.")
    ok(run(content_repo, "submit", SLUG, "-m", "Updated"))
    act_as(monkeypatch, RITA)
    return content_repo


@pytest.fixture
def desk(edited: Path) -> Iterator[DeskServer]:
    with running_desk(edited) as server:
        yield server


def base(desk: DeskServer) -> str:
    return f"http://127.0.0.1:{desk.guard.port}"


def visit(driver: Any, url: str) -> None:
    reset_logs(driver)
    driver.get(url)


def shown(driver: Any, element_id: str, text: str = "") -> Any:
    """The element once the page that follows a click has it (a form's post, then its redirect),
    holding TEXT: the page before the click may have an element of that id too."""
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    locator = ("id", element_id)
    WebDriverWait(driver, 60).until(expected_conditions.text_to_be_present_in_element(locator, text))
    return driver.find_element(*locator)


def clean(driver: Any, desk: DeskServer) -> None:
    """No console error (a CSP violation would be one) and no request away from the desk."""
    assert console_errors(driver) == []
    assert [u for u in requested_urls(driver) if not u.startswith(base(desk) + "/")] == []


def test_a_reviewer_opens_the_queue_reads_the_diff_and_approves(
    browser: Any, desk: DeskServer, edited: Path
) -> None:
    from selenium.webdriver.common.by import By

    visit(browser, desk.url)
    assert browser.current_url == base(desk) + "/"  # the token left the address bar
    assert browser.find_element(By.TAG_NAME, "h1").text == "Review queue"
    browser.find_element(By.LINK_TEXT, SLUG).click()
    assert browser.find_element(By.ID, "state").text == "Submitted"
    added = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#diff ins")]
    assert added == ["A sentence added since the approval."]
    frame = browser.find_element(By.CSS_SELECTOR, "iframe.published")
    browser.switch_to.frame(frame)
    assert "Pending medical review" in browser.find_element(By.TAG_NAME, "body").text
    browser.switch_to.default_content()

    browser.find_element(By.ID, "do-review").click()
    assert "Recorded: review" in shown(browser, "result").text
    browser.find_element(By.ID, "approve-message").send_keys("The added sentence is accurate.")
    browser.find_element(By.ID, "do-approve").click()
    result = shown(browser, "result", "Recorded: approve").text
    assert "Recorded: approve" in result and "Now Approved, approvals 1/1" in result
    assert browser.find_element(By.ID, "commit").text == head(edited)
    assert browser.find_element(By.ID, "state").text == "Approved"
    clean(browser, desk)


def test_approving_with_the_keyboard_alone(browser: Any, desk: DeskServer, edited: Path, run: Run) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ok(run(edited, "review", SLUG))
    visit(browser, desk.url.replace("/?", f"/articles/{SLUG}?"))
    keys = ActionChains(browser)

    def focused() -> str:
        return str(
            browser.execute_script("return document.activeElement.id || document.activeElement.tagName")
        )

    for _ in range(60):  # Tab through the page until the approval's note has the focus
        if focused() == "approve-message":
            break
        keys.send_keys(Keys.TAB).perform()
    assert focused() == "approve-message"
    keys.send_keys("Checked with the keyboard.").perform()
    keys.send_keys(Keys.TAB).perform()
    assert focused() == "do-approve"
    keys.send_keys(Keys.ENTER).perform()
    assert "Now Approved" in shown(browser, "result", "Recorded: approve").text
    assert head(edited) == browser.find_element("id", "commit").text
    assert "Checked with the keyboard." in run(edited, "history", SLUG).output


def test_axe_finds_no_serious_or_critical_violations_on_any_desk_page(
    browser: Any, desk: DeskServer, edited: Path
) -> None:
    from selenium.webdriver.common.by import By

    source = axe_source()
    visit(browser, desk.url)
    pages = [
        "/",
        "/?mine=1",
        f"/articles/{SLUG}",
        "/board",
        "/articles/no-such-article",
        f"/site/articles/{SLUG}/",
    ]
    problems = []

    def audit(where: str) -> None:
        browser.execute_script(source)
        for violation in browser.execute_async_script(AXE_RUN):
            if violation["impact"] in ("serious", "critical"):
                problems.append(f"{where}: {violation['id']}: {violation['help']} {violation['nodes']}")

    for page in pages:
        visit(browser, base(desk) + page)
        audit(page)
    # An action's result, and a refusal, are pages too.
    visit(browser, base(desk) + f"/articles/{SLUG}")
    browser.find_element(By.ID, "do-review").click()
    shown(browser, "result")
    audit("after an action")
    browser.find_element(By.ID, "do-review").click()
    assert "Not recorded." in shown(browser, "refused").text
    audit("after a refusal")
    assert problems == []
    browser.execute_script(
        "document.querySelector('main').insertAdjacentHTML('beforeend', '<input type=text>')"
    )
    assert "label" in [v["id"] for v in browser.execute_async_script(AXE_RUN)]  # the audit is live


def test_a_long_list_is_paged_with_links_reached_by_keyboard_and_axe_clean(
    browser: Any, edited: Path
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    for index in range(ROWS_PER_PAGE + 1):
        write(edited / f"articles/draft-{index:03}.md", article_text(title=f"Draft {index}"))
    git(edited, "add", "-A")
    git(edited, "commit", "-q", "-m", "Many drafts")
    with running_desk(edited) as desk:
        visit(browser, desk.url)
        pager = browser.find_element(By.CSS_SELECTOR, "nav.pager")
        assert pager.get_attribute("aria-label") == "Pages of the drafts"
        assert f"Rows 1–{ROWS_PER_PAGE} of {ROWS_PER_PAGE + 1} (page 1 of 2)" in pager.text
        keys = ActionChains(browser)

        def focused() -> str:
            return str(browser.execute_script("return document.activeElement.textContent"))

        for _ in range(3 * ROWS_PER_PAGE):  # past every row's link, to the pager's first
            if focused() == "Next page":
                break
            keys.send_keys(Keys.TAB).perform()
        assert focused() == "Next page"
        keys.send_keys(Keys.ENTER).perform()
        text = shown(browser, "main", "page 2 of 2").text
        assert f"Rows {ROWS_PER_PAGE + 1}–{ROWS_PER_PAGE + 1} of {ROWS_PER_PAGE + 1}" in text
        assert browser.current_url == base(desk) + "/?drafts=2"
        rows = browser.find_elements(By.CSS_SELECTOR, "#drafts tbody th a")
        assert len(rows) == 1
        browser.execute_script(axe_source())
        violations = browser.execute_async_script(AXE_RUN)
        assert [v for v in violations if v["impact"] in ("serious", "critical")] == []
        clean(browser, desk)
