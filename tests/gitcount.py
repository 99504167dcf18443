"""Counting the git processes a command starts (Principle 3), so that a guard on them can fail."""

from __future__ import annotations

import inspect
import subprocess
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from reviewflow import gitprocess

_EXECUTE_CHILD = subprocess.Popen._execute_child  # type: ignore[attr-defined]
_SIGNATURE = inspect.signature(_EXECUTE_CHILD)


@contextmanager
def git_processes() -> Iterator[Counter[str]]:
    """Subcommand -> how many git processes ran it inside the block (filled in at its end).

    Counted by gitprocess.count_git_processes, where reviewflow starts git. Every child process is
    also watched as the operating system starts it: the block fails if a git process started
    anywhere else, or without the environment that hides replace refs and grafts.
    """
    children: list[tuple[list[str], dict[str, str] | None]] = []

    def watched(self: subprocess.Popen[Any], *args: Any, **kwargs: Any) -> Any:
        bound = _SIGNATURE.bind(self, *args, **kwargs).arguments
        argv = bound["args"]
        children.append(([argv] if isinstance(argv, (str, bytes)) else list(argv), bound["env"]))
        return _EXECUTE_CHILD(self, *args, **kwargs)

    counts: Counter[str] = Counter()
    with pytest.MonkeyPatch.context() as patch, gitprocess.count_git_processes() as started:
        patch.setattr(subprocess.Popen, "_execute_child", watched)
        yield counts
    counts.update(started)
    gits = [(argv, env) for argv, env in children if Path(str(argv[0])).name == "git"]
    argvs = [argv for argv, _ in gits]
    assert len(gits) == len(started), f"git started outside gitprocess.start: {argvs} vs {started}"
    for argv, env in gits:
        assert env is not None and env.get("GIT_NO_REPLACE_OBJECTS") == "1", argv
        assert env.get("GIT_GRAFT_FILE") == gitprocess._ENVIRONMENT["GIT_GRAFT_FILE"], argv
        assert (env.get("LANGUAGE"), env.get("LC_ALL")) == ("C", "C"), argv  # git's messages in English


def total(counts: Counter[str]) -> int:
    return sum(counts.values())
