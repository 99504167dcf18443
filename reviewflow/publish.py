"""`reviewflow publish`: the static website, built from the last approved version of each article.

collect   git and the config say which text each page shows and what it says about it (PageInfo);
render    site.py turns that into HTML, reusing the pages of earlier builds from the cache and
          rendering the rest in a process pool when there are many;
write     the whole site goes into a new directory beside --out, which then replaces --out.

Git is read in a fixed number of processes whatever the size of the repository: the review
log (review.load_statuses), one `git log --raw` for the dates the text last changed, one
`cat-file --batch` for the contents of every page that is not in the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from reviewflow.article import SLUG_PATTERN, parse_document
from reviewflow.config import ARTICLES_DIR, Config
from reviewflow.errors import ConfigError
from reviewflow.gitstore import GitStore
from reviewflow.output import CACHE_DIR, MARKER, PageCache, PublishError, check_target, write_site
from reviewflow.review import load_statuses
from reviewflow.schema import ArticleSchema
from reviewflow.site import AUDIENCES, Listing, PageInfo, PageProblem, Reviewer, SiteRenderer, listing_meta
from reviewflow.workflow import ArticleStatus

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
    config: Config,
    out: Path,
    *,
    preview: bool = False,
    base_url: str | None = None,
    use_cache: bool = True,
    workers: int | None = None,
) -> PublishResult:
    """Build the site for the repository at ROOT into OUT, replacing what OUT held."""
    base = normalise_base_url(base_url if base_url is not None else config.site.url)
    target = check_target(root, out)
    store = GitStore.open(root)
    history = ContentHistory.read(store)
    infos = page_infos(load_statuses(root, config), config, history, store, preview)
    build = Build(root, config, SiteRenderer(config, base, preview), ArticleSchema.load(root), workers)
    cache = PageCache(root / CACHE_DIR / "publish", build.fingerprint()) if use_cache else None
    pages, rendered = render_pages(build, store, infos, cache)
    listings = [listing for listing, _ in pages]
    files: dict[str, str] = {f"articles/{listing.info.slug}/index.html": html for listing, html in pages}
    files.update(site_files(build.renderer, listings, history.head_at))
    write_site(target, files)
    if cache:
        cache.prune()
    notes = () if base else (
        "no base URL (--base-url or [site] url): sitemap.xml, feed.xml, canonical links and the "
        "JSON-LD url need absolute addresses, so they were left out",
    )  # fmt: skip
    approved = sum(1 for item in listings if item.info.approved)
    return PublishResult(target, approved, len(listings) - approved, rendered, notes)


# --- collect ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContentHistory:
    """When each version of each article file appeared, from one `git log --raw` pass."""

    head_at: datetime
    appeared: Mapping[tuple[str, str], tuple[datetime, ...]]  # (git path, blob) -> commit times

    @classmethod
    def read(cls, store: GitStore) -> ContentHistory:
        head = store.run("show", "-s", "--format=%ct", store.head, "--").decode().strip()
        out = store.run(
            "log", "--no-renames", "--raw", "--no-abbrev", "-c", "--format=%x1e%ct", store.head,
            "--", f"{store.prefix}{ARTICLES_DIR}/",
        )  # fmt: skip
        appeared: dict[tuple[str, str], list[datetime]] = defaultdict(list)
        for record in out.decode("utf-8", "replace").split("\x1e")[1:]:
            lines = record.split("\n")
            moment = _utc(int(lines[0]))
            for line in lines[1:]:
                if line.startswith(":"):
                    meta, _, path = line.partition("\t")
                    appeared[(path, meta.split()[-2])].append(moment)
        return cls(_utc(int(head)), {key: tuple(sorted(times)) for key, times in appeared.items()})

    def text_changed(self, path: str, blob: str, not_after: datetime | None = None) -> datetime | None:
        """The last commit (not after NOT_AFTER) that made PATH hold BLOB."""
        times = [t for t in self.appeared.get((path, blob), ()) if not_after is None or t <= not_after]
        return times[-1] if times else None


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
                    updated_at=history.text_changed(path, approved.blob, reviewed_at) or reviewed_at,
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
                    updated_at=history.text_changed(path, status.blob),
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

    def fingerprint(self) -> str:
        """Pages depend on the renderer (templates, config, version) and on what the schema accepts."""
        schema = json.dumps(self.schema.schema, sort_keys=True)
        return hashlib.sha256(f"{self.renderer.fingerprint()}\0{schema}".encode()).hexdigest()


def render_pages(
    build: Build, store: GitStore, infos: Sequence[PageInfo], cache: PageCache | None
) -> tuple[list[tuple[Listing, str]], int]:
    """Every article page as (listing, html), in slug order, and how many were rendered anew."""
    results: dict[str, tuple[str, dict[str, Any]]] = {}
    missing = []
    for info in infos:
        hit = cache.get(info) if cache else None
        if hit is not None:
            results[info.slug] = hit
        else:
            missing.append(info)
    contents = store.read_blobs(info.blob for info in missing)
    jobs = [(info, contents.get(info.blob)) for info in missing]
    problems = []
    for info, outcome in zip(missing, _render_all(build, jobs), strict=True):
        if isinstance(outcome, str):
            version = "approved version" if info.approved else "version at HEAD"
            problems.append(f"{info.path} ({version}, blob {info.blob[:12]}): {outcome}")
            continue
        results[info.slug] = outcome
        if cache:
            cache.put(info, *outcome)
    if problems:
        raise PublishError(
            f"{len(problems)} article(s) cannot be published, so the site was not changed:\n"
            + "\n".join(problems)
        )
    pages = [(Listing.from_meta(info, results[info.slug][1]), results[info.slug][0]) for info in infos]
    return pages, len(missing)


def _render_all(build: Build, jobs: list[tuple[PageInfo, bytes | None]]) -> list[Rendered]:
    count = build.workers if build.workers is not None else min(os.cpu_count() or 1, 8)
    max_bytes = build.config.checks.max_file_bytes
    if count <= 1 or len(jobs) < POOL_THRESHOLD:
        return [render_article(build.renderer, build.schema, max_bytes, info, raw) for info, raw in jobs]
    init = (build.root, build.config, build.renderer.base_url, build.renderer.preview)
    with ProcessPoolExecutor(count, initializer=_start_worker, initargs=init) as pool:
        return list(pool.map(_work, jobs, chunksize=max(1, len(jobs) // (count * 8))))


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
