"""The small pure pieces of an article page: its `<title>` and meta description within the
lengths search engines show, dates in words, and the anchors of the board members it links to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from markupsafe import Markup, escape

from reviewflow.config import BoardMember

TITLE_MAX = 70  # characters of a <title> that search results show
DESCRIPTION_MAX = 160  # characters of a meta description that search results show
ELLIPSIS = "…"
SEPARATOR = " · "  # between a page's title and the site's name (base.html)
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December",
)  # fmt: skip


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
