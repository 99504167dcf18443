"""An article body, Markdown in, safe HTML out, with its citation markers linked.

Bodies are untrusted input. Comrak (Rust; CommonMark plus GFM tables and strikethrough)
renders them with raw HTML escaped, so `<script>` and friends arrive as visible text and
`javascript:`-style link targets are emptied; the HTML that comes out then passes an
allow-list sanitiser (nh3) as a second wall.

Around the sanitiser, regular-expression passes over HTML whose shape is fixed (every `<` of
the text is escaped, so each `<` starts a tag that Comrak or nh3 wrote) do what CommonMark lacks:
- before it: images would be requests outside the site, so readers get their description;
  table alignment becomes a class (the stylesheet's), not inline style; a link whose target
  was emptied as unsafe (or was empty) becomes its plain text; and when the body has an h1,
  every heading moves one level down so the title stays the only h1;
- after it: citation markers in text (`[1]`, `[1, 2]`, `[2-4]`, the syntax
  `reviewflow.content.prose.MARKER` defines) become superscript links to `#ref-N`, read out as
  "Reference N"; never inside links or code, never for an escaped `\\[1\\]` (Comrak marks
  escaped characters), and an id without a reference stays plain text. That markup is made
  from digits alone, so it needs no sanitising.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import comrak
import nh3

from reviewflow.content.article import Reference
from reviewflow.content.prose import MARKER, MAX_RANGE

ALLOWED_TAGS = {
    "p", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "a", "em", "strong", "code", "pre",
    "blockquote", "hr", "br", "table", "thead", "tbody", "tr", "th", "td", "sup", "span", "del",
}  # fmt: skip
_ALIGN = {"align-left", "align-center", "align-right"}

_ESCAPED = r"<span data-escaped-char>([^<]*)</span>"
_IMAGE = r'<img src="[^"]*" alt="([^"]*)"[^>]*>'
# Comrak's output, adjusted before it is sanitised; alternatives are tried left to right.
_ADJUST = re.compile(
    r'<a href="(?P<href>[^"]*)"[^>]*>(?P<label>.*?)</a>'
    r"|<(?P<code>code|pre)\b[^>]*>.*?</(?P=code)>"  # code: shown exactly as written
    rf"|{_IMAGE}"
    r'|<(?P<cell>t[hd]) align="(?P<align>left|center|right)">',
    re.S,
)
_INSIDE_LINK = re.compile(f"{_IMAGE}|{_ESCAPED}")
_HEADING = re.compile(r"<(/?)h([1-6])>")
# In the sanitised HTML: links, code and image descriptions are kept whole, so no marker inside
# them is linked; an escaped character loses its mark, and no marker forms across it. Most
# bodies have none of those, and the marker alone is much faster to look for.
_CITATION = re.compile(
    r'<a\b[^>]*>.*?</a>|<(code|pre)\b[^>]*>.*?</\1>|<em class="image">[^<]*</em>'
    r'|<span data-escaped-char="">(?P<escaped>[^<]*)</span>'
    rf"|(?P<marker>{MARKER.pattern})",
    re.S,
)
_MARKER = re.compile(rf"(?P<marker>{MARKER.pattern})")
_KEPT_WHOLE = ("<a ", "<code", "<pre", 'class="image"', "data-escaped-char")


class BodyRenderer:
    """The Markdown options and one sanitiser, built once and reused for every body."""

    def __init__(self) -> None:
        self.extensions = comrak.ExtensionOptions()
        self.extensions.table = True
        self.extensions.strikethrough = True
        self.parsing = comrak.ParseOptions()
        self.rendering = comrak.RenderOptions()
        self.rendering.escape = True  # raw HTML shown as text, never passed through
        self.rendering.escaped_char_spans = True  # so that `\[1\]` is known to be no citation
        self.cleaner = nh3.Cleaner(
            tags=ALLOWED_TAGS,
            attributes={"a": {"href", "title"}, "ol": {"start"}, "span": {"data-escaped-char"}},
            allowed_classes={"sup": {"cite"}, "em": {"image"}, "th": _ALIGN, "td": _ALIGN},
            url_schemes={"http", "https", "mailto"},
            link_rel="noopener noreferrer",
        )

    def markdown(self, body: str) -> str:
        """Comrak's HTML for BODY, before the citation pass and the sanitiser."""
        return comrak.render_markdown(
            body,
            extension_options=self.extensions,
            parse_options=self.parsing,
            render_options=self.rendering,
        )

    def render(self, body: str, references: Mapping[int, Reference]) -> str:
        """The body as HTML; markers citing an id not in REFERENCES stay plain text."""
        html = _ADJUST.sub(_adjust, self.markdown(body))
        if "<h1>" in html:
            html = _HEADING.sub(_shift_heading, html)
        # Citation links are made from digits and known ids only, after the sanitiser: it need
        # not parse and re-serialise dozens of them per page.
        return link_citations(self.cleaner.clean(html), references)


