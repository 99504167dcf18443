"""One parse of a Markdown body, for the checks and for the page alike.

Comrak (`comrak-ext`, Rust; CommonMark plus GFM tables and strikethrough) parses the body into
a tree whose every node has its line and column. One walk over that tree gives what the checks
read, and the same tree, rendered, is what readers get (`reviewflow.content.markup`), so the two
cannot disagree about what a paragraph or a citation is.

What the checks read (`Prose.text`): one line per paragraph, heading and table cell, its text
as readers see it (link text without the target, image descriptions, code spans and raw inline
HTML blanked with spaces, line breaks as spaces). Code blocks, HTML blocks and thematic breaks
are left out. A heading is a line of its own, so it is read (its claims and its citations
count) but never joins the sentence of the paragraph after it.

Citation markers (`reviewflow.content.citations.MARKER`) are those in text nodes only: never
in a link's text or target, an image's description, code, or across an escaped bracket (`\\[3]`)
or a line break. Where a bracket of marker shape still appears in `Prose.text` without being a
citation, its `[` is replaced by `［` (same length), so that the markers in the text are exactly
the citations the page links: the checks find them with one regular expression, in C.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from html import unescape
from typing import Any

import comrak

from reviewflow.content.citations import MARKER
from reviewflow.content.plainmarkdown import read_plain_body

EXTENSIONS = comrak.ExtensionOptions(table=True, strikethrough=True)
# Escaped characters become nodes of their own, so that `\[1]` never forms a marker.
PARSING = comrak.ParseOptions(escaped_char_spans=True, sourcepos_chars=True)
RENDERING = comrak.RenderOptions(escape=True)  # raw HTML shown as text, never passed through

# What the walk does with each kind of node, looked up by exact type (Comrak's node kinds cannot
# be subclassed): one dictionary lookup per node instead of a chain of isinstance calls.
_LEAF, _HEADING, _CELL, _HTML_BLOCK, _SKIPPED = range(5)  # blocks; any other kind holds blocks
_BLOCKS: dict[type[comrak.NodeValue[Any]], int] = {
    comrak.Paragraph: _LEAF,
    comrak.Heading: _HEADING,
    comrak.TableCell: _CELL,
    comrak.HtmlBlock: _HTML_BLOCK,
    comrak.CodeBlock: _SKIPPED,
    comrak.ThematicBreak: _SKIPPED,
}
_TEXT, _BREAK, _CODE, _HTML_INLINE, _NOT_CITING = range(5)  # inlines; any other kind holds inlines
_INLINES: dict[type[comrak.NodeValue[Any]], int] = {
    comrak.Text: _TEXT,
    comrak.SoftBreak: _BREAK,
    comrak.LineBreak: _BREAK,
    comrak.Code: _CODE,  # blanked, as raw inline HTML is
    comrak.HtmlInline: _HTML_INLINE,
    comrak.Link: _NOT_CITING,  # text inside them is no citation
    comrak.Image: _NOT_CITING,
    comrak.Escaped: _NOT_CITING,
}
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# Where CommonMark (and so Comrak's line numbers) ends a line: a lone carriage return too.
_LINE_ENDING = re.compile(r"\r\n?|\n")
NOT_A_MARKER = "［"  # stands for the `[` of a bracket that looks like a marker and is not one
# A `[` with no `]` after it on its line: in the citing nodes' texts, one to a line, where a
# marker may go on into the next node.
_UNCLOSED = re.compile(r"\[[^\]\n]*+(?:\n|\Z)")


@dataclass
class ParsedBody:
    """What the checks read from a body."""

    text: str
    line_starts: list[int]  # offset in text where each piece starts...
    line_places: list[tuple[int, int]]  # ...and its file line and 0-based column
    html: list[tuple[int, int]]  # raw HTML: (file line, 1-based column)
    headings: list[int]  # offset in text where each heading's line starts
    marker_insides: list[str]  # MARKER.findall(text), found on the way
    block_starts: list[int] | None = None  # offset in text of each block after the first, when known


def parse_body(body: str, body_line: int = 1, plain: bool = True) -> ParsedBody:
    """Parse BODY (whose first line is line BODY_LINE of its file) and walk its tree once; a
    plain body (`plainmarkdown.py`) needs no tree, unless PLAIN is false (for tests)."""
    if plain:
        read = _read_plain(body, body_line)
        if read is not None:
            text, starts, places, headings, insides, block_starts = read
            return ParsedBody(text, starts, places, [], headings, insides, block_starts)
    # str.split is seven times faster than the expression, and the same without a carriage return.
    lines = _LINE_ENDING.split(body) if "\r" in body else body.split("\n")
    walk = _Walk(lines, body_line - 1)
    walk.blocks(comrak.parse_document(body, EXTENSIONS, PARSING, RENDERING), 0)
    text, insides = walk.finish()
    return ParsedBody(
        text, walk.starts, walk.places, sorted(walk.html), walk.headings, insides, walk.block_starts
    )


# What parse_body reads from a plain body: the text, the starts of its text nodes and their places
# in the file, the headings' starts, the markers' insides and the blocks' starts (None: no block).
PlainRead = tuple[str, list[int], list[tuple[int, int]], list[int], list[str], list[int] | None]


def _python_read_plain(body: str, body_line: int) -> PlainRead | None:
    """What parse_body reads from BODY (whose first line is line BODY_LINE of its file) if it is
    plain (`plainmarkdown.py`), None if it is not: the reference of the extension written in C
    (content/bodyscan.c), which runs where that one is not built or is stale."""
    lines = body.split("\n")  # a carriage return is not plain
    walk = _Walk(lines, body_line - 1)
    if not read_plain_body(lines, body, walk):
        return None
    text, insides = walk.finish()
    return text, walk.starts, walk.places, walk.headings, insides, walk.block_starts


def parse_for_page(body: str) -> tuple[comrak.AstNode, list[tuple[comrak.AstNode, str]]]:
    """Parse BODY for its page: the tree, and the text nodes that hold citation markers (the
    same as `parse_body` finds, by the same rules, without collecting the prose)."""
    root = comrak.parse_document(body, EXTENSIONS, PARSING, RENDERING)
    cited: list[tuple[comrak.AstNode, str]] = []
    _citing_nodes(root, cited)
    return root, cited


class _Walk:
    """Collects the prose of the leaf blocks, with the way back to file lines and columns.

    On the way it drops the link from each node up to its parent. Each node refers to its
    children and to its parent, and the binding does not show that cycle to Python's garbage
    collector: left alone, every tree parsed stays in memory until the process ends (some 50 KB
    a body, hundreds of MB over the 10,000 texts a `check` or a `verify` from a fresh clone
    reads). Nothing walks a tree upwards, so the upward links go and a tree is freed as soon as
    nobody holds it. The walk reaches every node (the kinds it does not descend into have no
    children), so doing it here saves a second pass over the tree.

    The length of the text so far is passed along and returned rather than kept in an
    attribute, and the markers are found once, in the whole text (`finish`), not node by node.
    """

    def __init__(self, lines: list[str], line_offset: int) -> None:
        self.lines = lines
        self.line_offset = line_offset
        self.pieces: list[str] = []
        self.starts: list[int] = []
        self.places: list[tuple[int, int]] = []
        self.html: list[tuple[int, int]] = []
        self.citing: list[str] = []  # the texts of the nodes that cite and hold a `[`
        self.cell_start = -1  # the 0-based column where the table cell being read starts
        self.headings: list[int] = []
        self.block_starts: list[int] | None = None  # known to the plain reader only

    def blocks(self, node: comrak.AstNode, length: int) -> int:
        """Read the blocks under NODE into the text, whose LENGTH so far it returns updated."""
        for child in node.children:
            child.parent = None
            kind = _BLOCKS.get(type(child.node_value))
            if kind is None:
                length = self.blocks(child, length)  # the document, quotes, lists, items, tables, rows
            elif kind == _HTML_BLOCK:
                start = child.sourcepos.start
                self.html.append((start.line + self.line_offset, start.column))
            elif kind != _SKIPPED:  # a paragraph, heading or table cell
                if self.pieces:
                    self.pieces.append("\n")
                    length += 1
                if kind == _HEADING:
                    self.headings.append(length)
                self.cell_start = child.sourcepos.start.column - 1 if kind == _CELL else -1
                length = self.inlines(child, True, length)
        return length

    def inlines(self, node: comrak.AstNode, citing: bool, length: int) -> int:
        # The text nodes are most of the tree: they are read here, not in a method of their
        # own, with what they need in local names (a call and the lookups, saved 40 times a body).
        lines, line_offset, pieces, starts, places = (
            self.lines, self.line_offset, self.pieces, self.starts, self.places
        )  # fmt: skip
        for child in node.children:
            child.parent = None
            value = child.node_value
            kind = _INLINES.get(type(value))
            if kind == _TEXT:
                text: str = value.value  # type: ignore[attr-defined]
                start = child.sourcepos.start
                line, column = start.line, start.column - 1
                if self.cell_start >= 0:
                    column = self.column(line, column)
                source = lines[line - 1]
                if source.startswith(text, column):  # the common case: the text is spelt out as is
                    starts.append(length)
                    places.append((line + line_offset, column))
                else:
                    for offset, place in _align(text, source, column):
                        starts.append(length + offset)
                        places.append((line + line_offset, place))
                if "[" in text:
                    if citing:
                        self.citing.append(text)
                    else:  # text inside a link or an image, or after an escape
                        text = text.replace("[", NOT_A_MARKER)
                pieces.append(text)
                length += len(text)
            elif kind == _BREAK:
                pieces.append(" ")
                length += 1
            elif kind is None or kind == _NOT_CITING:  # emphasis, strong, strikethrough; links...
                length = self.inlines(child, citing and kind is None, length)
            else:
                length = self.blank(child, kind == _HTML_INLINE, length)
        return length

    def blank(self, node: comrak.AstNode, is_html: bool, length: int) -> int:
        """A code span or raw inline HTML: spaces, as wide as it is on its line."""
        start, end = node.sourcepos.start, node.sourcepos.end
        width = max(end.column - start.column + 1 if end.line == start.line else 1, 1)
        self.starts.append(length)
        self.places.append((start.line + self.line_offset, self.column(start.line, start.column - 1)))
        self.pieces.append(" " * width)
        if is_html:
            self.html.append((start.line + self.line_offset, start.column))
        return length + width

    def column(self, line: int, column: int) -> int:
        """The 0-based COLUMN the parser gave, corrected in a table cell: there it counts from
        the cell's text with each escaped pipe `\\|` already made one character."""
        if self.cell_start < 0:
            return column
        source = self.lines[line - 1]
        shift = 0
        while (escapes := source.count("\\|", self.cell_start, column + shift)) != shift:
            shift = escapes
        return column + shift

    def finish(self) -> tuple[str, list[str]]:
        """The text, where the markers are exactly those inside the text nodes that cite, and
        the insides of its markers (MARKER.findall).

        A marker can also form across nodes (`[1,` and `2]` on two lines, `[*3*]`): the page
        links none of those, so their `[` is made unlike a marker. Such a marker starts at a
        `[` of a text node that cites with no `]` after it in the node (a node that does not
        cite has no `[` left): when there is none, every marker of the text is inside one node."""
        text = "".join(self.pieces)
        if "[" not in text:
            return text, []
        if not _UNCLOSED.search("\n".join(self.citing)):
            return text, MARKER.findall(text)
        cited_spans, start = [], 0
        for node_text in self.pieces:
            if MARKER.search(node_text):  # blank pieces, breaks and line ends hold none
                cited_spans.append((start, start + len(node_text)))
            start += len(node_text)
        chars = list(text)
        for match in MARKER.finditer(text):
            index = bisect_right(cited_spans, (match.start(), len(text))) - 1
            if index < 0 or match.end() > cited_spans[index][1]:
                chars[match.start()] = NOT_A_MARKER
        text = "".join(chars)
        return text, MARKER.findall(text)


