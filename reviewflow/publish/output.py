"""Where a build writes: the directory it fills (the spare, or a new one beside --out) and the
files it puts there, each a new file, and every path checked to stay inside the site.

The directory a build writes into is, where it can be, the *spare*: the site the previous
build replaced, kept in .reviewflow-cache/publish/ (never in the served tree). Bringing it up
to date touches only what changed since it was live (`Staging`), instead of creating thousands
of directories and files; the spare is walked whole first, so nothing in it that this build did
not put there survives. A record per --out (records.py) says which page each file is and what
its bytes are; a file is trusted only when it is provably unchanged (`Staging.holds`,
`Staging.copy`; pagefiles.py). target.py checks --out and swaps the finished site in.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from pathlib import Path, PurePosixPath
from types import TracebackType

from reviewflow.errors import ExitCode, ReviewflowError
from reviewflow.publish.leftovers import MARKER, beside, discard, remove_leftovers
from reviewflow.publish.leftovers import remove as _remove
from reviewflow.publish.pagefiles import (
    copy_bytes,
    holds_bytes,
    open_regular,
    read_all,
    verified_state,
    write_all,
)
from reviewflow.publish.records import FileState, PageRecord, content_digest, state_of
from reviewflow.publish.target import swap_in, writing_site

__all__ = ["MARKER", "PublishError", "Staging", "site_path", "write_file", "write_site"]


class PublishError(ReviewflowError):
    """The site cannot be built as it is; the published directory was left untouched."""

    exit_code = ExitCode.FINDINGS


def site_path(site: Path | str, relative: str) -> str:
    """SITE/RELATIVE, refused unless it stays inside SITE."""
    # Every page of a full build comes here: a path of plain names (the usual case) is joined
    # as it is, without a PurePosixPath (most of this function's time at 100,000 pages).
    if not relative.startswith("/") and "\\" not in relative:
        names = relative.split("/")
        if "" not in names and "." not in names and ".." not in names:
            return os.path.join(site, relative)
    parts = PurePosixPath(relative).parts
    if not parts or relative.startswith("/") or any(p in ("", ".", "..") or "\\" in p for p in parts):
        raise PublishError(f"refusing to write {relative!r}: it would land outside the site")
    return os.path.join(site, *parts)


def write_file(site: Path | str, relative: str, data: bytes, new_directory: bool = False) -> FileState | None:
    """Put DATA at RELATIVE in a site being built (from any process); NEW_DIRECTORY: its
    directory is probably not there yet (it is made first, rather than after a failed open).
    The new file's state as written (see `put_file`)."""
    return put_file(site_path(site, relative), lambda descriptor: write_all(descriptor, data), new_directory)


def put_file(path: str, fill: Callable[[int], object], new_directory: bool = False) -> FileState | None:
    """Make a new file at PATH (in a site being built) and have FILL write its bytes to its
    descriptor (a plain descriptor: a Python file object costs three more system calls a page).
    Its state once FILL has written it, taken from the descriptor before it is closed (the
    build's record of a page it wrote needs it, and a worker takes it for less than this process
    would look the path up for); None when a file already there was replaced, by a rename that
    changes the state.

    Always a new file: a file already there is never written into, so that its inode and times
    always change with its bytes. It is replaced by a rename, never removed first: a build killed
    in between leaves either file, and never a site without its MARKER, which the next build
    needs to know the directory for its own (remove_leftovers).
    """
    if new_directory:
        with suppress(OSError):  # there after all, or not to be made here: the open below tells
            os.mkdir(os.path.dirname(path))
    try:
        descriptor = os.open(path, _NEW_FILE, 0o666)  # the common case: one system call
    except FileNotFoundError:
        directory = os.path.dirname(path)
        try:  # a page's own directory, in a directory that is there: one system call, not three
            os.mkdir(directory)
        except OSError:
            os.makedirs(directory, exist_ok=True)
        descriptor = os.open(path, _NEW_FILE, 0o666)
    except FileExistsError:
        if os.path.isdir(path) and not os.path.islink(path):
            _remove(path)  # a directory planted in its place cannot be renamed over
        replacement = f"{path}.{os.getpid()}.tmp"  # a killed build's is removed by _walk
        _remove(replacement)
        _fill(os.open(replacement, _NEW_FILE, 0o666), fill)
        os.replace(replacement, path)
        return None
    return _fill(descriptor, fill)


