"""`verify`: the approved texts whose references no longer match the reference lockfile.

An approval vouches for a text whose references named the works their identifiers resolved to.
When the lockfile committed at HEAD says otherwise (an entry fetched again, an identifier the
registry does not know), the last approved version of each article is checked against it with
`reference-mismatch` and `reference-not-found`: one `cat-file --batch-check` for the blob ids of
the lockfile and the schema (what the kept facts are about), and, only when a text is judged
here, one `cat-file --batch` for the two themselves and for the texts not judged with this
lockfile before that the gate did not read for itself (with nothing kept it reads nearly all of
them: reading them again from git cost ~1.5 s of CPU at 10,000 articles; and the early checks'
workers judge nearly all of them). A repository without a lockfile or `[references]` starts no
git process.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from reviewflow.config import Config
from reviewflow.content.schema import ArticleSchema
from reviewflow.errors import ConfigError
from reviewflow.findings import Finding
from reviewflow.gitstore import GitStore, read_objects
from reviewflow.layout import SCHEMA_FILE
from reviewflow.references.lockfile import LOCKFILE, ReferenceLock, change_lock
from reviewflow.references.lockindex import committed_lock
from reviewflow.review.changes import FactFile
from reviewflow.review.gate import BATCH_TEXTS, fact_file_suffix, head_schema
from reviewflow.review.model import ArticleStatus

if TYPE_CHECKING:
    from reviewflow.checks.rules import Context
    from reviewflow.content.article import Document
    from reviewflow.review.early_checks import EarlyResults

CHECKED_RULES = ("reference-mismatch", "reference-not-found")
# A text's hits of CHECKED_RULES: (rule, line, column, message), as early_checks.py's workers
# send them back and as `_judge` makes them here.
ReferenceHits = tuple[tuple[str, int, int, str], ...]


@dataclass(frozen=True)
class StaleReferences:
    """An article's last approved version, and what its references contradict in the lockfile."""

    status: ArticleStatus
    findings: tuple[Finding, ...]

    @property
    def message(self) -> str:
        assert self.status.approved is not None
        shown = "; ".join(f"{f.rule} {f.line}:{f.column} {f.message}" for f in self.findings[:3])
        more = f" (and {len(self.findings) - 3} more)" if len(self.findings) > 3 else ""
        return (
            f"the approved text (blob {self.status.approved.blob[:12]}, approved in commit "
            f"{self.status.approved.commit[:12]}) cites references that {LOCKFILE} contradicts: {shown}{more}"
        )


