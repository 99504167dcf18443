"""What git printed, parsed: log records, trailers, raw diffs.

Pure: it starts no process. gitstore.py runs git and hands its output here.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from sys import intern
from typing import NamedTuple

from reviewflow.errors import EnvironmentProblem
from reviewflow.layout import SLUG_PATTERN

_HEX = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")  # a SHA-1 or SHA-256 object id


def is_object_id(value: str) -> bool:
    return bool(_HEX.match(value))


_BLOB_HASHES = {40: hashlib.sha1, 64: hashlib.sha256}  # by the length of an id: SHA-1, SHA-256


def blob_hasher(like: str, size: int) -> hashlib._Hash | None:
    """A hash that, fed the SIZE bytes of a file, gives their git blob id of the kind LIKE is
    (a SHA-1 or a SHA-256 repository's: computed here, no git process); None for neither."""
    algorithm = _BLOB_HASHES.get(len(like))
    return algorithm(b"blob %d\0" % size) if algorithm is not None else None


def separators() -> tuple[str, str, str]:
    """Record start, field and record end markers no commit message can contain: unguessable."""
    token = secrets.token_hex(12)
    return f"\x1e{token}S", f"\x1f{token}F", f"\x1e{token}E"


class LogEntry(NamedTuple):
    """One commit reachable from HEAD, as the review log reads it (a tuple: 70,000 are cheap)."""

    commit: str
    parents: tuple[str, ...]
    tree: str
    author_name: str
    author_email: str
    date: str  # the committer date, ISO 8601 (read as a datetime only where it is needed)
    trailer_block: str  # the message's trailers as git found them ("" for most commits)
    body: str  # the message after the subject, trailers included

    @property
    def committed_at(self) -> datetime:
        return datetime.fromisoformat(self.date)

    @property
    def trailers(self) -> tuple[tuple[str, str], ...]:
        """The Reviewflow-* trailers, in order."""
        return parse_trailers(self.trailer_block) if self.trailer_block else ()


# What a whole read does with a commit's trailer block and body (`log_entries`'s TOLD): given the
# commit id, the block, the body and the committer date, for each commit with a trailer block.
Told = Callable[[str, str, str, str], None]


class SharedIds:
    """The strings `log_entries` has made so far, across the blocks of one log: each commit and
    tree id once (SEEN: id -> the string read first), and the last record's only parent and
    tree, looked at first."""

    __slots__ = ("seen", "last_parent", "last_tree")

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}
        self.last_parent = ""
        self.last_tree = ""


def log_entries(
    records: Sequence[str], sep: str, end: str, shared: SharedIds, told: Told | None = None
) -> list[LogEntry]:
    """The entries of RECORDS, each a record of `GitStore.log`'s output (its start marker
    already split off; an empty record is none). TOLD takes each commit's trailer block and body
    instead of its entry (a whole read keeps no message text); without TOLD only a commit with
    trailers keeps its body, the only one whose message is read (memory at 100,000s).

    SHARED: a commit's id and its parents' are one string each whichever git writes first (a
    child names its parent before the parent's own record, as git writes the log newest first),
    and a tree seen before is that string (a review commit keeps its parent's tree): 600,000
    commits at 100,000 articles held each id two or three times over. A few people write every
    commit: one string each, not one per commit. The last record's only parent is most often
    this record's commit, and its tree this record's: compared first, with strings still in the
    processor's cache. Looked up in SHARED.seen instead (1.3 million ids at 100,000 articles),
    nearly each lookup missed the cache: lookups in such tables (this one, the events' texts and
    slugs) were a third of the main thread's time while the log was read (`perf`). A parent is
    no longer put there, so a commit with two children (a branch's start) may be held twice.

    One loop over a block of records, each entry made once: at 100,000 articles (600,000
    commits) a call for each record, and each entry made with its texts and again without
    them, were a sixth of the log's parse on the main thread."""
    made: list[LogEntry] = []
    same = shared.seen.setdefault
    make = tuple.__new__
    last_parent, last_tree = shared.last_parent, shared.last_tree
    for record in records:
        if not record:
            continue
        commit, parents, tree, name, email, date, trailers, body = record.partition(end)[0].split(sep)
        commit = last_parent if commit == last_parent else same(commit, commit)
        if " " in parents:
            ids = tuple([same(parent, parent) for parent in parents.split()])
            last_parent = ""
        else:  # one parent (or none, a root): nearly every commit
            ids = (parents,) if parents else ()
            last_parent = parents
        if tree != last_tree:
            last_tree = same(tree, tree)
        if not trailers:
            body = ""  # only a commit with trailers has its message read
        elif told is not None:
            told(commit, trailers, body, date)
            trailers = body = ""
        fields = (commit, ids, last_tree, intern(name), intern(email), date, trailers, body)
        made.append(make(LogEntry, fields))
    shared.last_parent, shared.last_tree = last_parent, last_tree
    return made


