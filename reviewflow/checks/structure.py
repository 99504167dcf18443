"""The rules over an article's front-matter and its citation markers: disclaimers, citations,
references (ids, identifiers, age, retractions), disclosures, dates and the counterpart.
Registered in rules.py, which also holds the rules' types; the rules that read prose are in
language.py, sourcing.py, jargon.py and testimonial.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from reviewflow.checks.prose_fields import bare_citations
from reviewflow.content.article import Article, Document

if TYPE_CHECKING:  # rules.py imports these rules into its registry
    from reviewflow.checks.rules import Context, Hit


def disclaimer_unknown(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    if article.disclaimer not in ctx.config.disclaimers:
        known = ", ".join(sorted(ctx.config.disclaimers)) or "none defined"
        yield (
            *doc.position("disclaimer"),
            f"disclaimer {article.disclaimer!r} is not in reviewflow.toml (known: {known})",
        )


def disclaimer_audience(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    disclaimer = ctx.config.disclaimers.get(article.disclaimer)
    if disclaimer and disclaimer.audience != article.audience:
        yield (
            *doc.position("disclaimer"),
            f"disclaimer {article.disclaimer!r} is written for {disclaimer.audience}s, "
            f"but this article's audience is {article.audience}",
        )


def citation_unknown(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
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


def citation_malformed(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    if not any(problem for _, problem in doc.prose.cited.values()):
        return
    for citation in doc.citations:
        if citation.problem:
            yield *doc.prose.locate(citation.offset), f"citation {citation.text}: {citation.problem}"


def reference_uncited(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    cited = {i for ids, _ in doc.prose.cited.values() for i in ids}
    if len(cited) < len(article.references):
        # A reference cited only by a plain number ("… survival. 1, 2") is cited the wrong
        # way, which citation-bare reports with the fix; it is not also "never cited".
        cited.update(int(i) for _, ids in bare_citations(doc.prose) for i in ids.split(","))
    for index, reference in enumerate(article.references):
        if reference.id not in cited:
            yield *doc.position("references", index), f"reference {reference.id} is never cited in the body"


def reference_duplicate_id(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
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


def reference_duplicate_identifier(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
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


def reference_old(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    limit = ctx.config.checks.max_reference_age_years
    for index, reference in enumerate(article.references):
        age = ctx.today.year - reference.year
        if age > limit:
            yield (
                *doc.position("references", index, "year"),
                f"reference {reference.id} is from {reference.year}, older than {limit} years: "
                "check for newer evidence",
            )


def reference_no_identifier(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    for index, reference in enumerate(article.references):
        if not (reference.doi or reference.pmid or reference.pmcid or reference.url):
            yield (
                *doc.position("references", index),
                f"reference {reference.id} has no DOI, PMID, PMCID or URL: readers cannot find it",
            )


def _retraction_hits(article: Article, doc: Document, ctx: Context, retracted: bool) -> Iterator[Hit]:
    if ctx.retractions is None or not ctx.retractions.lists_any():
        return  # a lockfile without notices and no Retraction Watch list: nothing to look up
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


def reference_retracted(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    return _retraction_hits(article, doc, ctx, retracted=True)


def reference_concern(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    return _retraction_hits(article, doc, ctx, retracted=False)


def disclosure_missing(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    for index, author in enumerate(article.authors):
        if not (author.competing_interests or "").strip():
            yield (
                *doc.position("authors", index),
                f"author {author.name!r} declares no competing interests: add "
                'competing_interests (write "none" when there are none)',
            )


def date_future(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    for index, reference in enumerate(article.references):
        if reference.year > ctx.today.year:
            yield (
                *doc.position("references", index, "year"),
                f"reference {reference.id} is dated {reference.year}, after this year ({ctx.today.year})",
            )


def counterpart_unknown(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
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
        yield *where, f"counterpart {wanted!r}: no readable article under articles/ has this slug"
    elif other.audience == article.audience:
        yield (
            *where,
            f"counterpart {wanted!r} is written for {other.audience}s too: name the other audience's article",
        )
    elif other.group != " ".join(article.condition.split()).casefold():
        yield *where, f"counterpart {wanted!r} is about {other.condition!r}, not {article.condition!r}"
