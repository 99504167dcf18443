"""The rules `reviewflow check` runs over a parsed article.

A rule is a small record: an id, a default severity, one line saying what it guards, and a
function that yields (line, column, message) hits. RULES is the registry; adding a rule is
adding one function and one entry (the rules that read the prose are in language.py). Rules
are pure: they read the Document and the Context, never the disk or git.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date

from reviewflow.checks.intended import INTENDED_STALE, apply_intended
from reviewflow.checks.jargon import jargon
from reviewflow.checks.language import (
    absolute_claim,
    body_disclaimer,
    evidence_uncited,
    raw_html,
    readability,
)
from reviewflow.checks.prose_fields import bare_citations
from reviewflow.checks.reference_identity import IDENTITY_RULES
from reviewflow.checks.retractions import RetractionIndex
from reviewflow.checks.sourcing import citation_bare, claim_uncited, references_missing
from reviewflow.checks.testimonial import testimonial
from reviewflow.config import Config
from reviewflow.content.article import Article, Document
from reviewflow.content.facts import Facts
from reviewflow.findings import Finding, Severity
from reviewflow.references.lockfile import ReferenceLock

# (line, column, message), or with a fourth item: the severity of this hit when
# reviewflow.toml does not set the rule's (a rule whose hit is graver in some articles).
Hit = tuple[int, int, str] | tuple[int, int, str, Severity]


@dataclass(frozen=True)
class Context:
    config: Config
    today: date
    retractions: RetractionIndex | None = None
    # The reference lockfile; None: the repository has none, reference identity is not checked.
    references: ReferenceLock | None = None
    # Another article's front-matter facts by slug (None: no such article). Only `check` has
    # the working tree to look in; without it, rules that compare articles stay silent.
    article_facts: Callable[[str], Facts | None] | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    description: str
    run: Callable[[Article, Document, Context], Iterable[Hit]]
    # The default severity for an audience, where it differs from `severity`.
    by_audience: Mapping[str, Severity] = field(default_factory=dict)

    def default_severity(self, audience: str) -> Severity:
        return self.by_audience.get(audience, self.severity)


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
    "yaml-unsupported": "YAML that front-matter has no use for, such as %YAML directives",
    "slug": "the file name is not a valid slug",
    "slug-duplicate": "another file under articles/ has the same slug (the file name)",
    "schema": "the front-matter does not match schemas/article.schema.json",
    "internal-error": "a bug in reviewflow stopped the check of this file (the others are still checked)",
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
    if len(cited) < len(article.references):
        # A reference cited only by a plain number ("… survival. 1, 2") is cited the wrong
        # way, which citation-bare reports with the fix; it is not also "never cited".
        cited.update(int(i) for _, ids in bare_citations(doc.prose) for i in ids.split(","))
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
        yield *doc.position("references", index), f"reference {reference.id} {what} ({notice.source})"


def _reference_retracted(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    return _retraction_hits(article, doc, ctx, retracted=True)


def _reference_concern(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    return _retraction_hits(article, doc, ctx, retracted=False)


def _disclosure_missing(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    for index, author in enumerate(article.authors):
        if not (author.competing_interests or "").strip():
            yield (
                *doc.position("authors", index),
                f"author {author.name!r} declares no competing interests: add "
                'competing_interests (write "none" when there are none)',
            )


def _date_future(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    for index, reference in enumerate(article.references):
        if reference.year > ctx.today.year:
            yield (
                *doc.position("references", index, "year"),
                f"reference {reference.id} is dated {reference.year}, after this year ({ctx.today.year})",
            )


def _counterpart_unknown(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    wanted = article.counterpart
    if wanted is None or ctx.article_facts is None:
        return
    where = doc.position("counterpart")
    if wanted == doc.slug:
        yield (
            *where,
            f"counterpart {wanted!r} is this article itself: name the article for the other audience",
        )
        return
    other = ctx.article_facts(wanted)
    if other is None:
        yield *where, f"counterpart {wanted!r}: there is no readable article articles/{wanted}.md"
    elif other.audience == article.audience:
        yield (
            *where,
            f"counterpart {wanted!r} is written for {other.audience}s too: name the other audience's article",
        )
    elif other.group != " ".join(article.condition.split()).casefold():
        yield *where, f"counterpart {wanted!r} is about {other.condition!r}, not {article.condition!r}"


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
            evidence_uncited,
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
            "body-disclaimer", Severity.WARNING, "the body holds a hand-written disclaimer", body_disclaimer
        ),
        Rule(
            "raw-html",
            Severity.WARNING,
            "the body holds raw HTML, which readers would see as text",
            raw_html,
        ),
        Rule(
            "absolute-claim",
            Severity.WARNING,
            "an absolute or promotional claim that is not negated",
            absolute_claim,
        ),
        Rule(
            "readability",
            Severity.WARNING,
            "a patient article reads above checks.patient_max_grade",
            readability,
        ),
        Rule(
            "references-missing",
            Severity.ERROR,
            "fewer references than checks.min_references",
            references_missing,
        ),
        Rule(
            "claim-uncited",
            Severity.WARNING,
            "a sentence claims what a treatment does, with no citation",
            claim_uncited,
        ),
        Rule(
            "citation-bare",
            Severity.WARNING,
            "a citation written as a plain number (an error when there is no reference list)",
            citation_bare,
        ),
        Rule(
            "jargon",
            Severity.WARNING,
            "a patient article uses an abbreviation or medical term it does not explain",
            jargon,
        ),
        Rule(
            "disclosure-missing",
            Severity.ERROR,
            "an author has no competing-interests declaration",
            _disclosure_missing,
        ),
        Rule("date-future", Severity.ERROR, "a reference is dated after the current year", _date_future),
        Rule(
            "testimonial",
            Severity.WARNING,
            "a personal story, or a generalisation from stories, used as evidence that a treatment works",
            testimonial,
            by_audience={"patient": Severity.ERROR},
        ),
        *(Rule(*rule) for rule in IDENTITY_RULES),
        Rule(
            "counterpart-unknown",
            Severity.WARNING,
            "the counterpart is no article, or not one on the same condition for the other audience",
            _counterpart_unknown,
        ),
    ]
}

ALL_RULE_IDS = [*FILE_RULES, *RULES, INTENDED_STALE]


def check_document(doc: Document, ctx: Context) -> list[Finding]:
    """Every finding for one article: the problems met while reading it, then each rule's."""
    findings = list(doc.findings)
    article = doc.article
    if article is not None:
        for rule in RULES.values():
            setting = ctx.config.checks.rule_setting(rule.id, article.audience)
            if setting == "off":
                continue
            default = Severity(setting) if setting else rule.default_severity(article.audience)
            for hit in rule.run(article, doc, ctx):
                severity = default if setting or len(hit) == 3 else hit[3]
                findings.append(
                    Finding(
                        rule=rule.id,
                        severity=severity,
                        path=doc.path,
                        line=hit[0],
                        column=hit[1],
                        message=hit[2],
                    )
                )
        findings = apply_intended(findings, article, doc)
        # The title's and the summary's prose refer back to the document: dropped, the document
        # goes with its last reference instead of waiting in a worker for the collector.
        doc.__dict__.pop("_prose_parts", None)
    return sorted(findings, key=Finding.sort_key)
