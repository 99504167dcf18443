"""The review state machine: events in, the state of every article out.

Pure: no git, no files, no printing. `replay` takes the review events reachable from HEAD in
first-parent order (each merged branch's commits just before the merge that brings them in; see
history.first_parent_order), plus who changed which article and who wrote each version, and
judges every event against the board and the transition table. Only valid events move an
article's state; invalid and superseded ones are kept, with the reason, for `history` and
`verify`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property

from reviewflow.collector import collection_paused
from reviewflow.config import BoardMember, Config
from reviewflow.layout import article_path
from reviewflow.review.model import (
    BOARD_ACTIONS,
    NEEDS,
    TRANSITIONS,
    Action,
    ArticleStatus,
    Event,
    History,
    Outcome,
    State,
    Track,
)
from reviewflow.review.tracks import apply_event, article_status

# The track of every article with no events, read and never changed (`status`): nothing is made
# for each such article.
_UNTRACKED = Track()
# Judging at least this many events pauses the cycle collector (collector.py): a whole history,
# not the few new events of a kept one.
MANY_EVENTS = 10_000


def replay(history: History, config: Config) -> dict[str, ArticleStatus]:
    """The state of every article at HEAD and of every article with events."""
    return judge(history, config).statuses


def judge(history: History, config: Config) -> Outcome:
    """Judge every event in order, then derive each article's state from the valid ones."""
    return Replay(history, config).run()


def ssh_fingerprint(public_key: str) -> str:
    """The SHA256 fingerprint of an OpenSSH public key, as git's %GK and ssh-keygen -l show it."""
    try:
        blob = base64.b64decode(public_key.split()[1], validate=True)
    except (IndexError, binascii.Error):
        return ""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def _judged(event: Event, verdict: Verdict) -> Event:
    """EVENT with the verdict set (valid, reason, superseded: its three fields before the last)."""
    reason = verdict if isinstance(verdict, str) or verdict is None else verdict.reason
    return tuple.__new__(
        Event, (*event[:_VALID], verdict is None, reason, isinstance(verdict, Superseded), event.accepted)
    )


_VALID = Event._fields.index("valid")


@dataclass(frozen=True)
class Superseded:
    """Why a sound event from a merged branch takes no effect."""

    reason: str


Verdict = str | Superseded | None  # why an event does not count; None: it counts


