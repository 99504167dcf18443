"""An article body, Markdown in, safe HTML out, with its citation markers linked.

Bodies are untrusted input. CommonMark (plus tables and strikethrough) is parsed with raw HTML
switched off, so `<script>` and friends arrive as text; the HTML that comes out then passes an
allow-list sanitiser (nh3) as a second wall. Citation markers (`[1]`, `[1, 2]`, `[2-4]`, the
syntax `reviewflow.prose.MARKER` defines) become superscript links to `#ref-N`, read out as
"Reference N". Images would be requests outside the site, so readers get their description.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from reviewflow.article import Reference
from reviewflow.prose import MARKER, MAX_RANGE

ALLOWED_TAGS = {
    "p", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "a", "em", "strong", "code", "pre",
    "blockquote", "hr", "br", "table", "thead", "tbody", "tr", "th", "td", "sup", "span", "s",
}  # fmt: skip
_ALIGN = {"align-left", "align-center", "align-right"}


class BodyRenderer:
    """One Markdown parser and one sanitiser, built once and reused for every body."""

    def __init__(self) -> None:
        self.markdown = MarkdownIt("commonmark", {"html": False}).enable("table").enable("strikethrough")
        self.markdown.inline.ruler.before("link", "citation", _citation_rule)
        self.markdown.core.ruler.push("reviewflow_blocks", _adjust_blocks)
        self.markdown.add_render_rule("citation", _render_citation)
        self.markdown.add_render_rule("image", _render_image)
        self.cleaner = nh3.Cleaner(
            tags=ALLOWED_TAGS,
            attributes={"a": {"href", "title"}, "ol": {"start"}},
            allowed_classes={"sup": {"cite"}, "span": {"visually-hidden"}, "th": _ALIGN, "td": _ALIGN},
            url_schemes={"http", "https", "mailto"},
            link_rel="noopener noreferrer",
        )

    def render(self, body: str, references: Mapping[int, Reference]) -> str:
        """The body as HTML; markers citing an id not in REFERENCES stay plain text."""
        return self.cleaner.clean(self.markdown.render(body, {"cited": references}))


def cited_ids(inner: str) -> tuple[int, ...] | None:
    """The ids of a marker's inside ("1, 3-5"), or None when it is malformed."""
    ids: list[int] = []
    for part in inner.split(","):
        bounds = [int(b) for b in re.split(r"\s*[-–]\s*", part.strip())]
        if bounds[-1] < bounds[0] or bounds[-1] - bounds[0] > MAX_RANGE:
            return None
        ids.extend(range(bounds[0], bounds[-1] + 1))
    return tuple(dict.fromkeys(ids))


def _citation_rule(state: StateInline, silent: bool) -> bool:
    src, pos = state.src, state.pos
    if src[pos] != "[" or pos + 1 >= state.posMax or not src[pos + 1].isdigit() or state.linkLevel > 0:
        return False
    match = MARKER.match(src, pos)
    ids = cited_ids(match.group(1)) if match else None
    if match is None or ids is None:
        return False
    if not silent:
        token = state.push("citation", "sup", 0)
        token.meta = {"ids": ids}
    state.pos = match.end()
    return True


def _render_citation(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    cited: Mapping[int, Reference] = env.get("cited", {})
    parts = []
    for ref_id in tokens[idx].meta["ids"]:
        if ref_id in cited:
            parts.append(
                f'<a href="#ref-{ref_id}"><span class="visually-hidden">Reference </span>{ref_id}</a>'
            )
        else:
            parts.append(str(ref_id))  # an unknown id (`check` reports it): no dead link
    return f'<sup class="cite">[{", ".join(parts)}]</sup>'


def _render_image(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    alt = self.renderInlineAsText(tokens[idx].children or [], options, env)
    return f"<em>[Image: {_escape(alt)}]</em>" if alt else ""


def _adjust_blocks(state: Any) -> None:
    """Keep the page's one h1 (the title), and turn table alignment into classes (no inline CSS)."""
    tokens: list[Token] = state.tokens
    shift = any(t.type == "heading_open" and t.tag == "h1" for t in tokens)
    for token in tokens:
        if shift and token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"
        style = token.attrs.get("style") if token.attrs else None
        if isinstance(style, str) and style.startswith("text-align:"):
            del token.attrs["style"]
            token.attrSet("class", "align-" + style.split(":", 1)[1])


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
