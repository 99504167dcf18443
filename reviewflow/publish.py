"""`reviewflow publish`: the static website, built from the last approved version of each article.

collect   git and the config say which text each page shows and what it says about it (PageInfo);
render    site.py turns that into HTML, reusing the pages of earlier builds from the cache and
          rendering the rest in a process pool when there are many;
write     the whole site goes into a new directory beside --out, which then replaces --out;
          pages unchanged since the build it replaces are hard-linked from it, not written.

Git is read in a fixed number of processes whatever the size of the repository: the review
log (review.load_statuses), one `git log --raw` for the dates the text last changed (with the
cache, only over the commits since the last build; it runs beside the review log), one
`cat-file --batch` for the contents of every page that is not in the cache.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from reviewflow.article import SLUG_PATTERN, parse_document
from reviewflow.config import Config
from reviewflow.errors import ConfigError
from reviewflow.gitstore import GitStore
from reviewflow.history import committed_config, read_history
from reviewflow.output import (
    CACHE_DIR,
    MANIFEST,
    MARKER,
    Content,
    PageCache,
    PublishError,
    check_target,
    empty_trash,
    page_key,
    write_site,
)
from reviewflow.schema import ArticleSchema
from reviewflow.site import AUDIENCES, Listing, PageInfo, PageProblem, Reviewer, SiteRenderer, listing_meta
from reviewflow.workflow import ArticleStatus, Replay

CACHE_BATCH = 256  # rendered pages held in memory before they go into the cache
POOL_THRESHOLD = 200  # below this many pages to render, a process pool costs more than it saves


@dataclass(frozen=True)
class PublishResult:
    out: Path
    articles: int  # pages of approved text
    pending: int  # preview pages of unapproved text
    rendered: int  # pages rendered in this build (the rest came from the cache)
    notes: tuple[str, ...] = ()

    @property
    def index(self) -> Path:
        return self.out / "index.html"


def publish(
    root: Path,
    config: Config | None,
    out: Path,
    *,
    preview: bool = False,
    base_url: str | None = None,
    use_cache: bool = True,
    workers: int | None = None,
) -> PublishResult:
    """Build the site for the repository at ROOT into OUT, replacing what OUT held.

    CONFIG (board names, disclaimers, site) defaults to the reviewflow.toml committed at HEAD,
    so the site follows from the repository's state alone.
    """
    store = GitStore.open(root)
    config = config if config is not None else committed_config(store)
    base = normalise_base_url(base_url if base_url is not None else config.site.url)
    target = check_target(root, out)
    build = Build(root, config, SiteRenderer(config, base, preview), ArticleSchema.load(root), workers)
    cache = PageCache(root / CACHE_DIR / "publish", build.fingerprint()) if use_cache else None
    try:
        # Deleting the site the last build replaced waits on the disk: overlap it with git.
        trash = root / CACHE_DIR / "publish" / "replaced" if cache else None
        with ThreadPoolExecutor(1) as background:
            emptied = background.submit(empty_trash, trash) if trash else None
            log = read_history(store, use_cache=use_cache)
            statuses = Replay(log.history, config).run().statuses
            if emptied:
                emptied.result()
        history = ContentHistory(_head_time(store), log.appeared)
        infos = page_infos(statuses, config, history, store, preview)
        pages, rendered = render_pages(build, store, infos, cache, target)
        listings = [page.listing for page in pages]
        files: dict[str, Content] = {page.path: page.content for page in pages}
        files.update(site_files(build.renderer, listings, history.head_at))
        files[MANIFEST] = manifest(pages, build)
        write_site(target, files, trash=trash)
        if cache:
            cache.prune()
    finally:
        if cache:
            cache.close()
    notes = () if base else (
        "no base URL (--base-url or [site] url): sitemap.xml, feed.xml, canonical links and the "
        "JSON-LD url need absolute addresses, so they were left out",
    )  # fmt: skip
    approved = sum(1 for item in listings if item.info.approved)
    return PublishResult(target, approved, len(listings) - approved, rendered, notes)


# --- collect ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContentHistory:
    """When each version of each article appeared (from the review history's read of git)."""

    head_at: datetime
    appeared: Mapping[tuple[str, str], tuple[datetime, ...]]  # (slug, blob) -> commit times

    def text_changed(self, slug: str, blob: str, not_after: datetime | None = None) -> datetime | None:
        """The last commit (not after NOT_AFTER) that made the article's file hold BLOB."""
        times = [t for t in self.appeared.get((slug, blob), ()) if not_after is None or t <= not_after]
        return max(times).astimezone(UTC) if times else None


def _head_time(store: GitStore) -> datetime:
    head = store.run("show", "-s", "--format=%ct", store.head, "--").decode().strip()
    return _utc(int(head))


def page_infos(
    statuses: Mapping[str, ArticleStatus],
    config: Config,
    history: ContentHistory,
    store: GitStore,
    preview: bool,
) -> list[PageInfo]:
    """One PageInfo per article the site shows: approved text, and in a preview all the rest."""
    infos = []
    cycle = timedelta(days=config.policy.review_cycle_days)
    for slug, status in sorted(statuses.items()):
        if status.blob is None:
            continue  # no longer in the repository: withdrawn from the site too
        path = store.article_path(slug)
        state = status.state.value
        approved = status.approved
        if approved is not None and (not preview or approved.blob == status.blob):
            reviewed_at = approved.approved_at.astimezone(UTC)
            due = reviewed_at.date() + cycle
            infos.append(
                PageInfo(
                    slug=slug,
                    path=path,
                    blob=approved.blob,
                    state="approved",
                    approved=True,
                    reviewers=tuple(_reviewer(config, email) for email in approved.approvers),
                    reviewed_at=reviewed_at,
                    published_at=min(
                        first_approval(status, config.policy.approvals_required) or reviewed_at, reviewed_at
                    ),
                    updated_at=history.text_changed(slug, approved.blob, reviewed_at) or reviewed_at,
                    review_due=due,
                    overdue=history.head_at.date() >= due,
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
        if event.valid and str(event.action) == "approve":
            approvers[event.content].add(event.actor)
            if len(approvers[event.content]) >= quorum:
                return event.committed_at.astimezone(UTC)
    return None


def _reviewer(config: Config, email: str) -> Reviewer:
    member = config.member(email)
    if member is None:  # approved while on the board, since left it
        return Reviewer("A former member of the advisory board", None)
    return Reviewer(member.name, member.credentials)


def _utc(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


# --- render ----------------------------------------------------------------------------------

Rendered = tuple[str, dict[str, Any]] | str  # (html, listing meta), or what is wrong


@dataclass(frozen=True)
class Build:
    """What every page of one build shares."""

    root: Path
    config: Config
    renderer: SiteRenderer
    schema: ArticleSchema
    workers: int | None = None
    _fingerprint: str | None = field(default=None, compare=False, repr=False)

    def fingerprint(self) -> str:
        """Pages depend on the renderer (templates, config, version) and on what the schema accepts."""
        if self._fingerprint is None:
            schema = json.dumps(self.schema.schema, sort_keys=True)
            digest = hashlib.sha256(f"{self.renderer.fingerprint()}\0{schema}".encode()).hexdigest()
            object.__setattr__(self, "_fingerprint", digest)
        assert self._fingerprint is not None
        return self._fingerprint

    def key(self, info: PageInfo) -> str:
        """The hash of one page: everything that goes into it besides the blob's bytes, and the blob id."""
        return page_key(self.fingerprint(), info)


@dataclass(frozen=True)
class Page:
    """One article page of the build: its listing, its bytes (or where to get them), its size."""

    listing: Listing
    content: Content  # bytes rendered now, a function reading the cache, or the old site's file
    size: int

    @property
    def path(self) -> str:
        return f"articles/{self.listing.info.slug}/index.html"


def render_pages(
    build: Build, store: GitStore, infos: Sequence[PageInfo], cache: PageCache | None, target: Path
) -> tuple[list[Page], int]:
    """Every article page, in slug order, and how many were rendered anew.

    A page the cache knows is read from it only when it is written, or, when TARGET already
    holds it unchanged (its MANIFEST says so), hard-linked from there. Pages rendered now go
    into the cache as they come, so memory holds a batch of pages, not the site.
    """
    metas = cache.metas() if cache else {}
    previous = read_manifest(target) if cache else {}
    results: dict[str, tuple[Content, dict[str, Any], int]] = {}
    missing = []
    for info in infos:
        key = build.key(info)
        if cache is None or key not in metas:
            missing.append(info)
            continue
        meta, size = metas[key]
        path = f"articles/{info.slug}/index.html"
        source = target / "articles" / info.slug / "index.html"
        content: Content = functools.partial(cache.html, key)
        if previous.get(path) == (key, size) and _size(source) == size:
            content = source
        cache.used.add(key)
        results[info.slug] = (content, meta, size)
    contents = store.read_blobs(info.blob for info in missing)
    jobs = ((info, contents.pop(info.blob, None)) for info in missing)
    problems = []
    fresh: list[tuple[str, str, bytes, dict[str, Any]]] = []  # slug, key, bytes, meta
    for info, outcome in zip(missing, _render_all(build, jobs, len(missing)), strict=True):
        if isinstance(outcome, str):
            version = "approved version" if info.approved else "version at HEAD"
            problems.append(f"{info.path} ({version}, blob {info.blob[:12]}): {outcome}")
            continue
        html, meta = outcome
        data = html.encode("utf-8")
        results[info.slug] = (data, meta, len(data))
        if cache:
            key = build.key(info)
            cache.used.add(key)
            fresh.append((info.slug, key, data, meta))
            if len(fresh) >= CACHE_BATCH:
                _spill(cache, fresh, results)
    if problems:
        raise PublishError(
            f"{len(problems)} article(s) cannot be published, so the site was not changed:\n"
            + "\n".join(problems)
        )
    if cache:
        _spill(cache, fresh, results)
    pages = [
        Page(Listing.from_meta(info, results[info.slug][1]), results[info.slug][0], results[info.slug][2])
        for info in infos
    ]
    return pages, len(missing)


def _spill(
    cache: PageCache,
    fresh: list[tuple[str, str, bytes, dict[str, Any]]],
    results: dict[str, tuple[Content, dict[str, Any], int]],
) -> None:
    """Move a batch of rendered pages into the cache; they are read back when written."""
    if cache.put_many((key, data, meta) for _, key, data, meta in fresh):
        for slug, key, data, meta in fresh:
            results[slug] = (functools.partial(cache.html, key), meta, len(data))
    fresh.clear()


def manifest(pages: Sequence[Page], build: Build) -> str:
    """The site's list of article pages as `key size path` lines: what the next build may reuse.

    The key is the page's hash (build fingerprint and PageInfo), so the list is the same
    whether a page was rendered, taken from the cache or linked: builds stay byte-identical.
    """
    return "".join(f"{build.key(page.listing.info)} {page.size} {page.path}\n" for page in pages)


def read_manifest(target: Path) -> dict[str, tuple[str, int]]:
    """path -> (key, size) of the article pages the site in TARGET holds, from its MANIFEST."""
    if not (target / MARKER).is_file():
        return {}
    try:
        text = (target / MANIFEST).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    found = {}
    for line in text.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[1].isdigit():
            found[parts[2]] = (parts[0], int(parts[1]))
    return found


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -2


def _render_all(
    build: Build, jobs: Iterable[tuple[PageInfo, bytes | None]], total: int
) -> Iterator[Rendered]:
    """The outcome of each job, in order, as they come (never all pages at once)."""
    count = build.workers if build.workers is not None else min(os.cpu_count() or 1, 8)
    max_bytes = build.config.checks.max_file_bytes
    if count <= 1 or total < POOL_THRESHOLD:
        for info, raw in jobs:
            yield render_article(build.renderer, build.schema, max_bytes, info, raw)
        return
    init = (build.root, build.config, build.renderer.base_url, build.renderer.preview)
    with ProcessPoolExecutor(count, initializer=_start_worker, initargs=init) as pool:
        yield from pool.map(_work, jobs, chunksize=max(1, min(64, total // (count * 8))))


def render_article(
    renderer: SiteRenderer, schema: ArticleSchema, max_bytes: int, info: PageInfo, raw: bytes | None
) -> Rendered:
    """Parse one article's bytes and render its page: pure, so any process can run it."""
    if raw is None:
        return "its content is missing from the git object database"
    if not SLUG_PATTERN.match(info.slug):
        return f"{info.slug!r} is not a valid slug"
    document = parse_document(info.path, raw, schema, max_bytes)
    if document.article is None:
        first = next((f for f in document.findings if f.severity.value == "error"), None)
        detail = f"line {first.line}: {first.message}" if first else "the front-matter is invalid"
        return f"cannot be read: {detail} (run `reviewflow check` on that version)"
    try:
        html = renderer.article(info, document.article, document.body)
    except PageProblem as exc:
        return str(exc)
    return html, listing_meta(document.article)


_WORKER: tuple[SiteRenderer, ArticleSchema, int] | None = None


def _start_worker(root: Path, config: Config, base_url: str | None, preview: bool) -> None:
    global _WORKER
    _WORKER = (
        SiteRenderer(config, base_url, preview),
        ArticleSchema.load(root),
        config.checks.max_file_bytes,
    )


def _work(job: tuple[PageInfo, bytes | None]) -> Rendered:
    assert _WORKER is not None
    return render_article(*_WORKER, *job)


def site_files(renderer: SiteRenderer, listings: Sequence[Listing], head_at: datetime) -> dict[str, str]:
    """Every file of the site besides the article pages."""
    files = {
        "index.html": renderer.index(listings),
        "board/index.html": renderer.board(),
        "editorial-policy/index.html": renderer.policy(),
        "404.html": renderer.not_found(),
        "style.css": renderer.stylesheet(),
        "favicon.svg": renderer.asset("favicon.svg"),
        "robots.txt": renderer.robots(),
        MARKER: "This directory was built by `reviewflow publish`. Every publish replaces it whole.\n",
    }
    for audience, (_, directory) in AUDIENCES.items():
        files[f"{directory}/index.html"] = renderer.index(listings, audience)
    if renderer.base_url:
        files["sitemap.xml"] = renderer.sitemap(listings)
        files["feed.xml"] = renderer.feed(listings, head_at)
    return files


# --- write -----------------------------------------------------------------------------------


def normalise_base_url(url: str | None) -> str | None:
    if url is None or not url.strip():
        return None
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(
            f"base URL {url!r}: expected an absolute http(s) address such as https://health.example.org"
        )
    if re.search(r"[\s<>\"'`]", url):
        raise ConfigError(f"base URL {url!r}: must not contain spaces, quotes or angle brackets")
    return url.rstrip("/")
