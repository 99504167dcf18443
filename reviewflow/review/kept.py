"""The judged history as plain data (for marshal) and back: what snapshot.py keeps between runs.

Dates are (POSIX seconds, UTC offset in seconds); events are columns, one per field in the order
Event declares them (the replay's verdicts apart from what the read gives: the two are written
by two processes, snapshot.py), and are referred to elsewhere by their place in the history;
configurations by the blob of their reviewflow.toml. Equal strings are written once (`Shared`): marshal then
writes each commit id, email and message once and reads them back as one object, which halves
the file and the memory of 50,000 events. The parts a command may never look at (who changed
which file, the texts' authors, the configurations, when each text appeared, the commit order) are
kept as sections of their own and read on first use (`Later`).
"""

from __future__ import annotations

import functools
import marshal
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar, overload

from reviewflow.collector import collection_paused
from reviewflow.review.model import Action, ApprovedVersion, Event, State, Track

_ACTIONS = {action.value: action for action in Action}
_STATES = {state.value: state for state in State}
_ZONES: dict[int, timezone] = {}
_ACTION_VALUES: dict[Action | None, str] = {action: action.value for action in Action}
_VALID = Event._fields.index("valid")
_VERDICT = slice(_VALID, _VALID + 3)  # valid, reason, superseded: what the replay sets
_READ_FIELDS = [*Event._fields[: _VERDICT.start], *Event._fields[_VERDICT.stop :]]
_MOMENT = _READ_FIELDS.index("committed_at")
_ACTION = _READ_FIELDS.index("action")
_PARENTS = _READ_FIELDS.index("parents")
_SHARED_FIELDS = [
    _READ_FIELDS.index(name)
    for name in (
        "commit", "author_name", "author_email", "slug", "content", "message", "signing_key",
        "committed_blob", "problem", "accepted",
    )
]  # fmt: skip
_REASON = Event._fields.index("reason") - _VALID

K = TypeVar("K")
V = TypeVar("V")


class Later(Mapping[K, V]):
    """A mapping made by LOAD when it is first looked into (a kept section, unmarshalled)."""

    def __init__(self, load: Callable[[], Mapping[K, V]]) -> None:
        self._load = load
        self._data: Mapping[K, V] | None = None

    @property
    def data(self) -> Mapping[K, V]:
        # Two threads of the desk may both load it: the same data, and no state half set.
        data = self._data
        if data is None:
            with collection_paused():  # a whole section's rows, kept to the end: see collector.py
                data = self._data = self._load()
        return data

    def __getitem__(self, key: K) -> V:
        return self.data[key]

    def get(self, key: K, default: Any = None) -> Any:
        return self.data.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.data

    def __iter__(self) -> Iterator[K]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


class LaterList(Sequence[V]):
    """A list made by LOAD when it is first looked into."""

    def __init__(self, load: Callable[[], list[V]]) -> None:
        self._load = load
        self._data: list[V] | None = None

    @property
    def data(self) -> list[V]:
        data = self._data
        if data is None:
            with collection_paused():
                data = self._data = self._load()
        return data

    @overload
    def __getitem__(self, index: int) -> V: ...
    @overload
    def __getitem__(self, index: slice) -> list[V]: ...
    def __getitem__(self, index: int | slice) -> V | list[V]:
        return self.data[index]

    def __iter__(self) -> Iterator[V]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


class Appended(LaterList[V]):
    """BASE followed by ADDED, made into one list when first looked into: a run that adds a few
    commits to the kept order need not read the order (most never look into it)."""

    def __init__(self, base: Sequence[V], added: list[V]) -> None:
        super().__init__(lambda: [*base, *added])
        self.added = added


