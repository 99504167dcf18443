"""The published website, rendered: plain data in, HTML and XML strings out.

Nothing here touches git or the file system (templates come from the package). build.py
collects the data (pages.py) and writes the files; this module decides what readers see. One
`SiteRenderer` holds the one Jinja environment (autoescaping) and the one body renderer
(markup.py: Markdown without raw HTML, then a sanitiser), reused for every page, in this
process or in each worker of a pool. The JSON-LD comes from schemaorg.py.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from jinja2 import BytecodeCache, Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from reviewflow import __version__
from reviewflow.cache import code_fingerprint
from reviewflow.config import Config
from reviewflow.content.article import Article
from reviewflow.content.markup import BodyRenderer
from reviewflow.publish.article_body import page_body
from reviewflow.publish.article_html import CardFrames, PageFrame, article_head, article_main
from reviewflow.publish.article_page import (
    approved_list,
    cut_title,
    escaped,
    member_anchors,
    meta_description,
    reference_pieces,
    when,
)
from reviewflow.publish.pages import Listing, PageInfo, declaration
from reviewflow.publish.schemaorg import json_script, medical_web_page
from reviewflow.review.model import State

TEMPLATES = "templates/site"
AUDIENCES = {
    # audience: (who, directory of its index page)
    "patient": ("Patients and caregivers", "for-patients"),
    "professional": ("Healthcare professionals", "for-professionals"),
}
STEPS = ((State.SUBMITTED, "Submitted"), (State.UNDER_REVIEW, "Under review"), (State.APPROVED, "Approved"))
# Keyed by State, looked up by PageInfo.state (the same text: State is a StrEnum).
STATE_LABELS: dict[str, str] = {
    State.DRAFT: "Draft",
    State.SUBMITTED: "Submitted",
    State.UNDER_REVIEW: "Under review",
    State.CHANGES_REQUESTED: "Changes requested",
    State.APPROVED: "Approved",
}
TITLE_CHARS = 70  # a <title> longer than this is cut off in search results
FEED_ENTRIES = 100  # the newest approved articles; the sitemap lists them all
# Stands for the path to the site's root in an index entry rendered before its index page.
# Article text can never hold it: a file with a NUL byte is refused before it is parsed.
ROOT_MARK = "\0"


class PageProblem(Exception):
    """An article that cannot be published as it is (the build stops; nothing is replaced)."""


@dataclass
class Group:
    id: str
    name: str
    items: list[Listing] = field(default_factory=list)


class SiteRenderer:
    """Renders every page of one site build; build once, reuse for all pages."""

    def __init__(
        self,
        config: Config,
        base_url: str | None = None,
        preview: bool = False,
        bytecode_cache: BytecodeCache | None = None,
    ) -> None:
        self.config = config
        self.site = config.site
        self.base_url = base_url.rstrip("/") if base_url else None
        self.preview = preview
        self.anchors = member_anchors(config.board)  # each member's entry on the board page
        self.env = Environment(
            loader=PackageLoader("reviewflow", TEMPLATES),
            autoescape=select_autoescape(["html", "xml"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,  # templates are package files: no stat of each one per page
            bytecode_cache=bytecode_cache,  # compiled templates kept between runs (checked by source)
        )
        self.env.filters["page_title"] = page_title
        self.env.globals.update(
            site=self.site,
            config=config,
            preview=preview,
            audiences=AUDIENCES,
            feed=self.base_url is not None,
            contact_href=contact_href(self.site.contact),
            cards=self.cards,
            declaration=declaration,
            when=when,
            approved_list=approved_list,
            member_anchors=self.anchors,
            state_words=STATE_LABELS,
        )
        self.bodies = BodyRenderer()
        self._chrome: dict[tuple[str, str | None, bool], tuple[Markup, Markup]] = {}
        self._frame: PageFrame | None = None  # the article pages' (article_html.py)
        self._cards = CardFrames(lambda **values: self.env.get_template("_card.html").render(**values))

    # --- identity -------------------------------------------------------------------------

    def fingerprint(self) -> str:
        """Changes whenever anything but an article's own data could change a page."""
        digest = hashlib.sha256(f"reviewflow {__version__} {code_fingerprint()}\0".encode())
        loader = self.env.loader
        assert loader is not None
        for name in sorted(loader.list_templates()):
            source, _, _ = loader.get_source(self.env, name)
            digest.update(f"{name}\0{source}\0".encode())
        digest.update(self.config.model_dump_json().encode())
        digest.update(f"\0{self.base_url}\0{self.preview}".encode())
        return digest.hexdigest()

    def url(self, path: str) -> str | None:
        return f"{self.base_url}/{path}" if self.base_url else None

    # --- pages ----------------------------------------------------------------------------

    def article(self, info: PageInfo, article: Article, body: str) -> str:
        """One article page. `body` is the Markdown after the front-matter."""
        return "".join(self.article_pieces(info, article, body))

    def article_pieces(self, info: PageInfo, article: Article, body: str) -> list[str]:
        """`article` in pieces, their concatenation the page (article_html.PageFrame.filled)."""
        references = sorted(article.references, key=lambda r: r.id)
        cited = {r.id: r for r in references}
        disclaimer = self.config.disclaimers.get(article.disclaimer)
        if disclaimer is None:
            raise PageProblem(f"its disclaimer {article.disclaimer!r} is not defined in reviewflow.toml")
        page_path = f"articles/{info.slug}/"
        html, places = self.bodies.render_cited(body, cited)
        shown = page_body(html, article.summary, places)
        who, directory = AUDIENCES[article.audience]
        crumbs = [(self.site.name, ""), (who, f"{directory}/")]
        description, canonical = meta_description(article.summary), self.url(page_path)
        json_ld = medical_web_page(info, article, self.site, self.base_url, page_path, self.anchors, crumbs)
        main = article_main(
            info, article, shown, config=self.config, anchors=self.anchors, audiences=AUDIENCES,
            condition_anchor=_anchor(" ".join(article.condition.split())),
            state_label=STATE_LABELS.get(info.state, info.state), steps=tracker(info.state),
            references=reference_pieces(references, shown.cited_from), disclaimer=disclaimer,
            json_ld=json_script(json_ld),
        )  # fmt: skip
        return self._article_frame().filled({
            "page_title": [escaped(page_title(cut_title(article.title, self.site.name), self.site.name))],
            "description": [escaped(description)], "canonical": [escaped(canonical or "")],
            "head": [article_head(article.title, description, self.site.name, canonical)], "main": main,
        })  # fmt: skip

    def _article_frame(self) -> PageFrame:
        """What surrounds every article page's own parts in this build (article.html): rendered once."""
        if self._frame is None:
            fixed: dict[str, Any] = {"root": "../../", "noindex": self.preview, "current": None}
            slots = ["page_title", "description", "head", "main"]
            if self.base_url:
                slots.append("canonical")
            else:
                fixed["canonical"] = None
            self._frame = PageFrame(partial(self._render, "article.html", **fixed), slots)
        return self._frame

    def cards(self, items: Iterable[Listing], root: str) -> Markup:
        """The index entries of ITEMS, for a page whose path to the site's root is ROOT."""
        html = "\n".join(
            item.card or self.card_html(item.info, item.title, item.audience, item.summary) for item in items
        )
        return Markup(html.replace(ROOT_MARK, root))

    def card_html(self, info: PageInfo, title: str, audience: str, summary: str) -> str:
        """One article's index entry; ROOT_MARK stands where the index page's path to the root goes.

        Rendered with the article's page (in a worker, in parallel) and kept with its record,
        so an index of thousands of articles is a join, not thousands of template calls; the
        template is rendered once per audience and review line, its slots filled per article.
        """
        return self._cards.fill(info, title, audience, summary, ROOT_MARK)

    def index(self, listings: Sequence[Listing], audience: str | None = None, ordered: bool = False) -> str:
        """The index of LISTINGS (AUDIENCE's alone, when given), grouped by condition. ORDERED:
        LISTINGS are in `condition_order` already (site-wide, the build sorts them once for
        its three indexes: a sort key made for each of 10,000 listings, three times)."""
        chosen = [item for item in listings if audience is None or item.audience == audience]
        who = AUDIENCES[audience][0] if audience else None
        return self._render(
            "index.html",
            root="../" if audience else "",
            title=f"Articles for {who.lower()}" if who else "Health articles",
            description=f"Medically reviewed health articles from {self.site.name}.",
            canonical=self.url(f"{AUDIENCES[audience][1]}/" if audience else ""),
            noindex=self.preview,
            current=audience or "all",
            audience=audience,
            groups=group_by_condition(chosen if ordered else condition_order(chosen)),
            count=len(chosen),
        )

    def board(self, listings: Sequence[Listing] = ()) -> str:
        """The board, each member with the published articles whose live text they approved."""
        approved: dict[str, list[tuple[str, str, date | None, int]]] = {}
        for item in sorted(listings, key=lambda item: item.title.lower()):
            if item.info.approved:
                entry = (item.info.slug, item.title, item.info.reviewed)
                for reviewer in item.info.reviewers:
                    if reviewer.email:
                        approved.setdefault(reviewer.email, []).append((*entry, reviewer.acknowledged))
        return self._render(
            "board.html", root="../", title="Medical advisory board", description="Who reviews our articles.",
            canonical=self.url("board/"), noindex=self.preview, current="board", approved=approved,
        )  # fmt: skip

    def policy(self) -> str:
        return self._page(
            "policy.html",
            "editorial-policy",
            "Editorial policy",
            "How our articles are written and reviewed.",
        )

    def not_found(self) -> str:
        root = (urlsplit(self.base_url).path.rstrip("/") + "/") if self.base_url else "/"
        return self._render(
            "404.html", root=root, title="Page not found", description="Page not found.", canonical=None,
            noindex=True, current=None,
        )  # fmt: skip

    def search(self) -> str:
        """The search page: a form and search.js, which reads the index search.py wrote."""
        return self._render(
            "search.html", root="../", title="Search articles", description=f"Search {self.site.name}.",
            canonical=self.url("search/"), noindex=self.preview, current="search", script="search.js",
        )  # fmt: skip

    def sitemap(self, listings: Sequence[Listing]) -> str:
        assert self.base_url is not None
        public = [(item.info.slug, item.info.updated) for item in listings if item.info.approved]
        newest = max((updated for _, updated in public if updated), default=None)
        pages = [("", newest)]
        pages += [(f"{AUDIENCES[a][1]}/", newest) for a in AUDIENCES]
        pages += [(f"articles/{slug}/", updated) for slug, updated in public]
        pages += [("board/", None), ("editorial-policy/", None)]
        # One <url> line per page, thousands of them: written here rather than in a template loop.
        base = escape(self.base_url)
        urls = "\n".join(
            f"<url><loc>{base}/{escape(path)}</loc>{f'<lastmod>{lastmod}</lastmod>' if lastmod else ''}</url>"
            for path, lastmod in pages
        )
        return self.env.get_template("sitemap.xml").render(urls=Markup(urls))

    def feed(self, listings: Sequence[Listing], fallback: datetime) -> str:
        assert self.base_url is not None
        public = [item for item in listings if item.info.approved]
        public.sort(key=lambda item: (item.info.changed_at or fallback, item.info.slug), reverse=True)
        updated = (public[0].info.changed_at or fallback) if public else fallback
        return self.env.get_template("feed.xml").render(
            entries=public[:FEED_ENTRIES], base=self.base_url, updated=updated, fallback=fallback,
            rfc3339=rfc3339,
        )  # fmt: skip

    def robots(self) -> str:
        if self.preview:
            return "User-agent: *\nDisallow: /\n"
        lines = ["User-agent: *", "Allow: /"]
        if self.base_url:
            lines.append(f"Sitemap: {self.base_url}/sitemap.xml")
        return "\n".join(lines) + "\n"

    def asset(self, name: str) -> str:
        """A file copied into the site as it is: the stylesheet, the icon."""
        loader = self.env.loader
        assert loader is not None
        return loader.get_source(self.env, name)[0]

    def stylesheet(self) -> str:
        return self.asset("style.css")

    def _page(self, template: str, directory: str, title: str, description: str) -> str:
        return self._render(
            template, root="../", title=title, description=description, canonical=self.url(f"{directory}/"),
            noindex=self.preview, current=directory,
        )  # fmt: skip

    def _render(self, template: str, **context: Any) -> str:
        context.setdefault("script", None)  # a page's own script: only the search page has one
        context["header"], context["footer"] = self.chrome(
            context["root"], context["current"], context["noindex"]
        )
        return self.env.get_template(template).render(**context)

    def chrome(self, root: str, current: str | None, noindex: bool) -> tuple[Markup, Markup]:
        """The header and footer around a page: the same for every page of one depth and section,
        so rendered once (an article page's own template work is then about its article)."""
        key = (root, current, noindex)
        if key not in self._chrome:
            context = {"root": root, "current": current, "noindex": noindex}
            header, footer = (
                Markup(self.env.get_template(name).render(**context).rstrip("\n"))
                for name in ("_header.html", "_footer.html")
            )
            self._chrome[key] = header, footer
        return self._chrome[key]


