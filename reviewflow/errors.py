"""The errors reviewflow expects, each with the exit code it ends the program with.

Anything raised that is not a ReviewflowError is a bug: the CLI reports it as an internal
error (exit 3) with a hint to re-run with --debug.
"""

from __future__ import annotations

import errno
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a configuration file: the dotted key ("" for the file as a whole),
    what is wrong with it, and where it is, when that is known."""

    key: str
    message: str
    line: int | None = None
    column: int | None = None

    @property
    def detail(self) -> str:
        return f"{self.key}: {self.message}" if self.key else self.message


class InvalidFile(ConfigError):
    """A reviewflow.toml or schema with every problem found in it, one line each:
    `reviewflow.toml:3: policy.quorum: unknown key ...`."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__("\n".join(self._line(problem) for problem in self.problems))

    def summary(self) -> str:
        """The first problem, and how many more there are: for a message about something else."""
        more = len(self.problems) - 1
        return self.problems[0].detail + (f" and {more} more problem(s)" if more > 0 else "")

    def _line(self, problem: Problem) -> str:
        where = self.source
        if problem.line is not None:
            where += f":{problem.line}" + (f":{problem.column}" if problem.column is not None else "")
        return f"{where}: {problem.detail}"


# What Python's readers of TOML and JSON refuse by a limit of the interpreter's, not by their
# grammar: a whole number longer than `int()` converts (`sys.get_int_max_str_digits()`, 4,300
# digits unless set otherwise: the limit stops a conversion that takes time quadratic in its
# length), raised as a ValueError (of which their syntax errors are kinds: catch those first),
# and nesting deeper than the interpreter's recursion.
OVER_LIMITS = (ValueError, RecursionError)


def over_limits(exc: ValueError | RecursionError, text: str) -> Problem:
    """The problem with TEXT that a reader of TOML or JSON raised EXC (one of OVER_LIMITS) for,
    where it is when that can be found."""
    if isinstance(exc, RecursionError):
        return Problem("", "nested too deeply to read")
    limit = sys.get_int_max_str_digits()
    # The first run of more digits than the limit (TOML's `_` between digits counted out) that
    # is not the start of a fraction or an exponent: a float of any length converts.
    found = re.search(rf"(?<![0-9_])[0-9](?:_?[0-9]){{{limit},}}+(?![.eE_0-9])", text) if limit else None
    if found is None:
        return Problem("", str(exc))
    line = text.count("\n", 0, found.start()) + 1
    column = found.start() - text.rfind("\n", 0, found.start())
    return Problem("", number_too_long(len(found.group().replace("_", ""))), line, column)


def number_too_long(digits: int) -> str:
    """What is wrong with a whole number of DIGITS digits, over `int()`'s limit."""
    limit = sys.get_int_max_str_digits()
    return f"a whole number of {digits:,} digits, more than the {limit:,} reviewflow reads"


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
