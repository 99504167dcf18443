"""What each commit changed in the files review state depends on, read from git once and kept.

Which text a review event was made on (the article's blob in the event's commit), which
reviewflow.toml was in force there, who changed which article, and when each text appeared all
follow from one fact per commit: its diff against each parent, restricted to the article files
and reviewflow.toml. Diffing a commit makes git read its trees; with one flat articles/ directory
of 10,000 files a tree is ~650 KB, so git spends about a millisecond per commit that changed
anything (some 15 s over a history of 70,000 commits with 17,500 edits). A commit's diff never
changes, so the index keeps the diffs in the git directory (.git/reviewflow/) and git is asked
only about commits it has not seen. Deleting those files is always safe: they are rebuilt. Each
line is sealed (FactFile), so a torn or altered one is recomputed, never believed.

`walk` then replays the diffs over the history in topological order, as a pure function.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from reviewflow.cache import code_fingerprint, record_key
from reviewflow.gitlog import LogEntry, one_line
from reviewflow.gitstore import GitStore
from reviewflow.layout import CONFIG_FILE, article_path, article_slug

# name (reviewflow.toml, or articles/<slug>.md for an article in any directory) -> its new blob,
# None when gone
Diff = dict[str, str | None]
Pair = tuple[str, str]  # (commit, parent); parent "" for a root commit, diffed against nothing
# The diff of a commit with its parent's tree (every review commit): one for all of them, read
# only (500,000 empty dicts were 30 MB at 100,000 articles).
UNCHANGED: Diff = {}


class Files:
    """The blob of each file wanted at each commit, looked up as `get((commit, name))` (None:
    no such file there, or not wanted). One tuple per commit, its names (a tuple shared by the
    commits of an article's events) then their blobs: a key (commit, name) for each file was
    a million tuples and a dict of as many entries at 100,000 articles."""

    __slots__ = ("_of",)

    def __init__(self) -> None:
        self._of: dict[str, tuple[Any, ...]] = {}  # commit -> (names, blob of each name)

    def put(self, commit: str, names: tuple[str, ...], blobs: Iterable[str | None]) -> None:
        self._of[commit] = (names, *blobs)

    def get(self, key: tuple[str, str]) -> str | None:
        held = self._of.get(key[0])
        if held is None or key[1] not in held[0]:
            return None
        blob: str | None = held[held[0].index(key[1]) + 1]
        return blob


class FactFile:
    """An append-only file of facts about immutable git objects, one line each, in .git/reviewflow/.

    A cache, never a source of truth git could not recompute: a fact may make a command faster,
    never change its verdict. Each line carries its own seal (`record_tag`, keyed with this
    user's key and the conditions the facts were made under: this repository, this git, this
    reviewflow code), so a line torn by a crash or a full disk, altered, or copied from another
    file is dropped alone and its fact recomputed. A file whose header was sealed under other
    conditions is ignored and replaced; failing to write it only costs time.
    """

    VERSION = 2  # the layout of the lines

    def __init__(self, store: GitStore, name: str, kind: str, use_cache: bool = True) -> None:
        key = record_key(f"{kind}\0{conditions(store)}") if use_cache and store.git_dir else None
        self.path = store.git_dir / "reviewflow" / name if key is not None and store.git_dir else None
        self._keyed = hashlib.blake2b(key=key, digest_size=_TAG_BYTES) if key else None  # copied per line
        self.header = f"reviewflow {kind} {self.VERSION} {self._tag(kind)}" if key else ""

    def begun_here(self) -> bool:
        """Whether the file exists and was begun under these conditions (its header's seal): a
        file kept by other code or another git holds no fact this run can count."""
        if self.path is None:
            return False
        try:
            with self.path.open("rb") as handle:
                return handle.readline() == f"{self.header}\n".encode()
        except OSError:
            return False

    def lines(self) -> list[str]:
        """Every fact whose seal checks out, in the order written (duplicates are harmless)."""
        if self.path is None:
            return []
        facts = []
        # Read line by line, never as one text and a list of its lines: the verdicts of a warm
        # `verify` at 100,000 articles are files of tens of megabytes.
        try:
            with self.path.open(encoding="utf-8", errors="replace") as handle:
                if handle.readline().removesuffix("\n") != self.header:
                    return []
                for line in handle:
                    fact, _, tag = line.removesuffix("\n").rpartition(" ")
                    if len(tag) == 2 * _TAG_BYTES and tag == self._tag(fact):
                        facts.append(fact)
        except OSError:
            return []
        return facts

    def append(self, lines: Sequence[str]) -> None:
        if self.path is None or not lines:
            return
        body = "".join(f"{line} {self._tag(line)}\n" for line in lines if "\n" not in line)
        try:
            self.path.parent.mkdir(exist_ok=True)
            fresh, torn = True, False
            try:
                with self.path.open("rb") as handle:
                    fresh = handle.readline() != f"{self.header}\n".encode()
                    if not fresh:
                        handle.seek(-1, os.SEEK_END)
                        torn = handle.read(1) != b"\n"  # a crash cut the last line short
            except FileNotFoundError:
                pass
            with self.path.open("w" if fresh else "a", encoding="utf-8", errors="surrogateescape") as handle:
                # One write: whole lines even when two processes append at the same time (and a
                # line that is not whole fails its seal).
                handle.write(f"{self.header}\n" if fresh else "\n" if torn else "")
                handle.write(body)
        except OSError:
            pass

    def _tag(self, line: str) -> str:
        """The line's seal (`cache.record_tag`, from a keyed hash made once: about 2 µs a line)."""
        assert self._keyed is not None
        digest = self._keyed.copy()
        digest.update(line.encode("utf-8", "surrogateescape"))
        return digest.hexdigest()


_TAG_BYTES = 12  # 96 bits per line: no forger guesses one, and a line stays short


def conditions(store: GitStore) -> str:
    """What a kept record depends on besides the git objects it describes: which repository
    (a file from another one is foreign), the git that read it, and reviewflow's code."""
    git_dir = os.path.realpath(store.git_dir) if store.git_dir else ""
    version = ".".join(map(str, store.version))
    return f"repository {git_dir}\0prefix {store.prefix}\0git {version}\0code {code_fingerprint()}"


class ChangeIndex:
    """Each commit's diff against each parent, for the article files and reviewflow.toml."""

    def __init__(self, store: GitStore, use_cache: bool = True) -> None:
        self.store = store
        # One file per content repo in the work tree (a content repo may be a subdirectory).
        suffix = f"-{hashlib.sha1(store.prefix.encode()).hexdigest()[:12]}" if store.prefix else ""
        self.file = FactFile(store, f"changes-v1{suffix}", "changes", use_cache)

    def keep(self, path: str) -> str | None:
        """The name a path of the work tree is recorded under, or None when review state ignores it."""
        prefix = self.store.prefix
        if not path.startswith(prefix):
            return None
        name = path[len(prefix) :]
        if name == CONFIG_FILE:
            return name
        slug = article_slug(name)
        # An article is recorded under its slug's name, whatever directory holds it: moving the
        # file to another directory changes nothing review state depends on (its text does).
        return article_path(slug) if slug is not None else None

    def diffs(self, entries: Sequence[LogEntry], look_up: bool = True) -> dict[Pair, Diff]:
        """The diff of every commit of ENTRIES against each of its parents; git diffs the new ones.

        A commit with its parent's tree (every review commit) changed nothing: no need to ask.
        Without LOOK_UP, the kept diffs are not read (for a few commits new since the last run:
        reading and checking the seals of every commit's line costs more than asking git).
        """
        known = self._load() if look_up else {}
        # A parent is most often the entry before (always, on one line of commits): its tree is
        # that entry's. A table of every commit's tree is made only for another parent: at
        # 100,000 articles, making it and looking up 600,000 parents in it missed the processor's
        # cache, while git waited to be asked (~40 MB, not held while git diffs).
        tree_of: dict[str, str] | None = None
        before: LogEntry | None = None
        kept = bool(known)  # (those added below are of commits already passed)
        missing: list[Pair] = []
        # Oldest first (ENTRIES' order, parents first): at 100,000 articles the newer half of the
        # diffs, the longer of the two `diff-tree` processes, cost git 5.6-5.8 s of CPU asked
        # newest first and 3.8 s asked oldest first, on `git fast-import`'s pack and on a
        # clone's alike (at 10,000, 0.1-0.2 s a process either way).
        for entry in entries:
            for parent in entry.parents or ("",):
                pair = (entry.commit, parent)
                if kept and pair in known:
                    continue
                if not parent:
                    parent_tree = None
                elif before is not None and parent == before.commit:
                    parent_tree = before.tree
                else:
                    if tree_of is None:
                        tree_of = {other.commit: other.tree for other in entries}
                    parent_tree = tree_of.get(parent)
                if parent_tree == entry.tree:
                    known[pair] = UNCHANGED
                else:
                    missing.append(pair)
            before = entry
        del tree_of
        if missing:
            found = self.store.diffs([(c, p or None) for c, p in missing], self.keep)
            fresh = dict(zip(missing, found, strict=True))
            self.file.append([_line(pair, diff) for pair, diff in fresh.items()])
            known.update(fresh)
        return known

    def _load(self) -> dict[Pair, Diff]:
        known: dict[Pair, Diff] = {}
        for line in self.file.lines():
            parts = line.split(" ")
            if len(parts) < 2 or len(parts[0]) not in (40, 64):
                continue
            diff: Diff = {}
            for item in parts[2:]:
                name, _, blob = item.partition("=")
                diff[name] = None if blob == "-" else blob
            known[(parts[0], "" if parts[1] == "-" else parts[1])] = diff
        return known


def _line(pair: Pair, diff: Diff) -> str:
    changes = "".join(f" {name}={blob or '-'}" for name, blob in sorted(diff.items()))
    return f"{pair[0]} {pair[1] or '-'}{changes}"


def walk(
    entries: Sequence[LogEntry],
    diffs: Mapping[Pair, Diff],
    wanted: Mapping[str, Iterable[str]],
) -> tuple[Files, dict[str, Diff]]:
    """Replay the diffs in topological order (ENTRIES, parents first).

    Returns the blob of each name WANTED at each commit (commit -> names), and for every commit
    what it changed: what differs from its only parent, or for a merge what differs from every
    parent (a conflict resolution changes a file; taking one side's version does not).

    A commit's files are its first parent's plus its diff against that parent. The files of a
    commit are kept only while a child still needs them, and copied only where history forks.
    """
    # One line of commits (no merges, nothing forked: a history of review commits on one
    # branch) carries one set of files from each commit to the next, without counting each
    # commit's children (a third of the walk at 100,000 articles, 600,000 commits).
    line = one_line(entries)
    children: dict[str, int] = {}
    for entry in entries if not line else ():
        if entry.parents:
            children[entry.parents[0]] = children.get(entry.parents[0], 0) + 1
    files_of: dict[str, dict[str, str]] = {}
    found = Files()
    changed: dict[str, Diff] = {}
    files: dict[str, str] = {}
    for entry in entries:
        commit, parents = entry.commit, entry.parents
        first = parents[0] if parents else ""
        if line:
            pass  # FILES are its parent's
        elif first:
            files = files_of.get(first, {})
            left = children[first] = children[first] - 1
            if left == 0:
                files_of.pop(first, None)
            else:
                files = dict(files)
        else:
            files = {}
        diff = diffs[(commit, first)]
        for name, blob in diff.items():
            if blob is None:
                files.pop(name, None)
            else:
                files[name] = blob
        if not line and children.get(commit):
            files_of[commit] = files
        names = wanted.get(commit)
        if names:
            names = tuple(names)  # the same tuple where it is one
            found.put(commit, names, map(files.get, names))
        if len(parents) > 1:
            diff = {name: diff[name] for name in changed_names(entry, diffs)}
        if diff:
            changed[commit] = diff
    return found, changed


def changed_names(entry: LogEntry, diffs: Mapping[Pair, Diff]) -> list[str]:
    """What a commit changed: what differs from its only parent, or for a merge from every parent
    (a conflict resolution changes a file; taking one side's version does not)."""
    parents = entry.parents or ("",)
    first = diffs[(entry.commit, parents[0])]
    others = [diffs[(entry.commit, parent)] for parent in parents[1:]]
    return [name for name in first if all(name in other for other in others)]