class Replay:
    """One pass over the history; afterwards it can judge one more event on top of HEAD."""

    def __init__(
        self, history: History, config: Config, path_of: Callable[[str], str] = article_path
    ) -> None:
        self.history = history
        self.config = config
        self.path_of = path_of  # slug -> its file at the tip (in a subdirectory of articles/, maybe)
        self.tracks: dict[str, Track] = {}
        self.judged: list[Event] = []
        self._members: dict[int, dict[str, BoardMember]] = {}  # id(config) -> its board by email
        self._fingerprints: dict[str, str] = {}  # signing key -> its fingerprint
        self._same_emails: dict[tuple[str, str], bool] = {}  # (member's email, author email) -> same
        # (text, actor) of each question about a text in `history.authors_later`, answered here
        # as "not listed": whoever reads the answers later replays again if one was listed.
        self.asked_later: set[tuple[str, str]] = set()

    @cached_property
    def position(self) -> dict[str, int]:
        """commit -> its place in the order (made when an event is first judged against it: a run
        on the kept state that judges nothing new never needs it)."""
        return {commit: index for index, commit in enumerate(self.history.order)}

    @cached_property
    def run_of(self) -> dict[str, int]:
        """commit -> its run: a stretch of the order where each commit's first parent is the one
        before it. Within a run, an earlier commit is an ancestor of a later one: no walk needed."""
        runs: dict[str, int] = {}
        run, previous = 0, None
        for commit in self.history.order:
            first = self.history.parents.get(commit, ())[:1]
            if previous is None or first != (previous,):
                run += 1
            runs[commit], previous = run, commit
        return runs

    def rules(self, event: Event) -> Config | str:
        """The configuration that judges EVENT (the one in its commit), or why there is none."""
        return self.history.configs.get(event.commit, self.config)

    def members(self, config: Config) -> dict[str, BoardMember]:
        board = self._members.get(id(config))
        if board is None:
            board = self._members[id(config)] = {m.key: m for m in config.board}
        return board

    def same_email(self, member: BoardMember, email: str) -> bool:
        """member.same_email(EMAIL), asked once per pair (a few members act 50,000 times)."""
        pair = (member.email, email)
        same = self._same_emails.get(pair)
        if same is None:
            same = self._same_emails[pair] = member.same_email(email)
        return same

    def fingerprint(self, key: str) -> str:
        if key not in self._fingerprints:
            self._fingerprints[key] = ssh_fingerprint(key)
        return self._fingerprints[key]

    def run(self) -> Outcome:
        """Judge every event of the history, from the start."""
        return self.resume({}, [])

    def resume(self, tracks: dict[str, Track], judged: Sequence[Event]) -> Outcome:
        """Judge the events after the first len(JUDGED), from the state they left (TRACKS).

        Replaying the first events again would give back TRACKS and JUDGED: an earlier run's
        state stands for them (snapshot.py keeps it between runs).
        """
        # A whole history's judged events and tracks are not walked by the cycle collector.
        many = len(self.history.events) - len(judged) >= MANY_EVENTS
        with collection_paused() if many else nullcontext():
            return self._judge(tracks, judged)

    def _judge(self, tracks: dict[str, Track], judged: Sequence[Event]) -> Outcome:
        self.tracks = tracks
        # Each judged event takes the read one's place in the history's list (a copy of the list
        # held beside it was a tenth of a cold read's memory at 100,000 articles): from now on
        # the judged events stand for the history's own. JUDGED's are those events, judged.
        events = self.history.events
        done = events if isinstance(events, list) else list(events)
        done[: len(judged)] = judged
        for index in range(len(judged), len(done)):
            event = done[index]
            track = None
            if event.slug:
                track = tracks.get(event.slug)
                if track is None:
                    track = tracks[event.slug] = Track()
            event = done[index] = _judged(event, self.reason(event, track))
            if track is not None:
                track.events.append(event)
                if event.valid:
                    self.apply(event, track)
        self.judged = done
        if done is not events:
            self.history = replace(self.history, events=done)
        return self.outcome()

    def outcome(self) -> Outcome:
        """Every article's state now, and every event judged so far."""
        slugs = sorted(set(self.history.heads) | set(self.tracks))
        return Outcome({slug: self.status(slug) for slug in slugs}, self.judged)

    def try_event(self, event: Event) -> tuple[Event, ArticleStatus]:
        """Judge EVENT as if it were committed on top of HEAD: the verdict and the state after.

        Nothing is kept: the replay state is the same afterwards.
        """
        track = self.tracks.get(event.slug, Track()).copy()
        event = _judged(event, self.reason(event, track))
        track.events.append(event)
        if event.valid:
            self.apply(event, track)
        return event, self.status(event.slug, track)

    def author_role(self, slug: str, email: str) -> str | None:
        """How EMAIL is an author of the article at HEAD (see `authorship`), or None."""
        blob = self.history.heads.get(slug)
        if blob is None:
            return None
        head = self.history.order[-1] if self.history.order else ""
        probe = Event(head, self.history.parents.get(head, ()), "", email, datetime.min, None, slug, blob, "")
        return self.authorship(probe, self.tracks.get(slug, Track()))

    # -- judging ---------------------------------------------------------------------------------

    def reason(self, event: Event, track: Track | None) -> Verdict:
        """Why EVENT does not count, or None when it is valid."""
        if event.problem or track is None or event.action is None:
            return event.problem or "not a review event: the Reviewflow-* trailers are incomplete"
        if event.committed_blob is None:
            path = self.path_of(event.slug)  # where it is (in a subdirectory of articles/, maybe)
            return f"{path} does not exist in this commit, so there is nothing to {event.action}"
        if event.committed_blob != event.content:
            path = self.path_of(event.slug)
            return (
                f"the content trailer names blob {event.content[:12]}, but {path} in this commit "
                f"is blob {event.committed_blob[:12]}: the event is not about the text it claims"
            )
        rules = self.rules(event)
        if isinstance(rules, str):
            return rules
        member = self.members(rules).get(event.actor)
        if member is not None and not self.same_email(member, event.author_email):
            member = None  # a look-alike of the member's email, not the member's
        role = self.role_problem(event, track, member)
        if role:
            return role
        if member is not None and member.signing_key:
            signature = self.signature_problem(event, member)
            if signature:
                return signature
        return self.merge_problem(event, track) or self.transition_problem(event, track)

    def merge_problem(self, event: Event, track: Track) -> Superseded | None:
        """Why an event made on a merged branch takes no effect at the merge, if it does not.

        It takes effect where HEAD's first-parent line merged it, and only for the text the
        merge holds: a stale round merged later (even with `-s ours`) cannot bring back the text
        it was about. And an approval from a branch replaces the published version only if it
        is newer: its history includes the approval that published it, or, made on a branch
        that never saw that approval, it was made after it. So a merge that resolves a file to
        an older approved text does not put that text back online. An event on the
        first-parent line needs neither test: everything judged before it is in its history.
        """
        merged = self.history.merged.get(event.commit)
        if merged is None:
            return None
        merge, blob = merged
        if blob != event.content:
            held = f"blob {blob[:12]}" if blob else "no such file"
            return Superseded(
                f"made on a branch that commit {merge[:12]} merged, and the merge holds {held} "
                f"as {self.path_of(event.slug)}, not the text this event is about: it takes no effect"
            )
        published = track.approved
        if (
            event.action is Action.APPROVE
            and published is not None
            and published.blob != event.content
            and event.committed_at <= published.approved_at
            and not self.is_ancestor(published.commit, event.commit, event.parents)
        ):
            return Superseded(
                f"an approval older than the one published (commit {published.commit[:12]}), made on "
                f"a branch without it and merged in commit {merge[:12]}: a merge cannot put an older "
                "approved text back online"
            )
        return None

    def role_problem(self, event: Event, track: Track, member: BoardMember | None) -> str | None:
        action = event.action
        if action in BOARD_ACTIONS:
            if member is None:
                return f"{event.author_email} is not on the advisory board, so cannot {action}"
            authored = self.authorship(event, track)
            if authored:
                return f"{event.author_email} {authored}, and an author may never {action} their own article"
        elif action is Action.WITHDRAW and not self.authorship(event, track):
            return f"{event.author_email} is not an author of this article: only an author may withdraw it"
        return None

    def signature_problem(self, event: Event, member: BoardMember) -> str | None:
        who = f"{member.email} has a signing_key in reviewflow.toml, so only actions signed with it count"
        if event.signature == "N":
            return f"the commit is not signed: {who}"
        if event.signature == "B":
            return f"the commit's signature is bad (the commit was altered after signing): {who}"
        if event.signature != "G" or event.signing_key != self.fingerprint(member.signing_key or ""):
            key = f" with key {event.signing_key}" if event.signing_key else ""
            return f"the commit is signed{key}, which is not {member.email}'s signing_key ({event.signature})"
        return None

    def transition_problem(self, event: Event, track: Track) -> str | None:
        assert event.action is not None
        state = track.state_for(event.content)
        if state not in TRANSITIONS[event.action]:
            changed = (
                " (its text changed since its last review event)"
                if state is State.DRAFT and track.content
                else ""
            )
            return f"the article is {state}{changed}, and {NEEDS[event.action]}"
        if event.action is Action.REQUEST_CHANGES and not event.message.strip():
            return "a request for changes must say what to change (a message)"
        return None

    def authorship(self, event: Event, track: Track) -> str | None:
        """How the actor is an author of the article at this event, or None if they are not.

        An author is anyone listed in the front-matter of the content acted on, or anyone who
        wrote a commit that changed the file since its last approval: a commit that is an
        ancestor of the event but not of the approval that reached the quorum.
        """
        actor = event.actor
        listed = self.history.authors.get(event.content)
        if listed is not None:
            if actor in listed:
                return "is listed in its authors"
        elif event.content in self.history.authors_later:
            self.asked_later.add((event.content, actor))
        approval = track.approved.commit if track.approved else None
        # The actor's changes, newest first, looked at in place: most actors changed nothing
        # (a list of each one's changes, made per event, was a tenth of the replay at 100,000).
        for change in reversed(self.history.changes.get(event.slug, ())):
            if change.author_email != actor:
                continue
            if change.commit in self.position and self.position[change.commit] > self.at(event):
                continue
            if not self.is_ancestor(change.commit, event.commit, event.parents):
                continue
            if approval is not None and self.is_ancestor(change.commit, approval):
                continue
            return f"changed it in commit {change.commit[:12]} since its last approval"
        return None

    def at(self, event: Event) -> int:
        return self.position.get(event.commit, len(self.history.order))

    def is_ancestor(self, ancestor: str, commit: str, parents: tuple[str, ...] | None = None) -> bool:
        """Whether ANCESTOR is COMMIT or one of its ancestors, walking no further back than it."""
        if ancestor == commit:
            return True
        floor = self.position.get(ancestor)
        if floor is None:
            return False
        run = self.run_of[ancestor]
        pending = list(parents if parents is not None else self.history.parents.get(commit, ()))
        seen: set[str] = set()
        while pending:
            current = pending.pop()
            where = self.position.get(current, -1)
            if where >= floor and self.run_of.get(current) == run:
                return True  # ANCESTOR is earlier on the same run
            if current in seen or where <= floor:
                continue  # parents come before children: nothing older can lead to it
            seen.add(current)
            pending.extend(self.history.parents.get(current, ()))
        return False

    # -- applying (tracks.py) ------------------------------------------------------------------

    def apply(self, event: Event, track: Track) -> None:
        quorum = self.config.policy.approvals_required
        if event.action is Action.APPROVE:  # the quorum of the event's own configuration
            rules = self.rules(event)
            quorum = rules.policy.approvals_required if isinstance(rules, Config) else quorum
        apply_event(event, track, quorum)

    def status(self, slug: str, track: Track | None = None) -> ArticleStatus:
        track = track or self.tracks.get(slug) or _UNTRACKED
        return article_status(
            slug, track, self.history.heads.get(slug), self.path_of(slug), self.config.policy
        )
