"""The one module that reads repositories through git. Everything else gets plain data from here
(each git process starts in gitprocess.py; streamed output is read in gitbatch.py, and the only
commits reviewflow makes are made in gitwrite.py, signatures verified in gitsignatures.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from reviewflow import gitprocess
from reviewflow.allocator import give_back_big_blocks
from reviewflow.errors import EnvironmentProblem
from reviewflow.gitbatch import Started, batch_objects, stream
from reviewflow.gitlog import (
    ChangeLog,
    DiffEntry,
    LogEntry,
    SharedIds,
    Told,
    is_object_id,
    log_entries,
    parents_first,
    parse_change_log,
    parse_raw_diff,
    parse_tree_diffs,
    separators,
)
from reviewflow.layout import ARTICLES_DIR, article_path, article_slug

# --- the review log: every git call that review state needs ---------------------------------------
# A handful of processes whatever the size of the repository: `version` and `rev-parse` to check
# the surroundings, one `log` for every commit, one `ls-tree` for the articles at HEAD, one
# `diff-tree --stdin` for the commits whose diffs are not known yet (or `cat-file --batch-check`
# for the files in a few trees), `cat-file --batch` for the texts and configurations acted on, and
# (only when the board has signing keys) one `log --no-walk --stdin` that verifies those events.


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
        self._head_files: dict[str, tuple[str, str]] | None = None  # article_files() of HEAD
        self._head_duplicates = False
        self._head_paths: dict[str, str] | None = None
        self._logs_ahead: dict[tuple[str, bool], Future[list[LogEntry]]] = {}  # read_log_ahead's
        # start_log's: git started, and the markers its output is written with (gitlog.separators)
        self._logs_started: dict[tuple[str, bool], tuple[tuple[str, str, str], Started]] = {}

    @classmethod
    def open(cls, root: Path) -> GitStore:
        """Check git and the repository; each problem is an EnvironmentProblem saying what to do."""
        version = gitprocess.git_version()
        result = gitprocess.run(
            root, "rev-parse", "--show-toplevel", "--show-prefix", "--is-shallow-repository",
            "--git-common-dir", check=False,
        )  # fmt: skip
        if result.returncode != 0:
            detail = gitprocess.stderr_text(result)
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
        head = gitprocess.run(toplevel, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False)
        if head.returncode != 0:
            raise EnvironmentProblem(
                "the repository has no commits yet: commit reviewflow.toml and your articles "
                "first (git add reviewflow.toml schemas articles && git commit)"
            )
        return cls(root, toplevel, prefix, head.stdout.decode().strip(), version, git_dir)

    def run(self, *args: str, input: bytes | None = None, config: Sequence[str] = ()) -> bytes:
        """Run one git command in the work tree; a failure is an EnvironmentProblem."""
        return gitprocess.run(self.toplevel, *config, *args, input=input).stdout

    def article_path(self, slug: str) -> str:
        """The path of an article's file in git (from the top of the work tree), where HEAD has
        it (articles/<slug>.md when HEAD has no such article)."""
        return self.prefix + self.article_file(slug)

    def article_file(self, slug: str) -> str:
        """The path of an article's file in the content repo, where HEAD has it (else
        articles/<slug>.md)."""
        return self.article_paths().get(slug) or article_path(slug)  # the path made only where needed

    def article_paths(self) -> dict[str, str]:
        """slug -> path (in the content repo) of every article file at HEAD, from one `ls-tree`
        made once."""
        if self._head_paths is None:
            if self._head_files is None:
                self.article_files()
            assert self._head_files is not None
            self._head_paths = {slug: path for slug, (path, _) in self._head_files.items()}
        return self._head_paths

    def slug_of_path(self, path: str) -> str | None:
        """The slug of a path in git, if it is an article file of this content repo."""
        return article_slug(path[len(self.prefix) :]) if path.startswith(self.prefix) else None

    # -- reading ---------------------------------------------------------------------------------

    def read_log_ahead(self, rev: str | None = None, bodies: bool = True) -> None:
        """Start reading `log(REV, BODIES)` in a thread of its own; that call then takes its answer.

        For `ci`: git walks the whole history (about a second at 60,000 commits) on the other
        core while the change's articles are checked. A daemon thread: a run that fails before
        it asks for the log does not wait for it.
        """
        future: Future[list[LogEntry]] = Future()

        def read() -> None:
            try:
                future.set_result(self._read_log(rev, bodies))
            except BaseException as exc:  # handed to whoever asks for the log
                future.set_exception(exc)

        self._logs_ahead[(rev or self.head, bodies)] = future
        threading.Thread(target=read, daemon=True).start()

    def start_log(self, rev: str | None = None) -> None:
        """Start git's walk of `log(REV)` now, for a caller sure to read it whole next: git writes
        it on another core while this process does other work first, and `log` then parses it
        as it parses any log, from what git wrote meanwhile on. `verify --no-cache`: git walked
        nothing while the main process loaded the rules before the early checks' workers forked
        (~0.5 s at 10,000 articles, one core idle)."""
        key = (rev or self.head, True)
        if key not in self._logs_started:
            # A whole read begins here: big blocks given back from now on, the log's pieces of 1
            # MB too (allocator.py), as read_history would, or the first ones stay heap holes.
            give_back_big_blocks()
            markers = separators()
            self._logs_started[key] = (markers, Started(self.toplevel, *self._log_args(rev, True, markers)))

    def forget_started_logs(self) -> None:
        """Stop the logs start_log started that no one read (the run failed before)."""
        while self._logs_started:
            self._logs_started.popitem()[1][1].end()

    def log(self, rev: str | None = None, bodies: bool = True, told: Told | None = None) -> list[LogEntry]:
        """Every commit reachable from REV (default HEAD), parents before children, the tip last.

        Without BODIES, each entry's body is "": a third of git's output, for readers that
        want the messages of a few commits only (`with_bodies`). TOLD takes each commit's
        trailer block and body as it is read, and the entries come without them (a whole read
        keeps no message text: 500,000 of them were a fifth of its memory at 100,000 articles).
        """
        ahead = self._logs_ahead.pop((rev or self.head, bodies), None)
        if ahead is None:
            return self._read_log(rev, bodies, told)
        entries = ahead.result()
        if told is None:
            return entries
        for entry in entries:
            if entry.trailer_block:
                told(entry.commit, entry.trailer_block, entry.body, entry.date)
        return [tuple.__new__(LogEntry, (*entry[:_TRAILER_BLOCK], "", "")) for entry in entries]

    def _read_log(self, rev: str | None, bodies: bool, told: Told | None = None) -> list[LogEntry]:
        markers, started = self._logs_started.pop((rev or self.head, bodies), (separators(), None))
        start, sep, end = markers
        args = self._log_args(rev, bodies, markers)
        entries: list[LogEntry] = []
        pending = ""
        shared = SharedIds()  # each commit and tree id once (gitlog.log_entries)
        # Parsed while git is still writing: on two cores, git's walk and formatting and
        # Python's parsing overlap.
        for text in started.pieces() if started is not None else stream(self.toplevel, *args):
            records = (pending + text).split(start)
            pending = records.pop()
            entries.extend(log_entries(records, sep, end, shared, told))
        entries.extend(log_entries([pending], sep, end, shared, told))
        del shared  # the ids stay in the entries
        if ".." in (rev or ""):
            entries.reverse()  # a range (a line of new commits on a kept state): not whole
            return entries
        return parents_first(entries)

    def _log_args(self, rev: str | None, bodies: bool, markers: tuple[str, str, str]) -> tuple[str, ...]:
        start, sep, end = markers
        fields = ["%H", "%P", "%T", "%an", "%ae", "%cI", "%(trailers:only,unfold)", "%b" if bodies else ""]
        # No ordering option: git writes each commit as its walk reaches it, newest first, and
        # Python's parsing starts at once (`gitlog.parents_first` orders them after).
        return (
            *_SMALL_PACK_WINDOWS, "log", "--no-color",
            f"--format={start}{sep.join(fields)}{end}", "--end-of-options", rev or self.head, "--",
        )  # fmt: skip

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

    def article_blobs(self, rev: str | None = None) -> dict[str, str]:
        """slug -> blob id of every article file at REV (default HEAD), from one `ls-tree`."""
        return {slug: blob for slug, (_, blob) in self.article_files(rev).items()}

    def article_files(self, rev: str | None = None) -> dict[str, tuple[str, str]]:
        """slug -> (path in the content repo, blob id) of every article file at REV (default
        HEAD), in articles/ and its subdirectories, from one `ls-tree -r`. Where two files share
        a slug (an error `check` and `ci` report), the first in git's order is kept."""
        files, _ = self.article_listing(rev)
        return files

    def article_listing(
        self, rev: str | None = None
    ) -> tuple[dict[str, tuple[str, str]], dict[str, list[str]]]:
        """`article_files` of REV, and slug -> every path of each slug that more than one file has."""
        if rev is None and self._head_files is not None and not self._head_duplicates:
            return self._head_files, {}
        out = self.run(
            "ls-tree", "-r", "-z", "--full-tree", rev or self.head, "--", f"{self.prefix}{ARTICLES_DIR}/"
        )
        files: dict[str, tuple[str, str]] = {}
        duplicates: dict[str, list[str]] = {}
        for entry in out.decode("utf-8", "surrogateescape").split("\0"):
            meta, _, path = entry.partition("\t")
            parts = meta.split()
            if len(parts) != 3 or parts[1] != "blob" or parts[0] not in ("100644", "100755"):
                continue  # a symlink or a submodule is not an article (and -r never enters a symlink)
            slug = self.slug_of_path(path)
            if slug is None:
                continue
            name = path[len(self.prefix) :]
            if slug in files:
                duplicates.setdefault(slug, [files[slug][0]]).append(name)
                continue
            files[slug] = (name, parts[2])
        if rev is None or rev == self.head:
            self._head_files, self._head_duplicates = files, bool(duplicates)
        return files, duplicates

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

        Streamed, so that reading the front-matter of 20,000 texts never holds them all. An id
        that names no blob (a tree, say) is left out.
        """
        wanted = list(dict.fromkeys(b for b in blobs if is_object_id(b)))
        for blob, kind, content in batch_objects(self.toplevel, wanted):
            if kind == b"blob" and content is not None:
                yield blob, content

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
        result = gitprocess.run(self.toplevel, "rev-list", "--end-of-options", rev_range, "--", check=False)
        if result.returncode != 0:
            raise EnvironmentProblem(
                f"unknown revision range {rev_range!r}: {gitprocess.stderr_text(result)}"
            )
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
        result = gitprocess.run(self.toplevel, "var", "GIT_AUTHOR_IDENT", check=False)
        ident = result.stdout.decode("utf-8", "replace").strip()
        if result.returncode != 0 or "<" not in ident:
            raise EnvironmentProblem(
                "git does not know who you are, and every review action carries your name: "
                'run `git config user.name "Your Name"` and `git config user.email you@example.org`'
            )
        name, _, rest = ident.partition("<")
        return name.strip(), rest.partition(">")[0].strip()


# The whole log reads every commit of the pack: git maps the pack in windows of up to 1 GB and
# keeps them mapped (876 MB of git's memory at 100,000 articles, half of it the pack). Windows
# of 16 MB, at most 64 MB of them mapped at once, hold 419 MB there, at no cost in time.
_SMALL_PACK_WINDOWS = ("-c", "core.packedGitWindowSize=16m", "-c", "core.packedGitLimit=64m")


_TRAILER_BLOCK = LogEntry._fields.index("trailer_block")  # then the body, the last


_DIFF_PROCESSES = 2  # the machines this runs on have two cores or more
_PARALLEL_DIFFS = 2000  # below this many commits, a second process costs more than it saves


# --- reviewflow ci: the merge-base, the changed paths, their contents (used by ci/gate.py) --------
# One git process each, whatever the size of the repository: `ci` costs what the change costs.
# They run in the content repo's directory, so paths are relative to it (as `--relative` and
# `<rev>:./<path>` make them) even when it is a subdirectory of the git work tree.


def resolve_commit(store: GitStore, ref: str) -> str | None:
    """The commit id REF names, or None if it names none. REF is never read as an option."""
    if not ref or ref.startswith("-"):
        return None
    spec = f"{ref}^{{commit}}"
    result = gitprocess.run(store.toplevel, "rev-parse", "--verify", "--quiet", spec, check=False)
    commit = result.stdout.decode().strip()
    return commit if result.returncode == 0 and is_object_id(commit) else None


def merge_base(store: GitStore, first: str, second: str) -> str | None:
    """The best common ancestor of two commits, or None if their histories are unrelated."""
    result = gitprocess.run(store.toplevel, "merge-base", first, second, check=False)
    commit = result.stdout.decode().strip()
    return commit if result.returncode == 0 and is_object_id(commit) else None


def changed_paths(store: GitStore, old: str, new: str, pathspecs: Sequence[str]) -> list[DiffEntry]:
    """Every path under PATHSPECS that differs between two commits, renames found, in one call."""
    out = gitprocess.run(
        store.root,
        "diff", "--raw", "-z", "--no-abbrev", "--find-renames", "--relative", "--no-ext-diff",
        old, new, "--", *pathspecs,
    ).stdout  # fmt: skip
    return parse_raw_diff(out)


def read_objects(store: GitStore, names: Sequence[str]) -> dict[str, bytes | None]:
    """The contents of objects (`<blob id>` or `<rev>:./<path>`) from one `cat-file --batch`.

    A name that names nothing maps to None.
    """
    return {name: content for name, _, content in batch_objects(store.root, names)}


def change_log(store: GitStore, base: str, head: str) -> ChangeLog:
    """The commits of BASE..HEAD, the articles their review trailers name, and whether BASE is on
    HEAD's first-parent line, from one `git log` (most changes carry no review event: then `ci`
    need not replay the review history at all)."""
    start, sep, _ = separators()
    out = gitprocess.run(
        store.toplevel, "log", f"--format={start}%H %P{sep}%(trailers:only,unfold)", f"{base}..{head}", "--"
    ).stdout
    return parse_change_log(out.decode("utf-8", "replace"), start, sep, base, head)
