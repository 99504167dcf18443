"""What each desk page shows, as plain data read through the library (`ContentRepo`).

Every fact comes from the same calls the CLI makes (`queue`, `status`, `history`, `diff`,
`check`); nothing here judges an event or decides a state. What the pages read is kept
between requests, each keyed on everything it was computed from, so it is never stale: the
queue and the rows of the other articles (`ReviewRows`, not every judged event), an article's
history and diff, and its published page by HEAD's commit (the whole history judged, and
the reviewflow.toml that judges it, follow from it) with the work tree's reviewflow.toml, the
day and the acting person where they matter; an article text's authors by blob id; a file's
check findings by the file's size, mtime and inode, those of the work tree's reviewflow.toml,
schema and reference lockfile, and the day. A warm page costs a few git processes.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Generic, TypeVar, cast

from reviewflow.collector import keep_out_of_reach
from reviewflow.config import BoardMember
from reviewflow.desk.preview import NoPage
from reviewflow.desk.worddiff import WHOLE_FILE, WordDiff, texts_of_unified, word_diff
from reviewflow.findings import Finding, Severity
from reviewflow.gitstore import GitStore
from reviewflow.layout import CONFIG_FILE, LOCKFILE, SCHEMA_FILE, article_slug
from reviewflow.repo import ContentRepo
from reviewflow.review.acknowledge import to_acknowledge
from reviewflow.review.model import ArticleStatus, Event, State
from reviewflow.review.queries import ArticleDiff, ArticleJudged, QueueItem

T = TypeVar("T")
R = TypeVar("R")
KEPT_AT_HEAD = 64  # pages' reads kept: the queue, and the articles a reviewer moves between
# A long list's rows on one page. A page of every row was 2 MB of HTML at 100,000 articles
# (~10,000 waiting, as many drafts), more than a reader scans, and its time grew with the list:
# a page now reads, checks and renders its own rows only.
ROWS_PER_PAGE = 100
QUEUE_LISTS = ("waiting", "changes-requested", "drafts")  # each paged apart: its page in the URL
BOARD_LISTS = ("overdue",)


@dataclass(frozen=True)
class Part(Generic[R]):
    """The rows of a list that one page shows: page NUMBER of PAGES, out of TOTAL rows."""

    rows: Sequence[R]
    number: int
    pages: int
    total: int

    @property
    def first(self) -> int:
        """The position in the whole list of the first row shown (counted from 1)."""
        return (self.number - 1) * ROWS_PER_PAGE + 1

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1


def part_of(rows: Sequence[R], number: int, name: str) -> Part[R]:
    """Page NUMBER of ROWS, the list NAME (which names it in the message when there is none)."""
    pages = max(1, -(-len(rows) // ROWS_PER_PAGE))
    if not 1 <= number <= pages:
        filled = "page 1" if pages == 1 else f"pages 1 to {pages}"
        raise NoPage(f"there is no page {number} of {name}: its {len(rows):,} rows fill {filled}")
    start = (number - 1) * ROWS_PER_PAGE
    return Part(rows[start : start + ROWS_PER_PAGE], number, pages, len(rows))


@dataclass(frozen=True)
class Counts:
    errors: int
    warnings: int


@dataclass(frozen=True)
class QueueRow:
    status: ArticleStatus
    waiting_days: int
    authors: tuple[str, ...]
    findings: Counts | None  # None: the file is not in the work tree


@dataclass(frozen=True)
class OtherRow:
    """A draft or an article with changes requested: listed apart from the queue."""

    status: ArticleStatus
    since: date | None  # its latest valid event
    by: str  # who made it


@dataclass(frozen=True)
class QueuePage:
    waiting: Part[QueueRow]
    changes_requested: Part[OtherRow]
    drafts: Part[OtherRow]
    mine: bool


@dataclass(frozen=True)
class ArticlePage:
    status: ArticleStatus
    findings: list[Finding] | None  # None: the file is not in the work tree
    diff: ArticleDiff
    words: WordDiff
    events: tuple[Event, ...]

    @property
    def warnings(self) -> list[Finding]:
        """The warnings an approval has to acknowledge, as `approve` lists them."""
        return to_acknowledge(self.findings or ())

    @property
    def warnings_by_rule(self) -> list[tuple[str, list[Finding]]]:
        """The approve form's checkboxes: an acknowledgement names a rule (`approve --accept RULE`)."""
        rules: dict[str, list[Finding]] = {}
        for finding in self.warnings:
            rules.setdefault(finding.rule, []).append(finding)
        return list(rules.items())


@dataclass(frozen=True)
class BoardPage:
    board: tuple[BoardMember, ...]
    quorum: int
    review_cycle_days: int
    overdue: Part[ArticleStatus]
    today: date


