"""The rules `reviewflow check` runs over a parsed article.

A rule is a small record: an id, a default severity, one line saying what it guards, and a
function that yields (line, column, message) hits. RULES is the registry; adding a rule is
adding one function and one entry. Rules are pure: they read the Document and the Context,
never the disk or git.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from reviewflow.checks.readability import flesch_kincaid_grade
from reviewflow.checks.retractions import RetractionIndex
from reviewflow.config import Config
from reviewflow.content.article import Article, Document
from reviewflow.content.prose import MARKER, Prose
from reviewflow.findings import Finding, Severity

Hit = tuple[int, int, str]


@dataclass(frozen=True)
class Context:
    config: Config
    today: date
    retractions: RetractionIndex | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    description: str
    run: Callable[[Article, Document, Context], Iterable[Hit]]


# Problems found while reading a file, before any rule can run. Always errors.
FILE_RULES = {
    "file-unreadable": "the file cannot be read",
    "file-too-large": "the file is over checks.max_file_bytes",
    "file-empty": "the file is empty",
    "file-binary": "the file holds binary content",
    "file-encoding": "the file is not valid UTF-8",
    "frontmatter-missing": "the file does not start with '---' front-matter",
    "frontmatter-unclosed": "the front-matter is never closed",
    "frontmatter-not-mapping": "the front-matter is not a mapping of fields",
    "yaml-syntax": "the front-matter is not valid YAML",
    "yaml-duplicate-key": "a key appears twice (YAML would silently keep the last)",
    "yaml-alias": "YAML anchors or aliases are used",
    "yaml-tag": "a YAML tag such as !!python/object is used",
    "slug": "the file name is not a valid slug",
    "schema": "the front-matter does not match schemas/article.schema.json",
}


def _disclaimer_unknown(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    if article.disclaimer not in ctx.config.disclaimers:
        known = ", ".join(sorted(ctx.config.disclaimers)) or "none defined"
        yield (
            *doc.position("disclaimer"),
            f"disclaimer {article.disclaimer!r} is not in reviewflow.toml (known: {known})",
        )


def _disclaimer_audience(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    disclaimer = ctx.config.disclaimers.get(article.disclaimer)
    if disclaimer and disclaimer.audience != article.audience:
        yield (
            *doc.position("disclaimer"),
            f"disclaimer {article.disclaimer!r} is written for {disclaimer.audience}s, "
            f"but this article's audience is {article.audience}",
        )


def _citation_unknown(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    known = {r.id for r in article.references}
    if known.issuperset(i for ids, _ in doc.prose.cited.values() for i in ids):
        return  # the common case, found without locating every marker
    for citation in doc.citations:
        missing = [i for i in citation.ids if i not in known]
        if missing:
            ids = ", ".join(map(str, missing))
            yield (
                *doc.prose.locate(citation.offset),
                f"citation {citation.text} cites reference {ids}, which is not in references",
            )


def _citation_malformed(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    if not any(problem for _, problem in doc.prose.cited.values()):
        return
    for citation in doc.citations:
        if citation.problem:
            yield *doc.prose.locate(citation.offset), f"citation {citation.text}: {citation.problem}"


def _reference_uncited(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    cited = {i for ids, _ in doc.prose.cited.values() for i in ids}
    for index, reference in enumerate(article.references):
        if reference.id not in cited:
            yield *doc.position("references", index), f"reference {reference.id} is never cited in the body"


def _reference_duplicate_id(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    first: dict[int, int] = {}  # id -> index of the reference that has it first
    for index, reference in enumerate(article.references):
        if reference.id in first:
            first_line, _ = doc.position("references", first[reference.id], "id")
            yield (
                *doc.position("references", index, "id"),
                f"reference id {reference.id} is used twice (first on line {first_line})",
            )
        else:
            first[reference.id] = index


def _reference_duplicate_identifier(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    seen: dict[tuple[str, str], int] = {}
    for index, reference in enumerate(article.references):
        for kind, value in (("doi", reference.doi), ("pmid", reference.pmid), ("pmcid", reference.pmcid)):
            if not value:
                continue
            key = (kind, value.lower())
            if key in seen:
                yield (
                    *doc.position("references", index, kind),
                    f"{kind.upper()} {value} appears in references {seen[key]} and {reference.id}",
                )
            else:
                seen[key] = reference.id


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
            rf"\b(?:{_RATE_WORDS})\s+rates?\b[^.]{{0,80}}?\d|\d[^.\[]{{0,80}}?\b(?:{_RATE_WORDS})\s+rates?\b",
            re.IGNORECASE,
        ),
    ),
    (
        ("hazard ratio", "odds ratio", "relative risk", "-fold"),
        re.compile(r"\b(?:hazard|odds) ratio\b|\brelative risk\b|\d(?:\.\d+)?-fold\b", re.IGNORECASE),
    ),
]


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


def _evidence_uncited(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    prose = doc.prose
    reported: set[int] = set()
    for match in _evidence_matches(prose):
        begin, end = prose.sentence_span(match.start())
        if begin in reported or MARKER.search(prose.text, begin, end):
            continue
        reported.add(begin)
        yield (
            *prose.locate(begin),
            f"states a number as evidence ({match.group(0).strip()!r}) with no citation marker",
        )


def _reference_old(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    limit = ctx.config.checks.max_reference_age_years
    for index, reference in enumerate(article.references):
        age = ctx.today.year - reference.year
        if age > limit:
            yield (
                *doc.position("references", index, "year"),
                f"reference {reference.id} is from {reference.year}, older than {limit} years: "
                "check for newer evidence",
            )


def _reference_no_identifier(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    for index, reference in enumerate(article.references):
        if not (reference.doi or reference.pmid or reference.pmcid or reference.url):
            yield (
                *doc.position("references", index),
                f"reference {reference.id} has no DOI, PMID, PMCID or URL: readers cannot find it",
            )


def _retraction_hits(article: Article, doc: Document, ctx: Context, retracted: bool) -> Iterator[Hit]:
    if ctx.retractions is None:
        return
    for index, reference in enumerate(article.references):
        notice = ctx.retractions.lookup(reference.doi, reference.pmid)
        if (
            notice is None
            or (notice.is_retraction != retracted)
            or not (notice.is_retraction or notice.is_concern)
        ):
            continue
        if retracted:
            what = "has been retracted"
        elif notice.reinstated:
            what = "was retracted and later reinstated: check the notices before citing it"
        else:
            what = "carries an expression of concern"
        yield *doc.position("references", index), f"reference {reference.id} {what} (Retraction Watch)"


def _reference_retracted(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    return _retraction_hits(article, doc, ctx, retracted=True)


def _reference_concern(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    return _retraction_hits(article, doc, ctx, retracted=False)


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


def _body_disclaimer(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    prose = doc.prose
    if not prose.mentions(_DISCLAIMER_TRIGGERS):
        return
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


def _raw_html(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    first_on_line = {line: column for line, column in reversed(doc.prose.html)}  # one per line
    for line, column in sorted(first_on_line.items()):
        yield (
            line,
            column,
            "raw HTML (a tag or an <!-- comment -->) is never published as HTML: readers would see it "
            "as text; write it in Markdown, or delete it",
        )


@lru_cache(maxsize=8)
def _claims_pattern(claims: tuple[str, ...]) -> re.Pattern[str]:
    phrases = sorted((re.escape(c) for c in claims if c.strip()), key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(phrases) + r")(?!\w)", re.IGNORECASE)


def _absolute_claim(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    claims = tuple(claim.lower() for claim in ctx.config.checks.absolute_claims)
    prose = doc.prose
    if not prose.mentions(claims):
        return
    for match in _claims_pattern(claims).finditer(prose.text):
        begin, end = prose.sentence_span(match.start())
        # The claim's own words do not negate it ("no side effects" is a claim).
        rest = prose.text[begin : match.start()] + " " + prose.text[match.end() : end]
        if not _NEGATION.search(rest):
            yield (
                *prose.locate(begin),
                f"absolute or promotional claim {match.group(0)!r}: qualify it or cite the evidence",
            )


def _readability(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    if article.audience != "patient":
        return
    prose = doc.prose
    if prose.text.count(" ") < 30:
        return  # too short for the formula to mean anything
    grade = flesch_kincaid_grade(prose.text, prose.sentence_count, prose.marker_insides)
    limit = ctx.config.checks.patient_max_grade
    if grade > limit:
        yield (
            doc.body_line,
            1,
            (
                f"Flesch-Kincaid grade {grade:.1f} is above {limit:g} for a patient article: "
                "use shorter sentences and everyday words"
            ),
        )


RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in [
        Rule(
            "disclaimer-unknown",
            Severity.ERROR,
            "the disclaimer key is not defined in reviewflow.toml",
            _disclaimer_unknown,
        ),
        Rule(
            "disclaimer-audience",
            Severity.ERROR,
            "the disclaimer is written for another audience",
            _disclaimer_audience,
        ),
        Rule(
            "citation-unknown",
            Severity.ERROR,
            "a citation marker cites an id not in references",
            _citation_unknown,
        ),
        Rule(
            "citation-malformed",
            Severity.ERROR,
            "a citation range runs backwards or is too wide",
            _citation_malformed,
        ),
        Rule(
            "reference-uncited",
            Severity.WARNING,
            "a reference is never cited in the body",
            _reference_uncited,
        ),
        Rule("reference-duplicate-id", Severity.ERROR, "two references share an id", _reference_duplicate_id),
        Rule(
            "reference-duplicate-identifier",
            Severity.ERROR,
            "two references share a DOI, PMID or PMCID",
            _reference_duplicate_identifier,
        ),
        Rule(
            "evidence-uncited",
            Severity.WARNING,
            "a sentence states a number as evidence without a citation",
            _evidence_uncited,
        ),
        Rule(
            "reference-old",
            Severity.WARNING,
            "a reference is older than checks.max_reference_age_years",
            _reference_old,
        ),
        Rule(
            "reference-no-identifier",
            Severity.WARNING,
            "a reference has no DOI, PMID, PMCID or URL",
            _reference_no_identifier,
        ),
        Rule(
            "reference-retracted",
            Severity.ERROR,
            "a cited paper is retracted (checks.retractions)",
            _reference_retracted,
        ),
        Rule(
            "reference-concern",
            Severity.WARNING,
            "a cited paper has an expression of concern",
            _reference_concern,
        ),
        Rule(
            "body-disclaimer", Severity.WARNING, "the body holds a hand-written disclaimer", _body_disclaimer
        ),
        Rule(
            "raw-html",
            Severity.WARNING,
            "the body holds raw HTML, which readers would see as text",
            _raw_html,
        ),
        Rule(
            "absolute-claim",
            Severity.WARNING,
            "an absolute or promotional claim that is not negated",
            _absolute_claim,
        ),
        Rule(
            "readability",
            Severity.WARNING,
            "a patient article reads above checks.patient_max_grade",
            _readability,
        ),
    ]
}

ALL_RULE_IDS = [*FILE_RULES, *RULES]


def check_document(doc: Document, ctx: Context) -> list[Finding]:
    """Every finding for one article: the problems met while reading it, then each rule's."""
    findings = list(doc.findings)
    article = doc.article
    if article is not None:
        settings = ctx.config.checks.rules
        for rule in RULES.values():
            setting = settings.get(rule.id)
            if setting == "off":
                continue
            severity = Severity(setting) if setting else rule.severity
            findings.extend(
                Finding(
                    rule=rule.id, severity=severity, path=doc.path, line=line, column=column, message=message
                )
                for line, column, message in rule.run(article, doc, ctx)
            )
    return sorted(findings, key=Finding.sort_key)
