"""The review history of a content repo, read from git: every event, and what judging it needs.

An event is a commit with Reviewflow-* trailers. To judge it, replay (workflow.py) needs the
article's blob in that commit (is the event about the text it names?), the reviewflow.toml in
force there (who was on the board, with which signing key, under which quorum), git's verdict
on its signature, who wrote the text it names (front-matter authors) and who changed the file
before it. `read_history` collects all of that (board.py the board, signatures and authors)
from a fixed handful of git processes, whatever the size of the repository:

- one `git log` of every commit reachable from HEAD (parsed while git writes it) and one
  `ls-tree` for the articles at HEAD;
- the whole history (`scope=None`): the files of every event's commit come from the diffs of
  every commit (changes.ChangeIndex; git diffs only commits it has not seen before);
- a few articles (`scope`, e.g. an action on one article, or the articles of a change in ci):
  one `cat-file --batch-check` looks up their files in the events' trees, and the index diffs
  only the commits of their actors that changed a tree (who changed which file);
- one `cat-file --batch` for the texts whose authors are in question (answers are kept in
  .git/reviewflow/, keyed by blob; `verify` with nothing kept leaves the approved ones to its
  early checks, which parse them anyway), one for the configurations in force, and with
  signing keys one `log --no-walk` that verifies only signing members' commits.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from sys import intern
from typing import TYPE_CHECKING

from reviewflow.allocator import give_back_big_blocks
from reviewflow.collector import collection_paused
from reviewflow.config import Config
from reviewflow.gitlog import LogEntry, parse_trailers
from reviewflow.gitstore import GitStore, read_objects
from reviewflow.layout import CONFIG_FILE, SCHEMA_FILE, article_path
from reviewflow.review.board import authors_of, configs_of, signature_verdicts, texts_in_question
from reviewflow.review.changes import ChangeIndex, Diff, Pair
from reviewflow.review.event_files import (
    Files,
    article_keys,
    changes_by,
    files_from_index,
    files_from_trees,
    files_wanted,
    people_in_question,
    record_changes,
)
from reviewflow.review.kept import Appended, Overlay
from reviewflow.review.model import Action, Change, Event, History
from reviewflow.review.trailers import (
    Trailers,
    event_from,
    message_of,
    plain_block,
    plain_message,
    read_block,
    read_trailers,
)

if TYPE_CHECKING:
    from reviewflow.content.schema import ArticleSchema


# Told each approval of a whole read as the log is parsed, (text blob, article, committer date),
# and None once the log is read: verify's early checks start on them (early_checks.py).
ApprovalsTold = Callable[[tuple[str, str, str] | None], None]


@dataclass(frozen=True)
class ReviewLog:
    """What `read_history` found: the history to replay, and (whole reads) when texts appeared."""

    history: History
    # (article slug, blob) -> when commits made the article's file hold that blob (oldest first);
    # only for reads of the whole history (publishing dates its pages with it).
    appeared: Mapping[tuple[str, str], tuple[datetime, ...]]
    # commit of each event -> the blob of the reviewflow.toml in it (history.configs follows)
    config_blobs: Mapping[str, str | None] = field(default_factory=dict)


def read_history(
    store: GitStore,
    *,
    scope: Collection[str] | None = None,
    rev: str | None = None,
    rules_for: Mapping[str, Config] | None = None,
    want_authors: Mapping[str, Iterable[str]] | None = None,
    people: Iterable[str] = (),
    use_cache: bool = True,
    also: Collection[str] = (),
    approved: ApprovalsTold | None = None,
) -> ReviewLog:
    """Everything replay needs about the history reachable from REV (default HEAD).

    SCOPE limits the read to the events and files of these article slugs (the cost then
    follows them, not the repository), and to the events of the commits in ALSO, whatever they
    name (ci: every event of the change, also one without a valid article). RULES_FOR judges
    the events of some commits under a given configuration instead of their own (ci: a
    change's events under the base's board).
    WANT_AUTHORS (blob -> emails) asks whether more people are authors of a text than the
    events need (the person about to act); PEOPLE asks which articles more people changed.
    USE_CACHE off ignores (and does not write) the facts kept in .git/reviewflow/.
    APPROVED is told each approval a whole read finds, as it finds it.
    """
    if scope is None:  # a whole read grows and lets go of big blocks: given back (allocator.py)
        give_back_big_blocks()
    # A whole read builds every commit's objects at once: not walked by the cycle collector.
    with collection_paused() if scope is None else nullcontext():
        return _read_history(store, scope, rev, rules_for, want_authors, people, use_cache, also, approved)


def _read_history(
    store: GitStore,
    scope: Collection[str] | None,
    rev: str | None,
    rules_for: Mapping[str, Config] | None,
    want_authors: Mapping[str, Iterable[str]] | None,
    people: Iterable[str],
    use_cache: bool,
    also: Collection[str],
    approved: ApprovalsTold | None = None,
) -> ReviewLog:
    with ThreadPoolExecutor(3) as background:
        listing_read = background.submit(store.article_files, rev)
        diffs_read = None
        if scope is None:
            # Each event's message is read as git writes the log, and not kept in its entry.
            messages = _MessageReader(approved)
            entries, merged_at = first_parent_order(store.log(rev, told=messages))
            if approved is not None:
                approved(None)
            said = messages.said(entries)
            told_texts = messages.told_texts()
            del messages
            # Git diffs the history while the texts' authors are read.
            diffs_read = background.submit(ChangeIndex(store, use_cache).diffs, entries)
        else:  # a few articles: the messages of theirs only
            told_texts = set()
            entries, merged_at = first_parent_order(store.log(rev, bodies=False))
            said = _events_said(entries, scope, also)
            said = list(
                zip(store.with_bodies([entry for entry, _ in said]), [t for _, t in said], strict=True)
            )
        # Who wrote each text acted on follows from the events alone: read while git diffs
        # (a fresh clone reads ~17,000 texts at 10,000 articles, as long as the diffs take) and
        # the events are made; the replay is the first to ask. The approved texts told are parsed
        # by verify's early checks anyway: their authors are asked of those after the replay
        # (~11,400 texts git read twice at 10,000 articles), unless WANT_AUTHORS names them.
        later: Collection[str] = (
            told_texts.difference(want_authors or ()) if approved is not None and not use_cache else ()
        )
        in_question = texts_in_question(said, want_authors)  # here: the events are made from SAID
        authors_read = background.submit(authors_of, store, in_question, use_cache, True, later)
        del in_question
        wanted = files_wanted(said, merged_at)
        heads = {slug: blob for slug, (_, blob) in listing_read.result().items()}
        asked = (want_authors, people)
        files, changes, appeared = _files(store, entries, said, wanted, scope, asked, use_cache, diffs_read)
        # Every commit's diff, replayed, and which files were wanted where: not held while the
        # events are made.
        diffs_read = None
        del wanted
        blobs = config_blobs(said, files)
        merged = _merged(said, merged_at, files)
        events, configs = _judgeable(store, said, files, blobs, rules_for or {})  # empties SAID
        authors, authors_later = authors_read.result()
    if scope is not None:
        heads = {slug: blob for slug, blob in heads.items() if slug in scope}
    history = History(
        order=[entry.commit for entry in entries],
        parents={entry.commit: entry.parents for entry in entries},
        events=events,
        changes=changes,
        authors=authors,
        heads=heads,
        configs=configs,
        merged=merged,
        authors_later=authors_later,
    )
    return ReviewLog(history, appeared, blobs)


def _merged(
    said: Sequence[tuple[LogEntry, Trailers]],
    merged_at: Mapping[str, str],
    files: Files,
) -> dict[str, tuple[str, str | None]]:
    """For each event's commit that reached the first-parent line by a merge: that merge, and
    the blob the event's article had there (None: no such file at the merge)."""
    return {
        entry.commit: (merge, files.get((merge, article_path(t.slug))))
        for entry, t in said
        if t.slug and (merge := merged_at.get(entry.commit))
    }


