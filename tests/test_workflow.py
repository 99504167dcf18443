"""The pure state machine: histories built by hand, no git."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest

from reviewflow.config import BoardMember, Config, Policy
from reviewflow.review.model import Action, ApprovedVersion, ArticleStatus, Change, Event, History, State
from reviewflow.review.workflow import Replay, replay, ssh_fingerprint

RITA, SAM, ALICE, MALLORY = "rita@board.example", "sam@board.example", "alice@authors.example", "m@x.example"
V1, V2 = "1" * 40, "2" * 40
SLUG = "poems"
RITA_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOvBgn6MzNuHxvpdhSsm3pG0GW3YY/xPjw6qOLqOWxFe rita"
START = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def config(quorum: int = 1, rita_key: str | None = None) -> Config:
    return Config(
        policy=Policy(approvals_required=quorum, review_cycle_days=30),
        board=[
            BoardMember(name="Rita", email="Rita@Board.example", credentials="MD", signing_key=rita_key),
            BoardMember(name="Sam", email=SAM, credentials="MD"),
        ],
    )


@dataclass
class Story:
    """A linear (or branching) history, written commit by commit."""

    order: list[str] = field(default_factory=list)
    parents: dict[str, tuple[str, ...]] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    changes: dict[str, list[Change]] = field(default_factory=dict)
    authors: dict[str, frozenset[str]] = field(
        default_factory=lambda: {V1: frozenset({ALICE}), V2: frozenset({ALICE})}
    )
    heads: dict[str, str] = field(default_factory=lambda: {SLUG: V1})

    def commit(self, parents: Iterable[str] | None = None) -> str:
        sha = f"{len(self.order) + 1:040x}"
        self.parents[sha] = tuple(parents) if parents is not None else tuple(self.order[-1:])
        self.order.append(sha)
        return sha

    def edit(self, who: str, blob: str, parents: Iterable[str] | None = None) -> str:
        sha = self.commit(parents)
        self.changes.setdefault(SLUG, []).append(Change(sha, who))
        self.heads[SLUG] = blob
        return sha

    def act(self, who: str, action: Action, content: str = "", message: str = "", **extra: object) -> str:
        parents = extra.pop("parents", None)
        sha = self.commit(parents)  # type: ignore[arg-type]
        content = content or self.heads[SLUG]
        fields: dict = dict(
            commit=sha,
            parents=self.parents[sha],
            author_name=who.split("@")[0],
            author_email=who,
            committed_at=START + timedelta(hours=len(self.order)),
            action=action,
            slug=SLUG,
            content=content,
            message=message,
            committed_blob=content,
        )
        fields.update(extra)
        self.events.append(Event(**fields))  # type: ignore[arg-type]
        return sha

    def history(self) -> History:
        return History(self.order, self.parents, self.events, self.changes, self.authors, self.heads)

    def status(self, cfg: Config | None = None) -> ArticleStatus:
        return replay(self.history(), cfg or config())[SLUG]


def lifecycle(story: Story) -> Story:
    story.edit(ALICE, V1)
    story.act(ALICE, Action.SUBMIT, message="Ready")
    story.act(RITA, Action.REVIEW)
    return story


def test_full_lifecycle_reaches_approved_and_keeps_the_approved_version() -> None:
    story = lifecycle(Story())
    approval = story.act(RITA, Action.APPROVE, message="Accurate")
    status = story.status()
    assert status.state is State.APPROVED
    assert (status.approvals, status.approvals_required, status.approved_by) == (1, 1, (RITA,))
    assert status.approved is not None
    assert (status.approved.commit, status.approved.blob, status.approved.approvers) == (
        approval,
        V1,
        (RITA,),
    )
    assert status.review_due == status.approved.approved_at.date() + timedelta(days=30)
    assert all(e.valid for e in status.events) and len(status.events) == 3


def test_no_events_is_a_draft() -> None:
    status = Story(heads={SLUG: V1}).status()
    assert (status.state, status.approved, status.events, status.blob) == (State.DRAFT, None, (), V1)


@pytest.mark.parametrize(
    ("steps", "action", "needs"),
    [
        ([], Action.APPROVE, "only an article under review can be approved"),
        ([], Action.REVIEW, "only a submitted article can be taken into review"),
        ([Action.SUBMIT], Action.SUBMIT, "only a draft can be submitted"),
        ([Action.SUBMIT], Action.APPROVE, "only an article under review"),
        ([], Action.WITHDRAW, "is withdrawn"),
    ],
)
def test_transitions_not_in_the_table_are_invalid(steps: list[Action], action: Action, needs: str) -> None:
    story = Story()
    story.edit(ALICE, V1)
    for step in steps:
        story.act(ALICE, step)
    story.act(ALICE if action in (Action.SUBMIT, Action.WITHDRAW) else RITA, action, message="x")
    status = story.status()
    last = status.events[-1]
    assert not last.valid and last.reason is not None and needs in last.reason
    assert status.state is (State.SUBMITTED if steps else State.DRAFT)


def test_someone_not_on_the_board_cannot_review_or_approve() -> None:
    story = lifecycle(Story())
    story.act(MALLORY, Action.APPROVE)
    status = story.status()
    assert status.state is State.UNDER_REVIEW
    assert "not on the advisory board" in (status.events[-1].reason or "")


def test_board_emails_match_case_insensitively() -> None:
    story = lifecycle(Story())
    story.act("RITA@board.EXAMPLE", Action.APPROVE)
    assert story.status().state is State.APPROVED


def test_a_listed_author_may_not_approve_their_own_article() -> None:
    story = lifecycle(Story(authors={V1: frozenset({ALICE, SAM})}))
    story.act(SAM, Action.APPROVE)
    status = story.status()
    assert status.state is State.UNDER_REVIEW
    assert "listed in its authors" in (status.events[-1].reason or "")


def test_who_changed_the_article_since_its_last_approval_is_an_author() -> None:
    story = lifecycle(Story())
    story.act(SAM, Action.APPROVE)  # v1 approved
    story.edit(RITA, V2)  # Rita fixes a typo
    story.act(ALICE, Action.SUBMIT)
    story.act(SAM, Action.REVIEW)
    story.act(RITA, Action.APPROVE)
    status = story.status()
    assert status.state is State.UNDER_REVIEW
    assert "changed it in commit" in (status.events[-1].reason or "")
    assert status.approved is not None and status.approved.blob == V1


def test_a_change_before_the_last_approval_no_longer_makes_an_author() -> None:
    story = Story()
    story.edit(ALICE, V1)
    story.edit(RITA, V1)  # Rita's edit, reviewed and approved by Sam
    story.act(ALICE, Action.SUBMIT)
    story.act(SAM, Action.REVIEW)
    story.act(SAM, Action.APPROVE)
    story.edit(ALICE, V2)
    story.act(ALICE, Action.SUBMIT)
    story.act(RITA, Action.REVIEW)
    story.act(RITA, Action.APPROVE)
    status = story.status()
    assert status.state is State.APPROVED, status.events[-1].reason
    assert status.approved is not None and status.approved.blob == V2


def test_an_edit_on_a_parallel_branch_is_not_forgiven_by_an_approval_on_the_other() -> None:
    story = Story()
    base = story.edit(ALICE, V1)
    story.act(ALICE, Action.SUBMIT)
    story.act(SAM, Action.REVIEW)
    branch_edit = story.edit(RITA, V2, parents=[base])  # Rita edits on a branch...
    approval = story.act(SAM, Action.APPROVE, content=V1, committed_blob=V1, parents=[story.order[-2]])
    story.commit(parents=[approval, branch_edit])  # ...merged after Sam approved v1 on main
    story.heads[SLUG] = V2
    story.act(ALICE, Action.SUBMIT)
    story.act(SAM, Action.REVIEW)
    story.act(RITA, Action.APPROVE)
    status = story.status()
    assert "changed it in commit" in (status.events[-1].reason or ""), status.events[-1].reason
    assert status.state is State.UNDER_REVIEW


def test_quorum_counts_distinct_members_and_the_same_member_once() -> None:
    story = lifecycle(Story())
    story.act(RITA, Action.APPROVE)
    story.act(RITA, Action.APPROVE)
    status = story.status(config(quorum=2))
    assert status.state is State.UNDER_REVIEW
    assert (status.approvals, status.approved_by, status.approved) == (1, (RITA,), None)
    story.act(SAM, Action.APPROVE)
    status = story.status(config(quorum=2))
    assert status.state is State.APPROVED
    assert status.approved is not None and status.approved.approvers == (RITA, SAM)


def test_another_approval_of_approved_content_is_recorded() -> None:
    story = lifecycle(Story())
    first = story.act(RITA, Action.APPROVE)
    story.act(SAM, Action.APPROVE)
    status = story.status()
    assert status.approved is not None
    assert (status.approved.commit, status.approved.approvers) == (first, (RITA, SAM))
    assert all(e.valid for e in status.events)


def test_an_edit_after_approval_makes_a_draft_and_keeps_the_approved_version() -> None:
    story = lifecycle(Story())
    approval = story.act(RITA, Action.APPROVE)
    story.edit(ALICE, V2)
    status = story.status()
    assert status.state is State.DRAFT and status.blob == V2
    assert status.approved is not None and (status.approved.commit, status.approved.blob) == (approval, V1)
    assert status.live_differs is True and status.approvals == 0


def test_request_changes_then_edit_and_resubmit() -> None:
    story = lifecycle(Story())
    story.act(RITA, Action.REQUEST_CHANGES, message="Cite the guideline")
    assert story.status().state is State.CHANGES_REQUESTED
    story.edit(ALICE, V2)
    assert story.status().state is State.DRAFT
    story.act(ALICE, Action.SUBMIT)
    story.act(RITA, Action.REVIEW)
    story.act(RITA, Action.APPROVE)
    status = story.status()
    assert status.state is State.APPROVED and status.approved is not None and status.approved.blob == V2


def test_request_changes_needs_a_message() -> None:
    story = lifecycle(Story())
    story.act(RITA, Action.REQUEST_CHANGES, message="  ")
    assert "must say what to change" in (story.status().events[-1].reason or "")


def test_withdraw_by_an_author_only() -> None:
    story = lifecycle(Story())
    story.act(MALLORY, Action.WITHDRAW)
    assert story.status().state is State.UNDER_REVIEW
    story.act(ALICE, Action.WITHDRAW)
    status = story.status()
    assert status.state is State.DRAFT and status.submitted_at is None


def test_content_trailer_must_match_the_committed_blob() -> None:
    story = lifecycle(Story())
    story.act(RITA, Action.APPROVE, content=V2, committed_blob=V1)
    status = story.status()
    assert status.state is State.UNDER_REVIEW
    assert "not about the text it claims" in (status.events[-1].reason or "")


def test_malformed_events_are_kept_with_their_problem() -> None:
    story = lifecycle(Story())
    story.act(RITA, Action.APPROVE, problem="the Reviewflow-Content trailer is missing")
    outcome = Replay(story.history(), config()).run()
    assert outcome.events[-1].reason == "the Reviewflow-Content trailer is missing"
    assert outcome.statuses[SLUG].state is State.UNDER_REVIEW


@pytest.mark.parametrize(
    ("signature", "key", "valid", "reason"),
    [
        ("G", ssh_fingerprint(RITA_KEY), True, None),
        ("N", "", False, "not signed"),
        ("B", ssh_fingerprint(RITA_KEY), False, "signature is bad"),
        ("U", "SHA256:someoneelse", False, "not rita@board.example's signing_key"),
    ],
)
def test_a_member_with_a_signing_key_counts_only_when_signed_with_it(
    signature: str, key: str, valid: bool, reason: str | None
) -> None:
    story = lifecycle(Story())
    story.events[-1] = story.events[-1]._replace(signature="G", signing_key=ssh_fingerprint(RITA_KEY))
    story.act(RITA, Action.APPROVE, signature=signature, signing_key=key)
    status = story.status(config(rita_key=RITA_KEY))
    last = status.events[-1]
    assert last.valid is valid
    assert (status.state is State.APPROVED) is valid
    if reason:
        assert reason in (last.reason or "").lower()


def test_try_event_judges_without_changing_the_replay() -> None:
    story = lifecycle(Story())
    machine = Replay(story.history(), config())
    before = machine.run().statuses[SLUG]
    probe = Event(
        "next", (story.order[-1],), "Rita", RITA, START, Action.APPROVE, SLUG, V1, "", committed_blob=V1
    )
    verdict, after = machine.try_event(probe)
    assert verdict.valid and after.state is State.APPROVED
    assert machine.run().statuses[SLUG] == before


def test_try_event_leaves_the_tracks_as_they_were() -> None:
    """The trial is judged on a copy of the article's track (Track.copy): its approvers, its
    reviewers and its events are the replay's own afterwards, as before the trial."""
    story = lifecycle(Story())
    story.act(RITA, Action.APPROVE)  # one approval of two
    machine = Replay(story.history(), config(quorum=2))
    machine.run()
    track = machine.tracks[SLUG]
    before = (track.state, track.content, dict(track.approvers), list(track.reviewers), track.approved)
    events = list(track.events)
    probe = Event(
        "next", (story.order[-1],), "Sam", SAM, START, Action.APPROVE, SLUG, V1, "", committed_blob=V1
    )
    verdict, after = machine.try_event(probe)
    assert verdict.valid and after.state is State.APPROVED and after.approved is not None
    assert machine.tracks[SLUG] is track
    assert (track.state, track.content, track.approvers, track.reviewers, track.approved) == before
    assert track.state is State.UNDER_REVIEW and track.approved is None
    assert track.events == events


