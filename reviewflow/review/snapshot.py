"""The judged review history at the last HEAD, kept so that the next run replays only what is new.

Reading 70,000 commits and judging 50,000 events costs seconds, and most runs follow the last
one by a few commits (an action, an edit) or none. After a whole read, the history and the
state of every article are kept in .git/reviewflow/ with the HEAD they belong to. The next run
at the same HEAD takes them as they are; one at a HEAD that adds a straight line of commits
reads and judges just those (history.extend_history, Replay.resume: exactly what a whole
replay would give, see their docstrings); anything else (a merge, a rebase, a reset, another
reviewflow) reads the whole history again. Every event is judged by the configuration
committed with it, so the display configuration of a run does not enter what is kept.

Like the other facts in .git/reviewflow/, this is a cache: never pushed, safe to delete, and
`verify --no-cache` never reads it. It may make a run faster, never change its verdict: the file
is sealed with this user's key and the conditions it was made under (this repository, this git,
this reviewflow code, this Python's marshal; see changes.conditions), so a file that is torn,
altered, made elsewhere or by other code does not check out and the history is read again.
HEAD alone would not do: the same HEAD read under other conditions is another history. marshal,
not pickle: loading it runs no code, and nothing is loaded before its seal checks out.
"""

from __future__ import annotations

import itertools
import marshal
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from reviewflow.collector import collection_paused
from reviewflow.config import Config
from reviewflow.errors import ReviewflowError
from reviewflow.gitstore import GitStore
from reviewflow.review import kept, snapshot_file
from reviewflow.review.board import configs_of
from reviewflow.review.history import ReviewLog, extend_history, read_history
from reviewflow.review.kept import Appended, Later, LaterList, Overlay, Rows, Shared, section, unsection
from reviewflow.review.model import Change, Event, History, Outcome, Track
from reviewflow.review.snapshot_file import KeptFile, Layer, kept_file, layer_bytes
from reviewflow.review.workflow import Replay
from reviewflow.review.writers import Beside, start_beside, wait_for_writers, write_beside

_Made = Callable[[], tuple[Any, bool]]  # a section's value as a layer, and whether it is whole
MAX_NEW_EVENTS = 2000  # beyond this many new events, a whole read (through the index) is cheaper


@dataclass(frozen=True)
class Judged:
    """A replayed history: the Replay (for judging one more event), its outcome, the dates."""

    replay: Replay
    outcome: Outcome
    appeared: Mapping[tuple[str, str], tuple[datetime, ...]]


# One resume or save of the kept state at a time in a process: the desk judges in several threads,
# and a save is written under this process's name (snapshot_file.temporary_path) before it is
# put in place, so two at once would write one file.
_KEPT = threading.RLock()


def judged_history(store: GitStore, config: Config, use_cache: bool = True) -> Judged:
    """The whole history at HEAD, judged, from the kept state where it applies."""
    if not use_cache:
        return _judged(store, config, None, use_cache)
    with _KEPT:
        return _judged(store, config, kept_file(store), use_cache)


def _judged(store: GitStore, config: Config, file: KeptFile | None, use_cache: bool) -> Judged:
    resumed = _resumed(store, file, config) if file else None
    if resumed is not None:
        return resumed
    log = read_history(store, use_cache=use_cache)
    # What the read gives is saved by a child meanwhile, on the core the replay leaves idle.
    begun = _begin_save(file, log) if file else None
    try:
        replay = Replay(log.history, config, store.article_file)
        outcome = replay.run()
    except BaseException:
        if begun is not None:
            begun.abandon()
        raise
    # The judged events stand for the read ones (Replay.resume): not both held while saving.
    log = ReviewLog(replay.history, log.appeared, log.config_blobs)
    if file:  # written by a child while this process reports (writers.write_beside)
        kept_at = file
        write_beside(lambda: _save(kept_at, store.head, log, replay, begun=begun))
        if begun is not None:
            begun.beside.close()  # the answer is the child's to take
    return Judged(replay, outcome, log.appeared)


def kept_history(store: GitStore, config: Config) -> Judged | None:
    """The whole history at HEAD, judged, from the kept state alone; None where none is kept or
    it cannot be brought up to HEAD by a few new commits. Never a whole read of the log: a caller
    that needs one article asks this first (a whole kept state at 100,000 articles is resumed in
    ~3 s, a read of the log scoped to one article takes ~10 s, as it reads every commit)."""
    file = kept_file(store)
    if file is None or not file.path.is_file():
        return None  # nothing to resume: the collector is not paused for nothing
    with _KEPT:
        return _resumed(store, file, config)


def _resumed(store: GitStore, file: KeptFile, config: Config) -> Judged | None:
    wait_for_writers()  # a save this process began is what it reads next
    # The kept state makes a whole history's events, tracks and statuses, as a whole read does:
    # none of them is walked by the cycle collector (at 100,000 articles its collections were
    # a tenth of a build after one change).
    with collection_paused():
        return _resume(store, file, config)


