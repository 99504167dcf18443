"""glibc's malloc told to give every big block back to the system as soon as it is freed.

glibc serves a block of 128 KB or more by a mapping of its own, unmapped when the block is
freed; but the first time it frees such a block it raises that threshold to the block's size (up
to 32 MB), so that from then on blocks up to that size come from the heap, where a freed one
stays part of the process as a hole that later blocks of other sizes rarely fill. A whole history
read grows and lets go of many such blocks (the item arrays of lists and the tables of dicts of
hundreds of thousands of entries, the log's text as it is read): in a cold `status` at 100,000
articles, 147 MB of the heap was free when the read ended and up to 173 MB during the save, all of
it counted in the process's memory. With the threshold fixed at 128 KB (which also stops glibc
moving it), that memory goes back as it is freed: the peak went from 989 to 797 MB. Objects of
up to 512 bytes come from Python's own allocator, which this does not touch.

Mapping every big block anew has a price, page faults: a cold `check` at 10,000 articles, which
reads no history, took ~0.5 s longer with the threshold fixed. So it is fixed by a whole history
read (review/history.py) and by the desk, not by every command; forked workers (workers.py) take
big blocks from their heap again.
"""

from __future__ import annotations

import ctypes
import sys

M_MMAP_THRESHOLD = -3  # mallopt's parameter for the threshold (glibc's malloc.h)
BIG_BLOCK = 128 * 1024  # glibc's own starting threshold, kept
# glibc's highest threshold on a 64-bit system (DEFAULT_MMAP_THRESHOLD_MAX), where its own
# moving threshold ends up in a process that frees many big blocks.
HEAP_BLOCK = 32 * 1024 * 1024


def give_back_big_blocks() -> bool:
    """Fix glibc's threshold for mapped blocks (see above); False where there is no glibc to
    tell (another C library or system: nothing changes)."""
    return _fix_threshold(BIG_BLOCK)


def keep_big_blocks_in_heap() -> bool:
    """For a forked worker (workers.py): blocks up to 32 MB from the heap again. A worker checks
    or renders one text after another, each making and freeing big blocks, and one mapped anew
    each time faults its pages in again; a worker forked after a whole read would otherwise
    inherit the fixed threshold. Measured in a full build at 10,000 articles with the threshold
    fixed in the main process: 163,000 page faults with the workers' fixed too, 150,000 with
    theirs set here (97,000 with none fixed). A worker's peak is far below the main process's."""
    return _fix_threshold(HEAP_BLOCK)


def _fix_threshold(size: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(M_MMAP_THRESHOLD, size))
