"""The shortcuts the rules take on every article (issue 18), held to the plain readings they
replace: a shortcut that found anything else would change findings on some article.
"""

from __future__ import annotations

import random
import re
from bisect import bisect_right

import pytest

from reviewflow.checks.evidence import _FORMS, _NUMBER, _evidence, number_forms
from reviewflow.checks.jargon import _ABBREVIATION, _SHAPE, _TWO_CAPITALS
from reviewflow.checks.language import _ANY_TRIGGER, _EVIDENCE, _WORD_NUMBERS
from reviewflow.checks.prose_fields import (
    _AFTER_FULL_STOP,
    _AFTER_SENTENCE,
    FieldProse,
    _after_sentences,
    _uncited_spans,
    bare_citations,
)
from reviewflow.checks.readability import _SEPARATE, _SEPARATE_BYTES, _longest_lines, _sentences_in
from reviewflow.checks.vocabulary import _BREAKS
from reviewflow.content.prose import MARKER, WORD_BREAKS, Prose, read_prose

PIECES = [
    "Treatment", "works", "well", "[1]", "[2, 3]", "[1. 2]", "[2][3]", "[١2]", "[1–3]", "it’s", "é", "İ", "ſ",
    ".", ". ", "! ", "? ", "\n\n", "\n\n## Heading\n\n", "- item\n", "VEGF", "HbA1c", "AT&T", "IgG", "McDonald",
    "Dr.", "e.g.", "(2)", "It helps. 1, 2", "It helps.1,2", "rate (2)", "24%", "per cent", "1 in 3", "n = 31", "survival rate", "medical",
    "advice", "disclaimer", "informational purposes", "liability", "most common", "one in ", "\u2003", "\t",
    "x", "the", "A", "`code`",
]  # fmt: skip
PHRASES = [
    ("disclaimer", "purposes", "medical advice", "professional care"),
    ("%", "percent", "per cent"),
    ("n=", "n ="),
    (" in ", " of "),
    ("survival rate", "response rate"),
    ("one in ", "most common", "leading"),
]


def texts(seed: int, count: int = 400) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(PIECES) for _ in range(rng.randint(0, 200))) for _ in range(count)]


@pytest.mark.parametrize("seed", range(3))
def test_mentions_is_a_substring_test_of_the_lowercased_text(seed: int) -> None:
    for text in texts(seed):
        prose = Prose(text, [0], [(1, 0)])
        for phrases in PHRASES:
            assert prose.mentions(phrases) == any(p in text.lower() for p in phrases), (text, phrases)


def _uncited_by_markers(prose: Prose) -> list[tuple[int, int]]:
    """The uncited sentences as first written: each marker cites the sentence it is wholly in."""
    starts = prose.sentence_starts
    ends = [*starts[1:], len(prose.text)]
    cited = [False] * len(starts)
    for match in MARKER.finditer(prose.text):
        index = bisect_right(starts, match.start()) - 1
        if index >= 0 and match.end() <= ends[index]:
            cited[index] = True
    for at, _ in bare_citations(prose):
        index = bisect_right(starts, at) - 1
        if index >= 0:
            cited[index] = True
            if index and starts[index] == at:
                cited[index - 1] = True
    return [(starts[i], ends[i]) for i in range(len(starts)) if not cited[i]]


@pytest.mark.parametrize("seed", range(3))
def test_uncited_sentences_found_by_a_search_per_sentence_are_those_the_markers_leave(seed: int) -> None:
    uncited = 0
    for text in texts(seed):
        prose = read_prose(text + "\n", 5)
        assert _uncited_spans(prose) == _uncited_by_markers(prose), text
        uncited += len(_uncited_spans(prose))
    assert uncited  # the texts have sentences of both kinds


@pytest.mark.parametrize("seed", range(3))
def test_bare_citations_after_a_full_stop_are_found_alike_without_exclamations(seed: int) -> None:
    found = 0
    for text in texts(seed):
        text = text.replace("!", "").replace("?", "")
        plain = [(m.span(), m.groups()) for m in _AFTER_SENTENCE.finditer(text)]
        assert [(m.span(), m.groups()) for m in _AFTER_FULL_STOP.finditer(text)] == plain, text
        found += len(plain)
    assert found


@pytest.mark.parametrize("seed", range(3))
def test_bare_citations_tried_at_the_marks_before_a_digit_are_what_finditer_finds(seed: int) -> None:
    found = 0
    for text in texts(seed):
        # Marks of each kind, digits of other scripts and tabs right after them.
        text = text.replace("It helps. ", "It helps!\t").replace("[١2]", "x.١2") if seed == 1 else text
        for pattern, written in (
            (_AFTER_SENTENCE, text),
            (_AFTER_FULL_STOP, text.replace("!", "").replace("?", "")),
        ):
            matches = list(pattern.finditer(written))
            expected = [(m.start(1) if m.group(1) else m.start(2), m.group(1) or m.group(2)) for m in matches]
            assert _after_sentences(written) == expected, written
            found += len(expected)
    assert found