@dataclass(frozen=True)
class _Begun:
    """The first sections of a whole save, being written to TEMPORARY by a child (BESIDE)."""

    beside: Beside
    temporary: Path

    def taken(self) -> snapshot_file.Begun | None:
        """The sections the child wrote, once it has ended; None (and nothing left behind) if it
        wrote none: then the save is written whole."""
        answer = self.beside.take()
        try:
            named = marshal.loads(answer) if answer else None
        except (ValueError, EOFError, TypeError):
            named = None
        if not isinstance(named, list):
            self.temporary.unlink(missing_ok=True)
            return None
        return snapshot_file.Begun(self.temporary, named)

    def abandon(self) -> None:
        """No save after all (the replay failed): the child waited for, its file removed."""
        self.taken()
        self.temporary.unlink(missing_ok=True)


def _begin_save(file: KeptFile, log: ReviewLog) -> _Begun | None:
    """The sections of a whole save that the read gives (`_read_sections`) written by a child
    now (writers.start_beside); None where none can be forked (then the save is written whole)."""
    temporary = snapshot_file.temporary_path(file)

    def first_sections() -> bytes:
        with collection_paused():
            made = _read_sections(log, log.history.events, None)
            try:
                named = snapshot_file.begin(file, temporary, _written(made, None))
            except OSError:
                return b""  # nothing begun: the save is written whole
        return marshal.dumps(named)

    beside = start_beside(first_sections)
    return _Begun(beside, temporary) if beside is not None else None


def _resume(store: GitStore, file: KeptFile, config: Config) -> Judged | None:
    """The kept state brought up to HEAD, or None where it cannot be (then: a whole read)."""
    found = _load(store, file)
    if found is None:
        return None
    log = found.log
    if found.head != store.head:
        if not _few_new(store, found.head):
            return None
        extended = extend_history(store, log, found.head)
        if extended is None or len(extended.history.events) - len(found.events) > MAX_NEW_EVENTS:
            return None
        log = extended
    replay = Replay(log.history, config, store.article_file)
    outcome = replay.resume(found.tracks, found.events)
    if found.head != store.head:
        _save(file, store.head, log, replay, found)
    return Judged(replay, outcome, log.appeared)


def _few_new(store: GitStore, head: str) -> bool:
    """Whether the current HEAD descends from HEAD by few enough commits to read them one by one."""
    try:
        out = store.run("rev-list", "--count", "--end-of-options", f"{head}..{store.head}", "--")
        ancestor = store.run("merge-base", "--end-of-options", head, store.head).decode().strip()
    except ReviewflowError:
        return False  # the kept HEAD is gone (a rewritten history, a pruned commit)
    return ancestor == head and 0 < int(out.decode().strip() or 0) <= 4 * MAX_NEW_EVENTS


# A run that resumes adds what it judged as a layer of each section, after the kept layers' bytes
# as they were read: it neither unmarshals nor marshals again what did not change. Past this many
# layers a section is merged into one (what every run did before).
LAYERS_MAX = 24
EVENTS_PER_LAYER = 50_000  # of a whole read (Shared strings are shared within a layer)
ROWS_PER_LAYER = 50_000  # of a mapping written whole (who changed which file, authors, dates)


@dataclass(frozen=True)
class _Kept:
    """What a run read from the file; most of it is written back as it was."""

    head: str
    log: ReviewLog
    tracks: dict[str, Track]
    events: list[Event]  # the judged events, in order
    sections: Mapping[str, list[Layer]]  # each section's layers, as read (oldest first)


def _save(
    file: KeptFile,
    head: str,
    log: ReviewLog,
    replay: Replay,
    reuse: _Kept | None = None,
    begun: _Begun | None = None,
) -> None:
    """Write the state, one section at a time: each is made, marshalled, written and let go
    before the next is made, so the save holds one section's values and bytes at most. BEGUN:
    the sections the read gives, being written by a child; the rest are added to its file."""
    # What a whole save makes (each section's rows, columns and bytes) is let go section by
    # section and holds no cycles: the collector would walk it for nothing, each young
    # collection touching a heap of a whole history (~0.1 s at 100,000 articles).
    with collection_paused() if reuse is None else nullcontext():
        first = begun.taken() if begun is not None else None
        made = _judged_sections(replay, reuse)
        if first is None:
            made = [*_read_sections(log, replay.judged, reuse), *made]
        snapshot_file.write(file, head, _written(made, reuse), first)


def _written(made: list[tuple[str, _Made]], reuse: _Kept | None) -> snapshot_file.Sections:
    """Each section's layers, made as they are written (`snapshot_file.write`). A generator
    function, not a generator expression: mypyc makes the latter a list, every section at once."""
    for name, value in made:
        yield name, _layers(name, value, reuse)


