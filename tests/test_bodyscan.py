"""The plain body read in C (reviewflow/content/bodyscan.c) against its Python reference,
`markdown._python_read_plain` (plainmarkdown's `read_plain_body`, then the walk's `finish`).

The C reader must take exactly the bodies the reference takes and read the same text, starts,
places, headings, markers and block starts from them; anything else it must decline (None), so
that Comrak reads it. tests/test_plainmarkdown.py holds the plain read to Comrak's answers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewflow.content import markdown
from reviewflow.content.markdown import NOT_A_MARKER, _python_read_plain
from reviewflow.content.prose import Prose, read_prose
from tests import fuzzing
from tests.conftest import compiled_module, needs_extension

try:
    from reviewflow.content._bodyscan import read_plain as c_read_plain
except ImportError:  # a pure build (tests/test_compiled.py fails where it must be built)
    c_read_plain = None

built = needs_extension(c_read_plain)


def assert_read_alike(body: str, body_line: int = 7) -> bool:
    """Whether the reference takes BODY; the extension reads it the same either way."""
    assert c_read_plain is not None
    expected, read = _python_read_plain(body, body_line), c_read_plain(body, body_line)
    assert read == expected, body
    if expected is not None:
        assert read is not None
        assert [type(value) for value in read] == [type(value) for value in expected]
        assert all(type(inside) is str for inside in read[4])
    return expected is not None


# --- Generated bodies -------------------------------------------------------------------------

WORDS = st.sampled_from(
    ["Most", "people", "improve", "within", "weeks", "in 24% of patients", "e.g.", "it's", "(see", "it)", "2023",
     "dose:", "Ünïcödé", "µg", "日本", "😀", "١٢", "x", "end.", "Yes!", "Why?", "a]b", "[x]", "[", "]", "$5"]
)  # fmt: skip
# Markers as authors write them, and pasted or garbled: cut by a line, problems, other digits.
MARKERS = st.sampled_from(
    ["[1]", "[2-4]", "[1, 3]", "[12]", "[3–5]", "[١]", "[1,", "2]", "[1, @2@]", "[99999]"]
)
STRONG = st.sampled_from(["Early", "Note", "Treat it", "In one spot.", "2 doses", "e.g. this", "X", "7"]).map(
    "**{}**".format
)
PHRASE = st.lists(st.one_of(WORDS, MARKERS, STRONG), min_size=1, max_size=10).map(" ".join)
PARAGRAPH_LINE = st.one_of(
    PHRASE,
    st.tuples(st.integers(0, 99999), PHRASE).map(lambda pair: f"{pair[0]} {pair[1]}"),  # digits first
    st.tuples(STRONG, PHRASE).map(" ".join),  # strong emphasis first
)
HEADING = st.tuples(st.integers(1, 6), PARAGRAPH_LINE).map(lambda pair: "#" * pair[0] + " " + pair[1])
ITEMS = st.lists(
    st.tuples(st.sampled_from(["- ", "+ "]), PARAGRAPH_LINE).map("".join), min_size=1, max_size=4
)
BLOCK = st.one_of(
    HEADING.map(lambda line: ("heading", line)),
    st.lists(PARAGRAPH_LINE, min_size=1, max_size=3).map(lambda lines: ("paragraph", "\n".join(lines))),
    ITEMS.map(lambda lines: ("list", "\n".join(lines))),
)


@st.composite
def plain_bodies(draw: st.DrawFn) -> str:
    """Headings, paragraphs and lists, one line break or a blank line between them (always a
    blank line between a list and a paragraph, which would otherwise continue its last item)."""
    body, previous = "", None
    for kind, text in draw(st.lists(BLOCK, max_size=8)):
        if previous is not None:
            blank = previous == "list" and kind == "paragraph"
            body += "\n\n" if blank or draw(st.booleans()) else "\n"
        body, previous = body + text, kind
    return body + draw(st.sampled_from(["", "\n", "\n\n"]))


PLAIN_BODIES = plain_bodies()
# What makes a body not plain, or nearly so: markup, other blocks' starts, indents, trailing
# spaces, odd white space and line endings, links, C0 and C1 controls, surrogates, every width.
MUTATIONS = st.sampled_from(
    ["*", "**", "_", "`", "\\", "&", "&amp;", "<", ">", "~", "|", "[", "]", "(", ")", ":", "](", "][", "]:",
     "[1](u)", "#", "# ", "####### ", "- ", "+ ", "* ", "-", "=", "1. ", "2) ", "1234567890. ", "3.", " ", "  ",
     "    ", "\t", "\r", "\r\n", "\n", "\n\n", "\n- x\n", "\x0b", "\x0c", "\x00", "\x01", "\x1f", "\x7f", "\x80",
     "\x85", "\x9f", "\xa0", "\xa1", "é", "ā", "日", "😀", "\u1680", "\u2000", "\u200a", "\u200b", "\u2028",
     "\u2029", "\u202f", "\u205f", "\u3000", "\ufeff", "\ud800", "\udfff", "［", "**a**b", "a**b**", "** a**",
     "**a.**", "**1**", "**é**"]
)  # fmt: skip


@st.composite
def near_plain_bodies(draw: st.DrawFn) -> str:
    """A plain body with a few mutations inserted anywhere (a line's start and end included)."""
    body = draw(PLAIN_BODIES)
    for _ in range(draw(st.integers(1, 3))):
        position = draw(st.integers(0, len(body)))
        body = body[:position] + draw(MUTATIONS) + body[position:]
    return body


ANY_UNICODE = st.text(alphabet=st.characters(exclude_categories=()), max_size=300)
BODIES = st.one_of(PLAIN_BODIES, near_plain_bodies(), ANY_UNICODE, fuzzing.BODIES)


@built
@given(PLAIN_BODIES)
def test_plain_bodies_are_taken_and_read_as_the_reference_reads_them(body: str) -> None:
    assert assert_read_alike(body)


@built
@given(BODIES, st.integers(1, 10**6))
def test_the_extension_takes_and_reads_what_the_reference_does(body: str, body_line: int) -> None:
    assert_read_alike(body, body_line)


@built
@given(st.one_of(PLAIN_BODIES, near_plain_bodies()))
def test_the_prose_read_through_the_extension_is_the_reference_s(body: str) -> None:
    """read_prose (what every rule reads) is the same with either reader."""
    with_extension = read_prose(body, 3)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(markdown, "_read_plain", _python_read_plain)  # markdown.py is not compiled
        with_reference = read_prose(body, 3)
    for prose in (with_extension, with_reference):
        prose.in_heading(0)  # build the lazy tables compared below
    assert prose_fields(with_extension) == prose_fields(with_reference)


def prose_fields(prose: Prose) -> tuple[object, ...]:
    return (
        prose.text, prose.line_starts, prose.line_places, prose.html, prose.headings, prose.block_starts,
        prose.marker_insides, prose.sentence_starts, prose.citations, prose.sentences,
    )  # fmt: skip


# --- Edge cases -------------------------------------------------------------------------------


@built
@pytest.mark.parametrize(
    ("body", "read"),
    [
        ("", ("", [], [], [], [], None)),  # no block: no blocks' starts known
        ("\n\n\n", ("", [], [], [], [], None)),
        ("x", ("x", [0], [(7, 0)], [], [], [])),
        (
            "## Why [1]\n\nMost people\nimprove [2].\n- **Early.** Treat it [3].\n",
            (
                "Why [1]\nMost people improve [2].\nEarly. Treat it [3].",
                [0, 8, 20, 33, 39],
                [(7, 3), (9, 0), (10, 0), (11, 4), (11, 12)],
                [0],
                ["1", "2", "3"],
                [8, 33],
            ),
        ),
        # a marker cut by a line break: one in the text, none in a node; its "[" is made unlike one
        (
            "See [1,\n2] and [3].\n",
            (f"See {NOT_A_MARKER}1, 2] and [3].", [0, 8], [(7, 0), (8, 0)], [], ["3"], []),
        ),
        # once that "[" is gone, the bracket before it closes at the "]" after the line break
        (
            "a [1 [2,\n3] b\n",
            (f"a [1 {NOT_A_MARKER}2, 3] b", [0, 9], [(7, 0), (8, 0)], [], [f"1 {NOT_A_MARKER}2, 3"], []),
        ),
        ("é [١] 日 😀 [2]\n", ("é [١] 日 😀 [2]", [0], [(7, 0)], [], ["١", "2"], [])),
        ("# **e** [1]", ("e [1]", [0, 1], [(7, 4), (7, 7)], [0], ["1"], [])),
    ],
)
def test_edge_cases_read_as_the_reference_reads_them(body: str, read: tuple[object, ...]) -> None:
    assert c_read_plain is not None
    assert c_read_plain(body, 7) == read
    assert _python_read_plain(body, 7) == read


@built
@pytest.mark.parametrize(
    "body",
    ["x \n", "x ", "\tx", "a\rb", "a\n- b\nc", "x [1](u)", "x [1]: u", "x [a][b]", "x **a**b", "1. x", "10) x",
     "####### x", "## x #", "##  x", "- 1. x", "+ > x", "* x", "---", "x\n===", "  x", "a\x00b", "x\x00", "a\x85b",
     "a\u3000b", "a\ud800b", "a *b* c", "# **é** [1]", "**a** *", "x_y", "a & b", "a < b", "a ~ b", "a | b", "a `b`"],
)  # fmt: skip
def test_what_is_not_plain_is_declined(body: str) -> None:
    assert c_read_plain is not None
    assert c_read_plain(body, 1) is None
    assert _python_read_plain(body, 1) is None


@built
@pytest.mark.parametrize("width", ["x", "é", "日", "😀"])  # each of the three widths of a str
def test_a_long_body_is_read_as_the_reference_reads_it(width: str) -> None:
    """More text nodes than the reader keeps on its stack (256), of every width."""
    lines = [f"Line {number} {width} **Strong {width}.** more [{number % 9 + 1}]." for number in range(3000)]
    body = "\n".join(
        f"# Part {width}\n\n" + "\n".join(lines[start : start + 7]) for start in range(0, 3000, 7)
    )
    assert assert_read_alike(body, 10**6)
    assert assert_read_alike(body.replace("\n\n", "\n- item\n\n"), 1)


@built
def test_the_extension_takes_a_str_and_a_line_number() -> None:
    assert c_read_plain is not None
    with pytest.raises(TypeError, match="takes a str, not bytes"):
        c_read_plain(b"x", 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        c_read_plain("x", "1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="takes 2 arguments"):
        c_read_plain("x")  # type: ignore[call-arg]
    with pytest.raises(OverflowError):
        c_read_plain("x", 2**70)


def test_the_body_is_read_by_the_extension_where_the_build_made_it() -> None:
    """A compiled build reads plain bodies in C; where the compiled modules run from their
    sources (a pure build, REVIEWFLOW_PURE=1, a stale build) the reference reads them."""
    from reviewflow.content import prose as prose_module

    if compiled_module(prose_module) is not None:
        assert c_read_plain is not None
        assert markdown._read_plain is c_read_plain
    else:
        assert markdown._read_plain is _python_read_plain
