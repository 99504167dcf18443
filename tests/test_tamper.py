"""Tampering with the record: identities that look like a board member's, trailers where no
review action put them, approvals that carry edits, replaced objects, and links.

Each case is a real repository changed with plain git, as anyone with write access could, and
asserts what `verify`, `status` and `publish` say about it.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import git, write
from tests.gitrepo import ALICE, PATH, RITA, SLUG, act_as, blob, edit, forge, head, ok, refused

Run = Callable[..., Result]


@pytest.fixture
def submitted(content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> Path:
    ok(run(content_repo, "submit", SLUG))
    act_as(monkeypatch, RITA)
    ok(run(content_repo, "review", SLUG))
    act_as(monkeypatch, ALICE)
    return content_repo


def state(run: Run, repo: Path) -> dict[str, object]:
    result = run(repo, "status", SLUG, "--format", "json")
    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.stdout)
    return entry  # type: ignore[no-any-return]


def invalid(run: Run, repo: Path) -> list[dict[str, str]]:
    """The events verify refuses (it exits 1 when there are any, 0 when none)."""
    result = run(repo, "verify", "--format", "json")
    report = json.loads(result.stdout)
    assert result.exit_code == (1 if report["invalid"] else 0), result.output
    return report["invalid"]  # type: ignore[no-any-return]


def published(run: Run, repo: Path, out: Path) -> bool:
    ok(run(repo, "publish", "--out", str(out)))
    return (out / "articles" / SLUG / "index.html").is_file()


def add_member(repo: Path, name: str, email: str) -> None:
    with (repo / "reviewflow.toml").open("a", encoding="utf-8") as config:
        config.write(f'\n[[board]]\nname = "{name}"\nemail = "{email}"\ncredentials = "MD"\n')
    git(repo, "commit", "-q", "-am", f"Board: {name}")


# --- identities -------------------------------------------------------------------------------

LOOK_ALIKES = {
    "a board member's name with another email": ("Dr. Rita Reviewer", "rita@elsewhere.example"),
    "Cyrillic o in the domain": ("Dr. Rita Reviewer", "rita@b\u043eard.example"),
    "Cyrillic i in the name": ("Dr. Rita Reviewer", "r\u0456ta@board.example"),
    "a zero-width space": ("Dr. Rita Reviewer", "rita@board.example\u200b"),
    "fullwidth letters": ("Dr. Rita Reviewer", "\uff52ita@board.example"),
    "Kelvin sign for K, which lowercases to k": ("Dr. Kim Keller", "\u212aim@board.example"),
}


@pytest.mark.parametrize("who", LOOK_ALIKES)
def test_a_look_alike_of_a_board_member_is_nobody(
    submitted: Path, run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, who: str
) -> None:
    add_member(submitted, "Dr. Kim Keller", "kim@board.example")
    act_as(monkeypatch, LOOK_ALIKES[who])
    before = head(submitted)
    refused(run(submitted, "approve", SLUG), "not on the advisory board")
    assert head(submitted) == before  # refused before anything was committed
    forge(submitted, "approve")  # with plain git, as the look-alike
    [event] = invalid(run, submitted)
    assert event["actor_email"] == LOOK_ALIKES[who][1]
    assert "not on the advisory board" in event["reason"], event
    assert state(run, submitted)["state"] == "under-review"
    assert not published(run, submitted, tmp_path / "site")


def test_a_board_email_in_any_ascii_case_is_the_member(
    submitted: Path, run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The negative of the look-alikes: case is not identity (the README says so)."""
    act_as(monkeypatch, ("Rita", "RITA@Board.EXAMPLE"))
    ok(run(submitted, "approve", SLUG))
    assert invalid(run, submitted) == []
    entry = state(run, submitted)
    assert entry["state"] == "approved" and entry["approved_by"] == ["rita@board.example"], entry
    assert published(run, submitted, tmp_path / "site")


# --- trailers where no review action put them ---------------------------------------------------


def trailers(action: str, content: str) -> str:
    return f"Reviewflow-Article: {SLUG}\nReviewflow-Action: {action}\nReviewflow-Content: {content}\n"