def _load(store: GitStore, file: KeptFile) -> _Kept | None:
    """The kept state, if its seal checks out (snapshot_file.open_file) and this code wrote it."""
    opened = snapshot_file.open_file(file)
    if opened is None:
        return None
    try:
        # A layer at a time: the columns of every event held at once, beside the events made of
        # them, were a sixth of a warm run's memory at 100,000 articles.
        events = []
        for raw, verdicts in zip(opened.sections["events"], opened.sections["verdicts"], strict=True):
            events += kept.events_of(unsection(layer_bytes(raw)), unsection(layer_bytes(verdicts)))
        tracks: dict[str, Track] = {}
        for raw in opened.sections["tracks"]:  # a later layer's rows replace an earlier one's
            tracks.update(kept.tracks(unsection(layer_bytes(raw)), events))
        if opened.head == store.head:  # nothing is written back: the file's bytes need not all be held
            opened.leave_in_file(("events", "verdicts", "tracks"))
        return _Kept(opened.head, _load_log(store, opened.sections, events), tracks, events, opened.sections)
    except (ValueError, TypeError, KeyError, IndexError, EOFError):
        return None  # not what this code wrote: read the history again


# --- what is kept, as sections ---------------------------------------------------------------------


def _load_log(store: GitStore, sections: Mapping[str, list[Layer]], events: list[Event]) -> ReviewLog:
    """The kept history: the events and the articles at HEAD now, the rest when first looked into."""

    def later(name: str, made: Callable[[Any], Any]) -> Later[Any, Any]:
        return Later(lambda: made(_merged(sections[name])))

    order = LaterList(lambda: _merged(sections["order"])[0])
    config_blobs = later(
        "config_blobs", lambda blobs: dict(zip([e.commit for e in events], blobs, strict=True))
    )
    history = History(
        order=order,
        parents=later("order", lambda rows: dict(zip(rows[0], rows[1], strict=True))),
        events=events,
        changes=Rows(lambda: _merged(sections["changes"]), lambda rows: [Change(c, e) for c, e in rows]),
        authors=Rows(lambda: _merged(sections["authors"]), frozenset),
        heads=_merged(sections["heads"]),
        configs=Later(lambda: configs_of(store, config_blobs)),  # a few versions, read from git again
    )
    appeared = Rows(lambda: _merged(sections["appeared"]), kept.dates_of, kept.date_key, kept.text_key)
    return ReviewLog(history, appeared, config_blobs)


def _layers(name: str, made: _Made, reuse: _Kept | None) -> list[Layer]:
    """Section NAME's layers: one after a whole read; resumed from REUSE, its layers as they
    were read (with the digests they were checked against), with what this run added on top
    (MADE: the events judged, the tracks they touched, extend_history's new layer of each
    mapping), merged into one layer once the section has LAYERS_MAX of them. A whole section
    (MADE's second value) replaces REUSE's."""
    value, whole = made()
    layers: list[Layer] = [*reuse.sections[name]] if reuse is not None and not whole else []
    if len(layers) >= LAYERS_MAX:
        merged = _merged(layers)
        _extend(merged, value)
        return [section(merged)]
    if not layers or not _empty(value):
        layers.append(section(value))
    return layers


def _read_sections(log: ReviewLog, events: Sequence[Event], reuse: _Kept | None) -> list[tuple[str, _Made]]:
    """The sections a read gives, the same before the replay and after it (EVENTS: the read's or
    the judged, in order), and what makes each one's value as a layer over REUSE's (everything,
    without REUSE), with whether it is whole: a section written whole replaces REUSE's layers.
    Made when written (`_save`), so that no two sections' values are held at once."""
    history = log.history
    done = len(reuse.events) if reuse else 0
    if reuse is not None and isinstance(history.order, Appended):
        new_commits: Sequence[str] = history.order.added  # extend_history's: the kept order is not read
    else:
        new_commits = history.order[len(reuse.log.history.order) if reuse else 0 :]

    def config_blobs() -> list[str | None]:
        same = Shared().setdefault  # a few versions of reviewflow.toml: each blob id written once
        return [same(blob, blob) for blob in map(log.config_blobs.get, new_events)]

    new_events = [event.commit for event in events[done:]]  # the blob in force at each
    commit_starts = range(0, len(new_commits), ROWS_PER_LAYER) or [0]
    return [
        *(("events", _event_layer(events, start)) for start in _event_starts(events, done)),
        ("heads", lambda: (dict(history.heads), True)),  # small, and an article may be gone from it
        # commit ids are not shared: each is written twice (a tenth of the file)
        *(("order", _order_layer(new_commits, history.parents, start)) for start in commit_starts),
        *_mapping("changes", reuse, history.changes, lambda v: [(c.commit, c.author_email) for c in v]),
        *_mapping("authors", reuse, history.authors, tuple),
        ("config_blobs", lambda: (config_blobs(), False)),
        *_mapping("appeared", reuse, log.appeared, kept.when_all, kept.date_key),
    ]


