"""The review workflow from the command line, on real git repositories."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from reviewflow.configfile import load_config
from reviewflow.review.model import State
from reviewflow.review.queries import invalid_events, load_statuses, read_blobs
from tests.conftest import git, write
from tests.gitcount import git_processes, total
from tests.gitrepo import (
    ALICE,
    MALLORY,
    PATH,
    RITA,
    SAM,
    SLUG,
    act_as,
    as_json,
    blob,
    edit,
    forge,
    head,
    ok,
    refused,
    set_quorum,
)

Run = Callable[..., Result]


@pytest.fixture
def submitted(content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> Path:
    act_as(monkeypatch, ALICE)
    ok(run(content_repo, "submit", SLUG, "-m", "Ready for review"))
    return content_repo


@pytest.fixture
def reviewing(submitted: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> Path:
    act_as(monkeypatch, RITA)
    ok(run(submitted, "review", SLUG))
    return submitted


@pytest.fixture
def approved(reviewing: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> Path:
    act_as(monkeypatch, RITA)
    ok(run(reviewing, "approve", SLUG, "-m", "Accurate and clear"))
    return reviewing


def status_of(run: Run, repo: Path, slug: str = SLUG) -> dict:
    (entry,) = as_json(run(repo, "status", slug, "--format", "json"))
    return entry


# --- the lifecycle -------------------------------------------------------------------------------


def test_full_lifecycle(content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    assert status_of(run, content_repo)["state"] == "draft"
    act_as(monkeypatch, ALICE)
    result = ok(run(content_repo, "submit", PATH, "-m", "Ready for review"))
    assert "now submitted" in result.output and "reviewflow review" in result.output
    assert status_of(run, content_repo)["state"] == "submitted"

    act_as(monkeypatch, RITA)
    ok(run(content_repo, "review", SLUG))
    assert status_of(run, content_repo)["state"] == "under-review"
    result = ok(run(content_repo, "approve", SLUG, "-m", "Accurate and clear"))
    assert "now approved" in result.output

    entry = status_of(run, content_repo)
    assert entry["state"] == "approved"
    assert (entry["approvals"], entry["approvals_required"], entry["approved_by"]) == (
        1,
        1,
        ["rita@board.example"],
    )
    assert entry["approved_commit"] == head(content_repo)
    assert entry["approved_at"] and entry["review_due"] and entry["live_differs"] is False
    assert entry["path"] == PATH and entry["article"] == SLUG

    message = git(content_repo, "log", "-1", "--format=%B")
    assert message == (
        f"reviewflow: approve {SLUG}\n\nAccurate and clear\n\n"
        f"Reviewflow-Article: {SLUG}\nReviewflow-Action: approve\nReviewflow-Content: {blob(content_repo)}\n\n"
    )
    assert (
        git(content_repo, "log", "-1", "--format=%an <%ae>").strip()
        == "Dr. Rita Reviewer <rita@board.example>"
    )
    assert git(content_repo, "show", "--format=", "--name-only", "HEAD").strip() == ""  # an empty commit

    history = ok(run(content_repo, "history", SLUG)).output
    assert [a for a in ("submit", "review", "approve") if a in history] == ["submit", "review", "approve"]
    assert "Ready for review" in history and "Accurate and clear" in history and "NOT COUNTED" not in history
    events = as_json(run(content_repo, "history", SLUG, "--format", "json"))
    assert [e["action"] for e in events] == ["submit", "review", "approve"]
    assert all(e["valid"] for e in events) and events[0]["actor_email"] == ALICE[1]

    verify = ok(run(content_repo, "verify"))
    assert "3 review events checked: all valid" in verify.output
    text = ok(run(content_repo, "status")).output
    assert SLUG in text and "approved" in text and "1/1" in text and "current" in text


def test_request_changes_edit_and_resubmit(
    reviewing: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as(monkeypatch, RITA)
    ok(run(reviewing, "request-changes", SLUG, "-m", "Explain what VEGF is"))
    assert status_of(run, reviewing)["state"] == "changes-requested"

    act_as(monkeypatch, ALICE)
    refused(run(reviewing, "submit", SLUG), "changes-requested", "Edit it")
    edit(reviewing, "VEGF is a protein that makes blood vessels leaky.")
    assert status_of(run, reviewing)["state"] == "draft"
    diff = ok(run(reviewing, "diff", SLUG)).output
    assert "changes were requested on" in diff and "+VEGF is a protein" in diff
    ok(run(reviewing, "submit", SLUG, "-m", "Explained VEGF"))

    act_as(monkeypatch, RITA)
    ok(run(reviewing, "review", SLUG))
    ok(run(reviewing, "approve", SLUG))
    entry = status_of(run, reviewing)
    assert entry["state"] == "approved" and entry["approved_blob"] == blob(reviewing)
    events = as_json(run(reviewing, "history", SLUG, "--format", "json"))
    assert [e["action"] for e in events] == [
        "submit",
        "review",
        "request-changes",
        "submit",
        "review",
        "approve",
    ]
    assert events[2]["message"] == "Explain what VEGF is"


def test_withdraw_returns_to_draft(submitted: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    act_as(monkeypatch, RITA)
    refused(run(submitted, "withdraw", SLUG), "not an author", "Ask one of its authors")
    act_as(monkeypatch, ALICE)
    ok(run(submitted, "withdraw", SLUG, "-m", "Not ready after all"))
    assert status_of(run, submitted)["state"] == "draft"
    ok(run(submitted, "submit", SLUG))
    assert status_of(run, submitted)["state"] == "submitted"


def test_edit_after_approval_is_a_draft_with_the_approved_version_kept(
    approved: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    approved_commit, approved_blob = head(approved), blob(approved)
    act_as(monkeypatch, ALICE)
    edit(approved, "A new paragraph on treatment.")
    entry = status_of(run, approved)
    assert entry["state"] == "draft"
    assert (entry["approved_commit"], entry["approved_blob"]) == (approved_commit, approved_blob)
    assert entry["live_differs"] is True and entry["approvals"] == 0
    diff = ok(run(approved, "diff", SLUG)).output
    assert "changes since the last approved version" in diff
    assert "+A new paragraph on treatment." in diff
    assert f"commit {approved_commit[:12]}" in diff
    assert "differs" in ok(run(approved, "status")).output
    history = ok(run(approved, "history", SLUG)).output
    assert "draft again" in history

    statuses = load_statuses(approved, load_config(approved))
    status = statuses[SLUG]
    assert status.state is State.DRAFT and status.approved is not None
    old = read_blobs(approved, [status.approved.blob])[status.approved.blob]
    assert (
        b"A new paragraph" not in old and old == git(approved, "show", f"{approved_commit}:{PATH}").encode()
    )
    assert read_blobs(approved, [status.approved.blob, "f" * 40]) == {status.approved.blob: old}


def test_diff_of_an_unchanged_approved_article(approved: Path, run: Run) -> None:
    assert "No differences" in ok(run(approved, "diff", SLUG)).output


def test_staged_work_is_not_swept_into_a_review_commit(
    submitted: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(submitted / "notes.txt", "reviewer's scratch notes\n")
    git(submitted, "add", "notes.txt")
    act_as(monkeypatch, RITA)
    ok(run(submitted, "review", SLUG))
    assert git(submitted, "show", "--format=", "--name-only", "HEAD").strip() == ""
    assert git(submitted, "diff", "--cached", "--name-only").strip() == "notes.txt"


def test_content_repo_in_a_subdirectory(tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    outer = tmp_path / "monorepo"
    ok(run(tmp_path, "init", str(outer / "health")))
    with (outer / "health" / "reviewflow.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[[board]]\nname = "Rita"\nemail = "rita@board.example"\ncredentials = "MD"\n')
    git(outer, "init", "-q", "-b", "main")
    git(outer, "add", "-A")
    git(outer, "commit", "-q", "-m", "start")
    repo = outer / "health"
    ok(run(repo, "submit", SLUG))
    act_as(monkeypatch, RITA)
    ok(run(repo / "articles", "review", f"{SLUG}.md"))
    ok(run(outer, "-C", "health", "approve", f"articles/{SLUG}.md"))
    assert status_of(run, repo)["state"] == "approved"
    assert ok(run(repo, "verify")).exit_code == 0
    # The article's file is named from the content repo, and found in git from the work tree's
    # top: a later commit that changed it, and an edit not committed.
    act_as(monkeypatch, ALICE)
    edit(outer, "More text.", path=f"health/{PATH}")
    changed = head(outer)
    with (repo / PATH).open("a", encoding="utf-8") as handle:
        handle.write("Not committed.\n")
    assert f"latest: commit {changed[:12]} by alice@authors.example" in ok(run(repo, "history", SLUG)).output
    diff = ok(run(repo, "diff", SLUG)).output
    assert f"+++ b/{PATH} (HEAD {changed[:12]})" in diff and "+More text." in diff
    assert f"Note: {PATH} has uncommitted changes" in diff


# --- refusals ------------------------------------------------------------------------------------


def test_unknown_article_is_refused(content_repo: Path, run: Run) -> None:
    refused(
        run(content_repo, "submit", "what-is-poems"),
        "no article 'what-is-poems'",
        "did you mean what-is-poems-syndrome",
    )
    refused(run(content_repo, "submit", "../reviewflow.toml"), "not an article")
    refused(run(content_repo, "submit", "Not A Slug"), "not an article slug")
    result = run(content_repo, "status", "nope")
    assert result.exit_code == 2 and "no article 'nope'" in result.output


def test_uncommitted_changes_are_refused(submitted: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    act_as(monkeypatch, RITA)
    article = submitted / PATH
    original = article.read_text(encoding="utf-8")
    article.write_text(original + "\nUnsaved edit.\n", encoding="utf-8")
    refused(run(submitted, "review", SLUG), "uncommitted changes", "git add")
    git(submitted, "add", PATH)  # staged but not committed
    refused(run(submitted, "review", SLUG), "uncommitted changes")
    git(submitted, "reset", "-q", "HEAD", "--", PATH)
    article.write_text(original, encoding="utf-8")
    ok(run(submitted, "review", SLUG))


def test_an_article_that_is_not_committed_yet_is_refused(content_repo: Path, run: Run) -> None:
    (content_repo / "articles" / "brand-new.md").write_text((content_repo / PATH).read_text("utf-8"), "utf-8")
    refused(run(content_repo, "submit", "brand-new"), "not committed yet")


def test_submit_refuses_an_article_that_fails_check(content_repo: Path, run: Run) -> None:
    article = content_repo / PATH
    article.write_text(article.read_text("utf-8").replace("audience: patient", "audience: martians"), "utf-8")
    git(content_repo, "commit", "-q", "-am", "Break the audience")
    refused(run(content_repo, "submit", SLUG), "fails `reviewflow check`", "schema")
    assert status_of(run, content_repo)["state"] == "draft"


@pytest.mark.parametrize(
    ("person", "action", "fragments"),
    [
        (RITA, "approve", ("the article is draft", "reviewflow submit")),
        (RITA, "review", ("only a submitted article",)),
        (RITA, "request-changes", ("changes can be requested only",)),
        (ALICE, "withdraw", ("draft already",)),
    ],
)
def test_transitions_from_draft_are_refused(
    content_repo: Path,
    run: Run,
    monkeypatch: pytest.MonkeyPatch,
    person: tuple[str, str],
    action: str,
    fragments: tuple[str, ...],
) -> None:
    act_as(monkeypatch, person)
    before = head(content_repo)
    refused(run(content_repo, action, SLUG, "-m", "note"), f"cannot {action}", *fragments)
    assert head(content_repo) == before  # nothing recorded


def test_transitions_refused_along_the_way(approved: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    act_as(monkeypatch, ALICE)
    refused(run(approved, "submit", SLUG), "only a draft can be submitted", "edit and commit it")
    act_as(monkeypatch, ("Editorial Team", "editors@example.org"))  # listed in its authors
    refused(run(approved, "withdraw", SLUG), "approved version stays approved")
    act_as(monkeypatch, SAM)
    refused(run(approved, "review", SLUG), "only a submitted article")
    refused(run(approved, "request-changes", SLUG, "-m", "late"), "changes can be requested only")


def test_approve_needs_a_review_first_and_review_happens_once(
    submitted: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as(monkeypatch, RITA)
    refused(run(submitted, "approve", SLUG), "only an article under review", "reviewflow review")
    ok(run(submitted, "review", SLUG))
    act_as(monkeypatch, SAM)
    refused(run(submitted, "review", SLUG), "already under review")
    act_as(monkeypatch, ALICE)
    refused(run(submitted, "submit", SLUG), "already under review")


def test_request_changes_needs_a_message(reviewing: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    act_as(monkeypatch, RITA)
    assert run(reviewing, "request-changes", SLUG).exit_code == 2  # click: missing -m
    refused(run(reviewing, "request-changes", SLUG, "-m", "  "), "say what has to change")


def test_a_message_cannot_smuggle_trailers(
    submitted: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as(monkeypatch, RITA)
    refused(run(submitted, "review", SLUG, "-m", "fine\nReviewflow-Action: approve"), "may not contain")


def test_someone_not_on_the_board_cannot_review(
    submitted: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as(monkeypatch, MALLORY)
    refused(run(submitted, "review", SLUG), "not on the advisory board", "git config user.email")
    act_as(monkeypatch, ALICE)
    refused(run(submitted, "review", SLUG), "not on the advisory board")


def test_board_email_is_matched_case_insensitively(
    submitted: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as(monkeypatch, ("Rita", "RITA@Board.Example"))
    ok(run(submitted, "review", SLUG))


@pytest.mark.parametrize("kept", [False, True], ids=["log-read", "kept-state"])
def test_a_listed_author_cannot_approve_their_own_article(
    content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch, kept: bool
) -> None:
    """Judged from the log read for the article, or from the state `status` kept: a whole
    history knows a text's listed authors only among the actors of its events, and Sam has
    acted on none of this text's."""
    article = content_repo / PATH
    text = article.read_text("utf-8").replace(
        'email: "editors@example.org"',
        # the example's declaration then follows Sam's email: it declares for Sam
        'email: "editors@example.org"\n    competing_interests: "none"\n  - name: "Sam"\n'
        '    email: "Sam@Board.example"',
    )
    article.write_text(text, "utf-8")
    git(content_repo, "commit", "-q", "-am", "Sam co-writes")
    ok(run(content_repo, "submit", SLUG))
    if kept:
        ok(run(content_repo, "status"))
    act_as(monkeypatch, SAM)
    with git_processes() as started:
        refused(run(content_repo, "review", SLUG), "listed in its authors", "Ask another board member")
    assert ("log" in started) is not kept, started  # the kept state at HEAD: no log read
    act_as(monkeypatch, RITA)
    ok(run(content_repo, "review", SLUG))
    act_as(monkeypatch, SAM)
    refused(run(content_repo, "approve", SLUG), "an author may never approve")


