"""Where the prose is in a Markdown body, by CommonMark's rules, without a full parse.

`check` needs only the paragraphs (and list items, quotes, table rows) of a body, with the
file line and column of every character, not a syntax tree. A full CommonMark parser
(markdown-it-py) costs ~2.4 ms for a 5 KB article; this scanner follows the same block rules
(CommonMark 0.31, https://spec.commonmark.org/0.31.2/) in one pass over the lines and costs a
tenth of that:

- container blocks: block quotes and list items, with lazy paragraph continuation lines;
- left out: fenced and indented code blocks, ATX and setext headings, thematic breaks, and
  the seven kinds of HTML block (comments, `<div>`, `<script>`, ...);
- inside the prose, code spans and raw inline HTML (tags, comments) are blanked with spaces
  (inline.py), so that offsets, and so lines and columns, stay those of the file.

A line that starts with `|` starts a block of its own (a table row, as GitHub-flavoured
Markdown reads it). Link reference definitions stay in the prose; `prose.py` skips them.
`tests/test_prose_commonmark.py` compares the outcome with markdown-it-py's on many generated
documents.
"""

from __future__ import annotations

import re

from reviewflow.content.inline import CLOSE_TAG, OPEN_TAG

# One line of prose: (0-based line index in the body, 0-based column of its first character,
# the text from there, trailing whitespace removed).
Line = tuple[int, int, str]

_QUOTE = -1  # a block quote in the container stack; a list item is its content width (>= 1)

_LIST_MARKER = re.compile(r"[-+*]|(\d{1,9})[.)]")
# A list item at the margin whose text starts right away (no code, quote or other block in it).
_SIMPLE_ITEM = re.compile(r"(?:[-+*]|(\d{1,9})[.)]) {1,4}(?=[^\s`~#*_+=<>|0-9-])")
_THEMATIC_BREAK = re.compile(r"(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})\s*$")
_SETEXT_UNDERLINE = re.compile(r"(?:=+|-+)\s*$")
_ATX_HEADING = re.compile(r"#{1,6}(?:\s|$)")
_FENCE_OPEN = re.compile(r"(`{3,})([^`]*)$|(~{3,})")
_BLOCK_NAMES = (
    "address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|details|"
    "dialog|dir|div|dl|dt|fieldset|figcaption|figure|footer|form|frame|frameset|h1|h2|h3|h4|h5|"
    "h6|head|header|hr|html|iframe|legend|li|link|main|menu|menuitem|nav|noframes|ol|optgroup|"
    "option|p|param|search|section|summary|table|tbody|td|tfoot|th|thead|title|tr|track|ul"
)
_BLANK_ENDS = None  # HTML blocks of kinds 6 and 7 end at a blank line
# The seven HTML block starts (spec 4.6): pattern, end condition, whether it can interrupt a
# paragraph.
_HTML_BLOCKS: list[tuple[re.Pattern[str], re.Pattern[str] | None, bool]] = [
    (
        re.compile(r"<(?:script|pre|style|textarea)(?:\s|>|$)", re.IGNORECASE),
        re.compile(r"</(?:script|pre|style|textarea)>", re.IGNORECASE),
        True,
    ),
    (re.compile(r"<!--"), re.compile(r"-->"), True),
    (re.compile(r"<\?"), re.compile(r"\?>"), True),
    (re.compile(r"<![A-Za-z]"), re.compile(r">"), True),
    (re.compile(r"<!\[CDATA\["), re.compile(r"\]\]>"), True),
    (re.compile(rf"</?(?:{_BLOCK_NAMES})(?:\s|/?>|$)", re.IGNORECASE), _BLANK_ENDS, True),
    (re.compile(rf"(?:{OPEN_TAG}|{CLOSE_TAG})\s*$"), _BLANK_ENDS, False),
]
# A line starting with none of these (after its indentation) is paragraph text.
_MAYBE_SPECIAL = frozenset("`~#*-_+=<>|0123456789")


