"""The review's plain data: states, actions, events, the history replay reads, the statuses it gives.

Pure: workflow.py's `Replay` judges these; history.py and snapshot.py build them; views show them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import NamedTuple

from reviewflow.config import Config
from reviewflow.layout import article_path


class State(StrEnum):  # a str: compares and serialises as its value
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under-review"
    CHANGES_REQUESTED = "changes-requested"
    APPROVED = "approved"


class Action(StrEnum):
    SUBMIT = "submit"
    REVIEW = "review"
    REQUEST_CHANGES = "request-changes"
    APPROVE = "approve"
    WITHDRAW = "withdraw"


BOARD_ACTIONS = frozenset({Action.REVIEW, Action.REQUEST_CHANGES, Action.APPROVE})
WAITING = frozenset({State.SUBMITTED, State.UNDER_REVIEW})  # for a reviewer: the queue

# Which states each action may start from. An approval of content that is already approved adds
# one more approver: with a quorum above one, members approve one after another, and approvals
# made on two branches must both count after the merge.
TRANSITIONS: dict[Action, frozenset[State]] = {
    Action.SUBMIT: frozenset({State.DRAFT}),
    # Another member may join a review under way: with a quorum above one, members review (and
    # approve) one after another, or on two branches that are merged.
    Action.REVIEW: frozenset({State.SUBMITTED, State.UNDER_REVIEW}),
    Action.REQUEST_CHANGES: frozenset({State.SUBMITTED, State.UNDER_REVIEW}),
    Action.APPROVE: frozenset({State.UNDER_REVIEW, State.APPROVED}),
    Action.WITHDRAW: frozenset({State.SUBMITTED, State.UNDER_REVIEW, State.CHANGES_REQUESTED}),
}
NEEDS: dict[Action, str] = {
    Action.SUBMIT: "only a draft can be submitted",
    Action.REVIEW: "only a submitted article can be taken into review (or a review under way joined)",
    Action.REQUEST_CHANGES: "changes can be requested only on a submitted article or one under review",
    Action.APPROVE: "only an article under review can be approved",
    Action.WITHDRAW: "only an article in review (submitted, under review, changes requested) is withdrawn",
}


class Event(NamedTuple):
    """One review action: a commit whose message carries the Reviewflow-* trailers.

    A tuple, not a dataclass: a history holds one per review commit (500,000 at 100,000
    articles), and a tuple is a quarter of the memory of an object with a dict, and is made
    from a kept row in one step (snapshot.py)."""

    commit: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    committed_at: datetime
    action: Action | None  # None when the action trailer is missing or unknown
    slug: str  # "" when the article trailer is missing or not a slug
    content: str  # the blob id the content trailer names ("" when missing)
    message: str
    signature: str = "N"  # git's verdict on the commit signature (%G?): G is good
    signing_key: str = ""  # the fingerprint of the key that signed it (%GK)
    committed_blob: str | None = None  # the blob of the article file actually in this commit
    problem: str | None = None  # malformed trailers, found while reading the commit
    valid: bool = False  # set by replay
    reason: str | None = None  # why the event does not count (set by replay)
    # Set by replay: a sound event from a merged branch that the merge left without effect (the
    # merge result holds another text, or a newer approval is published). Not counted, and not
    # a fault in the record either: `verify` lists it apart, `ci` warns.
    superseded: bool = False
    # An approval's Reviewflow-Accept trailers: the warnings its reviewer acknowledged, as
    # written (review/acknowledge.py reads them; verify and ci hold them against the text).
    accepted: tuple[str, ...] = ()

    @property
    def actor(self) -> str:
        """The acting person, as reviewflow compares people: the author email, lowercased."""
        return self.author_email.lower()

    @property
    def article(self) -> str:
        return self.slug

    @property
    def path(self) -> str:
        return article_path(self.slug)


@dataclass(frozen=True, slots=True)  # without a dict each: ~600,000 at 100,000 articles
class Change:
    """A commit that changed an article's file, and who wrote it."""

    commit: str
    author_email: str  # lowercased


