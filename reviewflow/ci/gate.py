"""`reviewflow ci`: the merge gate.

Scope is the change, not the repository: the articles that differ between the merge-base of
the base ref and HEAD are checked with every rule, and every review event in that range is
judged against the *base's* reviewflow.toml, so nobody can join the board and approve in the
same change. A change to reviewflow.toml or schemas/ is named in warnings for humans to see,
and, being a change to every article, has the other articles checked again (ci/articles.py, which
also holds the settings articles are checked with: no rule laxer than at the base).

Git is read in a fixed handful of calls (rev-parse, merge-base, one `diff --raw`, one
`cat-file --batch`, the review log of the range, and for a configuration change one `ls-tree`
and one more `cat-file --batch`), so the cost follows the change.
The rest is pure: data in, a CiResult out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from reviewflow import gitlog, gitstore
from reviewflow.cache import CACHE_DIR
from reviewflow.ci.articles import (
    ArticleChange,
    ArticleResult,
    ChangeKind,
    base_config,
    baseline_settings,
    check_articles,
    gate_settings,
    planted_files,
    recheck_unchanged,
    text_of,
)
from reviewflow.ci.config_diff import (
    CONFIG_CHANGED,
    CONFIG_INVALID,
    SCHEMA_CHANGED,
    SCHEMA_INVALID,
    config_findings,
    schema_findings,
)
from reviewflow.config import ARTICLES_DIR, CONFIG_FILE, SCHEMA_FILE, Config, article_path, is_article_path
from reviewflow.errors import EnvironmentProblem
from reviewflow.findings import Finding, Severity, count
from reviewflow.gitstore import GitStore
from reviewflow.review import queries as review
from reviewflow.review.model import ArticleStatus, Event, State
from reviewflow.review.workflow import Replay

SCHEMAS_DIR = "schemas"
PUBLISHED_CHANGED = "published-version-changed"
PATHSPECS = (f"{ARTICLES_DIR}/", CONFIG_FILE, f"{SCHEMAS_DIR}/", f"{CACHE_DIR}/")

# Findings only `ci` produces, besides the check rules.
CI_RULES = {
    "review-event-invalid": "a review event in the change does not count (judged by the base)",
    "review-event-superseded": "a review event the change merges in takes no effect there",
    "planted-file": "the change adds a file under .reviewflow-cache/ or an article that is no regular file",
    PUBLISHED_CHANGED: "the change moves an article's published version forward: to which text",
    "published-rollback": "the change moves an article's published version to one made without the base's",
    "not-approved": "with --require-approved, a changed article is not approved at HEAD",
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
class CiResult:
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

    @property
    def errors(self) -> int:
        return count(self.findings, Severity.ERROR)

    @property
    def warnings(self) -> int:
        return count(self.findings, Severity.WARNING)

    def blocking(self) -> list[Finding]:
        """The findings that stop the merge."""
        return [
            f
            for f in self.findings
            if f.severity is Severity.ERROR or (self.strict and f.rule not in NOTICE_RULES)
        ]

    @property
    def failed(self) -> bool:
        return bool(self.blocking())

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


# --- the shell: git in, CiResult out ------------------------------------------------------------


def run_ci(
    root: Path,
    base_ref: str,
    *,
    require_approved: bool = False,
    strict: bool = False,
    today: date | None = None,
) -> CiResult:
    """Gate the change from the merge-base of BASE_REF to HEAD in the content repo at ROOT."""
    store = GitStore.open(root)  # a repository, not shallow, with commits, and a usable git
    base, head = locate_change(store, base_ref)
    entries = gitstore.changed_paths(store, base, head, PATHSPECS)
    scope = classify(entries)
    files = gitstore.read_objects(
        store,
        [*(f"{rev}:./{name}" for rev in (base, head) for name in (CONFIG_FILE, SCHEMA_FILE)),
         *(a.blob for a in scope.articles if a.blob)],
    )  # fmt: skip
    base_text = text_of(files[f"{base}:./{CONFIG_FILE}"])
    config_at_base, base_problem = base_config(base_text)

    result = CiResult(
        base_ref, base, head, strict=strict, require_approved=require_approved, repo_prefix=store.prefix
    )
    result.deleted = scope.deleted
    result.gate_findings += planted_files(entries)
    today = today or date.today()
    problems = _check_scope(result, root, store, scope, files, config_at_base, base_problem, today)
    if scope.config_changed and not any(f.rule == CONFIG_INVALID for f in problems):
        head_text = text_of(files[f"{head}:./{CONFIG_FILE}"]) or ""
        result.gate_findings += config_findings(base_text, base_problem, head_text)
    if scope.schema_paths:
        result.gate_findings += schema_findings(
            scope.schema_paths, files[f"{base}:./{SCHEMA_FILE}"], files[f"{head}:./{SCHEMA_FILE}"]
        )
    # Replaying the review history costs what the history costs: only when the change has
    # review events, or when the states are asked for. One replay serves both.
    if require_approved or gitstore.has_review_commits(store, base, head):
        _judge_events(result, store, config_at_base, base_problem)
    return result


def _check_scope(
    result: CiResult,
    root: Path,
    store: GitStore,
    scope: Scope,
    files: Mapping[str, bytes | None],
    config_at_base: Config,
    base_problem: str | None,
    today: date,
) -> list[Finding]:
    """Check the change's articles into RESULT, and after a change to reviewflow.toml or the
    schema the unchanged ones too; the problems of the configuration at HEAD."""
    schema_changed = SCHEMA_FILE in scope.schema_paths
    settings, problems = gate_settings(
        store,
        files,
        result.merge_base,
        result.head,
        config_at_base,
        today,
        config_changed=scope.config_changed,
        schema_changed=schema_changed,
    )
    if settings is None:
        # Without a valid configuration at HEAD no rule can run: the change's own problem.
        result.gate_findings += problems
        reason = f"{problems[0].path} at HEAD is invalid"
        result.articles = [ArticleResult(change, not_checked=reason) for change in scope.articles]
        return problems
    result.articles = check_articles(scope.articles, files, settings)
    if scope.config_changed or schema_changed:
        # A change to what every article is judged by is a change to every article.
        baseline = (
            None if base_problem else baseline_settings(files, result.merge_base, config_at_base, settings)
        )
        if baseline is not None:
            touched = {a.path for a in scope.articles}
            result.rechecked, result.affected = recheck_unchanged(
                store, result.head, touched, settings, baseline, _what_changed(scope)
            )
    return problems


def _judge_events(
    result: CiResult, store: GitStore, config_at_base: Config, base_problem: str | None
) -> None:
    """Judge the change's review events by the base's configuration into RESULT, with the
    published versions they move; with --require-approved, each changed article's state."""
    changed = {article.change.slug for article in result.articles}
    replayed = replay_range(store, config_at_base, result.merge_base, result.head, changed)
    states = replayed.after
    result.events = [EventVerdict.of(event) for event in replayed.events]
    result.gate_findings += event_findings(result.events, base_problem)
    result.gate_findings += published_findings(replayed.before, states, replayed.is_ancestor)
    if result.require_approved:
        for article in result.articles:
            status = states.get(article.change.slug)
            article.state = status.state if status else State.DRAFT
        result.gate_findings += approval_findings(result.articles)


