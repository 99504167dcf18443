"""The gate: no warning reaches readers unseen.

`approve` runs the checks on the exact text it approves. Errors refuse it; each warning must be
acknowledged by the reviewer (`--accept-warnings`, or `--accept RULE` per rule id), and the
approval commit records each acknowledged warning in a trailer:

    Reviewflow-Accept: absolute-claim 12:5 3f0c9a1e

the rule, the line and column, and a short hash of the rule and the text of that line, so that
the acknowledgement names one finding of one text and matches it again when the text is checked
anew. A warning the author marked intended (front-matter `intended`, checks/intended.py) is
listed with its reason and needs no acknowledgement: the mark and its reason are in the text.

`verify` and `ci` check each counted approval's text again, under the reviewflow.toml in force
for it (`ci`: the base's) and as of the approval's date (a reference that aged since is no
fault of the approval), and refuse the approval whose trailers do not cover its warnings.
Approvals in the history of `[policy] legacy_approvals` were made before these trailers
existed and are not asked for them. Pure: texts, configurations and events in, verdicts out.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from reviewflow.config import Config
from reviewflow.content.schema import ArticleSchema
from reviewflow.findings import Finding, Severity
from reviewflow.layout import article_path
from reviewflow.review.model import Action, Event

# Trailers stay bounded: a text with more warnings than this is fixed, not waved through.
ACCEPT_LIMIT = 100
_VALUE = re.compile(r"^([a-z0-9]+(?:-[a-z0-9]+)*) ([1-9][0-9]{0,6}):([1-9][0-9]{0,6}) ([0-9a-f]{8})$")


class Acknowledgement(NamedTuple):
    """One warning a reviewer acknowledged: what a Reviewflow-Accept trailer says."""

    rule: str
    line: int
    column: int
    digest: str  # the rule and the text of its line, hashed

    def trailer_value(self) -> str:
        return f"{self.rule} {self.line}:{self.column} {self.digest}"

    @classmethod
    def parse(cls, value: str) -> Acknowledgement | None:
        match = _VALUE.match(value)
        if match is None:
            return None
        rule, line, column, digest = match.groups()
        return cls(rule, int(line), int(column), digest)


@dataclass(frozen=True)
class Acceptance:
    """What the reviewer acknowledges: every warning, or the warnings of some rules."""

    everything: bool = False
    rules: frozenset[str] = frozenset()

    def covers(self, finding: Finding) -> bool:
        return self.everything or finding.rule in self.rules


def to_acknowledge(findings: Iterable[Finding]) -> list[Finding]:
    """The warnings an approval has to acknowledge: every one the author did not mark intended."""
    return [f for f in findings if f.severity is Severity.WARNING and f.intended is None]


@dataclass(frozen=True)
class ContentCheck:
    """The findings of one text, and its lines (what acknowledgements are hashed from)."""

    findings: list[Finding]
    lines: list[str]
    # True: made without full messages (rules.Context.full_messages): it says which warnings an
    # approval must acknowledge, but cannot report one it does not (gate.py checks that again).
    brief: bool = False

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return to_acknowledge(self.findings)

    @property
    def intended(self) -> list[Finding]:
        return [f for f in self.findings if f.intended is not None]

    def acknowledgement(self, finding: Finding) -> Acknowledgement:
        index = finding.line - 1
        text = self.lines[index].strip() if 0 <= index < len(self.lines) else ""
        digest = hashlib.sha256(f"{finding.rule}\0{text}".encode()).hexdigest()[:8]
        return Acknowledgement(finding.rule, finding.line, finding.column, digest)

    def uncovered(self, accepted: Collection[Acknowledgement]) -> list[Finding]:
        """The warnings ACCEPTED does not acknowledge."""
        return [f for f in self.warnings if self.acknowledgement(f) not in accepted]


def check_content(
    path: str, raw: bytes, config: Config, schema: ArticleSchema, day: date, *, warnings_only: bool = False
) -> ContentCheck:
    """Every finding of RAW as the article PATH, under CONFIG and SCHEMA, as of DAY
    (WARNINGS_ONLY: every warning, without the rules that report only errors: judging an
    approval already made: rules.check_document).

    No retraction list: a notice published after an approval is not the approval's fault
    (`check` and `ci` show it on the text as it is)."""
    # The rules load only when a text is checked: a `verify` that finds every approval judged
    # before (gate.py keeps the verdicts) never pays for importing them.
    from reviewflow.checks.rules import Context, check_document
    from reviewflow.content.article import parse_document

    document = parse_document(path, raw, schema, config.checks.max_file_bytes)
    findings = check_document(document, Context(config, day), warnings_only=warnings_only)
    return ContentCheck(findings, raw.decode("utf-8", "replace").split("\n"))


def describe(finding: Finding) -> str:
    """`rule line:column message`, and the author's reason for an intended one."""
    text = f"{finding.rule} {finding.line}:{finding.column} {finding.message}"
    return text if finding.intended is None else f"{text} (intended by the author: {finding.intended})"


