"""The forms of a number used as evidence, beyond a percentage and "N in M" (language.py):
"1/330,000", "(2.5:1)", "23.6 million people", "$245 billion", "the 7th leading cause of
death", "lasts about 10–15 years", "3 times more likely", "about 300 people".

Every number in the prose is found with one simple scan and judged by its few neighbouring
characters, so the cost is one pass whatever the number of forms. A number is not evidence
when it is a step or a grade ("step 1 of 3"), a dose, or a duration in an instruction
("take it for 5–7 days"); dates and list numbers match none of the forms.
"""

from __future__ import annotations

import re

_RANGE = r"\d[\d,.]*\s?(?:[-–]|to)\s?"
_UNITS = r"(?:years?|months?|weeks?|days?|hours?|decades?)"
_FORMS = re.compile(
    r"(?P<fraction>(?P<numerator>\d[\d,]*)\s?/\s?(?P<denominator>\d[\d,]*)(?![\d,]*\s?/\s?\d))"
    r"|\d+(?:\.\d+)?\s?:\s?1(?![\d:])"
    r"|\d[\d,.]*\s?(?:million|billion|trillion)\b"
    r"|\d+(?:st|nd|rd|th)\s+(?:most\s+)?(?:leading|common|commonest|frequent|largest|biggest|deadliest)\b"
    rf"|(?P<duration>{_RANGE}\d[\d,.]*\s+{_UNITS})\b"
    r"|\d+(?:\.\d+)?\s?(?:times|x)\s+(?:more|less|higher|lower|greater|as)\b"
    r"|(?P<count>\d[\d,.]*\s+(?:people|patients|adults|children|cases|deaths|men|women|babies|"
    r"individuals|persons|americans|new\s+cases)\b)"
    r"|(?P<about>\d[\d,.]*\s+{_UNITS})\b".replace("{_UNITS}", _UNITS),
    re.IGNORECASE,
)
# A count or a single duration is evidence only with a word of estimate before it.
_ESTIMATE = re.compile(
    r"(?:about|around|approximately|roughly|nearly|almost|over|more than|fewer than|less than|up to|"
    r"an estimated|estimated|average of|median of|average|median|some|typically|usually|at least)\s+\$?$",
    re.IGNORECASE,
)
_WORD_ORDINAL = re.compile(
    r"\b(?:second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth)\s+(?:most\s+)?"
    r"(?:leading|common|commonest|frequent|deadliest)\b",
    re.IGNORECASE,
)
_WORD_ONE_IN_N = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten)\s+(?:in|out of)\s+(?:every\s+)?"
    r"(?:two|three|four|five|six|seven|eight|nine|ten|\d[\d,]*|a (?:hundred|thousand|million))\b",
    re.IGNORECASE,
)
_STEP = re.compile(
    r"\b(?:step|steps|grade|stage|type|phase|part|page|day|week|cycle|level|class|chapter|question|"
    r"item|number|no\.|dose|session|visit|round)\s*$",
    re.IGNORECASE,
)
_DOSE = re.compile(
    r"\s?(?:mg|mcg|µg|g|kg|ml|l|units?|iu|tablets?|capsules?|drops|puffs|gy|mmol)\b", re.IGNORECASE
)
_INSTRUCTION = re.compile(
    r"(?:take|use|apply|rest|drink|wait|repeat|keep|continue|avoid|give|do not|don't|try|stay|"
    r"stop|see|call|eat)\b",
    re.IGNORECASE,
)


# A number that starts no word or number and is no citation marker's ("[1, 2]").
# The digit first, then what precedes it: `re` tries the lookbehind only at digits.
_NUMBER = re.compile(r"\d(?<![\w/:\[.,]\d)[\d,.]*(?![\d,.\s–-]*\])")


def number_forms(text: str) -> list[tuple[int, int]]:
    """(start, end) of each number in TEXT used as evidence in one of the forms above."""
    found: list[tuple[int, int]] = []
    done = 0
    for number in _NUMBER.finditer(text):
        start = number.start()
        if start < done or not _may_take_a_form(text, number.end()):
            continue
        match = _FORMS.match(text, start)
        if match is not None and _evidence(text, match):
            found.append(match.span())
            done = match.end()
    return found


def _may_take_a_form(text: str, end: int) -> bool:
    """Whether one of _FORMS may match a number whose digits, commas and points end at END (a
    _NUMBER match ends where they do): after them (and any white space) each form needs a
    letter (a word, a unit, "st", "x"; a letter `re` takes for one of those when it ignores
    case is a letter too), "/", ":", "-" or "–". Most numbers of a title or a summary ("topic
    00577", "(1)") have none, and trying the forms' eight alternatives costs ~6 K instructions a
    number, ~3 % of checking an approved text of the bench corpus."""
    while end < len(text) and text[end].isspace():
        end += 1
    return end < len(text) and (text[end].isalpha() or text[end] in "/:-–")


def _evidence(text: str, match: re.Match[str]) -> bool:
    start = match.start()
    line_start = text.rfind("\n", 0, start) + 1
    before = text[max(line_start, start - 40) : start]
    if _STEP.search(before) or _DOSE.match(text, match.end()):
        return False
    if match.group("fraction"):
        numerator = int(match.group("numerator").replace(",", ""))
        return numerator < int(match.group("denominator").replace(",", ""))
    if match.group("count") or match.group("about"):
        estimate = _ESTIMATE.search(before)
        if estimate is None or (match.group("about") and estimate.group(0).lower().startswith("over")):
            return False  # "over 5 days" is a span of time, "over 10,000 people" a count
        return not _instruction(text, line_start, start)
    if match.group("duration"):
        return not _instruction(text, line_start, start)
    return True


def _instruction(text: str, line_start: int, offset: int) -> bool:
    """Whether the sentence before OFFSET starts with an imperative verb ("Take it for …")."""
    sentence = max(text.rfind(". ", line_start, offset) + 2, line_start)
    return bool(_INSTRUCTION.match(text, sentence))


def word_forms(text: str) -> list[tuple[int, int]]:
    """Numbers written in words: "one in three", "the second most common cancer"."""
    return [m.span() for m in (*_WORD_ONE_IN_N.finditer(text), *_WORD_ORDINAL.finditer(text))]


_BEFORE = re.compile(r"(?:between\s+\d[\d,.]*\s+and\s+|\d[\d,.]*\s?(?:[-–]|to)\s?|[$£€]\s?)$", re.IGNORECASE)


_AFTER = re.compile(r"(?:[ \t]?(?:[-–]|to)[ \t]?\d[\d,.]*(?<![.,]))?[ \t]?%")


def whole_number(text: str, start: int, end: int) -> str:
    """The number at TEXT[START:END] as a reader sees it: "70-80%" rather than "80%",
    "1 in 100,000" rather than "1 in 1", "$245 billion"."""
    while start and (
        text[start - 1].isdecimal() or (text[start - 1] in ".," and text[start - 2 : start - 1].isdecimal())
    ):
        start -= 1
    while end < len(text) and (
        text[end].isdecimal() or (text[end] in ".," and text[end + 1 : end + 2].isdecimal())
    ):
        end += 1
    after = _AFTER.match(text, end)
    if after:
        end = after.end()
    before = _BEFORE.search(text, max(0, start - 30), start)
    if before and "\n" not in before.group(0):
        start = before.start()
    return text[start:end].strip()
