"""An article body as its page shows it: the short answer shown once, sections with stable ids
and a contents list, and every citation marker with an id its reference links back to.

It works on the body's final HTML (markup.py: rendered, sanitised, markers linked), whose
shape is fixed: the sanitiser lets no attribute onto a heading, so `<h2>` is always written
bare, and a citation link is the one `<a>` that holds a `<span class="visually-hidden">`
(a body cannot make one: the sanitiser allows no class on a span). Ids made here are prefixed
(`s-` for sections, `cite-` for markers), so they never meet the page's own ids.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from html import unescape

from markupsafe import Markup

from reviewflow.content.citations import MARKER, expand

CONTENTS_FROM = 3  # sections a body needs for a contents list
# Headings that say "this is the short answer", compared casefolded without punctuation.
SHORT_ANSWER_HEADINGS = {
    "short answer", "the short answer", "in short", "summary", "in brief", "at a glance", "key points",
    "the answer in brief",
}  # fmt: skip
REPEATS = 0.8  # a section repeats the summary when this share of the summary's words are in it
LONGER = 1.25  # and has at most this many times its words (ten more allowed)

_H2 = re.compile(r"<h2>(.*?)</h2>", re.S)
_HEADING = re.compile(r"<h([2-6])>(.*?)</h\1>", re.S)
_CITE_SUP = re.compile(r'<sup class="cite">.*?</sup>', re.S)
_CITE_LINK = re.compile(r'<a href="#ref-(\d+)"(?: id="cite-\d+-\d+")?><span class="visually-hidden">')
# The start of a marker's link, as markup.py writes it, with the reference's id: without an
# id of its place (`BodyRenderer.render`), and with one (`render_cited`), which is replaced.
_MARKER_LINK = re.compile(
    r'<a href="#ref-([0-9]+)"(?: id="cite-[0-9]+-[0-9]+")?(?=><span class="visually-hidden">)'
)
_CITATION_LINK = '<span class="visually-hidden">'  # in a body's HTML, only a citation link holds one
_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class PageBody:
    """What an article page shows of its body, besides the summary it already has."""

    html: str  # the body: the folded section gone, headings with ids, markers with ids
    short_answer: str | None  # the folded section's HTML, when it says or cites more than the summary
    contents: tuple[tuple[str, str], ...]  # (id, text) of each section, when there are enough
    # Reference id -> how many places cite it: their markers' ids are cite-N-1 … cite-N-<count>.
    cited_from: dict[int, int] = field(default_factory=dict)


def page_body(html: str, summary: str, cited: dict[int, int] | None = None) -> PageBody:
    """The page's view of body HTML for an article whose front-matter summary is SUMMARY.

    CITED: the HTML's citation links have their places' ids already, numbered in the body's
    order (markup.BodyRenderer.render_cited), and this says how many places cite each
    reference. They are kept unless the fold below drops a citation (the short answer's heading,
    or the whole section when the summary says it all): then the rest are numbered again."""
    html, folded = fold_short_answer(html, summary)
    short_answer = None
    if folded is not None and not (
        _cited_ids(folded) <= _summary_ids(summary) and _words(plain_text(folded)) <= _words(summary)
    ):
        short_answer = folded  # the body's version cites or says more: it is the one shown, whole
    html, contents = _section_ids(html)
    listed = tuple(contents) if len(contents) >= CONTENTS_FROM else ()
    if cited is not None:
        shown = html.count(_CITATION_LINK) + (short_answer.count(_CITATION_LINK) if short_answer else 0)
        if shown == sum(cited.values()):  # nothing cited was dropped: the places are as numbered
            return PageBody(html, short_answer, listed, cited)
    places: dict[str, int] = {}
    if short_answer is not None:
        short_answer = _marker_ids(short_answer, places)
    html = _marker_ids(html, places)
    return PageBody(html, short_answer, listed, {int(ref): count for ref, count in places.items()})


def fold_short_answer(html: str, summary: str) -> tuple[str, str | None]:
    """HTML without its first section when that section is the short answer again (its heading
    says so, or its text repeats the summary); and that section's content, or None."""
    stripped = html.lstrip()
    first = _H2.match(stripped)
    if first is None:
        return html, None
    following = _H2.search(stripped, first.end())
    content = stripped[first.end() : following.start() if following else len(stripped)]
    heading = " ".join(_WORD.findall(plain_text(first.group(1)).casefold()))
    if heading not in SHORT_ANSWER_HEADINGS and not repeats(content, summary):
        return html, None
    rest = stripped[following.start() :] if following else ""
    return rest, content.strip()


