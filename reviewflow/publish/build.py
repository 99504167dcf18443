"""`reviewflow publish`: the static website, built from the last approved version of each article.

collect   collect.py: git and the config say which text each page shows and what it says about it;
render    render.py, with site.py's templates: pages go to disk from whichever process rendered
          them (a process pool when there are many), and only a hash and a listing come back;
write     the site is written into the spare (the site the last build replaced, kept in the
          cache), where every page that this build would render byte for byte is already in
          place or is copied from the live site, then swapped in for --out in one step.

Git is read in a fixed number of processes whatever the size of the repository: the review
history (history.read_history, which also says when each text appeared), one `cat-file --batch`
for the texts at HEAD whose neighbours' facts are not kept (neighbours.read_ahead, in a thread
while the history is judged) and one for any other text a page shows whose facts are not kept
(neighbours.py; the texts read so are rendered from memory up to a bound), and one for any
other page that is rendered.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from reviewflow.collector import collection_paused
from reviewflow.config import Config
from reviewflow.content.article import SLUG_PATTERN
from reviewflow.errors import ConfigError, Refused
from reviewflow.gitstore import GitStore
from reviewflow.layout import duplicate_slug_message
from reviewflow.publish.collect import ContentHistory, page_infos
from reviewflow.publish.neighbours import link_neighbours, read_ahead
from reviewflow.publish.notes import build_notes, build_time
from reviewflow.publish.output import MARKER, Staging
from reviewflow.publish.pagefiles import read_regular
from reviewflow.publish.pages import Listing, PageInfo
from reviewflow.publish.pool import PagePool, SearchInput, site_renderer
from reviewflow.publish.records import (
    BuildCache,
    LiveSite,
    PageRecord,
    SiteRecord,
    content_digest,
    file_state,
    settled,
)
from reviewflow.publish.render import Build, Page, page_path, page_pool, render_pages
from reviewflow.publish.search import (
    SearchState,
    updated_search_files,
)
from reviewflow.publish.site import AUDIENCES, SiteRenderer, condition_order
from reviewflow.publish.target import check_target, empty_trash, one_build_at_a_time, writing_site
from reviewflow.review.board import committed_config
from reviewflow.review.history import committed_schema
from reviewflow.review.queries import judge_history


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
    out: Path,
    *,
    config: Config | None = None,
    preview: bool = False,
    base_url: str | None = None,
    use_cache: bool = True,
    workers: int | None = None,
    store: GitStore | None = None,
    now: datetime | None = None,
) -> PublishResult:
    """Build the site for the repository at ROOT into OUT, replacing what OUT held.

    CONFIG (board names, disclaimers, site) defaults to the reviewflow.toml committed at HEAD,
    so the site follows from the repository's state alone. NOW, the build time (default:
    `build_time()`), is what the "Review due" notice is judged against.
    """
    # The pages' facts, keys and records live to the end of the build, each pointing into a heap
    # the review history grew: young collections that walked them cost ~0.8 s of CPU of a build
    # after one change at 100,000 articles (collector.py). A worker forked meanwhile collects its own.
    with collection_paused():
        store = store or GitStore.open(root)
        listing, duplicates = store.article_listing()
        if duplicates:  # which file would be the article's page? Neither, until one is renamed
            slug, paths = min(duplicates.items())
            raise Refused(f"cannot publish: {duplicate_slug_message(slug, paths)}")
        config = config if config is not None else committed_config(store)
        base = normalise_base_url(base_url if base_url is not None else config.site.url)
        target = check_target(root, out)
        build = Build(root, config, site_renderer(config, base, preview), committed_schema(store), workers)
        cache = BuildCache(root, build.fingerprint()) if use_cache else None
        # No facts kept (a first build, --no-cache): every text will be read and nearly every page
        # rendered, so the workers are forked first (before any thread, and while this process is
        # small) and read the texts' facts while the history is judged, then render the pages. So
        # too with no live site of this build's fingerprint (a change of code or configuration, a
        # new --out): every page is rendered, and a worker makes the search index anew.
        every_page = cache is None or not cache.has_facts() or not cache.of_this_build(target)
        pool = page_pool(build, store, len(listing)) if every_page else None
        with pool or nullcontext():
            infos, texts, notes, head_at = _collect(store, build, cache, preview, now, pool)
            listings, rendered = build_site(build, store, infos, target, head_at, cache, texts, pool)
        approved = sum(1 for item in listings if item.info.approved)
        return PublishResult(target, approved, len(listings) - approved, rendered, notes)


def _collect(
    store: GitStore,
    build: Build,
    cache: BuildCache | None,
    preview: bool,
    now: datetime | None,
    pool: PagePool | None,
) -> tuple[list[PageInfo], dict[str, bytes], tuple[str, ...], datetime]:
    """Each page's facts with its neighbours, the texts read for them (by blob id), the build's
    notes and HEAD's time."""
    config = build.config
    # Deleting the site the last build replaced waits on the disk, and reading the texts' facts
    # (neighbours.read_ahead) waits on git or the workers: both run in threads while the review
    # history is judged and the pages' facts are collected, rather than after.
    trash = cache.trash if cache else None
    failed = threading.Event()
    with ThreadPoolExecutor(2) as background:
        emptied = background.submit(empty_trash, trash) if trash else None
        facts = background.submit(read_ahead, store, cache, config.checks.max_file_bytes, failed, pool)
        try:
            judged = judge_history(store, config, use_cache=cache is not None)
            if emptied:
                emptied.result()
            statuses = judged.outcome.statuses
            history = ContentHistory(_head_time(store), judged.appeared)
            built_at = (now or build_time()).astimezone(UTC)
            infos = page_infos(statuses, config, history, store.article_path, preview, built_at)
            notes = build_notes(config, build.renderer.base_url, statuses, built_at)
            head_at = history.head_at
            # The judged history (most of a build's memory at 100,000 articles) is not needed past here.
            del judged, statuses, history
        except BaseException:
            failed.set()  # the texts are not wanted: the thread stops reading them
            raise
        ahead = facts.result()
    # SA: counterpart, related. The texts held (a few read ahead, any others read for their
    # facts) are rendered from memory, each let go once sent; the rest are read again.
    linked, texts = link_neighbours(store, infos, cache, config.checks.max_file_bytes, ahead)
    return linked, texts, notes, head_at


