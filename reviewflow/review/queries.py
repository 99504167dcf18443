"""The review workflow's queries: status, history, diff, queue, verify.

The glue between the history read from git (history.py) and the pure state machine
(workflow.py). Readers call `load_statuses`, `read_blobs`, `invalid_events`; the CLI calls the
queries (`status_report`, `article_history`, `article_diff`, `review_queue`, `verify`); the
actions live in actions.py. Every event is judged by the reviewflow.toml committed where it was
made; ci judges a change's events under the base's board instead (`rules_for`).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from reviewflow.config import Config
from reviewflow.errors import ExitCode, ReviewflowError
from reviewflow.gitstore import GitStore
from reviewflow.layout import ARTICLES_DIR, SLUG_PATTERN, article_path, work_tree_articles
from reviewflow.review.authors import front_matter_authors
from reviewflow.review.board import committed_config, listed_later
from reviewflow.review.history import ApprovalsTold, read_history
from reviewflow.review.model import WAITING, Action, ArticleStatus, Change, Event
from reviewflow.review.snapshot import Judged, judged_history, kept_history
from reviewflow.review.workflow import Replay

if TYPE_CHECKING:
    from reviewflow.review.acknowledge import Unacknowledged  # the checks: not for `status`
    from reviewflow.review.reference_check import StaleReferences

PENDING = "(not yet committed)"


class UnknownArticle(ReviewflowError):
    """An ARTICLE argument that names no article (exit 2 for the reading commands)."""

    exit_code = ExitCode.USAGE


# --- the public readers ----------------------------------------------------------------------------


def load_statuses(
    root: Path,
    config: Config | None = None,
    scope: Collection[str] | None = None,
    store: GitStore | None = None,
) -> dict[str, ArticleStatus]:
    """The review state of every article at HEAD and of every article with events, by slug.

    Each event is judged by the reviewflow.toml committed where it was made; CONFIG (default:
    the one committed at HEAD) only sets what is shown, e.g. the quorum. SCOPE: only these slugs.
    """
    store = store or GitStore.open(root)
    if scope is None:
        return judge_history(store, config).outcome.statuses
    statuses = judge_for(store, config, scope).outcome.statuses
    return {slug: statuses[slug] for slug in scope if slug in statuses}


def judge_history(
    store: GitStore,
    config: Config | None = None,
    *,
    scope: Collection[str] | None = None,
    rev: str | None = None,
    rules_for: Mapping[str, Config] | None = None,
    want_authors: Mapping[str, Iterable[str]] | None = None,
    people: Iterable[str] = (),
    use_cache: bool = True,
    also: Collection[str] = (),
    approved: ApprovalsTold | None = None,
) -> Judged:
    """The history replayed and judged (the options are read_history's).

    CONFIG (default: the one committed at HEAD) judges an event about to be made and sets what
    is shown. The whole history at HEAD comes from the state kept since the last run where it
    can (snapshot.py); anything narrower or different is read from git.
    """
    config = config if config is not None else committed_config(store)
    if use_cache and scope is None and rev is None and rules_for is None and want_authors is None:
        return judged_history(store, config)  # PEOPLE changes nothing in a whole read
    log = read_history(
        store, scope=scope, rev=rev, rules_for=rules_for, want_authors=want_authors, people=people,
        use_cache=use_cache, also=also, approved=approved,
    )  # fmt: skip
    at_head = rev is None or rev == store.head  # then where each file is, HEAD says (ci: its HEAD)
    replay = Replay(log.history, config, store.article_file if at_head else article_path)
    return Judged(replay, replay.run(), dict(log.appeared))


def read_blobs(root: Path, blobs: Iterable[str]) -> dict[str, bytes]:
    """The contents of blobs by id (e.g. each `status.approved.blob`), from one git process."""
    return GitStore.open(root).read_blobs(blobs)


def judge_events(
    root: Path,
    config: Config | None = None,
    rev_range: str | None = None,
    use_cache: bool = True,
    store: GitStore | None = None,
) -> list[Event]:
    """Every review event reachable from HEAD, judged (only those in REV_RANGE if given)."""
    store = store or GitStore.open(root)
    events = judge_history(store, config, use_cache=use_cache).outcome.events
    if rev_range is not None:
        inside = store.commits_in(rev_range)
        events = [e for e in events if e.commit in inside]
    return events


def invalid_events(root: Path, config: Config | None = None, rev_range: str | None = None) -> list[Event]:
    """The review events that do not count, with the reason in `event.reason`."""
    return [e for e in judge_events(root, config, rev_range) if not e.valid]


# --- resolving the ARTICLE argument ----------------------------------------------------------------


def resolve_article(root: Path, value: str, cwd: Path | None = None) -> str:
    """The slug an ARTICLE argument names: a slug, or the path of articles/[<dirs>/]<slug>.md."""
    if "/" in value or "\\" in value or value.endswith(".md"):
        path = Path(value)
        if not path.is_absolute():
            path = (cwd or Path.cwd()) / path
        path = path.resolve()
        if not path.parent.is_relative_to((root / ARTICLES_DIR).resolve()) or path.suffix != ".md":
            raise UnknownArticle(
                f"{value}: not an article of this content repo (expected {ARTICLES_DIR}/<slug>.md "
                f"or {ARTICLES_DIR}/<directory>/<slug>.md in {root})"
            )
        value = path.stem
    if not SLUG_PATTERN.match(value):
        raise UnknownArticle(
            f"{value!r} is not an article slug (lowercase letters, digits and single hyphens)"
        )
    return value


def unknown_article(slug: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(slug, list(known), n=3)
    hint = f"did you mean {', '.join(close)}?" if close else "run `reviewflow status` to list the articles"
    return f"no article {slug!r} in {ARTICLES_DIR}/ at HEAD: {hint}"


def pick(statuses: Mapping[str, ArticleStatus], slugs: Sequence[str]) -> list[ArticleStatus]:
    missing = [s for s in slugs if s not in statuses]
    if missing:
        raise UnknownArticle(unknown_article(missing[0], statuses))
    return [statuses[s] for s in dict.fromkeys(slugs)] if slugs else list(statuses.values())


def now() -> datetime:
    return datetime.now(UTC).astimezone()


def today() -> date:
    return date.today()


# --- the queries -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusReport:
    statuses: list[ArticleStatus]
    uncommitted: list[str]  # article files in the work tree that are not in HEAD


def status_report(
    root: Path,
    articles: Sequence[str] = (),
    *,
    config: Config | None = None,
    cwd: Path | None = None,
    store: GitStore | None = None,
) -> StatusReport:
    """The status of the given articles (slugs or paths), or of every article."""
    slugs = [resolve_article(root, a, cwd) for a in articles]
    statuses = load_statuses(root, config, scope=set(slugs) if slugs else None, store=store)
    on_disk = work_tree_articles(root) if not slugs else {}
    uncommitted = sorted(path for slug, path in on_disk.items() if slug not in statuses)
    return StatusReport(pick(statuses, slugs), uncommitted)


@dataclass(frozen=True)
class ArticleHistory:
    status: ArticleStatus
    changed_by: Change | None  # the latest commit that changed the file after its latest valid event


def article_history(
    root: Path,
    article: str,
    *,
    config: Config | None = None,
    cwd: Path | None = None,
    store: GitStore | None = None,
) -> ArticleHistory:
    """Every review event of one article, oldest first, valid or not."""
    slug = resolve_article(root, article, cwd)
    store = store or GitStore.open(root)
    return _history_of(store, judge_article(store, config, slug).status)


@dataclass(frozen=True)
class ArticleJudged:
    """One article as the whole history judges it: what its history, its diff and its page
    (publish/collect.py) are made from. Judging resumes the kept state (~0.35 s at 10,000
    articles, ~3.5 s at 100,000) or reads the whole log from git (~0.9 s, ~10 s), so the review
    desk judges an article once for all three."""

    slug: str
    statuses: dict[str, ArticleStatus]  # the article's alone (none: no such article)
    appeared: Mapping[tuple[str, str], tuple[datetime, ...]]  # (slug, blob) -> commit times

    @property
    def status(self) -> ArticleStatus:
        return pick(self.statuses, [self.slug])[0]


def judge_article(store: GitStore, config: Config | None, slug: str) -> ArticleJudged:
    judged = judge_for(store, config, {slug})
    statuses = {slug: judged.outcome.statuses[slug]} if slug in judged.outcome.statuses else {}
    # The article's own dates: a kept whole history's are every article's, not held past here.
    appeared = {key: judged.appeared[key] for key in judged.appeared if key[0] == slug}
    return ArticleJudged(slug, statuses, appeared)


def judge_for(store: GitStore, config: Config | None, scope: Collection[str]) -> Judged:
    """A history judged for the articles of SCOPE: the kept whole one where there is one at HEAD
    or a few commits before (snapshot.kept_history), else the log read for SCOPE alone, which
    reads every commit (at 100,000 articles ~10 s against ~3 s to resume the kept state)."""
    config = config if config is not None else committed_config(store)
    return kept_history(store, config) or judge_history(store, config, scope=scope)


def article_history_and_diff(
    root: Path,
    article: str,
    *,
    config: Config | None = None,
    cwd: Path | None = None,
    context: int = 3,
    store: GitStore | None = None,
    judged: ArticleJudged | None = None,
) -> tuple[ArticleHistory, ArticleDiff]:
    """`article_history` and `article_diff` of one article, from one judged history (JUDGED,
    when the caller has it already): each judges it on its own."""
    slug = resolve_article(root, article, cwd)
    store = store or GitStore.open(root)
    status = (
        judged if judged is not None and judged.slug == slug else judge_article(store, config, slug)
    ).status
    return _history_of(store, status), _diff_of(store, status, context)


# Below, an article's file is where its judged status has it (HEAD's, as `GitStore.article_file`
# says): asked of the store again, it is a listing of every article at HEAD when the status
# was judged through another store (the desk keeps it between requests; ~1 s at 100,000).


def _history_of(store: GitStore, status: ArticleStatus) -> ArticleHistory:
    last = status.last_event
    changed = None
    if last is not None and status.blob != last.content:
        found = store.last_change(store.prefix + status.path, since=last.commit)
        changed = Change(found[0], found[1].lower()) if found else None
    return ArticleHistory(status, changed)


@dataclass(frozen=True)
class ArticleDiff:
    status: ArticleStatus
    basis: str  # "approved", "changes-requested" (never approved) or "none"
    old_label: str
    new_label: str
    lines: list[str]  # unified diff, without line ends
    uncommitted: bool  # the work tree differs from HEAD: not part of the diff


def article_diff(
    root: Path,
    article: str,
    *,
    config: Config | None = None,
    cwd: Path | None = None,
    context: int = 3,
    store: GitStore | None = None,
) -> ArticleDiff:
    """The unified diff between the last approved version and the file at HEAD.

    Never approved: against the version changes were last requested on, else the whole file.
    """
    slug = resolve_article(root, article, cwd)
    store = store or GitStore.open(root)
    return _diff_of(store, judge_article(store, config, slug).status, context)


def _diff_of(store: GitStore, status: ArticleStatus, context: int) -> ArticleDiff:
    path = status.path
    basis, old_blob, old_label = "none", None, "/dev/null"
    if status.approved is not None:
        approved = status.approved
        basis, old_blob = "approved", approved.blob
        old_label = f"a/{path} (approved {approved.approved_at.date()}, commit {approved.commit[:12]})"
    else:
        requested = [e for e in status.events if e.valid and e.action is Action.REQUEST_CHANGES]
        if requested:
            basis, old_blob = "changes-requested", requested[-1].content
            when, commit = requested[-1].committed_at.date(), requested[-1].commit[:12]
            old_label = f"a/{path} (changes requested {when}, commit {commit})"
    new_label = f"b/{path} (HEAD {store.head[:12]})" if status.blob else "/dev/null (deleted at HEAD)"
    contents = store.read_blobs([b for b in (old_blob, status.blob) if b])
    old = _lines(contents.get(old_blob, b"") if old_blob else b"")
    new = _lines(contents.get(status.blob, b"") if status.blob else b"")
    lines = list(difflib.unified_diff(old, new, old_label, new_label, n=context, lineterm=""))
    uncommitted = status.blob is not None and not store.is_unchanged(store.prefix + path)
    return ArticleDiff(status, basis, old_label, new_label, lines, uncommitted)


def _lines(raw: bytes) -> list[str]:
    return raw.decode("utf-8", "replace").splitlines()


@dataclass(frozen=True)
class QueueItem:
    status: ArticleStatus
    waiting_days: int
    submitted_by: str  # "Name <email>" of the submit that started the round


def review_queue(
    root: Path,
    *,
    config: Config | None = None,
    mine: bool = False,
    on: date | None = None,
    store: GitStore | None = None,
) -> list[QueueItem]:
    """Articles waiting for a reviewer (submitted, under review), the longest waiting first.

    MINE: only those that involve the person acting (git's author identity): as a board member,
    the ones they may review and have not approved yet; as an author, their own.
    """
    return review_state(root, config=config, mine=mine, on=on, store=store)[0]


def review_state(
    root: Path,
    *,
    config: Config | None = None,
    mine: bool = False,
    on: date | None = None,
    store: GitStore | None = None,
) -> tuple[list[QueueItem], list[ArticleStatus]]:
    """`review_queue` and the status of every article (as `status_report` lists them), from one
    judged history: the desk shows both, and two at once doubled its memory at 100,000 articles."""
    store = store or GitStore.open(root)
    email = store.author()[1].lower() if mine else ""
    judged = judge_history(store, config, people=[email] if mine else ())
    replay = judged.replay
    waiting = [s for s in judged.outcome.statuses.values() if s.state in WAITING and s.submitted_at]
    if mine:
        texts = store.read_blobs(s.blob for s in waiting if s.blob)

        def involves(status: ArticleStatus) -> bool:
            listed = email in front_matter_authors(texts.get(status.blob or "", b""), [email])
            author = listed or replay.author_role(status.slug, email) is not None
            reviewer = (
                replay.config.member(email) is not None and not author and email not in status.approved_by
            )
            return author or reviewer

        waiting = [s for s in waiting if involves(s)]
    day = on or today()
    items = []
    for status in waiting:
        assert status.submitted_at is not None
        submit = next((e for e in reversed(status.events) if e.valid and e.action is Action.SUBMIT), None)
        by = f"{submit.author_name} <{submit.author_email}>" if submit else ""
        items.append(QueueItem(status, max(0, (day - status.submitted_at.date()).days), by))
    items.sort(key=lambda item: (item.status.submitted_at or now(), item.status.slug))
    return items, list(judged.outcome.statuses.values())


@dataclass(frozen=True)
class Verification:
    events: list[Event]  # every event, judged, in topological order
    # Counted approvals whose trailers do not acknowledge the warnings of the text they approved.
    unacknowledged: list[Unacknowledged] = field(default_factory=list)
    # Events dated after the time of the run (clock.py): they count, but the record is wrong.
    future: list[Event] = field(default_factory=list)
    checked_at: datetime | None = None  # the time of the run
    # Approved texts whose references the lockfile now contradicts (reference_check.py).
    stale_references: list[StaleReferences] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.invalid or self.unacknowledged or self.future or self.stale_references)

    @property
    def invalid(self) -> list[Event]:
        """The events that do not count because they are unsound: the record's faults."""
        return [e for e in self.events if not e.valid and not e.superseded]

    @property
    def superseded(self) -> list[Event]:
        """Sound events from merged branches that their merge left without effect."""
        return [e for e in self.events if e.superseded]


def _verdicts(
    judged: Judged, store: GitStore, rev_range: str | None
) -> tuple[
    list[Event], dict[str, ArticleStatus], Config, Callable[[Event], Config | str], Callable[[Event], bool]
]:
    """What `verify` keeps of JUDGED: the events (those in REV_RANGE), every article's state,
    HEAD's configuration and what the gate needs of the replay (gate.py)."""
    from reviewflow.review.gate import legacy_rule, rules_of

    events, statuses = judged.outcome.events, judged.outcome.statuses
    if rev_range is not None:
        inside = store.commits_in(rev_range)
        events = [e for e in events if e.commit in inside]
    return events, statuses, judged.replay.config, rules_of(judged.replay), legacy_rule(judged.replay)


def verify(
    root: Path,
    rev_range: str | None = None,
    *,
    config: Config | None = None,
    use_cache: bool = True,
    store: GitStore | None = None,
    now: datetime | None = None,
) -> Verification:
    """Judge every review event in the history (or in REV_RANGE); USE_CACHE off: from git alone.

    Each counted approval's text is checked again under the reviewflow.toml in force for it,
    and one whose trailers do not acknowledge its warnings is refused (review/gate.py). An event
    dated after the time of the run (NOW, default the clock) is reported apart (clock.py)."""
    from reviewflow.review.clock import dated_after
    from reviewflow.review.early_checks import EarlyChecks
    from reviewflow.review.gate import unacknowledged_approvals  # the checks
    from reviewflow.review.reference_check import StaleReferenceCheck

    store = store or GitStore.open(root)
    config = config if config is not None else committed_config(store)
    if not use_cache and rev_range is None:  # the history will be read whole from git
        store.start_log()  # git walks it while the rules load and the early checks' workers fork
    starting = None
    try:
        # With nothing kept, the approved texts are checked while the history is read (early_checks.py).
        starting = EarlyChecks.start(root, store, config, use_cache) if rev_range is None else None
        approved = starting.told if starting is not None else None
        judged = judge_history(store, config, use_cache=use_cache, approved=approved)
    except BaseException:
        if starting is not None:
            starting.cancel()
        raise
    finally:
        store.forget_started_logs()  # a log started above and not read: the run failed first
    # What the replay asked about the texts whose authors the early checks answer (history.py).
    asked, in_question = judged.replay.asked_later, judged.replay.history.authors_later
    events, statuses, config, rules, legacy = _verdicts(judged, store, rev_range)
    # The rest of the judged history (the graph, every article's changes and track, the dates)
    # is let go before the early results come in and the gate runs: held, it was what their
    # ~600 MB at 100,000 articles came on top of.
    del judged
    early = starting.results() if starting is not None else None
    if asked and listed_later(store, asked, in_question, early.authors if early is not None else {}):
        # The replay took an actor listed in a text's authors for someone who is not (rare: a
        # board member approving a text that lists them): judged again, as without early checks.
        del events, statuses  # not held through the second read
        events, statuses, config, rules, legacy = _verdicts(
            judge_history(store, config, use_cache=use_cache), store, rev_range
        )
    del asked, in_question
    if early is not None:
        early.authors.clear()  # not held through the gate, which reads the checks alone
    references = StaleReferenceCheck(root, store, statuses, config, use_cache, early)
    del statuses
    unacknowledged = unacknowledged_approvals(
        store, events, rules, legacy, use_cache, references.judge, early
    )
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    stale = references.result()
    return Verification(events, unacknowledged, dated_after(events, moment), moment, stale)
