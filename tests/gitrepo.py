"""Helpers for review tests on real git repositories (identities come from environment variables)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests.conftest import as_author, git

SLUG = "what-is-poems-syndrome"  # the example article `reviewflow init` writes
PATH = f"articles/{SLUG}.md"
ALICE = ("Alice Author", "alice@authors.example")
RITA = ("Dr. Rita Reviewer", "rita@board.example")
SAM = ("Dr. Sam Second", "sam@board.example")
MALLORY = ("Mallory", "mallory@elsewhere.example")


def act_as(monkeypatch: pytest.MonkeyPatch, person: tuple[str, str]) -> None:
    as_author(monkeypatch, *person)


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def blob(repo: Path, rev: str = "HEAD", path: str = PATH) -> str:
    return git(repo, "rev-parse", f"{rev}:{path}").strip()


def edit(repo: Path, line: str = "One more sentence about POEMS syndrome.", path: str = PATH) -> str:
    """Append a paragraph to the article and commit it; returns the commit."""
    with (repo / path).open("a", encoding="utf-8") as handle:
        handle.write(f"\n{line}\n")
    git(repo, "add", path)
    git(repo, "commit", "-q", "-m", f"Edit {path}")
    return head(repo)


def set_quorum(repo: Path, quorum: int) -> None:
    config = repo / "reviewflow.toml"
    text = config.read_text(encoding="utf-8").replace(
        "approvals_required = 1", f"approvals_required = {quorum}"
    )
    config.write_text(text, encoding="utf-8")
    git(repo, "commit", "-q", "-am", f"Quorum {quorum}")


def forge(repo: Path, action: str, slug: str = SLUG, content: str | None = None, message: str = "") -> str:
    """A review commit made by hand with plain git, as anyone could write one."""
    content = content or blob(repo)
    text = f"reviewflow: {action} {slug}\n\n" + (f"{message}\n\n" if message else "")
    text += f"Reviewflow-Article: {slug}\nReviewflow-Action: {action}\nReviewflow-Content: {content}\n"
    git(repo, "commit", "-q", "--allow-empty", "-m", text)
    return head(repo)


def ssh_key(directory: Path, name: str) -> tuple[Path, str]:
    """A real ed25519 key pair without a passphrase: (private key path, public key line)."""
    directory.mkdir(parents=True, exist_ok=True)
    private = directory / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(private)], check=True
    )
    return private, (directory / f"{name}.pub").read_text(encoding="utf-8").strip()


def add_signing_key(repo: Path, email: str, public_key: str) -> None:
    """Give a board member a signing_key in reviewflow.toml, and commit it."""
    config = repo / "reviewflow.toml"
    text = config.read_text(encoding="utf-8")
    anchor = f'email = "{email}"\n'
    assert anchor in text
    config.write_text(text.replace(anchor, f'{anchor}signing_key = "{public_key}"\n'), encoding="utf-8")
    git(repo, "commit", "-q", "-am", f"Signing key for {email}")


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def refused(result: Result, *fragments: str) -> str:
    """Assert an action was refused (exit 1) with a message containing every fragment."""
    assert result.exit_code == 1, result.output
    for fragment in fragments:
        assert fragment in result.output, result.output
    return result.output


def as_json(result: Result) -> Any:
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)