def parents_first(newest_first: list[LogEntry]) -> list[LogEntry]:
    """The commits of a whole history as git's log writes them (each before its parents, newest
    first), ordered parents before children, the tip last; refused when not whole.

    Git writes the log as it walks, children first, with no ordering option: `--topo-order
    --reverse` made it walk every commit before writing the first (6 s of 42 at 100,000 articles,
    the main thread waiting) and held them all (419 MB of git's memory). Reversed, a history
    without merges is its one line, exactly what `--topo-order --reverse` wrote; where merges
    and commit dates out of order put a parent before its child, the commits are sorted by
    their parents (replay orders a history with merges by its first-parent line anyway,
    `history.first_parent_order`). A commit whose parent git did not show at all means the
    history cannot be read whole, and judging what is left would report "all valid" over events
    it never saw.
    """
    entries = newest_first[::-1]
    del newest_first[:]
    if one_line(entries):
        return entries
    seen: set[str] = set()
    ordered = True
    for entry in entries:
        for parent in entry.parents:
            if parent not in seen:
                ordered = False
        seen.add(entry.commit)
    if ordered:
        return entries
    for entry in entries:
        for parent in entry.parents:
            if parent not in seen:
                raise EnvironmentProblem(
                    f"the history git shows is not whole: commit {entry.commit[:12]} has a parent "
                    f"{parent[:12]} that git did not show, so the review state cannot be "
                    "judged. Check the repository with `git fsck`, or clone it again"
                )
    return _sorted_by_parents(entries)


def one_line(entries: Sequence[LogEntry]) -> bool:
    """Whether ENTRIES are one line of commits from a root, each the only parent of the next:
    then they are whole and in order, known without a set of every commit (600,000 at 100,000
    articles)."""
    previous = ""
    for entry in entries:
        parents = entry.parents
        if parents != ((previous,) if previous else ()):
            return False
        previous = entry.commit
    return True


def _sorted_by_parents(entries: list[LogEntry]) -> list[LogEntry]:
    """ENTRIES (a whole history, tip last) with every commit after its parents: depth first from
    the tip, each commit once its parents are placed."""
    by_commit = {entry.commit: entry for entry in entries}
    placed: set[str] = set()
    ordered: list[LogEntry] = []
    stack: list[tuple[LogEntry, bool]] = [(entries[-1], False)] if entries else []
    while stack:
        entry, parents_done = stack.pop()
        if parents_done:
            ordered.append(entry)
            continue
        if entry.commit in placed:
            continue
        placed.add(entry.commit)
        stack.append((entry, True))
        stack.extend((by_commit[p], False) for p in reversed(entry.parents) if p not in placed)
    return ordered


_TRAILER = re.compile(r"^([^:\n]*):([^\n]*)", re.MULTILINE)  # a line's key, before its first colon
# The three trailers as reviewflow writes them, in its order: read without the general loop.
_CANONICAL = re.compile(
    r"Reviewflow-Article:([^\n]*)\nReviewflow-Action:([^\n]*)\nReviewflow-Content:([^\n]*)\n?"
)


def parse_trailers(block: str) -> tuple[tuple[str, str], ...]:
    canonical = _CANONICAL.fullmatch(block)
    if canonical:
        article, action, content = canonical.groups()
        return (
            ("Reviewflow-Article", article.strip()),
            ("Reviewflow-Action", action.strip()),
            ("Reviewflow-Content", content.strip()),
        )
    return tuple(
        (key.strip(), value.strip())
        for key, value in _TRAILER.findall(block)
        if key.strip().lower().startswith("reviewflow-")
    )


