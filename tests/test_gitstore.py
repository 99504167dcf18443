"""The git edge: environment errors become one clear line and exit 2, never a traceback."""

from __future__ import annotations

import fcntl
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from reviewflow import gitprocess
from reviewflow.cli.scaffold import init_repo
from reviewflow.configfile import load_config
from reviewflow.errors import EnvironmentProblem
from reviewflow.gitlog import LogEntry, parents_first
from reviewflow.gitprocess import git_version
from reviewflow.gitstore import GitStore
from reviewflow.review.history import first_parent_order
from reviewflow.review.queries import front_matter_authors, invalid_events
from tests.conftest import git
from tests.gitrepo import RITA, SLUG, act_as, ok

Run = Callable[..., Result]
COMMANDS = [["status"], ["history", SLUG], ["verify"], ["queue"], ["diff", SLUG], ["submit", SLUG]]


def environment_error(result: Result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output, result.output


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_not_a_git_repository(tmp_path: Path, run: Run, command: list[str]) -> None:
    repo = tmp_path / "lib"
    init_repo(repo)
    environment_error(run(repo, *command), "not in a git repository", "git init")


def test_no_commits_yet(tmp_path: Path, run: Run) -> None:
    repo = tmp_path / "lib"
    init_repo(repo)
    git(repo, "init", "-q")
    for command in COMMANDS:
        environment_error(run(repo, *command), "no commits yet")


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_shallow_clone_is_refused_rather_than_wrong(
    content_repo: Path, tmp_path: Path, run: Run, command: list[str]
) -> None:
    ok(run(content_repo, "submit", SLUG))
    git(content_repo, "commit", "-q", "--allow-empty", "-m", "later")
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{content_repo}", str(clone))
    environment_error(
        run(clone, *command), "shallow", "could be wrong", "git fetch --unshallow", "fetch-depth: 0"
    )


def test_git_missing(content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    environment_error(run(content_repo, "status"), "git cannot be run", "install git")


def test_git_is_never_run_in_another_directory(tmp_path: Path) -> None:
    """A repository directory git cannot run in is an error naming it: git run in this process's
    directory instead (as GitPython did) could read another repository."""
    gone = tmp_path / "gone"
    with pytest.raises(EnvironmentProblem, match=r"gone: git cannot be run in this directory"):
        gitprocess.start(gone, "rev-parse", "--git-dir")


def test_git_too_old(content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "git"
    fake.write_text("#!/bin/sh\necho 'git version 2.17.1'\n", encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}")
    with pytest.raises(EnvironmentProblem, match="2.17.1 is too old"):
        git_version()
    environment_error(run(content_repo, "verify"), "too old", "2.25")


def test_unknown_identity(content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)
    git(content_repo, "config", "user.useConfigOnly", "true")
    environment_error(
        run(content_repo, "submit", SLUG), "git does not know who you are", "git config user.email"
    )


def test_unknown_revision_range(content_repo: Path) -> None:
    with pytest.raises(EnvironmentProblem, match="unknown revision range"):
        invalid_events(content_repo, load_config(content_repo), "nope..HEAD")
    with pytest.raises(EnvironmentProblem, match="not a revision range"):
        invalid_events(content_repo, load_config(content_repo), "--all")


def test_a_hostile_commit_message_cannot_break_the_log(
    content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok(run(content_repo, "submit", SLUG))
    evil = "x\x1e\x1f\n\nnot a trailer\x1e\n\nReviewflow-Article: what-is-poems-syndrome\nReviewflow-Action: approve\n"
    git(content_repo, "commit", "-q", "--allow-empty", "-m", evil)
    act_as(monkeypatch, RITA)
    ok(run(content_repo, "review", SLUG))
    store = GitStore.open(content_repo)
    entries = store.log()
    assert [e.commit for e in entries][-1] == store.head
    assert len(entries) == int(git(content_repo, "rev-list", "--count", "HEAD"))


def test_front_matter_authors_only_parses_when_it_could_matter() -> None:
    text = b'---\ntitle: "T"\nauthors:\n  - name: "A"\n    email: "Ann@X.example"\n---\nBody\n'
    assert front_matter_authors(text, ["ann@x.example"]) == frozenset({"ann@x.example"})
    assert front_matter_authors(text, ["bob@x.example"]) == frozenset()
    escaped = b'---\nauthors:\n  - name: "B"\n    email: "bob\\x40x.example"\n---\n'
    assert front_matter_authors(escaped, ["bob@x.example"]) == frozenset({"bob@x.example"})
    quoted = b"---\nauthors:\n  - name: O\n    email: 'o''brien@x.example'\n---\n"
    assert front_matter_authors(quoted, ["o'brien@x.example"]) == frozenset({"o'brien@x.example"})
    assert front_matter_authors(b"\xff\xfe broken", ["a@b"]) == frozenset()


def test_the_json_writer_is_the_json_module_byte_for_byte() -> None:
    import json

    from reviewflow.cli.reporters import dump_json

    payloads = [
        [], {}, [{}], [[]], "s", 5, None, {"f": 1.5}, [(1, 2)], {1: "x"},
        {"a": [1, "\u00e9 \"quoted\"\n\t\u2028", None, True, False, {"b": [], "c": {"d": [0]}}]},
        [{"article": "x", "approved_by": [], "reviewers": ["a@b", "c@d"], "approvals": 0}],
    ]  # fmt: skip
    for payload in payloads:
        assert dump_json(payload) == json.dumps(payload, indent=2)


def test_a_batch_read_skips_what_is_not_a_blob_and_keeps_its_place(content_repo: Path) -> None:
    """A trailer can name any object id: a tree among the blobs read must not shift the answers
    after it (its bytes are read past, not taken for the next header)."""
    from reviewflow.gitstore import read_objects

    store = GitStore.open(content_repo)
    tree = git(content_repo, "rev-parse", "HEAD^{tree}").strip()
    blob = git(content_repo, "rev-parse", f"HEAD:articles/{SLUG}.md").strip()
    text = (content_repo / "articles" / f"{SLUG}.md").read_bytes()
    assert store.read_blobs([tree, blob, "f" * 40]) == {blob: text}
    objects = read_objects(store, [tree, "f" * 40, blob])
    assert objects["f" * 40] is None and objects[blob] == text and objects[tree]


def test_a_log_read_ahead_is_the_log_and_its_failure_reaches_whoever_asks(content_repo: Path) -> None:
    store = GitStore.open(content_repo)
    expected = GitStore.open(content_repo).log()
    store.read_log_ahead(store.head, bodies=True)
    assert store.log() == expected  # the same commits, taken from the read ahead
    store.read_log_ahead("no-such-branch", bodies=False)
    with pytest.raises(EnvironmentProblem, match="git log failed"):
        store.log("no-such-branch", bodies=False)


def test_a_started_log_is_the_log_and_its_failure_reaches_whoever_reads_it(
    content_repo: Path, run: Run
) -> None:
    ok(run(content_repo, "submit", SLUG))  # a commit with trailers and a body
    expected = GitStore.open(content_repo).log()
    told: list[tuple[str, str, str, str]] = []
    store = GitStore.open(content_repo)
    store.start_log()
    entries = store.log(told=lambda *said: told.append(said))
    assert entries == [e._replace(trailer_block="", body="") for e in expected]
    assert told == [
        (e.commit, e.trailer_block, e.body, e.date) for e in reversed(expected) if e.trailer_block
    ]
    store.start_log("no-such-branch")
    with pytest.raises(EnvironmentProblem, match="git log failed"):
        store.log("no-such-branch")


def test_a_started_command_no_one_reads_to_the_end_is_stopped(tmp_path: Path, content_repo: Path) -> None:
    from reviewflow.gitbatch import Started

    repo = tmp_path / "big"
    repo.mkdir()
    git(repo, "init", "-q")
    size = 3 * (1 << 20) + 5
    made = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"], cwd=repo, input=b"x" * size, capture_output=True, check=True
    )
    blob = made.stdout.decode().strip()
    whole = Started(repo, "cat-file", "blob", blob)
    assert "".join(whole.pieces()) == "x" * size and whole.process.returncode == 0
    partly = Started(repo, "cat-file", "blob", blob)
    pieces = partly.pieces()
    assert set(next(pieces)) == {"x"}
    pieces.close()  # the reader stops: git is stopped, and that is no failure to report
    assert partly.process.returncode is not None
    # A log started for a run that fails before reading it is stopped with the run.
    store = GitStore.open(content_repo)
    store.start_log()
    [(_, started)] = store._logs_started.values()
    store.forget_started_logs()
    assert started.process.returncode is not None and not store._logs_started


def commit_on(repo: Path, monkeypatch: pytest.MonkeyPatch, message: str, stamp: int, *parents: str) -> str:
    """A commit of HEAD's tree with PARENTS, dated STAMP (seconds), made by commit-tree."""
    tree = git(repo, "rev-parse", "HEAD^{tree}").strip()
    monkeypatch.setenv("GIT_COMMITTER_DATE", f"{stamp} +0000")
    monkeypatch.setenv("GIT_AUTHOR_DATE", f"{stamp} +0000")
    args = [arg for parent in parents for arg in ("-p", parent)]
    return git(repo, "commit-tree", tree, *args, "-m", message).strip()


def topo_order(repo: Path) -> list[str]:
    return git(repo, "log", "--topo-order", "--reverse", "--format=%H", "HEAD").split()


def test_the_log_read_as_git_walks_is_in_topological_order(
    content_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without `--topo-order --reverse` git writes the log newest first as it walks: reversed,
    a line of commits is what that option wrote, even with commit dates out of order; with
    merges and such dates, the commits are sorted parents first, which the first-parent order
    replay judges in makes the same as from git's order."""
    root = git(content_repo, "rev-parse", "HEAD").strip()
    line = [root]
    for n, stamp in enumerate([2_000_000_000, 1_000_000_000, 1_500_000_000, 900_000_000]):
        line.append(commit_on(content_repo, monkeypatch, f"line {n}", stamp, line[-1]))
    git(content_repo, "reset", "-q", "--hard", line[-1])
    entries = GitStore.open(content_repo).log()
    assert [e.commit for e in entries] == topo_order(content_repo)

    # A branch whose commit is dated before its parent, merged: git's walk writes the branch's
    # first commit after the commit they share, so reversed, a parent would follow its child.
    branch_first = commit_on(content_repo, monkeypatch, "branch 1", 2_100_000_000, root)
    branch_second = commit_on(content_repo, monkeypatch, "branch 2", 800_000_000, branch_first)
    merge = commit_on(content_repo, monkeypatch, "merge", 2_200_000_000, line[-1], branch_second)
    git(content_repo, "reset", "-q", "--hard", merge)
    walked = git(content_repo, "log", "--format=%H", "HEAD").split()
    assert walked.index(branch_first) > walked.index(root)  # the case this test is about
    entries = GitStore.open(content_repo).log()
    order = [e.commit for e in entries]
    assert sorted(order) == sorted(topo_order(content_repo)) and order[-1] == merge
    for place, entry in enumerate(entries):
        assert all(order.index(parent) < place for parent in entry.parents)
    by_commit = {e.commit: e for e in entries}
    as_git_wrote = [by_commit[c] for c in topo_order(content_repo)]
    assert first_parent_order(entries) == first_parent_order(as_git_wrote)


def test_a_log_missing_a_parent_is_refused() -> None:
    def entry(commit: str, *parents: str) -> LogEntry:
        return LogEntry(commit, parents, "t" * 40, "A", "a@x.example", "2026-01-01T00:00:00+00:00", "", "")

    newest_first = [entry("c" * 40, "b" * 40), entry("b" * 40, "a" * 40), entry("a" * 40)]
    assert [e.commit for e in parents_first(list(newest_first))] == ["a" * 40, "b" * 40, "c" * 40]
    with pytest.raises(EnvironmentProblem, match="not whole"):
        parents_first(newest_first[:2])  # b's parent was never shown


def test_each_commit_id_in_the_log_is_one_string(content_repo: Path, run: Run) -> None:
    """A parent named by its child before git writes the parent's own record is the same
    string as that record's id (one string per commit, whichever git wrote first)."""
    ok(run(content_repo, "submit", SLUG))
    git(content_repo, "commit", "-q", "--allow-empty", "-m", "later")
    entries = GitStore.open(content_repo).log()
    by_commit = {e.commit: e for e in entries}
    parents = [parent for e in entries for parent in e.parents]
    assert len(parents) == len(entries) - 1
    assert all(by_commit[parent].commit is parent for parent in parents)


@pytest.mark.skipif(not hasattr(fcntl, "F_GETPIPE_SZ"), reason="pipe sizes are Linux's")
def test_git_output_waits_in_a_wide_pipe_and_is_read_in_big_blocks(tmp_path: Path) -> None:
    """git writes 600 KB into the pipe and exits before anything is read (a 64 KB pipe would
    hold it back), and one read of the pipe takes a whole buffer of it."""
    repo = tmp_path / "big"
    repo.mkdir()
    git(repo, "init", "-q")
    blob = (
        subprocess.run(
            ["git", "hash-object", "-w", "--stdin"],
            cwd=repo,
            input=b"x" * 600_000,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    process = gitprocess.start(repo, "cat-file", "blob", blob)
    assert process.stdout is not None and process.stdin is not None
    process.stdin.close()
    assert fcntl.fcntl(process.stdout.fileno(), fcntl.F_GETPIPE_SZ) >= gitprocess.PIPE_BYTES
    assert process.wait(timeout=30) == 0
    assert len(process.stdout.peek()) == gitprocess.READ_BYTES
    assert len(process.stdout.read()) == 600_000
    process.stdout.close()


def test_a_whole_read_hands_each_commits_trailers_and_body_over_and_keeps_neither(
    content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`log(told=...)` gives each commit with a trailer block to TOLD (its id, block, body and
    committer date, as the plain log has them) and the entries without the block and body;
    merges keep their parents."""
    ok(run(content_repo, "submit", SLUG))
    git(content_repo, "commit", "-q", "--allow-empty", "-m", "no trailers", "-m", "a body")
    head = git(content_repo, "rev-parse", "HEAD").strip()
    side = commit_on(content_repo, monkeypatch, "side", 2_000_000_000, head)
    merge = commit_on(content_repo, monkeypatch, "merge", 2_000_000_100, head, side)
    git(content_repo, "reset", "-q", "--hard", merge)
    plain = GitStore.open(content_repo).log()
    assert [len(e.parents) for e in plain].count(2) == 1
    with_texts = {e.commit: (e.trailer_block, e.body, e.date) for e in plain if e.trailer_block}
    assert len(with_texts) == 1 and all(e.body == "" for e in plain if not e.trailer_block)
    told: dict[str, tuple[str, str, str]] = {}
    for ahead in (False, True):
        store = GitStore.open(content_repo)
        if ahead:
            store.read_log_ahead()
        told.clear()
        entries = store.log(
            told=lambda commit, block, body, date: told.setdefault(commit, (block, body, date))
        )
        assert told == with_texts
        assert entries == [e._replace(trailer_block="", body="") for e in plain]
