"""schema.org JSON-LD for an article page: a MedicalWebPage with its review, sources and audience.

Review fields (`reviewedBy`, `lastReviewed`, `datePublished`) appear only for approved text.
`json_script` serialises for a `<script>` element: Jinja's autoescape does not reach inside
one, so `<`, `>` and `&` are written as JSON escapes and no article text can end the element.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import orjson

from reviewflow.config import Site
from reviewflow.content.article import Article, Reference

if TYPE_CHECKING:
    from reviewflow.publish.pages import PageInfo, Reviewer

SCHEMA_AUDIENCE = {"patient": "Patient", "professional": "Clinician"}
ORGANISATION_WORDS = frozenset({
    "team", "editors", "editorial", "staff", "board", "committee", "group", "society", "association",
    "foundation", "institute", "department", "network", "trust", "council", "college", "organisation",
    "organization", "service", "services", "unit", "centre", "center", "clinic", "hospital", "press",
})  # fmt: skip


def medical_web_page(
    info: PageInfo,
    article: Article,
    site: Site,
    base_url: str | None,
    path: str,
    anchors: Mapping[str, str] | None = None,
    crumbs: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """The JSON-LD of the article page at PATH (relative to the site's root). ANCHORS: each
    board member's anchor on the board page, by email (article_page.member_anchors); CRUMBS:
    (name, path) of the pages above this one, from the home page down."""
    anchors = anchors or {}
    audience = {"@type": "MedicalAudience", "audienceType": SCHEMA_AUDIENCE[article.audience]}
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "name": article.title,
        "headline": article.title,
        "description": article.summary,
        "inLanguage": site.language,
    }
    if base_url:
        data["url"] = f"{base_url}/{path}"
    if info.approved and info.published:
        data["datePublished"] = info.published.isoformat()
    if info.updated:
        # Text written before its first approval was not modified, for readers, before it was published.
        modified = max(d for d in (info.updated, info.published if info.approved else None) if d)
        data["dateModified"] = modified.isoformat()
    if info.approved and info.reviewed:
        data["lastReviewed"] = info.reviewed.isoformat()
        data["reviewedBy"] = [person(r, board_url(base_url, anchors.get(r.email))) for r in info.reviewers]
    data["author"] = [author(a.name, a.credentials) for a in article.authors]
    data["audience"] = audience
    data["medicalAudience"] = audience
    data["about"] = {"@type": "MedicalCondition", "name": article.condition}
    if article.tags:
        data["keywords"] = ", ".join(article.tags)
    data["citation"] = [citation(r) for r in sorted(article.references, key=lambda r: r.id)]
    # schema.org CreativeWork: `funding` is a Grant, `sponsor` an Organization.
    if article.funding:
        data["funding"] = {"@type": "Grant", "name": article.funding}
    if article.sponsor:
        data["sponsor"] = {"@type": "Organization", "name": article.sponsor}
    data["publisher"] = publisher(site, base_url)
    data["isPartOf"] = website(site, base_url)
    if base_url:
        data["mainEntityOfPage"] = {"@type": "WebPage", "@id": f"{base_url}/{path}"}
    data["breadcrumb"] = breadcrumb([*crumbs, (article.title, path)], base_url)
    return data


def publisher(site: Site, base_url: str | None) -> dict[str, Any]:
    """The publisher, as an Organization (the site's owner, from `[site]`)."""
    data: dict[str, Any] = {"@type": "Organization", "name": site.name}
    if base_url:
        data["@id"] = f"{base_url}/#organization"
        data["url"] = f"{base_url}/"
    return data


def website(site: Site, base_url: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {"@type": "WebSite", "name": site.name, "inLanguage": site.language}
    if base_url:
        data["@id"] = f"{base_url}/#website"
        data["url"] = f"{base_url}/"
        data["publisher"] = {"@id": f"{base_url}/#organization"}
    else:
        data["publisher"] = publisher(site, None)
    return data


def breadcrumb(steps: Sequence[tuple[str, str]], base_url: str | None) -> dict[str, Any]:
    """The pages from the home page down to this one: (name, path from the site's root)."""
    items = []
    for position, (name, where) in enumerate(steps, start=1):
        item: dict[str, Any] = {"@type": "ListItem", "position": position, "name": name}
        if base_url:
            item["item"] = f"{base_url}/{where}"
        items.append(item)
    return {"@type": "BreadcrumbList", "itemListElement": items}


def board_url(base_url: str | None, anchor: str | None) -> str | None:
    """A board member's entry on the board page, as an absolute URL (needs a base URL)."""
    if not base_url:
        return None
    return f"{base_url}/board/#{anchor}" if anchor else f"{base_url}/board/"


def identifier_links(reference: Reference) -> tuple[tuple[str, str, str], ...]:
    """(label, identifier, href) for each way to find a reference: DOI, PubMed, PMC, its URL."""
    return _links(reference.doi, reference.pmid, reference.pmcid, reference.url)


# Kept by the four identifiers, not by the Reference: asked twice per reference (for the JSON-LD
# and for the page), and a model's hash is a Python call over all its fields, a third of the cost.
@functools.lru_cache(maxsize=1024)
def _links(
    doi: str | None, pmid: str | None, pmcid: str | None, url: str | None
) -> tuple[tuple[str, str, str], ...]:
    links = []
    if doi:
        links.append(("DOI", doi, "https://doi.org/" + _quoted(doi, "/:;()._-")))
    if pmid:
        links.append(("PubMed", pmid, f"https://pubmed.ncbi.nlm.nih.gov/{_quoted(pmid)}/"))
    if pmcid:
        links.append(("PMC", pmcid, f"https://www.ncbi.nlm.nih.gov/pmc/articles/{_quoted(pmcid)}/"))
    if url:
        scheme, netloc = _scheme_and_host(url)
        if scheme in ("http", "https"):
            links.append(("Link", netloc, url))
    return tuple(links)


# A URL as most references give it, in printable ASCII: what urlsplit would read as its scheme
# and netloc is plain to see, without urlsplit's cost (a tenth of the JSON-LD's).
_PLAIN_URL = re.compile(r"(https?)://([A-Za-z0-9.-]*(?::[0-9]*)?)(?:[/?#][!-~]*)?")


def _scheme_and_host(url: str) -> tuple[str, str]:
    """urlsplit(URL)'s scheme and netloc."""
    plain = _PLAIN_URL.fullmatch(url)
    if plain is not None:
        return plain.group(1), plain.group(2)
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


# By the characters `safe` adds: what urllib's quote leaves as it is (most identifiers are only that).
_UNQUOTED = {"": re.compile(r"[A-Za-z0-9_.~-]*"), "/:;()._-": re.compile(r"[A-Za-z0-9_.~/:;()-]*")}


def _quoted(text: str, safe: str = "") -> str:
    """quote(TEXT, safe=SAFE), without its cost for the identifiers it would leave unchanged."""
    return text if _UNQUOTED[safe].fullmatch(text) else quote(text, safe=safe)


def citation(reference: Reference) -> dict[str, Any]:
    kind = "CreativeWork" if reference.type in ("guideline", "other") else "ScholarlyArticle"
    data: dict[str, Any] = {"@type": kind, "name": reference.title}
    if reference.type == "guideline":
        data["genre"] = "Guideline"
    data["isPartOf"] = {"@type": "Periodical", "name": reference.source}
    data["datePublished"] = str(reference.year)
    identifiers = [("DOI", reference.doi), ("PMID", reference.pmid), ("PMCID", reference.pmcid)]
    present = [{"@type": "PropertyValue", "propertyID": k, "value": v} for k, v in identifiers if v]
    if present:
        data["identifier"] = present
    links = [href for _, _, href in identifier_links(reference)]
    if links:
        data["url"] = links[0]
        if len(links) > 1:
            data["sameAs"] = links[1:]
    return data


def person(reviewer: Reviewer, url: str | None = None) -> dict[str, Any]:
    data = credited(reviewer.name, reviewer.credentials)
    if reviewer.affiliation and reviewer.on_board:
        data["affiliation"] = {"@type": "Organization", "name": reviewer.affiliation}
    if url and reviewer.on_board:
        data["url"] = url
    return data


def author(name: str, credentials: str | None) -> dict[str, Any]:
    """An author: an Organization when the byline names one (an editorial team, a society),
    else a Person."""
    if credentials is None and is_organisation(name):
        return {"@type": "Organization", "name": name}
    return credited(name, credentials)


def is_organisation(name: str) -> bool:
    """Whether an author's name is an organisation's: it holds a word that names a body of
    people ("Editorial Team", "Reviewflow Editors", "British Thyroid Association")."""
    return not ORGANISATION_WORDS.isdisjoint(re.findall(r"[a-z]+", name.casefold()))


def credited(name: str, credentials: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {"@type": "Person", "name": name}
    if credentials:
        data["hasCredential"] = {"@type": "EducationalOccupationalCredential", "name": credentials}
    return data


def json_script(data: dict[str, Any]) -> str:
    """JSON for a <script> element: nothing inside can end the element or open a comment.

    Compact, non-ASCII kept: orjson writes what `json.dumps(ensure_ascii=False, separators=(",",
    ":"))` writes, several times faster; a text it refuses (a lone surrogate, from a YAML
    `"\\ud800"`) goes to json as before."""
    try:
        text = orjson.dumps(data).decode("utf-8")
    except orjson.JSONEncodeError:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
