"""The word counts, sentence starts and uncited sentences written in C
(reviewflow/content/textscan.c) against their Python references, and the tables built from the
counts against what the code before them computed."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewflow.checks import prose_fields, readability
from reviewflow.content import prose as prose_module
from reviewflow.content.prose import WORD_BREAKS, Prose
from tests import fuzzing  # noqa: F401  (the fuzz profile: examples per property, no deadline)
from tests.conftest import compiled_module, needs_extension

try:
    from reviewflow.content._textscan import marks_before_digits as c_marks_before_digits
    from reviewflow.content._textscan import sentence_starts as c_sentence_starts
    from reviewflow.content._textscan import uncited as c_uncited
    from reviewflow.content._textscan import word_counts as c_word_counts
except ImportError:  # a pure build (tests/test_compiled.py fails where it must be built)
    c_marks_before_digits = c_sentence_starts = c_uncited = c_word_counts = None

built = needs_extension(c_word_counts)


def oracle(lowered: str) -> Counter[str]:
    """The words as the code before the extension split them."""
    return Counter(lowered.translate(WORD_BREAKS).split())


# Text mostly of ASCII (where every non-alphanumeric character separates), with white space
# str.split() knows beyond ASCII and characters of every width.
ASCII_HEAVY = st.text(
    alphabet=st.one_of(
        st.characters(max_codepoint=127),
        st.sampled_from(["a", "b", " ", "\x00", "\x85", "\u00a0", "\u2028", "\u3000", "é", "\ud800", "😀"]),
    ),
    max_size=300,
)
# Any code point, lone surrogates included.
ANY_UNICODE = st.text(alphabet=st.characters(exclude_categories=()), max_size=300)
# Few distinct words, repeated: what a body is (and what the table is keyed on).
REPEATED = st.lists(
    st.sampled_from(["the", "syndrome", "poems", "7", "x", "é", "日本", "\ud83d", "a\u00a0b", "\u3000"]),
    max_size=200,
).map(" ".join)


@built
@given(st.one_of(ASCII_HEAVY, ANY_UNICODE, REPEATED))
def test_the_extension_counts_the_words_the_reference_counts(text: str) -> None:
    assert c_word_counts is not None
    counts = c_word_counts(text)
    assert type(counts) is dict
    assert counts == oracle(text)
    assert list(counts) == list(oracle(text))  # in order of first occurrence, as Counter keeps them
    assert prose_module._python_word_counts(text) == counts


@given(st.one_of(ASCII_HEAVY, ANY_UNICODE, REPEATED))
def test_the_prose_s_word_tables_are_those_of_its_split_words(text: str) -> None:
    prose = Prose(text)
    words = text.lower().translate(WORD_BREAKS).split()
    assert prose.word_counts == Counter(words)
    assert prose.word_set == frozenset(words)


def main_prose_totals(prose: Prose) -> tuple[int, int]:
    """readability.prose_totals as main computed it before the word counts: one syllable count
    looked up for every word."""
    text = prose.text
    if not text.isascii() or "'" in text:
        return readability.word_totals(prose.without_headings, prose.marker_insides)
    words = prose.lowered.translate(WORD_BREAKS).split()
    total, counted = len(words), sum(map(readability.syllables, words))
    if prose.headings:
        lines = []
        for start in prose.headings:
            end = text.find("\n", start)
            lines.append(text[start : len(text) if end < 0 else end])
        headings = " ".join(lines).lower().translate(readability._SEPARATE).split()
        total -= len(headings)
        counted -= sum(map(readability.syllables, headings))
    return readability._less_markers(total, counted, prose.marker_insides)


LINES = st.lists(
    st.lists(
        st.sampled_from("Word|the|POEMS|syndrome|7|[1]|[2-4]|[1, 3]|e.g.|it's|é|x|-|".split("|")),
        max_size=12,
    ).map(" ".join),
    min_size=1,
    max_size=6,
)


@given(LINES, st.data())
def test_prose_totals_are_main_s(lines: list[str], data: st.DataObject) -> None:
    text = "\n".join(lines)
    starts = [sum(len(line) + 1 for line in lines[:index]) for index in range(len(lines))]
    headings = sorted(data.draw(st.sets(st.sampled_from(starts))))
    prose = Prose(text, [0], [(1, 0)], headings=headings)
    assert readability.prose_totals(prose) == main_prose_totals(prose)


@built
@pytest.mark.parametrize(
    "text",
    ["", " ", "!@#$%^&*()_+-=[]{};':\",./<>?`~\t\n\r\x0b\x0c\x1c\x1f\x7f", "\x85\u00a0\u2028\u3000 \t"],
)
def test_text_without_words_has_no_counts(text: str) -> None:
    assert c_word_counts is not None
    assert c_word_counts(text) == {}


@built
def test_edge_cases_count_as_the_reference_does() -> None:
    assert c_word_counts is not None
    huge = "w" * 1_000_000
    assert c_word_counts(huge) == {huge: 1}
    assert c_word_counts(f" {huge}.{huge}\u3000") == {huge: 2}
    astral = "\U0001f600\U00010000x \U0001f600\U00010000x \ud800"
    assert c_word_counts(astral) == {"\U0001f600\U00010000x": 2, "\ud800": 1}
    assert c_word_counts("\x00a\x00b\x00a") == {"a": 2, "b": 1}
    assert c_word_counts("café_café-CAFÉ") == {"café": 2, "CAFÉ": 1}  # lowering is the caller's


@built
@pytest.mark.parametrize("width", ["x", "é", "ā", "😀"])  # each of the three widths of a str
def test_many_distinct_words_grow_the_table(width: str) -> None:
    assert c_word_counts is not None
    rng = random.Random(width)
    words = [f"{width}{number}" for number in range(20_000)]
    text = " ".join(rng.choice(words) for _ in range(60_000)) + " " + " ".join(words)
    counts = c_word_counts(text)
    assert counts == oracle(text)
    assert len(counts) == 20_000


@built
def test_the_extension_takes_only_a_str() -> None:
    assert c_word_counts is not None
    with pytest.raises(TypeError, match="takes a str, not bytes"):
        c_word_counts(b"words")  # type: ignore[arg-type]


def test_the_prose_reads_the_extension_where_the_build_made_it() -> None:
    """A compiled build's prose counts and finds sentences with the C extension; where the
    compiled modules run from their sources (a pure build, REVIEWFLOW_PURE=1, a stale build) it
    uses the references."""
    if compiled_module(prose_module) is not None:
        assert c_word_counts is not None and c_sentence_starts is not None and c_uncited is not None
        assert prose_module._count_words is c_word_counts
        assert prose_module._find_sentence_starts is c_sentence_starts
        assert prose_fields._uncited is c_uncited
        assert prose_fields._marks_before_digits is c_marks_before_digits
    else:
        assert prose_module._count_words is prose_module._python_word_counts
        assert prose_module._find_sentence_starts is prose_module._python_sentence_starts
        assert prose_fields._uncited is prose_fields._python_uncited
        assert prose_fields._marks_before_digits is prose_fields._python_marks_before_digits


# What sentence ends are made of: each abbreviation in both cases and after a word character or
# not, end marks with closers, openers, spaces of every kind, line breaks, characters of every width.
SENTENCE_PIECES = st.sampled_from(
    ["Word", "word", "e.g.", "E.G.", "i.e.", "I.E.", "Dr.", "dr.", "vs.", "Vs.", "et al.", "xal.", "_al.", "éal.",
     "١al.", "Fig.", "fig.", "cf.", "Cf.", "approx.", "Approx.", "xapprox.", "3.5", "(see", "it)", '"Quoted."',
     "’tis", "end.", "end!", "end?", "end.)", "end.'", "end.”", "end?’", "A", "7", "“Open", "(", "'", '"', "[1].",
     ".", "!", "?", " ", "  ", "\t", "\n", "\n\n", " \n ", "\u00a0", "\u3000", "\u2028", "\x85", "x", "Z", "١",
     "\ud800", "😀", "g.", "s.", ".g.", "e.", "_", "é", "ß.", "\x00"]
)  # fmt: skip
SENTENCE_TEXT = st.one_of(st.lists(SENTENCE_PIECES, max_size=40).map("".join), ANY_UNICODE)


@built
@given(SENTENCE_TEXT, st.data())
def test_the_extension_finds_the_sentence_starts_the_reference_finds(text: str, data: st.DataObject) -> None:
    assert c_sentence_starts is not None
    line_starts = [index + 1 for index, character in enumerate(text[:-1]) if character == "\n"]
    offsets = st.lists(st.integers(0, len(text) - 1), max_size=6).map(sorted) if text else st.just([])
    known = data.draw(st.one_of(st.none(), st.just(line_starts), offsets))
    assert c_sentence_starts(text, known) == prose_module._python_sentence_starts(text, known)


@built
def test_sentence_starts_at_the_edges_are_the_reference_s() -> None:
    assert c_sentence_starts is not None
    reference = prose_module._python_sentence_starts
    long_text = "A b. " * 20_000 + "\n" + "x! Y? Z. " * 10_000  # longer than the stack's bits (16,384)
    astral = "\U0001f600 end. \U0001f600\nNext! Dr. Who.\u3000\n\u00a0Last"
    for text, known in [
        ("", None), (" \n\t\u3000", None), ("x", []), ("x", [0]), ("a\n b", [2]), ("a\n b", [3]),
        (long_text, None), (long_text, [len(long_text) - 1]), (astral, None), (astral, [astral.index("N")]),
    ]:  # fmt: skip
        assert c_sentence_starts(text, known) == reference(text, known), (text[:40], known)
    assert c_sentence_starts(long_text, None)[-1] > 16_384


@built
def test_sentence_starts_refuse_what_is_no_text_or_no_offset() -> None:
    assert c_sentence_starts is not None
    with pytest.raises(IndexError):
        c_sentence_starts("a\nb", [3])  # as the reference's text[3]
    with pytest.raises(IndexError):
        c_sentence_starts("a\nb", [-1])  # no offset in the text (the reference would read text[-1])
    with pytest.raises(TypeError):
        c_sentence_starts("a\nb", ["2"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="takes a list or None, not tuple"):
        c_sentence_starts("a\nb", (2,))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="takes a str, not bytes"):
        c_sentence_starts(b"a", None)  # type: ignore[arg-type]


# Citation markers and what is nearly one: every kind of inside, too long by one, broken by a
# line, a letter or a bracket, digits of other scripts, and sentence ends between them.
MARKER_PIECES = st.sampled_from(
    ["[1]", "[12]", "[1, 2-4]", "[3–5]", "[١]", "[1](u)", "[x]", "[1a]", "[", "]", "[[2]]", "[2", "3]",
     "[1\n]", "[" + "1" * 40 + "]", "[" + "1" * 41 + "]", "Word.", " ", "A", "end. ", "Next", "\n", "x", "é",
     "😀", "[😀]", "[1😀]", "[1é]", "[1_]", "[1 ]", "[1\u00a0]"]
)  # fmt: skip


@built
@given(st.one_of(st.lists(MARKER_PIECES, max_size=30).map("".join), ANY_UNICODE), st.data())
def test_the_extension_finds_the_uncited_sentences_as_the_reference(text: str, data: st.DataObject) -> None:
    assert c_uncited is not None
    offsets = st.lists(st.integers(0, len(text)), max_size=8, unique=True).map(sorted)
    starts = data.draw(st.one_of(st.just(prose_module._python_sentence_starts(text, None)), offsets))
    assert c_uncited(text, starts) == prose_fields._python_uncited(text, starts)


@built
def test_uncited_sentences_at_the_edges_are_the_reference_s() -> None:
    assert c_uncited is not None
    reference = prose_fields._python_uncited
    for text, starts in [
        ("", []), ("[1]", []), ("[1]", [0]), ("[1]", [1]), ("a [1]", [0, 3]), ("a [1]", [0, 5]), ("a [1]", [0, 4]),
        ("[1] b [2] c", [0, 4, 10]), ("x [" + "9" * 40 + "] y", [0]), ("x [" + "9" * 41 + "] y", [0]),
        ("A. [\U0001f600] B [1].", [0, 3]), ("[1]" * 10_000, list(range(0, 30_000, 7))),
    ]:  # fmt: skip
        assert c_uncited(text, starts) == reference(text, starts), (text[:40], starts[:5])


@built
def test_uncited_refuses_starts_out_of_order_or_outside_the_text() -> None:
    assert c_uncited is not None
    for starts in ([2, 1], [0, 6], [-1]):
        with pytest.raises(ValueError, match="in order, each in the text"):
            c_uncited("a [1]", starts)
    with pytest.raises(TypeError):
        c_uncited("a [1]", (0,))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        c_uncited("a [1]", ["0"])  # type: ignore[list-item]


# Where a citation written as a number may follow a mark: each mark before digits of every script,
# after spaces, tabs and other white space, at the text's end, and characters of every width.
DIGIT_PIECES = st.sampled_from(
    [".", "!", "?", "..", ". ", ".\t", " \t ", "\u00a0", "\u3000", "\n", "1", "12,", "١", "߀", "²", "x", "A",
     "survival", "It helps.", "rate (2)", "é", "😀", "\ud800", "\x00"]
)  # fmt: skip


@built
@given(st.one_of(st.lists(DIGIT_PIECES, max_size=40).map("".join), ANY_UNICODE), st.booleans())
def test_the_extension_finds_the_marks_before_digits_the_reference_finds(text: str, every_mark: bool) -> None:
    assert c_marks_before_digits is not None
    assert c_marks_before_digits(text, every_mark) == prose_fields._python_marks_before_digits(
        text, every_mark
    )


@built
def test_marks_before_digits_at_the_edges_are_the_reference_s() -> None:
    assert c_marks_before_digits is not None
    reference = prose_fields._python_marks_before_digits
    long_text = "It helps. 1, 2 and more.\t\t3 " * 10_000 + "end."
    for text in [
        "",
        ".",
        "1.",
        ".1",
        "!2",
        "? \t 3",
        ". \u00a03",
        "x.١",
        "a.²",
        long_text,
        "\U0001f600. 4! 5",
    ]:
        for every_mark in (False, True):
            assert c_marks_before_digits(text, every_mark) == reference(text, every_mark), (
                text[:40],
                every_mark,
            )
    assert len(c_marks_before_digits(long_text, False)) == 20_000


@built
def test_marks_before_digits_take_only_a_str_and_a_flag() -> None:
    assert c_marks_before_digits is not None
    with pytest.raises(TypeError, match="takes a str, not bytes"):
        c_marks_before_digits(b". 1", False)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="takes 2 arguments"):
        c_marks_before_digits(". 1")  # type: ignore[call-arg]
