"""The rules `reviewflow check` runs over a parsed article.

A rule is a small record: an id, a default severity, one line saying what it guards, and a
function that yields (line, column, message) hits. RULES is the registry; adding a rule is
adding one function and one entry (those on front-matter and citations are in structure.py,
those that read the prose in language.py, sourcing.py, jargon.py and testimonial.py). Rules
are pure: they read the Document and the Context, never the disk or git.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from reviewflow.checks import readability as reading_grade
from reviewflow.checks import testimonial as testimonial_lists
from reviewflow.checks import vocabulary as vocabularies
from reviewflow.checks.intended import INTENDED_STALE, apply_intended, intended_marks
from reviewflow.checks.jargon import jargon
from reviewflow.checks.language import (
    absolute_claim,
    body_disclaimer,
    evidence_uncited,
    raw_html,
    readability,
)
from reviewflow.checks.reference_identity import IDENTITY_RULES
from reviewflow.checks.retractions import RetractionIndex
from reviewflow.checks.sourcing import citation_bare, claim_uncited, references_missing
from reviewflow.checks.structure import (
    citation_malformed,
    citation_unknown,
    counterpart_unknown,
    date_future,
    disclaimer_audience,
    disclaimer_unknown,
    disclosure_missing,
    reference_concern,
    reference_duplicate_id,
    reference_duplicate_identifier,
    reference_no_identifier,
    reference_old,
    reference_retracted,
    reference_uncited,
)
from reviewflow.checks.testimonial import testimonial
from reviewflow.config import Audience, Checks, Config
from reviewflow.content.article import Article, Document
from reviewflow.content.facts import Facts
from reviewflow.findings import Finding, Severity
from reviewflow.references.lockfile import ReferenceLock

# (line, column, message), or with a fourth item: the severity of this hit when
# reviewflow.toml does not set the rule's (a rule whose hit is graver in some articles: only
# graver, so a warning rule's hit may be an error, never an error rule's a warning).
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
    # False: a warning's message may leave out what only a reader needs (readability's hardest
    # sentences, ~5 % of a text's check where half the texts are over the grade): enough for a
    # verdict by rule, line and column (`verify`'s early checks), not to show.
    full_messages: bool = True


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


RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in [
        Rule(
            "disclaimer-unknown",
            Severity.ERROR,
            "the disclaimer key is not defined in reviewflow.toml",
            disclaimer_unknown,
        ),
        Rule(
            "disclaimer-audience",
            Severity.ERROR,
            "the disclaimer is written for another audience",
            disclaimer_audience,
        ),
        Rule(
            "citation-unknown",
            Severity.ERROR,
            "a citation marker cites an id not in references",
            citation_unknown,
        ),
        Rule(
            "citation-malformed",
            Severity.ERROR,
            "a citation range runs backwards or is too wide",
            citation_malformed,
        ),
        Rule(
            "reference-uncited",
            Severity.WARNING,
            "a reference is never cited in the body",
            reference_uncited,
        ),
        Rule("reference-duplicate-id", Severity.ERROR, "two references share an id", reference_duplicate_id),
        Rule(
            "reference-duplicate-identifier",
            Severity.ERROR,
            "two references share a DOI, PMID or PMCID",
            reference_duplicate_identifier,
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
            reference_old,
        ),
        Rule(
            "reference-no-identifier",
            Severity.WARNING,
            "a reference has no DOI, PMID, PMCID or URL",
            reference_no_identifier,
        ),
        Rule(
            "reference-retracted",
            Severity.ERROR,
            "a cited paper is retracted (checks.retractions)",
            reference_retracted,
        ),
        Rule(
            "reference-concern",
            Severity.WARNING,
            "a cited paper has an expression of concern",
            reference_concern,
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
            disclosure_missing,
        ),
        Rule("date-future", Severity.ERROR, "a reference is dated after the current year", date_future),
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
            counterpart_unknown,
        ),
    ]
}

ALL_RULE_IDS = [*FILE_RULES, *RULES, INTENDED_STALE]


# Which rules run on an article of one audience under one [checks] table, each with the
# severity reviewflow.toml sets (None: the rule's default, or its hit's own): worked out once
# per process rather than per article. Keyed by the table's identity (frozen, and kept here, so
# the id is never reused while it is), the audience, and whether only warnings are wanted.
_Plan = list[tuple[Rule, Severity | None, Severity]]
_PLANS: dict[tuple[int, Audience, bool], tuple[Checks, _Plan]] = {}


def _plan(checks: Checks, audience: Audience, warnings_only: bool = False) -> _Plan:
    kept = _PLANS.get((id(checks), audience, warnings_only))
    if kept is not None and kept[0] is checks:
        return kept[1]
    plan: _Plan = []
    for rule in RULES.values():
        setting = checks.rule_setting(rule.id, audience)
        if setting == "off":
            continue
        configured, default = Severity(setting) if setting else None, rule.default_severity(audience)
        # A hit's own severity is only ever graver than its rule's default (Hit): a rule that
        # is an error by its setting or its default reports nothing but errors.
        if warnings_only and (configured or default) is Severity.ERROR:
            continue
        plan.append((rule, configured, default))
    if len(_PLANS) > 64:  # a long-lived process that reads many configs: bounded
        _PLANS.clear()
    _PLANS[id(checks), audience, warnings_only] = (checks, plan)
    return plan


def warm_up(checks: Checks) -> None:
    """Load now what the rules load when they first run under CHECKS: the syllable table and the
    hyphenation patterns (readability.warm_up), the vocabularies with their finders, and the
    testimonial lists. Called before forking workers, which then share one copy: each worker
    made its own vocabularies and lists (~60 M instructions, ~0.02 s of CPU, a third of them
    parsing the vocabulary files), 6 % of a worker's work at 1,000 articles."""
    reading_grade.warm_up()
    vocabularies.vocabulary(checks).make_finders()
    testimonial_lists.warm_up(checks)


def let_go() -> None:
    """Drop what warm_up loaded (~16 MB: the syllable table and hyphenation patterns ~15 MB, the
    vocabularies and lists ~1 MB), in a process that forked the workers that use it and
    reads other things meanwhile; a later check loads it again."""
    reading_grade.let_go()
    vocabularies.let_go()
    testimonial_lists.let_go()


def check_document(doc: Document, ctx: Context, *, warnings_only: bool = False) -> list[Finding]:
    """Every finding for one article: the problems met while reading it, then each rule's.

    WARNINGS_ONLY: the rules that can only report errors are not run, so that every warning is
    found, and of the errors only the reading's own (verify judges an approval by the warnings
    its trailers acknowledge; an error refused it when it was made). Those rules' hits could
    not change a warning: an intended mark matches warnings only. In the bench corpus they are
    a fifth of a text's check (date-future's position lookups read the front-matter's lines)."""
    findings = list(doc.findings)
    article = doc.article
    if article is not None:
        if not ctx.full_messages and intended_marks(article):
            ctx = replace(ctx, full_messages=True)  # a mark may match words of a message only
        for rule, configured, default in _plan(ctx.config.checks, article.audience, warnings_only):
            for hit in rule.run(article, doc, ctx):
                # A hit's own severity, where the rule's is not set: only a warning rule's (Hit).
                own = default if len(hit) == 3 or default is not Severity.WARNING else hit[3]
                findings.append(
                    Finding(
                        rule=rule.id,
                        severity=configured or own,
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