class StaleReferenceCheck:
    """The articles whose last approved text fails reference-mismatch or reference-not-found
    against the lockfile committed at HEAD (CONFIG: HEAD's reviewflow.toml).

    "This text matches this lockfile" is a fact about immutable bytes: kept in .git/reviewflow/
    (changes.FactFile), so a later `verify` with the same lockfile checks only new approvals.
    Set up before the gate reads the approved texts: `judge` takes the texts it read (with
    nothing kept, most of those judged here), `result` reads only the rest."""

    def __init__(
        self, root: Path, store: GitStore, statuses: Mapping[str, ArticleStatus], config: Config,
        use_cache: bool = True, early: EarlyResults | None = None,
    ) -> None:  # fmt: skip
        self.store, self.config = store, config
        self.approved = {s.approved.blob: s for s in statuses.values() if s.approved is not None}
        self.pending: list[str] = []
        self.lock: ReferenceLock | None = None
        self.lock_read = False  # the lockfile is parsed only when a text is judged here
        self.found: list[StaleReferences] = []
        self.waiting: set[str] = set()  # pending texts not judged yet
        if not self.approved or not ((root / LOCKFILE).exists() or config.references is not None):
            return
        self.names = [f"{store.head}:{store.prefix}{name}" for name in (LOCKFILE, SCHEMA_FILE)]
        # The lockfile and the schema by their blob ids, which name their bytes: the lockfile
        # read and parsed in this process took ~530 MB at 100,000 articles (118 MB of JSON),
        # and with nothing kept the early checks' workers judge nearly every text with their
        # own parse of it.
        lock_id, schema_id = store.blob_ids(self.names)
        self.root, self.lock_id, self.use_cache = root, lock_id, use_cache
        settings = config.references.model_dump_json() if config.references else ""
        judged_by = f"{lock_id or ''}\0{schema_id or ''}\0{settings}"
        self.conditions = hashlib.sha256(judged_by.encode()).hexdigest()[:20]
        self.facts = FactFile(store, "references-v1" + fact_file_suffix(store), "references", use_cache)
        known = set(self.facts.lines())
        self.pending = sorted(blob for blob in self.approved if f"{blob} {self.conditions}" not in known)
        self.waiting = set(self.pending)
        if self.waiting and early is not None and early.config is config:
            self._take(early)

    def _lock(self) -> ReferenceLock | None:
        """HEAD's lockfile (and schema), read and parsed the first time a text is judged here;
        None: no reference check (a broken lockfile is reported by `check` and `ci`; verify
        judges the review record)."""
        if not self.lock_read:
            self.lock_read = True
            # The work tree's lockfile, when it is HEAD's, through its index: parsed whole, the
            # 118 MB of JSON at 100,000 articles took ~550 MB, for the few texts judged here.
            indexed: ReferenceLock | None = None  # (a ReferenceLock is always true)
            if self.lock_id is not None:
                indexed = committed_lock(self.root, self.lock_id, f"{LOCKFILE} (at HEAD)", self.use_cache)
            objects = read_objects(self.store, self.names if indexed is None else self.names[1:])
            self.schema = head_schema(objects.get(self.names[1]))
            required = self.config.references is not None
            try:
                self.lock = indexed or change_lock(objects.get(self.names[0]), None, required)
            except ConfigError:
                self.lock = None
        return self.lock

    def _take(self, early: EarlyResults) -> None:
        """The pending texts early_checks.py judged, from the parse its rules made, as the file
        where HEAD has it (under HEAD's configuration, today, with this very lockfile: a worker
        judges none when it finds the lockfile broken)."""
        for blob in [blob for blob in self.waiting if blob in early.references]:
            status = self.approved[blob]
            path, hits = early.references[blob]
            if path != status.path:
                continue  # judged as another article's file: judged here again
            self.waiting.discard(blob)
            if hits:
                self.found.append(_stale(status, hits))

    def judge(self, texts: Mapping[str, bytes | None]) -> None:
        """Judge the pending texts among TEXTS (blob -> content, read by the gate anyway)."""
        here = [blob for blob in texts if blob in self.waiting]
        if here and (lock := self._lock()) is not None:
            statuses = [self.approved[blob] for blob in here]
            self.found += _judge(statuses, texts, self.schema, self.config, lock)
            self.waiting.difference_update(here)

    def result(self) -> list[StaleReferences]:
        """Every stale approved text, the texts `judge` was not given read and judged here."""
        if not self.pending:
            return []
        rest = [blob for blob in self.pending if blob in self.waiting]
        if rest and self._lock() is None:
            return []  # no lockfile to judge by, or a broken one (the early checks judged none)
        for start in range(0, len(rest), BATCH_TEXTS):  # never every approved text at once
            self.judge(read_objects(self.store, rest[start : start + BATCH_TEXTS]))
        stale = {problem.status.approved.blob for problem in self.found if problem.status.approved}
        self.facts.append([f"{blob} {self.conditions}" for blob in self.pending if blob not in stale])
        return sorted(self.found, key=lambda problem: problem.status.slug)


def _judge(
    statuses: list[ArticleStatus], texts: Mapping[str, bytes | None], schema: ArticleSchema, config: Config,
    lock: ReferenceLock,
) -> list[StaleReferences]:  # fmt: skip
    from reviewflow.checks.rules import Context  # the checks: only when there is a lockfile
    from reviewflow.content.article import parse_document

    context = Context(config, date.today(), references=lock)
    found = []
    for status in statuses:
        raw = texts.get(status.approved.blob) if status.approved else None
        document = parse_document(status.path, raw or b"", schema, config.checks.max_file_bytes)
        hits = reference_hits(document, context)
        if hits:
            found.append(_stale(status, hits))
    return found


def reference_hits(document: Document, context: Context) -> ReferenceHits | None:
    """CHECKED_RULES on DOCUMENT, with CONTEXT's lockfile; None: it has no article to judge."""
    from reviewflow.checks.rules import RULES

    if document.article is None:
        return None
    return tuple(
        (rule, line, column, message)
        for rule in CHECKED_RULES
        for line, column, message, *_ in RULES[rule].run(document.article, document, context)
    )


def _stale(status: ArticleStatus, hits: ReferenceHits) -> StaleReferences:
    """The article of STATUS, with its HITS as findings at its path."""
    findings = tuple(
        Finding.error(rule, status.path, line, column, message) for rule, line, column, message in hits
    )
    return StaleReferences(status, findings)
