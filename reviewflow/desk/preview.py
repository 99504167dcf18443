"""An article's page exactly as `reviewflow publish --preview` writes it: the same collect step
(collect.page_infos), the same renderer and templates (publish/pool.py, publish/site.py), so the
same sanitiser, review tracker and pending-review banner. Shown in the desk beside the review.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from reviewflow.config import Config
from reviewflow.publish.build import normalise_base_url
from reviewflow.publish.collect import ContentHistory, page_infos
from reviewflow.publish.notes import build_time
from reviewflow.publish.pool import render_article, site_renderer
from reviewflow.publish.site import SiteRenderer
from reviewflow.repo import ContentRepo
from reviewflow.review.history import committed_schema
from reviewflow.review.queries import ArticleJudged, judge_article


class NoPage(Exception):
    """The site would show no page for it (not at HEAD), or the page cannot be published: why."""


class Previews:
    """Renders preview pages; one renderer per committed reviewflow.toml, reused."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._renderers: dict[str, SiteRenderer] = {}

    def renderer(self, config: Config) -> SiteRenderer:
        key = config.model_dump_json()
        with self._lock:
            if key not in self._renderers:
                self._renderers = {key: site_renderer(config, normalise_base_url(config.site.url), True)}
            return self._renderers[key]

    def article(self, repo: ContentRepo, slug: str, judged: ArticleJudged | None = None) -> str:
        """The page of SLUG as the preview site shows it, from JUDGED (`repo.judge_article(SLUG)`,
        judged now if not given); NoPage says why there is none."""
        config, store = repo.judging()
        judged = judged if judged is not None else judge_article(store, config, slug)
        head = store.run("show", "-s", "--format=%ct", store.head, "--").decode().strip()
        history = ContentHistory(datetime.fromtimestamp(int(head), UTC), judged.appeared)
        # Each article's file as its judged status has it (HEAD's): the store would list HEAD's
        # articles to find it (~0.55 s at 100,000 articles).
        statuses = judged.statuses
        infos = page_infos(
            statuses, config, history, lambda s: store.prefix + statuses[s].path, True, build_time()
        )
        if not infos:
            raise NoPage(f"{slug} is not at HEAD, so the site shows no page for it")
        info = infos[0]
        raw = store.read_blobs([info.blob]).get(info.blob)
        renderer = self.renderer(config)
        outcome = render_article(renderer, committed_schema(store), config.checks.max_file_bytes, info, raw)
        if isinstance(outcome, str):
            raise NoPage(f"{info.path} cannot be published: {outcome}")
        return outcome[0]

    def site_page(self, repo: ContentRepo, name: str) -> str | None:
        """The site's board and policy pages and its files, for the preview's own links."""
        config, _ = repo.judging()
        renderer = self.renderer(config)
        pages = {
            "style.css": renderer.stylesheet,
            "favicon.svg": lambda: renderer.asset("favicon.svg"),
            "board/index.html": renderer.board,
            "editorial-policy/index.html": renderer.policy,
        }
        make = pages.get(name)
        return make() if make else None
