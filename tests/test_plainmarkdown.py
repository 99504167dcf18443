"""The plain body reader against Comrak's tree, on real and generated bodies.

`reviewflow.content.plainmarkdown` reads the common, plain part of Markdown without building a
tree. For every body it takes, what the checks read (the text, the place of every piece in the
file, the headings, the markers) must be exactly what the walk over Comrak's tree gives; for
anything else it must decline, so that Comrak reads it. Generated bodies mix the lines authors
write with the constructs that are easy to get wrong: setext underlines, lazy continuations,
ordered items, emphasis, links and definitions, trailing spaces, tabs, odd white space.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

import pytest

from reviewflow.content.frontmatter import read_article_bytes
from reviewflow.content.markdown import ParsedBody, parse_body
from reviewflow.content.plainmarkdown import read_plain_body
from reviewflow.content.prose import Prose, read_prose
from tests.conftest import PROJECT


@dataclass
class Collected:
    """What read_plain_body fills (the walk's lists)."""

    line_offset: int = 0
    pieces: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    places: list[tuple[int, int]] = field(default_factory=list)
    citing: list[str] = field(default_factory=list)
    headings: list[int] = field(default_factory=list)
    block_starts: list[int] | None = None


def is_plain(body: str) -> bool:
    return read_plain_body(body.split("\n"), body, Collected())


def assert_same(body: str) -> bool:
    """Whether the plain reader took BODY; its answer is Comrak's either way, and so are the
    sentences found with the blocks' starts it knows."""
    plain, tree = parse_body(body, 7), parse_body(body, 7, plain=False)
    assert replace(plain, block_starts=None) == tree, body
    assert prose_of(plain).sentence_starts == prose_of(tree).sentence_starts, body
    return is_plain(body)


def prose_of(parsed: ParsedBody) -> Prose:
    return Prose(parsed.text, parsed.line_starts, parsed.line_places, block_starts=parsed.block_starts)


def real_bodies() -> list[tuple[str, str]]:
    bodies = []
    for path in sorted([*(PROJECT / "articles").glob("*.md"), *(PROJECT / "tests/data").rglob("*.md")]):
        bodies.append((path.name, read_article_bytes(path.read_bytes(), 10**7).body))
    return bodies


def test_real_bodies_are_read_the_same_and_the_bundled_ones_plainly() -> None:
    taken = {name for name, body in real_bodies() if assert_same(body)}
    assert {path.name for path in (PROJECT / "articles").glob("*.md")} <= taken
    assert len(taken) > 20


# The lines authors write (with markers cut by a line break, pasted or garbled), and lines of
# everything else, each of which may change how the lines around it are read.
PLAIN = [
    "Plain line [1].", "Another line [1] and [2, 3].", "2023 was a year [4].", "(see [1])", "[x] [y]",
    "Ünïcödé – dash — ’quote’ µg [5]", "emoji 😀 [1]", "Text! Yes? (paren) 'q' \"dq\" [2]", "a]b[c [3]",
    "[", "]", "[1,", "2] after a cut marker", "[2][3] pasted", "[1, @21@] [2]", "Et al. [3] ends. Next [4].",
    "Line with [brackets] and [[1]] and ![img] [6]", "x # y", "!", "![", "a ! [b]", "", "", "", "",
    "# H", "## Head [1]", "###### six [2]", "## #tag", "- item [1]", "+ plus [2]", "- [ ] box", "- [1] first",
    "- +x", "**Note:** text [1]", "- **P** is for [2]", "- **In one spot.** Then [3]", "## **Bold** head",
    "**x** and **y** [4]", "**[1]**", "**a [1,**", "**b** 2]", "x **Ü** y", "**a)** b", "**a**.", "(**a**)",
    "bom\ufeff x", "ctl\x01x", "us\x1f x", "del\x7fx", "\x1fstarts with a control [1].",
]  # fmt: skip
OTHER = [
    "#nohead", "####### seven", "## trailing #", "## H ##", "#", "## ", "##  two spaces", "-", "- ",
    "--", "---", "===", "=", "- - -", "-  two", "- 1. nested", "- # h", "- > q", "+ + x", "* star", "1. one",
    "2) two", "10. ten", "  indented", "   three", "    code", "> quote", "```", "<div>", "| a | b |",
    "**a**b", "a**b**", "**a **", "** a**", "**a*", "***a***", "*em*", "5 * 3", "tail  ", "tail ",
    "tab\there", "[link](https://x.org)", "[1]: https://x.org", "see [1]: colon", "[a][b]", "`code`",
    "a\\[1]", "&amp; [1]", "<b>x</b>", "~~struck~~", "snake_case", "x\u00a0nbsp", "nel\x85x",
    "ls\u2028x", "sp\u3000x", "c1\x9bx", "vt\x0bx", "ff\x0cx", "nul\x00x", "**a\x85** b",
]  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generated_bodies_are_read_the_same_or_declined(seed: int) -> None:
    rng = random.Random(seed)
    taken = 0
    for _ in range(2000):
        lines = [rng.choice(PLAIN if rng.random() < 0.9 else OTHER) for _ in range(rng.randint(1, 9))]
        body = ("\n\n" if rng.random() < 0.3 else "\n").join(lines) + rng.choice(["\n", "", "\n\n"])
        taken += assert_same(body)
    assert 300 < taken < 1700  # both paths are exercised


@pytest.mark.parametrize(
    "body",
    [
        "Text\n---\n",  # a setext heading
        "Text\n===\n",
        "- item\ncontinued\n",  # a lazy continuation of the item's paragraph
        "Dose\n2. two\n",  # a paragraph's continuation, not an item
        "1. one\n",
        "Hard  \nbreak\n",
        "*em* [1]\n",
        "**a**b [1]\n",
        "[1]: https://x.org\n\nSee [1].\n",
        "See [here](https://x.org) [1].\n",
        "  Indented [1].\n",
        "Tab\tseparated [1].\n",
        "Non\u00a0breaking [1].\n",
        "A | B\n--|--\n",
    ],
)
def test_other_markdown_is_left_to_comrak(body: str) -> None:
    assert not assert_same(body)


def test_a_plain_body_is_read_as_its_lines_with_places_in_the_file() -> None:
    body = "## Why [1]\n\nMost people\nimprove [2].\n- **Early.** Treat it [3].\n"
    assert assert_same(body)
    prose = read_prose(body, 12)
    assert prose.text == "Why [1]\nMost people improve [2].\nEarly. Treat it [3]."
    assert [prose.locate(c.offset) for c in prose.citations] == [(12, 8), (15, 9), (16, 23)]
    assert [prose.locate(prose.text.index(word)) for word in ("improve", "Early", "Treat")] == [
        (15, 1),
        (16, 5),
        (16, 14),
    ]