def _files(
    store: GitStore,
    entries: Sequence[LogEntry],
    said: Sequence[tuple[LogEntry, Trailers]],
    wanted: Mapping[str, Iterable[str]],
    scope: Collection[str] | None,
    asked: tuple[Mapping[str, Iterable[str]] | None, Iterable[str]],
    use_cache: bool,
    diffs_read: Future[dict[Pair, Diff]] | None = None,
) -> tuple[Files, Mapping[str, Sequence[Change]], Mapping[tuple[str, str], tuple[datetime, ...]]]:
    """The WANTED files, who changed which article and (whole reads) when each text appeared.

    A few articles: their files looked up in the older trees at the paths HEAD has them. An
    article moved between subdirectories is not there in its older trees: an event's text must
    be found, or the diffs (the index) say where it was. DIFFS_READ: every commit's diff, being
    read already.
    """
    if scope is not None:
        found = files_from_trees(store, entries, wanted)
        if all(found.get(key) is not None for key in article_keys(said)):
            people = people_in_question(said, *asked)
            return found, changes_by(store, entries, people, scope, use_cache), {}
    diffs = diffs_read.result() if diffs_read is not None else None
    return files_from_index(store, entries, wanted, use_cache, diffs)


def first_parent_order(entries: Sequence[LogEntry]) -> tuple[list[LogEntry], dict[str, str]]:
    """ENTRIES (every commit reachable from one tip, parents first) in the order replay judges
    them, and for each commit off the tip's first-parent line, the commit of that line that
    merged it.

    The order walks the first-parent line from the root to the tip and puts each merge's other
    commits (those it brings in, in the same order, recursively) just before the merge. So a
    merged branch's events are judged where they take effect, after everything the line held
    until then: git's topological order alone may put an old, never-merged review round after
    a newer approval on the line it is merged into, and so make the older text the last
    approved one. A history without merges is returned as it is.
    """
    if all(len(entry.parents) <= 1 for entry in entries):
        return list(entries), {}
    by_commit = {entry.commit: entry for entry in entries}
    line: list[LogEntry] = []
    tip: LogEntry | None = entries[-1] if entries else None
    while tip is not None:
        line.append(tip)
        tip = by_commit.get(tip.parents[0]) if tip.parents else None
    order: list[LogEntry] = []
    merged_at: dict[str, str] = {}
    seen: set[str] = set()
    for merge in reversed(line):
        # Depth first from the merge's other parents, first parents first, each commit after
        # its parents (a commit is seen when first reached: in a DAG, no child of it can be
        # reached while its own parents are still being walked).
        stack: list[tuple[LogEntry, bool]] = [
            (by_commit[p], False) for p in reversed(merge.parents[1:]) if p in by_commit
        ]
        while stack:
            entry, parents_done = stack.pop()
            if parents_done:
                order.append(entry)
                merged_at[entry.commit] = merge.commit
                continue
            if entry.commit in seen:
                continue
            seen.add(entry.commit)
            stack.append((entry, True))
            stack.extend(
                (by_commit[p], False) for p in reversed(entry.parents) if p in by_commit and p not in seen
            )
        seen.add(merge.commit)
        order.append(merge)
    return order, merged_at