class Rows(Mapping[K, V]):
    """A kept section's rows (LOAD, when first needed), each made into its value (MADE) when
    first asked for: a run asks for a few texts' authors and a build for the dates of the ~10,000
    published texts, of tens of thousands kept. KEY: a key as the section keeps it; UNKEY back."""

    def __init__(
        self,
        load: Callable[[], Mapping[Any, Any]],
        made: Callable[[Any], V],
        key: Callable[[K], Any] = lambda k: k,
        unkey: Callable[[Any], K] = lambda k: k,
    ) -> None:
        self._rows = Later(load)
        self._made, self._key, self._unkey = made, key, unkey
        self._values: dict[K, V] = {}

    def __getitem__(self, key: K) -> V:
        if key in self._values:
            return self._values[key]
        value = self._values[key] = self._made(self._rows[self._key(key)])
        return value

    def __iter__(self) -> Iterator[K]:
        return map(self._unkey, self._rows)

    def __len__(self) -> int:
        return len(self._rows)


class Overlay(Mapping[K, V]):
    """TOP's entries over UNDER's: what new commits changed, over the kept mapping, which is
    neither copied nor (for keys in TOP) looked into."""

    def __init__(self, top: Mapping[K, V], under: Mapping[K, V]) -> None:
        self.top, self.under = top, under

    def __getitem__(self, key: K) -> V:
        return self.top[key] if key in self.top else self.under[key]

    def get(self, key: K, default: Any = None) -> Any:
        return self.top[key] if key in self.top else self.under.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.top or key in self.under

    def __iter__(self) -> Iterator[K]:
        yield from self.top
        for key in self.under:  # a loop, not a generator expression, which mypyc makes a list
            if key not in self.top:
                yield key

    def __len__(self) -> int:
        return len(self.top) + sum(1 for key in self.under if key not in self.top)


class Shared(dict[Any, Any]):
    """One object for each distinct string (or tuple of them) written: marshal writes the
    others as references to it. `share(value)`, or its `setdefault(value, value)` in a loop."""

    def share(self, value: Any) -> Any:
        if isinstance(value, tuple):
            value = tuple(self.setdefault(item, item) for item in value)
        return self.setdefault(value, value)


def section(value: Any) -> bytes:
    return marshal.dumps(value)


def unsection(raw: bytes | memoryview) -> Any:
    return marshal.loads(raw)


def when(moment: datetime) -> tuple[float, int]:
    offset = moment.utcoffset()
    return moment.timestamp(), int(offset.total_seconds()) if offset is not None else 0


@functools.lru_cache(maxsize=1 << 17)
def date(value: tuple[float, int]) -> datetime:
    """The moment of a kept date (an approval's is its event's: made once)."""
    seconds, offset = value
    zone = _ZONES.get(offset)
    if zone is None:
        zone = _ZONES[offset] = timezone(timedelta(seconds=offset))
    return datetime.fromtimestamp(seconds, zone)


def event_columns(events: Sequence[Event], shared: Shared) -> list[list[Any]]:
    """EVENTS as columns, one list per field in the order Event declares them but the replay's
    verdicts (`verdict_columns`): what a read gives, the same before the replay and after it.
    The moments and actions as plain values, the commit ids, blobs, people and messages that
    events share written once. Made by loops in C (zip, map): a row per event, in Python, cost
    a tenth of a cold `status` at 50,000 events."""
    if not events:
        return [[] for _ in _READ_FIELDS]
    columns = [list(column) for column in zip(*events, strict=True)]
    del columns[_VERDICT]
    same = shared.setdefault
    for at in _SHARED_FIELDS:  # the content before the committed blob: mostly the same id
        columns[at] = list(map(same, columns[at], columns[at]))
    columns[_PARENTS] = [tuple(map(same, parents, parents)) for parents in columns[_PARENTS]]
    columns[_MOMENT] = list(map(when, columns[_MOMENT]))
    columns[_ACTION] = list(map(_ACTION_VALUES.get, columns[_ACTION]))  # None stays None
    return columns


def verdict_columns(events: Sequence[Event], shared: Shared) -> list[list[Any]]:
    """The replay's verdicts on EVENTS as columns (valid, reason, superseded), the reasons that
    events share written once."""
    columns: list[list[Any]] = [[], [], []]
    if events:
        columns = [list(column) for column in zip(*map(operator.itemgetter(_VERDICT), events), strict=True)]
    reasons = columns[_REASON]
    columns[_REASON] = list(map(shared.setdefault, reasons, reasons))
    return columns