# A plain body read in C where the extension is built (reviewflow/content/bodyscan.c: one pass
# over the body's buffer, a string made only for the text and each marker's inside). Not built,
# stale, or REVIEWFLOW_PURE=1 (reviewflow/compiled.py): the Python reference above, the same read.
try:
    from reviewflow.content._bodyscan import read_plain as _read_plain
except ImportError:
    _read_plain = _python_read_plain


def _citing_nodes(node: comrak.AstNode, cited: list[tuple[comrak.AstNode, str]], citing: bool = True) -> None:
    """Add to CITED the text nodes under NODE that hold citation markers, by the rules `_Walk`
    reads them with, and drop each node's link to its parent (see `_Walk`)."""
    for child in node.children:
        child.parent = None
        value = child.node_value
        kind = _INLINES.get(type(value))
        if kind == _TEXT:
            text = value.value  # type: ignore[attr-defined]
            if citing and "[" in text and MARKER.search(text):
                cited.append((child, text))
        elif kind is None or kind == _NOT_CITING:  # blocks too: nothing under them is skipped
            _citing_nodes(child, cited, citing and kind is None)


def _align(value: str, line: str, column: int) -> list[tuple[int, int]]:
    """Where a text node's VALUE lines up with its SOURCE LINE from COLUMN on: (offset in value,
    0-based column) at its start and again after each escape or entity that made it shorter."""
    if line.startswith(value, column):
        return [(0, column)]
    points = [(0, column)]
    index, position = 0, column
    while index < len(value) and position < len(line):
        char = line[position]
        if char == "&" and (entity := _ENTITY.match(line, position)):
            decoded = unescape(entity.group())
            if value.startswith(decoded, index):
                index += len(decoded)
                position = entity.end()
                points.append((index, position))
                continue
        if char == value[index]:
            index += 1
            position += 1
        elif char == "\\" and line[position + 1 : position + 2] == value[index]:
            position += 1
            points.append((index, position))
        else:
            break  # the source does not spell the text out: keep the last place found
    return points
