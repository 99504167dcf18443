"""The collect step of `publish`: which text each page shows and what git and the config say
about it, as one PageInfo per page (the published site's and the desk's preview alike).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial

from reviewflow.config import Config
from reviewflow.publish.pages import PageInfo, Reviewer
from reviewflow.review.model import Action, ArticleStatus, State


@dataclass(frozen=True)
class ContentHistory:
    """When each version of each article appeared (from the review history's read of git)."""

    head_at: datetime
    appeared: Mapping[tuple[str, str], tuple[datetime, ...]]  # (slug, blob) -> commit times

    def text_changed(self, slug: str, blob: str, not_after: datetime | None = None) -> datetime | None:
        """The last commit (not after NOT_AFTER) that made the article's file hold BLOB."""
        times = self.appeared.get((slug, blob))
        if not times:
            return None
        latest = max(times)
        if not_after is not None and latest > not_after:  # rare: the text came back after its approval
            earlier = [t for t in times if t <= not_after]
            if not earlier:
                return None
            latest = max(earlier)
        return latest.astimezone(UTC)


def page_infos(
    statuses: Mapping[str, ArticleStatus],
    config: Config,
    history: ContentHistory,
    path_of: Callable[[str], str],
    preview: bool,
    now: datetime,
) -> list[PageInfo]:
    """One PageInfo per article the site shows: approved text, and in a preview all the rest.
    An approved page is overdue for review when NOW (the build time) has reached its due date.
    PATH_OF: an article's file in git, from the top of the work tree (`GitStore.article_path`)."""
    infos = []
    cycle = timedelta(days=config.policy.review_cycle_days)
    # A few members approve thousands of pages: one Reviewer each (and one repr in the pages' keys).
    reviewer = lru_cache(maxsize=None)(partial(_reviewer, config))
    for slug, status in sorted(statuses.items()):
        if status.blob is None:
            continue  # no longer in the repository: withdrawn from the site too
        path = path_of(slug)
        state = status.state.value
        approved = status.approved
        if approved is not None and (not preview or approved.blob == status.blob):
            reviewed_at = approved.approved_at.astimezone(UTC)
            due = reviewed_at.date() + cycle
            acknowledged = _acknowledged(status, approved.blob)
            infos.append(
                PageInfo(
                    slug=slug,
                    path=path,
                    blob=approved.blob,
                    state=State.APPROVED.value,
                    approved=True,
                    reviewers=tuple(
                        reviewer(email, acknowledged.get(email, 0)) for email in approved.approvers
                    ),
                    reviewed_at=reviewed_at,
                    published_at=min(
                        first_approval(status, config.policy.approvals_required) or reviewed_at, reviewed_at
                    ),
                    updated_at=history.text_changed(slug, approved.blob, reviewed_at) or reviewed_at,
                    review_due=due,
                    overdue=now.date() >= due,
                )
            )
        elif preview:
            infos.append(
                PageInfo(
                    slug=slug,
                    path=path,
                    blob=status.blob,
                    state=state,
                    approved=False,
                    updated_at=history.text_changed(slug, status.blob),
                    approved_elsewhere=approved.approved_at.astimezone(UTC).date() if approved else None,
                )
            )
    return infos


def first_approval(status: ArticleStatus, quorum: int) -> datetime | None:
    """When the article was first published: the first time any one text reached the quorum."""
    approvers: dict[str, set[str]] = defaultdict(set)
    for event in status.events:  # oldest first
        if event.valid and event.action is Action.APPROVE:  # `is`: str() of an enum costs a call
            approvers[event.content].add(event.actor)
            if len(approvers[event.content]) >= quorum:
                return event.committed_at.astimezone(UTC)
    return None


def _reviewer(config: Config, email: str, acknowledged: int) -> Reviewer:
    member = config.member(email)
    if member is None:  # approved while on the board, since left it
        return Reviewer("A former member of the advisory board", None, on_board=False)
    return Reviewer(
        member.name,
        member.credentials,
        member.competing_interests,
        member.affiliation,
        email=member.key,
        acknowledged=acknowledged,
    )


def _acknowledged(status: ArticleStatus, blob: str) -> dict[str, int]:
    """How many warnings each member's approval of BLOB acknowledged (their latest counted one),
    by email: one pass over the article's events for all its approvers."""
    found = {}
    for event in status.events:
        if event.valid and event.action is Action.APPROVE and event.content == blob:
            found[event.actor] = len(event.accepted)
    return found
