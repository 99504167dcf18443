"""A built site's files as a build reads them: regular files only, and provably the bytes a
record describes before they are reused.

A site is served, so anyone with write access to it can plant something there: a file is
opened without following a symbolic link and without waiting on a FIFO (O_NOFOLLOW,
O_NONBLOCK), and anything that turns out not to be a regular file is not read at all: its page
is rendered anew. A copy from the live site into the spare is made by the kernel
(`os.copy_file_range`) where the file system allows it, without the bytes passing through
this process.
"""

from __future__ import annotations

import errno
import os

from reviewflow.files import open_own, read_own
from reviewflow.publish.records import FileState, PageRecord, content_digest, file_state

# What copy_file_range answers where the kernel or the file system will not copy between these
# two files (another file system on an older kernel, a file system without support): the bytes
# are then read and written by this process.
_NO_KERNEL_COPY = {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EPERM, errno.EBADF}


def open_regular(path: str) -> int | None:
    """A descriptor of the regular file at PATH (never a link's target, a FIFO or a device), or None."""
    try:
        return open_own(path)
    except OSError:
        return None


def read_regular(path: str) -> bytes | None:
    """The bytes of the regular file at PATH, or None (not one, or unreadable)."""
    try:
        return read_own(path)
    except OSError:
        return None


def read_all(descriptor: int) -> bytes:
    """Every byte of an open regular file, from its start."""
    size = os.fstat(descriptor).st_size
    parts: list[bytes] = []
    offset = 0
    while True:
        part = os.pread(descriptor, max(size - offset, 65536), offset)
        if not part:
            return b"".join(parts)
        parts.append(part)
        offset += len(part)


def verified_state(path: str, record: PageRecord) -> FileState | None:
    """The state of the file at PATH if it holds exactly the bytes RECORD describes: its settled
    state as recorded (see records.settled), or else the same hash; None otherwise."""
    state = file_state(path)
    if state is None or (record.state is not None and state == record.state):
        return state
    data = read_regular(path)
    return state if data is not None and content_digest(data) == record.digest else None


# How much of a file `holds_bytes` reads at a time: a site-wide file is tens of MB at 100,000
# pages (index.html: 35 MB), and read whole it sat beside its new bytes at the top of a build.
COMPARED = 2**20


def holds_bytes(path: str, data: bytes) -> bool:
    """Whether PATH is a regular file of exactly DATA (read a part at a time, never whole)."""
    state = file_state(path)
    if state is None or state[1] != len(data):
        return False
    descriptor = open_regular(path)
    if descriptor is None:
        return False
    expected = memoryview(data)
    try:
        offset = 0
        while offset < len(data):
            part = os.pread(descriptor, COMPARED, offset)
            if not part or part != expected[offset : offset + len(part)]:
                return False
            offset += len(part)
        return os.pread(descriptor, 1, offset) == b""  # and no longer than DATA
    except OSError:
        return False
    finally:
        os.close(descriptor)


def copy_bytes(source: int, target: int, size: int) -> None:
    """The SIZE bytes of the open regular file SOURCE, from its start, into TARGET (a new file):
    by the kernel where it can, else read and written here."""
    offset = 0
    if hasattr(os, "copy_file_range"):
        try:
            while offset < size:
                copied = os.copy_file_range(source, target, size - offset, offset_src=offset)
                if copied == 0:  # the file is shorter than it was: its state tells the caller
                    return
                offset += copied
            return
        except OSError as exc:
            if offset or exc.errno not in _NO_KERNEL_COPY:
                raise
    write_all(target, read_all(source))


def write_all(descriptor: int, data: bytes) -> None:
    """Write every byte of DATA (os.write may write fewer than it is given)."""
    view = memoryview(data)
    while view:
        # Not `view[os.write(...) :]`: compiled by mypyc, a call in a slice's bound runs twice.
        written = os.write(descriptor, view)
        view = view[written:]
