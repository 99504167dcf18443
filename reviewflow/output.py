"""Where a build goes: the site's directory, replaced in one move, and what the next build reuses.

Every build writes a whole site into a directory beside the live one and then swaps the two
in one atomic step, so readers see the old site or the new one, and a failed build leaves the
live site as it was. Only a directory that reviewflow built (it holds MARKER) is ever replaced,
and every path is checked to stay inside the site.

The directory a build writes into is, where it can be, the *spare*: the site the previous
build replaced, kept in .reviewflow-cache/publish/ (never in the served tree). Bringing it up
to date touches only what changed since it was live (`Staging`), instead of creating thousands
of directories and files; the spare is walked whole first, so nothing in it that this build did
not put there survives. A record per --out (`PageRecord`s in `BuildCache`) says which page each
file is (the hash of all that went into it) and what its bytes are; a file is trusted only when
it is provably unchanged (`Staging.holds`).
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import os
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any, NamedTuple

from reviewflow.cache import CACHE_DIR, cache_dir, seal, unseal
from reviewflow.errors import ConfigError, ExitCode, ReviewflowError
from reviewflow.files import own_directory, read_own, write_replacing

MARKER = ".reviewflow-site"  # in every built site: only a directory with it is ever replaced
RECORD_VERSION = 2  # the layout of a site record; a record of another layout is ignored
# A file changed within this many seconds of being looked at may keep the same times (file
# systems keep coarse clocks): such a file is checked by its bytes next time, not its times.
RACY_SECONDS = 2


class PublishError(ReviewflowError):
    """The site cannot be built as it is; the published directory was left untouched."""

    exit_code = ExitCode.FINDINGS


# --- what the next build may reuse -------------------------------------------------------------

FileState = tuple[int, int, int, int]  # inode, size, mtime and ctime (ns) of a file


class PageRecord(NamedTuple):
    """One article page of a built site, as the next build sees it."""

    key: str  # the hash of everything that went into the page (publish.Build.key)
    digest: str  # the hash of its bytes (content_digest)
    state: FileState | None  # its file when last seen provably unchanged; None: check the bytes
    meta: dict[str, Any]  # its listing (site.listing_meta and card), for the index, sitemap and feed


SiteRecord = dict[str, PageRecord]  # relative path of an article page -> its record


def content_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_state(path: Path | str) -> FileState | None:
    """The state of a regular file (never followed through a symbolic link), or None."""
    try:
        found = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(found.st_mode):
        return None
    return found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns


def settled(state: FileState | None, now_ns: int) -> FileState | None:
    """STATE, if its times are old enough that any later change would show in them."""
    if state is None or now_ns - max(state[2], state[3]) < RACY_SECONDS * 1_000_000_000:
        return None
    return state


class BuildCache:
    """.reviewflow-cache/publish/ in the content repo: spare sites, records and facts for the next build.

    Plain JSON files (loading JSON cannot run code), each written whole and then renamed into
    place, and each signed with a key kept in the user's cache directory: a file that arrived
    some other way (committed to the repository by someone, say) is never believed, since a
    planted record and a planted spare site could otherwise publish text nobody approved. The
    directory ignores itself through a .gitignore in .reviewflow-cache/. A cache that cannot be
    read or written only makes builds slower: every failure is ignored.

    Nothing in it is followed: a .reviewflow-cache/ that is not reviewflow's to use (committed
    to git, a link; see cache.cache_dir) is no cache at all, and within one, every directory is
    used only if it is a real one of this user's and every file is read and written without
    following a link (files.own_directory, read_own, write_replacing).
    """

    def __init__(self, root: Path) -> None:
        top = cache_dir(root)
        self.usable = top is not None
        self.directory = (top or root / CACHE_DIR) / "publish"

    @property
    def trash(self) -> Path | None:
        """Where unwanted directories wait to be deleted (empty_trash), off the build's path;
        None without a usable cache (then nothing is deleted but what this build replaced)."""
        return self.directory / "replaced" if self.prepare() else None

    def spare(self, target: Path) -> Path:
        """Where the site that TARGET held before its last build is kept."""
        return self.directory / f"spare-{_name(target)}"

    def spare_site(self, target: Path) -> SiteRecord:
        """The record of TARGET's spare site (empty when unknown)."""
        return self._site(f"spare-{_name(target)}.json", target)

    def live_site(self, target: Path) -> SiteRecord:
        """The record of TARGET's live site (empty when unknown)."""
        return self._site(f"live-{_name(target)}.json", target)

    def rendered_last(self, target: Path) -> SiteRecord:
        """The records of the pages TARGET's last build rendered: all that its spare lacks."""
        return self._site(f"rendered-{_name(target)}.json", target)

    def keep_sites(self, target: Path, live: SiteRecord, rendered: set[str], spare_was_live: bool) -> None:
        """Record TARGET's new live site and which of its pages were RENDERED; the spare is now
        what was live, or there is none."""
        name = _name(target)
        if not self.prepare():
            return
        try:
            if spare_was_live:
                os.replace(self.directory / f"live-{name}.json", self.directory / f"spare-{name}.json")
            else:
                (self.directory / f"spare-{name}.json").unlink(missing_ok=True)
        except OSError:
            pass
        for kind, records in (("live", live), ("rendered", {p: live[p] for p in rendered if p in live})):
            data = {
                "version": RECORD_VERSION,
                "target": str(target),
                "pages": {p: list(r) for p, r in records.items()},
            }
            self._write(f"{kind}-{name}.json", data)

    def prepare(self) -> bool:
        """Create the directory (cache_dir made the .gitignore that hides it from git); False
        when there is no usable one."""
        if not self.usable:
            return False
        if own_directory(self.directory, create=False):
            return True
        if os.path.lexists(self.directory) or not own_directory(self.directory):
            return False  # something else in its place: never written through
        with contextlib.suppress(OSError):  # the tag only asks backup tools to skip the directory
            write_replacing(
                self.directory.parent / "CACHEDIR.TAG",
                b"Signature: 8a477f597d28d172789f06886806bc55\n# reviewflow's build cache.\n",
            )
        return True

    def _site(self, name: str, target: Path) -> SiteRecord:
        data = self._read(name)
        if not isinstance(data, dict) or data.get("version") != RECORD_VERSION:
            return {}
        return _records(data.get("pages")) if data.get("target") == str(target) else {}

    def _read(self, name: str) -> Any:
        if not self.usable:
            return None
        try:
            text = unseal(read_own(self.directory / name))
            return json.loads(text) if text is not None else None
        except (OSError, ValueError):
            return None

    def _write(self, name: str, data: Any) -> None:
        sealed = seal(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        if sealed is None or not self.prepare():
            return
        with contextlib.suppress(OSError):
            write_replacing(self.directory / name, sealed)


def _name(text: Path | str) -> str:
    return hashlib.sha256(str(text).encode()).hexdigest()[:16]


def _records(entries: Any) -> SiteRecord:
    """The records in a signed file. Their values are compared, never trusted to have a shape:
    a record that does not match is a page rendered again (see publish.reuse_pages)."""
    records: SiteRecord = {}
    if isinstance(entries, dict):
        for path, entry in entries.items():
            if isinstance(entry, list) and len(entry) == 4:
                key, digest, state, meta = entry
                state = tuple(state) if isinstance(state, list) else None
                records[path] = PageRecord(key, digest, state, meta)
    return records


# --- the site's directory ----------------------------------------------------------------------


def check_target(root: Path, out: Path) -> Path:
    """The output directory, refused where replacing it could destroy anything but a built site."""
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


def site_path(site: Path | str, relative: str) -> str:
    """SITE/RELATIVE, refused unless it stays inside SITE."""
    parts = PurePosixPath(relative).parts
    if not parts or relative.startswith("/") or any(p in ("", ".", "..") or "\\" in p for p in parts):
        raise PublishError(f"refusing to write {relative!r}: it would land outside the site")
    return os.path.join(site, *parts)


def write_file(site: Path | str, relative: str, data: bytes) -> None:
    """Put DATA at RELATIVE in a site being built (from any process).

    Always a new file: a file already there is unlinked first, never written into, so that its
    inode and times always change with its bytes.
    """
    path = site_path(site, relative)
    try:
        file = open(path, "xb")  # noqa: SIM115 - the common case: one system call
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        file = open(path, "xb")  # noqa: SIM115
    except FileExistsError:
        _remove(path)  # a file, or whatever was planted in its place
        file = open(path, "xb")  # noqa: SIM115
    with file:
        file.write(data)


class Staging:
    """The directory a build writes, then swaps in for TARGET in one step.

    With SPARE (a path in the cache, on TARGET's file system), the build updates the site
    kept there, and after the swap the replaced site is kept there in turn. Without, the build
    writes a new directory beside TARGET and the replaced site is deleted. Leaving the `with`
    block without `swap` leaves TARGET as it was (a spare stays for the next build to check).
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
        if self.spare is not None and _usable_spare(self.spare, self.target):
            self.directory = self.spare
            self.found, self.directories = _walk(self.spare)
        else:
            self.spare = None
            self.directory = Path(
                tempfile.mkdtemp(prefix=f".{self.target.name}.new-", dir=self.target.parent)
            )
        os.chmod(self.directory, 0o755)  # a web server running as another user reads it
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if not self._swapped and self.spare is None:
            shutil.rmtree(self.directory, ignore_errors=True)

    def holds(self, relative: str, record: PageRecord) -> FileState | None:
        """The state of the file at RELATIVE if it holds exactly the bytes RECORD describes.

        A write to a file, or a change of its times, sets its ctime to the present, which no one
        can set back; so a file with the same inode, size, mtime and ctime as when it was last
        seen unchanged (a settled state, see RACY_SECONDS) is unchanged without being read.
        Any other file is read and its hash compared.
        """
        return _verified(os.path.join(self.directory, relative), record) if relative in self.found else None

    def write(self, relative: str, data: str | bytes) -> None:
        self.placed.add(relative)
        write_file(self.directory, relative, data.encode("utf-8") if isinstance(data, str) else data)

    def swap(self, keep: Iterable[str]) -> None:
        """Remove every file but KEEP (what this build wrote, copied or checked), then swap."""
        wanted = set(keep) | self.placed
        for relative in self.found - wanted:
            _remove(os.path.join(self.directory, relative))
        for relative in sorted(self.directories - _needed_directories(wanted) - wanted, reverse=True):
            _remove(os.path.join(self.directory, relative))
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


def write_site(target: Path, files: Mapping[str, str | bytes], trash: Path | None = None) -> None:
    """Write FILES into a new directory beside TARGET, then put it in TARGET's place."""
    with Staging(target, trash=trash) as staging:
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


def _remove(path: str) -> None:
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    except FileNotFoundError:
        pass


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
            aside = target.parent / f".{target.name}.old-{secrets.token_hex(4)}"
            os.rename(target, aside)
            os.rename(building, target)
            os.rename(aside, building)
        return
    retired = target.parent / f".{target.name}.old-{secrets.token_hex(4)}"
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
        shutil.rmtree(retired, ignore_errors=True)


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