@dataclass(frozen=True)
class Unacknowledged:
    """A counted approval whose trailers do not cover the warnings of the text it approved."""

    event: Event
    warnings: list[Finding] = field(default_factory=list)  # not acknowledged
    unreadable: list[str] = field(default_factory=list)  # Reviewflow-Accept values that say nothing

    @property
    def message(self) -> str:
        what = f"approve by {self.event.actor} in commit {self.event.commit[:12]}"
        parts = []
        if self.warnings:
            shown = "; ".join(describe(f) for f in self.warnings[:3])
            more = f" (and {len(self.warnings) - 3} more)" if len(self.warnings) > 3 else ""
            parts.append(
                f"does not acknowledge {len(self.warnings)} warning(s) of the text it approved "
                f"(blob {self.event.content[:12]}): {shown}{more}"
            )
        if self.unreadable:
            shown = ", ".join(map(repr, self.unreadable[:3]))
            parts.append(f"has unreadable Reviewflow-Accept trailers: {shown}")
        return f"{what} {' and '.join(parts)}; approve it again with the warnings acknowledged"


def judge_approvals(
    events: Sequence[Event],
    texts: Mapping[str, bytes | None],
    rules_of: Callable[[Event], Config | str],
    schema: ArticleSchema,
) -> list[Unacknowledged]:
    """The counted approvals among EVENTS whose acknowledgements do not cover the warnings of
    their text (TEXTS: blob -> content), each checked under RULES_OF(event) as of its date; a
    text is checked once for each configuration and day (verify's early checks are judged by
    judge_one: gate.py)."""
    judged: list[tuple[Event, CheckKey]] = []
    configs: dict[int, Config] = {}
    for event in events:
        if not event.valid or event.action is not Action.APPROVE:
            continue
        config = rules_of(event)
        if isinstance(config, str):
            continue  # no configuration in force: the event itself does not count
        key = (event.content, article_path(event.slug), id(config), event.committed_at.date())
        if texts.get(event.content) is None:
            continue  # no text: the event itself does not count
        configs[id(config)] = config
        judged.append((event, key))
    checked = _check_texts(list(dict.fromkeys(key for _, key in judged)), texts, configs, schema)
    found = []
    for event, key in judged:
        if (problem := judge_one(event, checked[key])) is not None:
            found.append(problem)
    return found


def judge_one(event: Event, check: ContentCheck) -> Unacknowledged | None:
    """What EVENT's trailers leave unacknowledged of CHECK (its text's), or None: they cover it."""
    if not event.accepted and not check.findings:
        return None  # most approvals: nothing to acknowledge, nothing acknowledged
    readable = acknowledgements(event)
    unreadable = [v for v, a in zip(event.accepted, readable, strict=False) if a is None]
    if len(event.accepted) > ACCEPT_LIMIT:
        unreadable.append(f"more than {ACCEPT_LIMIT} trailers")
    missing = check.uncovered({a for a in readable if a is not None})
    return Unacknowledged(event, missing, unreadable) if missing or unreadable else None


def acknowledgements(event: Event) -> list[Acknowledgement | None]:
    """What EVENT's Reviewflow-Accept trailers say, the first ACCEPT_LIMIT + 1 (None: one that
    says nothing)."""
    return [Acknowledgement.parse(value) for value in event.accepted[: ACCEPT_LIMIT + 1]]


# A text to check: its blob, its path, the configuration (by id) and the day it is judged on.
CheckKey = tuple[str, str, int, date]
# Below this many texts a process pool costs more to start than it saves (as for `check`).
PARALLEL_TEXTS = 200
# What forked workers inherit: the texts by blob, the configurations by id, the schema.
_Shared = tuple[Mapping[str, bytes | None], Mapping[int, Config], ArticleSchema]


def _check_texts(
    keys: list[CheckKey],
    texts: Mapping[str, bytes | None],
    configs: Mapping[int, Config],
    schema: ArticleSchema,
) -> dict[CheckKey, ContentCheck]:
    """Each text checked, over forked workers when there are many (a `verify` from a fresh
    clone checks every approved text): they inherit the texts and configurations."""
    from reviewflow.workers import can_fork, fork_map, usable_cores

    jobs = usable_cores()
    if not can_fork(jobs, len(keys), PARALLEL_TEXTS):
        return _check_chunk((texts, configs, schema), keys)
    from reviewflow.checks.readability import warm_up

    warm_up()  # load the rules once, before the workers fork and inherit them
    size = max(16, -(-len(keys) // (jobs * 4)))
    chunks = [keys[i : i + size] for i in range(0, len(keys), size)]
    checked: dict[CheckKey, ContentCheck] = {}
    for chunk in fork_map(_check_chunk, (texts, configs, schema), chunks, jobs):
        checked.update(chunk)
    return checked


def _check_chunk(shared: _Shared, keys: list[CheckKey]) -> dict[CheckKey, ContentCheck]:
    texts, configs, schema = shared
    return {key: _check_one(key, texts, configs, schema) for key in keys}


def _check_one(
    key: CheckKey, texts: Mapping[str, bytes | None], configs: Mapping[int, Config], schema: ArticleSchema
) -> ContentCheck:
    blob, path, config, day = key
    raw = texts[blob]
    assert raw is not None
    checked = check_content(path, raw, configs[config], schema, day, warnings_only=True)
    # Only what judging an approval reads, which is what a worker sends back: its warnings,
    # and the lines they stand on.
    warnings = checked.warnings
    wanted = {f.line for f in warnings}
    lines = [line if number in wanted else "" for number, line in enumerate(checked.lines, start=1)]
    return ContentCheck(warnings, lines)
