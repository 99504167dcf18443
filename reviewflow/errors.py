"""The errors reviewflow expects, each with the exit code it ends the program with.

Anything raised that is not a ReviewflowError is a bug: the CLI reports it as an internal
error (exit 3) with a hint to re-run with --debug.
"""

from __future__ import annotations

import errno
import os
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1  # findings of error severity, or a refused action
    USAGE = 2  # usage, configuration or environment problem
    INTERNAL = 3  # a bug in reviewflow


class ReviewflowError(Exception):
    """An expected failure with a message a user can act on."""

    exit_code = ExitCode.USAGE


class ConfigError(ReviewflowError):
    """reviewflow.toml or the article schema is missing or wrong."""


class EnvironmentProblem(ReviewflowError):
    """The surroundings are wrong: not a git repository, shallow history, git missing."""


class Refused(ReviewflowError):
    """An action that is not allowed (wrong state, wrong person, uncommitted changes)."""

    exit_code = ExitCode.FINDINGS


# The errors of a file system that cannot take what is written to it: read-only, full, over
# quota, or not this user's to write. The surroundings' fault, not a bug: exit 2, not 3.
WRITE_ERRNOS = frozenset({errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EFBIG})


class CannotWrite(EnvironmentProblem):
    """A file system refused what reviewflow had to write (read-only, full, over quota, denied)."""

    @classmethod
    def wrap(cls, exc: OSError, what: str) -> CannotWrite | None:
        """The CannotWrite that EXC (while writing WHAT) means, or None if it is some other error.

        Names the path the system call failed on, if it says, and the system's reason."""
        if exc.errno not in WRITE_ERRNOS:
            return None
        where = f"{os.fsdecode(exc.filename)}: " if isinstance(exc.filename, str | bytes) else ""
        return cls(f"cannot write {what}: {where}{os.strerror(exc.errno)}")
