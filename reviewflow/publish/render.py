"""Rendering a build's pages: one article's bytes to its HTML page, written from whichever
process rendered it (a process pool when there are many); only a hash and a listing come back.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import defaultdict, deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import FileSystemBytecodeCache

from reviewflow.config import Config
from reviewflow.content.article import SLUG_PATTERN, parse_document
from reviewflow.content.schema import ArticleSchema
from reviewflow.findings import Severity
from reviewflow.gitstore import GitStore
from reviewflow.progress import progress_bar
from reviewflow.publish.output import PublishError, Staging, write_file
from reviewflow.publish.pages import Listing, PageInfo, listing_meta
from reviewflow.publish.records import PageRecord, content_digest
from reviewflow.publish.search import article_terms, terms_text
from reviewflow.publish.site import PageProblem, SiteRenderer
from reviewflow.workers import usable_cores, worker_pool

POOL_THRESHOLD = 200  # below this many pages to render, a process pool costs more than it saves
CHUNK = 50  # pages sent to a worker at a time: few round trips, and little held in memory
AHEAD = 2  # chunks queued per worker beyond the one it renders, so none waits for the next

Rendered = tuple[str, dict[str, Any]] | str  # (html, listing meta), or what is wrong
Written = tuple[str, dict[str, Any]] | str  # (digest of the page written, listing meta), or what is wrong


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
        return hashlib.sha256(f"{self.fingerprint()}\0{info.key()}".encode()).hexdigest()


@dataclass(frozen=True)
class Page:
    """One article page of the build: how the site-wide pages list it, and how the next build finds it."""

    listing: Listing
    record: PageRecord


def page_path(slug: str) -> str:
    return f"articles/{slug}/index.html"


def render_pages(
    build: Build,
    store: GitStore,
    infos: Sequence[PageInfo],
    staging: Staging,
    texts: dict[str, bytes] | None = None,
) -> dict[str, Page]:
    """Render and write the pages of INFOS into STAGING (in a process pool when there are many).

    TEXTS: blob id -> bytes the build has read already (each let go once sent to be rendered);
    the rest are read from git. Pages go to disk as they are rendered, by whichever process
    rendered them: what comes back is a hash and a listing per page, so memory never holds the site.
    """
    pages: dict[str, Page] = {}
    problems = []
    outcomes: list[tuple[PageInfo, Written]] = []
    jobs = _jobs(store, infos, texts if texts is not None else {})
    with progress_bar(len(infos), "Rendering pages") as advance:
        for rendered in _render_all(build, jobs, len(infos), staging.directory):
            outcomes.append(rendered)
            advance(1)
    for info, outcome in outcomes:
        if isinstance(outcome, str):
            version = "approved version" if info.approved else "version at HEAD"
            problems.append(f"{info.path} ({version}, blob {info.blob[:12]}): {outcome}")
            continue
        digest, meta = outcome
        staging.placed.add(page_path(info.slug))
        pages[info.slug] = Page(
            Listing.from_meta(info, meta), PageRecord(build.key(info), digest, None, meta)
        )
    if problems:
        raise PublishError(
            f"{len(problems)} article(s) cannot be published, so the site was not changed:\n"
            + "\n".join(sorted(problems))
        )
    return pages


Job = tuple[PageInfo, bytes | None]


def _jobs(store: GitStore, infos: Sequence[PageInfo], texts: dict[str, bytes]) -> Iterator[Job]:
    """Each page with its text: from TEXTS (each let go once sent), the rest streamed from git
    (read once per blob, whatever shares it)."""
    by_blob: dict[str, list[PageInfo]] = defaultdict(list)
    for info in infos:
        by_blob[info.blob].append(info)
    for blob in [blob for blob in by_blob if blob in texts]:
        raw = texts.pop(blob)
        for info in by_blob.pop(blob):
            yield info, raw
    if not by_blob:
        return
    for blob, raw in store.iter_blobs(list(by_blob)):
        for info in by_blob.pop(blob, ()):
            yield info, raw
    for left in by_blob.values():  # not in the object database
        for info in left:
            yield info, None


def _render_all(
    build: Build, jobs: Iterator[Job], total: int, site: Path
) -> Iterator[tuple[PageInfo, Written]]:
    count = build.workers if build.workers is not None else min(usable_cores(), 8)
    if count <= 1 or total < POOL_THRESHOLD:
        worker = _Worker(build.renderer, build.schema, build.config.checks.max_file_bytes, site)
        for info, raw in jobs:
            yield info, worker.render(info, raw)
        return
    schema = (build.schema.schema, build.schema.source)
    init = (schema, build.config, build.renderer.base_url, build.renderer.preview, site)
    with worker_pool(count, _start_worker, init) as pool:
        # Start the workers before git's reader runs: a fork copies only the thread that forks.
        pool.submit(int).result()
        pending: deque[tuple[list[Job], Future[list[Written]]]] = deque()
        for chunk in _chunks(jobs, CHUNK):
            pending.append((chunk, pool.submit(_work, chunk)))
            if len(pending) > count * AHEAD:
                yield from _outcomes(*pending.popleft())
        while pending:
            yield from _outcomes(*pending.popleft())


def _chunks(jobs: Iterator[Job], size: int) -> Iterator[list[Job]]:
    chunk: list[Job] = []
    for job in jobs:
        chunk.append(job)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _outcomes(chunk: list[Job], future: Future[list[Written]]) -> Iterator[tuple[PageInfo, Written]]:
    for (info, _), outcome in zip(chunk, future.result(), strict=True):
        yield info, outcome


def site_renderer(config: Config, base_url: str | None, preview: bool) -> SiteRenderer:
    """The renderer of one build, its compiled templates kept in the user's cache directory."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    directory = os.path.join(base, "reviewflow", "templates")
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        cache: FileSystemBytecodeCache | None = _TemplateCache(directory)
    except OSError:
        cache = None
    return SiteRenderer(config, base_url, preview, cache)


