"""The errors reviewflow expects, each with the exit code it ends the program with.

Anything raised that is not a ReviewflowError is a bug: the CLI reports it as an internal
error (exit 3) with a hint to re-run with --debug.
"""

from __future__ import annotations

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
