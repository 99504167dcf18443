"""`reviewflow ci`: the merge gate.

Scope is the change, not the repository: the articles that differ between the merge-base of
the base ref and HEAD are checked with every rule, and every review event in that range is
judged against the *base's* reviewflow.toml, so nobody can join the board and approve in the
same change. A change to reviewflow.toml or schemas/ is named in warnings for humans to see,
and, since it is a change to every article, every other article at HEAD is checked again: the
errors it brings them (and not the ones they had at the base) fail the gate. The change's own
articles are checked with the stricter of the base's and HEAD's severity for each rule, so a
change cannot switch off the rule that would fail it; a reviewflow.toml or schema the change
breaks is an error on its line.

Git is read in a fixed handful of calls (rev-parse, merge-base, one `diff --raw`, one
`cat-file --batch`, the review log of the range, and for a configuration change one `ls-tree`
and one more `cat-file --batch`), so the cost follows the change.
The rest is pure: data in, a CiResult out.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from reviewflow import gitstore, review
from reviewflow.article import Document, parse_document, slug_of
from reviewflow.checks import Context, check_document, unknown_rule_settings
from reviewflow.config import ARTICLES_DIR, CONFIG_FILE, SCHEMA_FILE, Config, parse_config
from reviewflow.config_diff import (
    CONFIG_CHANGED,
    CONFIG_INVALID,
    SCHEMA_CHANGED,
    SCHEMA_INVALID,
    config_findings,
    config_problems,
    schema_findings,
    schema_problem,
    stricter_rules,
)
from reviewflow.errors import ConfigError, EnvironmentProblem
from reviewflow.findings import Finding, Severity, count
from reviewflow.gitstore import GitStore
from reviewflow.readability import warm_up
from reviewflow.retractions import RetractionIndex, load_retractions
from reviewflow.schema import ArticleSchema, bundled_schema_text
from reviewflow.workflow import ArticleStatus, Event, Replay

SCHEMAS_DIR = "schemas"
PATHSPECS = (f"{ARTICLES_DIR}/", CONFIG_FILE, f"{SCHEMAS_DIR}/")

# Findings only `ci` produces, besides the check rules.
CI_RULES = {
    "review-event-invalid": "a review event in the change does not count (judged by the base)",
    "not-approved": "with --require-approved, a changed article is not approved at HEAD",
    CONFIG_CHANGED: "reviewflow.toml changed: what changed, for humans to review",
    SCHEMA_CHANGED: "a file in schemas/ changed: what changed, for humans to review",
    CONFIG_INVALID: "the change leaves reviewflow.toml invalid at HEAD",
    SCHEMA_INVALID: "the change leaves schemas/article.schema.json invalid at HEAD",
}
# Shown to reviewers but never failing the gate, not even with --strict: changing the board or
# the policy is legitimate; it is the humans reviewing the change who must see it.
NOTICE_RULES = frozenset({CONFIG_CHANGED, SCHEMA_CHANGED})

# "unchanged": an article the change does not touch, checked again because the change edits
# reviewflow.toml or the schema, which every article is judged by.
ChangeKind = Literal["added", "modified", "renamed", "deleted", "unchanged"]
_KINDS: dict[str, ChangeKind] = {
    "A": "added",
    "M": "modified",
    "T": "modified",
    "R": "renamed",
    "C": "added",
    "D": "deleted",
}


@dataclass(frozen=True)
class ArticleChange:
    """One article file that differs between the merge-base and HEAD."""

    path: str
    change: ChangeKind
    previous_path: str | None = None  # for a rename
    blob: str | None = None  # the content at HEAD; None for a deletion

    @property
    def slug(self) -> str:
        return slug_of(self.path)


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

    @classmethod
    def of(cls, event: Event) -> EventVerdict:
        action = event.action.value if event.action else "(no action)"
        return cls(event.commit, event.slug, action, event.actor, event.valid, event.reason or "")

    @property
    def path(self) -> str:
        """The article's file; the articles directory for an event that names no article."""
        return f"{ARTICLES_DIR}/{self.article}.md" if self.article else ARTICLES_DIR


