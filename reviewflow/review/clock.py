"""Moments that cannot have happened yet: review events dated after the time of the run.

Git takes a commit's date from the committer's machine, so a wrong clock (or a hand-set
GIT_COMMITTER_DATE) can date an approval in the future: its review would then look fresh for
longer than it is. Pure: events and a time in, the ones dated after it out.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from reviewflow.review.model import Event

# Two honest machines' clocks differ by a little; a commit this far ahead is not a finding.
LEEWAY = timedelta(minutes=5)


def dated_after(events: Iterable[Event], now: datetime) -> list[Event]:
    """The EVENTS whose commit is dated more than LEEWAY after NOW (an aware datetime)."""
    limit = now + LEEWAY
    return [event for event in events if event.committed_at > limit]


def future_reason(event: Event, now: datetime) -> str:
    """One line for a reader: which date, against which time."""
    run_at = now.isoformat(timespec="seconds")
    return (
        f"dated {event.committed_at.isoformat()}, after the time of this run ({run_at}): "
        "check the committer's clock (date-future)"
    )
