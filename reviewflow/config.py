"""reviewflow.toml: the publisher's policy, advisory board, disclaimers and check settings."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from reviewflow.errors import ConfigError
from reviewflow.files import read_regular

CONFIG_FILE = "reviewflow.toml"
ARTICLES_DIR = "articles"
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")  # articles/<slug>.md
SCHEMA_FILE = "schemas/article.schema.json"


# The article-path rule, in one place: an article is articles/<slug>.md, paths taken from the
# content repo's root, with "/" as git writes them.
def article_path(slug: str) -> str:
    """The file of the article SLUG: articles/<slug>.md."""
    return f"{ARTICLES_DIR}/{slug}.md"


def is_article_path(path: str) -> bool:
    """Whether PATH is a Markdown file directly in articles/, as `check` finds them (its name
    may yet be no valid slug: `check` reports that)."""
    directory, _, name = path.rpartition("/")
    return directory == ARTICLES_DIR and name.endswith(".md")


def article_slug(path: str) -> str | None:
    """The slug of PATH if it is articles/<slug>.md with a valid slug, else None."""
    if not is_article_path(path):
        return None
    slug = path[len(ARTICLES_DIR) + 1 : -3]
    return slug if SLUG_PATTERN.match(slug) else None


Audience = Literal["patient", "professional"]
RuleSetting = Literal["error", "warning", "off"]

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+$"
SSH_KEY_PATTERN = (
    r"^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)"
    r"|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/=]+( .*)?$"
)

DEFAULT_ABSOLUTE_CLAIMS = [
    "cure",
    "cures",
    "cured",
    "curative",
    "guaranteed",
    "guarantee",
    "miracle",
    "100% effective",
    "no side effects",
    "risk-free",
    "breakthrough",
    "revolutionary",
]


# Every number in reviewflow.toml, with the range it must be in (inclusive) and what it counts.
# Every number is bounded: a value no publisher means (a review cycle of 8,000 years, a file
# limit of 8 EiB) would otherwise pass here and overflow a date or a read in a later command.
BOUNDS: dict[tuple[str, str], tuple[int | float, int | float, str]] = {
    ("policy", "approvals_required"): (1, 20, "a whole number"),
    ("policy", "review_cycle_days"): (1, 3650, "a whole number of days"),
    ("checks", "max_reference_age_years"): (1, 100, "a whole number of years"),
    ("checks", "patient_max_grade"): (1, 30, "a number"),
    ("checks", "max_file_bytes"): (1024, 16 * 1024 * 1024, "a whole number of bytes"),
}


def _bounded(section: str, key: str, default: int | float) -> Any:
    low, high, _ = BOUNDS[(section, key)]
    return Field(default, ge=low, le=high, allow_inf_nan=False)


class _Strict(BaseModel):
    # A misspelt key in a config that gates medical content must not be silently ignored, and
    # a value of the wrong type is an error, not converted: `approvals_required = true` or "1"
    # is a mistake to point out, not a 1 (strict mode; only a whole number is taken as a float).
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Policy(_Strict):
    approvals_required: int = _bounded("policy", "approvals_required", 1)
    review_cycle_days: int = _bounded("policy", "review_cycle_days", 365)


class BoardMember(_Strict):
    name: str = Field(min_length=1)
    email: str = Field(pattern=EMAIL_PATTERN)
    credentials: str = Field(min_length=1)
    signing_key: str | None = Field(None, pattern=SSH_KEY_PATTERN)

    @property
    def key(self) -> str:
        """The email as reviewflow compares it: case-insensitively."""
        return self.email.lower()


class Disclaimer(_Strict):
    audience: Audience
    text: str = Field(min_length=1)


class Checks(_Strict):
    max_reference_age_years: int = _bounded("checks", "max_reference_age_years", 10)
    patient_max_grade: float = _bounded("checks", "patient_max_grade", 8.0)
    absolute_claims: list[str] = Field(default_factory=lambda: list(DEFAULT_ABSOLUTE_CLAIMS))
    # A local copy of the Retraction Watch CSV (TOML has no path type: a string is taken).
    retractions: Path | None = Field(None, strict=False)
    max_file_bytes: int = _bounded("checks", "max_file_bytes", 1024 * 1024)
    rules: dict[str, RuleSetting] = Field(default_factory=dict)  # per-rule severity or "off"


class Site(_Strict):
    name: str = Field("Health library", min_length=1)
    url: str | None = None
    contact: str | None = None
    ownership: str | None = None
    advertising: str | None = None
    language: str = "en"


class Config(_Strict):
    policy: Policy = Field(default_factory=Policy)
    board: list[BoardMember] = Field(default_factory=list)
    disclaimers: dict[str, Disclaimer] = Field(default_factory=dict)
    checks: Checks = Field(default_factory=Checks)
    site: Site = Field(default_factory=Site)

    @field_validator("board")
    @classmethod
    def _unique_emails(cls, board: list[BoardMember]) -> list[BoardMember]:
        seen: set[str] = set()
        for member in board:
            if member.key in seen:
                raise ValueError(f"{member.email} is listed twice")
            seen.add(member.key)
        return board

    @model_validator(mode="after")
    def _quorum_reachable(self) -> Config:
        if self.board and self.policy.approvals_required > len(self.board):
            raise ValueError(
                f"policy.approvals_required is {self.policy.approvals_required} "
                f"but the board has only {len(self.board)} member(s)"
            )
        return self

    def member(self, email: str) -> BoardMember | None:
        """The board member with this email (case-insensitive), if any."""
        wanted = email.lower()
        return next((m for m in self.board if m.key == wanted), None)


def find_root(start: Path) -> Path:
    """The content repo root: the nearest directory at or above `start` with reviewflow.toml."""
    start = start.resolve()
    for directory in (start, *start.parents):
        if (directory / CONFIG_FILE).is_file():
            return directory
    raise ConfigError(
        f"{CONFIG_FILE} not found in {start} or any parent directory; "
        "run `reviewflow init` to create a content repository"
    )


def parse_config(text: str, source: str = CONFIG_FILE) -> Config:
    """Validate the text of a reviewflow.toml; every problem is reported in one ConfigError."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from None
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            key = _dotted(error["loc"]) or "(top level)"
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown key (check the spelling; see the README for the keys)"
            elif error["loc"][-2:] in BOUNDS:
                message = _out_of_bounds(error["loc"][-2:], error["input"])
            problems.append(f"{source}: {key}: {message}")
        raise ConfigError("\n".join(problems)) from None


def load_config(root: Path) -> Config:
    """Read and validate ROOT/reviewflow.toml."""
    path = root / CONFIG_FILE
    try:
        text = read_regular(root, path).decode("utf-8")  # no link, no FIFO: files.py
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found; run `reviewflow init`") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    config = parse_config(text, CONFIG_FILE)
    retractions = config.checks.retractions
    if retractions is not None and not (root / retractions).is_file():
        raise ConfigError(f"{CONFIG_FILE}: checks.retractions: file not found: {retractions}")
    return config


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
