"""`reviewflow ci`'s pure core: what a change touches, the findings about its review events and
published versions, and the verdict (CiResult). Data in, findings out; gate.py reads git.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reviewflow.ci.articles import ArticleChange, ArticleResult, ChangeKind
from reviewflow.ci.config_diff import CONFIG_CHANGED, CONFIG_INVALID, SCHEMA_CHANGED, SCHEMA_INVALID
from reviewflow.findings import Finding, Severity, Tallied
from reviewflow.gitlog import DiffEntry
from reviewflow.layout import ARTICLES_DIR, CONFIG_FILE, article_path, is_article_path
from reviewflow.review.acknowledge import Unacknowledged
from reviewflow.review.clock import dated_after, future_reason
from reviewflow.review.model import ApprovedVersion, ArticleStatus, Event, State

PathOf = Callable[[str], str]  # an article's slug -> its file in the content repo

SCHEMAS_DIR = "schemas"
PUBLISHED_CHANGED = "published-version-changed"
APPROVAL_UNACKNOWLEDGED = "approval-unacknowledged"

# Findings only `ci` produces, besides the check rules.
CI_RULES = {
    "review-event-invalid": "a review event in the change does not count (judged by the base)",
    "review-event-superseded": "a review event the change merges in takes no effect there",
    "planted-file": "the change adds a file under .reviewflow-cache/ or an article that is no regular file",
    PUBLISHED_CHANGED: "the change moves an article's published version forward: to which text",
    "published-rollback": "the change moves an article's published version to one made without the base's",
    "not-approved": "with --require-approved, a changed article is not approved at HEAD",
    APPROVAL_UNACKNOWLEDGED: "an approval in the change does not acknowledge every warning of its text",
    CONFIG_CHANGED: "reviewflow.toml changed: what changed, for humans to review",
    SCHEMA_CHANGED: "a file in schemas/ changed: what changed, for humans to review",
    CONFIG_INVALID: "the change leaves reviewflow.toml invalid at HEAD",
    SCHEMA_INVALID: "the change leaves schemas/article.schema.json invalid at HEAD",
}
# Shown to reviewers but never failing the gate, not even with --strict: changing the board or
# the policy, or publishing a newly approved text, is legitimate; it is the humans reviewing the
# change who must see it.
NOTICE_RULES = frozenset({CONFIG_CHANGED, SCHEMA_CHANGED, PUBLISHED_CHANGED})

_KINDS: dict[str, ChangeKind] = {
    "A": "added",
    "M": "modified",
    "T": "modified",
    "R": "renamed",
    "C": "added",
    "D": "deleted",
}


@dataclass(frozen=True)
class Scope:
    """What the change touches, sorted by path."""

    articles: list[ArticleChange]  # added, modified or renamed: checked
    deleted: list[ArticleChange]  # reported, not checked
    config_changed: bool
    schema_paths: list[str]  # files under schemas/ that changed


@dataclass(frozen=True)
class EventVerdict:
    """One review event in the range, as judged against the base's configuration."""

    commit: str
    article: str  # slug
    action: str
    actor: str  # email
    valid: bool
    reason: str = ""
    superseded: bool = False  # sound, but the merge that brought it in left it without effect

    @classmethod
    def of(cls, event: Event) -> EventVerdict:
        action = event.action.value if event.action else "(no action)"
        return cls(
            event.commit, event.slug, action, event.actor, event.valid, event.reason or "", event.superseded
        )

    @property
    def path(self) -> str:
        """The article's file; the articles directory for an event that names no article."""
        return article_path(self.article) if self.article else ARTICLES_DIR


@dataclass
class CiResult(Tallied):
    """Everything the gate found, and the verdict."""

    base_ref: str
    merge_base: str
    head: str
    articles: list[ArticleResult] = field(default_factory=list)
    deleted: list[ArticleChange] = field(default_factory=list)
    # A configuration change: how many unchanged articles were checked again, and those it fails.
    rechecked: int = 0
    affected: list[ArticleResult] = field(default_factory=list)
    events: list[EventVerdict] = field(default_factory=list)
    gate_findings: list[Finding] = field(default_factory=list)  # events, approval, config, schema
    strict: bool = False
    require_approved: bool = False
    repo_prefix: str = ""  # where the content repo sits in the git work tree: "" or "sub/dir/"
    config_uncommitted: bool = False  # the work tree's reviewflow.toml is not HEAD's

    @property
    def findings(self) -> list[Finding]:
        articles = [*self.articles, *self.affected]
        every = [f for article in articles for f in article.findings] + self.gate_findings
        return sorted(every, key=Finding.sort_key)

    def by_path(self) -> dict[str, list[Finding]]:
        """Every finding, grouped by the file it is about."""
        grouped: dict[str, list[Finding]] = {}
        for finding in self.findings:
            grouped.setdefault(finding.path, []).append(finding)
        return grouped

    @property
    def invalid_events(self) -> list[EventVerdict]:
        return [e for e in self.events if not e.valid and not e.superseded]

    def blocking(self) -> list[Finding]:
        """The findings that stop the merge."""
        return [
            f
            for f in self.findings
            if f.severity is Severity.ERROR
            or (self.strict and f.rule not in NOTICE_RULES and f.intended is None)
        ]

    def summary(self) -> dict[str, Any]:
        return {
            "articles": len(self.articles),
            "deleted": len(self.deleted),
            "rechecked": self.rechecked,
            "events": len(self.events),
            "invalid_events": len(self.invalid_events),
            "errors": self.errors,
            "warnings": self.warnings,
            "passed": not self.failed,
        }


