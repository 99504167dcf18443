"""What a finished build tells the publisher (`PublishResult.notes`), and the time of the build.

The build time is the one input of a site that is not in git: the "Review due" notice is judged
against it. `SOURCE_DATE_EPOCH` sets it, for a reproducible build.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime

from reviewflow.config import Config
from reviewflow.review.clock import dated_after
from reviewflow.review.model import ArticleStatus


def build_notes(
    config: Config, base: str | None, statuses: Mapping[str, ArticleStatus], built_at: datetime
) -> tuple[str, ...]:
    """What the publisher should know about a build that succeeded."""
    notes: tuple[str, ...] = () if base else (
        "no base URL (--base-url or [site] url): sitemap.xml, feed.xml, canonical links and the "
        "JSON-LD url need absolute addresses, so they were left out",
    )  # fmt: skip
    notes += undeclared_members(config)
    future = dated_after((e for status in statuses.values() for e in status.events), built_at)
    if future:
        first = future[0]
        notes += (
            f"{len(future)} review event(s) dated after the time of this build, such as commit "
            f"{first.commit[:12]} ({first.committed_at.isoformat()}): run `reviewflow verify` (date-future)",
        )
    return notes


def build_time() -> datetime:
    """The time of this build: SOURCE_DATE_EPOCH when set (reproducible builds), else the clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC)
    return datetime.now(UTC)


def undeclared_members(config: Config) -> tuple[str, ...]:
    """A note for each board member with no competing-interests declaration in reviewflow.toml:
    readers see "No declaration on file" beside their name and their approvals."""
    return tuple(
        f"board[{index}] {member.name}: no competing_interests in reviewflow.toml; the site says "
        '"No declaration on file" on the board page and beside their approvals'
        for index, member in enumerate(config.board)
        if not (member.competing_interests or "").strip()
    )
