"""Reference identity, checked offline from the lockfile (`reviewflow refs fetch` fills it).

Each reference's DOI, PMID and PMCID is looked up in the lockfile, read once per run: an
identifier not there is unverified; one the registry says does not exist is not found; one that
resolved to a work whose title, year or journal is not the reference's is a mismatch, shown at
the identifier's line with both values. Retractions and expressions of concern in the lockfile
join the Retraction Watch list (`lock_retractions`), so `reference-retracted` and
`reference-concern` say "this is retracted" in one place; a correction is a warning here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from reviewflow.checks.retractions import Notice, RetractionIndex, stricter
from reviewflow.config import Config, RuleSettings
from reviewflow.content.article import Article, Document, Reference
from reviewflow.findings import Severity
from reviewflow.references.lockfile import KINDS, LOCKFILE, NOTICE_NATURES, SOURCE_NAMES, ReferenceLock, Work
from reviewflow.references.matching import DEFAULT_SIMILARITY, differences

if TYPE_CHECKING:
    from reviewflow.checks.rules import Context, Hit

LABELS = {"doi": "DOI", "pmid": "PMID", "pmcid": "PMCID"}


def _source(work: Work) -> str:
    return SOURCE_NAMES.get(work.source, work.source)


# (index, reference, kind, value, the lockfile's entries for it) of every identifier.
Looked = tuple[int, Reference, str, str, list[Work]]


def _looked_up(article: Article, doc: Document, lock: ReferenceLock) -> list[Looked]:
    """Every DOI, PMID and PMCID of ARTICLE's references with its entries in LOCK: looked up once
    per article for the four rules below (each looked them all up again: ~0.1 ms an article)."""
    kept: tuple[ReferenceLock, list[Looked]] | None = doc.__dict__.get("_identity_entries")
    if kept is not None and kept[0] is lock:
        return kept[1]
    found = [
        (index, reference, kind, value, lock.entries(kind, value))
        for index, reference in enumerate(article.references)
        for kind in KINDS
        if (value := getattr(reference, kind))
    ]
    doc.__dict__["_identity_entries"] = (lock, found)
    return found


def _reference_unverified(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    lock = ctx.references
    if lock is None:
        return
    missing_of: dict[int, list[tuple[str, str]]] = {}  # by reference, in order
    for index, _, kind, value, entries in _looked_up(article, doc, lock):
        if not entries:  # none here nor in the base's: lock.get(kind, value) is None
            missing_of.setdefault(index, []).append((kind, value))
    for index, missing in missing_of.items():
        listed = ", ".join(f"{LABELS[k]} {v}" for k, v in missing)
        yield (
            *doc.position("references", index, missing[0][0]),
            f"reference {article.references[index].id}: {listed} not verified ({LOCKFILE} does not list it): "
            f"run `reviewflow refs fetch {doc.path}`",
        )


def _reference_not_found(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    lock = ctx.references
    if lock is None:
        return
    for index, reference, kind, value, entries in _looked_up(article, doc, lock):
        work = next((w for w in entries if not w.found), None)
        if work is not None:
            yield (
                *doc.position("references", index, kind),
                f"reference {reference.id}: {LABELS[kind]} {value} does not exist in {_source(work)} "
                f"(checked {work.checked_on}): correct the identifier or remove it",
            )


def _reference_mismatch(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    lock = ctx.references
    if lock is None:
        return
    threshold = ctx.config.references.title_similarity if ctx.config.references else DEFAULT_SIMILARITY
    for index, reference, kind, value, entries in _looked_up(article, doc, lock):
        # In ci an identifier may have two entries, HEAD's and the base's: both must match.
        judged = ((w, _mismatches(reference, kind, w, lock, threshold)) for w in entries)
        found = next(((w, p) for w, p in judged if p), None)
        if found is not None:
            work, problems = found
            yield (
                *doc.position("references", index, kind),
                f"reference {reference.id}: {LABELS[kind]} {value} resolves to another work"
                f"{_described(work, lock)}: {'; '.join(problems)}",
            )


def _mismatches(
    reference: Reference, kind: str, work: Work, lock: ReferenceLock, threshold: float
) -> list[str]:
    """What in REFERENCE its identifier of KIND (resolved to WORK) contradicts."""
    if not work.found:
        return []
    problems = []
    # The registry's own links between identifiers: PubMed lists a paper's DOI, PMC a PMCID's PMID and DOI.
    for other in ("doi", "pmid", "pmcid"):
        listed = getattr(work, other)  # most entries list none: the reference is not read then
        if not listed or other == kind:
            continue
        stated = getattr(reference, other)
        if stated and stated.lower() != listed.lower():
            problems.append(f"{_source(work)} lists {LABELS[other]} {listed} for it, not {stated}")
    target = work
    if kind == "pmcid":
        resolved = lock.get("pmid", work.pmid) if work.pmid else None
        if resolved is None or not resolved.found or (reference.pmid and reference.pmid != work.pmid):
            return problems  # the PMID itself is checked, or there is nothing more to compare
        target = resolved
    return problems + differences(reference.title, reference.source, reference.year, target, threshold)


def _described(work: Work, lock: ReferenceLock) -> str:
    if work.kind == "pmcid" and work.pmid:
        resolved = lock.get("pmid", work.pmid)
        return f" (PMID {work.pmid})" + (_described(resolved, lock) if resolved and resolved.found else "")
    facts = [
        f
        for f in (
            work.first_author,
            work.journal_abbreviation or work.journal,
            str(work.year) if work.year else None,
        )
        if f
    ]
    return f" ({', '.join(facts)}; {_source(work)})" if facts else f" ({_source(work)})"


def _reference_corrected(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    lock = ctx.references
    if lock is None:
        return
    notices_of: dict[int, list[str]] = {}  # by reference, in order
    for index, _, _, _, entries in _looked_up(article, doc, lock):
        for work in entries:
            if work.notices:
                notices_of.setdefault(index, []).extend(
                    f"{n.described} ({_source(work)})" for n in work.notices if n.type == "correction"
                )
    for index, notices in notices_of.items():
        reference = article.references[index]
        if notices:
            yield (
                *doc.position("references", index),
                f"reference {reference.id} has a correction: {'; '.join(dict.fromkeys(notices))}: "
                "check that the article cites the corrected findings",
            )


def lock_retractions(lock: ReferenceLock) -> RetractionIndex:
    """The lockfile's retractions and expressions of concern as a retraction index, to be judged
    together with the Retraction Watch list (retractions.stricter) by the same two rules."""
    index = RetractionIndex()
    for work in lock.with_notices():
        if work.kind not in ("doi", "pmid"):
            continue
        by, reinstated = (
            (index.by_doi, index.reinstated_dois)
            if work.kind == "doi"
            else (index.by_pmid, index.reinstated_pmids)
        )
        for lock_notice in work.notices:
            nature = NOTICE_NATURES.get(lock_notice.type)
            if nature is None:
                continue
            notice = Notice(nature, source=_source(work))
            current = by.get(work.value)
            if current is None or notice.rank > current.rank:
                by[work.value] = notice
            if notice.is_reinstatement:
                reinstated.add(work.value)
    return index


def judged_with_lock(
    lock: ReferenceLock | None,
    retractions: RetractionIndex | None,
    rules: dict[str, RuleSettings],
    configs: Sequence[Config],
) -> tuple[RetractionIndex | None, dict[str, RuleSettings]]:
    """`ci`'s retraction list and rules with LOCK: its notices count with the list's, and
    reference-unverified is an error where any of CONFIGS (the base's, HEAD's) says
    `[references] ci_unverified = "error"`."""
    if lock is None:
        return retractions, rules
    if any(c.references is not None and c.references.ci_unverified == "error" for c in configs):
        rules = {**rules, "reference-unverified": RuleSettings.model_validate("error")}
    return stricter(lock_retractions(lock), retractions), rules


# (id, severity, description, run): checks/rules.py registers them with the other rules.
IDENTITY_RULES = [
    (
        "reference-mismatch",
        Severity.ERROR,
        "a DOI, PMID or PMCID resolves to another work than the reference names",
        _reference_mismatch,
    ),
    (
        "reference-unverified",
        Severity.WARNING,
        "an identifier is not in the reference lockfile (`reviewflow refs fetch`)",
        _reference_unverified,
    ),
    (
        "reference-not-found",
        Severity.ERROR,
        "the registry says an identifier does not exist",
        _reference_not_found,
    ),
    (
        "reference-corrected",
        Severity.WARNING,
        "a cited paper has a correction (from the reference lockfile)",
        _reference_corrected,
    ),
]
