"""Worker processes that end with the command that started them, however it ends.

`check` and `publish` share their work with a pool of forked workers. Left alone, a worker of a
command killed with SIGKILL waits forever on a queue its siblings keep open, holding memory and
(for publish) an output directory. Each worker here asks the kernel to kill it when its parent
goes (Linux: PR_SET_PDEATHSIG), or, elsewhere, watches for being handed to another parent.
"""

from __future__ import annotations

import ctypes
import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from reviewflow.allocator import keep_big_blocks_in_heap

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

# multiprocessing and concurrent.futures.process are imported by the first pool made or weighed
# (~45 M instructions, ~10 ms): a build after one change renders a page or two and makes none.

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def worker_pool(
    count: int, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = ()
) -> ProcessPoolExecutor:
    """A pool of COUNT workers, forked where the platform can (they start with everything
    imported), each of which ends when this process does; INITIALIZER(*INITARGS) runs in each."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    return ProcessPoolExecutor(
        count, mp_context=context, initializer=_start, initargs=(os.getpid(), initializer, initargs)
    )


def usable_cores() -> int:
    """The cores this process may run on (a container or `taskset` can allow fewer than the
    machine has), at least one."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def tapering_chunks(items: Sequence[T], jobs: int, smallest: int, largest: int) -> list[list[T]]:
    """ITEMS in chunks for JOBS workers, each a share of what is left: large while much is
    left (few tasks to send and collect), small towards the end, so that the workers finish
    together rather than one waiting for another's last large chunk. Sizes stay within
    SMALLEST..LARGEST."""
    chunks: list[list[T]] = []
    start = 0
    while start < len(items):
        size = max(smallest, min(largest, -(-(len(items) - start) // (jobs * 3))))
        chunks.append(list(items[start : start + size]))
        start += size
    return chunks


def can_fork(jobs: int, items: int, threshold: int) -> bool:
    """Whether ITEMS of work are worth a pool of JOBS forked workers (THRESHOLD: below it a
    pool costs more to start than it saves), and the platform can fork."""
    if jobs <= 1 or items < threshold:
        return False
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


# What the workers of fork_map inherit: set in the parent just before they fork.
_shared: Any = None


def fork_map(work: Callable[[S, list[T]], R], shared: S, chunks: Sequence[list[T]], jobs: int) -> Iterator[R]:
    """WORK(SHARED, chunk) for each of CHUNKS, in order, in JOBS forked workers. The workers
    inherit SHARED from this process's memory (texts, configurations, rules) rather than
    receiving it pickled with every chunk; WORK is a module-level function."""
    global _shared
    _shared = shared
    try:
        with worker_pool(jobs) as pool:
            yield from pool.map(_call, [(work, chunk) for chunk in chunks])
    finally:
        _shared = None


def _call(task: tuple[Callable[[Any, list[Any]], Any], list[Any]]) -> Any:
    work, chunk = task
    return work(_shared, chunk)


def _start(parent: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    end_with(parent)
    # A worker collects its own cycles, whatever the command had paused when it forked (a build
    # pauses the collector throughout: collector.py). What it inherited is put out of reach
    # first: a collection would walk it, writing to (and so copying) the parent's pages.
    gc.freeze()
    gc.enable()
    keep_big_blocks_in_heap()  # the command gives big blocks back; its workers reuse them (allocator.py)
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
