"""Where reviewflow starts git: every git process, with one environment, counted.

`start` is the one place a git process begins (gitstore.py's GitStore and the calls below are
its only users). Besides the process machinery, this holds the git calls made before there is a
repository to open: the version, the author's identity, and the layout `init` needs.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import re
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from reviewflow.errors import EnvironmentProblem

MIN_GIT = (2, 25)  # %(trailers:only,unfold), --is-shallow-repository, --end-of-options
MIN_GIT_SSH = (2, 34)  # SSH signatures: gpg.format ssh, gpg.ssh.allowedSignersFile
# Settings a user's configuration must not change under us: colours, quoting, signatures shown
# in the log, root commits hidden, messages in another encoding. Given to every git process.
STABLE = (
    "-c", "color.ui=false",
    "-c", "core.quotePath=true",
    "-c", "log.showSignature=false",
    "-c", "log.showRoot=true",
    "-c", "i18n.logOutputEncoding=UTF-8",
)  # fmt: skip


def git_version() -> tuple[int, ...]:
    """The installed git's version; an EnvironmentProblem when git is missing or too old."""
    result = run(None, "version", check=False)
    match = re.search(rb"(\d+)\.(\d+)(?:\.(\d+))?", result.stdout)
    if result.returncode != 0 or match is None:
        raise EnvironmentProblem(f"`git version` failed ({stderr_text(result)}); is git installed?")
    version = tuple(int(part) for part in match.groups(b"0"))
    if version < MIN_GIT:
        raise EnvironmentProblem(
            f"git {dotted(version)} is too old: reviewflow needs git {dotted(MIN_GIT)} or "
            f"newer ({dotted(MIN_GIT_SSH)} or newer for signed reviews)"
        )
    return version


def run(
    cwd: Path | None, *args: str, input: bytes | None = None, check: bool = True
) -> subprocess.CompletedProcess[bytes]:
    process = start(cwd, *args)
    stdout, stderr = process.communicate(input)
    result = subprocess.CompletedProcess(["git", *args], process.returncode, stdout, stderr)
    if check and result.returncode != 0:
        fail(args, result)
    return result


def fail(args: Sequence[str], result: subprocess.CompletedProcess[bytes]) -> NoReturn:
    command = next((a for a in args if not a.startswith("-") and "=" not in a), "git")
    detail = stderr_text(result) or f"exit status {result.returncode}"
    raise EnvironmentProblem(f"git {command} failed: {detail}")


# Git's own objects, always: every git process reviewflow starts is told to ignore
# `refs/replace/*` (which a mirror clone fetches, and which would swap any commit, tree or blob
# for another) and `.git/info/grafts` (which rewrites a commit's parents, and which git honours
# even with --no-replace-objects). GIT_GRAFT_FILE names a path below a regular file, which can
# never exist: git then reads no grafts, and gives no deprecation hint as it would for an empty
# file. What is judged is what everyone who fetches the commits sees.
# Git's messages in English, whatever the user's locale: stderr_text and its callers read them.
_LOCALE = {"LANGUAGE": "C", "LC_ALL": "C"}
_ENVIRONMENT = {
    "GIT_NO_REPLACE_OBJECTS": "1",
    "GIT_GRAFT_FILE": os.path.join(os.path.abspath(__file__), "no-grafts"),
}


# The git processes started inside each count_git_processes() block. Empty otherwise, which costs
# each process one test of an empty list.
_COUNTS: list[list[str]] = []


@contextmanager
def count_git_processes() -> Iterator[list[str]]:
    """The subcommand (`log`, `cat-file`, ...) of each git process started in the block, in order.

    Principle 3 promises a handful of git processes whatever the repository's size; every process
    starts in start, so counting there counts them all (the tests' guards use this).
    """
    started: list[str] = []
    _COUNTS.append(started)
    try:
        yield started
    finally:
        _COUNTS[:] = [counted for counted in _COUNTS if counted is not started]


def _subcommand(args: Sequence[str]) -> str:
    """The git subcommand in ARGS, after any `-c name=value` settings."""
    index = 0
    while index + 1 < len(args) and args[index] == "-c":
        index += 2
    return args[index] if index < len(args) else ""


