"""A whole save written by a forked child beside the report (review/writers.py), and a command
that ends without freeing what it built (cli/app.leave)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reviewflow.gitstore import GitStore
from reviewflow.review.board import committed_config
from reviewflow.review.snapshot import judged_history
from reviewflow.review.snapshot_file import kept_file
from reviewflow.review.writers import saving_beside
from tests.test_history import approved  # noqa: F401 - the fixture

forks = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this system")


# Saves through write_beside in a process of its own (the test process may run other threads,
# with which the save is written in the process itself): says which process wrote each.
_SAVES = """
import os, sys, threading
from pathlib import Path
from reviewflow.review.writers import saving_beside, write_beside
note = Path(sys.argv[2])
if sys.argv[1] == "thread":
    stop = threading.Event()
    threading.Thread(target=stop.wait).start()
def save():
    if sys.argv[1] == "broken":
        raise RuntimeError("no room\\nsecond line")
    note.write_text(str(os.getpid()))
if sys.argv[1] == "library":  # outside a command: written before the call returns
    write_beside(save)
else:
    with saving_beside():
        write_beside(save)
print(os.getpid(), note.read_text() if note.exists() else "", flush=True)
if sys.argv[1] == "thread":
    stop.set()
"""


def saves(mode: str, tmp_path: Path) -> tuple[bool, str]:
    """Whether the save was written by another process than the caller's, and its stderr."""
    run = subprocess.run(
        [sys.executable, "-c", _SAVES, mode, str(tmp_path / "pid")],
        capture_output=True,
        text=True,
        check=True,
    )
    caller, _, writer = run.stdout.strip().partition(" ")
    return writer != caller, run.stderr


@forks
def test_a_save_is_written_by_another_process_and_waited_for(tmp_path: Path) -> None:
    assert saves("plain", tmp_path) == (True, "")


def test_outside_a_command_the_save_is_written_before_the_call_returns(tmp_path: Path) -> None:
    # A library call (the desk, a script) leaves no child behind: none would wait for it.
    assert saves("library", tmp_path) == (False, "")


def test_with_another_thread_running_the_save_is_written_here(tmp_path: Path) -> None:
    # A forked child would hold only this thread, and any lock the other one held, forever.
    assert saves("thread", tmp_path) == (False, "")


@forks
def test_a_failed_save_is_said_by_the_child_and_leaves_the_caller_alone(tmp_path: Path) -> None:
    said = "reviewflow: the judged history was not kept: RuntimeError: no room\n"
    assert saves("broken", tmp_path) == (True, said)


@forks
def test_a_cold_read_is_kept_by_the_time_the_next_one_looks(approved: Path) -> None:  # noqa: F811
    store = GitStore.open(approved)
    config = committed_config(store)
    file = kept_file(store)
    assert file is not None and not file.path.exists()
    with saving_beside():
        first = judged_history(store, config)
        # The child writes it while this process goes on; the next judging waits for it, and
        # resumes from it (a resumed Replay starts from the kept tracks).
        second = judged_history(store, config)
        assert file.path.exists()
    assert second.outcome.statuses.keys() == first.outcome.statuses.keys()
    assert [e.commit for e in second.replay.history.events] == [e.commit for e in first.replay.history.events]


_LEAVE = """
import atexit, sys, threading, time
from pathlib import Path
from reviewflow.cli.app import leave
mode, out = sys.argv[1], Path(sys.argv[2])
if mode == "thread":  # a thread the interpreter would wait for: its own exit, after it
    threading.Thread(target=lambda: (time.sleep(0.3), out.write_text("thread done"))).start()
else:
    atexit.register(lambda: print("exit handler ran"))
print("the report", end=" ")
leave(3)
"""


def test_leaving_flushes_the_output_and_runs_the_exit_handlers(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-c", _LEAVE, "plain", str(tmp_path / "x")], capture_output=True, text=True
    )
    assert (run.returncode, run.stdout) == (3, "the report exit handler ran\n")


def test_leaving_waits_for_a_thread_the_interpreter_would_wait_for(tmp_path: Path) -> None:
    out = tmp_path / "thread"
    run = subprocess.run([sys.executable, "-c", _LEAVE, "thread", str(out)], capture_output=True, text=True)
    assert (run.returncode, run.stdout, out.read_text()) == (3, "the report ", "thread done")


def test_a_command_run_as_a_program_ends_with_its_whole_output_and_its_code(
    approved: Path,  # noqa: F811
) -> None:
    command = [sys.executable, "-m", "reviewflow", "status", "--format", "json"]
    run = subprocess.run(command, cwd=approved, capture_output=True, text=True)
    assert run.returncode == 0 and [a["state"] for a in json.loads(run.stdout)] == ["approved"]
    file = kept_file(GitStore.open(approved))
    assert file is not None and file.path.exists()  # its child's save was waited for
    failed = subprocess.run([*command[:3], "-C", "/", "status"], capture_output=True, text=True)
    assert failed.returncode == 2 and failed.stderr.startswith("reviewflow: ")