class Memo:
    """Facts computed from an article's text or file, kept while what they came from is unchanged."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._authors: dict[str, tuple[str, ...]] = {}
        self._counts: dict[tuple[object, ...], Counts] = {}
        self._findings: OrderedDict[tuple[object, ...], list[Finding]] = OrderedDict()
        self._kept: OrderedDict[tuple[object, ...], object] = OrderedDict()

    def at_head(
        self, repo: ContentRepo, store: GitStore, parts: tuple[object, ...], compute: Callable[[], T]
    ) -> T:
        """What COMPUTE gives at this HEAD, kept while HEAD, the work tree's reviewflow.toml and
        PARTS (whatever else it depends on) stay the same. The review state follows from HEAD:
        the history, and the reviewflow.toml committed in it that judges it."""
        key = (store.head, _stat(repo.root / CONFIG_FILE), *parts)
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return cast(T, self._kept[key])
        value = compute()
        with self._lock:
            self._kept[key] = value
            while len(self._kept) > KEPT_AT_HEAD:
                self._kept.popitem(last=False)
        return value

    def judged(self, repo: ContentRepo, store: GitStore, slug: str) -> ArticleJudged:
        """SLUG as the whole history at HEAD judges it: the article page and its published page
        are both made from it (judged apart, each resumed the kept state or read the log again)."""
        return self.at_head(repo, store, ("judged", slug), lambda: repo.judge_article(slug))

    def review_state(self, repo: ContentRepo, mine: bool) -> ReviewRows:
        """What the queue and board pages show of `repo.queue(mine=MINE)` and `repo.status()`,
        read again whenever HEAD moves."""
        store = GitStore.open(repo.root)
        who = store.author()[1].lower() if mine else ""
        return self.at_head(repo, store, ("queue", date.today(), who), lambda: _kept(repo, mine))

    def authors(self, repo: ContentRepo, blobs: Sequence[str]) -> dict[str, tuple[str, ...]]:
        from reviewflow.content.frontmatter import read_article_bytes

        with self._lock:
            missing = [b for b in dict.fromkeys(blobs) if b not in self._authors]
        if missing:
            found = {}
            for blob, raw in GitStore.open(repo.root).read_blobs(missing).items():
                data = read_article_bytes(raw, max(len(raw), 1)).data or {}
                listed = data.get("authors")
                listed = listed if isinstance(listed, list) else []
                names = [a.get("name") for a in listed if isinstance(a, dict)]
                found[blob] = tuple(str(n) for n in names if n)
            with self._lock:
                self._authors.update(found)
        with self._lock:
            return {b: self._authors.get(b, ()) for b in blobs}

    def counts(self, repo: ContentRepo, files: Mapping[str, str]) -> dict[str, Counts | None]:
        """The findings of `reviewflow check` on each article's file (FILES: slug -> its path,
        where HEAD has it), counted."""
        around = _around(repo)
        # Joined as strings: a Path made for each of ~10,000 queued files was a seventh of a
        # warm queue page at 100,000 articles.
        root = os.fspath(repo.root)
        keys = {s: (s, *_stat(os.path.join(root, files[s])), around) for s in files}
        with self._lock:
            missing = [s for s, key in keys.items() if key[1] != -1 and key not in self._counts]
        if missing:
            report = repo.check([repo.root / files[s] for s in missing])
            tally = {s: [0, 0] for s in missing}
            for finding in report.findings:
                slug = article_slug(finding.path)
                if slug in tally:
                    tally[slug][finding.severity is Severity.WARNING] += 1
            with self._lock:
                for slug, (errors, warnings) in tally.items():
                    self._counts[keys[slug]] = Counts(errors, warnings)
        with self._lock:
            return {s: self._counts.get(key) if key[1] != -1 else None for s, key in keys.items()}

    def findings(self, repo: ContentRepo, file: str) -> list[Finding] | None:
        """The findings of `reviewflow check` on the article FILE (its path in the content repo),
        in order; None when the work tree has no such file. A check of one file reads what the
        whole work tree holds (every article's name, for duplicates; the lockfile's index; the
        findings cache): ~1 s at 100,000 articles, each time an article page was shown."""
        key = (file, *_stat(repo.root / file), _around(repo))
        if key[1] == -1:
            return None
        with self._lock:
            if key in self._findings:
                self._findings.move_to_end(key)
                return self._findings[key]
        found = sorted(repo.check([repo.root / file]).findings, key=Finding.sort_key)
        with self._lock:
            self._findings[key] = found
            while len(self._findings) > KEPT_AT_HEAD:
                self._findings.popitem(last=False)
        return found


def _around(repo: ContentRepo) -> tuple[object, ...]:
    """What an article file's findings depend on besides the file: the settings, the schema,
    the reference lockfile, and the day (a reference ages; a date in the future arrives)."""
    root = repo.root
    return (_stat(root / CONFIG_FILE), _stat(root / SCHEMA_FILE), _stat(root / LOCKFILE), date.today())


@dataclass(frozen=True)
class ReviewRows:
    """The rows of the queue and board pages, kept between requests instead of every article's
    status: those hold every judged event (~800 MB with the rest of the history at 100,000
    articles), of which the pages show the last valid one of a draft or a request for changes."""

    waiting: list[QueueItem]
    changes_requested: list[OtherRow]
    drafts: list[OtherRow]
    approved: list[ArticleStatus]  # approved once, with a review date: the board's overdue ones


def _kept(repo: ContentRepo, mine: bool) -> ReviewRows:
    """The rows, made out of the cycle collector's reach: they live until HEAD moves, and a
    collection during a page would otherwise walk them all (collector.keep_out_of_reach)."""
    rows = _rows(*repo.queue_and_statuses(mine=mine))  # the judged history is let go here
    keep_out_of_reach()
    return rows


def _rows(items: list[QueueItem], statuses: list[ArticleStatus]) -> ReviewRows:
    def apart(state: State) -> list[OtherRow]:
        rows = []
        for status in statuses:
            if status.state is state and status.blob is not None:
                last = status.last_event
                since = last.committed_at.date() if last else None
                rows.append(OtherRow(_without_events(status), since, last.author_name if last else ""))
        return rows

    approved = [_without_events(s) for s in statuses if s.approved is not None and s.review_due is not None]
    # Listed whoever they belong to: "mine" narrows the queue, as `reviewflow queue --mine` does.
    return ReviewRows(items, apart(State.CHANGES_REQUESTED), apart(State.DRAFT), approved)


def _without_events(status: ArticleStatus) -> ArticleStatus:
    """STATUS as these rows show it: its events (and through them the judged history) let go."""
    return status._replace(events=())


def _stat(path: Path | str) -> tuple[int, int, int]:
    """What tells a file changed: size, mtime and inode (-1s when there is no such file)."""
    try:
        info = os.stat(path)
    except OSError:
        return -1, -1, -1
    return info.st_size, info.st_mtime_ns, info.st_ino


def queue_page(
    repo: ContentRepo, memo: Memo, *, mine: bool, numbers: Mapping[str, int] | None = None
) -> QueuePage:
    """The articles waiting for a reviewer, and apart from them the ones waiting for an author;
    of each list the page NUMBERS name (by the list's name in QUEUE_LISTS; the first if none)."""
    numbers = numbers or {}
    rows = memo.review_state(repo, mine)
    shown = part_of(rows.waiting, numbers.get("waiting", 1), "the articles waiting for review")
    items = shown.rows
    authors = memo.authors(repo, [i.status.blob for i in items if i.status.blob])
    counts = memo.counts(repo, {i.status.slug: i.status.path for i in items})
    waiting = [
        QueueRow(i.status, i.waiting_days, authors.get(i.status.blob or "", ()), counts[i.status.slug])
        for i in items
    ]
    return QueuePage(
        Part(waiting, shown.number, shown.pages, shown.total),
        part_of(rows.changes_requested, numbers.get("changes-requested", 1), "the changes requested"),
        part_of(rows.drafts, numbers.get("drafts", 1), "the drafts"),
        mine,
    )


def article_page(repo: ContentRepo, memo: Memo, slug: str) -> ArticlePage:
    store = GitStore.open(repo.root)
    judged = memo.judged(repo, store, slug)
    history, diff = memo.at_head(
        repo, store, ("article", slug), lambda: repo.history_and_diff(slug, context=WHOLE_FILE, judged=judged)
    )
    status = history.status
    # The one fact about the work tree in the diff, asked again each time (as `diff` asks it).
    # The status has the file where HEAD has it: no listing of every article at HEAD to find it.
    path = store.prefix + status.path
    diff = replace(diff, uncommitted=status.blob is not None and not store.is_unchanged(path))
    findings = memo.findings(repo, status.path) if (repo.root / status.path).is_file() else None
    old, new = texts_of_unified(diff.lines)
    return ArticlePage(status, findings, diff, word_diff(old, new), status.events)


def board_page(
    repo: ContentRepo, memo: Memo, today: date, numbers: Mapping[str, int] | None = None
) -> BoardPage:
    """The board and policy, and the page NUMBERS names (in BOARD_LISTS) of the overdue articles."""
    numbers = numbers or {}
    config, _ = repo.judging()
    approved = memo.review_state(repo, mine=False).approved
    overdue = [s for s in approved if s.review_due is not None and s.review_due < today]
    shown = part_of(overdue, numbers.get("overdue", 1), "the articles overdue for review")
    return BoardPage(
        tuple(config.board), config.policy.approvals_required, config.policy.review_cycle_days, shown, today
    )
