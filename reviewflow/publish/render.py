"""Rendering a build's pages: one article's bytes to its HTML page, written from whichever
process rendered it (a process pool when there are many, pool.py); only a hash and a listing
come back. This is the main process's side: which text each page is rendered from (held in
memory, the work tree's file where it is exactly the page's blob, else git's) and what comes back.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from reviewflow.config import Config
from reviewflow.content.schema import ArticleSchema
from reviewflow.gitstore import GitStore
from reviewflow.progress import progress_bar
from reviewflow.publish.output import PublishError, Staging
from reviewflow.publish.pages import Listing, PageInfo
from reviewflow.publish.pool import MISSING, Job, PagePool, TreeTexts, Worker, Written, page_path
from reviewflow.publish.records import FileState, PageRecord
from reviewflow.publish.site import SiteRenderer
from reviewflow.workers import usable_cores

POOL_THRESHOLD = 200  # below this many pages to render, a process pool costs more than it saves
CHUNK = 50  # pages sent to a worker at a time: few round trips, and little held in memory
AHEAD = 2  # chunks queued per worker beyond the one it renders, so none waits for the next


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
    # Its file's state as this build wrote it (a rendered page's), before it is known to be
    # settled (records.settled): its record's state is None until then.
    written: FileState | None = None


def render_pages(
    build: Build,
    store: GitStore,
    infos: Sequence[PageInfo],
    staging: Staging,
    texts: dict[str, bytes] | None = None,
    pool: PagePool | None = None,
    taken: Callable[[str, PageRecord], None] | None = None,
) -> dict[str, Page]:
    """Render and write the pages of INFOS into STAGING (in POOL, or a process pool of its own
    when there are many). TAKEN(path, record) is called for each page as it comes in.

    TEXTS: blob id -> bytes the build has read already (each let go once sent to be rendered);
    the rest are read from the work tree by whoever renders them where the file is exactly the
    page's blob (pool.TreeTexts), else from git, afterwards. Pages go to disk as they are
    rendered, by whichever process rendered them: what comes back is a hash and a listing per
    page, so memory never holds the site.
    """
    pages: dict[str, Page] = {}
    problems: list[str] = []
    from_git: list[PageInfo] = []
    absent: list[PageInfo] = []

    def take(info: PageInfo, outcome: Written) -> None:
        # As each page comes back, while the workers render the next: its key and listing made
        # after the last page were a serial tail of the build (~7.5 µs a page).
        if isinstance(outcome, str):
            version = "approved version" if info.approved else "version at HEAD"
            problems.append(f"{info.path} ({version}, blob {info.blob[:12]}): {outcome}")
            return
        digest, meta, terms, state = outcome
        relative = page_path(info.slug)
        staging.placed.add(relative)
        record = PageRecord(build.key(info), digest, None, meta, terms)
        pages[info.slug] = Page(Listing.from_meta(info, meta), record, state)
        if taken is not None:
            taken(relative, record)

    with (
        progress_bar(len(infos), "Rendering pages") as advance,
        _renderer(build, store, infos, pool) as render,
    ):
        fresh = not staging.directories  # a full build's new directory: no page has its own yet
        for jobs in (_jobs(infos, texts if texts is not None else {}), _from_git(store, from_git, absent)):
            for info, outcome in render(jobs, staging.directory, fresh):
                if outcome is None:  # the work tree does not hold its text: from git, next
                    from_git.append(info)
                    continue
                take(info, outcome)
                advance(1)
    for info in absent:
        take(info, MISSING)
    if problems:
        raise PublishError(
            f"{len(problems)} article(s) cannot be published, so the site was not changed:\n"
            + "\n".join(sorted(problems))
        )
    return pages


def _jobs(infos: Sequence[PageInfo], texts: dict[str, bytes]) -> Iterator[Job]:
    """Each page with its text from TEXTS (each let go once sent), or with None: its renderer
    reads it from the work tree."""
    by_blob: dict[str, list[PageInfo]] = defaultdict(list)
    for info in infos:
        by_blob[info.blob].append(info)
    for blob in [blob for blob in by_blob if blob in texts]:
        raw = texts.pop(blob)
        for info in by_blob.pop(blob):
            yield info, raw
    for left in by_blob.values():
        for info in left:
            yield info, None


def _from_git(store: GitStore, infos: Sequence[PageInfo], absent: list[PageInfo]) -> Iterator[Job]:
    """Each page of INFOS with its text streamed from git (read once per blob, whatever shares
    it); the pages whose text the object database lacks go into ABSENT."""
    by_blob: dict[str, list[PageInfo]] = defaultdict(list)
    for info in infos:
        by_blob[info.blob].append(info)
    if by_blob:
        for blob, raw in store.iter_blobs(list(by_blob)):
            for info in by_blob.pop(blob, ()):
                yield info, raw
    absent.extend(info for left in by_blob.values() for info in left)


Render = Callable[[Iterator[Job], Path, bool], Iterator[tuple[PageInfo, Written | None]]]


@contextmanager
def _renderer(
    build: Build, store: GitStore, infos: Sequence[PageInfo], pool: PagePool | None
) -> Iterator[Render]:
    """How this build renders its pages: in POOL, in a pool of its own, or in this process."""
    if pool is not None:
        yield lambda jobs, site, fresh: _pooled(pool, jobs, site, fresh)
        return
    own = page_pool(build, store, len(infos))
    if own is not None:
        with own:
            yield lambda jobs, site, fresh: _pooled(own, jobs, site, fresh)
        return
    max_bytes = build.config.checks.max_file_bytes
    with TreeTexts(str(store.toplevel)) as tree:
        worker = Worker(build.renderer, build.schema, max_bytes, tree)
        yield lambda jobs, site, fresh: ((info, worker.render(site, info, raw, fresh)) for info, raw in jobs)


def page_pool(build: Build, store: GitStore, items: int) -> PagePool | None:
    """A pool of workers for ITEMS texts to read or pages to render, when a pool is worth it."""
    count = build.workers if build.workers is not None else min(usable_cores(), 8)
    if count <= 1 or items < POOL_THRESHOLD:
        return None
    return PagePool(build.config, build.renderer, build.schema, store.toplevel, count)


def _pooled(
    pool: PagePool, jobs: Iterator[Job], site: Path, fresh: bool
) -> Iterator[tuple[PageInfo, Written | None]]:
    pending: deque[tuple[list[Job], Future[list[Written | None]]]] = deque()
    try:
        for chunk in _chunks(jobs, CHUNK):
            pending.append((chunk, pool.render(site, chunk, fresh)))
            if len(pending) > pool.count * AHEAD:
                yield from _outcomes(*pending.popleft())
        while pending:
            yield from _outcomes(*pending.popleft())
    except BaseException:
        # The build gives up on SITE (a full disk, say) and removes it next: the pool may outlive
        # this call, so no chunk still queued may write into it after.
        for _, future in pending:
            future.cancel()
        wait([future for _, future in pending])
        raise


def _chunks(jobs: Iterator[Job], size: int) -> Iterator[list[Job]]:
    chunk: list[Job] = []
    for job in jobs:
        chunk.append(job)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _outcomes(
    chunk: list[Job], future: Future[list[Written | None]]
) -> Iterator[tuple[PageInfo, Written | None]]:
    for (info, _), outcome in zip(chunk, future.result(), strict=True):
        yield info, outcome