# A new file, as open(path, "xb") makes it: never one already there, never inherited by a child.
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _fill(descriptor: int, fill: Callable[[int], object]) -> FileState:
    try:
        fill(descriptor)
        return state_of(os.fstat(descriptor))
    finally:
        os.close(descriptor)


class Staging:
    """The directory a build writes, then swaps in for TARGET in one step.

    With SPARE (a path in the cache, on TARGET's file system), the build updates the site
    kept there, and after the swap the replaced site is kept there in turn. Without, the build
    writes a new directory beside TARGET and the replaced site is deleted. Leaving the `with`
    block without `swap` leaves TARGET as it was (a spare stays for the next build to check).

    A build in progress is no one's to read: its directory is mode 0700 until the instant it is
    swapped in, so a web server (another user) serving TARGET's parent never serves a half-built
    site or a --preview's unapproved text. A directory beside TARGET holds MARKER from the
    start and carries this process's id in its name: if the build is killed, the next build
    into TARGET removes it (remove_leftovers).
    """

    def __init__(self, target: Path, spare: Path | None = None, trash: Path | None = None) -> None:
        self.target = target
        self.spare = spare
        self.trash = trash
        self.directory = target  # set on entering
        self.found: set[str] = set()  # regular files already in the directory (relative paths)
        self.directories: set[str] = set()  # directories already in it
        self.placed: set[str] = set()  # files this build put in it
        self._swapped = False

    def __enter__(self) -> Staging:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(self.target)
        if self.spare is not None and _usable_spare(self.spare, self.target):
            self.directory = self.spare
            os.chmod(self.directory, 0o700)
            self.found, self.directories = _walk(self.spare)
        else:
            self.spare = None
            self.directory = beside(self.target, "new")
            os.mkdir(self.directory, 0o700)
            try:
                write_file(self.directory, MARKER, b"A site being built by `reviewflow publish`.\n")
            except BaseException:
                discard(self.directory)
                raise
            self.found = {MARKER}
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if not self._swapped and self.spare is None:
            discard(self.directory)

    def holds(self, relative: str, record: PageRecord) -> FileState | None:
        """The state of the file at RELATIVE if it holds exactly the bytes RECORD describes.

        A write to a file, or a change of its times, sets its ctime to the present, which no one
        can set back; so a file with the same inode, size, mtime and ctime as when it was last
        seen unchanged (a settled state, see RACY_SECONDS) is unchanged without being read.
        Any other file is read and its hash compared.
        """
        if relative not in self.found:
            return None
        # A checked relative path: no join needed.
        return verified_state(f"{self.directory}/{relative}", record)

    def write(self, relative: str, data: str | bytes) -> None:
        data = data.encode("utf-8") if isinstance(data, str) else data
        self._put(relative, lambda descriptor: write_all(descriptor, data))

    def copy(self, relative: str, source: str, record: PageRecord) -> bool:
        """Copy the file at SOURCE (a page of the live site) to RELATIVE if it holds exactly the
        bytes RECORD describes; whether it did.

        As in `holds`, a file in RECORD's settled state is unchanged; and one still in that state
        once copied was not written while it was copied: the kernel copies it, and its bytes are
        neither read here nor hashed (a build copying a whole site from the live one would hash
        every page). Any other file is read, and copied only if it hashes as the record says.
        Anything but a regular file (a link, a FIFO planted in the served site) is not copied.
        """
        descriptor = open_regular(source)
        if descriptor is None:
            return False
        try:
            recorded = record.state
            if recorded is not None and _state(descriptor) == recorded:
                self._put(relative, lambda target: copy_bytes(descriptor, target, recorded[1]))
                if _state(descriptor) == recorded:
                    return True
                self.placed.discard(relative)  # written to while copied: its bytes tell
            data = _read(descriptor)
        finally:
            os.close(descriptor)
        if data is None or content_digest(data) != record.digest:
            return False  # a copy made above is written over when the page is rendered
        self.write(relative, data)
        return True

    def _put(self, relative: str, fill: Callable[[int], object]) -> None:
        self.placed.add(relative)
        # A page copied into a spare that lacks it (after a full build: every page) goes into
        # a directory the spare did not hold.
        directory = os.path.dirname(relative)
        new_directory = bool(directory) and directory not in self.directories
        put_file(site_path(self.directory, relative), fill, new_directory)

    def write_changed(self, relative: str, data: bytes) -> None:
        """Write DATA at RELATIVE unless the file there already holds exactly those bytes: most
        site-wide files (the search index's shards, say) are the same as the spare's."""
        if relative in self.found and holds_bytes(os.path.join(self.directory, relative), data):
            self.placed.add(relative)
        else:
            self.write(relative, data)

    def swap(self, keep: Iterable[str]) -> None:
        """Remove every file but KEEP (what this build wrote, copied or checked), then swap."""
        wanted = set(keep) | self.placed
        for relative in self.found - wanted:
            _remove(os.path.join(self.directory, relative))
        for relative in sorted(self.directories - _needed_directories(wanted) - wanted, reverse=True):
            _remove(os.path.join(self.directory, relative))
        os.chmod(self.directory, 0o755)  # from now on it is the site: a web server reads it
        swap_in(self.directory, self.target, self.trash, keep_replaced=self.spare is not None)
        self._swapped = True


