"""The article files behind the review events: which blob each event's commit holds, who
changed which article, and when each text appeared (history.py reads the log, this its files).

Two ways, by cost: for the whole history, the diffs of every commit (changes.ChangeIndex, kept
in .git/reviewflow/, git diffs only commits it has not seen); for a few articles, one
`cat-file --batch-check` looks the files up in the events' trees, and only the commits of the
people in question that changed a tree are diffed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime

from reviewflow.gitlog import LogEntry
from reviewflow.gitstore import GitStore
from reviewflow.layout import CONFIG_FILE, article_path, article_slug
from reviewflow.review.changes import ChangeIndex, Diff, Files, Pair, changed_names, walk
from reviewflow.review.model import BOARD_ACTIONS, Action, Change
from reviewflow.review.trailers import Trailers


def files_wanted(
    said: Sequence[tuple[LogEntry, Trailers]], merged_at: Mapping[str, str]
) -> dict[str, tuple[str, ...]]:
    """commit -> the names whose blobs judging the events needs there: each event's article and
    reviewflow.toml in its own commit, and the article in the merge that brought it in.

    One tuple of names per article, shared by the commits of its events: 50,000 sets and
    paths, then as many lists, were a tenth of a cold read's memory."""
    wanted: dict[str, tuple[str, ...]] = {}
    names_of: dict[str, tuple[str, ...]] = {}  # slug -> (reviewflow.toml, its path)
    for entry, t in said:
        names = names_of.get(t.slug) or names_of.setdefault(
            t.slug, (CONFIG_FILE, article_path(t.slug)) if t.slug else (CONFIG_FILE,)
        )
        held = wanted.get(entry.commit)  # a merge's may hold the articles it brought in
        wanted[entry.commit] = names if held is None else (*held, *(n for n in names if n not in held))
        merge = merged_at.get(entry.commit)
        if t.slug and merge is not None and names[1] not in (merged := wanted.get(merge, ())):
            wanted[merge] = (*merged, names[1])
    return wanted


def files_from_index(
    store: GitStore,
    entries: Sequence[LogEntry],
    wanted: Mapping[str, Iterable[str]],
    use_cache: bool,
    diffs: dict[Pair, Diff] | None = None,
) -> tuple[Files, dict[str, list[Change]], dict[tuple[str, str], tuple[datetime, ...]]]:
    """The WANTED files of commits, who changed which article, and when each text appeared
    (from DIFFS, every commit's diff, where the caller has them: emptied once replayed, so
    that they are not held while the changes are recorded)."""
    if diffs is None:
        diffs = ChangeIndex(store, use_cache).diffs(entries)
    files, changed = walk(entries, diffs, wanted)
    diffs.clear()
    changes: dict[str, list[Change]] = {}
    appeared: dict[tuple[str, str], list[datetime]] = {}
    record_changes(entries, changed, changes, appeared)
    return files, changes, {key: tuple(sorted(times)) for key, times in appeared.items()}


def record_changes(
    entries: Sequence[LogEntry],
    changed: Mapping[str, Mapping[str, str | None]],
    changes: dict[str, list[Change]],
    appeared: dict[tuple[str, str], list[datetime]],
) -> None:
    """Add to CHANGES (slug -> who changed it) and APPEARED ((slug, blob) -> when) what each
    commit of ENTRIES CHANGED (commit -> name -> new blob), in their order."""
    for entry in entries:
        diff = changed.get(entry.commit)
        if not diff:
            continue
        email = entry.author_email.lower()
        for name, blob in diff.items():
            slug = article_slug(name)
            if slug is not None:
                changes.setdefault(slug, []).append(Change(entry.commit, email))
                if blob is not None:
                    appeared.setdefault((slug, blob), []).append(entry.committed_at)


def article_keys(said: Sequence[tuple[LogEntry, Trailers]]) -> list[tuple[str, str]]:
    """(commit, name) of the article each event of SAID names."""
    return [(entry.commit, article_path(t.slug)) for entry, t in said if t.slug]


def files_from_trees(
    store: GitStore, entries: Sequence[LogEntry], wanted: Mapping[str, Iterable[str]]
) -> Files:
    """The WANTED files of commits, looked up in their trees (events of a few articles, in a
    repository whose articles are all directly in articles/, or at the paths HEAD has them)."""
    tree_of = {entry.commit: entry.tree for entry in entries if entry.commit in wanted}
    names: dict[tuple[str, str], list[str]] = defaultdict(list)  # (tree, name) -> commits
    for commit, wanted_names in wanted.items():
        for name in wanted_names:
            names[(tree_of[commit], name)].append(commit)
    keys = list(names)
    paths = store.article_paths()
    blobs = store.blob_ids([f"{tree}:{store.prefix}{_path_at_head(name, paths)}" for tree, name in keys])
    blob_of = dict(zip(keys, blobs, strict=True))
    files = Files()
    for commit, wanted_names in wanted.items():
        held = tuple(wanted_names)
        files.put(commit, held, [blob_of[(tree_of[commit], name)] for name in held])
    return files


def _path_at_head(name: str, paths: Mapping[str, str]) -> str:
    """Where HEAD has the article NAME (a name of the review record), else NAME itself."""
    slug = article_slug(name)
    return paths.get(slug, name) if slug is not None else name


def people_in_question(
    said: Sequence[tuple[LogEntry, Trailers]],
    want_authors: Mapping[str, Iterable[str]] | None,
    people: Iterable[str],
) -> set[str]:
    """Whose changes to the articles matter: the actors of board actions and withdrawals, and more."""
    asked = {p.lower() for p in people}
    asked.update(
        entry.author_email.lower()
        for entry, t in said
        if t.action in BOARD_ACTIONS or t.action is Action.WITHDRAW
    )
    for emails in (want_authors or {}).values():
        asked.update(email.lower() for email in emails)
    return asked


def changes_by(
    store: GitStore,
    entries: Sequence[LogEntry],
    people: Collection[str],
    scope: Collection[str],
    use_cache: bool,
) -> dict[str, list[Change]]:
    """slug -> the commits by PEOPLE that changed its file, for the articles in SCOPE.

    Only the people whose authorship is in question, and only their commits that hold another
    tree than a parent's, need a diff (the index's, which asks git about the new ones): a
    handful, where a walk of the whole history with diffs would cost seconds.
    """
    tree_of = {entry.commit: entry.tree for entry in entries}
    # Emails as written, each lowercased once (a few people write 60,000 commits).
    written = {email for email in {entry.author_email for entry in entries} if email.lower() in people}
    theirs = [
        entry
        for entry in entries
        if entry.author_email in written
        and (not entry.parents or any(tree_of.get(parent) != entry.tree for parent in entry.parents))
    ]
    diffs = ChangeIndex(store, use_cache).diffs(theirs)
    changes: dict[str, list[Change]] = defaultdict(list)
    for entry in theirs:
        for name in changed_names(entry, diffs):
            slug = article_slug(name)
            if slug is not None and slug in scope:
                changes[slug].append(Change(entry.commit, entry.author_email.lower()))
    return dict(changes)
