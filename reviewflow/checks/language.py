"""The rules that read an article's prose: numbers stated as evidence, hand-written disclaimers,
raw HTML, absolute claims, readability. Registered in rules.py, like every rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from reviewflow.checks.evidence import number_forms, whole_number, word_forms
from reviewflow.checks.prose_fields import FieldProse, prose_parts, sentence_cited, uncited_text
from reviewflow.checks.readability import grade_of, hardest_sentences, prose_totals
from reviewflow.checks.vocabulary import vocabulary
from reviewflow.content.article import Article, Document
from reviewflow.content.prose import Prose

if TYPE_CHECKING:  # rules.py imports these rules into its registry
    from reviewflow.checks.rules import Context, Hit

# Ways a sentence states a number as evidence. Each pattern runs only when one of its literal
# triggers occurs in the text: a substring test costs microseconds, a regex scan of an
# alternation a fifth of a millisecond, and this is the hot path of `check`.
_RATE_WORDS = "survival|response|remission|relapse|mortality|recurrence|success|failure"
_PERCENTAGE = re.compile(r"\d(?:[\d.,]*\d)?\s?(?:%|percent\b|per cent\b)", re.IGNORECASE)
_ONE_IN_N = re.compile(r"\d[ \t]+(?:in|of|out of)[ \t]+(?:every[ \t]+)?\d")
_EVIDENCE: list[tuple[tuple[str, ...], re.Pattern[str]]] = [
    (("%", "percent", "per cent"), _PERCENTAGE),
    (("n=", "n ="), re.compile(r"(?<![A-Za-z])[nN]\s?=\s?\d")),
    ((" in ", " of "), _ONE_IN_N),
    (
        tuple(f"{word} rate" for word in _RATE_WORDS.split("|")),
        re.compile(
            rf"\b(?:{_RATE_WORDS})\s+rates?\b[^.\n]{{0,80}}?\d|\d[^.\[\n]{{0,80}}?\b(?:{_RATE_WORDS})\s+rates?\b",
            re.IGNORECASE,
        ),
    ),
    (
        ("hazard ratio", "odds ratio", "relative risk", "-fold"),
        re.compile(r"\b(?:hazard|odds) ratio\b|\brelative risk\b|\d(?:\.\d+)?-fold\b", re.IGNORECASE),
    ),
]


# Every literal a pattern above or a number in words (_WORD_NUMBERS) needs: a title or a
# summary that holds none of them is tested once rather than once per pattern.
def _any_of(literals: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(map(re.escape, sorted(set(literals), key=len, reverse=True))))


def _evidence_matches(prose: Prose) -> list[re.Match[str]]:
    matches = [
        match
        for triggers, pattern in _EVIDENCE
        if prose.mentions(triggers)
        for match in _FINDERS.get(pattern, _find_all)(pattern, prose)
    ]
    return sorted(matches, key=lambda m: m.start())


def _find_all(pattern: re.Pattern[str], prose: Prose) -> list[re.Match[str]]:
    return list(pattern.finditer(prose.text))


# `re` tries a pattern that starts with \d at every character of the text. The two that nearly
# every article triggers are found from their literal parts instead (str.find, in C): each
# match must end at a "%" (or "percent") or contain " in " / " of " after a number, so the
# places where a match can start are few, and `_matches_at` tries only those, in order and
# without overlaps, as finditer would. tests/test_check_rules.py compares them with finditer.


def _find_percentages(pattern: re.Pattern[str], prose: Prose) -> list[re.Match[str]]:
    text, lowered = prose.text, prose.lowered
    if len(lowered) != len(text):
        return _find_all(pattern, prose)  # lowercasing moved the offsets
    starts = set()
    for literal in ("%", "percent", "per cent"):
        end = lowered.find(literal)
        while end >= 0:
            digits_end = end - 1 if end and text[end - 1].isspace() else end
            if digits_end and text[digits_end - 1].isdecimal():
                start = digits_end - 1  # back to the first digit of the run of digits, . and ,
                while start and (text[start - 1].isdecimal() or text[start - 1] in ".,"):
                    start -= 1
                while not text[start].isdecimal():
                    start += 1
                starts.add(start)
            end = lowered.find(literal, end + 1)
    return _matches_at(pattern, text, starts)


def _find_one_in_n(pattern: re.Pattern[str], prose: Prose) -> list[re.Match[str]]:
    text = prose.text
    if "\t" in text:
        return _find_all(pattern, prose)
    starts = set()
    for word in (" in ", " of ", " out of "):
        found = text.find(word)
        while found >= 0:
            spaces = found
            while spaces and text[spaces - 1] == " ":
                spaces -= 1
            if spaces and text[spaces - 1].isdecimal():
                starts.add(spaces - 1)
            found = text.find(word, found + 1)
    return _matches_at(pattern, text, starts)


def _matches_at(pattern: re.Pattern[str], text: str, starts: set[int]) -> list[re.Match[str]]:
    found: list[re.Match[str]] = []
    done = 0
    for start in sorted(starts):
        if start >= done and (match := pattern.match(text, start)):
            found.append(match)
            done = match.end()
    return found


_FINDERS: dict[re.Pattern[str], Callable[[re.Pattern[str], Prose], list[re.Match[str]]]] = {
    _PERCENTAGE: _find_percentages,
    _ONE_IN_N: _find_one_in_n,
}


_WORD_NUMBERS = (
    *(f"{n} in " for n in ("one", "two", "three", "four", "five")),
    "leading",
    "most common",
    "commonest",
)
_ANY_TRIGGER = _any_of([*(t for triggers, _ in _EVIDENCE for t in triggers), *_WORD_NUMBERS])
_STEP_BEFORE = re.compile(
    r"\b(?:step|steps|grade|stage|type|phase|part|page|day|week|cycle|level|chapter)\s*$", re.I
)


def _step(text: str, match: re.Match[str]) -> bool:
    """Whether an "N of M" is a step or a grade ("step 1 of 3"), not a proportion."""
    found = match.group(0)
    return (" of " in found or " in " in found) and bool(
        _STEP_BEFORE.search(text, max(0, match.start() - 12), match.start())
    )


def _number_in(match: re.Match[str]) -> tuple[int, int]:
    """The number a match is about: "70" in "survival rate exceeds 70" (the message quotes it
    whole, "70-80%")."""
    if match.group(0)[:1] in "0123456789nN":
        return match.span()  # "80%", "n = 31", "1 in 100,000"
    numbers = list(re.finditer(r"\d[\d,.]*", match.group(0)))
    if not numbers:
        return match.span()  # "hazard ratio": the words are the evidence
    return match.start() + numbers[-1].start(), match.start() + numbers[-1].end()


_DIGIT = re.compile(r"\d")


# What every number stated as evidence starts with (a digit, "n = 31", "hazard ratio",
# "relative risk", "one in three", "the second most common"): a body whose uncited sentences
# hold none of these has nothing to report.
_MAY_BE_EVIDENCE = re.compile(r"[\d=]")
_EVIDENCE_WORDS = (
    "hazard", "odds", "relative", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    "ten", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
)  # fmt: skip
_EVIDENCE_WORDS_ANY_CASE = re.compile("|".join(_EVIDENCE_WORDS), re.IGNORECASE)


def _may_hold_evidence(text: str) -> bool:
    if _MAY_BE_EVIDENCE.search(text):
        return True
    if text.isascii():  # as the rules' patterns, which ignore case, read it
        lowered = text.lower()
        return any(word in lowered for word in _EVIDENCE_WORDS)
    return bool(_EVIDENCE_WORDS_ANY_CASE.search(text))


def evidence_uncited(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    for prose in prose_parts(doc, article):
        if prose is doc.prose and not _may_hold_evidence(uncited_text(prose)):
            continue
        yield from _evidence_in(doc, prose)


def _evidence_in(doc: Document, prose: Prose) -> Iterator[Hit]:
    text = prose.text
    field = isinstance(prose, FieldProse)
    # Where no trigger occurs, every `mentions` below is false: one search of a short text.
    triggered = not field or _ANY_TRIGGER.search(prose.lowered) is not None
    spans = []
    if field and not _DIGIT.search(text):
        pass  # most titles and summaries hold no number: skip the body's tests
    else:
        if triggered:
            spans = [_number_in(match) for match in _evidence_matches(prose) if not _step(text, match)]
        spans += number_forms(text)
    if triggered and prose.mentions(_WORD_NUMBERS):
        spans += word_forms(text)
    reported: set[int] = set()
    begin = sentence_end = -1
    for start, end in sorted(spans):
        if start >= sentence_end:
            begin, sentence_end = prose.sentence_span(start)
        if begin in reported:
            continue
        reported.add(begin)
        if sentence_cited(doc, prose, begin, sentence_end, text[start:end]):
            continue
        number = whole_number(text, start, end)
        yield (
            *prose.locate(begin),
            f"states a number as evidence ({number!r}) with no citation marker",
        )


_HAND_DISCLAIMER = re.compile(
    r"\bmedical disclaimer\b"
    r"|\bfor (?:general )?(?:informational|educational|information) purposes(?: only)?\b"
    r"|\b(?:not|never)\s+(?:intended\s+(?:as|to\s+be|to\s+replace)|a\s+substitute\s+for|constitute|replace)\b[^.]{0,40}\b(?:medical|professional)\s+(?:advice|care|diagnosis)"
    r"|\bassumes? no (?:liability|responsibility)\b",
    re.IGNORECASE,
)


_DISCLAIMER_TRIGGERS = (
    "disclaimer",
    "purposes",
    "liability",
    "responsibility",
    *(f"{who} {what}" for who in ("medical", "professional") for what in ("advice", "care", "diagnosis")),
)


def body_disclaimer(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    for prose in prose_parts(doc, article):
        if prose.mentions(_DISCLAIMER_TRIGGERS):
            yield from _disclaimers_in(article, prose)


def _disclaimers_in(article: Article, prose: Prose) -> Iterator[Hit]:
    reported: set[int] = set()
    for match in _HAND_DISCLAIMER.finditer(prose.text):
        begin, _ = prose.sentence_span(match.start())
        if begin not in reported:
            reported.add(begin)
            yield (
                *prose.locate(begin),
                (
                    "hand-written disclaimer in the body: remove it, publishing adds the "
                    f"{article.disclaimer!r} disclaimer from reviewflow.toml"
                ),
            )


_NEGATION = re.compile(
    r"\b(?:no|not|never|cannot|without|nor|neither|none|nothing|unlikely|rarely)\b|n[’']t\b", re.IGNORECASE
)


def raw_html(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    first_on_line = {line: column for line, column in reversed(doc.prose.html)}  # one per line
    for line, column in sorted(first_on_line.items()):
        yield (
            line,
            column,
            "raw HTML (a tag or an <!-- comment -->) is never published as HTML: readers would see it "
            "as text; write it in Markdown, or delete it",
        )


# Where a clause ends: a negation in another clause does not govern the claim word
# ("It is not expensive, and it is guaranteed to cure you").
_CLAUSE_END = re.compile(r"[,;:!?()—–]|\s-\s|\b(?:and|but|while|whereas|although|though|yet|however)\b", re.I)


def absolute_claim(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    finder = vocabulary(ctx.config.checks).absolute_finder
    professional = article.audience == "professional"
    for prose in prose_parts(doc, article):
        body = prose is doc.prose
        if professional and body and not finder.may_start_in(uncited_text(prose), prose):
            continue  # on a professional page only uncited sentences are reported
        spans = finder.find(prose)
        if spans:
            yield from _absolute_in(doc, prose, spans, professional)


def _absolute_in(
    doc: Document, prose: Prose, spans: list[tuple[int, int]], professional: bool
) -> Iterator[Hit]:
    text = prose.text
    reported: set[int] = set()
    for start, stop in spans:
        word = text[start:stop]
        begin, end = prose.sentence_span(start)
        if begin in reported or text[begin:end].rstrip().endswith("?"):
            continue  # a question promises nothing ("Can POEMS syndrome be cured?")
        # On a professional page, a cited statement is the evidence ("Curative doses … [3]").
        if professional and sentence_cited(doc, prose, begin, end, word):
            continue
        if negated(text[begin:start], text[stop:end]):
            continue
        reported.add(begin)
        yield *prose.locate(begin), f"absolute or promotional claim {word!r}: qualify it or cite the evidence"


def negated(before: str, after: str) -> bool:
    """Whether a negation in the claim word's own clause governs it ("is not a cure", "a cure
    cannot be promised"); the claim's own words never negate it ("no side effects")."""
    before_clause = _CLAUSE_END.split(before)[-1]
    after_clause = _CLAUSE_END.split(after)[0]
    return bool(_NEGATION.search(before_clause) or _NEGATION.search(after_clause))


def readability(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    if article.audience != "patient":
        return
    prose = doc.prose
    # Too short for the formula to mean anything: under 30 spaces (most bodies have them in
    # their first few hundred characters, and counting there is enough).
    if prose.text.count(" ", 0, 1000) < 30 and prose.text.count(" ") < 30:
        return
    # Headings are left out: short lines of their own that would read as easy sentences.
    sentences = prose.sentence_count - len(prose.headings)
    grade = grade_of(*prose_totals(prose), sentences)
    limit = ctx.config.checks.patient_max_grade
    if grade > limit:
        hardest = "; ".join(
            f"line {prose.locate(start)[0]} (grade {sentence_grade:.0f}: {_opening(prose, start)})"
            for start, sentence_grade in (hardest_sentences(prose, limit) if ctx.full_messages else [])
        )
        yield (
            doc.body_line,
            1,
            (
                f"Flesch-Kincaid grade {grade:.1f} is above {limit:g} for a patient article: "
                "use shorter sentences and everyday words"
                + (f"; the hardest sentences: {hardest}" if hardest else "")
            ),
        )


def _opening(prose: Prose, start: int) -> str:
    words = prose.text[start : start + 60].split()[:5]
    return repr(" ".join(words) + " …")