@pytest.mark.parametrize("kept", [False, True], ids=["log-read", "kept-state"])
def test_a_board_member_who_edited_the_article_cannot_approve_it(
    approved: Path, run: Run, monkeypatch: pytest.MonkeyPatch, kept: bool
) -> None:
    act_as(monkeypatch, RITA)
    edited = edit(approved, "Rita adds a sentence herself.")
    act_as(monkeypatch, ALICE)
    ok(run(approved, "submit", SLUG))
    if kept:  # a whole history kept: everyone's changes to the file, not only its actors'
        ok(run(approved, "status"))
    act_as(monkeypatch, RITA)
    refused(run(approved, "review", SLUG), f"changed it in commit {edited[:12]}")
    act_as(monkeypatch, SAM)
    ok(run(approved, "review", SLUG))
    act_as(monkeypatch, RITA)
    refused(run(approved, "approve", SLUG), "since its last approval")
    forge(approved, "approve")  # Rita approving by hand anyway: it does not count
    assert status_of(run, approved)["state"] == "under-review"
    act_as(monkeypatch, SAM)
    ok(run(approved, "approve", SLUG))
    assert status_of(run, approved)["approved_by"] == ["sam@board.example"]


# --- quorum and branches -------------------------------------------------------------------------


def test_quorum_of_two_and_the_same_reviewer_twice(
    content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_quorum(content_repo, 2)
    ok(run(content_repo, "submit", SLUG))
    act_as(monkeypatch, RITA)
    ok(run(content_repo, "review", SLUG))
    result = ok(run(content_repo, "approve", SLUG))
    assert "Approvals 1/2" in result.output and "another board member" in result.output
    refused(run(content_repo, "approve", SLUG), "already approved this version", "counts once")
    forge(content_repo, "approve")  # the same approval again, by hand: valid, but counts once
    entry = status_of(run, content_repo)
    assert (entry["state"], entry["approvals"], entry["approved_by"]) == (
        "under-review",
        1,
        ["rita@board.example"],
    )
    assert entry["approved_commit"] is None

    act_as(monkeypatch, SAM)
    ok(run(content_repo, "approve", SLUG))
    entry = status_of(run, content_repo)
    assert entry["state"] == "approved"
    assert entry["approved_by"] == ["rita@board.example", "sam@board.example"]
    assert ok(run(content_repo, "verify")).exit_code == 0


def test_approvals_on_two_branches_both_count_after_the_merge(
    content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_quorum(content_repo, 2)
    ok(run(content_repo, "submit", SLUG))
    act_as(monkeypatch, RITA)
    ok(run(content_repo, "review", SLUG))
    git(content_repo, "branch", "sam-review")
    ok(run(content_repo, "approve", SLUG))  # on main
    git(content_repo, "checkout", "-q", "sam-review")
    act_as(monkeypatch, SAM)
    ok(run(content_repo, "approve", SLUG))  # on the branch
    assert status_of(run, content_repo)["state"] == "under-review"
    git(content_repo, "checkout", "-q", "main")
    git(content_repo, "merge", "-q", "--no-edit", "sam-review")
    entry = status_of(run, content_repo)
    assert entry["state"] == "approved" and entry["approvals"] == 2
    assert entry["approved_by"] == ["rita@board.example", "sam@board.example"]
    assert "all valid" in ok(run(content_repo, "verify")).output


def test_an_approval_survives_a_rebase_that_keeps_the_text(
    content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(content_repo, "checkout", "-q", "-b", "review")
    ok(run(content_repo, "submit", SLUG))
    act_as(monkeypatch, RITA)
    ok(run(content_repo, "review", SLUG))
    ok(run(content_repo, "approve", SLUG))
    git(content_repo, "checkout", "-q", "main")
    write(content_repo / "README.txt", "unrelated\n")
    git(content_repo, "add", "README.txt")
    git(content_repo, "commit", "-q", "-m", "Unrelated change on main")
    git(content_repo, "checkout", "-q", "review")
    git(content_repo, "rebase", "-q", "main")
    assert status_of(run, content_repo)["state"] == "approved"


# --- forged events -------------------------------------------------------------------------------


def test_an_approval_copied_by_someone_not_on_the_board(
    reviewing: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as(monkeypatch, MALLORY)
    forged = forge(reviewing, "approve", message="Looks fine to me")
    assert status_of(run, reviewing)["state"] == "under-review"
    result = run(reviewing, "verify")
    assert result.exit_code == 1
    assert forged[:12] in result.output and "not on the advisory board" in result.output
    assert "1 invalid" in result.output
    payload = as_json(run(reviewing, "verify", "--format", "json"))
    assert payload["valid"] is False and [e["commit"] for e in payload["invalid"]] == [forged]
    history = ok(run(reviewing, "history", SLUG)).output
    assert "NOT COUNTED" in history and "not on the advisory board" in history
    events = as_json(run(reviewing, "history", SLUG, "--format", "json"))
    assert events[-1]["valid"] is False and "not on the advisory board" in events[-1]["reason"]


def test_a_content_trailer_pointing_at_other_content(
    reviewing: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as(monkeypatch, ALICE)
    edit(reviewing, "An unreviewed claim.")
    other = git(reviewing, "rev-parse", f"HEAD~1:{PATH}").strip()  # the text Rita is reviewing
    act_as(monkeypatch, RITA)
    forge(reviewing, "approve", content=other)  # claims the old text while the commit holds the new
    entry = status_of(run, reviewing)
    assert entry["state"] == "draft" and entry["approved_commit"] is None
    result = run(reviewing, "verify")
    assert result.exit_code == 1 and "not about the text it claims" in result.output


def test_a_merge_binds_events_to_the_text_the_merge_holds(
    content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as(monkeypatch, ALICE)
    before = blob(content_repo)
    git(content_repo, "checkout", "-q", "-b", "side")
    edit(content_repo, "Written on a branch.")
    merged = blob(content_repo)
    git(content_repo, "checkout", "-q", "main")
    git(content_repo, "commit", "-q", "--allow-empty", "-m", "Meanwhile on main")
    # A merge commit that claims the text of its first parent, while it holds the branch's.
    text = (
        f"Merge side\n\nReviewflow-Article: {SLUG}\nReviewflow-Action: submit\nReviewflow-Content: {before}\n"
    )
    git(content_repo, "merge", "-q", "--no-ff", "-m", text, "side")
    assert blob(content_repo) == merged != before
    stale = forge(content_repo, "submit", content=before)  # after the merge, the old text again
    real = forge(content_repo, "submit", content=merged)
    merge = git(content_repo, "rev-parse", "HEAD~2").strip()
    events = {e.commit: e for e in invalid_events(content_repo, load_config(content_repo))}
    assert set(events) == {merge, stale}
    assert all("not about the text it claims" in (e.reason or "") for e in events.values())
    assert real not in events
    assert status_of(run, content_repo)["state"] == "submitted"


def test_malformed_trailers_are_reported(reviewing: Path, run: Run) -> None:
    git(
        reviewing,
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "hack\n\nReviewflow-Article: ../etc\nReviewflow-Action: approve\n",
    )
    git(
        reviewing,
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        f"x\n\nReviewflow-Article: {SLUG}\nReviewflow-Action: publish\nReviewflow-Content: {blob(reviewing)}\n",
    )
    result = run(reviewing, "verify")
    assert result.exit_code == 1
    assert "not an article slug" in result.output and "unknown action 'publish'" in result.output
    assert status_of(run, reviewing)["state"] == "under-review"


def test_a_message_with_a_patch_separator_still_records(
    submitted: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as(monkeypatch, RITA)
    ok(run(submitted, "review", SLUG, "-m", "notes\n---\nmore notes"))
    assert status_of(run, submitted)["state"] == "under-review"


# --- queue ---------------------------------------------------------------------------------------


def test_queue_lists_waiting_articles_oldest_first(
    content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    second = content_repo / "articles" / "second-article.md"
    second.write_text((content_repo / PATH).read_text("utf-8"), "utf-8")
    git(content_repo, "add", "-A")
    git(content_repo, "commit", "-q", "-m", "Second article")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2024-01-01T10:00:00+00:00")
    ok(run(content_repo, "submit", "second-article"))
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2024-02-01T10:00:00+00:00")
    ok(run(content_repo, "submit", SLUG))
    monkeypatch.delenv("GIT_COMMITTER_DATE")
    assert ok(run(content_repo, "queue")).output.index("second-article") < ok(
        run(content_repo, "queue")
    ).output.index(SLUG)
    items = as_json(run(content_repo, "queue", "--format", "json"))
    assert [i["article"] for i in items] == ["second-article", SLUG]
    assert items[0]["waiting_days"] > items[1]["waiting_days"] > 0
    assert items[0]["submitted_by"] == "Alice Author <alice@authors.example>"

    act_as(monkeypatch, RITA)
    ok(run(content_repo, "review", SLUG))
    ok(run(content_repo, "approve", SLUG))
    assert [i["article"] for i in as_json(run(content_repo, "queue", "--format", "json"))] == [
        "second-article"
    ]
    assert [i["article"] for i in as_json(run(content_repo, "queue", "--mine", "--format", "json"))] == [
        "second-article"
    ]
    act_as(monkeypatch, ALICE)  # her own articles
    assert [i["article"] for i in as_json(run(content_repo, "queue", "--mine", "--format", "json"))] == [
        "second-article"
    ]
    act_as(monkeypatch, MALLORY)
    assert "Nothing waits for you" in ok(run(content_repo, "queue", "--mine")).output


# --- the readers other commands build on -------------------------------------------------------


def test_invalid_events_in_a_range(reviewing: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(reviewing)
    act_as(monkeypatch, MALLORY)
    before = head(reviewing)
    forged = forge(reviewing, "approve")
    assert [e.commit for e in invalid_events(reviewing, config)] == [forged]
    assert [e.commit for e in invalid_events(reviewing, config, f"{before}..HEAD")] == [forged]
    assert invalid_events(reviewing, config, f"{before}~1..{before}") == []
    event = invalid_events(reviewing, config)[0]
    assert (event.article, event.actor, event.path, str(event.action)) == (SLUG, MALLORY[1], PATH, "approve")


def test_status_lists_every_article_and_counts(approved: Path, run: Run) -> None:
    output = ok(run(approved, "status")).output
    assert "ARTICLE" in output and "1 article: 1 approved" in output


def test_statuses_come_from_a_handful_of_git_processes(content_repo: Path, run: Run) -> None:
    """Principle 3: one `log`, one `ls-tree`, a few more processes; never one per article or event."""
    for n in range(12):
        (content_repo / "articles" / f"extra-{n}.md").write_text(
            (content_repo / PATH).read_text("utf-8") + f"\nExtra paragraph {n}.\n", "utf-8"
        )
    git(content_repo, "add", "-A")
    git(content_repo, "commit", "-q", "-m", "More articles")
    for n in range(12):
        forge(
            content_repo,
            "submit",
            slug=f"extra-{n}",
            content=blob(content_repo, path=f"articles/extra-{n}.md"),
        )
    with git_processes() as started:
        statuses = load_statuses(content_repo, load_config(content_repo))
    assert sum(1 for s in statuses.values() if s.state is State.SUBMITTED) == 12
    assert 0 < total(started) <= 7, started
    assert (started["log"], started["ls-tree"]) == (1, 1), started


def test_status_mentions_articles_not_committed_yet(content_repo: Path, run: Run) -> None:
    (content_repo / "articles" / "brand-new.md").write_text("---\n---\n", "utf-8")
    output = ok(run(content_repo, "status")).output
    assert "articles/brand-new.md is not committed yet" in output
    assert [e["article"] for e in as_json(run(content_repo, "status", "--format", "json"))] == [SLUG]


def test_verify_a_range(reviewing: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    act_as(monkeypatch, MALLORY)
    forge(reviewing, "approve")
    assert run(reviewing, "verify", "--range", "HEAD~1..HEAD").exit_code == 1
    clean = ok(run(reviewing, "verify", "--range", "HEAD~3..HEAD~1"))
    assert "2 review events checked: all valid" in clean.output
    result = run(reviewing, "verify", "--range", "nope..HEAD")
    assert result.exit_code == 2 and "unknown revision range" in result.output
