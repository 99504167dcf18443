"""Worker processes that never outlive the process that started them.

A pool's worker whose parent is killed (SIGKILL, the OOM killer) would otherwise wait forever
on a queue its siblings keep open, holding memory and, for publish, a half-built site.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time


def end_with(parent: int) -> None:
    """Make this worker end when PARENT (the build) ends, however it ends, SIGKILL included.

    Left alone, a worker of a killed build would wait forever on a queue that its siblings
    keep open. On Linux the kernel kills it (PR_SET_PDEATHSIG; the signal comes when the
    *thread* that forked the worker ends, and a fork pool's workers are forked by the thread
    that first submits to it, which waits for the pool to shut down). Elsewhere a thread in
    the worker watches for it being handed to another parent.
    """
    if _kill_me_with_parent():
        if os.getppid() != parent:  # it died before the request was made
            os._exit(1)
        return
    threading.Thread(target=_watch_parent, args=(parent,), name="reviewflow-parent", daemon=True).start()


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _kill_me_with_parent() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return False
    return bool(prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.25)
    os._exit(1)