def _what_changed(scope: Scope) -> str:
    parts = [CONFIG_FILE] if scope.config_changed else []
    if SCHEMA_FILE in scope.schema_paths:
        parts.append(SCHEMA_FILE)
    return " and ".join(parts)


def locate_change(store: GitStore, base_ref: str) -> tuple[str, str]:
    """The merge-base of BASE_REF and HEAD, and HEAD; EnvironmentProblem when either is missing."""
    base_commit = gitstore.resolve_commit(store, base_ref)
    if base_commit is None:
        raise EnvironmentProblem(
            f"unknown base {base_ref!r}: no branch, tag or commit has that name here; "
            "fetch it first (for example `git fetch origin main`, then `--base origin/main`)"
        )
    base = gitstore.merge_base(store, base_commit, store.head)
    if base is None:
        raise EnvironmentProblem(f"{base_ref!r} and HEAD share no history: no change to gate")
    return base, store.head


@dataclass(frozen=True)
class RangeReplay:
    """A change's review events judged, and its articles' states before and after it."""

    events: list[Event]  # the events in the range, judged under the base's configuration
    after: dict[str, ArticleStatus]  # at HEAD
    before: dict[str, ArticleStatus]  # at the base
    is_ancestor: Callable[[str, str], bool]  # within HEAD's history, from what replay read