def _skip_indent(line: str, pos: int, col: int) -> tuple[int, int]:
    """The first character after spaces and tabs from POS, and its column (tabs stop every 4)."""
    length = len(line)
    while pos < length:
        char = line[pos]
        if char == " ":
            col += 1
        elif char == "\t":
            col = (col // 4 + 1) * 4
        else:
            break
        pos += 1
    return pos, col


def _consume(line: str, pos: int, col: int, columns: int) -> tuple[int, int]:
    """Advance COLUMNS columns; a tab that is only partly consumed stays, its rest as indent."""
    target = col + columns
    length = len(line)
    while col < target and pos < length:
        if line[pos] == "\t":
            stop = (col // 4 + 1) * 4
            if stop > target:
                return pos, target
            col = stop
        else:
            col += 1
        pos += 1
    return pos, col


def _html_block_start(line: str, pos: int) -> tuple[re.Pattern[str] | None, bool] | None:
    for start, end, interrupts in _HTML_BLOCKS:
        if start.match(line, pos):
            return end, interrupts
    return None


def _interrupts_paragraph(line: str, pos: int, indent: int) -> bool:
    """Whether a line (after its containers) starts a block that ends a paragraph, other than
    a block quote or list item (those are looked for first)."""
    if indent >= 4:
        return False
    char = line[pos]
    if char not in _MAYBE_SPECIAL:
        return False
    if char == "#":
        return bool(_ATX_HEADING.match(line, pos))
    if char in "`~":
        return bool(_FENCE_OPEN.match(line, pos))
    if char in "*-_":
        return bool(_THEMATIC_BREAK.match(line, pos))
    if char == "<":
        start = _html_block_start(line, pos)
        return start is not None and start[1]
    return char == "|"


def prose_blocks(body: str, html_starts: list[tuple[int, int]] | None = None) -> list[list[Line]]:
    """The prose of BODY: each block (paragraph, table row) as its lines.

    HTML_STARTS, when given, collects where each HTML block starts: (0-based line and column)."""
    scan = _Scan(html_starts)
    blocks, containers, empty_items = scan.blocks, scan.containers, scan.empty_items
    # The short cut below is most of what `check` spends here, so the open paragraph lives in a
    # local, handed to _Scan.line for a line the short cut leaves to the general rules and
    # taken back after it (the scan holds none in between).
    paragraph: list[Line] | None = None
    in_code_or_html = False
    if "\r" in body:
        body = body.replace("\r\n", "\n")  # the \r would hide blank lines; columns stay right
    for index, line in enumerate(body.split("\n")):
        if not in_code_or_html and _QUOTE not in containers:
            # The common lines, at the margin outside code, HTML and quotes, take a short cut
            # that ends where the general rules (_Scan.line) would.
            if not line:
                if True not in empty_items:
                    if paragraph is not None:
                        blocks.append(paragraph)
                        paragraph = None
                    continue
            elif line[0] not in _MAYBE_SPECIAL and not line[0].isspace():
                # Text: a lazy continuation of a list item's paragraph, else a paragraph.
                if paragraph is not None:
                    paragraph.append((index, 0, line.rstrip()))
                else:
                    if containers:
                        scan.close_containers(0)
                    paragraph = [(index, 0, line.rstrip())]
                continue
            elif line[0] == "#" and _ATX_HEADING.match(line):
                if paragraph is not None:
                    blocks.append(paragraph)
                    paragraph = None
                if containers:
                    scan.close_containers(0)
                continue
            elif (simple := _SIMPLE_ITEM.match(line)) is not None and (
                simple.group(1) is None or paragraph is None or containers or int(simple.group(1)) == 1
            ):
                if paragraph is not None:
                    blocks.append(paragraph)
                if containers:
                    scan.close_containers(0)
                width = simple.end()
                containers.append(width)
                empty_items.append(False)
                paragraph = [(index, width, line[width:].rstrip())]
                continue
        scan.paragraph = paragraph
        scan.line(index, line)
        paragraph, scan.paragraph = scan.paragraph, None
        in_code_or_html = scan.fence is not None or scan.in_html
    if paragraph is not None:
        blocks.append(paragraph)
    return blocks


class _Scan:
    """Where a scan of a body's lines stands: the blocks found, the open containers and the
    open leaf block (a paragraph, fenced code or HTML), and the general rules that move it on."""

    __slots__ = (
        "blocks",
        "containers",
        "empty_items",
        "fence",
        "html_end",
        "html_starts",
        "in_html",
        "paragraph",
    )

    def __init__(self, html_starts: list[tuple[int, int]] | None) -> None:
        self.blocks: list[list[Line]] = []
        self.paragraph: list[Line] | None = None  # the open one (a setext underline may yet drop it)
        self.containers: list[int] = []
        self.empty_items: list[bool] = []  # per container: a list item that has no content yet
        self.fence: tuple[str, int] | None = None  # the open fenced code block: its character and length
        self.html_end: re.Pattern[str] | None = None  # what ends the open HTML block (None: a blank line)
        self.in_html = False
        self.html_starts = html_starts

    def close_paragraph(self) -> None:
        if self.paragraph is not None:
            self.blocks.append(self.paragraph)
            self.paragraph = None

    def close_containers(self, keep: int) -> None:
        """Close every container after the first KEEP, and whatever block is open in them."""
        if keep < len(self.containers):
            self.close_paragraph()
            self.fence, self.in_html = None, False
            del self.containers[keep:], self.empty_items[keep:]

    def line(self, index: int, line: str) -> None:
        """Line INDEX by CommonMark's general rules, in the spec's order."""
        matched, pos, col = self.continued_containers(line)
        all_matched = matched == len(self.containers)
        if self.fence is not None or self.in_html:
            if all_matched:
                self.code_or_html_line(line, pos, col)
                return
            self.close_containers(matched)
        opened, matched, pos, col = self.open_containers(line, matched, pos, col, all_matched)
        start, start_col = _skip_indent(line, pos, col)
        indent = start_col - col
        blank = start >= len(line)
        if not blank and True in self.empty_items:
            self.empty_items[:] = [False] * len(self.empty_items)
        # 4. A lazy continuation line, or the end of the containers it does not continue.
        if not opened and not all_matched:
            if self.paragraph is not None and not blank and not _interrupts_paragraph(line, start, indent):
                self.paragraph.append((index, start, line[start:].rstrip()))
                return
            self.close_containers(matched)
        self.leaf_line(index, line, start, start_col, indent, blank)

    def continued_containers(self, line: str) -> tuple[int, int, int]:
        """1. How many of the open containers LINE continues, and where (index, column) their
        markers and indentation end."""
        containers, pos, col, matched = self.containers, 0, 0, 0
        while matched < len(containers):
            width = containers[matched]
            start, start_col = _skip_indent(line, pos, col)
            if width == _QUOTE:
                if start_col - col > 3 or start >= len(line) or line[start] != ">":
                    break
                pos, col = _after_quote_marker(line, start, start_col)
            elif start >= len(line):
                if self.empty_items[matched]:
                    break  # a list item can begin with at most one blank line
            elif start_col - col >= width:
                pos, col = _consume(line, pos, col, width)
            else:
                break
            matched += 1
        return matched, pos, col

    def code_or_html_line(self, line: str, pos: int, col: int) -> None:
        """2. A line inside fenced code or an HTML block belongs to it; it may close it."""
        start, start_col = _skip_indent(line, pos, col)
        if self.fence is not None:
            if start_col - col <= 3 and _closes_fence(line, start, self.fence):
                self.fence = None
        elif self.html_end is None:
            self.in_html = start < len(line)
        elif self.html_end.search(line, start):
            self.in_html = False

    def open_containers(
        self, line: str, matched: int, pos: int, col: int, all_matched: bool
    ) -> tuple[bool, int, int, int]:
        """3. The block quotes and list items LINE opens after the MATCHED ones it continues:
        whether it opened any, how many are open now, and where their markers end."""
        opened = False
        while True:
            start, start_col = _skip_indent(line, pos, col)
            if start >= len(line) or start_col - col >= 4:
                break
            char = line[start]
            if char == ">":
                self.close_containers(matched)
                self.close_paragraph()
                self.containers.append(_QUOTE)
                self.empty_items.append(False)
                pos, col = _after_quote_marker(line, start, start_col)
            else:
                if char not in "-+*0123456789":
                    break
                item = _list_item(line, pos, col, start, start_col)
                if item is None or _THEMATIC_BREAK.match(line, start):
                    break
                width, ordered_start, empty = item
                interrupting = self.paragraph is not None and all_matched and not opened
                if interrupting and (empty or ordered_start not in (None, 1)):
                    break  # only a non-empty item numbered 1 or a bullet interrupts a paragraph
                self.close_containers(matched)
                self.close_paragraph()
                self.containers.append(width)
                self.empty_items.append(empty)
                pos, col = _consume(line, pos, col, width)
            matched += 1
            opened = True
        return opened, matched, pos, col

    def leaf_line(self, index: int, line: str, start: int, start_col: int, indent: int, blank: bool) -> None:
        """5. The leaf block a line starts or continues, its text from START (at START_COL)."""
        if blank:
            self.close_paragraph()
            return
        if indent >= 4:
            if self.paragraph is not None:
                self.paragraph.append((index, start, line[start:].rstrip()))
            return  # otherwise indented code
        if line[start] in _MAYBE_SPECIAL and self.starts_other_block(index, line, start, start_col):
            return
        text = line[start:].rstrip()
        if self.paragraph is None:
            self.paragraph = [(index, start, text)]
        else:
            self.paragraph.append((index, start, text))

    def starts_other_block(self, index: int, line: str, start: int, start_col: int) -> bool:
        """Whether the line is a fence, heading, setext underline, thematic break or HTML block
        start (taken here), rather than text. A table row closes the paragraph before it."""
        char = line[start]
        if char in "`~" and (opening := _FENCE_OPEN.match(line, start)):
            self.close_paragraph()
            run = opening.group(1) or opening.group(3)
            self.fence = (run[0], len(run))
            return True
        if char == "#" and _ATX_HEADING.match(line, start):
            self.close_paragraph()
            return True
        if char in "=-" and self.paragraph is not None and _SETEXT_UNDERLINE.match(line, start):
            self.paragraph = None  # the paragraph was a heading
            return True
        if char in "*-_" and _THEMATIC_BREAK.match(line, start):
            self.close_paragraph()
            return True
        if char == "<" and (html := _html_block_start(line, start)) is not None:
            end, interrupts = html
            if self.paragraph is None or interrupts:
                self.close_paragraph()
                if self.html_starts is not None:
                    self.html_starts.append((index, start_col))
                self.html_end = end
                self.in_html = end is None or not end.search(line, start)
                return True
        if char == "|":
            self.close_paragraph()
        return False


def _after_quote_marker(line: str, start: int, start_col: int) -> tuple[int, int]:
    """Where a block quote's content starts: after its `>` and one optional space."""
    pos, col = start + 1, start_col + 1
    if pos < len(line) and line[pos] in " \t":
        return _consume(line, pos, col, 1)
    return pos, col


def _closes_fence(line: str, start: int, fence: tuple[str, int]) -> bool:
    char, length = fence
    end = start
    while end < len(line) and line[end] == char:
        end += 1
    return end - start >= length and not line[end:].strip()


def _list_item(
    line: str, pos: int, col: int, start: int, start_col: int
) -> tuple[int, int | None, bool] | None:
    """A list item starting at START: its content width from POS, its ordered start number
    (None for a bullet), and whether it starts empty. None when the line starts no item."""
    marker = _LIST_MARKER.match(line, start)
    if marker is None:
        return None
    after = marker.end()
    marker_end_col = start_col + (after - start)
    if after < len(line) and line[after] not in " \t":
        return None
    number = int(marker.group(1)) if marker.group(1) else None
    content, content_col = _skip_indent(line, after, marker_end_col)
    spaces = content_col - marker_end_col
    empty = content >= len(line)
    if empty or spaces > 4:
        spaces = 1  # the content starts one space after the marker (an indented code block)
    return marker_end_col - col + spaces, number, empty