# --- small pure helpers ---------------------------------------------------------------------


def tracker(state: str) -> list[tuple[str, str]]:
    """The review-status steps as (label, done|current|todo)."""
    position: dict[str, int] = {
        State.DRAFT: -1,
        State.SUBMITTED: 0,
        State.UNDER_REVIEW: 1,
        State.CHANGES_REQUESTED: 1,
        State.APPROVED: 2,
    }
    current = position.get(state, -1)
    steps = []
    for index, (_, label) in enumerate(STEPS):
        if state == State.CHANGES_REQUESTED and index == 1:
            label = "Under review: changes requested"
        status = "done" if index < current else "current" if index == current else "todo"
        steps.append((label, status))
    return steps


def condition_order(listings: Iterable[Listing]) -> list[Listing]:
    """LISTINGS in the order an index lists them: by condition, then title."""
    return sorted(
        listings, key=lambda i: (i.condition.casefold(), i.condition, i.title.casefold(), i.info.slug)
    )


def group_by_condition(listings: Iterable[Listing]) -> list[Group]:
    """LISTINGS, in `condition_order`, grouped by condition."""
    groups: dict[str, Group] = {}
    for item in listings:
        key = item.condition.casefold()
        if key not in groups:
            groups[key] = Group(_anchor(item.condition), item.condition)
        groups[key].items.append(item)
    seen: set[str] = set()
    for group in groups.values():  # two conditions may slugify alike: keep anchors unique
        anchor, n = group.id, 1
        while group.id in seen:
            n += 1
            group.id = f"{anchor}-{n}"
        seen.add(group.id)
    return list(groups.values())


def _anchor(text: str) -> str:
    return "c-" + (re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-") or "condition")


def page_title(title: str, site_name: str) -> str:
    """A page's <title>: "TITLE · SITE" when that fits in TITLE_CHARS (what search results show),
    else the title alone, cut at a word if it is longer still. Lengths are counted as written in
    the page, character references and all, as html-validate counts them."""
    full = f"{title} · {site_name}"
    if _written_length(full) <= TITLE_CHARS:
        return full
    if _written_length(title) <= TITLE_CHARS:
        return title
    words = title.split(" ")
    cut = words[0][: TITLE_CHARS // 6]  # a first word too long to keep whole: its start
    for count in range(1, len(words) + 1):
        candidate = " ".join(words[:count]).rstrip(" ,;:·-")
        if _written_length(candidate) + 1 > TITLE_CHARS:
            break
        cut = candidate
    return cut + "…"


def _written_length(text: str) -> int:
    return len(escape(text))


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def contact_href(contact: str | None) -> str | None:
    if not contact:
        return None
    if re.fullmatch(r"[^@\s<>\"']+@[^@\s<>\"']+", contact):
        return f"mailto:{contact}"
    if urlsplit(contact).scheme in ("http", "https"):
        return contact
    return None