def _state(descriptor: int) -> FileState | None:
    try:
        return state_of(os.fstat(descriptor))
    except OSError:
        return None


def _read(descriptor: int) -> bytes | None:
    try:
        return read_all(descriptor)
    except OSError:
        return None


def write_site(target: Path, files: Mapping[str, str | bytes], trash: Path | None = None) -> None:
    """Write FILES into a new directory beside TARGET, then put it in TARGET's place."""
    with writing_site(target), Staging(target, trash=trash) as staging:
        for relative in sorted(files):
            staging.write(relative, files[relative])
        staging.swap(files)


def _usable_spare(spare: Path, target: Path) -> bool:
    """Whether SPARE can be brought up to date and swapped with TARGET (same file system)."""
    try:
        found = os.lstat(spare)
        if stat.S_ISLNK(found.st_mode) or not stat.S_ISDIR(found.st_mode):
            _remove(str(spare))
            spare.mkdir(parents=True)
        return os.stat(spare).st_dev == os.stat(target.parent).st_dev
    except FileNotFoundError:
        try:
            spare.parent.mkdir(parents=True, exist_ok=True)
            if os.stat(spare.parent).st_dev != os.stat(target.parent).st_dev:
                return False
            spare.mkdir()
            return True
        except OSError:
            return False
    except OSError:
        return False


def _walk(top: Path) -> tuple[set[str], set[str]]:
    """Every regular file under TOP and every directory (relative paths); anything else found
    there (a symbolic link, a device, a half-written file) is removed: never part of a site."""
    files: set[str] = set()
    directories: set[str] = set()
    pending = [""]
    while pending:
        relative = pending.pop()
        with os.scandir(os.path.join(top, relative)) as entries:
            for entry in entries:
                name = f"{relative}/{entry.name}" if relative else entry.name
                if entry.is_dir(follow_symlinks=False):
                    directories.add(name)
                    pending.append(name)
                elif entry.is_file(follow_symlinks=False) and not name.endswith(".tmp"):
                    files.add(name)
                else:
                    _remove(entry.path)
    return files, directories


def _needed_directories(files: Iterable[str]) -> set[str]:
    """The directories FILES are in, and theirs in turn."""
    parents = {relative.rpartition("/")[0] for relative in files}  # most pages: a directory each
    needed: set[str] = set()
    for directory in parents:
        while directory and directory not in needed:
            needed.add(directory)
            directory = directory.rpartition("/")[0]
    return needed
