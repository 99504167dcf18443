"""Merges can never put an older approved text online (issue: the record cannot be bent).

Each case builds the history with plain git and the reviewflow CLI on a real repository: an old,
never-merged branch holds a complete review round of an earlier text while main has approved a
corrected one since. However the old round reaches main (a merge, `-s ours`, an octopus, a
criss-cross, a rebase, a fast-forward onto a branch that merged main), the text approved last
on main stays the published one, `status`, `verify` and `publish` agree, and `ci` says what a
merge changes about the published versions.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import git
from tests.gitrepo import ALICE, RITA, SAM, SLUG, act_as, as_json, blob, edit, ok

Run = Callable[..., Result]
OLD_LINE = "The old text says something the board has since corrected."
NEW_LINE = "The corrected text, approved after the old one."


def at(monkeypatch: pytest.MonkeyPatch, day: int) -> None:
    """Date the next commits (author and committer) on day DAY of November 2026."""
    stamp = f"2026-11-{day:02d}T10:00:00+00:00"
    monkeypatch.setenv("GIT_AUTHOR_DATE", stamp)
    monkeypatch.setenv("GIT_COMMITTER_DATE", stamp)


def round_of(run: Run, repo: Path, monkeypatch: pytest.MonkeyPatch, reviewer: tuple[str, str] = RITA) -> None:
    """A complete review round of the article's text at HEAD: submit, review, approve."""
    act_as(monkeypatch, ALICE)
    ok(run(repo, "submit", SLUG, "-m", "Ready"))
    act_as(monkeypatch, reviewer)
    ok(run(repo, "review", SLUG))
    ok(run(repo, "approve", SLUG, "-m", "Accurate"))