FEW_COMMITS = 200  # up to this many new commits, extend_history asks git rather than the kept facts


def extend_history(store: GitStore, log: ReviewLog, since: str, use_cache: bool = True) -> ReviewLog | None:
    """LOG (the whole history up to SINCE) with the commits from SINCE to HEAD added.

    Only for a straight line of commits on top of SINCE (each with one parent): then git's
    topological order of HEAD is SINCE's followed by the new commits, and a read of the whole
    history would give exactly this. None when the commits since are not such a line. What
    the new commits change is a layer over LOG's mappings (kept.Overlay):
    what they do not touch is not copied, nor read from the kept state at all.
    """
    entries = store.log(f"{since}..{store.head}")
    previous = since
    for entry in entries:
        if entry.parents != (previous,):
            return None
        previous = entry.commit
    if previous != store.head:
        return None
    said = _events_said(entries, None)
    with ThreadPoolExecutor(1) as background:
        heads_read = background.submit(store.article_blobs)
        files = files_from_trees(store, entries, files_wanted(said, {}))
        if any(files.get(key) is None for key in article_keys(said)):
            return None  # an event's text is not where HEAD has its article: read the whole history
        # One parent each: its diff is the change. A few new commits' diffs are asked of git, not
        # looked up among every commit's kept diff (nor their authors among every kept answer):
        # checking the seals of ~60,000 kept lines costs more than a few hundred diffs.
        look_up = len(entries) > FEW_COMMITS
        diffs = ChangeIndex(store, use_cache).diffs(entries, look_up)
        changed: dict[str, list[Change]] = {}
        appeared: dict[tuple[str, str], list[datetime]] = {}
        record_changes(
            entries, {e.commit: diffs[(e.commit, e.parents[0])] for e in entries}, changed, appeared
        )
        blobs = config_blobs(said, files)
        authors, _ = authors_of(store, texts_in_question(said), use_cache, look_up)
        events, configs = _judgeable(store, said, files, blobs, {})
        heads = heads_read.result()
    old = log.history
    history = History(
        merged=old.merged,  # the new commits are all on the first-parent line
        order=Appended(old.order, [entry.commit for entry in entries]),  # the kept order read if needed
        parents=Overlay({entry.commit: entry.parents for entry in entries}, old.parents),
        events=[*old.events, *events],
        changes=Overlay({s: [*old.changes.get(s, ()), *c] for s, c in changed.items()}, old.changes),
        authors=Overlay({b: old.authors.get(b, frozenset()) | e for b, e in authors.items()}, old.authors),
        heads=heads,
        configs=Overlay(configs, old.configs),
    )
    dates = {key: tuple(sorted([*log.appeared.get(key, ()), *times])) for key, times in appeared.items()}
    return ReviewLog(history, Overlay(dates, log.appeared), Overlay(blobs, log.config_blobs))


