"""The plain Markdown that article bodies nearly always are, read without building a tree.

Comrak's parse into Python nodes and the walk over them (`markdown.py`) cost about 0.15 ms per
body, a sixth of a cold `check`. Most bodies use a small, regular part of Markdown: `#`
headings, paragraphs of lines that start at the margin, and `-` or `+` list items of one
paragraph each, with no inline markup but citation markers. For such a body the tree adds
nothing: each line of text is one text node, as written, and a paragraph's lines are joined
by a space (a soft break). `read_plain_body` reads exactly that and fills the same pieces as
the walk, which then finishes the text (`_Walk.finish`), so the prose, its places and its
markers are the same as Comrak's; on anything else (a character that can start inline markup
or a block of another kind, an indented line, a tab, a blank line of spaces, a link
definition, ...) it returns False and Comrak reads the body.
`tests/test_plainmarkdown.py` holds the two paths to the same answers.

Where the extension is built, `content/bodyscan.c` reads plain bodies in C instead, by exactly
these rules (and the walk's `finish`); this module and `markdown._python_read_plain` are its
reference, which `tests/test_bodyscan.py` holds it to: a change of what is plain here is made
there too.
"""

from __future__ import annotations

import re
from itertools import accumulate, compress
from typing import Protocol

# The characters that can start inline markup (code, escapes, emphasis but `**`, entities, raw
# HTML and autolinks, strikethrough, table cells) or change a line or its break (a tab, a
# carriage return, a vertical tab or form feed, NUL): each looked for by `in`, a scan in C
# (a character class tried at every character costs twenty times as much). Comrak reads the
# other ASCII control characters as letters.
_UNSAFE_ASCII = ("`", "\\", "_", "&", "<", ">", "~", "|", "\t", "\r", "\x0b", "\x0c", "\x00")
# Beyond ASCII: white space to CommonMark or to Python, control characters, and surrogates
# (which Comrak refuses; chr() because mypyc compiles no surrogate in a string literal).
_SURROGATES = f"{chr(0xD800)}-{chr(0xDFFF)}"
_UNSAFE_NON_ASCII = re.compile(f"[\x80-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000{_SURROGATES}]")
# An inline link, a reference link, a link definition: a bracket may be a link.
_LINK = re.compile(r"\][(\[:]")
# A line that starts any block but a paragraph when it stands at the margin: a heading, a quote,
# a list item, a thematic break or setext underline, HTML, a fence, a table, indented code.
_BLOCK_START = " #>-+*=_<`~|"
_DIGITS = "0123456789"  # a line that starts with digits may be an ordered list's item
_LOOK_CLOSER = frozenset(_BLOCK_START + _DIGITS)
_ORDERED = re.compile(r"[0-9]{1,9}[.)](?: |$)")
_HEADING = re.compile(r"#{1,6} (?=[^ ])")
# Strong emphasis of the one shape authors use, `**Word ... word.**`, between spaces or at the
# ends of the text: only left-flanking at its start and only right-flanking at its end, so it
# pairs as written, whatever else the line holds. Any other `*` is not plain.
_STRONG = re.compile(r"(?<![^ ])\*\*([A-Za-z0-9](?:[^*]*[A-Za-z0-9.])?)\*\*(?![^ ])")


class Pieces(Protocol):
    """What the walk over Comrak's tree collects (`markdown._Walk`), filled here instead."""

    line_offset: int
    pieces: list[str]
    starts: list[int]
    places: list[tuple[int, int]]
    citing: list[str]
    headings: list[int]
    block_starts: list[int] | None