def classify(entries: Iterable[DiffEntry]) -> Scope:
    """Sort the changed paths into checked articles, deletions, and config or schema changes."""
    articles: list[ArticleChange] = []
    deleted: list[ArticleChange] = []
    config_changed = False
    schema_paths: list[str] = []
    for entry in entries:
        kind = _KINDS.get(entry.status, "modified")
        if is_article_path(entry.path):
            if kind == "deleted":
                deleted.append(ArticleChange(entry.path, "deleted"))
            else:
                previous = entry.old_path if kind == "renamed" else None
                articles.append(ArticleChange(entry.path, kind, previous, entry.new_blob))
        if (
            entry.old_path
            and kind == "renamed"
            and is_article_path(entry.old_path)
            and not is_article_path(entry.path)
        ):
            deleted.append(ArticleChange(entry.old_path, "deleted"))  # moved out of articles/
        for path in (entry.path, entry.old_path):
            if path == CONFIG_FILE:
                config_changed = True
            elif path and path.startswith(f"{SCHEMAS_DIR}/") and path not in schema_paths:
                schema_paths.append(path)
    return Scope(
        articles=sorted(articles, key=lambda a: a.path),
        deleted=sorted(deleted, key=lambda a: a.path),
        config_changed=config_changed,
        schema_paths=sorted(schema_paths),
    )


def event_findings(
    events: Iterable[EventVerdict], base_problem: str | None = None, path_of: PathOf = article_path
) -> list[Finding]:
    """An error on the article for each review event that does not count (a warning for one
    that a merge left without effect: sound, but not what will be published). PATH_OF: where
    each article's file is (in a subdirectory of articles/, maybe)."""
    findings = []
    for event in events:
        if event.valid:
            continue
        path = path_of(event.article) if event.article else ARTICLES_DIR
        what = f"{event.action} by {event.actor} in commit {event.commit[:12]}"
        reason = event.reason or "not valid"
        if event.superseded:
            message = f"{what} is superseded: {reason}"
            findings.append(Finding.warning("review-event-superseded", path, 1, 1, message))
            continue
        if base_problem:
            reason = f"{reason} ({base_problem})"
        message = f"{what} does not count: {reason}"
        findings.append(Finding.error("review-event-invalid", path, 1, 1, message))
    return findings


def future_findings(events: Iterable[Event], now: datetime, path_of: PathOf = article_path) -> list[Finding]:
    """An error on the article for each review event in the change dated after NOW: its review
    would look fresh for longer than it is (review/clock.py)."""
    return [
        Finding.error(
            "date-future",
            path_of(event.slug) if event.slug else ARTICLES_DIR,
            1,
            1,
            f"{event.action.value if event.action else 'event'} by {event.actor} in commit "
            f"{event.commit[:12]} is {future_reason(event, now)}",
        )
        for event in dated_after(events, now)
    ]


def published_findings(
    before: Mapping[str, ArticleStatus],
    after: Mapping[str, ArticleStatus],
    is_ancestor: Callable[[str, str], bool],
    path_of: PathOf = article_path,
) -> list[Finding]:
    """One finding for each article whose published version the change moves, even where no
    file changed (a merge can carry approvals): a notice when the new version is newer than the
    base's (its approval includes the base's, or came after it), an error when it is older (a
    rollback: a fast-forward onto a branch that merged the base but kept an older approved text
    makes that branch's approvals the line of record)."""
    findings = []
    fix = "merge this branch into the base (the base as first parent), or have the board approve it again"
    for slug in sorted(set(before) | set(after)):
        was = before[slug].approved if slug in before else None
        now = after[slug].approved if slug in after else None
        if _version(was) == _version(now):
            continue
        path = path_of(slug)
        if was is not None and now is None:
            message = (
                f"{slug} is no longer published (it was blob {was.blob[:12]}, approved in commit "
                f"{was.commit[:12]}): that approval does not count on this line; {fix}"
            )
            findings.append(Finding.error("published-rollback", path, 1, 1, message))
            continue
        assert now is not None
        to = f"blob {now.blob[:12]}, approved by {', '.join(now.approvers)} in commit {now.commit[:12]}"
        if was is None:
            message = f"{slug} is published for the first time: {to}"
        elif is_ancestor(was.commit, now.commit) or now.approved_at > was.approved_at:
            message = f"{slug}'s published version moves from blob {was.blob[:12]} to {to}"
        else:
            message = (
                f"{slug}'s published version moves from blob {was.blob[:12]} (approved in commit "
                f"{was.commit[:12]}) to {to}, an older approval made without the base's: {fix}"
            )
            findings.append(Finding.error("published-rollback", path, 1, 1, message))
            continue
        findings.append(Finding.warning(PUBLISHED_CHANGED, path, 1, 1, message))
    return findings


def _version(approved: ApprovedVersion | None) -> tuple[str, str] | None:
    """Which approval of which text is published (more approvers of it change nothing)."""
    return None if approved is None else (approved.commit, approved.blob)


def approval_findings(articles: Iterable[ArticleResult]) -> list[Finding]:
    """With --require-approved: an error for each changed article not approved at HEAD."""
    return [
        Finding.error(
            "not-approved",
            article.path,
            1,
            1,
            f"{article.change.slug} is {article.state or State.DRAFT} at HEAD, and this gate merges "
            "only approved content: submit it and have the board approve this version",
        )
        for article in articles
        if article.state is not State.APPROVED
    ]


def acknowledgement_findings(
    problems: Iterable[Unacknowledged], path_of: PathOf = article_path
) -> list[Finding]:
    """An error on the article for each approval in the change whose trailers do not
    acknowledge the warnings of its text, recomputed under the base's configuration."""
    return [Finding.error(APPROVAL_UNACKNOWLEDGED, path_of(p.event.slug), 1, 1, p.message) for p in problems]