def _judgeable(
    store: GitStore,
    said: list[tuple[LogEntry, Trailers]],
    files: Files,
    blobs: Mapping[str, str | None],
    rules_for: Mapping[str, Config],
) -> tuple[list[Event], dict[str, Config | str]]:
    """The events of SAID with the configuration in force at each (and git's verdict on the
    signatures it asks for). SAID is emptied as its events are made: what each commit said
    is let go as its event takes its place (500,000 of each at 100,000 articles)."""
    configs = configs_of(store, blobs, rules_for)
    verdicts = signature_verdicts(store, said, configs)
    events = []
    said.reverse()  # then taken from the end, in order
    while said:
        entry, t = said.pop()
        blob = files.get((entry.commit, article_path(t.slug)))
        event = event_from(entry, blob, verdicts.get(entry.commit, ("N", "")), t)
        if event is not None:
            events.append(event)
    return events, configs


def _events_said(
    entries: Sequence[LogEntry], scope: Collection[str] | None, also: Collection[str] = ()
) -> list[tuple[LogEntry, Trailers]]:
    """The commits with Reviewflow-* trailers, and what they say (within SCOPE, or in ALSO)."""
    said = []
    # One search for any slug in scope (in C), where a test of each slug took a quarter of a
    # second over 50,000 events.
    named = re.compile("|".join(re.escape(slug) for slug in scope)).search if scope else None
    for entry in entries:
        block = entry.trailer_block
        if not block:
            continue
        if scope is not None and entry.commit not in also and not (named and named(block)):
            continue  # cannot name an article in scope: not worth reading closer
        told = read_block(block)
        if told is None:
            trailers = entry.trailers
            if not trailers:
                continue
            told = read_trailers(trailers)
        if scope is None or told.slug in scope or entry.commit in also:
            said.append((entry, told))
    return said


