"""The one module that talks to git. Everything else gets plain data from here."""

from __future__ import annotations

import codecs
import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from reviewflow.config import ARTICLES_DIR, article_path, article_slug
from reviewflow.errors import EnvironmentProblem
from reviewflow.gitlog import (
    ChangeLog,
    DiffEntry,
    LogEntry,
    check_whole,
    is_object_id,
    log_entry,
    parse_batch,
    parse_change_log,
    parse_raw_diff,
    parse_tree_diffs,
    separators,
)


def author_identity(root: Path) -> tuple[str, str] | None:
    """Git's author identity (name, email) as git itself resolves it, or None if unset."""
    try:
        result = _run(root, "var", "GIT_AUTHOR_IDENT", check=False)
    except EnvironmentProblem:
        return None
    ident = result.stdout.decode("utf-8", "replace").strip()
    if result.returncode != 0 or "<" not in ident:
        return None
    name, _, rest = ident.partition("<")
    return name.strip(), rest.partition(">")[0].strip()


# --- the review log: every git call that review state needs ---------------------------------------
# A handful of processes whatever the size of the repository: `version` and `rev-parse` to check
# the surroundings, one `log` for every commit, one `ls-tree` for the articles at HEAD, one
# `diff-tree --stdin` for the commits whose diffs are not known yet (or `cat-file --batch-check`
# for the files in a few trees), `cat-file --batch` for the texts and configurations acted on, and
# (only when the board has signing keys) one `log --no-walk --stdin` that verifies those events.

MIN_GIT = (2, 25)  # %(trailers:only,unfold), --is-shallow-repository, --end-of-options
MIN_GIT_SSH = (2, 34)  # SSH signatures: gpg.format ssh, gpg.ssh.allowedSignersFile
# Settings a user's configuration must not change under us: colours, quoting, signatures shown
# in the log, root commits hidden, messages in another encoding. Given to every git process.
_STABLE = (
    "-c", "color.ui=false",
    "-c", "core.quotePath=true",
    "-c", "log.showSignature=false",
    "-c", "log.showRoot=true",
    "-c", "i18n.logOutputEncoding=UTF-8",
)  # fmt: skip