@pytest.fixture
def stale(content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Branch `old`: an approved round of the old text (1-3 November), never merged. Main: the
    corrected text, approved later (10-12 November)."""
    repo = content_repo
    git(repo, "switch", "-q", "-c", "old")
    at(monkeypatch, 1)
    act_as(monkeypatch, ALICE)
    edit(repo, OLD_LINE)
    round_of(run, repo, monkeypatch)
    git(repo, "switch", "-q", "main")
    at(monkeypatch, 10)
    act_as(monkeypatch, ALICE)
    edit(repo, NEW_LINE)
    round_of(run, repo, monkeypatch)
    at(monkeypatch, 20)
    return repo


def published_text(run: Run, repo: Path, tmp_path: Path) -> str:
    out = tmp_path / "site"
    ok(run(repo, "publish", "--out", str(out)))
    page = (out / "articles" / SLUG / "index.html").read_text(encoding="utf-8")
    return page


def assert_new_text_stands(run: Run, repo: Path, tmp_path: Path) -> None:
    """Status, verify and publish all say: the corrected text is the approved, published one."""
    (status,) = as_json(run(repo, "status", SLUG, "--format", "json"))
    assert status["state"] == "approved", status
    assert status["approved_blob"] == blob(repo), status
    page = published_text(run, repo, tmp_path)
    assert NEW_LINE in page and OLD_LINE not in page


def test_merging_a_stale_round_keeps_the_newer_approval(
    stale: Path, run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    git(stale, "merge", "-q", "--no-edit", "old", "-X", "ours")
    assert NEW_LINE in (stale / f"articles/{SLUG}.md").read_text(encoding="utf-8")
    assert_new_text_stands(run, stale, tmp_path)


def test_merging_a_stale_round_with_strategy_ours(stale: Path, run: Run, tmp_path: Path) -> None:
    base = git(stale, "rev-parse", "HEAD").strip()
    git(stale, "merge", "-q", "-s", "ours", "-m", "Merge old", "old")
    assert_new_text_stands(run, stale, tmp_path)

    result = run(stale, "verify")
    assert result.exit_code == 0, result.output
    assert "3 superseded by a merge" in result.output
    assert "superseded" in result.output and "takes no effect" in result.output

    report = as_json(run(stale, "verify", "--format", "json"))
    assert report["valid"] is True and len(report["superseded"]) == 3

    result = run(stale, "ci", "--base", base, "--require-approved", "--format", "json")
    assert result.exit_code == 0, result.output
    data = as_json(result)
    rules = {f["rule"] for f in data["findings"]}
    assert "review-event-superseded" in rules
    assert "published-version-changed" not in rules and "published-rollback" not in rules


def test_an_octopus_merge_of_two_stale_rounds(
    stale: Path, run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    git(stale, "switch", "-q", "-c", "old2", "old~4")  # the old text's edit, before the round
    at(monkeypatch, 2)
    git(stale, "reset", "-q", "--hard", "old~3")
    round_of(run, stale, monkeypatch, reviewer=SAM)
    git(stale, "switch", "-q", "main")
    at(monkeypatch, 20)
    git(stale, "merge", "-q", "-s", "ours", "-m", "Merge both", "old", "old2")
    assert len(git(stale, "log", "-1", "--format=%P").split()) == 3
    assert_new_text_stands(run, stale, tmp_path)


def test_a_merge_that_resolves_to_the_old_text_does_not_publish_it(
    stale: Path, run: Run, tmp_path: Path
) -> None:
    """Resolving the article to the old approved text makes it a draft, not the published one."""
    base = git(stale, "rev-parse", "HEAD").strip()
    git(stale, "merge", "-q", "-s", "ours", "--no-commit", "old")
    git(stale, "checkout", "old", "--", f"articles/{SLUG}.md")
    git(stale, "commit", "-q", "-m", "Merge old, taking its text")
    (status,) = as_json(run(stale, "status", SLUG, "--format", "json"))
    assert status["state"] != "approved"
    assert status["approved_blob"] == blob(stale, "HEAD^1")
    page = published_text(run, stale, tmp_path)
    assert NEW_LINE in page and OLD_LINE not in page

    result = run(stale, "ci", "--base", base, "--require-approved")
    assert result.exit_code == 1, result.output
    assert "not-approved" in result.output


def test_a_criss_cross_merge(
    content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Two branches each approve their own text and merge each other; main takes one, then the
    other: the text main holds is the approved, published one."""
    repo = content_repo
    start = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "switch", "-q", "-c", "x")
    at(monkeypatch, 3)
    act_as(monkeypatch, ALICE)
    edit(repo, OLD_LINE)
    round_of(run, repo, monkeypatch)
    x1 = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "switch", "-q", "-c", "y", start)
    at(monkeypatch, 5)
    act_as(monkeypatch, ALICE)
    edit(repo, NEW_LINE)
    round_of(run, repo, monkeypatch, reviewer=SAM)
    y1 = git(repo, "rev-parse", "HEAD").strip()
    at(monkeypatch, 7)
    git(repo, "merge", "-q", "-s", "ours", "-m", "y takes x", x1)  # y keeps its text
    git(repo, "switch", "-q", "x")
    git(repo, "merge", "-q", "-s", "ours", "-m", "x takes y", y1)  # x keeps its own
    git(repo, "switch", "-q", "main")
    git(repo, "merge", "-q", "--ff-only", "y")
    at(monkeypatch, 8)
    git(repo, "merge", "-q", "-s", "ours", "-m", "main takes x", "x")
    assert_new_text_stands(run, repo, tmp_path)
    assert run(repo, "verify").exit_code == 0


