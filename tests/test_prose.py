"""Prose: what the checks read of a body, and the quick ways to find and count its sentences."""

from __future__ import annotations

import random

import pytest

from reviewflow.content.prose import _SENTENCE_END, Prose, read_prose

PIECES = [
    "Word", "word", "e.g.", "i.e.", "Dr.", "vs.", "et al.", "Fig.", "cf.", "approx.", "3.5", "(see",
    "it)", '"Quoted."', "’tis", "end.", "end!", "end?", "end.)", "end.'", "A", "7", "`code.` x", "[1].",
]  # fmt: skip


def body(rng: random.Random) -> str:
    blocks = []
    for _ in range(rng.randint(1, 5)):
        words = [rng.choice(PIECES) for _ in range(rng.randint(0, 12))]
        separator = rng.choice([" ", "  ", " \t"])
        blocks.append(rng.choice(["", "- ", "> "]) + separator.join(words))
    return "\n\n".join(blocks) + "\n"


def reference_starts(text: str) -> list[int]:
    """Sentence starts by the one regular expression that defines sentence ends."""
    starts: list[int] = []
    for candidate in (0, *(match.end() for match in _SENTENCE_END.finditer(text))):
        start = candidate
        while start < len(text) and text[start].isspace():
            start += 1
        if start < len(text) and start not in starts:
            starts.append(start)
    return starts