@dataclass(frozen=True)
class History:
    """Everything replay needs, as plain data read from git."""

    order: Sequence[str]  # every commit reachable from HEAD, parents before children
    parents: Mapping[str, tuple[str, ...]]
    events: Sequence[Event]  # in the same order
    changes: Mapping[str, Sequence[Change]]  # slug -> commits that changed its file, in order
    authors: Mapping[str, frozenset[str]]  # blob -> front-matter author emails (lowercased),
    # at least every actor of an event on that blob who is one
    heads: Mapping[str, str]  # slug -> blob of its file at HEAD
    # commit -> the reviewflow.toml in force for the event in that commit (the one committed
    # there), or why there is none; an event not listed is judged by Replay's config.
    configs: Mapping[str, Config | str] = field(default_factory=dict)
    # For each event made on a merged branch (not on HEAD's first-parent line): the commit of
    # that line which merged it, and the blob of the event's article there (None: no such file).
    # Such an event takes effect at that merge, and only for the text the merge holds.
    merged: Mapping[str, tuple[str, str | None]] = field(default_factory=dict)
    # Texts whose authors are not in `authors`, each with the people in question: answered after
    # the replay (verify with nothing kept: its early checks' workers parse them anyway), which
    # assumes no one listed and records what it asked about them (`Replay.asked_later`).
    authors_later: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def before(self, base: str, after: Collection[str]) -> History:
        """The history at BASE, a commit on this one's first-parent line, AFTER being the commits
        that follow it (BASE..tip): the same order, events and facts without them, which is
        what a read at BASE gives (except the article files at BASE, left out)."""
        keep = [commit for commit in self.order if commit not in after]
        assert keep and keep[-1] == base, "BASE must be on the first-parent line"
        return History(
            order=keep,
            parents={commit: self.parents[commit] for commit in keep},
            events=[event for event in self.events if event.commit not in after],
            changes={
                slug: [c for c in changed if c.commit not in after] for slug, changed in self.changes.items()
            },
            authors=self.authors,
            heads={},
            configs=self.configs,
            merged={c: at for c, at in self.merged.items() if c not in after},
            authors_later=self.authors_later,
        )


@dataclass(frozen=True, slots=True)
class ApprovedVersion:
    """The content that reached the quorum: what publishing uses."""

    commit: str  # the approval that reached the quorum
    blob: str
    approvers: tuple[str, ...]  # emails, lowercased, sorted
    approved_at: datetime  # committer date of that approval


class ArticleStatus(NamedTuple):
    """Where one article stands at HEAD.

    A tuple, as `Event` is: the replay's outcome makes one per article (100,000 at 100,000
    articles), and a frozen dataclass was made field by field, each through
    `object.__setattr__` (~19,000 instructions a status, against a few hundred for a tuple made
    in one step: `tracks.article_status`)."""

    slug: str
    path: str
    state: State
    blob: str | None  # at HEAD; None when the file is no longer there
    approvals: int  # distinct board members approving the current content
    approvals_required: int
    approved_by: tuple[str, ...]
    approved: ApprovedVersion | None  # the last approved version, kept after later edits
    submitted_at: datetime | None  # when the current review round started (waiting states only)
    review_due: date | None  # approved.approved_at.date() + policy.review_cycle_days
    events: tuple[Event, ...] = ()  # valid and invalid, oldest first
    reviewers: tuple[str, ...] = ()  # who started a review in the current round

    @property
    def live_differs(self) -> bool | None:
        """Whether the file at HEAD differs from the approved version (None: never approved)."""
        return None if self.approved is None else self.approved.blob != self.blob

    @property
    def last_event(self) -> Event | None:
        return next((e for e in reversed(self.events) if e.valid), None)


@dataclass(frozen=True)
class Outcome:
    statuses: dict[str, ArticleStatus]
    events: list[Event]  # every event, judged, in topological order


@dataclass(slots=True)  # 100,000 of each at 100,000 articles: no dict each
class Track:
    """The replay state of one article."""

    state: State = State.DRAFT
    content: str | None = None  # the blob of its latest valid event
    approvers: dict[str, Event] = field(default_factory=dict)  # this round, this content
    reviewers: list[str] = field(default_factory=list)
    approved: ApprovedVersion | None = None
    submitted_at: datetime | None = None
    events: list[Event] = field(default_factory=list)

    def copy(self) -> Track:
        """A track to judge a trial event on (Replay.try_event): its lists and map copied, the
        events and the approved version (never changed in place) shared. Not `deepcopy`, which
        sets a frozen dataclass's fields one by one where it is compiled (mypyc) and fails."""
        return replace(
            self, approvers=dict(self.approvers), reviewers=list(self.reviewers), events=list(self.events)
        )

    def state_for(self, content: str) -> State:
        """The state an event on CONTENT starts from: a draft when the text changed since."""
        return self.state if content == self.content else State.DRAFT