def events_of(columns: Sequence[list[Any]], verdicts: Sequence[list[Any]]) -> list[Event]:
    """The events of kept columns (`event_columns`, `verdict_columns`), each made in one step."""
    if len(columns) != len(_READ_FIELDS) or len(verdicts) != _VERDICT.stop - _VERDICT.start:
        raise ValueError("the kept events are not whole")
    if len({len(column) for column in (*columns, *verdicts)}) > 1:
        raise ValueError("the kept events are not whole")
    made = list(columns)
    made[_MOMENT] = list(map(date, columns[_MOMENT]))
    made[_ACTION] = [_ACTIONS[value] if value is not None else None for value in columns[_ACTION]]
    made[_VALID:_VALID] = verdicts
    return list(map(_make_event, zip(*made, strict=True)))


_make_event = functools.partial(tuple.__new__, Event)


def track_row(track: Track, placed: list[int]) -> tuple[Any, ...]:
    """TRACK as a row, its events by their place in the history (PLACED: each of its events')."""
    approved = track.approved
    version = (
        (approved.commit, approved.blob, approved.approvers, when(approved.approved_at)) if approved else None
    )
    return (
        track.state.value,
        track.content,
        [(actor, placed[_position(track.events, event)]) for actor, event in track.approvers.items()],
        list(track.reviewers),
        version,
        when(track.submitted_at) if track.submitted_at else None,
        placed,
    )


def _position(events: list[Event], event: Event) -> int:
    """Where EVENT itself (not an equal one) is in EVENTS."""
    return next(at for at, each in enumerate(events) if each is event)


def places(judged: list[Event], touched: set[str] | None) -> dict[str, list[int]]:
    """The place in the history of each event of each article (of those TOUCHED), in one pass:
    a track's events are every event on its article, in order (Replay.resume). A map of every
    event to its place took ~55 MB at 100,000 articles (515,612 events) at the save's peak."""
    places: dict[str, list[int]] = {}
    for index, event in enumerate(judged):
        if event.slug and (touched is None or event.slug in touched):
            places.setdefault(event.slug, []).append(index)
    return places


def placed(judged: list[Event], placed: list[int], track: Track) -> list[int]:
    """Where TRACK's events are in JUDGED: its article's places (PLACED), once they are seen to
    be its events; else (a track that is not its article's events in order) each looked for."""
    if len(placed) == len(track.events) and all(
        map(operator.is_, map(judged.__getitem__, placed), track.events)
    ):
        return placed
    every = {id(event): index for index, event in enumerate(judged)}
    return [every[id(event)] for event in track.events]


def tracks(rows: Mapping[str, tuple[Any, ...]], events: list[Event]) -> dict[str, Track]:
    found = {}
    for slug, (state, content, approvers, reviewers, approved, submitted_at, placed) in rows.items():
        found[slug] = Track(
            state=_STATES[state],
            content=content,
            approvers={actor: events[index] for actor, index in approvers},
            reviewers=list(reviewers),
            approved=ApprovedVersion(approved[0], approved[1], tuple(approved[2]), date(approved[3]))
            if approved
            else None,
            submitted_at=date(submitted_at) if submitted_at else None,
            events=[events[index] for index in placed],
        )
    return found


def when_all(times: Sequence[datetime]) -> list[tuple[float, int]]:
    return [when(t) for t in times]


def date_key(key: tuple[str, str]) -> str:
    """The key of a text's dates: (slug, blob) as one string."""
    return f"{key[0]}\0{key[1]}"


def dates_of(times: Sequence[tuple[float, int]]) -> tuple[datetime, ...]:
    return tuple(map(date, times))


def text_key(key: str) -> tuple[str, str]:
    """(slug, blob) from the key of a text's dates (`date_key`)."""
    slug, _, blob = key.partition("\0")
    return slug, blob
