"""What a user reads about an article in a subdirectory of articles/: every message of the
review commands and the desk names the file where it is (articles/poems/<slug>.md), never
articles/<slug>.md, so that the git commands it suggests can be run as they are."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import git
from tests.deskclient import Client, running_desk
from tests.gitrepo import ALICE, PATH, RITA, SLUG, act_as, edit, ok, refused

Run = Callable[..., Result]
NESTED = f"articles/poems/{SLUG}.md"


@pytest.fixture
def nested(content_repo: Path) -> Path:
    """The example article moved to articles/poems/, committed."""
    (content_repo / NESTED).parent.mkdir(parents=True)
    git(content_repo, "mv", PATH, NESTED)
    git(content_repo, "commit", "-q", "-m", "Move the article to articles/poems/")
    return content_repo


def add_line(repo: Path, line: str = "One more sentence about POEMS syndrome.") -> None:
    with (repo / NESTED).open("a", encoding="utf-8") as handle:
        handle.write(f"\n{line}\n")


def test_an_action_on_uncommitted_changes_names_the_nested_file(
    nested: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_line(nested)
    act_as(monkeypatch, ALICE)
    refused(
        run(nested, "submit", SLUG, "-m", "Ready"),
        f"{NESTED} has uncommitted changes",
        f"(git add {NESTED} && git commit)",
        f"(git restore --staged --worktree {NESTED})",
    )


def test_submit_names_the_nested_file_that_fails_check(
    nested: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    article = nested / NESTED
    article.write_text(article.read_text("utf-8").replace("audience: patient", "audience: martians"), "utf-8")
    git(nested, "commit", "-q", "-am", "Break the audience")
    act_as(monkeypatch, ALICE)
    refused(
        run(nested, "submit", SLUG),
        f"{NESTED} fails `reviewflow check` with 1 error(s)",
        f"Fix them (reviewflow check {NESTED}), commit, and submit again",
    )


def test_history_and_diff_name_the_nested_file(
    nested: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as(monkeypatch, ALICE)
    ok(run(nested, "submit", SLUG, "-m", "Ready"))
    history = ok(run(nested, "history", SLUG))
    assert history.output.startswith(f"{SLUG} ({NESTED}): submitted"), history.output
    add_line(nested)
    diff = ok(run(nested, "diff", SLUG))
    assert f"+++ b/{NESTED} (HEAD " in diff.output, diff.output
    assert f"Note: {NESTED} has uncommitted changes, not shown" in diff.output, diff.output


@pytest.fixture
def client(nested: Path) -> Iterator[Client]:
    with running_desk(nested) as server:
        browser = Client(server)
        assert browser.login().status == 303
        yield browser


def test_the_desk_names_the_nested_file_edited_after_the_page_was_loaded(
    nested: Path, client: Client, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as(monkeypatch, ALICE)
    ok(run(nested, "submit", SLUG, "-m", "Ready"))
    act_as(monkeypatch, RITA)
    assert client.act(SLUG, "review").status == 303
    page = client.get(f"/articles/{SLUG}")
    act_as(monkeypatch, ALICE)
    edit(nested, "A sentence the reviewer has not read.", path=NESTED)
    act_as(monkeypatch, RITA)
    reply = client.act(SLUG, "approve", page=page)
    assert reply.status == 409
    assert reply.has(f"{NESTED} changed since this page was loaded")
    assert not reply.has(f"{PATH} changed")


def test_the_help_of_submit_says_an_article_may_be_in_a_subdirectory(run: Run, nested: Path) -> None:
    result = ok(run(nested, "submit", "--help"))
    assert "ARTICLE is a slug or the path of its file (articles/[<dirs>/]<slug>.md)" in result.output
