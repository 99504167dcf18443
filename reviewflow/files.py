"""Files the repository brings are data, never paths to follow (DESIGN, Principle 4).

A commit can plant anything git stores: a symbolic link to any path, and, in a directory
reviewflow writes to, a link where reviewflow expects its own file or directory. And anything
else can sit in a work tree: a FIFO, which blocks whoever opens it, or a device. So every file
reviewflow reads from a content repository goes through `read_regular` (a regular file inside
the repository, reached through real directories only), and every directory of its own that it
writes into or deletes from goes through `own_directory` (a real directory of this user's).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Callable, Iterable
from pathlib import Path

# Never follow a link in the last component, never wait on a FIFO, never take a terminal.
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class NotRegularFile(OSError):
    """A path that is not a regular file inside the repository (its `strerror` says what it is)."""

    def __str__(self) -> str:
        return str(self.strerror)


def kind(mode: int) -> str:
    """What a file of MODE is, for a message."""
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _refuse(path: str, what: str) -> NotRegularFile:
    return NotRegularFile(
        0, f"{what}: reviewflow opens only regular files inside the repository, through no link", path
    )


def checked_path(root: Path | str, path: Path | str) -> str:
    """PATH (relative to the working directory, or absolute) as a path under ROOT reached through
    real directories only; NotRegularFile when it lies outside ROOT or a directory on the way is
    a symbolic link (or not a directory). Nothing is resolved: the path is checked as written."""
    top, full = os.fspath(root), os.fspath(path)
    parts = _parts_under(top, full)
    if parts is None:  # relative, or not in normal form: the general (and slower) way
        top, full = os.path.abspath(top), os.path.abspath(full)
        parts = _parts_under(top, full)
    if parts is None:
        raise _refuse(str(path), "outside the content repository")
    current = top
    for part in parts[:-1]:
        current = os.path.join(current, part)
        mode = os.lstat(current).st_mode
        if not stat.S_ISDIR(mode):
            raise _refuse(str(path), f"{os.path.relpath(current, top)} is {kind(mode)}")
    return full


def _parts_under(top: str, full: str) -> list[str] | None:
    """The names that lead from TOP to FULL, both absolute and normal; None otherwise."""
    prefix = top if top.endswith(os.sep) else top + os.sep
    if not os.path.isabs(top) or not full.startswith(prefix):
        return None
    parts = full[len(prefix) :].split(os.sep)
    return None if any(part in ("", os.curdir, os.pardir) for part in parts) else parts


def open_regular(root: Path | str, path: Path | str) -> int:
    """A descriptor open for reading PATH, a regular file inside ROOT (see `checked_path`),
    never following a symbolic link and never blocking on a FIFO; NotRegularFile for anything
    else. The caller closes it (or hands it to `open`)."""
    return _open_checked(checked_path(root, path), str(path), None)[0]


def open_regular_at(directory: int, name: str) -> tuple[int, os.stat_result]:
    """A descriptor open for reading NAME, a regular file in the directory open as DIRECTORY (a
    real directory, opened by the caller), refused as `open_regular` refuses anything else; and
    what `fstat` says of the file opened."""
    return _open_checked(name, name, directory)


def _open_checked(path: str, shown: str, directory: int | None) -> tuple[int, os.stat_result]:
    # Refused before it is opened (opening a device can do things), and again once opened.
    mode = os.stat(path, dir_fd=directory, follow_symlinks=False).st_mode
    if not stat.S_ISREG(mode):
        raise _refuse(shown, f"is {kind(mode)}")
    descriptor = os.open(path, _READ_FLAGS, dir_fd=directory)
    found = os.fstat(descriptor)  # what was opened, if it changed since
    if not stat.S_ISREG(found.st_mode):
        os.close(descriptor)
        raise _refuse(shown, f"is {kind(found.st_mode)}")
    return descriptor, found


def read_regular(root: Path | str, path: Path | str, max_bytes: int | None = None) -> bytes:
    """The bytes of PATH, a regular file inside ROOT (see `open_regular`).

    With MAX_BYTES, at most one byte past it is read, so a huge file is rejected without
    loading it. With os.read: a buffered file object costs more than reading a 5 KB article."""
    descriptor = open_regular(root, path)
    try:
        return _read_all(descriptor, max_bytes)
    finally:
        os.close(descriptor)


def read_limited(root: Path | str, path: Path | str, max_bytes: int) -> tuple[bytes, int]:
    """At most one byte past MAX_BYTES of PATH, a regular file inside ROOT, and the file's size
    (its real size when it is over the limit, for the finding that names it)."""
    descriptor = open_regular(root, path)
    try:
        data = _read_all(descriptor, max_bytes)
        if len(data) > max_bytes:
            return data, max(os.fstat(descriptor).st_size, len(data))
        return data, len(data)
    finally:
        os.close(descriptor)


def open_own(path: Path | str) -> int:
    """A descriptor open for reading PATH, a regular file in a directory of reviewflow's own (a
    cache, a site it built): no link followed, no FIFO waited on. OSError for anything else."""
    descriptor = os.open(path, _READ_FLAGS)
    try:
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISREG(mode):
            return descriptor
    except OSError:
        os.close(descriptor)
        raise
    os.close(descriptor)
    raise _refuse(str(path), f"is {kind(mode)}")


def read_own(path: Path | str) -> bytes:
    """The bytes of PATH, a regular file in a directory of reviewflow's own (see `open_own`)."""
    descriptor = open_own(path)
    try:
        return _read_all(descriptor, None)
    finally:
        os.close(descriptor)


# The first read asks for this much: an article fits. os.read allocates what it is asked for
# before it reads, so asking for the whole limit (1 MB) cost ~25 µs of CPU a file (a cold
# `check` reads every article).
FIRST_READ = 1 << 16
LATER_READS = 1 << 20


def _read_all(descriptor: int, max_bytes: int | None) -> bytes:
    """The file's bytes to its end, or MAX_BYTES and one byte past them, whichever comes first."""
    wanted = None if max_bytes is None else max_bytes + 1
    chunks: list[bytes] = []
    got, asked = 0, FIRST_READ
    while wanted is None or got < wanted:
        chunk = os.read(descriptor, asked if wanted is None else min(asked, wanted - got))
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
        asked = LATER_READS
    return b"".join(chunks)


def own_directory(path: Path | str, create: bool = True) -> bool:
    """Whether PATH is a real directory (not a symbolic link) owned by this user, made first
    (with CREATE) if nothing is there. Only such a directory is written into or emptied."""
    if create:
        try:
            os.mkdir(path, 0o755)
        except FileExistsError:
            pass
        except OSError:
            return False
    try:
        found = os.lstat(path)
    except OSError:
        return False
    owner = os.getuid() if hasattr(os, "getuid") else found.st_uid
    return stat.S_ISDIR(found.st_mode) and found.st_uid == owner


def write_replacing(
    path: Path | str, data: bytes | Iterable[bytes], first: Callable[[], bytes] | None = None
) -> None:
    """Put DATA (bytes, or parts of them in order) at PATH as a new file, renamed over whatever
    was there: a symbolic link at PATH is replaced, never written through. FIRST: bytes known only
    once DATA is written (a seal of it), written then over the room DATA kept for them at its
    start. OSError when it cannot be done; an error raised while DATA is made leaves PATH as it was."""
    partial = f"{path}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    descriptor = os.open(partial, _CREATE_FLAGS, 0o644)
    try:
        with os.fdopen(descriptor, "wb") as file:
            if isinstance(data, bytes):
                file.write(data)
            else:
                file.writelines(data)
            if first is not None:
                file.seek(0)
                file.write(first())
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise
