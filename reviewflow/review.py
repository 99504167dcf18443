"""The review workflow on a content repo: read the review log from git, act on it.

This is the glue between git (gitstore), the pure state machine (workflow) and the articles
(workspace). Readers call `load_statuses`, `read_blobs`, `invalid_events`; the CLI calls the
actions (`act`) and the queries (`status_report`, `article_history`, `article_diff`,
`review_queue`, `verify`). The configuration is always a parameter: CI judges a branch against
the base's board, not the one the branch brings.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from reviewflow.article import SLUG_PATTERN
from reviewflow.config import ARTICLES_DIR, Config
from reviewflow.errors import ExitCode, ReviewflowError
from reviewflow.frontmatter import read_article_bytes
from reviewflow.gitstore import GitStore, LogEntry, is_object_id
from reviewflow.workflow import (
    BOARD_ACTIONS,
    WAITING,
    Action,
    ArticleStatus,
    Change,
    Event,
    History,
    Replay,
)

TRAILER_ARTICLE = "Reviewflow-Article"
TRAILER_ACTION = "Reviewflow-Action"
TRAILER_CONTENT = "Reviewflow-Content"
PENDING = "(not yet committed)"
_TRAILER_LINE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*:\s")
# One paragraph of trailer lines, split at "\n" only: no blank line, no other line break.
_ONLY_TRAILERS = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9-]*:[ \t][^\n\r\v\f\x1c-\x1e\x85\u2028\u2029]*"
    r"(?:\n[A-Za-z0-9][A-Za-z0-9-]*:[ \t][^\n\r\v\f\x1c-\x1e\x85\u2028\u2029]*)*"
)


class UnknownArticle(ReviewflowError):
    """An ARTICLE argument that names no article (exit 2 for the reading commands)."""

    exit_code = ExitCode.USAGE


# --- the commit message ----------------------------------------------------------------------------


_ACTIONS = {a.value: a for a in Action}
_KEYS = {k.lower(): k for k in (TRAILER_ARTICLE, TRAILER_ACTION, TRAILER_CONTENT)}


@dataclass(frozen=True)
class Trailers:
    """What a commit's Reviewflow-* trailers say, and what is wrong with them."""

    action: Action | None
    slug: str
    content: str
    problem: str | None


def read_trailers(trailers: Sequence[tuple[str, str]]) -> Trailers:
    problems: list[str] = []
    found = {key.lower(): value for key, value in trailers}
    if len(trailers) != 3 or len(found) != 3 or not found.keys() <= _KEYS.keys():
        # Not simply the three trailers, once each (as reviewflow writes them): look closer.
        values: dict[str, set[str]] = {}
        for key, value in trailers:
            values.setdefault(key.lower(), set()).add(value)
        found = {}
        for lower, key in _KEYS.items():
            given = values.get(lower, set())
            if len(given) == 1:
                found[lower] = next(iter(given))
            elif given:
                problems.append(f"the commit has {len(given)} different {key} trailers")
            else:
                problems.append(f"the {key} trailer is missing")
    slug = found.get(TRAILER_ARTICLE.lower(), "")
    action_name = found.get(TRAILER_ACTION.lower(), "")
    content = found.get(TRAILER_CONTENT.lower(), "")
    if slug and not SLUG_PATTERN.match(slug):
        problems.append(f"{slug!r} in the {TRAILER_ARTICLE} trailer is not an article slug")
        slug = ""
    action = _ACTIONS.get(action_name)
    if action_name and action is None:
        expected = ", ".join(_ACTIONS)
        problems.append(f"unknown action {action_name!r} (expected one of {expected})")
    if content and not is_object_id(content):
        problems.append(f"{content!r} in the {TRAILER_CONTENT} trailer is not a blob id")
    return Trailers(action, slug, content, "; ".join(problems) or None)