def link_citations(html: str, references: Mapping[int, Reference]) -> str:
    """Every marker in the text of HTML as a superscript of links (the same marker, the same HTML)."""
    if "[" not in html and "data-escaped-char" not in html:
        return html
    made: dict[str, str] = {}  # most pages cite the same few markers over and over

    def replace(match: re.Match[str]) -> str:
        text = match[0]
        found = made.get(text)
        if found is None:
            if match.lastgroup == "marker":
                ids = cited_ids(text[1:-1])
                found = text if ids is None else _citation(ids, references)
            elif match.lastgroup == "escaped":
                found = match["escaped"]
            else:  # a link, code or an image's description
                found = text
            made[text] = found
        return found

    pattern = _CITATION if any(kind in html for kind in _KEPT_WHOLE) else _MARKER
    return pattern.sub(replace, html)


def cited_ids(inner: str) -> tuple[int, ...] | None:
    """The ids of a marker's inside ("1, 3-5"), or None when it is malformed."""
    if inner.isdigit():
        return (int(inner),)
    ids: list[int] = []
    for part in inner.split(","):
        bounds = [int(b) for b in re.split(r"\s*[-–]\s*", part.strip())]
        if bounds[-1] < bounds[0] or bounds[-1] - bounds[0] > MAX_RANGE:
            return None
        ids.extend(range(bounds[0], bounds[-1] + 1))
    return tuple(dict.fromkeys(ids))


def _adjust(match: re.Match[str]) -> str:
    href, label, code, alt, cell, align = match.groups()
    if label is not None:
        label = _INSIDE_LINK.sub(_inside_link, label) if "<" in label else label
        if href == "":  # no target, or one Comrak removed as unsafe: the text alone
            return label
        return f"{match.group(0)[: match.start('label') - match.start()]}{label}</a>"
    if code is not None:
        return match.group(0)
    if alt is not None:
        return _image(alt)
    return f'<{cell} class="align-{align}">'


def _inside_link(match: re.Match[str]) -> str:
    alt, escaped = match.groups()
    return _image(alt) if alt is not None else escaped


def _image(alt: str) -> str:
    """An image's description instead of the image (alt is escaped by Comrak already)."""
    return f'<em class="image">[Image: {alt}]</em>' if alt else ""


def _citation(ids: tuple[int, ...], references: Mapping[int, Reference]) -> str:
    parts = []
    for ref_id in ids:
        if ref_id in references:
            parts.append(
                f'<a href="#ref-{ref_id}"><span class="visually-hidden">Reference </span>{ref_id}</a>'
            )
        else:
            parts.append(str(ref_id))  # an unknown id (`check` reports it): no dead link
    return f'<sup class="cite">[{", ".join(parts)}]</sup>'


def _shift_heading(match: re.Match[str]) -> str:
    return f"<{match.group(1)}h{min(int(match.group(2)) + 1, 6)}>"
