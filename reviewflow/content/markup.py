"""An article body, Markdown in, safe HTML out, with its citation markers linked.

Bodies are untrusted input. The body is parsed once (`reviewflow.content.markdown`: the same
tree the checks read) and rendered by Comrak with raw HTML escaped, so `<script>` and friends
arrive as visible text and `javascript:`-style link targets are emptied; the HTML that comes out
then passes an allow-list sanitiser (nh3) as a second wall. HTML that holds nothing but tags
of that allow-list without attributes (an ordered list's start and a cell's alignment class
aside), checked by one regular expression, is not parsed again: it is written as the sanitiser
writes it (`_as_sanitised`), which is what most bodies, plain prose, are.

Most bodies have no escape, raw HTML, entity, code, link or image: Comrak renders them itself,
with no tree built in Python (`_plain_html`), and every marker-shaped bracket in that HTML is a
citation by the tree's rules; any other body is walked as below. tests/test_markup_plain.py
holds the two ways to each other.

Citations are found in the tree's text nodes, exactly the ones `check` counts: each marker is
swapped for a placeholder of private-use characters before rendering, and after the sanitiser
each placeholder becomes a superscript of links to `#ref-N`, read out as "Reference N" (an id
without a reference, or a malformed marker, stays plain text). That markup is made from digits
alone, so it needs no sanitising.

Regular-expression passes over HTML whose shape is fixed (every `<` of the text is escaped, so
each `<` starts a tag that Comrak wrote) do what CommonMark lacks: images would be requests
outside the site, so readers get their description; table alignment becomes a class (the
stylesheet's), not inline style; a link whose target was emptied as unsafe (or was empty)
becomes its plain text; and when the body has an h1, every heading moves one level down so the
title stays the only h1.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import escape, unescape

import comrak
import nh3

from reviewflow.content.article import Reference
from reviewflow.content.citations import MARKER, expand
from reviewflow.content.markdown import EXTENSIONS, PARSING, RENDERING, parse_for_page

ALLOWED_TAGS = {
    "p", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "a", "em", "strong", "code", "pre",
    "blockquote", "hr", "br", "table", "thead", "tbody", "tr", "th", "td", "sup", "span", "del",
}  # fmt: skip
_ALIGN = {"align-left", "align-center", "align-right"}
# A citation's markup (markup._citation): its first piece, then for each link given its place's
# id, the reference and the markup that follows the place's number.
Citation = tuple[str, tuple[tuple[int, str], ...]]

_IMAGE = r'<img src="[^"]*" alt="([^"]*)"[^>]*>'
# Comrak's output, adjusted before it is sanitised; alternatives are tried left to right.
_ADJUST = re.compile(
    r'<a href="(?P<href>[^"]*)"[^>]*>(?P<label>.*?)</a>'
    r"|<(?P<code>code|pre)\b[^>]*>.*?</(?P=code)>"  # code: shown exactly as written
    rf"|{_IMAGE}"
    r'|<(?P<cell>t[hd]) align="(?P<align>left|center|right)">',
    re.S,
)
_IMAGE_IN_LINK = re.compile(_IMAGE)
_HEADING = re.compile(r"<(/?)h([1-6])>")
# A citation until the HTML is sanitised: its brackets swapped for private-use characters,
# which the body itself cannot hold (they are replaced before parsing).
_OPEN, _CLOSE = "\ue000", "\ue001"
_PLACEHOLDER = re.compile(f"{_OPEN}([^{_CLOSE}]*){_CLOSE}")
# In the HTML of a body rendered without its tree (`_plain_html`): a bracket of marker shape
# holding a character the renderer escaped.
_ESCAPE_IN_BRACKET = re.compile(r"\[\d[^\[\]\n]*&")
# What the sanitiser's parser would change or check in Comrak's HTML (`_as_sanitised`): any
# other tag, or an attribute but an ordered list's start and a cell's alignment class...
_OTHER_TAG = re.compile(
    r"<(?!/?(?:p|h[2-6]|ul|ol|li|em|strong|del|blockquote|table|thead|tbody|tr|th|td)>"
    r'|[bh]r />|ol start="\d+">|t[hd] class="align-(?:left|center|right)">)'
)
# ...or a character reference but the four Comrak writes.
_OTHER_REFERENCE = re.compile(r"&(?!quot;|gt;|lt;|amp;)")


class BodyRenderer:
    """The Markdown options and one sanitiser, built once and reused for every body. PLAIN:
    whether plain bodies and plain HTML take the short ways (tests turn it off to compare)."""

    def __init__(self, plain: bool = True) -> None:
        self.plain = plain
        self.cleaner = nh3.Cleaner(
            tags=ALLOWED_TAGS,
            attributes={"a": {"href", "title"}, "ol": {"start"}},
            allowed_classes={"sup": {"cite"}, "em": {"image"}, "th": _ALIGN, "td": _ALIGN},
            url_schemes={"http", "https", "mailto"},
            link_rel="noopener noreferrer",
        )

    def render(self, body: str, references: Mapping[int, Reference]) -> str:
        """The body as HTML; markers citing an id not in REFERENCES stay plain text."""
        return self._render(body, references, None)

    def render_cited(self, body: str, references: Mapping[int, Reference]) -> tuple[str, dict[int, int]]:
        """The body as `render` writes it, with each citation link given an id (`cite-N-k`: the
        k-th place, in the body's order, that cites reference N); and how many places cite each
        reference. Given here, as the markers are linked, rather than by another pass over the
        page's HTML (article_body.page_body keeps them, or numbers them again after a fold)."""
        cited: dict[int, int] = {}
        return self._render(body, references, cited), cited

    def _render(self, body: str, references: Mapping[int, Reference], cited: dict[int, int] | None) -> str:
        if _OPEN in body or _CLOSE in body:
            body = body.replace(_OPEN, "\ufffd").replace(_CLOSE, "\ufffd")
        html = _plain_html(body) if self.plain else None
        if html is not None:
            html = _adjusted(html, plain=True)
            sanitised = _as_sanitised(html)
            if sanitised is not None:  # its markers are all citations, as they are: no placeholders
                return _linked(MARKER, sanitised, references, cited) if "[" in sanitised else sanitised
            html = MARKER.sub(_marked, html)
        else:
            root, cited_nodes = parse_for_page(body)
            for node, value in cited_nodes:
                node.node_value = comrak.Text(MARKER.sub(_marked, value))
            html = _adjusted(comrak.format_html(root, EXTENSIONS, PARSING, RENDERING), plain=False)
        sanitised = _as_sanitised(html) if self.plain else None
        html = sanitised if sanitised is not None else self.cleaner.clean(html)
        return _linked(_PLACEHOLDER, html, references, cited) if _OPEN in html else html


def _adjusted(html: str, plain: bool) -> str:
    """Comrak's HTML with images, table alignment, emptied links and an h1 adjusted (_ADJUST).
    A PLAIN body's HTML (`_plain_html`) has no link, image or code: only a cell can change."""
    if not plain or ' align="' in html:
        html = _ADJUST.sub(_adjust, html)
    if "<h1>" in html:
        html = _HEADING.sub(_shift_heading, html)
    return html


def _linked(
    found: re.Pattern[str], html: str, references: Mapping[int, Reference], cited: dict[int, int] | None
) -> str:
    """HTML with each citation FOUND (its group 1: what the brackets hold, as the HTML writes
    it) made a superscript of links; with CITED (reference id -> places so far, which it
    updates), each link given the id of its place (`cite-N-k`).

    The HTML split at the citations (text, inside, text, inside, …) and only the insides' pieces
    remade: a page holds dozens of markers, and a function called per match cost more."""
    pieces = found.split(html)
    places = cited if cited is not None else {}
    made: dict[str, Citation] = {}  # most pages cite the same few markers over and over
    for index in range(1, len(pieces), 2):
        inside = pieces[index]
        citation = made.get(inside)
        if citation is None:
            inside_text = unescape(inside)  # as the sanitiser wrote it, & and < escaped
            ids, problem = expand(inside_text)  # not passed as *args: compiled, that is a generic call
            citation = _citation(f"[{inside_text}]", ids, problem, references, cited is not None)
            made[inside] = citation
        head, numbered = citation
        if not numbered:
            pieces[index] = head
        elif len(numbered) == 1:  # one reference, as most markers cite
            ((ref, tail),) = numbered
            place = places[ref] = places.get(ref, 0) + 1
            pieces[index] = f"{head}{place}{tail}"
        else:
            parts = [head]
            for ref, tail in numbered:
                place = places[ref] = places.get(ref, 0) + 1
                parts += (str(place), tail)
            pieces[index] = "".join(parts)
    return "".join(pieces)


def _plain_html(body: str) -> str | None:
    """The body's HTML from Comrak's own renderer (no tree in Python: a quarter of the time),
    for a body whose every marker-shaped bracket in the HTML's text is a citation by
    `parse_for_page`'s rules; None for any other body.

    Such a body has no backslash (escapes), `<` (raw HTML, autolinks), `&` (entities) or
    backtick (code), and its HTML has no link or image (whose text does not cite) and no bracket
    of marker shape holding a character the renderer escaped (`"`, `>`: the escape's letters
    would hide a marker from MARKER). Then every piece of text between tags is one text node as
    written, and MARKER finds the same markers in the HTML as in the nodes."""
    if "\\" in body or "<" in body or "&" in body or "`" in body:  # four scans in C: faster than one regex
        return None
    html = comrak.markdown_to_html(body, EXTENSIONS, PARSING, RENDERING)
    if "<a " in html or "<img" in html or "<code" in html:
        return None
    if "&" in html and _ESCAPE_IN_BRACKET.search(html):
        return None
    return html


def _as_sanitised(html: str) -> str | None:
    """HTML as the sanitiser would write it, for HTML that holds only allowed tags without
    attributes (but an ordered list's start and a cell's alignment class) and no character the
    sanitiser's parser changes: it would keep every tag and character, and write a void element
    and a quotation mark in its own way. None for any other HTML, which the sanitiser cleans.
    Most bodies are plain prose, and the sanitiser's parse was a seventh of each page."""
    if _OTHER_TAG.search(html) or "\r" in html or "\xa0" in html:
        return None
    if "&" in html and _OTHER_REFERENCE.search(html):
        return None
    if "&quot;" in html:
        html = html.replace("&quot;", '"')
    return html.replace("<br />", "<br>").replace("<hr />", "<hr>")


def _marked(match: re.Match[str]) -> str:
    # A function, not the template "\ue000\\1\ue001": Python expands a template in Python for
    # every match, twice as slow, and a page has dozens of markers.
    return f"{_OPEN}{match.group(1)}{_CLOSE}"


def _adjust(match: re.Match[str]) -> str:
    href, label, code, alt, cell, align = match.groups()
    if label is not None:
        label = _IMAGE_IN_LINK.sub(_image_in_link, label) if "<img" in label else label
        if href == "":  # no target, or one Comrak removed as unsafe: the text alone
            return label
        return f"{match.group(0)[: match.start('label') - match.start()]}{label}</a>"
    if code is not None:
        return match.group(0)
    if alt is not None:
        return _image(alt)
    return f'<{cell} class="align-{align}">'


def _image_in_link(match: re.Match[str]) -> str:
    return _image(match.group(1))


def _image(alt: str) -> str:
    """An image's description instead of the image (alt is escaped by Comrak already)."""
    return f'<em class="image">[Image: {alt}]</em>' if alt else ""


def _citation(
    marker: str,
    ids: tuple[int, ...],
    problem: str | None,
    references: Mapping[int, Reference],
    with_ids: bool = False,
) -> Citation:
    """A marker as a superscript of links; a malformed one as the text it was. WITH_IDS: each
    link's place number left out, its reference id and the markup after it following."""
    if problem is not None or not ids:
        return escape(marker, quote=False), ()
    head, text = '<sup class="cite">[', ""
    numbered: list[tuple[int, str]] = []
    for ref_id in dict.fromkeys(ids):
        if ref_id in references:
            text += f'<a href="#ref-{ref_id}"'
            if with_ids:
                text += f' id="cite-{ref_id}-'
                if numbered:
                    numbered[-1] = (numbered[-1][0], numbered[-1][1] + text)
                else:
                    head += text
                numbered.append((ref_id, '"'))
                text = ""
            text += f'><span class="visually-hidden">Reference </span>{ref_id}</a>, '
        else:
            text += f"{ref_id}, "  # an unknown id (`check` reports it): no dead link
    text = text[:-2] + "]</sup>"
    if not numbered:
        return head + text, ()
    numbered[-1] = (numbered[-1][0], numbered[-1][1] + text)
    return head, tuple(numbered)


def _shift_heading(match: re.Match[str]) -> str:
    return f"<{match.group(1)}h{min(int(match.group(2)) + 1, 6)}>"
