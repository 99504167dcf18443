"""What a change does to the review configuration, in words a reviewer can act on.

`reviewflow ci` judges a change's review events against the base's reviewflow.toml; these
warnings make sure the humans reviewing the change also see what it would change for the next
one: board members and their signing keys, policy values, check settings, disclaimers, and the
fields the article schema requires or allows. A change may not relax the rules its own articles
are judged by (`stricter_rules`), and a reviewflow.toml or schema the change breaks becomes an
error on the line of each problem (`config_problems`, `schema_problems`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence

from reviewflow.checks.rules import RULES
from reviewflow.config import AUDIENCES, Audience, Config, RuleSetting, RuleSettings
from reviewflow.configfile import parse_config
from reviewflow.content.schema import bundled_schema_text
from reviewflow.errors import OVER_LIMITS, ConfigError, InvalidFile, Problem
from reviewflow.findings import Finding, Severity
from reviewflow.layout import CONFIG_FILE, SCHEMA_FILE

CONFIG_CHANGED = "config-changed"
SCHEMA_CHANGED = "schema-changed"
CONFIG_INVALID = "config-invalid"
SCHEMA_INVALID = "schema-invalid"

_STRICTNESS: dict[str, int] = {"off": 0, "warning": 1, "error": 2}


def rule_setting(config: Config, rule: str, audience: Audience) -> RuleSetting:
    """How CONFIG runs RULE on an AUDIENCE's article: its setting in checks.rules, else the
    rule's default severity for that audience."""
    setting = config.checks.rule_setting(rule, audience)
    if setting is not None:
        return setting
    return "error" if RULES[rule].default_severity(audience) is Severity.ERROR else "warning"


def stricter_rules(base: Config, head: Config) -> dict[str, RuleSettings]:
    """For every rule and audience, the stricter of the base's and HEAD's setting
    (off < warning < error).

    A change's own articles are checked with these, so that the change cannot switch off, or
    turn into a warning, the rule that would fail it.
    """
    rules: dict[str, RuleSettings] = {}
    for rule in RULES:
        stricter: dict[str, RuleSetting] = {}
        for audience in AUDIENCES:
            was, now = rule_setting(base, rule, audience), rule_setting(head, rule, audience)
            stricter[audience] = was if _STRICTNESS[was] > _STRICTNESS[now] else now
        rules[rule] = RuleSettings.model_validate(stricter)
    return rules


def config_findings(base_text: str | None, base_problem: str | None, head_text: str) -> list[Finding]:
    """Warnings naming what changed in reviewflow.toml: board, signing keys, policy, checks."""
    if base_text is None:
        message = "is added in this change: the base has no board, so no review event in it counts"
        return [_config_warning(head_text, f"{CONFIG_FILE} {message}")]
    if base_problem:
        message = f"changes; {base_problem}, so no review event in this change counts"
        return [_config_warning(head_text, f"{CONFIG_FILE} {message}")]
    old = parse_config(base_text, f"{CONFIG_FILE} (at the base)")
    new = parse_config(head_text, f"{CONFIG_FILE} (at HEAD)")
    changes = [
        *_board_changes(old, new),
        *_value_changes(old, new),
        *_rule_changes(old, new),
        *_disclaimer_changes(old, new),
    ]
    if not changes:
        changes = [(f"{CONFIG_FILE} changed, but only in comments or formatting", None)]
    return [_config_warning(head_text, message, where) for message, where in changes]


# A change in words, and where to point at it in the new file: (section, key) or an email.
Change = tuple[str, tuple[str | None, str] | None]


# Every field of a board member, so that no change to one passes as a change of formatting.
MEMBER_FIELDS = ("name", "credentials", "signing_key", "competing_interests", "affiliation", "profile_url")


def _board_changes(old: Config, new: Config) -> Iterator[Change]:
    before = {m.key: m for m in old.board}
    after = {m.key: m for m in new.board}
    for key, member in after.items():
        if key not in before:
            yield (
                f"board member added: {member.name} <{member.email}>; their review actions "
                "count only after this change is merged",
                (None, member.email),
            )
    for key, member in before.items():
        if key not in after:
            yield f"board member removed: {member.name} <{member.email}>", None
    for key in sorted(before.keys() & after.keys()):
        was_member, now_member = before[key], after[key]
        for name in MEMBER_FIELDS:
            was, now = getattr(was_member, name), getattr(now_member, name)
            if was == now:
                continue
            if name == "signing_key":
                what = "added" if was is None else "removed" if now is None else "replaced"
                detail = f"signing key {what}"
            else:
                detail = f"{name} {_show(was)} → {_show(now)}"
            yield f"board member {now_member.email}: {detail}", (None, now_member.email)


def _value_changes(old: Config, new: Config) -> Iterator[Change]:
    for section in ("policy", "checks", "site"):
        before = getattr(old, section).model_dump(mode="json")
        after = getattr(new, section).model_dump(mode="json")
        for name in sorted(before.keys() | after.keys()):
            was, now = before.get(name), after.get(name)
            if was == now or (section, name) == ("checks", "rules"):  # rules: _rule_changes
                continue
            if isinstance(was, list) and isinstance(now, list):  # checks.absolute_claims
                added = [item for item in now if item not in was]
                removed = [item for item in was if item not in now]
                parts = []
                if added:
                    parts.append(f"added {_show(added)}")
                if removed:
                    parts.append(f"removed {_show(removed)}")
                yield f"{section}.{name}: {'; '.join(parts) or 'reordered'}", (section, name)
            else:
                yield f"{section}.{name}: {_show(was)} → {_show(now)}", (section, name)