def event_from(
    entry: LogEntry,
    committed_blob: str | None = None,
    signature: tuple[str, str] = ("N", ""),
    trailers: Trailers | None = None,
) -> Event | None:
    """The review event a commit records, or None if it has no Reviewflow-* trailer."""
    if not entry.trailers:
        return None
    said = trailers or read_trailers(entry.trailers)
    return Event(
        commit=entry.commit,
        parents=entry.parents,
        author_name=entry.author_name,
        author_email=entry.author_email,
        committed_at=entry.committed_at,
        action=said.action,
        slug=said.slug,
        content=said.content,
        message=_message_of(entry.body),
        signature=signature[0],
        signing_key=signature[1],
        committed_blob=committed_blob,
        problem=said.problem,
    )


def _message_of(body: str) -> str:
    """The body of a commit message without its trailer paragraph."""
    text = body.strip()
    if _ONLY_TRAILERS.fullmatch(text):
        return ""  # the common case, a body of trailers only: what the general way finds too
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    if paragraphs and all(_TRAILER_LINE.match(line) for line in paragraphs[-1].splitlines()):
        paragraphs.pop()
    return "\n\n".join(paragraphs).strip()


# --- reading the review log ----------------------------------------------------------------------


def read_history(
    store: GitStore,
    config: Config,
    want_authors: Mapping[str, Iterable[str]] | None = None,
    rev: str | None = None,
    people: Iterable[str] = (),
) -> History:
    """Everything replay needs, from a handful of git processes whatever the history's size.

    WANT_AUTHORS (blob -> emails) asks whether more people are authors of a text than the
    events themselves need, e.g. the person about to act; PEOPLE asks which articles more
    people changed (board members and those who withdrew are always asked about).
    """
    entries = store.log(rev)
    said = [(entry, read_trailers(entry.trailers)) for entry in entries if entry.trailers]
    # The text each event names must be the text in its commit.
    about = [(entry.commit, t.slug) for entry, t in said if t.slug]
    names = [f"{commit}:{store.article_path(slug)}" for commit, slug in about]
    # Only the actions of members with a signing key need git to verify a signature.
    signers = {m.email: m.signing_key for m in config.board if m.signing_key}
    signing = {m.key for m in config.board if m.signing_key}
    to_verify = [entry.commit for entry, _ in said if entry.author_email.lower() in signing]
    # Who changed which article: asked only about the people whose authorship is in question.
    people = {m.key for m in config.board} | {p.lower() for p in people}
    people.update(entry.author_email.lower() for entry, t in said if t.action is Action.WITHDRAW)
    for emails in (want_authors or {}).values():
        people.update(email.lower() for email in emails)
    # Who wrote each text acted on, from its front-matter: every text a board action or a
    # withdrawal names (a few more than the valid ones need, so as not to wait for the lookups).
    candidates: dict[str, set[str]] = defaultdict(set)
    for entry, t in said:
        if t.action in BOARD_ACTIONS or t.action is Action.WITHDRAW:
            candidates[t.content].add(entry.author_email.lower())
    for blob, emails in (want_authors or {}).items():
        candidates[blob].update(e.lower() for e in emails)

    # The git processes are independent: they run side by side while Python reads front-matter.
    with ThreadPoolExecutor(4) as pool:
        looked_up = pool.submit(store.blob_ids, names)
        heads_read = pool.submit(store.article_blobs, rev)
        signed = pool.submit(store.signatures, to_verify, signers)
        changes_read = pool.submit(store.changes_by, people, rev)
        authors = {
            blob: front_matter_authors(raw, candidates[blob]) for blob, raw in store.iter_blobs(candidates)
        }
        blobs = {commit: blob for (commit, _), blob in zip(about, looked_up.result(), strict=True)}
        heads, verdicts, changed = heads_read.result(), signed.result(), changes_read.result()
    for blob in candidates:
        authors.setdefault(blob, frozenset())
    events = [
        event
        for entry, t in said
        if (event := event_from(entry, blobs.get(entry.commit), verdicts.get(entry.commit, ("N", "")), t))
    ]
    authors_of = {entry.commit: entry.author_email.lower() for entry in entries if entry.commit in changed}
    changes: dict[str, list[Change]] = defaultdict(list)
    for entry in entries:
        for path in changed.get(entry.commit, ()):
            slug = store.slug_of_path(path)
            if slug is not None:
                changes[slug].append(Change(entry.commit, authors_of[entry.commit]))
    order = [entry.commit for entry in entries]
    parents = {entry.commit: entry.parents for entry in entries}
    return History(order, parents, events, dict(changes), authors, heads)