@dataclass(frozen=True)
class DiffEntry:
    """One path changed between two commits, as `git diff --raw` reports it."""

    status: str  # A added, M modified, D deleted, R renamed, C copied, T type changed
    path: str  # the path at the new commit (at the old one for a deletion)
    old_path: str | None  # the path at the old commit, for a rename or copy
    old_blob: str | None  # None when the path did not exist at the old commit
    new_blob: str | None  # None when the path no longer exists at the new commit
    new_mode: str = ""  # its git file mode at the new commit: 100644, 120000 (a link), ...


def parse_raw_diff(out: bytes) -> list[DiffEntry]:
    """The entries of `git diff --raw -z --no-abbrev` output, renames and copies included."""
    fields = out.decode("utf-8", "surrogateescape").split("\0")
    entries: list[DiffEntry] = []
    index = 0
    while index < len(fields) and fields[index].startswith(":"):
        _, new_mode, old_blob, new_blob, status = fields[index][1:].split(" ")
        if status[0] in "RC":
            old_path, path = fields[index + 1], fields[index + 2]
            index += 3
        else:
            old_path, path = None, fields[index + 1]
            index += 2
        entries.append(
            DiffEntry(
                status=status[0],
                path=path,
                old_path=old_path,
                old_blob=None if set(old_blob) == {"0"} else old_blob,
                new_blob=None if set(new_blob) == {"0"} else new_blob,
                new_mode=new_mode,
            )
        )
    return entries


def parse_tree_diffs(out: bytes, keep: Callable[[str], str | None]) -> list[dict[str, str | None]]:
    """For each commit in `git diff-tree --stdin --always -z` output, its kept paths -> new blob.

    KEEP maps a path to the name to record it under, or None to leave it out. A path whose new
    entry is not a regular file (a symlink, a submodule) maps to None: gone. Where two paths map
    to one name (a file moved to another directory), the one still there wins.
    """
    tokens = out.decode("utf-8", "surrogateescape").split("\0")
    diffs: list[dict[str, str | None]] = []
    index, count = 0, len(tokens)
    while index < count:
        token = tokens[index]
        if token.startswith(":"):  # ":old_mode new_mode old_blob new_blob status", then the path
            name = keep(tokens[index + 1]) if diffs else None
            if name is not None:
                _, mode, _, new_blob, status = token.split(" ")
                regular = mode in ("100644", "100755") and status != "D"
                if regular:
                    diffs[-1][name] = new_blob
                else:
                    diffs[-1].setdefault(name, None)
            index += 2
        else:
            if token:  # one header (the commit id) for each requested pair: --always
                diffs.append({})
            index += 1
    return diffs


@dataclass(frozen=True)
class ChangeLog:
    """What `git log BASE..HEAD` says about a change, for `ci`."""

    commits: frozenset[str]  # every commit in the range
    slugs: frozenset[str]  # the articles its Reviewflow-Article trailers name
    has_events: bool  # some commit carries a Reviewflow-* trailer
    # BASE is on HEAD's first-parent line: the line of record stays the base's, continued. Not
    # so when HEAD merged the base in as a second parent; then the base's own review events
    # come in by that merge, and can take another effect there.
    base_on_line: bool


def parse_change_log(text: str, start: str, sep: str, base: str, head: str) -> ChangeLog:
    """The ChangeLog of `git log --format=START%H %P SEP%(trailers:only,unfold) BASE..HEAD`."""
    first_parent: dict[str, str | None] = {}
    slugs: set[str] = set()
    has_events = False
    for record in text.split(start)[1:]:
        ids, _, block = record.partition(sep)
        commit, *parents = ids.split()
        first_parent[commit] = parents[0] if parents else None
        trailers = parse_trailers(block.strip("\n") + "\n")
        has_events = has_events or bool(trailers)
        slugs.update(v for k, v in trailers if k.lower() == "reviewflow-article" and SLUG_PATTERN.match(v))
    line: str | None = head
    while line is not None and line in first_parent:  # the range's part of HEAD's line
        line = first_parent[line]
    return ChangeLog(frozenset(first_parent), frozenset(slugs), has_events, line == base)
