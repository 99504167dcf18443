"""A whole save written by two processes: the sections a read gives by a child forked once the
history is read, the replay's by the child forked after it, under one seal (review/snapshot.py,
writers.start_beside, snapshot_file.begin)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reviewflow.gitstore import GitStore
from reviewflow.review import snapshot, snapshot_file
from reviewflow.review.snapshot_file import kept_file
from tests.conftest import article_text, git, write
from tests.test_history import approved, kept, whole  # noqa: F401 - the fixture

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this system")

# A cold judging inside `saving_beside` in a process of its own (the test process may run other
# threads, with which nothing is forked): which process wrote the first sections and which the
# rest, and what was left in .git/reviewflow.
_JUDGE = """
import json, os, sys
from pathlib import Path
from reviewflow.gitstore import GitStore
from reviewflow.review import snapshot, snapshot_file, workflow
from reviewflow.review.board import committed_config
from reviewflow.review.writers import saving_beside
mode, repo, note = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
begin, write = snapshot_file.begin, snapshot_file.write
def noted(what, call):
    def wrapped(*args, **kwargs):
        with note.open("a") as out:
            out.write(f"{what} {os.getpid()}\\n")
        if what == "begin" and mode == "first-fails":
            raise RuntimeError("no room\\nsecond line")
        return call(*args, **kwargs)
    return wrapped
snapshot_file.begin, snapshot_file.write = noted("begin", begin), noted("write", write)
if mode == "replay-fails":
    def fails(self):
        raise RuntimeError("the replay broke")
    workflow.Replay.run = fails
store = GitStore.open(repo)
with saving_beside():
    try:
        snapshot.judged_history(store, committed_config(store))
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
print(os.getpid(), flush=True)
"""


def judged_in(mode: str, repo: Path, tmp_path: Path) -> tuple[dict[str, int], str, list[str]]:
    """Which process (by its pid, the caller's 0) began and wrote the save; stderr; the files
    left in .git/reviewflow."""
    note = tmp_path / f"{mode}.note"
    run = subprocess.run(
        [sys.executable, "-c", _JUDGE, mode, str(repo), str(note)], capture_output=True, text=True, check=True
    )
    caller = int(run.stdout)
    lines = note.read_text().split() if note.exists() else []
    who = {what: int(pid) for what, pid in zip(lines[::2], lines[1::2], strict=True)}
    who = {what: 0 if pid == caller else pid for what, pid in who.items()}
    left = sorted(path.name for path in (repo / ".git" / "reviewflow").glob("replay-*"))
    return who, run.stderr, left


def test_the_read_and_the_replay_are_saved_by_two_children_under_one_seal(
    approved: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    who, stderr, left = judged_in("plain", approved, tmp_path)
    assert stderr == ""
    assert who["begin"] not in (0, who["write"]) and who["write"] != 0
    file = kept_file(GitStore.open(approved))
    assert file is not None and left == [file.path.name]  # no half-written file beside it
    opened = snapshot_file.open_file(file)
    assert opened is not None
    names = [name for name, _, _ in opened.named]
    assert names.index("tracks") > names.index("appeared")  # the replay's after the read's
    assert kept(approved) == whole(approved, use_cache=False)  # believed, and what git says
    # and resumed after one more commit, its new layers added to the file of two processes
    write(approved / "articles" / "another.md", article_text(title="Another"))
    git(approved, "add", "-A")
    git(approved, "commit", "-qm", "another article")
    assert kept(approved) == whole(approved, use_cache=False)
    assert snapshot_file.open_file(file) is not None


def test_a_first_child_that_fails_leaves_the_whole_save_to_the_second(
    approved: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    who, stderr, left = judged_in("first-fails", approved, tmp_path)
    said = "reviewflow: the first sections of the judged history were not written: RuntimeError: no room\n"
    assert stderr == said
    assert who["begin"] not in (0, who["write"]) and who["write"] != 0
    file = kept_file(GitStore.open(approved))
    assert file is not None and left == [file.path.name]
    assert kept(approved) == whole(approved, use_cache=False)


def test_a_replay_that_fails_leaves_no_file_behind(approved: Path, tmp_path: Path) -> None:  # noqa: F811
    who, stderr, left = judged_in("replay-fails", approved, tmp_path)
    assert stderr == "the replay broke\n"
    assert who["begin"] != 0 and "write" not in who
    assert left == []


def test_a_layer_that_is_not_the_one_the_sealed_index_names_is_not_believed(
    approved: Path,  # noqa: F811
) -> None:
    assert kept(approved) == whole(approved, use_cache=False)
    store = GitStore.open(approved)
    file = kept_file(store)
    assert file is not None
    data = file.path.read_bytes()
    opened = snapshot_file.open_file(file)
    assert opened is not None and snapshot._load(store, file) is not None
    stamp_end = data.index(b"\n") + 1
    at = stamp_end + sum(
        size for name, size, _ in opened.named[: [n for n, _, _ in opened.named].index("heads")]
    )
    # the heads' layer swapped for another well-formed one: its length kept, its digest not
    heads = opened.named[[n for n, _, _ in opened.named].index("heads")][1]
    other = bytes(data[at : at + heads]).replace(b"a", b"b", 1)
    assert other != data[at : at + heads]
    file.path.write_bytes(data[:at] + other + data[at + heads :])
    assert snapshot_file.open_file(file) is None
    # and the index altered (a digest in it), without the key to seal it again
    index_at = len(data) - int(data[:stamp_end].rsplit(b" ", 1)[1])
    digest_at = data.index(opened.named[0][2], index_at)
    file.path.write_bytes(data[:digest_at] + bytes([data[digest_at] ^ 1]) + data[digest_at + 1 :])
    assert snapshot_file.open_file(file) is None
    file.path.write_bytes(data)
    assert snapshot_file.open_file(file) is not None
