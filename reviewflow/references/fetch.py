"""`reviewflow refs fetch`: which identifiers to ask about, the requests that takes, the asking.

Only identifiers missing from the lockfile are fetched, or older than --max-age days, or every
one with --refresh. The plan is known before the first request (`FetchPlan.requests`): DOIs go to
Crossref in batches, PMIDs and PMCIDs to NCBI 200 at a time, so 10,000 articles cost thousands
of requests, not one per reference. Nothing is written unless every request succeeded.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from reviewflow.config import Config, References
from reviewflow.content.article import Reference
from reviewflow.errors import CannotWrite, ConfigError
from reviewflow.files import read_regular, write_replacing
from reviewflow.layout import CONFIG_FILE
from reviewflow.references.http import Client
from reviewflow.references.lockfile import KINDS, LOCKFILE, ReferenceLock, Work, dumps, key_of, load_lock
from reviewflow.references.registries import CROSSREF_BATCH, NCBI_BATCH, fetch_dois, fetch_pmcids, fetch_pmids

NCBI_RATE = 3.0  # requests a second NCBI allows without an API key
NCBI_RATE_WITH_KEY = 10.0


def identifiers(references: Iterable[Reference]) -> set[tuple[str, str]]:
    """The (kind, value) of every DOI, PMID and PMCID in REFERENCES."""
    found = set()
    for reference in references:
        for kind in KINDS:
            value = getattr(reference, kind)
            if value:
                found.add((kind, key_of(kind, value).partition(":")[2]))
    return found


@dataclass(frozen=True)
class FetchPlan:
    dois: tuple[str, ...] = ()
    pmids: tuple[str, ...] = ()
    pmcids: tuple[str, ...] = ()
    kept: int = 0  # identifiers already in the lockfile and recent enough

    @property
    def requests(self) -> dict[str, int]:
        """The requests the plan takes at least, per service: a DOI a Crossref batch does not
        return costs one more, and a PMCID's PMID not yet known one more esummary batch."""
        return {
            "crossref": math.ceil(len(self.dois) / CROSSREF_BATCH),
            "ncbi": math.ceil(len(self.pmids) / NCBI_BATCH) + math.ceil(len(self.pmcids) / NCBI_BATCH),
        }

    def __len__(self) -> int:
        return len(self.dois) + len(self.pmids) + len(self.pmcids)


def plan_fetch(
    wanted: Iterable[tuple[str, str]],
    lock: ReferenceLock | None,
    today: date,
    *,
    max_age_days: int | None = None,
    refresh: bool = False,
) -> FetchPlan:
    """What to ask the registries about, of WANTED, given what LOCK already holds."""
    cutoff = today - timedelta(days=max_age_days) if max_age_days is not None else None
    chosen: dict[str, list[str]] = {kind: [] for kind in KINDS}
    kept = 0
    for kind, value in sorted(set(wanted)):
        work = lock.get(kind, value) if lock is not None else None
        if refresh or work is None or (cutoff is not None and work.fetched_before(cutoff)):
            chosen[kind].append(value)
        else:
            kept += 1
    return FetchPlan(tuple(chosen["doi"]), tuple(chosen["pmid"]), tuple(chosen["pmcid"]), kept)


@dataclass
class FetchReport:
    plan: FetchPlan
    works: list[Work] = field(default_factory=list)  # what was fetched
    requests: dict[str, int] = field(default_factory=dict)  # made, per service
    written: bool = False

    @property
    def not_found(self) -> list[Work]:
        return [w for w in self.works if not w.found]


def client_for(settings: References, contact: str, api_key: str | None) -> Client:
    ncbi = NCBI_RATE_WITH_KEY if api_key else NCBI_RATE
    return Client(
        contact=contact,
        timeout=settings.timeout_seconds,
        retries=settings.retries,
        max_bytes=settings.max_response_bytes,
        intervals={
            "crossref": 1.0 / settings.requests_per_second,
            "ncbi": 1.0 / min(ncbi, settings.requests_per_second),
        },
    )


def fetch(
    plan: FetchPlan, settings: References, client: Client, today: date, api_key: str | None
) -> list[Work]:
    """Ask the registries about PLAN's identifiers: a Work each (found or not), and for the
    PMID a PMCID converts to, that PMID's summary too when the plan did not already have it."""
    day = today.isoformat()
    works = fetch_dois(client, settings.crossref_url, plan.dois, day)
    works += fetch_pmids(client, settings.eutils_url, plan.pmids, day, api_key)
    converted = fetch_pmcids(client, settings.idconv_url, plan.pmcids, day, api_key)
    works += converted
    asked = set(plan.pmids)
    more = sorted({w.pmid for w in converted if w.pmid and w.pmid not in asked})
    works += fetch_pmids(client, settings.eutils_url, more, day, api_key)
    return works


def updated_works(lock: ReferenceLock | None, fetched: Sequence[Work], cited: set[str] | None) -> list[Work]:
    """The lockfile's entries after a fetch: FETCHED over the old ones; with CITED (a fetch for
    every article), only the entries some article cites, or a cited PMCID's PMID, are kept."""
    works = dict(lock.works) if lock is not None else {}
    works.update((w.key, w) for w in fetched)
    if cited is not None:
        keep = set(cited) | {key_of("pmid", w.pmid) for k, w in works.items() if k in cited and w.pmid}
        works = {k: w for k, w in works.items() if k in keep}
    return list(works.values())


def fetch_references(
    root: Path,
    config: Config,
    references: Iterable[Reference],
    *,
    every_article: bool,
    max_age_days: int | None = None,
    refresh: bool = False,
    dry_run: bool = False,
    today: date | None = None,
) -> FetchReport:
    """Fetch what REFERENCES' identifiers resolve to into ROOT's lockfile (EVERY_ARTICLE: they are
    all the articles' references, and entries no article cites are dropped). Written only when
    every request succeeded and something changed; DRY_RUN: only the plan."""
    settings = config.references or References()
    today = today or date.today()
    lock = load_lock(root)
    wanted = identifiers(references)
    plan = plan_fetch(wanted, lock, today, max_age_days=max_age_days, refresh=refresh)
    report = FetchReport(plan)
    if dry_run:
        return report
    if len(plan) and not settings.contact:
        raise ConfigError(
            f"{CONFIG_FILE}: [references] contact is not set: Crossref and NCBI ask every client for a "
            'contact address; add `[references]` with `contact = "editors@example.org"`'
        )
    api_key = os.environ.get("NCBI_API_KEY") or None
    client = client_for(settings, settings.contact or "", api_key)
    report.works = fetch(plan, settings, client, today, api_key) if len(plan) else []
    report.requests = dict(client.requests)
    cited = {key_of(kind, value) for kind, value in wanted} if every_article else None
    works = updated_works(lock, report.works, cited)
    data = dumps(works)
    if lock is None or data != _current(root):
        try:
            write_replacing(root / LOCKFILE, data)
        except OSError as exc:
            raise CannotWrite.wrap(exc, LOCKFILE) or exc from None
        report.written = True
    return report


def _current(root: Path) -> bytes | None:
    try:
        return read_regular(root, root / LOCKFILE)
    except OSError:
        return None
