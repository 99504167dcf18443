"""What each commit changed in the files review state depends on, read from git once and kept.

Which text a review event was made on (the article's blob in the event's commit), which
reviewflow.toml was in force there, who changed which article, and when each text appeared all
follow from one fact per commit: its diff against each parent, restricted to the article files
and reviewflow.toml. Diffing a commit makes git read its trees; with one flat articles/ directory
of 10,000 files a tree is ~650 KB, so git spends about a millisecond per commit that changed
anything (some 15 s over a history of 70,000 commits with 17,500 edits). A commit's diff never
changes, so the index keeps the diffs in the git directory (.git/reviewflow/) and git is asked
only about commits it has not seen. Deleting those files is always safe: they are rebuilt.

`walk` then replays the diffs over the history in topological order, as a pure function.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from reviewflow import __version__
from reviewflow.config import ARTICLES_DIR, CONFIG_FILE, SLUG_PATTERN
from reviewflow.gitstore import GitStore, LogEntry

Diff = dict[str, str | None]  # name (a path in the content repo) -> its new blob, None when gone
Pair = tuple[str, str]  # (commit, parent); parent "" for a root commit, diffed against nothing


class FactFile:
    """An append-only file of facts about immutable git objects, one line each, in .git/reviewflow/.

    A cache, never a source of truth git could not recompute: a file with another header (an
    older layout, another reviewflow) is ignored and replaced, unreadable lines are skipped, and
    failing to write it only costs time. Each fact is keyed by object ids, so it stays true.
    """

    def __init__(self, directory: Path | None, name: str, header: str) -> None:
        self.path = directory / "reviewflow" / name if directory else None
        self.header = header

    def lines(self) -> list[str]:
        if self.path is None:
            return []
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        first, _, rest = text.partition("\n")
        return rest.split("\n") if first == self.header else []

    def append(self, lines: Sequence[str]) -> None:
        if self.path is None or not lines:
            return
        try:
            self.path.parent.mkdir(exist_ok=True)
            fresh = not self.path.is_file() or self._stale()
            with self.path.open("w" if fresh else "a", encoding="utf-8") as handle:
                # One write: whole lines even when two processes append at the same time.
                handle.write((f"{self.header}\n" if fresh else "") + "".join(f"{line}\n" for line in lines))
        except OSError:
            pass

    def _stale(self) -> bool:
        with open(self.path or "", encoding="utf-8", errors="replace") as handle:
            return handle.readline().rstrip("\n") != self.header


class ChangeIndex:
    """Each commit's diff against each parent, for the article files and reviewflow.toml."""

    def __init__(self, store: GitStore, use_cache: bool = True) -> None:
        self.store = store
        # One file per content repo in the work tree (a content repo may be a subdirectory).
        suffix = f"-{hashlib.sha1(store.prefix.encode()).hexdigest()[:12]}" if store.prefix else ""
        self.file = FactFile(
            store.git_dir if use_cache else None, f"changes-v1{suffix}", "reviewflow changes 1"
        )

    def keep(self, path: str) -> str | None:
        """The name a path of the work tree is recorded under, or None when review state ignores it."""
        prefix = self.store.prefix
        if not path.startswith(prefix):
            return None
        name = path[len(prefix) :]
        if name == CONFIG_FILE:
            return name
        directory, slash, file = name.rpartition("/")
        if slash and directory == ARTICLES_DIR and file.endswith(".md") and SLUG_PATTERN.match(file[:-3]):
            return name
        return None

    def diffs(self, entries: Sequence[LogEntry]) -> dict[Pair, Diff]:
        """The diff of every commit of ENTRIES against each of its parents; git diffs the new ones.

        A commit with its parent's tree (every review commit) changed nothing: no need to ask.
        """
        known = self._load()
        tree_of = {entry.commit: entry.tree for entry in entries}
        missing: list[Pair] = []
        for entry in reversed(entries):  # newest first: the order in which git's packs read fastest
            for parent in entry.parents or ("",):
                pair = (entry.commit, parent)
                if pair in known:
                    continue
                if parent and tree_of.get(parent) == entry.tree:
                    known[pair] = {}
                else:
                    missing.append(pair)
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
) -> tuple[dict[tuple[str, str], str | None], dict[str, Diff]]:
    """Replay the diffs in topological order (ENTRIES, parents first).

    Returns the blob of each name WANTED at each commit (commit -> names), and for every commit
    what it changed: what differs from its only parent, or for a merge what differs from every
    parent (a conflict resolution changes a file; taking one side's version does not).

    A commit's files are its first parent's plus its diff against that parent. The files of a
    commit are kept only while a child still needs them, and copied only where history forks.
    """
    children: dict[str, int] = {}
    for entry in entries:
        if entry.parents:
            children[entry.parents[0]] = children.get(entry.parents[0], 0) + 1
    files_of: dict[str, dict[str, str]] = {}
    found: dict[tuple[str, str], str | None] = {}
    changed: dict[str, Diff] = {}
    for entry in entries:
        commit, parents = entry.commit, entry.parents
        first = parents[0] if parents else ""
        if first:
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
        if children.get(commit):
            files_of[commit] = files
        for name in wanted.get(commit, ()):
            found[(commit, name)] = files.get(name)
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


def version_header(kind: str) -> str:
    """A cache header that also names reviewflow's version, for facts that depend on its code."""
    return f"reviewflow {kind} 1 {__version__}"
