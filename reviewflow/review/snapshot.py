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

import hashlib
import marshal
import os
import sys
from dataclasses import dataclass, fields
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from reviewflow.cache import record_key, record_tag
from reviewflow.config import Config
from reviewflow.errors import ReviewflowError
from reviewflow.gitstore import GitStore
from reviewflow.review.board import configs_of
from reviewflow.review.changes import conditions
from reviewflow.review.history import ReviewLog, extend_history, read_history
from reviewflow.review.model import (
    Action,
    ApprovedVersion,
    Change,
    Event,
    History,
    Outcome,
    State,
    Track,
)
from reviewflow.review.workflow import Replay

MAX_NEW_EVENTS = 2000  # beyond this many new events, a whole read (through the index) is cheaper
_ACTIONS = {action.value: action for action in Action}
_STATES = {state.value: state for state in State}


@dataclass(frozen=True)
class Judged:
    """A replayed history: the Replay (for judging one more event), its outcome, the dates."""

    replay: Replay
    outcome: Outcome
    appeared: dict[tuple[str, str], tuple[datetime, ...]]


def judged_history(store: GitStore, config: Config, use_cache: bool = True) -> Judged:
    """The whole history at HEAD, judged, from the kept state where it applies."""
    file = _path(store) if use_cache else None
    resumed = _resume(store, file, config) if file else None
    if resumed is not None:
        return resumed
    log = read_history(store, use_cache=use_cache)
    replay = Replay(log.history, config, store.article_file)
    outcome = replay.run()
    if file:
        _save(file, store.head, log, replay)
    return Judged(replay, outcome, dict(log.appeared))


def _resume(store: GitStore, file: _File, config: Config) -> Judged | None:
    """The kept state brought up to HEAD, or None where it cannot be (then: a whole read)."""
    kept = _load(store, file)
    if kept is None:
        return None
    head, log, tracks, judged, raw = kept
    if head != store.head:
        if not _few_new(store, head):
            return None
        extended = extend_history(store, log, head)
        if extended is None or len(extended.history.events) - len(judged) > MAX_NEW_EVENTS:
            return None
        log = extended
    replay = Replay(log.history, config, store.article_file)
    outcome = replay.resume(tracks, judged)
    if head != store.head:
        _save(file, store.head, log, replay, Reuse(raw, len(judged)))
    return Judged(replay, outcome, dict(log.appeared))


@dataclass(frozen=True)
class Reuse:
    """What a resumed run read from the file: most of it is written back as it was."""

    raw: tuple[Any, Any]  # (the history, the tracks) as plain data
    events: int  # how many of the events it holds


def _few_new(store: GitStore, head: str) -> bool:
    """Whether the current HEAD descends from HEAD by few enough commits to read them one by one."""
    try:
        out = store.run("rev-list", "--count", "--end-of-options", f"{head}..{store.head}", "--")
        ancestor = store.run("merge-base", "--end-of-options", head, store.head).decode().strip()
    except ReviewflowError:
        return False  # the kept HEAD is gone (a rewritten history, a pruned commit)
    return ancestor == head and 0 < int(out.decode().strip() or 0) <= 4 * MAX_NEW_EVENTS


# --- the file ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _File:
    """Where the kept state is, and the key that seals it: this user's, under the conditions it
    is made in (this repository, this git, this reviewflow code, this Python's marshal)."""

    path: Path
    key: bytes


_MAGIC = b"reviewflow replay 2 "


def _path(store: GitStore) -> _File | None:
    if store.git_dir is None:
        return None
    key = record_key(f"replay\0{conditions(store)}\0python {sys.version_info[:2]} marshal {marshal.version}")
    if key is None:
        return None  # nothing that cannot be checked is kept
    suffix = hashlib.sha1(store.prefix.encode()).hexdigest()[:12]
    return _File(store.git_dir / "reviewflow" / f"replay-v1-{suffix}", key)


def _save(file: _File, head: str, log: ReviewLog, replay: Replay, reuse: Reuse | None = None) -> None:
    payload = marshal.dumps((head, _dump_log(log, replay.judged, reuse), _dump_tracks(replay, reuse)))
    seal = _MAGIC + record_tag(file.key, payload, 32).encode() + b"\n"
    temporary = file.path.with_name(f"{file.path.name}.{os.getpid()}")
    try:
        file.path.parent.mkdir(exist_ok=True)
        temporary.write_bytes(seal + payload)
        os.replace(temporary, file.path)  # readers see the old file or the new one, never half
    except OSError:
        temporary.unlink(missing_ok=True)  # a cache that cannot be written only costs time


def _load(
    store: GitStore, file: _File
) -> tuple[str, ReviewLog, dict[str, Track], list[Event], tuple[Any, Any]] | None:
    """The kept state, if its seal checks out: made by this user, under these conditions, whole
    and unaltered (a torn, damaged or foreign file is read again from git)."""
    try:
        data = file.path.read_bytes()
    except OSError:
        return None
    stamp, _, payload = data.partition(b"\n")
    if not stamp.startswith(_MAGIC) or stamp[len(_MAGIC) :] != record_tag(file.key, payload, 32).encode():
        return None
    try:
        head, log, tracks = marshal.loads(payload)
        events = [_event(row) for row in log[2]]
        return head, _load_log(store, log, events), _load_tracks(tracks, events), events, (log, tracks)
    except (ValueError, TypeError, KeyError, IndexError, EOFError):
        return None  # not what this code wrote: read the history again


