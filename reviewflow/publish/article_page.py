"""The small pure pieces of an article page: its `<title>` and meta description within the
lengths search engines show, dates in words, and the anchors of the board members it links to
(and, on the board page, the list of what each member approved).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from markupsafe import Markup, escape

from reviewflow.config import BoardMember
from reviewflow.content.article import Reference
from reviewflow.publish.article_body import back_links
from reviewflow.publish.schemaorg import identifier_links

TITLE_MAX = 70  # characters of a <title> that search results show
DESCRIPTION_MAX = 160  # characters of a meta description that search results show
ELLIPSIS = "…"
SEPARATOR = " · "  # between a page's title and the site's name (base.html)
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December",
)  # fmt: skip
REFERENCE_TYPES = {"guideline": "Guideline", "research": "Research", "review": "Review", "other": "Other"}


def cut_at_word(text: str, limit: int) -> str:
    """TEXT in at most LIMIT characters: whole when it fits, else cut after a word, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    room = text[: limit - len(ELLIPSIS) + 1]  # one more: a space there means the word before is whole
    cut = room.rsplit(" ", 1)[0] if " " in room else room[: limit - len(ELLIPSIS)]
    return cut.rstrip(" ,;:.-–—") + ELLIPSIS


def meta_description(summary: str) -> str:
    return cut_at_word(summary, DESCRIPTION_MAX)


def cut_title(title: str, site_name: str) -> str:
    """The title part of `<title>TITLE · SITE</title>`, so that the whole fits in TITLE_MAX
    characters as written in the page (`&` is five), where the site's name leaves room for a
    few words of the title (base.html's page_title then keeps the name)."""
    room = TITLE_MAX - len(SEPARATOR) - len(escape(" ".join(site_name.split())))
    room = max(room, 20)
    cut = cut_at_word(title, room)
    while len(escape(cut)) > room and len(cut) > 1:
        cut = cut_at_word(title, len(cut) - (len(escape(cut)) - room))
    return cut


def in_words(day: date) -> str:
    """A date as readers write it: 2 December 2026."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


@functools.lru_cache(maxsize=4096)  # a site's pages share a few hundred days, each shown on many
def when(day: date | None) -> Markup:
    """A date for the page: in words, with its ISO form in <time datetime> for machines."""
    if day is None:
        return Markup("")
    return Markup(f'<time datetime="{day.isoformat()}">{in_words(day)}</time>')  # digits and month names


def member_anchors(board: Iterable[BoardMember]) -> dict[str, str]:
    """Each board member's anchor on the board page (`member-<name>`), keyed by their email as
    reviewflow compares it: made from the name, so it stays while the board changes around it."""
    anchors: dict[str, str] = {}
    for member in board:
        base = "member-" + (re.sub(r"[^a-z0-9]+", "-", member.name.casefold()).strip("-") or "member")
        anchor, n = base, 1
        while anchor in anchors.values():
            n += 1
            anchor = f"{base}-{n}"
        anchors[member.key] = anchor
    return anchors


def approved_list(entries: Iterable[tuple[str, str, date | None, int]]) -> Markup:
    """A board member's approved articles, one `<li>` line each, from (slug, title, reviewed,
    warnings acknowledged): joined here, not looped in board.html, since on a large site each
    member has thousands and the template loop was most of what a publish spent on the board."""
    dates: dict[date | None, str] = {}
    lines = []
    for slug, title, reviewed, acknowledged in entries:
        said = dates.get(reviewed)
        if said is None:
            said = dates[reviewed] = when(reviewed)
        note = ""
        if acknowledged:
            plural = "" if acknowledged == 1 else "s"
            note = f" (acknowledged {acknowledged} check warning{plural} when approving)"
        link = f'<a href="../articles/{escape(slug)}/index.html">{escape(title)}</a>'
        lines.append(f"<li>{link}, reviewed {said}{note}</li>\n")
    return Markup("".join(lines))


BACK_ARROW = "\u21a9"  # ↩, before each reference's links back to the text


def reference_pieces(references: Sequence[Reference], cited_from: Mapping[int, int]) -> list[str]:
    """The references' `<li>` entries, in the order given: each with its type, its links (DOI,
    PubMed, PMC, URL) and the links back to where the text cites it (CITED_FROM: reference id ->
    how many markers cite it, as article_body.PageBody counts them). Written here, not looped
    in a template: every page lists a few dozen fields of references.

    In pieces, their concatenation the list, each BACK_ARROW a piece of its own: the one
    character of the list beyond Latin-1 (its fields aside), it would make the whole page a
    string of two bytes a character, encoded to UTF-8 a character at a time (the page is
    encoded piece by piece, pool.page_bytes, and an ASCII piece is copied)."""
    pieces: list[str] = []
    for reference in references:
        number = reference.id
        kind = REFERENCE_TYPES.get(reference.type) or reference.type.replace("-", " ").capitalize()
        lines = [
            f'<li id="ref-{number}" value="{number}">',
            f'<span class="ref-type">{escaped(kind)}</span>',
            f'<span class="ref-title">{escaped(reference.title)}</span>',
            f'<span class="ref-source">{escaped(reference.source)}, {reference.year}</span>',
        ]
        links = identifier_links(reference)
        if links:
            lines.append(f'<span class="ref-links">{_links_html(links)}</span>')
        head = "\n".join(lines)
        if pieces:  # the entries are one a line
            head = "\n" + head
        places = cited_from.get(number)
        if places:
            pieces += (
                f'{head}\n<span class="ref-back"><span aria-hidden="true">',
                BACK_ARROW,
                '</span> <span class="visually-hidden">'
                f"Cited in the text: </span>{back_links(number, places)}</span>\n</li>",
            )
        else:
            pieces.append(f"{head}\n</li>")
    return pieces


def _links_html(links: Iterable[tuple[str, str, str]]) -> str:
    """The links to find a reference ("DOI 10.… · PubMed …"), from (label, identifier, href)."""
    return " · ".join(
        f'<a href="{escaped(href)}" rel="noopener noreferrer">{escaped(label)}'
        f"{': ' if label == 'Link' else ' '}{escaped(identifier)}</a>"
        for label, identifier, href in links
    )


def escaped_in_python(text: str) -> str:
    """TEXT escaped as markupsafe's escape does it (the same five characters, the same
    references), as a plain string: a page escapes dozens of reference fields, and making
    each one a Markup costs more than escaping it."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")
        .replace("'", "&#39;")
    )  # fmt: skip


try:
    # The same escaping done by markupsafe's C code (which its `escape` wraps in a Markup): one
    # pass over the text rather than five, a page's hundred values ~0.3 µs each sooner.
    from markupsafe._speedups import _escape_inner as escaped
except ImportError:  # a markupsafe built without its C speedups
    escaped = escaped_in_python
