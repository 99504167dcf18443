"""Retracted literature, from a local copy of the Retraction Watch CSV (works offline).

A paper may have several notices (a correction, then an expression of concern, then a
retraction), listed by DOI, by PubMed id or both. The index keeps the strongest notice per
identifier, and a lookup takes the strongest of the DOI's and the PMID's: a retraction
outranks an expression of concern, which outranks anything else. A reinstatement reverses a
retraction: the paper then stands, but with the history of a concern (a warning to check it).

`ci` judges a change by two lists at once, the base's and HEAD's (`stricter`): a change can add
a notice that counts at once, but cannot remove or weaken one to hide the paper it cites.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from reviewflow.errors import ConfigError
from reviewflow.files import open_regular

REQUIRED_COLUMNS = {"OriginalPaperDOI", "OriginalPaperPubMedID", "RetractionNature"}


@dataclass(frozen=True)
class Notice:
    nature: str  # "Retraction", "Expression of concern", "Correction", "Reinstatement"
    reinstated: bool = False  # a reinstatement of the same paper is listed too
    # Who says so: the Retraction Watch list, or the registry a lockfile entry came from.
    source: str = "Retraction Watch"

    @property
    def is_reinstatement(self) -> bool:
        return self.nature.strip().lower() == "reinstatement"

    @property
    def is_retraction(self) -> bool:
        return self.nature.strip().lower() == "retraction" and not self.reinstated

    @property
    def is_concern(self) -> bool:
        return "concern" in self.nature.lower() or (
            self.reinstated and self.nature.strip().lower() == "retraction"
        )

    @property
    def rank(self) -> int:
        """2 for a retraction, 1 for an expression of concern, 0 for any other notice."""
        return 2 if self.is_retraction else 1 if self.is_concern else 0


@dataclass
class RetractionIndex:
    by_doi: dict[str, Notice] = field(default_factory=dict)  # lowercased DOI
    by_pmid: dict[str, Notice] = field(default_factory=dict)

    reinstated_dois: set[str] = field(default_factory=set)
    reinstated_pmids: set[str] = field(default_factory=set)
    # Another list judged together with this one (see `stricter`).
    also: RetractionIndex | None = None

    def lists_any(self) -> bool:
        """Whether any notice is listed (lookup finds none in an empty index)."""
        return bool(self.by_doi or self.by_pmid) or (self.also is not None and self.also.lists_any())

    def lookup(self, doi: str | None, pmid: str | None) -> Notice | None:
        """The strongest notice listed under the DOI or the PMID of a paper (in either list)."""
        found = self._lookup(doi, pmid)
        other = self.also.lookup(doi, pmid) if self.also is not None else None
        if other is not None and (found is None or other.rank > found.rank):
            return other
        return found

    def _lookup(self, doi: str | None, pmid: str | None) -> Notice | None:
        doi = doi.strip().lower() if doi else ""
        pmid = pmid.strip() if pmid else ""
        by_doi = self.by_doi.get(doi) if doi else None
        by_pmid = self.by_pmid.get(pmid) if pmid else None
        found = by_pmid if by_doi is None or (by_pmid is not None and by_pmid.rank > by_doi.rank) else by_doi
        if found is not None and (doi in self.reinstated_dois or pmid in self.reinstated_pmids):
            return replace(found, reinstated=True)
        return found


def load_retractions(path: Path, root: Path | None = None) -> RetractionIndex:
    """The notices in the Retraction Watch CSV at PATH, a regular file inside ROOT (files.py)."""
    try:
        descriptor = open_regular(root or path.parent, path)
        with open(descriptor, newline="", encoding="utf-8", errors="replace") as handle:
            return _index(handle, str(path))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None


def parse_retractions(raw: bytes, source: str) -> RetractionIndex:
    """The notices in a Retraction Watch CSV read from git (SOURCE names it in messages)."""
    return _index(io.StringIO(raw.decode("utf-8", "replace"), newline=""), source)


def stricter(first: RetractionIndex | None, second: RetractionIndex | None) -> RetractionIndex | None:
    """Both lists judged together: each paper at the stronger of its two notices.

    A reinstatement in one list does not weaken a retraction the other lists without it.
    """
    if first is None or second is None or first is second:
        return first or second
    return replace(first, also=second)


def _index(handle: Iterable[str], source: str) -> RetractionIndex:
    reader = csv.DictReader(handle)
    try:
        return _read_index(reader, source)
    except csv.Error as exc:  # a field over the csv module's limit (131,072 characters), or the like
        # (the line of the error is the one after the lines read whole)
        raise ConfigError(f"{source}:{reader.line_num + 1}: not a readable CSV: {exc}") from None


def _read_index(reader: csv.DictReader[str], source: str) -> RetractionIndex:
    index = RetractionIndex()
    missing = REQUIRED_COLUMNS - set(reader.fieldnames or ())
    if missing:
        raise ConfigError(
            f"{source}: not a Retraction Watch CSV: missing column(s) {', '.join(sorted(missing))}"
        )
    for row in reader:
        notice = Notice(row["RetractionNature"] or "")
        doi = (row["OriginalPaperDOI"] or "").strip().lower()
        if doi and doi not in ("unavailable", "0"):
            _keep_strongest(index.by_doi, doi, notice)
            if notice.is_reinstatement:
                index.reinstated_dois.add(doi)
        pmid = (row["OriginalPaperPubMedID"] or "").strip()
        if pmid and pmid != "0":
            _keep_strongest(index.by_pmid, pmid, notice)
            if notice.is_reinstatement:
                index.reinstated_pmids.add(pmid)
    return index


def _keep_strongest(table: dict[str, Notice], key: str, notice: Notice) -> None:
    current = table.get(key)
    if current is None or notice.rank > current.rank:
        table[key] = notice
