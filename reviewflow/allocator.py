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
"""

from __future__ import annotations

import ctypes
import sys

M_MMAP_THRESHOLD = -3  # mallopt's parameter for the threshold (glibc's malloc.h)
BIG_BLOCK = 128 * 1024  # glibc's own starting threshold, kept


def give_back_big_blocks() -> bool:
    """Fix glibc's threshold for mapped blocks (see above); False where there is no glibc to
    tell (another C library or system: nothing changes)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(M_MMAP_THRESHOLD, BIG_BLOCK))