@dataclass
class ArticleResult:
    change: ArticleChange
    findings: list[Finding] = field(default_factory=list)
    state: str | None = None  # the review state at HEAD, when it was asked for
    not_checked: str | None = None  # why the rules could not run on it, if they could not

    @property
    def path(self) -> str:
        return self.change.path


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
        return [e for e in self.events if not e.valid]

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
    scope = classify(gitstore.changed_paths(store, base, head, PATHSPECS))
    files = gitstore.read_objects(
        store,
        [*(f"{rev}:./{name}" for rev in (base, head) for name in (CONFIG_FILE, SCHEMA_FILE)),
         *(a.blob for a in scope.articles if a.blob)],
    )  # fmt: skip
    base_text = _text(files[f"{base}:./{CONFIG_FILE}"])
    base_config, base_problem = _base_config(base_text)
    today = today or date.today()

    result = CiResult(
        base_ref, base, head, strict=strict, require_approved=require_approved, repo_prefix=store.prefix
    )
    result.deleted = scope.deleted
    settings, problems = gate_settings(root, scope, files, base, head, base_config, today)
    if settings is None:
        # Without a valid configuration at HEAD no rule can run: the change's own problem.
        result.gate_findings += problems
        reason = f"{problems[0].path} at HEAD is invalid"
        result.articles = [ArticleResult(change, not_checked=reason) for change in scope.articles]
    else:
        result.articles = check_articles(
            scope.articles, files, settings.config, settings.schema, settings.context
        )
        if scope.config_changed or SCHEMA_FILE in scope.schema_paths:
            baseline = None if base_problem else _baseline(files, base, base_config, settings)
            if baseline is not None:
                what = _what_changed(scope)
                result.rechecked, result.affected = recheck_unchanged(
                    store, head, scope, settings, baseline, what
                )
    if scope.config_changed and not any(f.rule == CONFIG_INVALID for f in problems):
        head_text = _text(files[f"{head}:./{CONFIG_FILE}"]) or ""
        result.gate_findings += config_findings(base_text, base_problem, head_text)
    if scope.schema_paths:
        result.gate_findings += schema_findings(
            scope.schema_paths, files[f"{base}:./{SCHEMA_FILE}"], files[f"{head}:./{SCHEMA_FILE}"]
        )
    # Replaying the review history costs what the history costs: only when the change has
    # review events, or when the states are asked for. One replay serves both.
    if require_approved or gitstore.has_review_commits(store, base, head):
        events, states = replay_range(store, base_config, base, head)
        result.events = [EventVerdict.of(event) for event in events]
        result.gate_findings += event_findings(result.events, base_problem)
        if require_approved:
            for article in result.articles:
                status = states.get(article.change.slug)
                article.state = status.state.value if status else "draft"
            result.gate_findings += approval_findings(result.articles)
    return result


@dataclass(frozen=True)
class Settings:
    """What articles are checked with: a configuration, a schema, and the context of the rules."""

    config: Config
    schema: ArticleSchema
    context: Context


def gate_settings(
    root: Path,
    scope: Scope,
    files: Mapping[str, bytes | None],
    base: str,
    head: str,
    base_config: Config,
    today: date,
) -> tuple[Settings | None, list[Finding]]:
    """HEAD's configuration and schema with the stricter of each rule's two severities.

    A reviewflow.toml or schema that is invalid at HEAD is the change's finding when the change
    touched it (None and the findings); when it did not, it was broken before the change, which
    is a ConfigError (exit 2), not this change's fault.
    """
    problems: list[Finding] = []
    head_text = _text(files[f"{head}:./{CONFIG_FILE}"])
    config = schema = retractions = None
    try:
        config = _head_config(head_text)
        retractions = _retractions(root, config)
    except ConfigError as exc:
        if not scope.config_changed:
            raise
        problems += config_problems(head_text or "", str(exc), f"{CONFIG_FILE} (at HEAD)")
    try:
        schema = _schema(files[f"{head}:./{SCHEMA_FILE}"], "at HEAD")
    except _SchemaProblem as exc:
        if SCHEMA_FILE not in scope.schema_paths:
            raise
        problems.append(schema_problem(SCHEMA_FILE, exc.detail, exc.line, exc.column))
    if problems or config is None or schema is None:
        return None, problems
    rules = stricter_rules(base_config, config)
    config = config.model_copy(update={"checks": config.checks.model_copy(update={"rules": rules})})
    return Settings(config, schema, Context(config, today, retractions)), []


def _baseline(
    files: Mapping[str, bytes | None], base: str, config: Config, head: Settings
) -> Settings | None:
    """The base's own settings, to tell the errors a change brings from those it found.

    None when the base's schema is unusable: then there is nothing to compare with. The
    retractions file is read from the work tree, so the base uses the same one, if it had any.
    """
    try:
        schema = _schema(files[f"{base}:./{SCHEMA_FILE}"], "at the base")
    except ConfigError:
        return None
    if schema.schema == head.schema.schema:
        schema = head.schema  # one parse per article then serves both
    retractions = head.context.retractions if config.checks.retractions else None
    return Settings(config, schema, Context(config, head.context.today, retractions))


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


