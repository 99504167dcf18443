"""Retracted literature, from a local copy of the Retraction Watch CSV (works offline)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from reviewflow.errors import ConfigError

REQUIRED_COLUMNS = {"OriginalPaperDOI", "OriginalPaperPubMedID", "RetractionNature"}


@dataclass(frozen=True)
class Notice:
    nature: str  # "Retraction", "Expression of concern", "Correction", "Reinstatement"
    retraction_doi: str = ""

    @property
    def is_retraction(self) -> bool:
        return self.nature.strip().lower() == "retraction"

    @property
    def is_concern(self) -> bool:
        return "concern" in self.nature.lower()


@dataclass
class RetractionIndex:
    by_doi: dict[str, Notice] = field(default_factory=dict)  # lowercased DOI
    by_pmid: dict[str, Notice] = field(default_factory=dict)

    def lookup(self, doi: str | None, pmid: str | None) -> Notice | None:
        if doi and (notice := self.by_doi.get(doi.lower())):
            return notice
        if pmid:
            return self.by_pmid.get(pmid)
        return None


def load_retractions(path: Path) -> RetractionIndex:
    index = RetractionIndex()
    try:
        with path.open(newline="", encoding="utf-8", errors="replace") as handle:
            reader = csv.DictReader(handle)
            missing = REQUIRED_COLUMNS - set(reader.fieldnames or ())
            if missing:
                raise ConfigError(
                    f"{path}: not a Retraction Watch CSV: missing column(s) {', '.join(sorted(missing))}"
                )
            for row in reader:
                notice = Notice(row["RetractionNature"] or "", row.get("RetractionDOI") or "")
                # A retraction outranks a concern or a correction for the same paper.
                doi = (row["OriginalPaperDOI"] or "").strip().lower()
                if doi and doi not in ("unavailable", "0"):
                    _keep_strongest(index.by_doi, doi, notice)
                pmid = (row["OriginalPaperPubMedID"] or "").strip()
                if pmid and pmid != "0":
                    _keep_strongest(index.by_pmid, pmid, notice)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    return index


def _keep_strongest(table: dict[str, Notice], key: str, notice: Notice) -> None:
    current = table.get(key)
    if current is None or (notice.is_retraction and not current.is_retraction):
        table[key] = notice