class _MessageReader:
    """What each commit's Reviewflow-* trailers and message say, read from each log entry as git
    writes the log (`GitStore.log`'s TOLD), which keeps the entry without its message's texts.

    Held whole until every commit was read, the trailer blocks and bodies of 500,000 events
    were a fifth of a whole read's memory at 100,000 articles, and their copies without the
    texts another tenth. What `_events_said` and the message make of each commit, the same."""

    def __init__(self, approved: ApprovalsTold | None = None) -> None:
        self.approved = approved
        # (commit, what its trailers and message say), as git writes the log: newest first.
        # A list, not a table by commit: 500,000 inserts into one, and as many lookups, missed
        # the processor's cache at 100,000 articles (`said` matches them in order instead).
        self.told: list[tuple[str, Trailers]] = []
        self._texts: dict[str, str] = {}  # each text id once: an article's events name it again and again
        # Each article's slug once, in a table of its own: `sys.intern`'s holds every name the
        # interpreter knows as well, and putting 100,000 slugs there cost ~3 µs each, a tenth of
        # the log's parse on the main thread at 100,000 articles.
        self._slugs: dict[str, str] = {}
        self._approved: set[str] = set()  # the texts of the approvals told
        self._withdrawn: set[str] = set()  # the texts withdrawals name
        # The last event's article, text and message: the next event (git writes the log newest
        # first) is most often on the same text, and comparing with these strings, still in the
        # processor's cache, spares a lookup in a big table (`intern`'s, `_texts`) that misses it.
        self._last: tuple[str, str, str] = ("", "", "")

    def __call__(self, commit: str, block: str, body: str, date: str) -> None:
        plain = plain_block(block)
        action: Action | None
        if plain is not None:  # as reviewflow writes them: known without the general reading
            action, slug, content, accepted = plain
            problem = None
            message = plain_message(body, block)
            if message is None:
                message = message_of(body)
        else:
            trailers = parse_trailers(block)
            if not trailers:
                return
            action, slug, content, problem, accepted, _ = read_trailers(trailers)
            message = message_of(body)
        # The same few words, often: one string each, as the slugs. Made in one step.
        last_slug, last_content, last_message = self._last
        slug = last_slug if slug == last_slug else self._slugs.setdefault(slug, slug)
        content = last_content if content == last_content else self._texts.setdefault(content, content)
        message = last_message if message == last_message else intern(message)
        self._last = (slug, content, message)
        fields = (action, slug, content, problem, accepted)
        self.told.append((commit, tuple.__new__(Trailers, (*fields, message))))
        if action is Action.APPROVE and self.approved is not None and slug and content:
            self.approved((content, slug, date))
            self._approved.add(fields[2])
        elif action is Action.WITHDRAW:
            self._withdrawn.add(fields[2])

    def told_texts(self) -> set[str]:
        """The texts of the approvals told, but those a withdrawal names: its actor is most
        often an author, which a withdrawal needs (asked after the replay, each such answer
        would have it replay again)."""
        return self._approved - self._withdrawn

    def said(self, entries: Sequence[LogEntry]) -> list[tuple[LogEntry, Trailers]]:
        """The commits of ENTRIES with Reviewflow-* trailers, in their order, and what they say
        (taken from this reader: asked once)."""
        told, self.told = self.told, []
        # ENTRIES are most often the log's commits in reverse (always without merges): then the
        # commits told, from the oldest, come in ENTRIES' order, and are matched as they come.
        said: list[tuple[LogEntry, Trailers]] = []
        index = len(told) - 1
        for entry in entries:
            if index >= 0 and told[index][0] == entry.commit:
                said.append((entry, told[index][1]))
                index -= 1
        if index < 0:
            return said
        by_commit = dict(told)  # another order: looked up by commit
        return [(entry, by_commit[entry.commit]) for entry in entries if entry.commit in by_commit]


def config_blobs(said: Sequence[tuple[LogEntry, Trailers]], files: Files) -> dict[str, str | None]:
    """commit of each event -> the blob of the reviewflow.toml in it (None: there is none)."""
    return {entry.commit: files.get((entry.commit, CONFIG_FILE)) for entry, _ in said}


def committed_schema(store: GitStore) -> ArticleSchema:
    """The article schema committed at HEAD (the bundled one where there is none): what a
    published page was validated against, whatever the work tree holds."""
    from reviewflow.content.schema import load_schema  # not for the review commands

    name = f"{store.head}:{store.prefix}{SCHEMA_FILE}"
    return load_schema(read_objects(store, [name]).get(name), f"{SCHEMA_FILE} (committed at HEAD)")