def replay_range(
    store: GitStore, config: Config, base: str, head: str, slugs: Iterable[str] = ()
) -> RangeReplay:
    """The review events in BASE..HEAD judged under CONFIG, and the states at HEAD and at BASE
    of SLUGS and of the articles with events in the range.

    Only those articles are replayed, over their whole history, so each event is judged from
    the state the base left its article in; the events before the range are judged by the
    reviewflow.toml committed with them. The states at BASE say which version each of them
    had published before the change.
    """
    inside = store.commits_in(f"{base}..{head}")
    scope = set(slugs) | gitstore.review_slugs(store, base, head)
    rules = dict.fromkeys(inside, config)
    judged = review.judge_history(store, config, rev=head, scope=scope, rules_for=rules, also=inside)
    history = judged.replay.history
    if base in history.first_parent_line():
        # The usual change (a branch off the base, or the base's own line): the base's history
        # is this one without the range, replayed without reading git again.
        before = Replay(history.before(base, inside), config).run().statuses
    else:  # HEAD merged the base in: the base's line of record is another one, read it
        before = review.judge_history(store, config, rev=base, scope=scope).outcome.statuses
    events = [e for e in judged.outcome.events if e.commit in inside]
    return RangeReplay(events, judged.outcome.statuses, before, judged.replay.is_ancestor)


# --- the pure core -----------------------------------------------------------------------------


def classify(entries: Iterable[gitlog.DiffEntry]) -> Scope:
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


def event_findings(events: Iterable[EventVerdict], base_problem: str | None = None) -> list[Finding]:
    """An error on the article for each review event that does not count (a warning for one
    that a merge left without effect: sound, but not what will be published)."""
    findings = []
    for event in events:
        if event.valid:
            continue
        what = f"{event.action} by {event.actor} in commit {event.commit[:12]}"
        reason = event.reason or "not valid"
        if event.superseded:
            message = f"{what} is superseded: {reason}"
            findings.append(Finding(**_at(event.path), rule="review-event-superseded", message=message))
            continue
        if base_problem:
            reason = f"{reason} ({base_problem})"
        message = f"{what} does not count: {reason}"
        findings.append(Finding.error("review-event-invalid", event.path, 1, 1, message))
    return findings


def _at(path: str) -> dict[str, Any]:
    return {"path": path, "line": 1, "column": 1, "severity": Severity.WARNING}


def published_findings(
    before: Mapping[str, ArticleStatus],
    after: Mapping[str, ArticleStatus],
    is_ancestor: Callable[[str, str], bool],
) -> list[Finding]:
    """One finding for each article whose published version the change moves, even where no
    file changed (a merge can carry approvals): a notice when the new version is newer than the
    base's (its approval includes the base's, or came after it), an error when it is older (a
    rollback: a fast-forward onto a branch that merged the base but kept an older approved text
    makes that branch's approvals the line of record)."""
    findings = []
    for slug, status in sorted(after.items()):
        now = status.approved
        was = before[slug].approved if slug in before else None
        if now is None or (was is not None and (was.commit, was.blob) == (now.commit, now.blob)):
            continue
        by = ", ".join(now.approvers)
        to = f"blob {now.blob[:12]}, approved by {by} in commit {now.commit[:12]}"
        path = article_path(slug)
        if was is None:
            message = f"{slug} is published for the first time: {to}"
        elif is_ancestor(was.commit, now.commit) or now.approved_at > was.approved_at:
            message = f"{slug}'s published version moves from blob {was.blob[:12]} to {to}"
        else:
            findings.append(
                Finding.error(
                    "published-rollback",
                    path,
                    1,
                    1,
                    f"{slug}'s published version moves from blob {was.blob[:12]} (approved in commit "
                    f"{was.commit[:12]}) to {to}, an older approval made without the base's: merge "
                    "this branch into the base (the base as first parent), or have the board approve "
                    "the text again",
                )
            )
            continue
        findings.append(Finding(**_at(path), rule=PUBLISHED_CHANGED, message=message))
    return findings


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
