"""The published directory (--out): which one a build may replace, the step that replaces it,
and the deletion of what builds replaced.

A build writes a whole site beside the live one (or into the spare, output.py) and then puts it
in the live one's place in one atomic step where the system can (`swap_in`), so readers see the
old site or the new one, and a failed build leaves the live site as it was. Only a directory
that reviewflow built (it holds MARKER) is ever replaced.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # not on Windows: builds are then not serialised
    fcntl = None  # type: ignore[assignment]

from reviewflow.errors import CannotWrite, ConfigError
from reviewflow.files import own_directory
from reviewflow.publish.leftovers import MARKER, beside, discard


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


def swap_in(building: Path, target: Path, trash: Path | None, keep_replaced: bool) -> None:
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