def repeats(html: str, summary: str) -> bool:
    """Whether a section's HTML says the summary again: nearly all of the summary's words are
    in it, and it is not much longer (a longer section says more, and is no repeat)."""
    # Its words counted by its spaces first (three in each citation's markup): most sections
    # are far longer than a summary, and are passed without being read.
    spaces = html.count(" ") - 3 * html.count('<sup class="cite">')
    if spaces > LONGER * (summary.count(" ") + 1) + 10:
        return False
    wanted = _words(summary)
    words = plain_text(html).split()
    if not wanted or len(words) > LONGER * len(summary.split()) + 10:
        return False
    return len(wanted & _words(" ".join(words))) >= REPEATS * len(wanted)


def _words(text: str) -> set[str]:
    return set(_WORD.findall(MARKER.sub(" ", text).casefold()))


def plain_text(html: str) -> str:
    """The words of an HTML fragment, without its citation markers."""
    if "<" not in html and "&" not in html:  # most headings: no tag, no character reference
        return " ".join(html.split())
    return " ".join(unescape(_TAG.sub("", _CITE_SUP.sub("", html))).split())


def _cited_ids(html: str) -> set[int]:
    return {int(found) for found in _CITE_LINK.findall(html)}


def _summary_ids(summary: str) -> set[int]:
    return {i for inner in MARKER.findall(summary) for i in expand(inner)[0]}


def _section_ids(html: str) -> tuple[str, list[tuple[str, str]]]:
    """Every heading given an id from its words (unique on the page); the h2s listed."""
    seen: set[str] = set()
    contents: list[tuple[str, str]] = []

    def with_id(match: re.Match[str]) -> str:
        level, inner = match.group(1), match.group(2)
        text = plain_text(inner)
        base = "s-" + ("-".join(_WORD.findall(text.casefold()))[:60].strip("-") or "section")
        anchor, n = base, 1
        while anchor in seen:
            n += 1
            anchor = f"{base}-{n}"
        seen.add(anchor)
        if level == "2":
            contents.append((anchor, text))
        return f'<h{level} id="{anchor}">{inner}</h{level}>'  # letters, digits and "-": nothing to escape

    return _HEADING.sub(with_id, html), contents


def _marker_ids(html: str, cited: dict[str, int]) -> str:
    """Each citation link given an id (`cite-N-k`: the k-th place reference N is cited; any id it
    had replaced), counting on from CITED (reference id -> places so far), which it updates.

    The text split at the links (text, id, text, id, …) and only the ids' pieces remade: a page
    may hold a hundred markers, and this runs for every page of the site."""
    pieces = _MARKER_LINK.split(html)
    for index in range(1, len(pieces), 2):
        ref = pieces[index]
        place = cited[ref] = cited.get(ref, 0) + 1
        pieces[index] = f'<a href="#ref-{ref}" id="cite-{ref}-{place}"'
    return "".join(pieces)


@functools.lru_cache(maxsize=4096)  # pages cite their references alike: the same few counts
def back_links(ref: int, count: int) -> Markup:
    """The links back from reference REF to each of the COUNT places that cite it ("a b c"):
    written here, not in the template, since a page may cite hundreds of times and each is the
    same small markup (made from digits and letters: nothing to escape)."""
    return Markup(
        " ".join(
            f'<a href="#cite-{ref}-{place}"><span class="visually-hidden">citation </span>{label}</a>'
            for place, label in enumerate(back_labels(count), start=1)
        )
    )


@functools.lru_cache(maxsize=256)  # asked for every reference of every page
def back_labels(count: int) -> tuple[str, ...]:
    """Letters for the links back to a reference's citations: a, b, … z, aa, ab, …"""
    labels = []
    for index in range(count):
        label = ""
        index += 1
        while index:
            index, rest = divmod(index - 1, 26)
            label = chr(ord("a") + rest) + label
        labels.append(label)
    return tuple(labels)