class _TemplateCache(FileSystemBytecodeCache):
    """Compiled templates in the user's cache: a cache that cannot be written (a full or
    read-only disk) only makes the next build compile them again; it never fails this one."""

    def dump_bytecode(self, bucket: Any) -> None:
        with suppress(OSError):
            super().dump_bytecode(bucket)


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
        first = next((f for f in document.findings if f.severity is Severity.ERROR), None)
        detail = f"line {first.line}: {first.message}" if first else "the front-matter is invalid"
        return f"cannot be read: {detail} (run `reviewflow check` on that version)"
    try:
        html = renderer.article(info, document.article, document.body)
    except PageProblem as exc:
        return str(exc)
    meta = listing_meta(document.article)
    article = document.article
    meta["card"] = renderer.card_html(info, article.title, article.audience, article.summary)
    meta["search"] = article_terms(article, document.body)
    return html, meta


@dataclass(frozen=True)
class _Worker:
    """Renders pages and writes them into the site being built, in this process or a pool's."""

    renderer: SiteRenderer
    schema: ArticleSchema
    max_bytes: int
    site: Path

    def render(self, info: PageInfo, raw: bytes | None) -> Written:
        outcome = render_article(self.renderer, self.schema, self.max_bytes, info, raw)
        if isinstance(outcome, str):
            return outcome
        html, meta = outcome
        meta["search"] = terms_text(meta["search"])  # as its record keeps them: here, in parallel
        data = html.encode("utf-8")
        write_file(self.site, page_path(info.slug), data)
        return content_digest(data), meta


_WORKER: _Worker | None = None


def _start_worker(
    schema: tuple[dict[str, Any], str],
    config: Config,
    base_url: str | None,
    preview: bool,
    site: Path,
) -> None:
    global _WORKER
    renderer = site_renderer(config, base_url, preview)
    _WORKER = _Worker(renderer, ArticleSchema(*schema), config.checks.max_file_bytes, site)


def _work(chunk: list[Job]) -> list[Written]:
    assert _WORKER is not None
    return [_WORKER.render(info, raw) for info, raw in chunk]
