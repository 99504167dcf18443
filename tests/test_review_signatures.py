"""Signed review actions: real SSH keys, git's own signing and verification."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from reviewflow.review.workflow import ssh_fingerprint
from tests.conftest import git
from tests.gitrepo import (
    ALICE,
    RITA,
    SAM,
    SLUG,
    act_as,
    add_signing_key,
    as_json,
    forge,
    head,
    ok,
    refused,
    ssh_key,
)

Run = Callable[..., Result]

pytestmark = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen")


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    return {"rita": ssh_key(tmp_path / "keys", "rita"), "sam": ssh_key(tmp_path / "keys", "sam")}


@pytest.fixture
def signing_repo(
    content_repo: Path, keys: dict[str, tuple[Path, str]], run: Run, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Rita's board entry has her signing key; the article is submitted; git signs with SSH."""
    add_signing_key(content_repo, RITA[1], keys["rita"][1])
    git(content_repo, "config", "gpg.format", "ssh")
    act_as(monkeypatch, ALICE)
    ok(run(content_repo, "submit", SLUG))
    return content_repo


def state(run: Run, repo: Path) -> str:
    return str(as_json(run(repo, "status", SLUG, "--format", "json"))[0]["state"])


def test_fingerprint_matches_ssh_keygen(keys: dict[str, tuple[Path, str]]) -> None:
    import subprocess

    private, public = keys["rita"]
    listed = subprocess.run(
        ["ssh-keygen", "-l", "-f", f"{private}.pub"], capture_output=True, text=True, check=True
    )
    assert listed.stdout.split()[1] == ssh_fingerprint(public)


def test_signed_actions_with_the_members_key_count(
    signing_repo: Path, keys: dict[str, tuple[Path, str]], run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(signing_repo, "config", "user.signingkey", str(keys["rita"][0]))
    act_as(monkeypatch, RITA)
    ok(run(signing_repo, "review", SLUG, "--sign"))
    ok(run(signing_repo, "approve", SLUG, "--sign"))
    assert "-----BEGIN SSH SIGNATURE-----" in git(signing_repo, "cat-file", "commit", "HEAD")
    assert state(run, signing_repo) == "approved"
    assert "all valid" in ok(run(signing_repo, "verify")).output
    events = as_json(run(signing_repo, "history", SLUG, "--format", "json"))
    assert events[-1]["signature"] == "G" and events[-1]["signing_key"] == ssh_fingerprint(keys["rita"][1])


def test_commit_gpgsign_signs_without_the_flag(
    signing_repo: Path, keys: dict[str, tuple[Path, str]], run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(signing_repo, "config", "user.signingkey", str(keys["rita"][0]))
    git(signing_repo, "config", "commit.gpgsign", "true")
    act_as(monkeypatch, RITA)
    ok(run(signing_repo, "review", SLUG))
    ok(run(signing_repo, "approve", SLUG))
    assert state(run, signing_repo) == "approved"


def test_an_unsigned_action_by_a_signing_member_is_refused_before_committing(
    signing_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as(monkeypatch, RITA)
    before = head(signing_repo)
    refused(run(signing_repo, "review", SLUG), "signing_key", "--sign", "commit.gpgsign")
    assert head(signing_repo) == before


def test_signing_with_another_key_is_refused_and_undone(
    signing_repo: Path, keys: dict[str, tuple[Path, str]], run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(signing_repo, "config", "user.signingkey", str(keys["sam"][0]))  # the wrong key
    act_as(monkeypatch, RITA)
    before = head(signing_repo)
    refused(run(signing_repo, "review", SLUG, "--sign"), "not with your signing_key", "reviewflow undid it")
    assert head(signing_repo) == before
    assert state(run, signing_repo) == "submitted"
    assert ok(run(signing_repo, "verify")).exit_code == 0


def test_an_unsigned_copy_of_a_signed_members_approval_does_not_count(
    signing_repo: Path, keys: dict[str, tuple[Path, str]], run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(signing_repo, "config", "user.signingkey", str(keys["rita"][0]))
    act_as(monkeypatch, RITA)
    ok(run(signing_repo, "review", SLUG, "--sign"))
    git(signing_repo, "config", "--unset", "user.signingkey")
    # Someone writes Rita's approval by hand, with her name on it, and no signature.
    forged = forge(signing_repo, "approve", message="Approved")
    assert state(run, signing_repo) == "under-review"
    result = run(signing_repo, "verify")
    assert result.exit_code == 1
    assert forged[:12] in result.output and "not signed" in result.output


def test_an_approval_signed_with_someone_elses_key_does_not_count(
    signing_repo: Path, keys: dict[str, tuple[Path, str]], run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(signing_repo, "config", "user.signingkey", str(keys["rita"][0]))
    act_as(monkeypatch, RITA)
    ok(run(signing_repo, "review", SLUG, "--sign"))
    git(signing_repo, "config", "user.signingkey", str(keys["sam"][0]))
    git(signing_repo, "config", "commit.gpgsign", "true")
    forge(signing_repo, "approve")  # Rita's name, signed, but with Sam's key
    assert state(run, signing_repo) == "under-review"
    result = run(signing_repo, "verify")
    assert result.exit_code == 1 and "not rita@board.example's signing_key" in result.output


def test_members_without_a_key_need_no_signature(
    signing_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as(monkeypatch, SAM)
    ok(run(signing_repo, "review", SLUG))
    ok(run(signing_repo, "approve", SLUG))
    assert state(run, signing_repo) == "approved"