def test_trailers_in_a_merge_commit_message_do_not_approve(
    submitted: Path, run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A contributor writes an approval's trailers into the description of a change; a board
    member merges it, and the merge commit (by the member) carries them, naming the merged text."""
    git(submitted, "checkout", "-q", "-b", "contribution")
    edit(submitted, "A contributor's new paragraph.")
    git(submitted, "checkout", "-q", "main")
    git(submitted, "commit", "-q", "--allow-empty", "-m", "Meanwhile on main")
    act_as(monkeypatch, RITA)
    merged_text = git(submitted, "rev-parse", f"contribution:{PATH}").strip()
    message = f"Merge the contribution\n\n{trailers('approve', merged_text)}"
    git(submitted, "merge", "-q", "--no-ff", "-m", message, "contribution")
    assert blob(submitted) == merged_text
    assert state(run, submitted)["state"] != "approved"
    assert invalid(run, submitted) and not published(run, submitted, tmp_path / "site")


def test_trailers_in_the_body_of_a_commit_are_no_event(
    submitted: Path, run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Quoted in a paragraph of the message (not its trailer block), as a pasted email would."""
    act_as(monkeypatch, RITA)
    message = (
        f"Notes from the meeting\n\n{trailers('approve', blob(submitted))}\nWe will approve it next week.\n"
    )
    git(submitted, "commit", "-q", "--allow-empty", "-m", message)
    assert state(run, submitted)["state"] == "under-review"
    assert invalid(run, submitted) == []
    assert not published(run, submitted, tmp_path / "site")


def test_an_approval_commit_that_also_edits_the_article_does_not_count(
    submitted: Path, run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    act_as(monkeypatch, RITA)
    with (submitted / PATH).open("a", encoding="utf-8") as article:
        article.write("\nA sentence the reviewer slips in while approving.\n")
    git(submitted, "add", PATH)
    edited = git(submitted, "hash-object", PATH).strip()
    git(submitted, "commit", "-q", "-m", f"reviewflow: approve {SLUG}\n\n{trailers('approve', edited)}")
    assert blob(submitted) == edited
    [event] = invalid(run, submitted)
    assert event["action"] == "approve"
    assert state(run, submitted)["state"] == "draft"
    assert not published(run, submitted, tmp_path / "site")


def test_an_approval_commit_that_edits_another_article_leaves_that_one_unreviewed(
    content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    other = content_repo / "articles" / "another-article.md"
    write(other, (content_repo / PATH).read_text(encoding="utf-8"))
    git(content_repo, "add", "-A")
    git(content_repo, "commit", "-q", "-m", "Another article")
    for action, person in (("submit", ALICE), ("review", RITA)):
        act_as(monkeypatch, person)
        ok(run(content_repo, action, "another-article"))
    for action, person in (("submit", ALICE), ("review", RITA)):
        act_as(monkeypatch, person)
        ok(run(content_repo, action, SLUG))
    with other.open("a", encoding="utf-8") as article:
        article.write("\nUnreviewed text riding along with an approval.\n")
    git(content_repo, "add", "-A")
    git(
        content_repo,
        "commit",
        "-q",
        "-m",
        f"reviewflow: approve {SLUG}\n\n{trailers('approve', blob(content_repo))}",
    )
    site = tmp_path / "site"
    assert published(run, content_repo, site)  # the approved article, as approved
    assert not (site / "articles" / "another-article" / "index.html").exists()
    assert state(run, content_repo)["state"] == "approved"


# --- objects and links --------------------------------------------------------------------------


def test_a_replaced_approval_commit_does_not_change_what_verify_accepts(
    submitted: Path, run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Mallory's forged approval is replaced (`git replace`) by a copy that names Rita: git
    itself would show Rita; reviewflow reads the object that is there."""
    act_as(monkeypatch, ("Mallory", "mallory@elsewhere.example"))
    forged = forge(submitted, "approve")
    raw = git(submitted, "cat-file", "commit", forged).replace(
        "Mallory <mallory@elsewhere.example>", "Dr. Rita Reviewer <rita@board.example>"
    )
    substitute = git_input(submitted, raw, "hash-object", "-t", "commit", "-w", "--stdin").strip()
    git(submitted, "replace", forged, substitute)
    assert "rita@board.example" in git(submitted, "log", "-1", "--format=%ae")  # what git shows
    [event] = invalid(run, submitted)
    assert event["actor_email"] == "mallory@elsewhere.example"
    assert state(run, submitted)["state"] == "under-review"
    assert not published(run, submitted, tmp_path / "site")


def git_input(repo: Path, text: str, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, input=text, capture_output=True, text=True, check=True
    ).stdout


def test_an_article_linked_outside_the_repository_is_never_published(
    content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A committed symbolic link in articles/ that points to a file outside: publish shows
    nothing of it (it is not an article file), and the check names it."""
    secret = write(
        tmp_path / "outside" / "secret.md", (content_repo / PATH).read_text("utf-8") + "\nSECRET-TEXT\n"
    )
    os.symlink(secret, content_repo / "articles" / "linked-article.md")
    git(content_repo, "add", "-A")
    git(content_repo, "commit", "-q", "-m", "A linked article")
    result = run(content_repo, "check", "--format", "json")
    assert [f["rule"] for f in json.loads(result.stdout)["findings"] if "linked" in f["path"]] == [
        "file-unreadable"
    ]
    site = tmp_path / "site"
    ok(run(content_repo, "publish", "--preview", "--out", str(site)))
    assert not any("SECRET-TEXT" in p.read_text("utf-8") for p in site.rglob("*.html"))


def test_an_output_directory_that_is_a_link_is_refused_and_its_target_untouched(
    content_repo: Path, run: Run, tmp_path: Path
) -> None:
    precious = write(tmp_path / "precious" / "keep.txt", "keep me")
    link = tmp_path / "www"
    os.symlink(precious.parent, link)
    result = run(content_repo, "publish", "--out", str(link))
    assert result.exit_code == 2, result.output
    assert "is a symbolic link; give the real directory" in result.output
    assert sorted(p.name for p in precious.parent.iterdir()) == ["keep.txt"]
    assert link.is_symlink()