def start(cwd: Path | None, *args: str) -> subprocess.Popen[bytes]:
    """One git process with its three pipes, in CWD (None: this process's directory).

    The one place reviewflow starts git: every process gets the STABLE settings and the
    _ENVIRONMENT, and is counted for count_git_processes. Started by subprocess itself, as
    GitPython's command interface started it (the same arguments, directory and environment):
    importing GitPython cost every command that reads git ~0.085 s of CPU and two `git version`
    processes of its own, for a call this one makes.
    """
    try:
        process = subprocess.Popen(
            ["git", *STABLE, *args],
            cwd=cwd,
            env={**os.environ, **_LOCALE, **_ENVIRONMENT},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except OSError as exc:
        if cwd is not None and exc.filename is not None and os.fspath(exc.filename) == os.fspath(cwd):
            # Never another directory instead (GitPython ran git in this process's directory):
            # git there could read another repository.
            raise EnvironmentProblem(f"{cwd}: git cannot be run in this directory ({exc.strerror})") from None
        reason = exc.strerror or "not found"
        raise EnvironmentProblem(
            f"git cannot be run ({reason}): install git {dotted(MIN_GIT)} or newer and put it on PATH"
        ) from None
    _read_in_big_blocks(process)
    if _COUNTS:
        name = _subcommand(args)
        for started in _COUNTS:
            started.append(name)  # list.append is atomic: diffs() starts git from two threads
    return process


# How much of git's output waits in the pipe, and how much Python takes from it at a time. Each
# read of a pipe lets go of the interpreter's lock and takes it back, and a thread taking it back
# while another one computes may wait for that one's switch interval (5 ms). In a cold `status`
# at 100,000 articles the thread that reads ~170,000 texts from `cat-file --batch` for their
# authors read them 8 KB at a time (a read or two a text, from a 64 KB pipe): 6.2 s of its CPU,
# against 5.0 and 5.8 s so (a run or two each, on a loaded machine; README, Scale).
PIPE_BYTES = 1 << 20  # Linux's default limit for a pipe's size (/proc/sys/fs/pipe-max-size)
READ_BYTES = 1 << 18


def widen_pipe(descriptor: int) -> None:
    """Let the pipe at DESCRIPTOR hold PIPE_BYTES, where the system lets it."""
    with contextlib.suppress(OSError, AttributeError):  # a lower limit, or not Linux: as it is
        fcntl.fcntl(descriptor, fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def _read_in_big_blocks(process: subprocess.Popen[bytes]) -> None:
    """Widen PROCESS's output pipe (where the system lets it) and read it through a bigger buffer."""
    if process.stdout is None:
        return
    widen_pipe(process.stdout.fileno())
    if isinstance(process.stdout, io.BufferedReader):  # as Popen makes it, with 8 KB
        process.stdout = io.BufferedReader(process.stdout.detach(), READ_BYTES)


def drain(process: subprocess.Popen[bytes], into: list[bytes]) -> None:
    """Read a process's stderr on another thread, so that a chatty git never blocks."""
    assert process.stderr is not None
    into.append(process.stderr.read())


def feed(process: subprocess.Popen[bytes], data: bytes) -> None:
    """Write a batch request on another thread, so that reading the answers never blocks it."""
    assert process.stdin is not None
    try:
        process.stdin.write(data)
        process.stdin.close()
    except BrokenPipeError:
        pass


# git's own text for a lock it finds: several lines of advice that a one-line message would cut.
_LOCK_EXISTS = re.compile(r"Unable to create '(?P<lock>[^']+\.lock)': File exists")


def stderr_text(result: subprocess.CompletedProcess[bytes]) -> str:
    text = result.stderr.decode("utf-8", "replace").strip()
    lock = _LOCK_EXISTS.search(text)
    if lock:
        return (
            f"Unable to create '{lock['lock']}': File exists: another git process is running here, or one"
            " was killed; if none is running, remove that file and try again"
        )
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " ".join(line.removeprefix("fatal: ").removeprefix("error: ") for line in lines[:3])


def dotted(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)


def author_identity(root: Path) -> tuple[str, str] | None:
    """Git's author identity (name, email) as git itself resolves it, or None if unset."""
    try:
        result = run(root, "var", "GIT_AUTHOR_IDENT", check=False)
    except EnvironmentProblem:
        return None
    ident = result.stdout.decode("utf-8", "replace").strip()
    if result.returncode != 0 or "<" not in ident:
        return None
    name, _, rest = ident.partition("<")
    return name.strip(), rest.partition(">")[0].strip()


def tracks(root: Path, path: str) -> bool:
    """Whether git tracks anything at or under PATH (relative to ROOT), in the index or at HEAD.

    False where ROOT is in no repository, or git cannot be run: then git tracks nothing there.
    """
    try:
        for with_tree in ("--with-tree=HEAD", None):  # no HEAD yet: the index alone
            options = [with_tree] if with_tree else []
            result = run(root, "ls-files", "-z", *options, "--", path, check=False)
            if result.returncode == 0:
                return bool(result.stdout)
    except EnvironmentProblem:
        pass
    return False


def init_layout(directory: Path) -> tuple[Path | None, str, str]:
    """For `init`: the top of the git work tree holding DIRECTORY (None outside one), DIRECTORY
    relative to it ("" or "sub/dir/"), and the default branch: origin's HEAD, else the branch
    checked out, else init.defaultBranch, else main."""
    try:
        found = run(directory, "rev-parse", "--show-toplevel", "--show-prefix", check=False)
        top, prefix = (found.stdout.decode("utf-8", "surrogateescape").split("\n") + ["", ""])[:2]
        toplevel = Path(top) if found.returncode == 0 and top else None
        asks = [("refs/remotes/origin/", "symbolic-ref", "-q", "refs/remotes/origin/HEAD"),
                ("refs/heads/", "symbolic-ref", "-q", "HEAD")] if toplevel else []  # fmt: skip
        for strip, *args in [*asks, ("", "config", "--get", "init.defaultBranch")]:
            result = run(directory, *args, check=False)
            name = result.stdout.decode("utf-8", "surrogateescape").strip()
            if result.returncode == 0 and name.startswith(strip) and name[len(strip) :]:
                return toplevel, prefix if toplevel else "", name[len(strip) :]
        return toplevel, prefix if toplevel else "", "main"
    except EnvironmentProblem:  # no usable git: a directory in no repository
        return None, "", "main"
