"""The prose scanner against a real CommonMark parser, on generated documents.

`reviewflow.content.commonmark` finds the prose of a body without a full parse. Here markdown-it-py
(the parser `publish` renders with) is the reference: for thousands of documents built from
lines that exercise code spans, fenced and indented code, HTML blocks and comments, headings,
thematic breaks, lists, quotes, lazy continuation and tabs, both must find the same citation
markers at the same lines and columns.
"""

from __future__ import annotations

import random

import pytest
from markdown_it import MarkdownIt

from reviewflow.content.inline import blank_inline
from reviewflow.content.prose import MARKER, read_prose

# {m} becomes a marker unique in its document, so its line and column can be found in the source.
FRAGMENTS = [
    "Word word {m}.", "Plain text {m} and more.", "Use `x{m}` here {m}.", "Two ``a ` {m}`` ticks {m}.",
    "Open ` tick {m}", "close ` tick", "a <!-- {m} --> b {m}", "<!-- start {m}", "end {m} -->",
    '<span title="{m}">x</span> {m}', "<https://x.org/{m}> {m}", "    code {m}", "     code5 {m}",
    "```", "~~~", "````", "``` x`y {m}", "<div>", "</div>", '<div class="a">{m}', "<script>", "</script>",
    "<custom-tag>", "<custom-tag> {m}", "# H {m}", "## H2", "===", "---", "***", "- - -", "___",
    "- item {m}", "* star {m}", "+ plus", "1. one {m}", "2) two {m}", "-", "1.", "  - nested {m}",
    "   continued {m}", "  cont2 {m}", "      deep {m}", "> q {m}", ">     qcode {m}",
    "> - qitem {m}", ">", "> ```", "\tcode tab {m}", "-\ttab item {m}", "", "", "", "text `` {m}",
    "`{m}`", "\\`not code {m}`", "a `b\\` {m}", "<?php {m} ?>", "<!DOCTYPE x> {m}", "10. ten {m}",
    "    - indented item {m}", " > spaced quote {m}", "- > item quote {m}", "- ```", "  ```",
    "<pre>", "</pre> {m}", "<textarea>{m}</textarea>", '<a href="x">{m}</a>', "Windows line {m}\r",
]  # fmt: skip
# Nested quotes go in a second set without indented lines: after `> > text`, markdown-it reads
# a lazy line indented by four spaces as code, where CommonMark (and this scanner) continue
# the paragraph.
NESTED_QUOTES = [
    *(f for f in FRAGMENTS if not f.startswith(("    ", "      ", "\t"))),
    "> > qq {m}", "> > > qqq {m}", ">> tight {m}",
]  # fmt: skip


REFERENCE = MarkdownIt("commonmark")


def document(rng: random.Random, fragments: list[str]) -> str:
    numbers = iter(range(1, 10**6))
    lines = [
        rng.choice(fragments).replace("{m}", "{}").format(*(f"[{next(numbers)}]" for _ in range(3)))
        for _ in range(rng.randint(1, 14))
    ]
    return "\n".join(lines) + "\n"


def reference_markers(source: str) -> set[tuple[int, int, str]]:
    """The markers markdown-it puts in the text of paragraphs, where they are in SOURCE."""
    tokens = REFERENCE.parse(source)
    texts = {
        match.group(0)
        for index, token in enumerate(tokens)
        if token.type == "inline" and tokens[index - 1].type != "heading_open"
        for child in token.children or []
        if child.type == "text"
        for match in MARKER.finditer(child.content)
    }
    return {
        (number, line.index(text) + 1, text)
        for number, line in enumerate(source.split("\n"), start=1)
        for text in texts
        if text in line
    }


def scanned_markers(source: str) -> set[tuple[int, int, str]]:
    prose = read_prose(source, 1)
    return {(*prose.locate(citation.offset), citation.text) for citation in prose.citations}


@pytest.mark.parametrize(("fragments", "seed"), [(FRAGMENTS, 1), (FRAGMENTS, 2), (NESTED_QUOTES, 3)])
def test_same_markers_as_markdown_it(fragments: list[str], seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(1500):
        source = document(rng, fragments)
        assert scanned_markers(source) == reference_markers(source), source


def test_a_body_without_markdown_is_its_own_prose() -> None:
    prose = read_prose("First line [1]\nsecond line.\n\nNext block.\n", 10)
    assert prose.text == "First line [1] second line.\nNext block."
    assert prose.locate(prose.text.index("second")) == (11, 1)
    assert prose.locate(prose.text.index("Next")) == (13, 1)


@pytest.mark.parametrize(
    ("text", "blanked"),
    [
        ("a `b` c", "a     c"),
        ("a ``b ` c`` d", "a           d"),
        ("a \\`b` c", "a \\`b` c"),  # an escaped backtick opens nothing; the other one is alone
        ("a `b c", "a `b c"),
        ("x <!-- y --> z", "x            z"),
        ('x <span class="q">y</span> z', "x " + " " * 16 + "y" + " " * 7 + " z"),
        ("x <https://e.org/`a`> z", "x <https://e.org/`a`> z"),  # an autolink comes first
        ("x < y and y > z", "x < y and y > z"),
    ],
)
def test_code_spans_and_inline_html_are_blanked(text: str, blanked: str) -> None:
    assert blank_inline(text) == blanked