def test_a_rebased_stale_round_does_not_count(
    stale: Path, run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Rebasing the old round's empty review commits onto main names a text main does not hold."""
    base = git(stale, "rev-parse", "HEAD").strip()
    git(stale, "switch", "-q", "old")
    git(stale, "rebase", "-q", "--keep-empty", "--onto", "main", "old~3", "old")
    result = run(stale, "ci", "--base", base, "--format", "json")
    assert result.exit_code == 1, result.output
    assert {f["rule"] for f in as_json(result)["findings"]} >= {"review-event-invalid"}
    git(stale, "switch", "-q", "main")
    git(stale, "merge", "-q", "--ff-only", "old")
    assert_new_text_stands(run, stale, tmp_path)
    assert run(stale, "verify").exit_code == 1


def test_a_branch_that_merged_main_keeps_main_approval_after_a_fast_forward(
    stale: Path, run: Run, tmp_path: Path
) -> None:
    """`old` merges main (old as first parent, main's text wins the file), then main is
    fast-forwarded to it: main's newer approval still stands, nothing moves."""
    base = git(stale, "rev-parse", "HEAD").strip()
    git(stale, "switch", "-q", "old")
    git(stale, "merge", "-q", "-X", "theirs", "--no-edit", "main")
    git(stale, "switch", "-q", "main")
    git(stale, "merge", "-q", "--ff-only", "old")
    assert_new_text_stands(run, stale, tmp_path)
    result = run(stale, "ci", "--base", base, "--require-approved", "--format", "json")
    assert result.exit_code == 0, result.output
    assert "published-rollback" not in {f["rule"] for f in as_json(result)["findings"]}


def test_ci_fails_a_fast_forward_that_rolls_the_published_version_back(
    stale: Path, run: Run, tmp_path: Path
) -> None:
    """`old` merges main but keeps its own, older approved text: fast-forwarding main to it makes
    old's line the record, and ci names the rollback as an error."""
    base = git(stale, "rev-parse", "HEAD").strip()
    git(stale, "switch", "-q", "old")
    git(stale, "merge", "-q", "-s", "ours", "-m", "Take main, keep our text", "main")
    result = run(stale, "ci", "--base", "main", "--require-approved", "--format", "json")
    assert result.exit_code == 1, result.output
    (finding,) = [f for f in as_json(result)["findings"] if f["rule"] == "published-rollback"]
    assert finding["path"] == f"articles/{SLUG}.md"
    assert "moves from blob " + blob(stale, base)[:12] in finding["message"]


def test_ci_reports_a_merge_that_publishes_a_newly_approved_text(
    content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A branch's approval that reaches main by a merge moves the published version: ci says so
    (a notice that never fails the gate), even for a merge that changes no file."""
    repo = content_repo
    git(repo, "switch", "-q", "-c", "review")
    at(monkeypatch, 4)
    round_of(run, repo, monkeypatch)
    git(repo, "switch", "-q", "main")
    base = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge the review", "review")
    assert git(repo, "diff", "--name-only", base, "HEAD") == ""
    result = run(repo, "ci", "--base", base, "--strict", "--format", "json")
    assert result.exit_code == 0, result.output
    (finding,) = [f for f in as_json(result)["findings"] if f["rule"] == "published-version-changed"]
    assert "published for the first time" in finding["message"] and "rita@board.example" in finding["message"]
    (status,) = as_json(run(repo, "status", SLUG, "--format", "json"))
    assert status["state"] == "approved"


def test_ci_fails_a_fast_forward_that_takes_an_article_off_the_site(
    content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A branch that never had the article approved merges main but keeps its own text: on its
    line, main's approval is superseded, so the article would no longer be published at all."""
    repo = content_repo
    git(repo, "switch", "-q", "-c", "feature")
    at(monkeypatch, 2)
    act_as(monkeypatch, ALICE)
    edit(repo, NEW_LINE)
    git(repo, "switch", "-q", "main")
    at(monkeypatch, 3)
    round_of(run, repo, monkeypatch)
    git(repo, "switch", "-q", "feature")
    at(monkeypatch, 4)
    git(repo, "merge", "-q", "-s", "ours", "-m", "Take main, keep our text", "main")
    result = run(repo, "ci", "--base", "main", "--format", "json")
    assert result.exit_code == 1, result.output
    (finding,) = [f for f in as_json(result)["findings"] if f["rule"] == "published-rollback"]
    assert "is no longer published" in finding["message"], finding
