"""An article's track: a valid event applied to it, and the article's status read from it.

Pure, as workflow.py's `Replay`, which judges each event first (is it valid?) and hands each
valid one here with the quorum of the configuration in force for it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from functools import cache

from reviewflow.config import Policy
from reviewflow.review.model import WAITING, Action, ApprovedVersion, ArticleStatus, Event, State, Track


def apply_event(event: Event, track: Track, quorum: int) -> None:
    """TRACK after the valid EVENT (an approval reaches the article's approval at QUORUM)."""
    action = event.action
    if track.state_for(event.content) is State.DRAFT:
        track.approvers.clear()
        track.reviewers.clear()
    track.content = event.content
    if action is Action.SUBMIT:
        track.state, track.submitted_at = State.SUBMITTED, event.committed_at
        track.approvers.clear()
        track.reviewers.clear()
    elif action is Action.REVIEW:
        track.state = State.UNDER_REVIEW
        track.reviewers.append(event.actor)
    elif action is Action.REQUEST_CHANGES:
        track.state = State.CHANGES_REQUESTED
        track.approvers.clear()
    elif action is Action.WITHDRAW:
        track.state, track.submitted_at = State.DRAFT, None
        track.approvers.clear()
        track.reviewers.clear()
    elif action is Action.APPROVE:
        if track.state is State.APPROVED and track.approved is not None:
            approvers = tuple(sorted({*track.approved.approvers, event.actor}))
            track.approved = replace(track.approved, approvers=approvers)
            return
        track.approvers.setdefault(event.actor, event)  # the same member twice counts once
        if len(track.approvers) >= quorum:
            track.state = State.APPROVED
            track.approved = ApprovedVersion(
                commit=event.commit,
                blob=event.content,
                approvers=tuple(sorted(track.approvers)),
                approved_at=event.committed_at,
            )
            track.approvers.clear()
        else:
            track.state = State.UNDER_REVIEW


def article_status(slug: str, track: Track, blob: str | None, path: str, policy: Policy) -> ArticleStatus:
    """The status of the article SLUG, whose file PATH holds BLOB at HEAD (None: it has none),
    from its TRACK, under HEAD's POLICY."""
    state = track.state if blob is not None and blob == track.content else State.DRAFT
    approved = track.approved
    if state is State.APPROVED and approved is not None:
        approved_by = approved.approvers
    elif state is State.UNDER_REVIEW:
        approved_by = tuple(sorted(track.approvers))
    else:
        approved_by = ()
    due = approved.approved_at.date() + _review_cycle(policy.review_cycle_days) if approved else None
    submitted_at = track.submitted_at if state in WAITING or state is State.CHANGES_REQUESTED else None
    reviewers = tuple(dict.fromkeys(track.reviewers)) if state in WAITING else ()
    # Made in one step, as the fields are listed (a call by keyword runs the named tuple's
    # __new__, a Python function, for each of the outcome's statuses).
    fields = (
        slug, path, state, blob, len(approved_by), policy.approvals_required, approved_by, approved,
        submitted_at, due, tuple(track.events), reviewers,
    )  # fmt: skip
    return tuple.__new__(ArticleStatus, fields)


@cache
def _review_cycle(days: int) -> timedelta:
    """A policy's review cycle: made once per policy, not once per status."""
    return timedelta(days=days)