def test_review_due_and_dates() -> None:
    story = lifecycle(Story())
    story.act(RITA, Action.APPROVE)
    status = story.status()
    assert status.approved is not None
    assert status.review_due == date(2024, 5, 1) + timedelta(days=30)


def test_an_event_is_a_tuple_with_its_defaults_and_its_actor_lowercased() -> None:
    values = dict(
        commit="1" * 40, parents=("2" * 40,), author_name="Rita", author_email="Rita@Board.example",
        committed_at=datetime(2025, 1, 2, tzinfo=UTC), action=Action.APPROVE, slug="a-b", content="3" * 40,
        message="Fine",
    )  # fmt: skip
    event = Event(**values)  # type: ignore[arg-type]
    assert event.actor == "rita@board.example" and event.signature == "N" and not event.valid
    assert event.path == "articles/a-b.md" and event.accepted == ()
    assert event._replace(valid=True) != event


def test_a_kept_mapping_is_read_once_when_first_looked_into_and_new_commits_lie_over_it() -> None:
    from reviewflow.review.kept import Later, Overlay

    reads: list[int] = []

    def load() -> dict[str, int]:
        reads.append(1)
        return {"a": 1, "b": 2}

    kept = Later(load)
    assert reads == []  # nothing read until looked into
    layered = Overlay({"b": 20, "c": 30}, kept)
    assert layered["c"] == 30 and reads == []  # found in the new layer: the kept one is not read
    assert layered["b"] == 20 and layered.get("a") == 1 and layered.get("z", 0) == 0
    assert sorted(layered) == ["a", "b", "c"] and len(layered) == 3
    assert dict(layered) == {"b": 20, "c": 30, "a": 1} and reads == [1]  # read once


def test_a_status_holds_each_value_in_the_field_that_names_it() -> None:
    """A status is made in one step, its values in the order its fields are listed
    (tracks.article_status): every field is set here, each to a value no other field has."""
    story = lifecycle(Story())
    story.act(SAM, Action.APPROVE)
    published = story.act(RITA, Action.APPROVE)
    story.edit(ALICE, V2)
    submitted = story.act(ALICE, Action.SUBMIT)
    story.act(SAM, Action.REVIEW)
    story.act(RITA, Action.APPROVE)
    status = story.status(config(quorum=2))
    approved_at = START + timedelta(hours=story.order.index(published) + 1)
    assert status._asdict() == {
        "slug": SLUG,
        "path": "articles/poems.md",
        "state": State.UNDER_REVIEW,
        "blob": V2,
        "approvals": 1,
        "approvals_required": 2,
        "approved_by": (RITA,),
        "approved": ApprovedVersion(published, V1, (RITA, SAM), approved_at),
        "submitted_at": START + timedelta(hours=story.order.index(submitted) + 1),
        "review_due": approved_at.date() + timedelta(days=30),
        "events": tuple(e._replace(valid=True) for e in story.events),
        "reviewers": (SAM,),
    }