def replay_range(
    store: GitStore, config: Config, base: str, head: str
) -> tuple[list[Event], dict[str, ArticleStatus]]:
    """The review events in BASE..HEAD judged under CONFIG, and every article's state at HEAD.

    The whole history is replayed, so each event is judged from the state the base left its
    article in; only the events inside the range are returned.
    """
    outcome = Replay(review.read_history(store, config, rev=head), config).run()
    inside = store.commits_in(f"{base}..{head}")
    return [e for e in outcome.events if e.commit in inside], outcome.statuses


def _text(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")


def _head_config(text: str | None) -> Config:
    if text is None:
        raise ConfigError(f"{CONFIG_FILE} is not in HEAD's tree: a content repo must keep it in git")
    config = parse_config(text, f"{CONFIG_FILE} (at HEAD)")
    unknown = unknown_rule_settings(config)
    if unknown:
        raise ConfigError(f"{CONFIG_FILE} (at HEAD): checks.rules: unknown rule id(s): {', '.join(unknown)}")
    return config


def _base_config(text: str | None) -> tuple[Config, str | None]:
    """The base's configuration, or an empty board and the reason there is no usable one.

    A base without a usable reviewflow.toml must not block the change that repairs it, but no
    review event can count against it: with an empty board, none does.
    """
    if text is None:
        return Config(), f"the base has no {CONFIG_FILE}"
    try:
        return parse_config(text, f"{CONFIG_FILE} (at the base)"), None
    except ConfigError as exc:
        return Config(), f"the base's {CONFIG_FILE} is invalid ({str(exc).splitlines()[0]})"


class _SchemaProblem(ConfigError):
    """An unusable schema file, and where in it the problem is."""

    def __init__(self, where: str, detail: str, line: int = 1, column: int = 1) -> None:
        super().__init__(f"{SCHEMA_FILE} ({where}):{line}:{column}: {detail}")
        self.detail, self.line, self.column = detail, line, column


def _schema(raw: bytes | None, where: str) -> ArticleSchema:
    """The schema in git at one side of the change (WHERE), or the bundled one if it has none."""
    if raw is None:
        return ArticleSchema(json.loads(bundled_schema_text()), "bundled article.schema.json")
    try:
        data = json.loads(raw)
    except UnicodeDecodeError as exc:
        raise _SchemaProblem(where, f"not UTF-8: {exc.reason}") from None
    except json.JSONDecodeError as exc:
        raise _SchemaProblem(where, f"invalid JSON: {exc.msg}", exc.lineno, exc.colno) from None
    source = f"{SCHEMA_FILE} ({where})"
    try:
        return ArticleSchema(data, source)
    except ConfigError as exc:
        raise _SchemaProblem(where, str(exc).removeprefix(f"{source}: ")) from None


def _retractions(root: Path, config: Config) -> RetractionIndex | None:
    path = config.checks.retractions
    if path is None:
        return None
    if not (root / path).is_file():
        raise ConfigError(f"{CONFIG_FILE} (at HEAD): checks.retractions: file not found: {path}")
    return load_retractions(root / path)


# --- the pure core -----------------------------------------------------------------------------


def classify(entries: Iterable[gitstore.DiffEntry]) -> Scope:
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


def is_article_path(path: str) -> bool:
    """An article is a Markdown file directly in articles/, as `check` finds them."""
    directory, _, name = path.rpartition("/")
    return directory == ARTICLES_DIR and name.endswith(".md")


def check_articles(
    changes: Sequence[ArticleChange],
    blobs: Mapping[str, bytes | None],
    config: Config,
    schema: ArticleSchema,
    context: Context,
) -> list[ArticleResult]:
    """Every check rule on the content of each changed article at HEAD."""
    results = []
    for change in changes:
        raw = blobs.get(change.blob) if change.blob else None
        if raw is None:
            findings = [_unreadable(change)]
        else:
            findings = check_document(_parse(change.path, raw, config, schema), context)
        results.append(ArticleResult(change, sorted(findings, key=Finding.sort_key)))
    return results


def new_errors(change: ArticleChange, raw: bytes, head: Settings, base: Settings, what: str) -> list[Finding]:
    """The errors an unchanged article has with HEAD's settings and did not have at the base.

    An error the article already had is the base's, not the change's: a repository with old
    problems can still change its configuration. Errors are matched by rule and position,
    since their messages may name configuration values. The article is parsed once, twice
    only when the schema (or the size limit) differs.
    """
    document = _parse(change.path, raw, head.config, head.schema)
    errors = [f for f in check_document(document, head.context) if f.severity is Severity.ERROR]
    if not errors:
        return []
    if (
        base.schema is not head.schema
        or base.config.checks.max_file_bytes != head.config.checks.max_file_bytes
    ):
        document = _parse(change.path, raw, base.config, base.schema)
    before = {
        (f.rule, f.line, f.column)
        for f in check_document(document, base.context)
        if f.severity is Severity.ERROR
    }
    note = f" (unchanged article: it fails with this change's {what})"
    return [
        f.model_copy(update={"message": f.message + note})
        for f in errors
        if (f.rule, f.line, f.column) not in before
    ]


def recheck_unchanged(
    store: GitStore, head: str, scope: Scope, settings: Settings, baseline: Settings, what: str
) -> tuple[int, list[ArticleResult]]:
    """Check every article the change does not touch again, for a configuration change.

    Returns how many were checked and those with errors the change brings. One `ls-tree` and
    one `cat-file --batch`; many articles are checked in a process pool, as `check` does.
    """
    touched = {a.path for a in scope.articles}
    unchanged = [
        ArticleChange(path, "unchanged", blob=blob)
        for path, blob in sorted(
            (f"{ARTICLES_DIR}/{slug}.md", blob) for slug, blob in store.article_blobs(head).items()
        )
        if path not in touched
    ]
    contents = store.read_blobs(a.blob for a in unchanged if a.blob)
    global _forked
    _forked = (contents, settings, baseline, what)
    try:
        jobs = os.cpu_count() or 1
        if (
            jobs == 1
            or len(unchanged) < PARALLEL_THRESHOLD
            or "fork" not in multiprocessing.get_all_start_methods()
        ):
            found = _recheck(unchanged)
        else:
            warm_up()  # load shared data once, before the workers fork and inherit it
            size = max(16, -(-len(unchanged) // (jobs * 4)))
            chunks = [unchanged[i : i + size] for i in range(0, len(unchanged), size)]
            with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
                found = [result for chunk in pool.map(_recheck, chunks) for result in chunk]
    finally:
        _forked = None
    return len(unchanged), [result for result in found if result.findings]


# Below this many articles a process pool costs more to start than it saves (as for `check`).
PARALLEL_THRESHOLD = 200
# What the forked workers of recheck_unchanged inherit instead of receiving: the contents of
# the articles, HEAD's and the base's settings, and what changed.
_forked: tuple[Mapping[str, bytes], Settings, Settings, str] | None = None


def _recheck(changes: list[ArticleChange]) -> list[ArticleResult]:
    assert _forked is not None, "set by recheck_unchanged"
    contents, settings, baseline, what = _forked
    results = []
    for change in changes:
        raw = contents.get(change.blob) if change.blob else None
        if raw is None:
            results.append(ArticleResult(change, [_unreadable(change)]))
        else:
            results.append(ArticleResult(change, new_errors(change, raw, settings, baseline, what)))
    return results


def _parse(path: str, raw: bytes, config: Config, schema: ArticleSchema) -> Document:
    limit = config.checks.max_file_bytes
    return parse_document(path, raw[: limit + 1], schema, limit)


def _unreadable(change: ArticleChange) -> Finding:
    return Finding.error("file-unreadable", change.path, 1, 1, "its content at HEAD cannot be read from git")


def event_findings(events: Iterable[EventVerdict], base_problem: str | None = None) -> list[Finding]:
    """An error on the article for each review event that does not count."""
    findings = []
    for event in events:
        if event.valid:
            continue
        reason = event.reason or "not valid"
        if base_problem:
            reason = f"{reason} ({base_problem})"
        what = f"{event.action} by {event.actor} in commit {event.commit[:12]}"
        message = f"{what} does not count: {reason}"
        findings.append(Finding.error("review-event-invalid", event.path, 1, 1, message))
    return findings


def approval_findings(articles: Iterable[ArticleResult]) -> list[Finding]:
    """With --require-approved: an error for each changed article not approved at HEAD."""
    return [
        Finding.error(
            "not-approved",
            article.path,
            1,
            1,
            f"{article.change.slug} is {article.state or 'draft'} at HEAD, and this gate merges "
            "only approved content: submit it and have the board approve this version",
        )
        for article in articles
        if article.state != "approved"
    ]
