"""The reference lockfile, `articles/references.lock.json`: what each identifier resolves to.

One entry per identifier, keyed `doi:<lowercased DOI>`, `pmid:<digits>` or `pmcid:PMC<digits>`:
the work's title, journal (name, NLM abbreviation, ISSNs), year, first author's family name,
publication types, notices (retraction, correction, expression of concern), where it came from
and when. An identifier the registry says does not exist is kept too (`"found": false`), so that
`check` can say so offline. Written deterministically (sorted keys, two-space indent, one
trailing newline) and atomically (references/fetch.py), so that a diff of the file shows exactly what changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

from reviewflow.errors import OVER_LIMITS, ConfigError, InvalidFile, ReviewflowError, over_limits
from reviewflow.files import read_regular
from reviewflow.layout import LOCKFILE
from reviewflow.references.lockformat import VERSION, problem, validator

KINDS = ("doi", "pmid", "pmcid")
# A notice's type as the lockfile records it, and as the Retraction Watch list names its nature.
NOTICE_NATURES = {
    "retraction": "Retraction",
    "expression-of-concern": "Expression of concern",
    "correction": "Correction",
    "reinstatement": "Reinstatement",
}


def key_of(kind: str, value: str) -> str:
    """The lockfile key of an identifier: DOIs compare case-insensitively, PMCIDs in capitals."""
    value = value.strip()
    if kind == "doi":
        return f"doi:{value.lower()}"
    if kind == "pmcid":
        return f"pmcid:{value.upper()}"
    return f"{kind}:{value}"


class LockNotice(NamedTuple):
    """A notice about a work: its type (see NOTICE_NATURES), and where the notice itself is."""

    type: str
    doi: str | None = None
    pmid: str | None = None
    date: str | None = None

    @property
    def described(self) -> str:
        where = f"DOI {self.doi}" if self.doi else f"PMID {self.pmid}" if self.pmid else ""
        when = f", {self.date}" if self.date else ""
        return f"{self.type.replace('-', ' ')}{' ' + where if where else ''}{when}"


class Work(NamedTuple):
    """What one identifier resolved to (or that it resolved to nothing: FOUND false)."""

    key: str
    source: str  # "crossref", "pubmed", "pmc-idconv" or "manual"
    checked_on: str  # the ISO date the entry was fetched, or checked by hand
    found: bool = True
    title: str | None = None
    journal: str | None = None
    journal_abbreviation: str | None = None
    issn: tuple[str, ...] = ()
    year: int | None = None
    first_author: str | None = None
    publication_types: tuple[str, ...] = ()
    notices: tuple[LockNotice, ...] = ()
    # The work's other identifiers, as the registry lists them (a PMCID's PMID and DOI, say).
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    note: str | None = None

    @property
    def kind(self) -> str:
        return self.key.partition(":")[0]

    @property
    def value(self) -> str:
        return self.key.partition(":")[2]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"source": self.source, "checked_on": self.checked_on, "found": self.found}
        for name in (
            "title",
            "journal",
            "journal_abbreviation",
            "year",
            "first_author",
            "doi",
            "pmid",
            "pmcid",
            "note",
        ):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        if self.issn:
            data["issn"] = list(self.issn)
        if self.publication_types:
            data["publication_types"] = list(self.publication_types)
        if self.notices:
            data["notices"] = [
                {k: v for k, v in n._asdict().items() if v is not None}
                for n in sorted(self.notices, key=lambda n: (n.type, n.doi or "", n.pmid or ""))
            ]
        return data

    def fetched_before(self, day: date) -> bool:
        try:
            return date.fromisoformat(self.checked_on) < day
        except ValueError:
            return True  # an unreadable date: fetch it again


@dataclass
class ReferenceLock:
    """The lockfile's entries by key. Read once per run (`load_lock`, or `lockindex.indexed_lock`
    an entry at a time), looked up by every article.

    The entries are kept as read (checked against LOCK_SCHEMA when read) and made Works when
    first looked up: a run that checks a few articles never builds the other 80,000."""

    raw: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    path: str = LOCKFILE
    digest: str = ""  # a hash of the file's bytes: the findings cache is keyed on it
    # `ci`: the base's lockfile, judged with the change's own (`judged_with`).
    base: ReferenceLock | None = None
    _built: dict[str, Work] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, works: Iterable[Work]) -> ReferenceLock:
        return cls({w.key: w.to_json() for w in works})

    @property
    def works(self) -> dict[str, Work]:
        """Every entry, as a Work (for a fetch that rewrites the file, and for tests)."""
        return {key: work for key in self.raw if (work := self._work(key)) is not None}

    def _work(self, key: str) -> Work | None:
        work = self._built.get(key)
        if work is None and (entry := self.raw.get(key)) is not None:
            work = self._built[key] = _build(key, entry)
        return work

    def get(self, kind: str, value: str) -> Work | None:
        """The entry of an identifier: this lockfile's, else the base's."""
        key = key_of(kind, value)
        found = self._work(key)
        return found if found is not None or self.base is None else self.base._work(key)

    def entries(self, kind: str, value: str) -> list[Work]:
        """Every entry an identifier has: this lockfile's and, where it differs, the base's. A
        reference must match both, so a change cannot edit an entry to fit a wrong reference."""
        key = key_of(kind, value)
        if self.base is None:  # `check`: one lockfile, one entry at most
            work = self._work(key)
            return [work] if work is not None else []
        found = [w for w in (self._work(key), self.base._work(key)) if w]
        return found[:1] if len(found) == 2 and found[0] == found[1] else found

    def with_notices(self) -> list[Work]:
        """The entries that record a notice (here and in the base's)."""
        locks = [self, self.base] if self.base is not None else [self]
        return [w for lock in locks for key in lock._noticed() if (w := lock._work(key))]

    def _noticed(self) -> list[str]:
        from reviewflow.references.lockindex import IndexedEntries

        if isinstance(self.raw, IndexedEntries):  # known from its index, not by reading every entry
            return [key for key, _ in self.raw.noticed()]
        return [key for key, entry in self.raw.items() if entry.get("notices")]

    def judged_with(self, base: ReferenceLock | None) -> ReferenceLock:
        """This lockfile (a change's) judged together with BASE's (the base's)."""
        return self if base is None or base is self else replace(self, base=base)


# How messages name where an entry came from.
SOURCE_NAMES = {"crossref": "Crossref", "pubmed": "PubMed", "pmc-idconv": "PMC", "manual": "the lockfile"}


def load_lock(root: Path) -> ReferenceLock | None:
    """ROOT's lockfile, or None when it has none. ConfigError (exit 2) naming the line of a
    malformed one."""
    path = root / LOCKFILE
    if not path.is_file() and not path.is_symlink():
        return None
    try:
        raw = read_regular(root, path)
    except OSError as exc:
        raise ConfigError(f"{LOCKFILE}: cannot be read: {exc}") from None
    return parse_lock(raw, LOCKFILE)


def parse_lock(raw: bytes, source: str = LOCKFILE) -> ReferenceLock:
    """The lockfile in RAW; SOURCE names it in messages (`articles/references.lock.json:12: ...`)."""
    try:
        text = raw.decode("utf-8")
        data = json.loads(text)
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    except OVER_LIMITS as exc:
        raise InvalidFile(source, [over_limits(exc, text)]) from None
    if validator().is_valid(data):
        return ReferenceLock(data["works"], source, hashlib.sha256(raw).hexdigest())
    raise ConfigError(f"{source}:{problem(data, text)}")


def dumps(works: Iterable[Work]) -> bytes:
    """The lockfile's bytes for WORKS: sorted, stable, one trailing newline."""
    data = {"version": VERSION, "works": {w.key: w.to_json() for w in sorted(works, key=lambda w: w.key)}}
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def _build(key: str, entry: Mapping[str, Any]) -> Work:
    """The Work of an entry already checked against LOCK_SCHEMA (positional: built for every
    reference a cold `check` reads, so it is kept cheap)."""
    get = entry.get
    notices = get("notices")
    return Work(
        key, entry["source"], entry["checked_on"], get("found", True), get("title"), get("journal"),
        get("journal_abbreviation"), tuple(get("issn", ())), get("year"), get("first_author"),
        tuple(get("publication_types", ())),
        tuple(LockNotice(n["type"], n.get("doi"), n.get("pmid"), n.get("date")) for n in notices)
        if notices else (),
        get("doi"), get("pmid"), get("pmcid"), get("note"),
    )  # fmt: skip


def kind_of(identifier: str) -> tuple[str, str] | None:
    """IDENTIFIER as (kind, value): a DOI starts with "10.", a PMCID with "PMC", a PMID is digits."""
    text = identifier.strip()
    for prefix in ("https://doi.org/", "doi:"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
    if text.startswith("10.") and "/" in text:
        return "doi", text
    if text.upper().startswith("PMC") and text[3:].isdigit():
        return "pmcid", text.upper()
    if text.isdigit():
        return "pmid", text
    return None


def lookup(root: Path, identifier: str) -> Work:
    """The entry of IDENTIFIER in ROOT's lockfile; ReviewflowError (exit 2) when there is none."""
    parsed = kind_of(identifier)
    if parsed is None:
        raise ReviewflowError(f"{identifier!r} is not a DOI (10.NNNN/...), PMID (digits) or PMCID (PMC...)")
    lock = load_lock(root)
    work = lock.get(*parsed) if lock is not None else None
    if work is None:
        raise ReviewflowError(f"{LOCKFILE} has no entry for {identifier}: run `reviewflow refs fetch`")
    return work


def change_lock(at_head: bytes | None, at_base: bytes | None, required: bool) -> ReferenceLock | None:
    """The lockfile `ci` judges a change by: HEAD's together with the base's (either may be
    missing); None when neither commit has one and REQUIRED ([references] set) is false."""
    head = parse_lock(at_head, f"{LOCKFILE} (at HEAD)") if at_head is not None else None
    base: ReferenceLock | None
    try:
        if head is not None and at_base == at_head:
            # A change that leaves the lockfile alone: the same entries, parsed once (a tenth
            # of a second at 50,000 entries), read-only in both.
            base = ReferenceLock(head.raw, f"{LOCKFILE} (at the base)", head.digest)
        else:
            base = parse_lock(at_base, f"{LOCKFILE} (at the base)") if at_base is not None else None
    except ConfigError:
        base = None  # a lockfile that was broken at the base vouches for nothing
    if head is None and base is None:
        return ReferenceLock() if required else None
    if head is None:
        head = ReferenceLock(path=f"{LOCKFILE} (at the base)")
    return head.judged_with(base)
