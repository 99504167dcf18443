"""Python's cycle collector paused while a whole review history is read and judged, and
through a build (publish/build.py), whose pages' facts and records live as long.

A whole read makes millions of small objects that live to the end of the run (log entries,
events, changes, tracks) and almost no garbage cycles: 789 objects were left for the collector
at the end of a cold `status` at 10,000 articles run with it off throughout. It still walks each
new object when it is young and again in the middle generation: 2.7 s of the CPU of a cold
`status` at 100,000 articles, and more per object than at 10,000 (a young collection took 17 ms
there against 2.6 ms: its objects point all over a heap ten times the size). Paused, and what was
made meanwhile moved out of its reach when it resumes (`gc.freeze`: the next young collection
would otherwise walk all of it), none of them is walked; the few cycles made meanwhile are freed
when the process ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collection_paused() -> Iterator[None]:
    """No cycle collection in the block; the objects alive at its end are never collected for
    cycles (their reference counts still free them)."""
    if not gc.isenabled():  # paused already (a pause within a pause), or by the caller
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def keep_out_of_reach() -> None:
    """Collect the cycles there are now, then put every object still alive out of the cycle
    collector's reach (`gc.freeze`): for a long-running process (the desk) right after it made
    what it keeps between requests. A full collection walks every object it may reach, and
    touches each object they point to: a desk at 100,000 articles keeps ~300,000 of them (every
    article's status, for the board and the lists beside the queue), scattered over a heap a
    whole history read had grown, and a full collection during a queue page took ~0.3 s there,
    more than the page itself. Frozen, they are still freed by their reference counts."""
    gc.collect()
    gc.freeze()
