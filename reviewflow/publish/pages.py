"""What each page of the site says, as plain data: an article page's facts (from git and the
config) and its entry in the index, the sitemap and the feed. site.py renders them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, NamedTuple

from reviewflow.content.article import Article


@dataclass(frozen=True)
class Reviewer:
    name: str
    credentials: str | None
    competing_interests: str | None = None  # the member's declaration in reviewflow.toml
    affiliation: str | None = None
    on_board: bool = True  # False: approved while on the board, since left it
    email: str = ""  # the member's, lowercased: the board page lists what each one approved
    acknowledged: int = 0  # warnings of the text the approval acknowledged (Reviewflow-Accept)


class Neighbour(NamedTuple):
    """Another published article, as a page links to it (neighbours.py finds them)."""

    slug: str
    title: str
    audience: str


@dataclass(frozen=True)
class PageInfo:
    """What git and the config say about one article page; its text comes separately.

    Everything a page shows besides the article file's bytes is here, so that a hash of this
    plus the blob id and the renderer's fingerprint identifies the page exactly.
    """

    slug: str
    path: str  # articles/<slug>.md
    blob: str  # the content published: the approved blob, or HEAD's in a preview
    state: str  # the article's workflow state (a State value)
    approved: bool  # this page shows board-approved text
    reviewers: tuple[Reviewer, ...] = ()
    reviewed_at: datetime | None = None  # the approval that reached quorum
    published_at: datetime | None = None  # the first approval of this article
    updated_at: datetime | None = None  # the commit that last changed the published text
    review_due: date | None = None
    overdue: bool = False
    approved_elsewhere: date | None = None  # preview of an edited article: its live version's date
    counterpart: Neighbour | None = None  # the same condition's article for the other audience
    related: tuple[Neighbour, ...] = ()  # other published articles on the same condition
    # The condition has published articles besides those linked above: the page links to the
    # index's list of all of them. What the page shows, not how many there are: a count in the key
    # would change with every article published on the condition, and so every page on it.
    more_on_condition: bool = False

    @property
    def reviewed(self) -> date | None:
        return utc_date(self.reviewed_at)

    @property
    def published(self) -> date | None:
        return utc_date(self.published_at)

    @property
    def updated(self) -> date | None:
        return utc_date(self.updated_at) or self.reviewed

    @property
    def changed_at(self) -> datetime | None:
        """The latest significant moment for a feed: a text change or an approval."""
        moments = [m for m in (self.updated_at, self.reviewed_at) if m is not None]
        return max(moments) if moments else None

    def linked(
        self, counterpart: Neighbour | None, related: tuple[Neighbour, ...], more_on_condition: bool
    ) -> PageInfo:
        """This page with its links to other pages (neighbours.py): its fields copied as they are,
        not passed through __init__ again as dataclasses.replace does (for every page of the site)."""
        page = object.__new__(PageInfo)
        links = {"counterpart": counterpart, "related": related, "more_on_condition": more_on_condition}
        page.__dict__.update(self.__dict__, **links)
        return page

    def key(self) -> str:
        """Every field, as one text (the page's cache key hashes it). It is computed for every page
        of every build, so it is written out field by field rather than looped over the fields
        (several times slower); tests/test_publish.py checks that every field changes it."""
        return "\0".join(
            (
                self.slug, self.path, self.blob, self.state, _flag(self.approved), _text(self.reviewers),
                _moment(self.reviewed_at), _moment(self.published_at), _moment(self.updated_at),
                _day(self.review_due), _flag(self.overdue), _day(self.approved_elsewhere),
                _neighbour_text(self.counterpart), _neighbours_text(self.related),
                _flag(self.more_on_condition),
            )
        )  # fmt: skip


@dataclass(frozen=True)
class Listing:
    """One article as the index, the sitemap and the feed show it."""

    info: PageInfo
    title: str
    summary: str
    audience: str
    condition: str
    authors: tuple[str, ...]
    tags: tuple[str, ...] = ()
    card: str = ""  # its entry in the index (SiteRenderer.card_html), when already rendered

    @classmethod
    def from_meta(cls, info: PageInfo, meta: dict[str, Any]) -> Listing:
        return cls(
            info, meta["title"], meta["summary"], meta["audience"], " ".join(meta["condition"].split()),
            tuple(meta["authors"]), tuple(meta["tags"]), str(meta.get("card", "")),
        )  # fmt: skip


def listing_meta(article: Article) -> dict[str, Any]:
    """The part of an article the site-wide pages need, as plain JSON (kept with the page's record)."""
    return {
        "title": article.title,
        "summary": article.summary,
        "audience": article.audience,
        "condition": article.condition,
        "authors": [a.name for a in article.authors],
        "tags": list(article.tags),
    }


def declaration(text: str | None) -> str:
    """A competing-interests declaration as readers see it: "none" is a declaration too."""
    if text is None or not text.strip():
        return "No declaration on file."
    if text.strip().rstrip(".").casefold() == "none":
        return "None declared."
    return text.strip()


def utc_date(moment: datetime | None) -> date | None:
    return moment.astimezone(UTC).date() if moment else None


def _flag(value: bool) -> str:
    return "1" if value else "0"


def _moment(value: datetime | None) -> str:
    return "-" if value is None else repr(value.timestamp())  # a number: several times cheaper than repr


def _day(value: date | None) -> str:
    return "-" if value is None else str(value.toordinal())


@lru_cache(maxsize=4096)
def _text(value: tuple[Any, ...]) -> str:
    """repr(VALUE), kept: thousands of pages share a few sets of reviewers, and the repr of
    nested dataclasses is most of what a page's key costs."""
    return repr(value)


def _neighbours_text(value: tuple[Neighbour, ...]) -> str:
    """repr(VALUE), from each neighbour's kept repr: every page lists up to five related pages
    and is listed on as many, each one a distinct tuple, so it is the neighbours that repeat."""
    inner = ", ".join(map(_neighbour_text, value))
    return f"({inner},)" if len(value) == 1 else f"({inner})"


@lru_cache(maxsize=65536)
def _neighbour_text(value: Neighbour | None) -> str:
    return repr(value)