def _judged_sections(replay: Replay, reuse: _Kept | None) -> list[tuple[str, _Made]]:
    """The sections the replay gives (the verdicts on the events, the tracks), as `_read_sections`."""
    done = len(reuse.events) if reuse else 0
    return [
        *(("verdicts", _verdict_layer(replay.judged, start)) for start in _event_starts(replay.judged, done)),
        *_track_layers(replay, reuse),
    ]


def _event_starts(events: Sequence[Event], done: int) -> range | list[int]:
    """Where each layer of the events from DONE on starts: layers of EVENTS_PER_LAYER, one
    layer's columns and bytes at a time (a whole read's at 100,000 articles, all at once, added
    ~240 MB to the peak); a layer even if there is none."""
    return range(done, len(events), EVENTS_PER_LAYER) or [done]


def _event_layer(events: Sequence[Event], start: int) -> _Made:
    return lambda: (tuple(kept.event_columns(events[start : start + EVENTS_PER_LAYER], Shared())), False)


def _verdict_layer(events: list[Event], start: int) -> _Made:
    return lambda: (tuple(kept.verdict_columns(events[start : start + EVENTS_PER_LAYER], Shared())), False)


def _order_layer(commits: Sequence[str], parents: Mapping[str, Any], start: int) -> _Made:
    """The commits from START on, a layer's worth, and their parents: made whole at 100,000
    articles (595,779 commits), their marshalled bytes added ~50 MB to the save's peak."""

    def layer() -> tuple[Any, bool]:
        chunk = list(commits[start : start + ROWS_PER_LAYER])
        return (chunk, [parents[commit] for commit in chunk]), False

    return layer


def _mapping(
    name: str,
    reuse: _Kept | None,
    mapping: Mapping[Any, Any],
    row: Callable[[Any], Any],
    key: Callable[[Any], Any] = lambda k: k,
) -> list[tuple[str, _Made]]:
    """Section NAME of MAPPING's rows: an Overlay's top layer over REUSE's, else every row
    (whole), in layers of ROWS_PER_LAYER, each made of the rows after the last one's (they are
    made in turn, `_save`), so that no more than a layer's rows are made at once."""
    if reuse is not None and isinstance(mapping, Overlay):
        top = mapping.top
        return [(name, lambda: ({key(k): row(v) for k, v in top.items()}, False))]
    rows = iter(mapping.items())

    def layer() -> tuple[dict[Any, Any], bool]:
        return {key(k): row(v) for k, v in itertools.islice(rows, ROWS_PER_LAYER)}, True

    return [(name, layer)] * max(1, -(-len(mapping) // ROWS_PER_LAYER))


def _merged(layers: Sequence[Layer]) -> Any:
    """A section's value from its layers, oldest first (see _extend)."""
    value = unsection(layer_bytes(layers[0]))
    for raw in layers[1:]:
        _extend(value, unsection(layer_bytes(raw)))
    return value


def _extend(value: Any, more: Any) -> None:
    """VALUE with a later layer MORE: a mapping's rows replace or add to it, a list's items (each
    list's, for a tuple of lists such as the event columns) follow its own."""
    if isinstance(value, dict):
        value.update(more)
    elif isinstance(value, tuple):
        for items, added in zip(value, more, strict=True):
            items.extend(added)
    else:
        value.extend(more)


def _empty(value: Any) -> bool:
    return not any(value) if isinstance(value, tuple) else not value


def _track_layers(replay: Replay, reuse: _Kept | None) -> list[tuple[str, _Made]]:
    """The replay state of every article, as rows in layers of ROWS_PER_LAYER articles (made in
    turn, `_save`: all at once they added ~40 MB to the save's peak at 100,000 articles); over
    REUSE, only those new events touched."""
    judged = replay.judged
    touched = None if reuse is None else {event.slug for event in judged[len(reuse.events) :]}
    slugs = [slug for slug in replay.tracks if touched is None or slug in touched]
    places: dict[str, list[int]] = {}  # made by the first layer, for them all

    def layer(start: int) -> _Made:
        def made() -> tuple[dict[str, Any], bool]:
            if not places:
                places.update(kept.places(judged, touched))
            rows = {}
            for slug in slugs[start : start + ROWS_PER_LAYER]:
                track = replay.tracks[slug]
                rows[slug] = kept.track_row(track, kept.placed(judged, places.get(slug, []), track))
            return rows, False

        return made

    return [("tracks", layer(start)) for start in range(0, len(slugs), ROWS_PER_LAYER) or [0]]
