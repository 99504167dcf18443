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
The rest is pure (verdict.py): data in, a CiResult out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from reviewflow import gitstore
from reviewflow.cache import CACHE_DIR
from reviewflow.ci.articles import (
    ArticleResult,
    check_articles,
    duplicate_slugs,
    planted_files,
    recheck_unchanged,
)
from reviewflow.ci.config_diff import (
    CONFIG_INVALID,
    config_findings,
    schema_findings,
)
from reviewflow.ci.settings import base_config, baseline_settings, gate_settings, text_of
from reviewflow.ci.verdict import (
    SCHEMAS_DIR,
    CiResult,
    EventVerdict,
    Scope,
    acknowledgement_findings,
    approval_findings,
    classify,
    event_findings,
    future_findings,
    published_findings,
)
from reviewflow.config import Config
from reviewflow.errors import EnvironmentProblem
from reviewflow.findings import Finding
from reviewflow.gitlog import ChangeLog
from reviewflow.gitstore import GitStore
from reviewflow.layout import ARTICLES_DIR, CONFIG_FILE, SCHEMA_FILE
from reviewflow.references.lockfile import LOCKFILE
from reviewflow.review import queries as review
from reviewflow.review.board import work_tree_config_differs
from reviewflow.review.gate import unacknowledged_approvals
from reviewflow.review.model import ArticleStatus, Event, State
from reviewflow.review.workflow import Replay

PATHSPECS = (f"{ARTICLES_DIR}/", CONFIG_FILE, f"{SCHEMAS_DIR}/", f"{CACHE_DIR}/")


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
        [*(f"{rev}:./{name}" for rev in (base, head) for name in (CONFIG_FILE, SCHEMA_FILE, LOCKFILE)),
         *(a.blob for a in scope.articles if a.blob)],
    )  # fmt: skip
    # HEAD's reviewflow.toml judges the change; an edited copy in the work tree must be valid.
    config_uncommitted = work_tree_config_differs(root, files[f"{head}:./{CONFIG_FILE}"])
    base_text = text_of(files[f"{base}:./{CONFIG_FILE}"])
    config_at_base, base_problem = base_config(base_text)

    result = CiResult(
        base_ref, base, head, strict=strict, require_approved=require_approved, repo_prefix=store.prefix
    )
    result.deleted = scope.deleted
    result.config_uncommitted = config_uncommitted
    result.gate_findings += planted_files(entries)
    result.gate_findings += duplicate_slugs(store, head, scope.articles)
    # Replaying the review history costs what the history costs: only when the change has
    # review events, when HEAD merged the base in (the base's own events then take effect at
    # that merge), or when the states are asked for. One replay serves all three; git reads
    # its log while the articles are checked.
    change = gitstore.change_log(store, base, head)
    replaying = require_approved or change.has_events or not change.base_on_line
    if replaying:
        store.read_log_ahead(head, bodies=not change.base_on_line)  # as replay_range reads it
    today = today or date.today()
    problems = _check_scope(result, root, store, scope, files, config_at_base, base_problem, today)
    if scope.config_changed and not any(f.rule == CONFIG_INVALID for f in problems):
        head_text = text_of(files[f"{head}:./{CONFIG_FILE}"]) or ""
        result.gate_findings += config_findings(base_text, base_problem, head_text)
    if scope.schema_paths:
        result.gate_findings += schema_findings(
            scope.schema_paths, files[f"{base}:./{SCHEMA_FILE}"], files[f"{head}:./{SCHEMA_FILE}"]
        )
    if replaying:
        _judge_events(result, store, change, config_at_base, base_problem)
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
    result: CiResult, store: GitStore, change: ChangeLog, config_at_base: Config, base_problem: str | None
) -> None:
    """Judge the change's review events by the base's configuration into RESULT, with the
    published versions they move; with --require-approved, each changed article's state."""
    changed = {article.change.slug for article in result.articles}
    replayed = replay_range(store, config_at_base, change, result.merge_base, result.head, changed)
    states = replayed.after
    result.events = [EventVerdict.of(event) for event in replayed.events]
    path_of = store.article_file  # an article in a subdirectory is named where it is
    result.gate_findings += event_findings(result.events, base_problem, path_of)
    result.gate_findings += future_findings(replayed.events, datetime.now(UTC), path_of)
    if base_problem is None:
        # Every approval the change brings acknowledges the warnings of its text, as the base's
        # rules find them: none is legacy, it is being merged now.
        unacknowledged = unacknowledged_approvals(store, replayed.events, lambda event: config_at_base)
        result.gate_findings += acknowledgement_findings(unacknowledged, path_of)
    result.gate_findings += published_findings(replayed.before, states, replayed.is_ancestor, path_of)
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
    store: GitStore, config: Config, change: ChangeLog, base: str, head: str, slugs: Iterable[str] = ()
) -> RangeReplay:
    """The review events in BASE..HEAD (CHANGE) judged under CONFIG, and the states at HEAD and
    at BASE of SLUGS and of the articles with events in the range.

    Only those articles are replayed, over their whole history, so each event is judged from
    the state the base left its article in; the events before the range are judged by the
    reviewflow.toml committed with them. The states at BASE say which version each of them
    had published before the change. When HEAD merged the base in, every article is replayed:
    the base's own events take effect at that merge, and may move any published version.
    """
    inside = change.commits
    scope = set(slugs) | change.slugs if change.base_on_line else None
    rules = dict.fromkeys(inside, config)
    judged = review.judge_history(store, config, rev=head, scope=scope, rules_for=rules, also=inside)
    if change.base_on_line:
        # The base's history is this one without the range, replayed without reading git again.
        before = Replay(judged.replay.history.before(base, inside), config).run().statuses
    else:
        before = review.judge_history(store, config, rev=base, scope=scope).outcome.statuses
    events = [e for e in judged.outcome.events if e.commit in inside]
    return RangeReplay(events, judged.outcome.statuses, before, judged.replay.is_ancestor)
