"""The one reader of a reviewflow.toml, wherever its text comes from: every problem (syntax,
keys, types, ranges, what spans keys) found in one pass and reported at its line."""

from __future__ import annotations

import json
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from reviewflow.config import BOUNDS, RULE_IDS, Config
from reviewflow.errors import OVER_LIMITS, ConfigError, InvalidFile, Problem, over_limits
from reviewflow.files import read_regular
from reviewflow.layout import CONFIG_FILE
from reviewflow.tomltext import line_of_key, toml_problem

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails


def parse_config(
    text: str | bytes, source: str = CONFIG_FILE, *, root: Path | None = None, past: bool = False
) -> Config:
    """The one reader of a reviewflow.toml, wherever its text comes from: the work tree
    (`check`, `new`), a commit (`status`, `publish`, `verify`, the review actions, each event
    in the history) or either side of a change (`ci`).

    Everything is checked in one pass (TOML syntax, keys, types, ranges, the quorum against
    the board, duplicate members, rule ids, and with ROOT the retractions file on disk), and
    every problem is reported in one InvalidFile, one line each, in the order of the file.
    PAST: the configuration of an event in the history, which says who was on the board then;
    a rule id this version of reviewflow does not know (renamed or retired since) is no problem
    there, or a release that renames a check would take back every approval made before it.
    """
    text = decoded(text, source)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidFile(source, [toml_problem(str(exc))]) from None
    except OVER_LIMITS as exc:
        raise InvalidFile(source, [over_limits(exc, text)]) from None
    config: Config | None = None
    problems: list[Problem] = []
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        problems += (_model_problem(error) for error in exc.errors())
    problems += _cross_problems(raw, root, past)
    if problems or config is None:
        located = [replace(p, line=line_of_key(text, p.key)) if p.line is None else p for p in problems]
        raise InvalidFile(source, sorted(located, key=lambda p: p.line or 0))
    return config


def decoded(raw: str | bytes, source: str) -> str:
    """RAW (a reviewflow.toml or schema) as text: bytes that are not UTF-8 are its problem."""
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problem = Problem("", f"not UTF-8 text ({exc.reason} at byte {exc.start})")
        raise InvalidFile(source, [problem]) from None


def load_config(root: Path) -> Config:
    """ROOT/reviewflow.toml as the work tree holds it, read with `parse_config`."""
    path = root / CONFIG_FILE
    try:
        raw = read_regular(root, path)  # no link, no FIFO: files.py
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found; run `reviewflow init`") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    return parse_config(raw, CONFIG_FILE, root=root)


def _model_problem(error: ErrorDetails) -> Problem:
    loc = error["loc"]
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key (check the spelling; see the README for the keys)"
    elif error["type"] == "model_type":  # pydantic's words name a Python class
        message = f"{_toml(error['input'])} is not allowed: must be a table of keys"
    elif loc[-2:] in BOUNDS:
        message = _out_of_bounds(loc[-2:], error["input"])
    return Problem(_dotted(loc) or "(top level)", message)


def _cross_problems(raw: dict[str, Any], root: Path | None, past: bool = False) -> list[Problem]:
    """What no single key can say: the quorum against the board, a member listed twice, a rule
    id no rule has, and (with ROOT) a retractions file that is not there. Read from the raw
    TOML, so that they are reported along with the problems of the keys themselves."""
    problems = []
    policy, checks, board = raw.get("policy"), raw.get("checks"), raw.get("board")
    members = board if isinstance(board, list) else []
    seen: dict[str, int] = {}
    for index, member in enumerate(members):
        email = member.get("email") if isinstance(member, dict) else None
        if not isinstance(email, str):
            continue
        if email.lower() in seen:
            again = f"{_toml(email)} is listed twice (also board[{seen[email.lower()]}])"
            problems.append(Problem(f"board[{index}].email", again))
        seen.setdefault(email.lower(), index)
    quorum = policy.get("approvals_required") if isinstance(policy, dict) else None
    low, high, _ = BOUNDS[("policy", "approvals_required")]
    if members and type(quorum) is int and low <= quorum <= high and quorum > len(members):
        message = f"{quorum} approvals can never be given: the board has only {len(members)} member(s)"
        problems.append(Problem("policy.approvals_required", message))
    rules = checks.get("rules") if isinstance(checks, dict) else None
    for rule in sorted(rules) if isinstance(rules, dict) and not past else []:
        if rule not in RULE_IDS:
            import difflib  # only for a mistake

            close = difflib.get_close_matches(rule, sorted(RULE_IDS), n=1)
            hint = f"did you mean {close[0]!r}?" if close else "see the README's Check rules for the ids"
            problems.append(Problem(f"checks.rules.{rule}", f"unknown rule id; {hint}"))
    retractions = checks.get("retractions") if isinstance(checks, dict) else None
    if root is not None and isinstance(retractions, str) and not (root / retractions).is_file():
        problems.append(Problem("checks.retractions", f"file not found: {retractions}"))
    return problems


def _out_of_bounds(field: tuple[str | int, ...], value: Any) -> str:
    low, high, kind = BOUNDS[(str(field[0]), str(field[1]))]
    return f"{_toml(value)} is not allowed: must be {kind} from {low} to {high}"


def _toml(value: Any) -> str:
    """VALUE as it was written in the TOML file (true, "1", 3000000), shortened."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = json.dumps(value, default=str) if isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _dotted(loc: tuple[str | int, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1] if parts else ''}[{item}]"]
        else:
            parts.append(str(item))
    return ".".join(parts)