# --- collect ---------------------------------------------------------------------------------


def _head_time(store: GitStore) -> datetime:
    head = store.run("show", "-s", "--format=%ct", store.head, "--").decode().strip()
    return _utc(int(head))


def _utc(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


# --- write ---------------------------------------------------------------------------------------


def build_site(
    build: Build,
    store: GitStore,
    infos: Sequence[PageInfo],
    target: Path,
    head_at: datetime,
    cache: BuildCache | None,
    texts: dict[str, bytes] | None = None,
    pool: PagePool | None = None,
) -> tuple[list[Listing], int]:
    """Write the site and swap it in for TARGET; its listings, and how many pages were rendered.

    A page that the spare or the live site already holds exactly as this build would render it
    (the same key, and provably the same bytes) is kept or copied, not rendered again.
    Nothing in TARGET changes unless the whole build succeeds.
    """
    spare_path = cache.spare(target) if cache and cache.prepare() else None
    with writing_site(target), one_build_at_a_time(spare_path):
        built_before = (target / MARKER).is_file()
        spare = cache.spare_site(target) if cache else {}
        # With a pool, nearly every page is rendered, and unless the live site's search index can be
        # patched a worker makes it anew: its input is written as each page comes in, so that the
        # worker starts on it as soon as the last page is in, not after this process has written it.
        with (
            Staging(target, spare_path, cache.trash if cache else None) as staging,
            SearchInput([page_path(info.slug) for info in infos]) if pool else nullcontext() as written,
        ):
            pages, missing = reuse_pages(build, infos, staging, spare if staging.spare else {})
            # The records of pages not reused are not needed again; held, they sat under every
            # page rendered next (~300 MB at 100,000 pages after a change of code or config).
            del spare
            if missing and cache and built_before:  # changed in the last build, or no spare yet
                # A spare lacks only what the last build rendered; without one, everything.
                live = cache.rendered_last(target) if staging.spare else cache.live_site(target)
                copied, missing = copy_pages(build, missing, staging, live, target)
                pages.update(copied)
                del live
            if written is not None:
                for slug, page in pages.items():  # kept or copied, not rendered
                    written.add(page_path(slug), page.record)
            taken = written.add if written is not None else None
            pages.update(render_pages(build, store, missing, staging, texts, pool, taken))
            listings = [pages[info.slug].listing for info in infos]
            searched = [(page_path(info.slug), pages[info.slug].record) for info in infos]
            last = cache.live_terms(target, dict(searched)) if cache and built_before else None
            # With no index to patch, a worker builds it anew while this process writes the rest.
            built = (
                pool.new_search_files(written, build.fingerprint())
                if pool is not None and written is not None and not last
                else None
            )
            for name, text in site_files(build.renderer, listings, head_at):
                data = text.encode("utf-8")
                del text  # its bytes alone are held while they are compared and written
                staging.write_changed(name, data)
                del data  # not held while the next file is made
            files, search = built.result() if built else search_index(build, searched, target, last)
            for name in list(files):  # each let go once written
                staging.write_changed(name, files.pop(name).encode("utf-8"))
            staging.swap(page_path(info.slug) for info in infos)
            kept_spare = staging.spare is not None and built_before
        if cache:
            clock = cache.clock(target)  # read before the states are looked up, see records.settled
            now = time.time_ns()
            records = {}
            for info in infos:
                page = pages[info.slug]
                relative, record = page_path(info.slug), page.record
                if record.state is None:  # written, copied or checked by its bytes in this build
                    # A page rendered in this build: its state as its worker wrote it, not looked
                    # up here again (a tenth of a second of this process's time after the last
                    # page, at 10,000 pages).
                    state = page.written or file_state(os.path.join(target, relative))
                    record = record._replace(state=settled(state, now, clock))
                records[relative] = record
            new_pages = {page_path(info.slug) for info in missing}  # all that the next build's spare lacks
            cache.keep_sites(target, records, new_pages, spare_was_live=kept_spare, search=search)
    return listings, len(missing)


def search_index(
    build: Build, pages: Sequence[tuple[str, PageRecord]], target: Path, last: LiveSite | None
) -> tuple[dict[str, str], SearchState]:
    """The search index's files, patched from the live site's (TARGET's) where it can be."""

    def read_last(relative: str, digest: str) -> str | None:
        path = os.path.join(target, relative)
        data = read_regular(path)  # a regular file, never a link's target or a FIFO
        return data.decode("utf-8") if data is not None and content_digest(data) == digest else None

    before = (last.terms, last.search) if last is not None else None
    return updated_search_files(_searched(pages), build.fingerprint(), before, read_last)


def _searched(pages: Sequence[tuple[str, PageRecord]]) -> list[tuple[str, dict[str, Any], str]]:
    """What the search index is made of: each page's path, listing and terms."""
    return [(path, record.meta, record.terms) for path, record in pages]


def reuse_pages(
    build: Build, infos: Sequence[PageInfo], staging: Staging, spare: SiteRecord
) -> tuple[dict[str, Page], list[PageInfo]]:
    """The pages this build would render byte for byte that the spare already holds; the rest."""
    pages: dict[str, Page] = {}
    missing = []
    for info in infos:
        relative = page_path(info.slug)
        record = spare.get(relative)
        page = None
        if record is not None and SLUG_PATTERN.match(info.slug) and record.key == build.key(info):
            state = staging.holds(relative, record)
            if state is not None:
                page = _page(info, record if state == record.state else record._replace(state=None))
        if page is None:
            missing.append(info)
        else:
            staging.placed.add(relative)
            pages[info.slug] = page
    return pages, missing


def copy_pages(
    build: Build, infos: Sequence[PageInfo], staging: Staging, live: SiteRecord, target: Path
) -> tuple[dict[str, Page], list[PageInfo]]:
    """The pages of INFOS that the live site holds as this build would render them, copied into
    STAGING (they changed in the last build, or a full build left no spare yet); and the rest.

    Copied, not hard-linked: the two sites never share a file, so nothing done to the live one
    can reach the spare, and their files' times change only when someone changes them.
    """
    pages: dict[str, Page] = {}
    missing = []
    for info in infos:
        relative = page_path(info.slug)
        record = live.get(relative)
        page = None
        if record is not None and SLUG_PATTERN.match(info.slug) and record.key == build.key(info):
            page = _page(info, record._replace(state=None))
            if page is not None and not staging.copy(relative, os.path.join(target, relative), record):
                page = None
        if page is None:
            missing.append(info)
        else:
            pages[info.slug] = page
    return pages, missing


def _page(info: PageInfo, record: PageRecord) -> Page | None:
    try:
        return Page(Listing.from_meta(info, record.meta), record)
    except (KeyError, TypeError, AttributeError):
        return None  # a record that does not say what a listing needs: render the page


def site_files(
    renderer: SiteRenderer, listings: Sequence[Listing], head_at: datetime
) -> Iterator[tuple[str, str]]:
    """Every file of the site besides the article pages, each made when the one before it has
    been taken: at 100,000 pages each index lists every page (tens of MB), and holding them all
    at once was the top of a full build's peak memory."""
    ordered = condition_order(listings)  # once for the three indexes
    yield "index.html", renderer.index(ordered, ordered=True)
    yield "board/index.html", renderer.board(listings)
    yield "editorial-policy/index.html", renderer.policy()
    yield "404.html", renderer.not_found()
    yield "search/index.html", renderer.search()
    yield "search.js", renderer.asset("search.js")
    yield "style.css", renderer.stylesheet()
    yield "favicon.svg", renderer.asset("favicon.svg")
    yield "robots.txt", renderer.robots()
    yield MARKER, "This directory was built by `reviewflow publish`. Every publish replaces it whole.\n"
    for audience, (_, directory) in AUDIENCES.items():
        yield f"{directory}/index.html", renderer.index(ordered, audience, ordered=True)
    if renderer.base_url:
        yield "sitemap.xml", renderer.sitemap(listings)
        yield "feed.xml", renderer.feed(listings, head_at)


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
