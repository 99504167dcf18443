"""An article body as its page shows it: the short answer shown once, sections with stable ids
and a contents list, and every citation marker with an id its reference links back to.

It works on the body's final HTML (markup.py: rendered, sanitised, markers linked), whose
shape is fixed: the sanitiser lets no attribute onto a heading, so `<h2>` is always written
bare, and a citation link is the one `<a>` that holds a `<span class="visually-hidden">`
(a body cannot make one: the sanitiser allows no class on a span). Ids made here are prefixed
(`s-` for sections, `cite-` for markers), so they never meet the page's own ids.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from html import unescape

from markupsafe import escape

from reviewflow.content.citations import MARKER, expand

CONTENTS_FROM = 3  # sections a body needs for a contents list
# Headings that say "this is the short answer", compared casefolded without punctuation.
SHORT_ANSWER_HEADINGS = {
    "short answer", "the short answer", "in short", "summary", "in brief", "at a glance", "key points",
    "the answer in brief",
}  # fmt: skip
REPEATS = 0.8  # a section repeats the summary when this share of the summary's words are in it

_H2 = re.compile(r"<h2>(.*?)</h2>", re.S)
_HEADING = re.compile(r"<h([2-6])>(.*?)</h\1>", re.S)
_CITE_SUP = re.compile(r'<sup class="cite">.*?</sup>', re.S)
_CITE_LINK = re.compile(r'<a href="#ref-(\d+)"><span class="visually-hidden">')
_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class PageBody:
    """What an article page shows of its body, besides the summary it already has."""

    html: str  # the body: the folded section gone, headings with ids, markers with ids
    short_answer: str | None  # the folded section's HTML, when it cites what the summary does not
    contents: tuple[tuple[str, str], ...]  # (id, text) of each section, when there are enough
    cited_from: dict[int, list[str]] = field(default_factory=dict)  # reference id -> marker ids


def page_body(html: str, summary: str) -> PageBody:
    """The page's view of body HTML for an article whose front-matter summary is SUMMARY."""
    html, folded = fold_short_answer(html, summary)
    short_answer = None
    if folded is not None and not _cited_ids(folded) <= _summary_ids(summary):
        short_answer = folded  # the body's version has sources the summary lacks: show it, cited
    html, contents = _section_ids(html)
    cited_from: dict[int, list[str]] = defaultdict(list)
    if short_answer is not None:
        short_answer = _marker_ids(short_answer, cited_from)
    html = _marker_ids(html, cited_from)
    listed = tuple(contents) if len(contents) >= CONTENTS_FROM else ()
    return PageBody(html, short_answer, listed, dict(cited_from))


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
    if heading not in SHORT_ANSWER_HEADINGS and not repeats(plain_text(content), summary):
        return html, None
    rest = stripped[following.start() :] if following else ""
    return rest, content.strip()


def repeats(text: str, summary: str) -> bool:
    """Whether TEXT says the summary again: nearly all of the summary's words are in it."""
    wanted = set(_WORD.findall(MARKER.sub(" ", summary).casefold()))
    if not wanted:
        return False
    found = set(_WORD.findall(text.casefold()))
    return len(wanted & found) >= REPEATS * len(wanted)


def plain_text(html: str) -> str:
    """The words of an HTML fragment, without its citation markers."""
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
        return f'<h{level} id="{escape(anchor)}">{inner}</h{level}>'

    return _HEADING.sub(with_id, html), contents


def _marker_ids(html: str, cited_from: dict[int, list[str]]) -> str:
    """Each citation link given an id (`cite-N-k`: the k-th place reference N is cited)."""

    def with_id(match: re.Match[str]) -> str:
        ref_id = int(match.group(1))
        places = cited_from[ref_id]
        anchor = f"cite-{ref_id}-{len(places) + 1}"
        places.append(anchor)
        return f'<a href="#ref-{ref_id}" id="{anchor}"><span class="visually-hidden">'

    return _CITE_LINK.sub(with_id, html)


def back_labels(count: int) -> list[str]:
    """Letters for the links back to a reference's citations: a, b, … z, aa, ab, …"""
    labels = []
    for index in range(count):
        label = ""
        index += 1
        while index:
            index, rest = divmod(index - 1, 26)
            label = chr(ord("a") + rest) + label
        labels.append(label)
    return labels
