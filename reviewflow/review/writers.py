"""A whole save of the judged history written by a forked child while the command goes on, and
the wait for it before the command ends (snapshot.py saves; cli/app.py waits).

A cold `status` judges the whole history and then both saves it (~8 s at 100,000 articles) and
reports it (~2 s), one after the other on one core while the other idles. The save needs
nothing the report makes, and the report nothing the save writes: a child forked once the
history is judged writes the save from its own copy of it while the parent reports.

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

# Children writing a whole save (`write_beside`), waited for by `wait_for_writers`.
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
    if not _beside or not hasattr(os, "fork") or threading.active_count() > 1:
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
    code = 3
    try:  # the child: never back into the caller's code, nor its exit handlers and buffers
        save()
        code = 0
    except BaseException as exc:  # noqa: BLE001 - the child's one boundary
        with contextlib.suppress(BaseException):
            said = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc).strip() else ''}"
            os.write(2, f"reviewflow: the judged history was not kept: {said}\n".encode())
    finally:
        os._exit(code)


def wait_for_writers() -> None:
    """Wait until every save `write_beside` started is written (or has failed)."""
    while _writers:
        pid = _writers.pop()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
