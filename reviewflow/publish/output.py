"""Where a build goes: the site's directory, replaced in one move, and what the next build reuses.

Every build writes a whole site into a directory beside the live one and then swaps the two
in one atomic step, so readers see the old site or the new one, and a failed build leaves the
live site as it was. Only a directory that reviewflow built (it holds MARKER) is ever replaced,
and every path is checked to stay inside the site.

The directory a build writes into is, where it can be, the *spare*: the site the previous
build replaced, kept in .reviewflow-cache/publish/ (never in the served tree). Bringing it up
to date touches only what changed since it was live (`Staging`), instead of creating thousands
of directories and files; the spare is walked whole first, so nothing in it that this build did
not put there survives. A record per --out (records.py) says which page each file is and what
its bytes are; a file is trusted only when it is provably unchanged (`Staging.holds`).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path, PurePosixPath
from types import TracebackType

try:
    import fcntl
except ImportError:  # not on Windows: builds are then not serialised
    fcntl = None  # type: ignore[assignment]

from reviewflow.errors import CannotWrite, ConfigError, ExitCode, ReviewflowError
from reviewflow.files import own_directory
from reviewflow.publish.leftovers import MARKER, beside, discard, remove_leftovers
from reviewflow.publish.leftovers import remove as _remove
from reviewflow.publish.records import FileState, PageRecord, content_digest, file_state, state_of


class PublishError(ReviewflowError):
    """The site cannot be built as it is; the published directory was left untouched."""

    exit_code = ExitCode.FINDINGS


# --- the site's directory ----------------------------------------------------------------------


def check_target(root: Path, out: Path) -> Path:
    """The output directory, refused where replacing it could destroy anything but a built site."""
    try:
        return _checked_target(root, out)
    except OSError as exc:  # it cannot even be looked at (no permission, an I/O error)
        where = f"{os.fsdecode(exc.filename)}: " if isinstance(exc.filename, str | bytes) else ""
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise ConfigError(f"--out {out}: cannot be checked: {where}{reason}") from None


def _checked_target(root: Path, out: Path) -> Path:
    if out.is_symlink():
        raise ConfigError(f"--out {out}: is a symbolic link; give the real directory")
    target = out.parent.resolve() / out.name if out.name not in ("", ".", "..") else out.resolve()
    root = root.resolve()
    if target == root or target in root.parents:
        raise ConfigError(
            f"--out {out}: is the content repository or contains it; choose a directory of its own"
        )
    if ".git" in target.relative_to(target.anchor).parts:
        raise ConfigError(f"--out {out}: is inside a .git directory")
    if target.exists() and not target.is_dir():
        raise ConfigError(f"--out {out}: exists and is not a directory")
    if target.is_dir() and any(target.iterdir()) and not (target / MARKER).is_file():
        raise ConfigError(
            f"--out {out}: is not empty and was not built by reviewflow publish (it has no {MARKER}); "
            "publish replaces the whole directory, so remove it or choose another"
        )
    return target


@contextmanager
def writing_site(target: Path) -> Iterator[None]:
    """A file system that refuses the build (read-only, full, over quota) is an exit 2 that
    names the path and the reason, not an internal error; TARGET is left as it was."""
    try:
        yield
    except OSError as exc:
        problem = CannotWrite.wrap(exc, f"the site for --out {target}")
        if problem is None:
            raise
        raise problem from None


@contextmanager
def one_build_at_a_time(spare: Path | None) -> Iterator[None]:
    """Hold a lock on the spare's lock file: two builds into one --out must not share a spare."""
    if spare is None or fcntl is None:
        yield
        return
    try:  # never through a link: the cache is in the work tree (files.py)
        descriptor = os.open(f"{spare}.lock", os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError:
        descriptor = None
    if descriptor is None:
        yield
        return
    with open(descriptor, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


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


def write_file(site: Path | str, relative: str, data: bytes, new_directory: bool = False) -> None:
    """Put DATA at RELATIVE in a site being built (from any process); NEW_DIRECTORY: its
    directory is probably not there yet (it is made first, rather than after a failed open).

    Always a new file: a file already there is never written into, so that its inode and times
    always change with its bytes. It is replaced by a rename, never removed first: a build killed
    in between leaves either file, and never a site without its MARKER, which the next build
    needs to know the directory for its own (remove_leftovers).
    """
    path = site_path(site, relative)
    if new_directory:
        with suppress(OSError):  # there after all, or not to be made here: the open below tells
            os.mkdir(os.path.dirname(path))
    try:
        file = open(path, "xb")  # noqa: SIM115 - the common case: one system call
    except FileNotFoundError:
        directory = os.path.dirname(path)
        try:  # a page's own directory, in a directory that is there: one system call, not three
            os.mkdir(directory)
        except OSError:
            os.makedirs(directory, exist_ok=True)
        file = open(path, "xb")  # noqa: SIM115
    except FileExistsError:
        if os.path.isdir(path) and not os.path.islink(path):
            _remove(path)  # a directory planted in its place cannot be renamed over
        replacement = f"{path}.{os.getpid()}.tmp"  # a killed build's is removed by _walk
        _remove(replacement)
        with open(replacement, "xb") as file:
            file.write(data)
        os.replace(replacement, path)
        return
    with file:
        file.write(data)


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
        return _verified(f"{self.directory}/{relative}", record)  # a checked relative path: no join needed

    def write(self, relative: str, data: str | bytes) -> None:
        self.placed.add(relative)
        data = data.encode("utf-8") if isinstance(data, str) else data
        # A page copied into a spare that lacks it (after a full build: every page) goes into
        # a directory the spare did not hold.
        directory = os.path.dirname(relative)
        write_file(self.directory, relative, data, bool(directory) and directory not in self.directories)

    def write_changed(self, relative: str, text: str) -> None:
        """Write TEXT at RELATIVE unless the file there already holds exactly its bytes: most
        site-wide files (the search index's shards, say) are the same as the spare's."""
        data = text.encode("utf-8")
        if relative in self.found and _holds_bytes(os.path.join(self.directory, relative), data):
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
        _swap(self.directory, self.target, self.trash, keep_replaced=self.spare is not None)
        self._swapped = True


def _verified(path: str, record: PageRecord) -> FileState | None:
    state = file_state(path)
    if state is None or (record.state is not None and state == record.state):
        return state
    try:
        with open(path, "rb") as file:
            return state if content_digest(file.read()) == record.digest else None
    except OSError:
        return None


def read_verified(path: str, record: PageRecord) -> bytes | None:
    """The bytes of the file at PATH if they are those RECORD describes, else None.

    As in `Staging.holds`, a file whose state is RECORD's settled state is unchanged; and one
    still in that state once read was not written while it was read: its bytes are used without
    being hashed (a build copying a whole site from the live one would hash every page).
    """
    try:
        with open(path, "rb") as file:
            before = state_of(os.fstat(file.fileno()))
            data = file.read()
            after = state_of(os.fstat(file.fileno()))
    except OSError:
        return None
    if record.state is not None and before == record.state == after:
        return data
    return data if content_digest(data) == record.digest else None


def _holds_bytes(path: str, data: bytes) -> bool:
    """Whether PATH is a regular file of exactly DATA."""
    state = file_state(path)
    if state is None or state[1] != len(data):
        return False
    try:
        with open(path, "rb") as file:
            return file.read() == data
    except OSError:
        return False


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
    needed: set[str] = set()
    for relative in files:
        directory = os.path.dirname(relative)
        while directory and directory not in needed:
            needed.add(directory)
            directory = os.path.dirname(directory)
    return needed


def _swap(building: Path, target: Path, trash: Path | None, keep_replaced: bool) -> None:
    """Put BUILDING in TARGET's place; the replaced site goes to BUILDING's path if KEEP_REPLACED."""
    if not target.exists():
        os.rename(building, target)
        return
    if keep_replaced:
        if not _exchange(building, target):  # three renames: for an instant there is no site at all
            aside = beside(target, "old")
            os.rename(target, aside)
            os.rename(building, target)
            os.rename(aside, building)
        return
    retired = beside(target, "old")
    if trash is not None and own_directory(trash):  # a link there would take the site elsewhere
        try:
            if os.lstat(trash).st_dev == os.stat(target.parent).st_dev:
                retired = trash / retired.name
        except OSError:
            pass
    if _exchange(building, target):  # one atomic step: readers see the old site or the new one
        os.rename(building, retired)
    else:  # two renames: for an instant there is no site at all
        os.rename(target, retired)
        try:
            os.rename(building, target)
        except BaseException:
            os.rename(retired, target)
            raise
    if retired.parent != trash:
        discard(retired)


def empty_trash(trash: Path | None) -> None:
    """Delete what earlier builds left in TRASH (see _swap), if it is a real directory of this
    user's: never what a link in its place points to."""
    if trash is None or not own_directory(trash, create=False):
        return
    try:
        entries = list(os.scandir(trash))
    except OSError:
        return
    paths = [entry.path for entry in entries]
    if paths and shutil.which("rm"):
        # rm waits on the disk without holding Python's interpreter lock, which the build needs.
        subprocess.run(["rm", "-rf", "--", *paths], capture_output=True, check=False)
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where that cannot be done."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange)
    return bool(result == 0)