def front_matter_authors(raw: bytes, candidates: Iterable[str] = ()) -> frozenset[str]:
    """The lowercased emails in an article's `authors` (at least those among CANDIDATES).

    Parsing YAML costs about a millisecond, so an article whose text cannot contain any
    candidate's email (no candidate as a substring, and no YAML escape that could spell one) is
    not parsed: the answer for every candidate is the same.
    """
    text = raw.decode("utf-8", "replace").lower()
    if not any(c.lower() in text for c in candidates) and "\\" not in text and "''" not in text:
        return frozenset()
    split = read_article_bytes(raw, max(len(raw), 1))
    authors = split.data.get("authors") if split.data else None
    if not isinstance(authors, list):
        return frozenset()
    return frozenset(str(a["email"]).strip().lower() for a in authors if isinstance(a, dict) and "email" in a)


# --- the public readers ----------------------------------------------------------------------------


def load_statuses(root: Path, config: Config) -> dict[str, ArticleStatus]:
    """The review state of every article at HEAD and of every article with events, by slug."""
    store = GitStore.open(root)
    return Replay(read_history(store, config), config).run().statuses


def read_blobs(root: Path, blobs: Iterable[str]) -> dict[str, bytes]:
    """The contents of blobs by id (e.g. each `status.approved.blob`), from one git process."""
    return GitStore.open(root).read_blobs(blobs)


def read_blob(root: Path, blob: str) -> bytes:
    """The content of one blob; for many, use `read_blobs`."""
    contents = read_blobs(root, [blob])
    if blob not in contents:
        raise ReviewflowError(f"blob {blob} is not in the repository")
    return contents[blob]


def judge_events(root: Path, config: Config, rev_range: str | None = None) -> list[Event]:
    """Every review event reachable from HEAD, judged under CONFIG (only those in REV_RANGE if given)."""
    store = GitStore.open(root)
    events = Replay(read_history(store, config), config).run().events
    if rev_range is not None:
        inside = store.commits_in(rev_range)
        events = [e for e in events if e.commit in inside]
    return events


def invalid_events(root: Path, config: Config, rev_range: str | None = None) -> list[Event]:
    """The review events that do not count under CONFIG, with the reason in `event.reason`."""
    return [e for e in judge_events(root, config, rev_range) if not e.valid]


def judge_range(root: Path, config: Config, base: str, head: str) -> list[Event]:
    """The review events in BASE..HEAD (commit ids), judged under CONFIG, e.g. the base's board.

    The state before the range is replayed too, so a transition is judged from the state the
    base left the article in.
    """
    if not (is_object_id(base) and is_object_id(head)):
        raise ReviewflowError(f"judge_range needs commit ids, got {base!r} and {head!r}")
    store = GitStore.open(root)
    events = Replay(read_history(store, config, rev=head), config).run().events
    inside = store.commits_in(f"{base}..{head}")
    return [e for e in events if e.commit in inside]


def states_at_head(root: Path, config: Config, slugs: Iterable[str]) -> dict[str, str]:
    """slug -> state (e.g. "approved") of the given articles at HEAD."""
    statuses = load_statuses(root, config)
    return {slug: statuses[slug].state.value for slug in slugs if slug in statuses}


# --- resolving the ARTICLE argument ----------------------------------------------------------------


