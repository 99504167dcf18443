"""The gate read from git: what `approve` asks before it commits, and the approvals `verify` and
`ci` refuse. The judging itself is acknowledge.py's (pure); this reads the texts and the schema
committed at HEAD in one `cat-file --batch`, whatever the number of approvals.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from reviewflow.config import Config
from reviewflow.content.schema import ArticleSchema, bundled_schema, load_schema
from reviewflow.errors import InvalidFile, Refused, ReviewflowError
from reviewflow.gitstore import GitStore, read_objects
from reviewflow.layout import SCHEMA_FILE, article_path
from reviewflow.review.acknowledge import (
    ACCEPT_LIMIT,
    Acceptance,
    Unacknowledged,
    check_content,
    describe,
    judge_approvals,
    judge_one,
)
from reviewflow.review.changes import FactFile
from reviewflow.review.model import Action, Event
from reviewflow.review.workflow import Replay

if TYPE_CHECKING:
    from reviewflow.review.early_checks import EarlyResults  # the checks: only when texts are checked


@dataclass(frozen=True)
class ApprovalGate:
    """What an approval records and shows: its Reviewflow-Accept values, the warnings they
    acknowledge, and the findings the author marked intended."""

    trailers: tuple[str, ...]
    acknowledged: tuple[str, ...]
    intended: tuple[str, ...]


def judge_approval(
    store: GitStore, rules: Config, slug: str, blob: str, accept: Acceptance | None = None
) -> ApprovalGate:
    """Check the text BLOB of SLUG as RULES (HEAD's reviewflow.toml) say, today, and refuse the
    approval when it has errors or warnings ACCEPT does not acknowledge, listing them."""
    from reviewflow.checks.rules import ALL_RULE_IDS

    acceptance = accept or Acceptance()
    unknown = sorted(acceptance.rules - set(ALL_RULE_IDS))
    if unknown:
        raise ReviewflowError(
            f"--accept {unknown[0]}: no rule has that id (the rule ids are listed in README.md "
            "and in `reviewflow check --format json`)"
        )
    texts, schema, _ = _texts_and_schema(store, [blob])
    path = store.article_file(slug)
    checked = check_content(path, texts.get(blob) or b"", rules, schema, date.today())
    if checked.errors:
        raise Refused(
            "\n".join(f"  {describe(f)}" for f in checked.errors)
            + f"\ncannot approve {slug}: its text fails `reviewflow check {path}` with "
            f"{len(checked.errors)} error(s), listed above: request changes instead"
        )
    listed = [f"  {describe(f)}" for f in [*checked.warnings, *checked.intended]]
    pending = [f for f in checked.warnings if not acceptance.covers(f)]
    if pending:
        rules_needed = " ".join(f"--accept {rule}" for rule in dict.fromkeys(f.rule for f in pending))
        raise Refused(
            "\n".join(listed) + f"\ncannot approve {slug}: {len(pending)} warning(s) listed above are not "
            f"acknowledged; read them, then approve with --accept-warnings, or {rules_needed}, "
            "or request changes"
        )
    if len(checked.warnings) > ACCEPT_LIMIT:
        raise Refused(
            f"cannot approve {slug}: its {len(checked.warnings)} warnings are more than one approval "
            f"acknowledges ({ACCEPT_LIMIT}); request changes so that the author fixes them"
        )
    return ApprovalGate(
        tuple(checked.acknowledgement(f).trailer_value() for f in checked.warnings),
        tuple(describe(f) for f in checked.warnings),
        tuple(describe(f) for f in checked.intended),
    )


def unacknowledged_approvals(
    store: GitStore,
    events: Sequence[Event],
    rules_of: Callable[[Event], Config | str],
    legacy: Callable[[Event], bool] = lambda event: False,
    use_cache: bool = True,
    also: Callable[[Mapping[str, bytes | None]], None] = lambda texts: None,
    early: EarlyResults | None = None,
) -> list[Unacknowledged]:
    """The counted approvals among EVENTS whose trailers do not acknowledge every warning of the
    text they approved, checked under RULES_OF(event); LEGACY(event): made before acknowledgements.

    An approval commit fixes its text, its trailers and its date, so "it covers its warnings
    under this configuration and this schema" is a fact about immutable objects: kept in
    .git/reviewflow/ (sealed, as changes.FactFile keeps facts), each approval's text is checked
    once, not on every `verify`. USE_CACHE off: every text is checked again. ALSO is given each
    batch of texts read (verify's reference check: so they are not read from git twice). EARLY:
    texts checked while the history was read (early_checks.py); the others are checked here."""
    approvals = [e for e in events if e.valid and e.action is Action.APPROVE and not legacy(e)]
    if not approvals:
        return []
    facts = FactFile(store, "acknowledged-v1" + fact_file_suffix(store), "acknowledged", use_cache)
    known = set(facts.lines())
    # With nothing kept every text is read anyway: the first batch's in the git process that
    # reads the schema; otherwise the schema comes first: which approvals were judged before
    # depends on it.
    first = [] if known or early else next(text_batches(approvals), [])
    texts, schema, raw_schema = _texts_and_schema(store, list(dict.fromkeys(e.content for e in first)))
    conditions = hashlib.sha256(raw_schema or b"bundled").hexdigest()[:16]
    digests: dict[int, str] = {}

    def digest(config: Config) -> str:
        if id(config) not in digests:
            digests[id(config)] = hashlib.sha256(config.model_dump_json().encode()).hexdigest()[:16]
        return digests[id(config)]

    def fact(event: Event) -> str | None:
        config = rules_of(event)
        return None if isinstance(config, str) else f"{event.commit} {digest(config)} {conditions}"

    # (Nothing kept, nothing to keep: every approval is pending, and no fact is worked out.)
    pending = [e for e in approvals if fact(e) not in known] if known else approvals
    done, found = _early_checks(pending, early, rules_of, digest) if early is not None else (set(), [])
    for number, batch in enumerate(text_batches([e for e in pending if id(e) not in done])):
        if number or known or early:  # (all are pending when nothing is kept: the first batch is read)
            texts = read_objects(store, list(dict.fromkeys(e.content for e in batch)))
        found += judge_approvals(batch, texts, rules_of, schema)
        also(texts)
        del texts  # before the next batch is read: never every approved text at once
    place = {id(event): index for index, event in enumerate(pending)}
    found.sort(key=lambda problem: place[id(problem.event)])
    refused = {problem.event.commit for problem in found}
    if facts.path is not None:
        facts.append([line for e in pending if e.commit not in refused and (line := fact(e)) is not None])
    return found


def _early_checks(
    pending: Sequence[Event],
    early: EarlyResults,
    rules_of: Callable[[Event], Config | str],
    digest: Callable[[Config], str],
) -> tuple[set[int], list[Unacknowledged]]:
    """The ids of PENDING that EARLY checked the text of, and those it refuses: each judged here
    once. Only under the very configuration the check was made with (HEAD's), as of the same
    day; a brief check (without full messages) only for an approval it does not refuse for a
    warning: that one is left to be checked again, with the full messages its report shows."""
    head = digest(early.config)
    taken: set[int] = set()
    found: list[Unacknowledged] = []
    for event in pending:
        config = rules_of(event)
        if isinstance(config, str) or digest(config) != head:
            continue
        checked = (event.content, article_path(event.slug), event.committed_at.date())
        if checked not in early.checked:
            continue
        check = early.checked[checked]
        problem = judge_one(event, check) if check is not None else None  # (None: no such text)
        if problem is not None and problem.warnings and check is not None and check.brief:
            continue
        taken.add(id(event))
        if problem is not None:
            found.append(problem)
    return taken, found


# A `verify` from a fresh clone checks every approved text again: held all at once, they and
# their findings took it to 2.2 GB at 100,000 articles. They are read and checked this many at
# a time, and only the verdicts are kept.
BATCH_TEXTS = 5000


def text_batches(approvals: Sequence[Event]) -> Iterator[list[Event]]:
    """APPROVALS in batches of at most BATCH_TEXTS texts, every approval of one text in the same
    batch (a text approved by two members is checked once)."""
    by_text: dict[str, list[Event]] = {}
    for event in approvals:
        by_text.setdefault(event.content, []).append(event)
    batch: list[Event] = []
    texts = 0
    for events in by_text.values():
        if texts == BATCH_TEXTS:
            yield batch
            batch, texts = [], 0
        batch += events
        texts += 1
    if batch:
        yield batch


def rules_of(replay: Replay) -> Callable[[Event], Config | str]:
    """replay.rules without the replay: what the gate needs of a judged history (the
    configuration of each event's commit), so that verify can let go of the rest."""
    configs, config = replay.history.configs, replay.config
    return lambda event: configs.get(event.commit, config)


def legacy_rule(replay: Replay) -> Callable[[Event], bool]:
    """Whether an event is in the history of `[policy] legacy_approvals` of the configuration
    the replay runs with (HEAD's): made before reviewflow recorded acknowledgements."""
    boundary = replay.config.policy.legacy_approvals
    if boundary is None:
        return lambda event: False
    return lambda event: replay.is_ancestor(event.commit, boundary)


def _texts_and_schema(
    store: GitStore, blobs: list[str]
) -> tuple[dict[str, bytes | None], ArticleSchema, bytes | None]:
    """BLOBS' contents and the schema committed at HEAD (read, and its text), from one git process."""
    name = f"{store.head}:{store.prefix}{SCHEMA_FILE}"
    objects = read_objects(store, [*blobs, name])
    return objects, head_schema(objects.get(name)), objects.get(name)


def head_schema(raw: bytes | None) -> ArticleSchema:
    """The schema committed at HEAD. One that is invalid there is reported by `check` and `ci`
    themselves; the texts are checked against the bundled one meanwhile."""
    try:
        return load_schema(raw, f"{SCHEMA_FILE} (committed at HEAD)")
    except InvalidFile:
        return bundled_schema()


def fact_file_suffix(store: GitStore) -> str:
    """One file per content repo in the work tree, as changes.ChangeIndex keeps its own."""
    return f"-{hashlib.sha1(store.prefix.encode()).hexdigest()[:12]}" if store.prefix else ""
