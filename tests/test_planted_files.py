"""Files a repository plants: links and FIFOs committed (or left) where reviewflow reads and writes.

Each test commits what an attacker's pull request could, then runs reviewflow where CI and a
reviewer would: in a fresh `git clone`, before reviewflow ever ran there. The CLI runs in a
subprocess with a timeout, so that a regression that blocks (a FIFO opened) fails, not hangs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import article_text, git, write

SECRET = "sk-live-4f1c9e0b7a2d-do-not-print"  # what an outside file holds
NOT_USED = "not used as a cache"  # the note a cache reviewflow must not use brings


def cli(directory: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reviewflow", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A", "--force")  # whatever a .gitignore says: a commit can hold anything
    git(repo, "commit", "-q", "-m", message)


def clone(origin: Path, tmp_path: Path, branch: str = "main") -> Path:
    """A fresh clone of ORIGIN at BRANCH, as a CI job or a reviewer checking out a change has it."""
    copy = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--branch", branch, str(origin), str(copy))
    return copy


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory outside the repository with something in it worth keeping."""
    directory = tmp_path / "outside"
    write(directory / "precious.txt", "keep me\n")
    write(directory / "nested" / "notes.txt", "and me\n")
    return directory


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file outside the repository whose text must never reach any output. It is written as a
    front-matter key, so that a check which reads it names the text in a finding."""
    return write(tmp_path / "secret.md", f"---\n{SECRET}: 1\n---\n\n{SECRET}\n")


def files_in(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()
    }


# --- a planted .reviewflow-cache/ --------------------------------------------------------------------


def test_a_planted_trash_link_never_empties_the_directory_it_points_to(
    content_repo: Path, outside: Path, tmp_path: Path
) -> None:
    before = files_in(outside)
    link = content_repo / ".reviewflow-cache" / "publish" / "replaced"
    link.parent.mkdir(parents=True)
    link.symlink_to(outside)
    commit_all(content_repo, "Plant a link where publish keeps replaced sites")
    repo = clone(content_repo, tmp_path)

    for _ in range(2):  # the second build has a replaced site to put in the trash
        result = cli(repo, "publish", "--out", "site")
        assert result.returncode == 0, result.stderr
        assert files_in(outside) == before
    assert result.stderr.count(NOT_USED) == 1, result.stderr
    assert (repo / ".reviewflow-cache" / "publish" / "replaced").is_symlink()  # left as it was


def test_a_planted_cachedir_tag_link_never_writes_its_target(
    content_repo: Path, outside: Path, tmp_path: Path
) -> None:
    target = outside / "precious.txt"
    (content_repo / ".reviewflow-cache").mkdir()
    (content_repo / ".reviewflow-cache" / "CACHEDIR.TAG").symlink_to(target)
    commit_all(content_repo, "Plant a link where publish tags its cache")
    repo = clone(content_repo, tmp_path)

    result = cli(repo, "publish", "--out", "site")

    assert result.returncode == 0, result.stderr
    assert target.read_text() == "keep me\n"
    assert NOT_USED in result.stderr


def test_a_planted_dangling_gitignore_link_never_creates_its_target(
    content_repo: Path, tmp_path: Path
) -> None:
    target = tmp_path / "created-by-reviewflow"
    (content_repo / ".reviewflow-cache").mkdir()
    (content_repo / ".reviewflow-cache" / ".gitignore").symlink_to(target)
    commit_all(content_repo, "Plant a dangling link where the cache ignores itself")
    repo = clone(content_repo, tmp_path)

    for command in (["check"], ["publish", "--out", "site"]):
        result = cli(repo, *command)
        assert result.returncode in (0, 1), result.stderr
        assert not os.path.lexists(target), command
        assert result.stderr.count(NOT_USED) == 1, result.stderr


def test_a_cache_directory_that_is_a_link_is_never_written_through(
    content_repo: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (content_repo / ".reviewflow-cache").symlink_to(elsewhere)
    commit_all(content_repo, "The cache is somewhere else")
    repo = clone(content_repo, tmp_path)

    for command in (["check"], ["publish", "--out", "site"]):
        result = cli(repo, *command)
        assert result.returncode in (0, 1), result.stderr
        assert list(elsewhere.iterdir()) == [], command
        assert NOT_USED in result.stderr


def test_a_committed_cache_directory_is_no_cache_and_says_so_once(content_repo: Path, tmp_path: Path) -> None:
    write(content_repo / ".reviewflow-cache" / "check.json", "{}\n")
    commit_all(content_repo, "Commit a cache")
    repo = clone(content_repo, tmp_path)

    first, second = cli(repo, "check"), cli(repo, "check")

    for result in (first, second):
        assert result.returncode in (0, 1), result.stderr
        assert result.stderr.count(NOT_USED) == 1, result.stderr
        assert "holds files committed to git" in result.stderr
    assert first.stdout == second.stdout
    assert (repo / ".reviewflow-cache" / "check.json").read_text() == "{}\n"  # never rewritten
    assert git(repo, "status", "--porcelain") == ""

    # Once it is out of git, as the note says, reviewflow keeps a cache there again.
    git(repo, "rm", "-r", "-q", ".reviewflow-cache")
    git(repo, "commit", "-q", "-m", "No cache in git")
    checked = cli(repo, "check")
    built = cli(repo, "publish", "--out", str(tmp_path / "site"))

    assert checked.stdout == first.stdout and built.returncode == 0, built.stderr
    assert NOT_USED not in checked.stderr + built.stderr
    cache = repo / ".reviewflow-cache"
    assert (cache / "check.json").is_file() and (cache / "publish").is_dir()
    assert (cache / "CACHEDIR.TAG").is_file()
    assert git(repo, "status", "--porcelain") == ""  # it ignores itself


def test_publish_never_locks_through_a_link_in_its_own_cache(content_repo: Path, tmp_path: Path) -> None:
    """Within a cache reviewflow made, too, a link it did not make is never followed."""
    site, target = tmp_path / "site", tmp_path / "created-by-the-lock"
    assert cli(content_repo, "publish", "--out", str(site)).returncode == 0
    [lock] = (content_repo / ".reviewflow-cache" / "publish").glob("*.lock")
    lock.unlink()
    lock.symlink_to(target)

    result = cli(content_repo, "publish", "--out", str(site))

    assert result.returncode == 0, result.stderr
    assert not os.path.lexists(target)


# --- planted articles -----------------------------------------------------------------------------


def test_a_fifo_article_is_a_finding_and_check_never_blocks(content_repo: Path) -> None:
    os.mkfifo(content_repo / "articles" / "x.md")

    for args in (["check"], ["check", "articles/x.md"], ["check", "--format", "json"]):
        result = cli(content_repo, *args, timeout=60)
        assert result.returncode == 1, result.stderr
        assert "articles/x.md" in result.stdout
        assert "FIFO" in result.stdout
    report = json.loads(cli(content_repo, "check", "--format", "json", timeout=60).stdout)
    assert report["summary"]["files"] == 2  # the other article was still checked
    assert [f["path"] for f in report["findings"]] == ["articles/x.md"]


def test_an_article_linked_to_a_file_outside_is_never_read(
    content_repo: Path, secret: Path, tmp_path: Path
) -> None:
    git(content_repo, "checkout", "-q", "-b", "change")
    (content_repo / "articles" / "leak.md").symlink_to(secret)
    commit_all(content_repo, "An article that is a link")
    repo = clone(content_repo, tmp_path, branch="change")
    git(repo, "branch", "-q", "main", "origin/main")

    check = cli(repo, "check")
    as_json = cli(repo, "check", "--format", "json")
    ci = cli(repo, "ci", "--base", "main")
    published = cli(repo, "publish", "--out", "site", "--preview")

    for result in (check, as_json, ci, published):
        assert SECRET not in result.stdout + result.stderr
    assert check.returncode == 1 and "articles/leak.md" in check.stdout and "symbolic link" in check.stdout
    assert json.loads(as_json.stdout)["summary"]["files"] == 2  # the other file is still checked
    assert ci.returncode == 1 and "planted-file" in ci.stdout and "articles/leak.md" in ci.stdout
    assert published.returncode == 0, published.stderr
    assert SECRET.encode() not in b"".join(files_in(repo / "site").values())


def test_a_linked_articles_directory_is_never_looked_into(
    content_repo: Path, secret: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    write(elsewhere / "leak.md", secret.read_text())
    git(content_repo, "rm", "-r", "-q", "articles")
    (content_repo / "articles").symlink_to(elsewhere)
    commit_all(content_repo, "Articles are elsewhere")
    repo = clone(content_repo, tmp_path)

    for args in (["check"], ["check", "articles/leak.md"]):
        result = cli(repo, *args)
        assert result.returncode == 1, result.stderr
        assert SECRET not in result.stdout + result.stderr
        assert "symbolic link" in result.stdout


def test_a_fifo_schema_is_a_configuration_error_not_a_hang(content_repo: Path) -> None:
    schema = content_repo / "schemas" / "article.schema.json"
    schema.unlink()
    os.mkfifo(schema)

    result = cli(content_repo, "check", timeout=60)

    assert result.returncode == 2, result.stderr
    assert "article.schema.json" in result.stderr and "FIFO" in result.stderr


# --- ci --------------------------------------------------------------------------------------------


def test_ci_flags_a_change_that_adds_anything_under_the_cache(content_repo: Path, tmp_path: Path) -> None:
    git(content_repo, "checkout", "-q", "-b", "change")
    write(content_repo / "articles" / "fine.md", article_text())
    link = content_repo / ".reviewflow-cache" / "publish" / "replaced"
    link.parent.mkdir(parents=True)
    link.symlink_to(tmp_path)
    write(content_repo / ".reviewflow-cache" / "check.json", "{}\n")
    commit_all(content_repo, "A change that brings a cache")
    repo = clone(content_repo, tmp_path, branch="change")
    git(repo, "branch", "-q", "main", "origin/main")

    result = cli(repo, "ci", "--base", "main", "--format", "json")

    assert result.returncode == 1, result.stdout + result.stderr
    for path in (".reviewflow-cache/publish/replaced", ".reviewflow-cache/check.json"):
        assert f'"{path}"' in result.stdout
    assert result.stdout.count('"planted-file"') == 2


def test_new_never_writes_through_a_linked_articles_directory(content_repo: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    git(content_repo, "rm", "-r", "-q", "articles")
    (content_repo / "articles").symlink_to(elsewhere)
    commit_all(content_repo, "Articles are elsewhere")
    repo = clone(content_repo, tmp_path)

    result = cli(repo, "new", "Living with POEMS", "--condition", "POEMS syndrome")

    assert result.returncode == 2, result.stdout + result.stderr
    assert "articles is a symbolic link" in result.stderr
    assert list(elsewhere.iterdir()) == []