def read_plain_body(lines: list[str], body: str, into: Pieces) -> bool:
    """Fill INTO with the text nodes of BODY (split into LINES) as Comrak would make them, and
    say so; False, with INTO left as it was, when BODY is not plain."""
    if not _safe(body):
        return False
    # Each text node: its text, its place in the file, and what comes before it in the prose
    # (a line break between blocks, a space between the lines of a paragraph, nothing inside
    # a line); and the nodes that start a heading.
    texts: list[str] = []
    places: list[tuple[int, int]] = []
    breaks: list[str] = []
    headings: list[int] = []
    if " \n" in body or body.endswith(" "):
        return False  # trailing spaces: a hard break, or stripped
    starred = "*" in body  # else no line needs looking at for strong emphasis
    line_offset = into.line_offset + 1
    previous = _BLANK
    for index, line in enumerate(lines):
        if not line:
            previous = _BLANK
            continue
        first = line[0]
        if first not in _LOOK_CLOSER:  # most lines: a paragraph's
            kind, column = _PARAGRAPH, 0
        elif first == "-" and line[1:2] == " " and line[2] not in _LOOK_CLOSER:
            kind, column = _ITEM_LINE, 2  # the common list item, as _line_kind finds it
        else:
            kind, column = _line_kind(line)
            if kind == _OTHER:
                return False
            if kind == _HEADING_LINE:
                headings.append(len(texts))
        if kind == _PARAGRAPH and previous == _ITEM_LINE:
            return False  # a lazy continuation of a list item
        breaks.append(" " if kind == previous == _PARAGRAPH else "\n")
        previous = kind
        if starred and "*" in line:
            if not _strong_nodes(line, index + line_offset, column, texts, places, breaks):
                return False
        else:
            texts.append(line[column:] if column else line)
            places.append((index + line_offset, column))
    _fill(texts, places, breaks, headings, into)
    return True


def _safe(body: str) -> bool:
    """Whether BODY holds no character that can start inline markup or another block than the
    plain ones, and no bracket that can be a link."""
    if any(map(body.__contains__, _UNSAFE_ASCII)):
        return False
    if not body.isascii() and _UNSAFE_NON_ASCII.search(body):
        return False
    return _LINK.search(body) is None


_BLANK, _PARAGRAPH, _CONTINUED, _HEADING_LINE, _ITEM_LINE, _OTHER = range(6)


def _line_kind(line: str) -> tuple[int, int]:
    """What a line that is not blank and has no trailing space starts, and the column where its
    text starts."""
    if _opens_paragraph(line):
        return _PARAGRAPH, 0
    first = line[0]
    if first == "#":
        heading = _HEADING.match(line)
        if heading is None or line[-1] == "#":
            return _OTHER, 0  # not a heading, or one with a closing sequence
        return _HEADING_LINE, heading.end()
    if (first == "-" or first == "+") and line[1:2] == " " and _opens_paragraph(line[2:]):
        return _ITEM_LINE, 2
    return _OTHER, 0  # another kind of block, or of block inside an item


def _opens_paragraph(text: str) -> bool:
    """Whether TEXT, at the start of a block, starts a paragraph (and no other block)."""
    first = text[0]
    if first not in _LOOK_CLOSER:
        return True
    if first in _DIGITS:
        return _ORDERED.match(text) is None
    return first == "*" and _STRONG.match(text) is not None


def _fill(
    texts: list[str], places: list[tuple[int, int]], breaks: list[str], headings: list[int], into: Pieces
) -> None:
    """INTO's pieces, starts, places, citing texts and headings, as the walk adds them
    (`markdown._Walk.blocks`), from the text nodes found (TEXTS, PLACES, BREAKS before each;
    HEADINGS: the indexes of the nodes that start one), computed in bulk, not node by node."""
    if not texts:
        return
    pieces = [""] * (2 * len(texts) - 1)
    pieces[0::2] = texts
    pieces[1::2] = breaks[1:]  # nothing before the first block
    # Where each node starts: the lengths of the pieces before it, summed.
    starts = list(accumulate(map(len, pieces), initial=0))[0::2]
    into.pieces += pieces
    into.starts += starts
    into.places += places
    into.citing += [text for text in texts if "[" in text]
    into.headings += [starts[index] for index in headings]
    into.block_starts = list(compress(starts[1:], map("\n".__eq__, breaks[1:])))


def _strong_nodes(
    line: str,
    number: int,
    column: int,
    texts: list[str],
    places: list[tuple[int, int]],
    breaks: list[str],
) -> bool:
    """Add the text nodes of a LINE with strong emphasis (file line NUMBER, text from COLUMN):
    the text around each `**…**` and the text inside it; False, adding none, when the line
    has any other `*`."""
    if "*" in _STRONG.sub("", line[column:]):
        return False
    spans: list[tuple[int, int]] = []  # (start, end) in LINE
    position = column
    for match in _STRONG.finditer(line, column):
        spans += [(position, match.start()), match.span(1)]
        position = match.end()
    spans.append((position, len(line)))
    first = True
    for start, end in spans:
        if start < end:
            if not first:
                breaks.append("")  # the line's first node has the line's break
            first = False
            texts.append(line[start:end])
            places.append((number, start))
    return True
