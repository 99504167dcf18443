"""What a build leaves beside the site it replaces, and what a killed build left there.

A build writes into a directory beside --out (or the spare in the cache) and moves the replaced
site aside: both are named after the build's process (LEFTOVER), so that the next build into
the same --out knows a killed build's leftovers from a running build's directories, and only a
directory holding MARKER (built by reviewflow) is ever deleted whole.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from contextlib import suppress
from pathlib import Path

from reviewflow.publish.records import file_state

MARKER = ".reviewflow-site"  # in every built site: only a directory with it is ever replaced

# A directory a build makes beside TARGET: .TARGET.new-PID-RANDOM while it is built, and
# .TARGET.old-PID-RANDOM for a replaced site on its way out. The process id in the name lets the
# next build recognise what a killed build left behind (remove_leftovers).
LEFTOVER = re.compile(r"(?:new|old)-(?P<pid>[0-9]{1,10})-[0-9a-f]{8}")


def beside(target: Path, kind: str) -> Path:
    """A new name beside TARGET for a directory of this build (see LEFTOVER)."""
    return target.parent / f".{target.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}"


def remove_leftovers(target: Path) -> list[str]:
    """Delete what killed builds into TARGET left beside it; the names of what was deleted.

    Only a directory named as a build names them (LEFTOVER), built by reviewflow (it holds
    MARKER), whose process is gone: another build running now keeps its own.
    """
    prefix = f".{target.name}."
    removed: list[str] = []
    try:
        entries = [e for e in os.scandir(target.parent) if e.name.startswith(prefix)]
    except OSError:
        return removed
    for entry in entries:
        found = LEFTOVER.fullmatch(entry.name[len(prefix) :])
        if found is None or running(int(found["pid"])) or not entry.is_dir(follow_symlinks=False):
            continue
        if file_state(os.path.join(entry.path, MARKER)) is None:
            try:  # killed before it held anything; else not one of ours, and never deleted
                os.rmdir(entry.path)
            except OSError:
                continue
        else:
            discard(entry.path)
        removed.append(entry.name)
    return removed


def discard(directory: Path | str) -> None:
    """Delete a directory of a build, MARKER last: if this is cut short, what is left is still
    recognisably reviewflow's, and the next build finishes the job (remove_leftovers)."""
    try:
        entries = [e for e in os.scandir(directory) if e.name != MARKER]
    except OSError:
        return
    for entry in entries:
        with suppress(OSError):
            remove(entry.path)
    shutil.rmtree(directory, ignore_errors=True)


def running(pid: int) -> bool:
    """Whether process PID exists (and is not a zombie that only waits to be reaped)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's
    except OverflowError:
        return False  # no process has such an id
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat_file:
            return stat_file.read().rpartition(b")")[2].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def remove(path: str) -> None:
    """Delete a file or a directory tree (not what a link points to); gone already is fine."""
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    except FileNotFoundError:
        pass
