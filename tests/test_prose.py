"""Prose: the quick ways to find and count sentences agree with their definition."""

from __future__ import annotations

import random

import pytest

from reviewflow.content.prose import _SENTENCE_END, read_prose

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
        for offset in range(len(prose.text)):
            assert prose.sentence_span(offset) == prose._listed_span(offset), (prose.text, offset)


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
