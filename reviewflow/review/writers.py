"""A whole save of the judged history written by a forked child while the command goes on, and
the wait for it before the command ends (snapshot.py saves; cli/app.py waits).

A cold `status` judges the whole history and then both saves it (~8 s at 100,000 articles) and
reports it (~2 s), one after the other on one core while the other idles. The save needs
nothing the report makes, and the report nothing the save writes: a child forked once the
history is judged writes the save from its own copy of it while the parent reports.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable

# Children writing a whole save (`write_beside`), waited for by `wait_for_writers`.
_writers: list[int] = []


def write_beside(save: Callable[[], None]) -> None:
    """Run SAVE (a whole save of the judged history) in a forked child while this process goes
    on (a cold `status` reports meanwhile, on the other core): `wait_for_writers` waits for it,
    and every command does before it ends. The child works on its own copy of the judged
    history, so nothing this process does next can change what is saved.

    Saved here instead where a fork is unsafe or impossible: with other threads running (the
    child would have this thread alone, and a lock another one holds stays held in it), or
    where the system cannot fork. A save that fails only costs the next run time; the child
    says so on stderr when the failure is not the file's (a bug), as the command would."""
    if not hasattr(os, "fork") or threading.active_count() > 1:
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
