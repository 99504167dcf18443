"""The registries `refs fetch` asks, and what their answers say, as lockfile entries.

- Crossref REST API: `/works?filter=doi:A,doi:B` for DOIs in batches, then `/works/{doi}` for
  each DOI a batch did not return (the search index can lag the registry: only the work's own
  route can say 404, not found).
- NCBI E-utilities `esummary` (db=pubmed, JSON) for PMIDs, up to 200 ids a request.
- The PMC ID converter for PMCIDs, up to 200 ids a request: each PMCID's PMID and DOI.

The parsing is pure (JSON in, Works out), written from the services' documented shapes.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from reviewflow.references.http import Client, FetchError
from reviewflow.references.lockfile import LockNotice, Work, key_of

CROSSREF_BATCH = 25  # DOIs per filtered /works request: a short URL, a response of a few MB at most
NCBI_BATCH = 200  # the E-utilities' and the ID converter's limit per request
TOOL = "reviewflow"

# Crossref's update types, as the lockfile's notice types.
_CROSSREF_NOTICES = {
    "retraction": "retraction",
    "withdrawal": "retraction",
    "removal": "retraction",
    "expression_of_concern": "expression-of-concern",
    "expression-of-concern": "expression-of-concern",
    "correction": "correction",
    "corrigendum": "correction",
    "erratum": "correction",
    "partial_retraction": "correction",
}
# PubMed's comment-and-correction types (esummary "references"), as notice types.
_PUBMED_NOTICES = {
    "retraction in": "retraction",
    "expression of concern in": "expression-of-concern",
    "erratum in": "correction",
    "corrected and republished in": "correction",
}
_YEAR = re.compile(r"\b(1[5-9]\d\d|2\d\d\d)\b")


def batches(values: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


# --- Crossref ----------------------------------------------------------------------------------------


def fetch_dois(client: Client, base: str, dois: Sequence[str], today: str) -> list[Work]:
    works: dict[str, Work] = {}
    for batch in batches(dois, CROSSREF_BATCH):
        url = f"{base.rstrip('/')}/works"
        params = {
            "filter": ",".join(f"doi:{d}" for d in batch),
            "rows": str(len(batch)),
            "mailto": client.contact,
        }
        response = client.get("crossref", url, params)
        if response.status == 400:  # a DOI the filter syntax cannot carry: each one alone
            works.update((key_of("doi", d), _one_doi(client, base, d, today)) for d in batch)
            continue
        if response.status != 200:
            raise FetchError(
                f"{_where(url)} answered HTTP {response.status} to a query for {len(batch)} DOIs"
            )
        for item in _items(response.json(url), url):
            work = crossref_work(item, today)
            if work is not None:
                works[work.key] = work
        for doi in batch:
            if key_of("doi", doi) not in works:
                works[key_of("doi", doi)] = _one_doi(client, base, doi, today)
    return list(works.values())


def _one_doi(client: Client, base: str, doi: str, today: str) -> Work:
    url = f"{base.rstrip('/')}/works/{urllib.parse.quote(doi, safe='')}"
    response = client.get("crossref", url, {"mailto": client.contact})
    if response.status == 404:
        return Work(key_of("doi", doi), "crossref", today, found=False)
    if response.status != 200:
        raise FetchError(f"{_where(url)} answered HTTP {response.status} for DOI {doi}")
    data = response.json(url)
    item = data.get("message") if isinstance(data, dict) else None
    work = crossref_work(item, today) if isinstance(item, dict) else None
    if work is None:
        raise FetchError(f"{_where(url)} answered DOI {doi} with JSON that is not a Crossref work")
    return work if work.key == key_of("doi", doi) else _rekeyed(work, key_of("doi", doi))


def _items(data: Any, url: str) -> list[dict[str, Any]]:
    message = data.get("message") if isinstance(data, dict) else None
    items = message.get("items") if isinstance(message, dict) else None
    if not isinstance(items, list):
        raise FetchError(f"{_where(url)} answered with JSON that is not a Crossref list of works")
    return [item for item in items if isinstance(item, dict)]


def crossref_work(item: Mapping[str, Any], today: str) -> Work | None:
    """A Crossref work (the `message` of /works/{doi}, or an item of /works) as a lockfile entry."""
    doi = item.get("DOI")
    if not isinstance(doi, str) or not doi:
        return None
    authors = [a for a in _list(item.get("author")) if isinstance(a, dict)]
    first = next((a for a in authors if a.get("sequence") == "first"), authors[0] if authors else None)
    notices = [n for n in _crossref_notices(item.get("updated-by")) if n is not None]
    # A publisher may record a retraction as an update of the same DOI.
    notices += [n for n in _crossref_notices(item.get("update-to"), only=doi) if n is not None]
    return Work(
        key=key_of("doi", doi),
        source="crossref",
        checked_on=today,
        title=_first_text(item.get("title")),
        journal=_first_text(item.get("container-title")),
        journal_abbreviation=_first_text(item.get("short-container-title")),
        issn=tuple(sorted({i for i in _list(item.get("ISSN")) if isinstance(i, str)})),
        year=_date_year(item.get("issued")) or _date_year(item.get("published")),
        first_author=_text(first.get("family") or first.get("name")) if first else None,
        publication_types=(item["type"],) if isinstance(item.get("type"), str) else (),
        notices=tuple(sorted(set(notices), key=lambda n: (n.type, n.doi or ""))),
    )


def _crossref_notices(updates: Any, only: str | None = None) -> Iterator[LockNotice | None]:
    for update in _list(updates):
        if not isinstance(update, dict):
            continue
        kind = _CROSSREF_NOTICES.get(str(update.get("type", "")).lower())
        target = update.get("DOI")
        if kind is None or (only is not None and str(target).lower() != only.lower()):
            yield None
            continue
        day = _date_text(update.get("updated"))
        yield LockNotice(kind, doi=target if only is None and isinstance(target, str) else None, date=day)


# --- NCBI: E-utilities esummary, the PMC ID converter ------------------------------------------------


def ncbi_params(client: Client, api_key: str | None) -> dict[str, str]:
    params = {"tool": TOOL, "email": client.contact}
    if api_key:
        params["api_key"] = api_key
    return params


def fetch_pmids(
    client: Client, base: str, pmids: Sequence[str], today: str, api_key: str | None
) -> list[Work]:
    works = []
    for batch in batches(pmids, NCBI_BATCH):
        url = f"{base.rstrip('/')}/esummary.fcgi"
        params = {"db": "pubmed", "id": ",".join(batch), "retmode": "json", **ncbi_params(client, api_key)}
        response = client.get("ncbi", url, params)
        if response.status != 200:
            raise FetchError(
                f"{_where(url)} answered HTTP {response.status} to a summary of {len(batch)} PMIDs"
            )
        works += pubmed_works(response.json(url), batch, today, url)
    return works


def pubmed_works(data: Any, asked: Iterable[str], today: str, url: str = "esummary") -> list[Work]:
    """The esummary answer DATA for the PMIDs ASKED: a Work each, found or not. A PMID the
    answer does not mention at all is left out (not known either way)."""
    result = data.get("result") if isinstance(data, dict) else None
    if not isinstance(result, dict):
        error = data.get("error") if isinstance(data, dict) else None
        raise FetchError(f"{_where(url)}: {error or 'the answer is not an esummary result'}")
    works = []
    for pmid in asked:
        entry = result.get(pmid)
        if not isinstance(entry, dict):
            continue
        if entry.get("error") or not entry.get("title"):
            works.append(Work(key_of("pmid", pmid), "pubmed", today, found=False))
            continue
        works.append(_pubmed_work(pmid, entry, today))
    return works


def _pubmed_work(pmid: str, entry: Mapping[str, Any], today: str) -> Work:
    ids = {i.get("idtype"): i.get("value") for i in _list(entry.get("articleids")) if isinstance(i, dict)}
    types = tuple(t for t in _list(entry.get("pubtype")) if isinstance(t, str))
    notices = [LockNotice("retraction")] if "Retracted Publication" in types else []
    for ref in _list(entry.get("references")):
        kind = _PUBMED_NOTICES.get(str(ref.get("reftype", "")).lower()) if isinstance(ref, dict) else None
        if kind is not None:
            notices.append(LockNotice(kind, pmid=_text(str(ref.get("pmid") or "")) or None))
    authors = [a for a in _list(entry.get("authors")) if isinstance(a, dict) and a.get("name")]
    pmc = ids.get("pmc") or ids.get("pmcid")
    return Work(
        key=key_of("pmid", pmid),
        source="pubmed",
        checked_on=today,
        title=_text(entry.get("title")),
        journal=_text(entry.get("fulljournalname")),
        journal_abbreviation=_text(entry.get("source")),
        issn=tuple(sorted({i for i in (entry.get("issn"), entry.get("essn")) if isinstance(i, str) and i})),
        year=_year(entry.get("pubdate")) or _year(entry.get("epubdate")),
        first_author=_family(str(authors[0]["name"])) if authors else None,
        publication_types=types,
        notices=tuple(sorted(set(notices), key=lambda n: (n.type, n.pmid or ""))),
        doi=_text(ids.get("doi")),
        pmcid=_text(pmc) if isinstance(pmc, str) and pmc.upper().startswith("PMC") else None,
    )


def fetch_pmcids(
    client: Client, base: str, pmcids: Sequence[str], today: str, api_key: str | None
) -> list[Work]:
    works = []
    for batch in batches(pmcids, NCBI_BATCH):
        url = base.rstrip("/") + "/"
        params = {"ids": ",".join(batch), "idtype": "pmcid", "format": "json", **ncbi_params(client, api_key)}
        response = client.get("ncbi", url, params)
        if response.status != 200:
            raise FetchError(f"{_where(url)} answered HTTP {response.status} to {len(batch)} PMCIDs")
        works += converted_works(response.json(url), today, url)
    return works


def converted_works(data: Any, today: str, url: str = "idconv") -> list[Work]:
    """The ID converter's answer DATA: for each PMCID its PMID and DOI, or that it is unknown."""
    records = data.get("records") if isinstance(data, dict) else None
    if not isinstance(records, list):
        raise FetchError(f"{_where(url)}: the answer is not a list of ID converter records")
    works = []
    for record in records:
        if not isinstance(record, dict):
            continue
        pmcid = record.get("pmcid") or record.get("requested-id")
        if not isinstance(pmcid, str) or not pmcid.upper().startswith("PMC"):
            continue
        if record.get("status") == "error" or not (record.get("pmid") or record.get("doi")):
            works.append(Work(key_of("pmcid", pmcid), "pmc-idconv", today, found=False))
            continue
        works.append(
            Work(
                key_of("pmcid", pmcid),
                "pmc-idconv",
                today,
                pmid=_text(str(record.get("pmid") or "")) or None,
                doi=_text(record.get("doi")),
            )
        )
    return works