def _rule_changes(old: Config, new: Config) -> Iterator[Change]:
    """checks.rules, rule by rule, and which of the changes do not apply to this change."""
    before, after = old.checks.rules, new.checks.rules
    for rule in sorted(before.keys() | after.keys()):
        if before.get(rule) == after.get(rule):
            continue
        message = f"checks.rules.{rule}: {before.get(rule, 'default')} → {after.get(rule, 'default')}"
        if rule in RULES:
            for audience in AUDIENCES:
                was, now = rule_setting(old, rule, audience), rule_setting(new, rule, audience)
                if _STRICTNESS[now] < _STRICTNESS[was]:
                    message += (
                        f"; the articles of this change are still checked at {was}: a change cannot "
                        "relax the rules it is judged by"
                    )
                    break
        yield message, ("checks", rule)


def _disclaimer_changes(old: Config, new: Config) -> Iterator[Change]:
    for key in sorted(old.disclaimers.keys() | new.disclaimers.keys()):
        was, now = old.disclaimers.get(key), new.disclaimers.get(key)
        if was == now:
            continue
        what = "added" if was is None else "removed" if now is None else "changed"
        yield f"disclaimer {key!r} {what}", (f"disclaimers.{key}", "text") if now else None


def _config_warning(text: str, message: str, where: tuple[str | None, str] | None = None) -> Finding:
    line = _line_of(text, *where) if where else 1
    return Finding(
        rule=CONFIG_CHANGED,
        severity=Severity.WARNING,
        path=CONFIG_FILE,
        line=line,
        column=1,
        message=message,
    )


# --- a configuration the change breaks ------------------------------------------------------------


def config_problems(error: ConfigError) -> list[Finding]:
    """An error on reviewflow.toml for each problem in ERROR, on the line of the problem: where
    TOML stopped parsing, or the key that is wrong, else line 1."""
    problems = error.problems if isinstance(error, InvalidFile) else (Problem("", str(error)),)
    return _errors(CONFIG_INVALID, CONFIG_FILE, problems)


def schema_problems(error: InvalidFile) -> list[Finding]:
    """An error on the schema for each problem in ERROR (invalid JSON, or not a JSON Schema)."""
    return _errors(SCHEMA_INVALID, SCHEMA_FILE, error.problems)


def _errors(rule: str, path: str, problems: Sequence[Problem]) -> list[Finding]:
    return [Finding.error(rule, path, p.line or 1, p.column or 1, p.detail) for p in problems]


# --- schemas/ ---------------------------------------------------------------------------------------


def schema_findings(paths: Sequence[str], base_raw: bytes | None, head_raw: bytes | None) -> list[Finding]:
    """Warnings naming what changed under schemas/: the fields required or allowed."""
    findings = []
    for path in paths:
        if path != SCHEMA_FILE:
            message = f"{path} changed"
        elif head_raw is None:
            message = f"{path} is removed: articles are checked against the bundled default schema"
        else:
            if base_raw is None:
                message = f"{path} is added: it replaces the bundled default schema"
                base_raw = bundled_schema_text().encode("utf-8")
            else:
                message = f"{path} changed"
            details = _shape_changes(_schema_shape(base_raw), _schema_shape(head_raw))
            message += f": {details}" if details else ""
        findings.append(
            Finding(
                rule=SCHEMA_CHANGED,
                severity=Severity.WARNING,
                path=path,
                line=1,
                column=1,
                message=message,
            )
        )
    return findings


def _shape_changes(old: tuple[set[str], set[str]], new: tuple[set[str], set[str]]) -> str:
    parts = []
    for label, index in (("required", 0), ("allowed", 1)):
        added, removed = sorted(new[index] - old[index]), sorted(old[index] - new[index])
        if added:
            parts.append(f"fields now {label}: {', '.join(added)}")
        if removed:
            parts.append(f"fields no longer {label}: {', '.join(removed)}")
    return "; ".join(parts)


def _schema_shape(raw: bytes) -> tuple[set[str], set[str]]:
    """The top-level required and declared fields of a schema, as far as it can be read."""
    try:
        schema = json.loads(raw)
    except (UnicodeDecodeError, *OVER_LIMITS):  # its own problems are the schema's check's to report
        return set(), set()
    if not isinstance(schema, dict):
        return set(), set()
    required = schema.get("required", [])
    properties = schema.get("properties", {})
    return (
        {str(r) for r in required} if isinstance(required, list) else set(),
        {str(p) for p in properties} if isinstance(properties, dict) else set(),
    )


def _show(value: object) -> str:
    if value is None:
        return "unset"
    return json.dumps(value, ensure_ascii=False)


def _line_of(text: str, section: str | None, key: str) -> int:
    """The line that sets KEY (after the [SECTION] header, if given), else that mentions it."""
    lines = text.splitlines()
    start = 0
    if section is not None:
        header = re.compile(rf"^\s*\[\s*{re.escape(section)}\s*\]")
        start = next((i for i, line in enumerate(lines) if header.match(line)), 0)
    assignment = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=", re.IGNORECASE)
    wanted = key.lower()
    for matches in (assignment.search, lambda line: wanted in line.split("#")[0].lower()):
        for number in range(start, len(lines)):
            if matches(lines[number]):
                return number + 1
    return 1