# Numbers in every form _FORMS has, and beside what none of them takes.
NUMBERS = [
    "1/330,000", "2 / 3", "(2.5:1)", "3 : 1", "23.6 million", "$245 billion", "7th leading", "2nd most common",
    "10–15 years", "5-7 days", "2 to 3 weeks", "3 times more", "2x higher", "about 300 people", "over 10,000 patients",
    "nearly 5 years", "some 40\tdays", "topic 00577", "(1).", "12,", "3.", "4\u2003million", "5\nyears", "6ſt",
    "1 in 3", "١٢ people", "about ٣ months", "",
]  # fmt: skip


def _number_forms_trying_every_number(text: str) -> list[tuple[int, int]]:
    """number_forms as first written: the forms tried at every number."""
    found: list[tuple[int, int]] = []
    done = 0
    for number in _NUMBER.finditer(text):
        if (
            number.start() >= done
            and (match := _FORMS.match(text, number.start()))
            and _evidence(text, match)
        ):
            found.append(match.span())
            done = match.end()
    return found


@pytest.mark.parametrize("seed", range(3))
def test_numbers_no_form_can_follow_are_passed_over_as_trying_the_forms_finds(seed: int) -> None:
    rng = random.Random(seed)
    found = 0
    for text in texts(seed):
        text = " ".join(rng.choice(NUMBERS) + piece for piece in text.split(" "))
        assert number_forms(text) == _number_forms_trying_every_number(text), text
        found += len(number_forms(text))
    assert found


@pytest.mark.parametrize("seed", range(3))
def test_a_text_without_two_capitals_in_a_word_has_no_abbreviation(seed: int) -> None:
    skipped = 0
    for text in texts(seed):
        text = text.encode("ascii", "replace").decode("ascii")
        if not _TWO_CAPITALS.search(text.encode("ascii").translate(_SHAPE)):
            assert _ABBREVIATION.search(text) is None, text
            skipped += 1
    assert skipped


@pytest.mark.parametrize("seed", range(3))
def test_the_hardest_sentences_are_looked_for_in_the_longest_lines_as_before(seed: int) -> None:
    for text in texts(seed):
        prose = read_prose(text + "\n", 1)
        blocks = sorted((m.span() for m in re.finditer(r"[^\n]+", prose.text)), key=lambda b: b[0] - b[1])[:3]
        assert _longest_lines(prose.text, 3) == blocks, text
        for block_start, block_end in blocks:
            walked, at = [], block_start
            while at < block_end:
                begin, end = prose.sentence_span(at)
                walked.append((begin, min(end, block_end)))
                at = end
            assert _sentences_in(prose, block_start, block_end) == walked, text


@pytest.mark.parametrize("seed", range(3))
def test_a_title_that_holds_no_trigger_is_one_that_no_evidence_pattern_mentions(seed: int) -> None:
    # The texts of a title or a summary, with every kind of trigger among their pieces.
    rng = random.Random(seed)
    pieces = [*PIECES, *"Hazard Ratio|odds ratio|relative risk|3-fold|N=12|leading|Commonest".split("|")]
    for _ in range(400):
        text = " ".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        prose = FieldProse(text, [0], [(0, 0)], field_name="title")
        mentioned = any(prose.mentions(triggers) for triggers, _ in _EVIDENCE) or prose.mentions(
            _WORD_NUMBERS
        )
        assert (_ANY_TRIGGER.search(prose.lowered) is not None) == mentioned, text


def test_a_title_s_tables_are_those_of_the_same_prose_built_once() -> None:
    # `sentences` is left out: each holds its line, which a title answers (locate) differently.
    names = (
        "without_headings lowered word_counts word_set sentence_starts citations cited marker_insides".split()
    )
    for text in texts(7, 100):
        plain, field = Prose(text, [0], [(1, 0)]), FieldProse(text, [0], [(1, 0)], field_name="title")
        for name in names:
            assert getattr(field, name) == getattr(plain, name), (name, text)
            assert getattr(field, name) is getattr(field, name)  # built once, then read as kept


@pytest.mark.parametrize("seed", range(3))
def test_words_are_separated_by_the_byte_table_as_by_the_dictionary(seed: int) -> None:
    for text in texts(seed, 200):
        lowered = text.lower()
        as_ascii = lowered.encode("ascii", "replace").decode("ascii")  # what the dictionary was given
        bytewise = lowered.encode("ascii", "replace").translate(_SEPARATE_BYTES).decode("ascii")
        assert bytewise == as_ascii.translate(_SEPARATE), text
        assert as_ascii.encode("ascii").translate(_BREAKS).decode("ascii") == as_ascii.translate(WORD_BREAKS)