def resolve_article(root: Path, value: str, cwd: Path | None = None) -> str:
    """The slug an ARTICLE argument names: a slug, or the path of articles/<slug>.md."""
    if "/" in value or "\\" in value or value.endswith(".md"):
        path = Path(value)
        if not path.is_absolute():
            path = (cwd or Path.cwd()) / path
        path = path.resolve()
        if path.parent != (root / ARTICLES_DIR).resolve() or path.suffix != ".md":
            raise UnknownArticle(
                f"{value}: not an article of this content repo (expected {ARTICLES_DIR}/<slug>.md in {root})"
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
    root: Path, config: Config, articles: Sequence[str] = (), cwd: Path | None = None
) -> StatusReport:
    """The status of the given articles (slugs or paths), or of every article."""
    slugs = [resolve_article(root, a, cwd) for a in articles]
    statuses = load_statuses(root, config)
    on_disk = sorted(p.stem for p in (root / ARTICLES_DIR).glob("*.md")) if not slugs else []
    uncommitted = [f"{ARTICLES_DIR}/{s}.md" for s in on_disk if s not in statuses and SLUG_PATTERN.match(s)]
    return StatusReport(pick(statuses, slugs), uncommitted)


@dataclass(frozen=True)
class ArticleHistory:
    status: ArticleStatus
    changed_by: Change | None  # the latest commit that changed the file after its latest valid event


def article_history(root: Path, config: Config, article: str, cwd: Path | None = None) -> ArticleHistory:
    """Every review event of one article, oldest first, valid or not."""
    slug = resolve_article(root, article, cwd)
    store = GitStore.open(root)
    history = read_history(store, config)
    status = pick(Replay(history, config).run().statuses, [slug])[0]
    last = status.last_event
    changed = None
    if last is not None and status.blob != last.content:
        found = store.last_change(store.article_path(slug), since=last.commit)
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
    root: Path, config: Config, article: str, cwd: Path | None = None, context: int = 3
) -> ArticleDiff:
    """The unified diff between the last approved version and the file at HEAD.

    Never approved: against the version changes were last requested on, else the whole file.
    """
    slug = resolve_article(root, article, cwd)
    store = GitStore.open(root)
    status = pick(Replay(read_history(store, config), config).run().statuses, [slug])[0]
    path = f"{ARTICLES_DIR}/{slug}.md"
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
    uncommitted = status.blob is not None and not store.is_unchanged(store.article_path(slug))
    return ArticleDiff(status, basis, old_label, new_label, lines, uncommitted)


def _lines(raw: bytes) -> list[str]:
    return raw.decode("utf-8", "replace").splitlines()


@dataclass(frozen=True)
class QueueItem:
    status: ArticleStatus
    waiting_days: int
    submitted_by: str  # "Name <email>" of the submit that started the round


def review_queue(
    root: Path, config: Config, *, mine: bool = False, on: date | None = None
) -> list[QueueItem]:
    """Articles waiting for a reviewer (submitted, under review), the longest waiting first.

    MINE: only those that involve the person acting (git's author identity): as a board member,
    the ones they may review and have not approved yet; as an author, their own.
    """
    store = GitStore.open(root)
    email = store.author()[1].lower() if mine else ""
    replay = Replay(read_history(store, config, people=[email] if mine else ()), config)
    waiting = [s for s in replay.run().statuses.values() if s.state in WAITING and s.submitted_at]
    if mine:
        texts = store.read_blobs(s.blob for s in waiting if s.blob)

        def involves(status: ArticleStatus) -> bool:
            listed = email in front_matter_authors(texts.get(status.blob or "", b""), [email])
            author = listed or replay.author_role(status.slug, email) is not None
            reviewer = config.member(email) is not None and not author and email not in status.approved_by
            return author or reviewer

        waiting = [s for s in waiting if involves(s)]
    day = on or today()
    items = []
    for status in waiting:
        assert status.submitted_at is not None
        submit = next((e for e in reversed(status.events) if e.valid and e.action is Action.SUBMIT), None)
        by = f"{submit.author_name} <{submit.author_email}>" if submit else ""
        items.append(QueueItem(status, max(0, (day - status.submitted_at.date()).days), by))
    return sorted(items, key=lambda item: (item.status.submitted_at or now(), item.status.slug))


@dataclass(frozen=True)
class Verification:
    events: list[Event]  # every event, judged, in topological order

    @property
    def invalid(self) -> list[Event]:
        return [e for e in self.events if not e.valid]


def verify(root: Path, config: Config, rev_range: str | None = None) -> Verification:
    """Judge every review event in the history (or in REV_RANGE)."""
    return Verification(judge_events(root, config, rev_range))
