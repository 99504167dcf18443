"""Principle 3 kept: the git processes a command starts do not grow with articles or commits.

Each guard runs a command on a library of 3 articles and on one of 30 (ten times the commits
too), counts the git processes it starts (tests/gitcount.py), and asserts the same processes for
both: more than none, and no more than the handful the README promises.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from reviewflow import gitprocess
from reviewflow.review.actions import event_message
from reviewflow.review.model import Action
from tests.conftest import article_text, as_author, git, make_content_repo, write
from tests.gitcount import git_processes, total
from tests.gitrepo import ALICE, RITA

Run = Callable[..., Result]

SMALL, LARGE = 3, 30
FIRST = "topic-0"  # under review in every library; every other topic is approved


def library(root: Path, monkeypatch: pytest.MonkeyPatch, articles: int) -> Path:
    """A content repo with ARTICLES articles, each submitted, reviewed and (but FIRST) approved.

    Each article is written in a commit of its own; the review events are commits made with plain
    git, three per article. Reviewflow is then run as Rita, the reviewer.
    """
    repo = root / f"library-{articles}"
    as_author(monkeypatch, *ALICE)
    make_content_repo(repo)
    for index in range(articles):  # a commit each: the diffs to read grow with the library too
        text = article_text(f"Topic {index} of POEMS syndrome [1].\n", title=f"Topic {index}")
        write(repo / "articles" / f"topic-{index}.md", text)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", f"Write topic {index}")
    blobs = {}
    for line in git(repo, "ls-tree", "HEAD", "articles/").splitlines():
        entry, path = line.split("\t")
        if path.startswith("articles/topic-"):
            blobs[path.removeprefix("articles/").removesuffix(".md")] = entry.split()[2]
    assert len(blobs) == articles
    for action, person in ((Action.SUBMIT, ALICE), (Action.REVIEW, RITA), (Action.APPROVE, RITA)):
        as_author(monkeypatch, *person)
        for slug, blob in blobs.items():
            if not (action is Action.APPROVE and slug == FIRST):
                git(repo, "commit", "-q", "--allow-empty", "-m", event_message(action, slug, blob))
    as_author(monkeypatch, *RITA)
    return repo


@pytest.fixture
def libraries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    return library(tmp_path, monkeypatch, SMALL), library(tmp_path, monkeypatch, LARGE)


def counted(run: Run, repo: Path, *args: str) -> tuple[Counter[str], Result]:
    """The git processes one command starts, and its result (which must be a success)."""
    with git_processes() as started:
        result = run(repo, *args)
    assert result.exit_code == 0, result.output
    return started, result


def assert_a_handful(small: Counter[str], large: Counter[str], bound: int) -> None:
    assert small == large, f"{SMALL} articles: {small}; {LARGE} articles: {large}"
    assert 0 < total(large) <= bound, large


# --- the guards ------------------------------------------------------------------------------------


def test_status_of_the_whole_history(libraries: tuple[Path, Path], run: Run) -> None:
    (small, _), (large, result) = (counted(run, repo, "status", "--format", "json") for repo in libraries)
    states = Counter(entry["state"] for entry in json.loads(result.output))
    assert (states["approved"], states["under-review"]) == (LARGE - 1, 1)
    assert_a_handful(small, large, 9)
    assert (large["log"], large["ls-tree"], large["diff-tree"]) == (1, 1, 1), large


def test_verify_of_the_whole_history(libraries: tuple[Path, Path], run: Run) -> None:
    (small, _), (large, result) = (counted(run, repo, "verify", "--no-cache") for repo in libraries)
    assert f"{3 * LARGE - 1} review events checked: all valid" in result.output
    assert_a_handful(small, large, 10)  # one cat-file more: the schema and the approved texts (the gate)
    assert (large["log"], large["diff-tree"]) == (1, 1), large


def test_an_action(libraries: tuple[Path, Path], run: Run) -> None:
    (small, _), (large, result) = (counted(run, repo, "approve", FIRST, "-m", "Clear") for repo in libraries)
    assert "now approved" in result.output
    # one cat-file more: the text and schema the gate checks; commit-tree, update-ref and the
    # commit.gpgsign read (commit-tree does not read it) in place of commit and rev-parse
    assert_a_handful(small, large, 27)
    assert large["commit-tree"] == 1 and large["update-ref"] == 1 and large["commit"] == 0, large


def test_ci_with_review_events(libraries: tuple[Path, Path], run: Run) -> None:
    def ci(repo: Path) -> tuple[Counter[str], Result]:
        git(repo, "checkout", "-q", "-b", "change")
        assert run(repo, "approve", FIRST, "-m", "Clear").exit_code == 0
        return counted(run, repo, "ci", "--base", "main", "--format", "json")

    (small, _), (large, result) = (ci(repo) for repo in libraries)
    assert json.loads(result.output)["summary"]["events"] == 1
    assert_a_handful(small, large, 15)
    assert (large["merge-base"], large["diff"]) == (1, 1), large


def test_publish(libraries: tuple[Path, Path], run: Run, tmp_path: Path) -> None:
    def publish(repo: Path) -> tuple[Counter[str], Result]:
        out = tmp_path / f"site-{repo.name}"
        return counted(run, repo, "publish", "--out", str(out), "--base-url", "https://health.example.org")

    (small, _), (large, _) = (publish(repo) for repo in libraries)
    pages = list((tmp_path / f"site-library-{LARGE}" / "articles").glob("*/index.html"))
    assert len(pages) == LARGE - 1
    # One cat-file more than before the links between pages: the front-matter facts of the
    # texts the build cache does not know yet (publish/neighbours.py), read once for them all.
    assert_a_handful(small, large, 13)
    assert (large["log"], large["diff-tree"]) == (1, 1), large


def test_commands_that_read_git_do_not_import_gitpython(libraries: tuple[Path, Path], tmp_path: Path) -> None:
    """Importing GitPython cost every command ~0.085 s of CPU and two `git version` processes of
    its own; reviewflow starts git itself. Run as a user runs it, in a process of its own."""
    repo = libraries[0]
    for args in (["status", "--format", "json"], ["publish", "--out", str(tmp_path / "site")]):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "reviewflow", *args],
            cwd=repo,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        imported = {line.rpartition("|")[2].strip() for line in done.stderr.splitlines() if "|" in line}
        assert "reviewflow.gitstore" in imported  # it read git
        assert not {name for name in imported if name == "git" or name.startswith("git.")}, args


# --- the counting itself ---------------------------------------------------------------------------


def test_each_process_is_counted_by_its_subcommand(tmp_path: Path) -> None:
    with gitprocess.count_git_processes() as outer:
        gitprocess.git_version()
        with gitprocess.count_git_processes() as inner:
            gitprocess.run(
                tmp_path, "-c", "core.quotePath=false", "rev-parse", "--is-inside-work-tree", check=False
            )
    gitprocess.git_version()
    assert (outer, inner) == (["version", "rev-parse"], ["rev-parse"])
    assert gitprocess._COUNTS == []


def test_a_git_process_started_elsewhere_fails_the_count(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="outside gitprocess.start"), git_processes():
        subprocess.run(["git", "version"], cwd=tmp_path, capture_output=True, check=True)
