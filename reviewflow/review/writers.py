"""A whole save of the judged history written by a forked child while the command goes on, and
the wait for it before the command ends (snapshot.py saves; cli/app.py waits).

A cold `status` judges the whole history and then both saves it (~8 s at 100,000 articles) and
reports it (~2 s), one after the other on one core while the other idles. The save needs
nothing the report makes, and the report nothing the save writes: a child forked once the
history is judged writes the save from its own copy of it while the parent reports.

The sections of the save that a whole read gives before the replay (the commits' order, who
changed which file, the texts' authors, the dates, what each event's commit says) are written
earlier still, by a child forked once the history is read (`start_beside`), on the core the
replay leaves idle: the child that saves after the replay adds the rest and seals the file.

Only inside `saving_beside`, which the CLI holds around each command and which waits for the
children as it ends: a library call (the desk, a script, a test) returns with its save written,
as it always did, and leaves no process behind.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

# Children writing a save or its first sections (`write_beside`, `start_beside`), waited for by
# `wait_for_writers`.
_writers: list[int] = []
_beside = False  # inside `saving_beside`


@contextmanager
def saving_beside() -> Iterator[None]:
    """Within: a whole save may be written by a child (`write_beside`); at the end, every such
    child is waited for, so that the command ends once its state is kept."""
    global _beside
    _beside = True
    try:
        yield
    finally:
        _beside = False
        wait_for_writers()


def write_beside(save: Callable[[], None]) -> None:
    """Run SAVE (a whole save of the judged history) in a forked child while this process goes
    on (a cold `status` reports meanwhile, on the other core): `wait_for_writers` waits for it,
    and every command does before it ends. The child works on its own copy of the judged
    history, so nothing this process does next can change what is saved.

    Saved here instead outside `saving_beside`, and where a fork is unsafe or impossible: with
    other threads running (the child would have this thread alone, and a lock another one
    holds stays held in it), or where the system cannot fork. A save that fails only costs the
    next run time; the child says so on stderr when the failure is not the file's (a bug), as
    the command would."""
    if not _can_fork():
        save()
        return
    try:
        pid = os.fork()
    except OSError:
        save()
        return
    if pid != 0:
        _writers.append(pid)
        return
    _child(save, "the judged history was not kept")


class Beside:
    """A child started by `start_beside`, and the end of the pipe its answer comes through: read
    (`take`) by the process that goes on with its work, which may be another child."""

    def __init__(self, answer: int) -> None:
        self.answer = answer  # the pipe's end to read; -1 once closed

    def take(self) -> bytes:
        """What the child answered, once it has ended (b"" if it failed); the pipe closed."""
        chunks = []
        with contextlib.suppress(OSError):
            while chunk := os.read(self.answer, 1 << 16):
                chunks.append(chunk)
        self.close()
        return b"".join(chunks)

    def close(self) -> None:
        """This process's end of the pipe closed (another process takes the answer)."""
        if self.answer >= 0:
            os.close(self.answer)
            self.answer = -1


def start_beside(work: Callable[[], bytes]) -> Beside | None:
    """Run WORK (the first sections of a save) in a forked child while this process goes on
    (replays, on the other core); what WORK returns is the answer `Beside.take` reads. The
    child is waited for as `write_beside`'s are. None where `write_beside` would not fork:
    then nothing is begun, and the save is written whole."""
    if not _can_fork():
        return None
    answer, told = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(answer)
        os.close(told)
        return None
    if pid != 0:
        os.close(told)  # the answer ends (EOF) when the child's end closes
        _writers.append(pid)
        return Beside(answer)
    os.close(answer)
    _child(lambda: _tell(told, work()), "the first sections of the judged history were not written")


def _tell(told: int, answer: bytes) -> None:
    with open(told, "wb") as out:  # noqa: PTH123 - a pipe's end, not a path
        out.write(answer)


def _can_fork() -> bool:
    return _beside and hasattr(os, "fork") and threading.active_count() == 1


def _child(run: Callable[[], None], failed: str) -> NoReturn:
    """A forked child's whole life: RUN, then gone without going back into the caller's code,
    nor its exit handlers and buffers; a failure (a bug) said in one line on stderr."""
    code = 3
    try:
        run()
        code = 0
    except BaseException as exc:  # noqa: BLE001 - the child's one boundary
        with contextlib.suppress(BaseException):
            said = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc).strip() else ''}"
            os.write(2, f"reviewflow: {failed}: {said}\n".encode())
    finally:
        os._exit(code)


def wait_for_writers() -> None:
    """Wait until every save `write_beside` started is written (or has failed)."""
    while _writers:
        pid = _writers.pop()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
