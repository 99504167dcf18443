"""Worker processes that end with the command that started them, however it ends.

`check` and `publish` share their work with a pool of forked workers. Left alone, a worker of a
command killed with SIGKILL waits forever on a queue its siblings keep open, holding memory and
(for publish) an output directory. Each worker here asks the kernel to kill it when its parent
goes (Linux: PR_SET_PDEATHSIG), or, elsewhere, watches for being handed to another parent.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def worker_pool(
    count: int, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = ()
) -> ProcessPoolExecutor:
    """A pool of COUNT workers, forked where the platform can (they start with everything
    imported), each of which ends when this process does; INITIALIZER(*INITARGS) runs in each."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    return ProcessPoolExecutor(
        count, mp_context=context, initializer=_start, initargs=(os.getpid(), initializer, initargs)
    )


def _start(parent: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    end_with(parent)
    if initializer is not None:
        initializer(*initargs)


def end_with(parent: int) -> None:
    """Make this worker end when PARENT ends, SIGKILL included.

    On Linux the kernel kills it (the signal comes when the *thread* that forked the worker
    ends, and a pool's workers are forked by the thread that first submits to it, which waits
    for the pool to shut down). Elsewhere a thread watches for the worker being handed to
    another parent.
    """
    if _kill_me_with_parent():
        if os.getppid() != parent:  # it died before the request was made
            os._exit(1)
        return
    threading.Thread(target=_watch_parent, args=(parent,), name="reviewflow-parent", daemon=True).start()


def _kill_me_with_parent() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return False
    return bool(prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.25)
    os._exit(1)