class GitStore:
    """A content repo's git repository, checked to be usable for review state."""

    def __init__(
        self,
        root: Path,
        toplevel: Path,
        prefix: str,
        head: str,
        version: tuple[int, ...],
        git_dir: Path | None = None,
    ) -> None:
        self.root = root  # the content repo (where reviewflow.toml is)
        self.toplevel = toplevel  # the git work tree, where every command runs
        self.prefix = prefix  # root relative to toplevel: "" or "sub/dir/"
        self.head = head
        self.version = version
        self.git_dir = git_dir  # where reviewflow keeps its facts about commits (changes.py)

    @classmethod
    def open(cls, root: Path) -> GitStore:
        """Check git and the repository; each problem is an EnvironmentProblem saying what to do."""
        version = git_version()
        result = _run(
            root, "rev-parse", "--show-toplevel", "--show-prefix", "--is-shallow-repository",
            "--git-common-dir", check=False,
        )  # fmt: skip
        if result.returncode != 0:
            detail = _stderr(result)
            if "not a git repository" in detail:
                raise EnvironmentProblem(
                    f"{root} is not in a git repository, and review state lives in git: run "
                    "`git init` and commit reviewflow.toml and articles/, or work in a clone "
                    "of the content repo"
                )
            raise EnvironmentProblem(f"git cannot read the repository at {root}: {detail}")
        lines = result.stdout.decode("utf-8", "surrogateescape").split("\n")
        if len(lines) < 4 or not lines[0]:
            raise EnvironmentProblem(
                f"{root} is not inside a git work tree (a bare repository has no articles)"
            )
        toplevel, prefix, shallow = Path(lines[0]), lines[1], lines[2].strip()
        git_dir = root / lines[3]  # relative to ROOT, where rev-parse ran, unless absolute
        if shallow == "true":
            raise EnvironmentProblem(
                "this clone is shallow: the review history is incomplete, so the state of the "
                "articles could be wrong. Fetch the whole history with `git fetch --unshallow` "
                "(in CI: `fetch-depth: 0` for actions/checkout, `GIT_DEPTH: 0` in GitLab CI)"
            )
        head = _run(toplevel, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False)
        if head.returncode != 0:
            raise EnvironmentProblem(
                "the repository has no commits yet: commit reviewflow.toml and your articles "
                "first (git add reviewflow.toml schemas articles && git commit)"
            )
        return cls(root, toplevel, prefix, head.stdout.decode().strip(), version, git_dir)

    def run(self, *args: str, input: bytes | None = None, config: Sequence[str] = ()) -> bytes:
        """Run one git command in the work tree; a failure is an EnvironmentProblem."""
        return _run(self.toplevel, *config, *args, input=input).stdout

    def article_path(self, slug: str) -> str:
        """The path of an article's file in git (from the top of the work tree)."""
        return self.prefix + article_path(slug)

    def slug_of_path(self, path: str) -> str | None:
        """The slug of a path in git, if it is an article file of this content repo."""
        return article_slug(path[len(self.prefix) :]) if path.startswith(self.prefix) else None

    # -- reading ---------------------------------------------------------------------------------

    def log(self, rev: str | None = None, bodies: bool = True) -> list[LogEntry]:
        """Every commit reachable from REV (default HEAD), parents before children.

        Without BODIES, each entry's body is "": a third of git's output, for readers that
        want the messages of a few commits only (`with_bodies`).
        """
        start, sep, end = separators()
        fields = ["%H", "%P", "%T", "%an", "%ae", "%cI", "%(trailers:only,unfold)", "%b" if bodies else ""]
        args = (
            "log", "--topo-order", "--reverse", "--no-color",
            f"--format={start}{sep.join(fields)}{end}", "--end-of-options", rev or self.head, "--",
        )  # fmt: skip
        entries: list[LogEntry] = []
        pending = ""
        # Parsed while git is still writing: on two cores, git's formatting and Python's parsing
        # overlap (about a second each on 70,000 commits).
        for text in self._stream(*args):
            records = (pending + text).split(start)
            pending = records.pop()
            entries.extend(log_entry(record, sep, end) for record in records if record)
        if pending:
            entries.append(log_entry(pending, sep, end))
        if ".." not in (rev or ""):
            check_whole(entries)
        return entries

    def with_bodies(self, entries: Sequence[LogEntry]) -> list[LogEntry]:
        """ENTRIES with their message bodies, from one `log --no-walk --stdin`."""
        if not entries:
            return []
        start, sep, end = separators()
        out = self.run(
            "log", "--no-walk=unsorted", "--stdin", "--no-color", f"--format={start}%H{sep}%b{end}",
            input="".join(f"{entry.commit}\n" for entry in entries).encode(),
        ).decode("utf-8", "replace")  # fmt: skip
        bodies = dict(record.partition(end)[0].split(sep, 1) for record in out.split(start)[1:])
        return [entry._replace(body=bodies.get(entry.commit, "")) for entry in entries]

    def _stream(self, *args: str) -> Iterator[str]:
        """The output of one git command, decoded, in pieces as git writes it."""
        process = _start(self.toplevel, *args)
        assert process.stdin is not None and process.stdout is not None
        process.stdin.close()
        errors: list[bytes] = []
        reader = threading.Thread(target=_drain, args=(process, errors), daemon=True)
        reader.start()
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        try:
            while chunk := os.read(process.stdout.fileno(), 1 << 20):
                yield decoder.decode(chunk)
            yield decoder.decode(b"", final=True)
        finally:
            process.stdout.close()
            reader.join()
            if process.wait() != 0:
                _fail(args, subprocess.CompletedProcess(args, process.returncode, b"", b"".join(errors)))

    def signatures(
        self, commits: Sequence[str], signers: Iterable[tuple[str, str]]
    ) -> dict[str, tuple[str, str]]:
        """commit -> (git's verdict %G?, the key's fingerprint %GK), verified against SIGNERS.

        SIGNERS are (email, SSH public key) pairs, several keys per email where a member's key
        changed over time; git checks each signature with ssh-keygen against an allowed-signers
        file made from them, so only these commits pay for it.
        """
        if not commits:
            return {}
        if self.version < MIN_GIT_SSH:
            raise EnvironmentProblem(
                f"the board has signing keys, and verifying SSH signatures needs git "
                f"{_dotted(MIN_GIT_SSH)} or newer (this is git {_dotted(self.version)}): upgrade git"
            )
        with _allowed_signers(signers) as allowed:
            out = self.run(
                "log", "--no-walk=unsorted", "--stdin", "--format=%H%x1f%G?%x1f%GK",
                input="".join(f"{c}\n" for c in commits if is_object_id(c)).encode(),
                config=("-c", f"gpg.ssh.allowedSignersFile={allowed}"),
            )  # fmt: skip
        verdicts = {}
        for line in out.decode("utf-8", "replace").splitlines():
            parts = line.split("\x1f")
            if len(parts) == 3:
                verdicts[parts[0]] = (parts[1] or "N", parts[2])
        return verdicts

    def article_blobs(self, rev: str | None = None) -> dict[str, str]:
        """slug -> blob id of every article file at REV (default HEAD), from one `ls-tree`."""
        out = self.run(
            "ls-tree", "-z", "--full-tree", rev or self.head, "--", f"{self.prefix}{ARTICLES_DIR}/"
        )
        blobs: dict[str, str] = {}
        for entry in out.decode("utf-8", "surrogateescape").split("\0"):
            meta, _, path = entry.partition("\t")
            parts = meta.split()
            if len(parts) != 3 or parts[1] != "blob" or parts[0] not in ("100644", "100755"):
                continue  # a symlink or a directory is not an article
            slug = self.slug_of_path(path)
            if slug is not None:
                blobs[slug] = parts[2]
        return blobs

    def blob_ids(self, names: Sequence[str]) -> list[str | None]:
        """The blob id each `<tree-ish>:<path>` names (None where there is none), in one process.

        Finding a file in a tree makes git read that tree: cheap for a few names (an action, one
        article's history), about half a millisecond each in a directory of 10,000 articles. The
        whole history goes through `changes.ChangeIndex` instead.
        """
        if not names:
            return []
        request = "".join(f"{name}\n" for name in names).encode("utf-8", "surrogateescape")
        out = self.run("cat-file", "--batch-check=%(objectname) %(objecttype)", input=request)
        found: list[str | None] = []
        for line in out.decode("utf-8", "replace").split("\n")[: len(names)]:
            oid, _, kind = line.partition(" ")
            found.append(oid if kind == "blob" and is_object_id(oid) else None)
        return found + [None] * (len(names) - len(found))

    def diffs(
        self, pairs: Sequence[tuple[str, str | None]], keep: Callable[[str], str | None]
    ) -> list[dict[str, str | None]]:
        """For each (commit, parent) the kept paths that differ, path -> new blob (None: gone).

        PARENT None diffs a root commit against the empty tree. KEEP maps a path (from the top
        of the work tree) to the name to record it under, or None to leave it out. A path whose
        new entry is not a regular file (a symlink, a submodule) counts as gone. One
        `diff-tree --stdin` process, two side by side for thousands of commits: each diff reads
        two trees, which costs about a millisecond in a directory of 10,000 articles.
        """
        if not pairs:
            return []
        parts = _DIFF_PROCESSES if len(pairs) >= _PARALLEL_DIFFS else 1
        size = -(-len(pairs) // parts)
        chunks = [pairs[i : i + size] for i in range(0, len(pairs), size)]
        with ThreadPoolExecutor(len(chunks)) as pool:
            done = list(pool.map(lambda chunk: self._diff_chunk(chunk, keep), chunks))
        return [diff for chunk in done for diff in chunk]

    def _diff_chunk(
        self, pairs: Sequence[tuple[str, str | None]], keep: Callable[[str], str | None]
    ) -> list[dict[str, str | None]]:
        request = "".join(f"{commit} {parent}\n" if parent else f"{commit}\n" for commit, parent in pairs)
        out = self.run(
            "diff-tree", "--stdin", "-r", "--root", "--always", "--no-renames", "--no-abbrev", "-z",
            "--no-ext-diff", "--ignore-submodules=none", input=request.encode(),
        )  # fmt: skip
        diffs = parse_tree_diffs(out, keep)
        if len(diffs) != len(pairs):
            raise EnvironmentProblem(
                f"git diff-tree answered {len(diffs)} of {len(pairs)} commits; is the repository complete?"
            )
        return diffs

    def read_blobs(self, blobs: Iterable[str]) -> dict[str, bytes]:
        """The contents of blobs, by id, from one `cat-file --batch`; unknown ids are left out."""
        return dict(self.iter_blobs(blobs))

    def iter_blobs(self, blobs: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        """(blob id, content) for each blob, streamed from one `cat-file --batch`.

        Streamed, so that reading the front-matter of 20,000 texts never holds them all.
        """
        wanted = list(dict.fromkeys(b for b in blobs if is_object_id(b)))
        if not wanted:
            return
        process = _start(self.toplevel, "cat-file", "--batch")
        request = "".join(f"{b}\n" for b in wanted).encode()
        writer = threading.Thread(target=_feed, args=(process, request), daemon=True)
        writer.start()
        assert process.stdout is not None and process.stderr is not None
        complete = False
        try:
            for blob in wanted:
                header = process.stdout.readline().split()
                if len(header) == 3 and header[1] == b"blob" and header[2].isdigit():
                    content = process.stdout.read(int(header[2]) + 1)[:-1]  # and its newline
                    yield blob, content
                elif not header:
                    break
            complete = True
        finally:
            if not complete:
                process.kill()  # the reader stopped early: nobody wants the rest
            writer.join()
            process.stdout.read()
            stderr = process.stderr.read()
            if process.wait() != 0 and complete:
                detail = stderr.decode("utf-8", "replace").strip() or f"exit status {process.returncode}"
                raise EnvironmentProblem(f"git cat-file failed: {detail}")

    def last_change(self, path: str, since: str | None = None) -> tuple[str, str] | None:
        """(commit, author email) of the latest commit that changed PATH (after SINCE)."""
        revs = [f"{since}..{self.head}"] if since else [self.head]
        out = self.run("log", "-1", "--format=%H %ae", "--end-of-options", *revs, "--", path)
        commit, _, email = out.decode("utf-8", "replace").strip().partition(" ")
        return (commit, email) if commit else None

    def commits_in(self, rev_range: str) -> set[str]:
        """The commits a range like `main..HEAD` names, from one `rev-list`."""
        if not rev_range or rev_range.startswith("-"):
            raise EnvironmentProblem(
                f"{rev_range!r} is not a revision range (expected something like main..HEAD)"
            )
        result = _run(self.toplevel, "rev-list", "--end-of-options", rev_range, "--", check=False)
        if result.returncode != 0:
            raise EnvironmentProblem(f"unknown revision range {rev_range!r}: {_stderr(result)}")
        return set(result.stdout.decode().split())

    def is_unchanged(self, path: str) -> bool:
        """True when the file at PATH is the same in the work tree, the index and HEAD."""
        out = self.run(
            "status", "--porcelain=v1", "-z", "--untracked-files=all", "--ignored=no",
            "--", f":(literal){path}",
        )  # fmt: skip
        return not out.strip(b"\0")

    def author(self) -> tuple[str, str]:
        """Git's author identity (name, email), as git resolves it for the next commit."""
        result = _run(self.toplevel, "var", "GIT_AUTHOR_IDENT", check=False)
        ident = result.stdout.decode("utf-8", "replace").strip()
        if result.returncode != 0 or "<" not in ident:
            raise EnvironmentProblem(
                "git does not know who you are, and every review action carries your name: "
                'run `git config user.name "Your Name"` and `git config user.email you@example.org`'
            )
        name, _, rest = ident.partition("<")
        return name.strip(), rest.partition(">")[0].strip()

    def config_true(self, key: str) -> bool:
        result = _run(self.toplevel, "config", "--type=bool", "--get", key, check=False)
        return result.stdout.decode().strip() == "true"

    def current_branch(self) -> str | None:
        """The branch HEAD is on (`refs/heads/…`), or None when HEAD is detached (or on no branch)."""
        result = _run(self.toplevel, "symbolic-ref", "-q", "HEAD", check=False)
        ref = result.stdout.decode("utf-8", "replace").strip()
        return ref if result.returncode == 0 and ref.startswith("refs/heads/") else None

    # -- writing ---------------------------------------------------------------------------------

    def commit_event(self, message: str, sign: bool) -> str:
        """Record MESSAGE as an empty commit on the current branch, through `git commit`.

        `--only` with no paths commits nothing that is staged: a reviewer's unrelated work in
        progress stays in the index. Git's own signing applies (commit.gpgsign, gpg.format,
        user.signingkey), and `-S` when SIGN. Hooks are skipped so that the message (and its
        trailers) is exactly what reviewflow wrote.
        """
        args = ["commit", "--allow-empty", "--only", "--no-verify", "--cleanup=verbatim", "-q"]
        self.run(*args, *(["-S"] if sign else []), "-F", "-", input=message.encode("utf-8"))
        return self.run("rev-parse", "--verify", "HEAD^{commit}").decode().strip()

    def undo_commit(self, commit: str, previous: str) -> bool:
        """Move the branch back from COMMIT to PREVIOUS, only if nothing else moved it since."""
        result = _run(
            self.toplevel, "update-ref", "-m", "reviewflow: undo an action that would not count",
            "HEAD", previous, commit, check=False,
        )  # fmt: skip
        return result.returncode == 0


def git_version() -> tuple[int, ...]:
    """The installed git's version; an EnvironmentProblem when git is missing or too old."""
    result = _run(None, "version", check=False)
    match = re.search(rb"(\d+)\.(\d+)(?:\.(\d+))?", result.stdout)
    if result.returncode != 0 or match is None:
        raise EnvironmentProblem(f"`git version` failed ({_stderr(result)}); is git installed?")
    version = tuple(int(part) for part in match.groups(b"0"))
    if version < MIN_GIT:
        raise EnvironmentProblem(
            f"git {_dotted(version)} is too old: reviewflow needs git {_dotted(MIN_GIT)} or "
            f"newer ({_dotted(MIN_GIT_SSH)} or newer for signed reviews)"
        )
    return version


def _run(
    cwd: Path | None, *args: str, input: bytes | None = None, check: bool = True
) -> subprocess.CompletedProcess[bytes]:
    process = _start(cwd, *args)
    stdout, stderr = process.communicate(input)
    result = subprocess.CompletedProcess(["git", *args], process.returncode, stdout, stderr)
    if check and result.returncode != 0:
        _fail(args, result)
    return result


def _fail(args: Sequence[str], result: subprocess.CompletedProcess[bytes]) -> NoReturn:
    command = next((a for a in args if not a.startswith("-") and "=" not in a), "git")
    detail = _stderr(result) or f"exit status {result.returncode}"
    raise EnvironmentProblem(f"git {command} failed: {detail}")


# Git's own objects, always: every git process reviewflow starts is told to ignore
# `refs/replace/*` (which a mirror clone fetches, and which would swap any commit, tree or blob
# for another) and `.git/info/grafts` (which rewrites a commit's parents, and which git honours
# even with --no-replace-objects). GIT_GRAFT_FILE names a path below a regular file, which can
# never exist: git then reads no grafts, and gives no deprecation hint as it would for an empty
# file. What is judged is what everyone who fetches the commits sees.
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
    starts in _start, so counting there counts them all (the tests' guards use this).
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


def _start(cwd: Path | None, *args: str) -> subprocess.Popen[bytes]:
    """One git process with its three pipes, started through GitPython's command interface.

    The one place reviewflow starts git: every process gets the _STABLE settings and the
    _ENVIRONMENT, and is counted for count_git_processes. `git` is imported here, not at the top:
    importing it costs about 0.1 s, which commands that never run git (`check`) should not pay.
    (Importing it runs `git version` twice, GitPython's own check of git, outside this function:
    those two processes read no repository.)
    """
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")  # a missing git is our message, not an ImportError
    from git.cmd import Git
    from git.exc import GitCommandNotFound

    try:
        handle = Git(cwd).execute(
            ["git", *_STABLE, *args], istream=subprocess.PIPE, as_process=True, env=_ENVIRONMENT
        )
    except GitCommandNotFound as exc:
        reason = getattr(exc.__cause__, "strerror", None) or "not found"
        raise EnvironmentProblem(
            f"git cannot be run ({reason}): install git {_dotted(MIN_GIT)} or newer and put it on PATH"
        ) from None
    process = handle.proc
    assert process is not None
    handle.proc = None  # the caller owns the process now: GitPython must not kill it when collected
    if _COUNTS:
        name = _subcommand(args)
        for started in _COUNTS:
            started.append(name)  # list.append is atomic: diffs() starts git from two threads
    return process


def _drain(process: subprocess.Popen[bytes], into: list[bytes]) -> None:
    """Read a process's stderr on another thread, so that a chatty git never blocks."""
    assert process.stderr is not None
    into.append(process.stderr.read())


def _feed(process: subprocess.Popen[bytes], data: bytes) -> None:
    """Write a batch request on another thread, so that reading the answers never blocks it."""
    assert process.stdin is not None
    try:
        process.stdin.write(data)
        process.stdin.close()
    except BrokenPipeError:
        pass


def _stderr(result: subprocess.CompletedProcess[bytes]) -> str:
    lines = result.stderr.decode("utf-8", "replace").strip().splitlines()
    return " ".join(line.removeprefix("fatal: ").removeprefix("error: ").strip() for line in lines[:3])


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)


_DIFF_PROCESSES = 2  # the machines this runs on have two cores or more
_PARALLEL_DIFFS = 2000  # below this many commits, a second process costs more than it saves


@contextmanager
def _allowed_signers(signers: Iterable[tuple[str, str]]) -> Iterator[str]:
    """A temporary gpg.ssh.allowedSignersFile: each board member's email and signing key."""
    lines = sorted({f'{email} namespaces="git" {" ".join(key.split()[:2])}\n' for email, key in signers})
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", prefix="reviewflow-signers-", delete=False) as f:
        f.writelines(lines)
    try:
        yield f.name
    finally:
        os.unlink(f.name)


# --- reviewflow ci: the merge-base, the changed paths, their contents (used by ci/gate.py) --------
# One git process each, whatever the size of the repository: `ci` costs what the change costs.
# They run in the content repo's directory, so paths are relative to it (as `--relative` and
# `<rev>:./<path>` make them) even when it is a subdirectory of the git work tree.


def resolve_commit(store: GitStore, ref: str) -> str | None:
    """The commit id REF names, or None if it names none. REF is never read as an option."""
    if not ref or ref.startswith("-"):
        return None
    spec = f"{ref}^{{commit}}"
    result = _run(store.toplevel, "rev-parse", "--verify", "--quiet", spec, check=False)
    commit = result.stdout.decode().strip()
    return commit if result.returncode == 0 and is_object_id(commit) else None


def merge_base(store: GitStore, first: str, second: str) -> str | None:
    """The best common ancestor of two commits, or None if their histories are unrelated."""
    result = _run(store.toplevel, "merge-base", first, second, check=False)
    commit = result.stdout.decode().strip()
    return commit if result.returncode == 0 and is_object_id(commit) else None


def changed_paths(store: GitStore, old: str, new: str, pathspecs: Sequence[str]) -> list[DiffEntry]:
    """Every path under PATHSPECS that differs between two commits, renames found, in one call."""
    out = _run(
        store.root,
        "diff", "--raw", "-z", "--no-abbrev", "--find-renames", "--relative", "--no-ext-diff",
        old, new, "--", *pathspecs,
    ).stdout  # fmt: skip
    return parse_raw_diff(out)


def read_objects(store: GitStore, names: Sequence[str]) -> dict[str, bytes | None]:
    """The contents of objects (`<blob id>` or `<rev>:./<path>`) from one `cat-file --batch`.

    A name that names nothing maps to None.
    """
    if not names:
        return {}
    request = "".join(f"{name}\n" for name in names).encode("utf-8", "surrogateescape")
    out = _run(store.root, "cat-file", "--batch", input=request).stdout
    return parse_batch(out, names)


def change_log(store: GitStore, base: str, head: str) -> ChangeLog:
    """The commits of BASE..HEAD, the articles their review trailers name, and whether BASE is on
    HEAD's first-parent line, from one `git log` (most changes carry no review event: then `ci`
    need not replay the review history at all)."""
    start, sep, _ = separators()
    out = _run(
        store.toplevel, "log", f"--format={start}%H %P{sep}%(trailers:only,unfold)", f"{base}..{head}", "--"
    ).stdout
    return parse_change_log(out.decode("utf-8", "replace"), start, sep, base, head)


def tracks(root: Path, path: str) -> bool:
    """Whether git tracks anything at or under PATH (relative to ROOT), in the index or at HEAD.

    False where ROOT is in no repository, or git cannot be run: then git tracks nothing there.
    """
    try:
        for with_tree in ("--with-tree=HEAD", None):  # no HEAD yet: the index alone
            options = [with_tree] if with_tree else []
            result = _run(root, "ls-files", "-z", *options, "--", path, check=False)
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
        found = _run(directory, "rev-parse", "--show-toplevel", "--show-prefix", check=False)
        top, prefix = (found.stdout.decode("utf-8", "surrogateescape").split("\n") + ["", ""])[:2]
        toplevel = Path(top) if found.returncode == 0 and top else None
        asks = [("refs/remotes/origin/", "symbolic-ref", "-q", "refs/remotes/origin/HEAD"),
                ("refs/heads/", "symbolic-ref", "-q", "HEAD")] if toplevel else []  # fmt: skip
        for strip, *args in [*asks, ("", "config", "--get", "init.defaultBranch")]:
            result = _run(directory, *args, check=False)
            name = result.stdout.decode("utf-8", "surrogateescape").strip()
            if result.returncode == 0 and name.startswith(strip) and name[len(strip) :]:
                return toplevel, prefix if toplevel else "", name[len(strip) :]
        return toplevel, prefix if toplevel else "", "main"
    except EnvironmentProblem:  # no usable git: a directory in no repository
        return None, "", "main"