# --- what is kept, as plain data ------------------------------------------------------------------
# Dates are (POSIX seconds, UTC offset in seconds); events are referred to by their place in the
# history; configurations by the text of their reviewflow.toml.

_ZONES: dict[int, timezone] = {}


def _when(moment: datetime) -> tuple[float, int]:
    offset = moment.utcoffset()
    return moment.timestamp(), int(offset.total_seconds()) if offset is not None else 0


def _date(value: tuple[float, int]) -> datetime:
    seconds, offset = value
    zone = _ZONES.get(offset)
    if zone is None:
        zone = _ZONES[offset] = timezone(timedelta(seconds=offset))
    return datetime.fromtimestamp(seconds, zone)


def _dump_event(event: Event) -> tuple[Any, ...]:
    return (
        event.commit, event.parents, event.author_name, event.author_email, _when(event.committed_at),
        event.action.value if event.action else None, event.slug, event.content, event.message,
        event.signature, event.signing_key, event.committed_blob, event.problem, event.valid, event.reason,
        event.superseded, event.accepted,
    )  # fmt: skip


# _dump_event's order, which is the order Event declares its fields in.
_EVENT_FIELDS = tuple(f.name for f in fields(Event))


def _event(row: tuple[Any, ...]) -> Event:
    """An Event from its kept row: its fields filled straight from the row (there are tens of
    thousands; keyword arguments were half of what restoring the kept state cost)."""
    event = object.__new__(Event)  # as read_event does, with every field from the row
    values = event.__dict__
    values.update(zip(_EVENT_FIELDS, row, strict=True))
    action = values["action"]
    values["committed_at"] = _date(values["committed_at"])
    values["action"] = _ACTIONS[action] if action is not None else None
    values["accepted"] = tuple(values["accepted"])
    return event


def _dump_log(log: ReviewLog, judged: list[Event], reuse: Reuse | None = None) -> tuple[Any, ...]:
    """LOG as plain data, its events as JUDGED (the same events, with their verdicts); the
    events and dates that REUSE holds already are taken from it as they are."""
    history = log.history
    kept_events = reuse.raw[0][2][: reuse.events] if reuse else []
    kept_dates = reuse.raw[0][7] if reuse else {}
    dates = {}
    for (slug, blob), times in log.appeared.items():
        key = f"{slug}\0{blob}"
        known = kept_dates.get(key)
        dates[key] = known if known is not None and len(known) == len(times) else [_when(t) for t in times]
    return (
        history.order,
        [history.parents[commit] for commit in history.order],
        [*kept_events, *(_dump_event(event) for event in judged[len(kept_events) :])],
        {slug: [(c.commit, c.author_email) for c in changes] for slug, changes in history.changes.items()},
        {blob: tuple(emails) for blob, emails in history.authors.items()},
        dict(history.heads),
        dict(log.config_blobs),
        dates,
    )


def _load_log(store: GitStore, data: tuple[Any, ...], events: list[Event]) -> ReviewLog:
    order, parents, _, changes, authors, heads, config_blobs, appeared = data
    history = History(
        order=order,
        parents=dict(zip(order, parents, strict=True)),
        events=events,
        changes={slug: [Change(c, e) for c, e in rows] for slug, rows in changes.items()},
        authors={blob: frozenset(emails) for blob, emails in authors.items()},
        heads=heads,
        configs=configs_of(store, config_blobs),  # a few versions, read from git and parsed again
    )
    dates = {tuple(key.split("\0", 1)): tuple(_date(t) for t in times) for key, times in appeared.items()}
    return ReviewLog(history, dates, config_blobs)  # type: ignore[arg-type]


def _dump_tracks(replay: Replay, reuse: Reuse | None = None) -> dict[str, tuple[Any, ...]]:
    """Every article's replay state as plain data (REUSE's, for those no new event touched)."""
    place = {id(event): index for index, event in enumerate(replay.judged)}
    touched = {event.slug for event in replay.judged[reuse.events :]} if reuse else set()
    tracks = {}
    for slug, track in replay.tracks.items():
        if reuse and slug not in touched and slug in reuse.raw[1]:
            tracks[slug] = reuse.raw[1][slug]
            continue
        approved = track.approved
        version = (
            (approved.commit, approved.blob, approved.approvers, _when(approved.approved_at))
            if approved
            else None
        )
        tracks[slug] = (
            track.state.value,
            track.content,
            [(actor, place[id(event)]) for actor, event in track.approvers.items()],
            list(track.reviewers),
            version,
            _when(track.submitted_at) if track.submitted_at else None,
            [place[id(event)] for event in track.events],
        )
    return tracks


def _load_tracks(rows: dict[str, tuple[Any, ...]], events: list[Event]) -> dict[str, Track]:
    tracks = {}
    for slug, (state, content, approvers, reviewers, approved, submitted_at, placed) in rows.items():
        tracks[slug] = Track(
            state=_STATES[state],
            content=content,
            approvers={actor: events[index] for actor, index in approvers},
            reviewers=list(reviewers),
            approved=ApprovedVersion(approved[0], approved[1], tuple(approved[2]), _date(approved[3]))
            if approved
            else None,
            submitted_at=_date(submitted_at) if submitted_at else None,
            events=[events[index] for index in placed],
        )
    return tracks