# --- small readers ---------------------------------------------------------------------------------


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    return " ".join(value.split()) if isinstance(value, str) and value.strip() else None


def _first_text(value: Any) -> str | None:
    return next((t for t in (_text(v) for v in _list(value)) if t), None)


def _date_year(value: Any) -> int | None:
    parts = value.get("date-parts") if isinstance(value, dict) else None
    first = parts[0] if isinstance(parts, list) and parts and isinstance(parts[0], list) else []
    return first[0] if first and type(first[0]) is int else None


def _date_text(value: Any) -> str | None:
    parts = value.get("date-parts") if isinstance(value, dict) else None
    first = parts[0] if isinstance(parts, list) and parts and isinstance(parts[0], list) else []
    numbers = [p for p in first if type(p) is int]
    return "-".join(f"{n:02d}" if i else str(n) for i, n in enumerate(numbers)) or None


def _year(value: Any) -> int | None:
    match = _YEAR.search(value) if isinstance(value, str) else None
    return int(match.group(1)) if match else None


def _family(name: str) -> str:
    """The family name of a PubMed author ("Dispenzieri A", "D'Sa S"): the name without its initials."""
    words = name.split()
    if len(words) > 1 and words[-1].isupper() and len(words[-1]) <= 3:
        words = words[:-1]
    return " ".join(words)


def _rekeyed(work: Work, key: str) -> Work:
    return work._replace(key=key)


def _where(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc or url