@pytest.mark.parametrize("seed", range(4))
def test_sentence_starts_and_count_agree_with_the_definition(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(400):
        prose = read_prose(body(rng), 1)
        assert prose.sentence_count == len(prose.sentence_starts), prose.text
        assert prose.sentence_starts == reference_starts(prose.text), prose.text
        starts = reference_starts(prose.text)
        for offset in range(len(prose.text)):
            assert prose.sentence_span(offset) == reference_span(starts, offset, prose.text), (
                prose.text,
                offset,
            )


def reference_span(starts: list[int], offset: int, text: str) -> tuple[int, int]:
    """The sentence holding OFFSET by a walk over the listed starts; white space before a
    block's first sentence belongs to the sentence before."""
    if not starts:
        return 0, len(text)
    index = 0
    while index + 1 < len(starts) and starts[index + 1] <= offset:
        index += 1
    return starts[index], starts[index + 1] if index + 1 < len(starts) else len(text)


def test_a_sentence_starts_after_code_blanked_out_at_the_start_of_a_block() -> None:
    prose = read_prose("`x` costs 5% [1].\n\nFirst one. Second\n\n`y` third.\n", 1)
    assert prose.text == "    costs 5% [1].\nFirst one. Second\n    third."
    assert [prose.text[start:].split()[0] for start in prose.sentence_starts] == [
        "costs", "First", "Second", "third."
    ]  # fmt: skip
    assert prose.sentence_span(prose.text.index("5%")) == (4, prose.text.index("First"))
    assert prose.sentence_count == 4


@pytest.mark.parametrize(
    "phrases",
    [
        ("survival rate", "response rate", "relapse rate"),
        ("disclaimer", "medical advice", "professional advice", "medical care", " in ", "%", "-fold"),
        ("cure", "no side effects", "100% effective"),
    ],
)
def test_mentions_is_a_substring_test(phrases: tuple[str, ...]) -> None:
    rng = random.Random(len(phrases))
    pieces = [
        *phrases,
        *(p[:-1] for p in phrases),
        " rate",
        "rates",
        "advice",
        " care",
        "x",
        " ",
        "Medical Advice",
    ]
    for _ in range(2000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
        prose = read_prose(text, 1)
        assert prose.mentions(phrases) == any(p in prose.text.lower() for p in phrases), text


def test_the_prose_is_the_text_readers_see_one_line_per_block() -> None:
    body = (
        "## Treatment [1]\n"
        "Melphalan *helps* [2]. See [the review](https://example.org/x) and ![a chart](c.png).\n"
        "\n"
        "| Drug | Dose |\n"
        "|---|---|\n"
        "| a &amp; b | 10 mg |\n"
    )
    prose = read_prose(body, 7)
    assert (
        prose.text
        == "Treatment [1]\nMelphalan helps [2]. See the review and a chart.\nDrug\nDose\na & b\n10 mg"
    )
    # A heading is a sentence of its own, never the start of the paragraph's first one.
    assert [s.text for s in prose.sentences][:3] == [
        "Treatment [1]",
        "Melphalan helps [2].",
        "See the review and a chart.",
    ]
    assert [(s.line, s.column) for s in prose.sentences][:3] == [(7, 4), (8, 1), (8, 24)]
    assert [(prose.locate(c.offset), c.ids) for c in prose.citations] == [((7, 14), (1,)), ((8, 19), (2,))]
    assert prose.locate(prose.text.index("10 mg")) == (12, 15)


def test_raw_html_is_blanked_and_its_places_kept() -> None:
    prose = read_prose("<div>\nblock\n</div>\n\nText <b>bold</b> [1].\n", 3)
    assert prose.text == "Text    bold     [1]."
    assert prose.html == [(3, 1), (7, 6), (7, 13)]
    assert [c.ids for c in prose.citations] == [(1,)]


def test_a_prose_made_from_a_plain_string_finds_its_markers_in_the_text() -> None:
    # Front-matter strings (a summary) are prose without Markdown: their markers are their text's.
    prose = Prose("Rare [1], pasted [2][3] and [1, @2@].", [0], [(4, 9)])
    assert [(prose.locate(c.offset), c.ids, c.problem is None) for c in prose.citations] == [
        ((4, 15), (1,), True), ((4, 27), (2,), True), ((4, 30), (3,), True), ((4, 38), (), False)
    ]  # fmt: skip


def test_headings_are_known_from_the_parse_not_guessed() -> None:
    body = "## Treatment options\n\n- Rest and fluids\n\nIt helps. A lot.\n\n### A long heading that ends. Like this.\n"
    prose = read_prose(body, 1)
    lines = prose.text.split("\n")
    starts = [sum(len(line) + 1 for line in lines[:index]) for index in range(len(lines))]
    assert [prose.in_heading(start) for start in starts] == [True, False, False, True]
    assert prose.in_heading(starts[3] + 30)  # anywhere on the heading's line
    assert prose.without_headings.split("\n")[1:3] == lines[1:3]
    assert prose.without_headings.split("\n")[0].strip() == ""
    assert not Prose("Plain text.", [0], [(1, 0)]).in_heading(0)


def test_a_parsed_body_is_freed_once_nobody_holds_it() -> None:
    """Comrak's nodes link to their parents in a cycle Python's collector cannot see: a `check`
    of 10,000 articles kept every tree (hundreds of MB) until the links were dropped."""
    import gc
    import tracemalloc

    from reviewflow.content.markdown import parse_body, parse_for_page

    text = "## Dose\n\n" + "A *short* paragraph with [a link](https://example.org) [1].\n\n- item [2]\n" * 20
    parse_body(text)  # the first parse loads what stays loaded
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(100):
            parse_body(text)
            parse_for_page(text)
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 200_000, f"{kept:,} bytes kept after 200 parses"


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_places_are_the_same_whichever_character_ends_the_lines(ending: str) -> None:
    # The lines are split one way when the body has a carriage return and another when it has none.
    source = "## Dose [1]\n\nA `code` span and <b>html</b> [2].\nNext line [3].\n\n| a | b [4] |\n|---|---|\n"
    prose = read_prose(source.replace("\n", ending), 3)
    assert prose.text == "Dose [1]\nA        span and    html     [2]. Next line [3].\na\nb [4]"
    assert [prose.locate(c.offset) for c in prose.citations] == [(3, 9), (5, 31), (6, 11), (8, 9)]
    assert prose.html == [(5, 19), (5, 26)]


def test_words_of_ascii_prose_split_as_the_translation_table_splits_them() -> None:
    """ASCII prose is split by a bytes table (or the extension written in C), other prose by
    WORD_BREAKS: the same words, counted."""
    from collections import Counter

    from reviewflow.content.prose import WORD_BREAKS

    rng = random.Random(5)
    alphabet = [chr(code) for code in range(128)] + ["é", "–", "\u00a0", "İ"]
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        ascii_only = text.encode("ascii", "ignore").decode("ascii")
        for sample in (text, ascii_only):
            expected = Counter(sample.lower().translate(WORD_BREAKS).split())
            assert Prose(sample).word_counts == expected, repr(sample)


def test_blocks_start_at_their_first_character_that_is_not_white_space() -> None:
    """Where each line starts with a character that is not white space, the lines' starts are
    taken as they are; an empty line or one that starts blank (code blanked out, a no-break
    space) is passed over to the next character that is not white space."""
    from reviewflow.content.prose import _BLOCK_START, _block_starts

    rng = random.Random(6)
    for _ in range(500):
        lines = [rng.choice(["Word.", "A b", "", " ", "   x", "\u00a0y", "\tz", "7 [1]"]) for _ in range(6)]
        text = "\n".join(lines[: rng.randint(1, 6)])
        expected = [match.end() for match in _BLOCK_START.finditer(text)]
        assert list(_block_starts(text)) == expected, repr(text)
