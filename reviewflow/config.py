"""reviewflow.toml: the publisher's policy, advisory board, disclaimers and check settings."""

from __future__ import annotations

import json
import os
import re
import string
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from reviewflow.errors import ConfigError, InvalidFile, Problem
from reviewflow.files import read_regular
from reviewflow.tomltext import line_of_key, toml_problem

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

CONFIG_FILE = "reviewflow.toml"
ARTICLES_DIR = "articles"
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")  # articles/<slug>.md
SCHEMA_FILE = "schemas/article.schema.json"
LOCKFILE = f"{ARTICLES_DIR}/references.lock.json"  # what `reviewflow refs fetch` resolved


# The article-path rule, in one place: an article is articles/<slug>.md or articles/<dirs>/<slug>.md
# (subdirectories keep each git tree small at 100,000 articles), paths taken from the content
# repo's root, with "/" as git writes them. The slug, the file's stem, is the article's identity
# everywhere, so it must be unique under articles/ whatever the directory.
def article_path(slug: str) -> str:
    """The article SLUG's name in the review record, and its file when it lives directly in
    articles/: articles/<slug>.md. Where the file is, a tree's listing says (`article_paths`)."""
    return f"{ARTICLES_DIR}/{slug}.md"


def is_article_path(path: str) -> bool:
    """Whether PATH is a Markdown file in articles/ or a subdirectory of it, as `check` finds
    them (its name may yet be no valid slug: `check` reports that)."""
    directory, _, name = path.rpartition("/")
    if not name.endswith(".md") or not (directory + "/").startswith(f"{ARTICLES_DIR}/"):
        return False
    return "" not in directory.split("/") and not any(part in (".", "..") for part in directory.split("/"))


def article_slug(path: str) -> str | None:
    """The slug of PATH if it is an article file (articles/[<dirs>/]<slug>.md) with a valid slug."""
    if not is_article_path(path):
        return None
    slug = path.rpartition("/")[2][:-3]
    return slug if SLUG_PATTERN.match(slug) else None


def article_files_under(directory: Path) -> Iterator[Path]:
    """The *.md entries of DIRECTORY and its subdirectories, never entering a linked directory
    (like git, reviewflow follows no link the repository brings). A link or a directory named
    *.md is listed, not entered: `check` names it."""
    for parent, subdirectories, names in os.walk(directory):
        base = Path(parent)
        yield from (base / name for name in names if name.endswith(".md"))
        yield from (base / name for name in subdirectories if name.endswith(".md"))
        subdirectories[:] = sorted(name for name in subdirectories if not name.endswith(".md"))


def work_tree_articles(root: Path) -> dict[str, str]:
    """slug -> path (from ROOT, "/"-separated) of every article file in the work tree of the
    content repo ROOT (where two share a slug, the first found: `check` reports it)."""
    return {slug: paths[0] for slug, paths in work_tree_listing(root).items()}


def work_tree_listing(root: Path) -> dict[str, list[str]]:
    """slug -> every path (from ROOT, "/"-separated) of an article file with that name in the
    work tree of the content repo ROOT. Plain strings, no Path objects: `status` lists 100,000
    files with it."""
    found: dict[str, list[str]] = {}
    top = os.path.join(root, ARTICLES_DIR)
    for parent, subdirectories, names in os.walk(top):
        subdirectories[:] = sorted(name for name in subdirectories if not name.endswith(".md"))
        directory = ARTICLES_DIR + parent[len(top) :].replace(os.sep, "/")
        for name in sorted(names):
            if name.endswith(".md") and SLUG_PATTERN.match(name[:-3]):
                found.setdefault(name[:-3], []).append(f"{directory}/{name}")
    return found


def duplicate_slug_message(slug: str, paths: Sequence[str]) -> str:
    """The one line that names every file sharing the slug SLUG."""
    return (
        f"two articles have the slug {slug!r}: {' and '.join(sorted(paths))}; a slug names one "
        "article wherever it lives under articles/, rename or remove one"
    )


Audience = Literal["patient", "professional"]
AUDIENCES: tuple[Audience, ...] = ("patient", "professional")
RuleSetting = Literal["error", "warning", "off"]
RULE_SETTINGS: tuple[RuleSetting, ...] = ("error", "warning", "off")

# The ids of the rules in checks.RULES, which `[checks] rules` may set. Listed here so that
# reading a config never loads the rules (`status` starts without them); a test keeps the two
# equal.
RULE_IDS = frozenset(
    {
        "disclaimer-unknown",
        "disclaimer-audience",
        "citation-unknown",
        "citation-malformed",
        "reference-uncited",
        "reference-duplicate-id",
        "reference-duplicate-identifier",
        "evidence-uncited",
        "reference-old",
        "reference-no-identifier",
        "reference-retracted",
        "reference-concern",
        "body-disclaimer",
        "raw-html",
        "absolute-claim",
        "readability",
        "references-missing",
        "claim-uncited",
        "citation-bare",
        "jargon",
        "disclosure-missing",
        "date-future",
        "reference-mismatch",
        "reference-unverified",
        "reference-not-found",
        "reference-corrected",
        "counterpart-unknown",
        "testimonial",
    }
)

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+$"
URL_PATTERN = r"^https?://[^\s<>\"'`]+$"
SSH_KEY_PATTERN = (
    r"^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)"
    r"|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/=]+( .*)?$"
)

# Every number in reviewflow.toml, with the range it must be in (inclusive) and what it counts.
# Every number is bounded: a value no publisher means (a review cycle of 8,000 years, a file
# limit of 8 EiB) would otherwise pass here and overflow a date or a read in a later command.
BOUNDS: dict[tuple[str, str], tuple[int | float, int | float, str]] = {
    ("policy", "approvals_required"): (1, 20, "a whole number"),
    ("policy", "review_cycle_days"): (1, 3650, "a whole number of days"),
    ("checks", "max_reference_age_years"): (1, 100, "a whole number of years"),
    ("checks", "patient_max_grade"): (1, 30, "a number"),
    ("checks", "max_file_bytes"): (1024, 16 * 1024 * 1024, "a whole number of bytes"),
    ("references", "timeout_seconds"): (0.01, 600, "a number of seconds"),
    ("references", "retries"): (0, 10, "a whole number"),
    ("references", "max_response_bytes"): (1024, 256 * 1024 * 1024, "a whole number of bytes"),
    ("references", "requests_per_second"): (0.01, 50, "a number"),
    ("references", "title_similarity"): (0.5, 1, "a number"),
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
    # A commit: the approvals in its history (it included) were made before reviewflow recorded
    # acknowledged warnings, so verify and ci do not ask them for acknowledgements. A commit id,
    # not a date: a commit's date is whatever its author set, its ancestry is not.
    legacy_approvals: str | None = Field(None, pattern=r"^[0-9a-f]{40}([0-9a-f]{24})?$")


# Lowercases ASCII letters only: how a member's email is matched letter for letter.
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


class BoardMember(_Strict):
    name: str = Field(min_length=1)
    email: str = Field(pattern=EMAIL_PATTERN)
    credentials: str = Field(min_length=1)
    signing_key: str | None = Field(None, pattern=SSH_KEY_PATTERN)
    # Shown on the board page and beside each approval. Optional here, so that no past
    # configuration in the history becomes invalid; `check` and `verify` warn when it is missing.
    competing_interests: str | None = Field(None, min_length=1)
    affiliation: str | None = Field(None, min_length=1)
    profile_url: str | None = Field(None, pattern=URL_PATTERN)

    @property
    def key(self) -> str:
        """The email as reviewflow compares it: case-insensitively."""
        return self.email.lower()

    def same_email(self, email: str) -> bool:
        """Whether EMAIL is this member's letter for letter: ASCII letters in either case, any
        other character exactly as written. (Unicode's case rules make look-alikes equal: the
        Kelvin sign `\u212a` lowercases to `k`.)"""
        return email.translate(_ASCII_LOWER) == self.email.translate(_ASCII_LOWER)


class Disclaimer(_Strict):
    audience: Audience
    text: str = Field(min_length=1)


class RuleSettings(_Strict):
    """One rule's line in `[checks] rules`: a severity or "off" for every audience
    (`readability = "error"`), or per audience (`claim-uncited = {patient = "error"}`; an
    audience not named keeps the rule's default)."""

    patient: RuleSetting | None = None
    professional: RuleSetting | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_for_all(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value not in RULE_SETTINGS:
                raise ValueError("Input should be 'error', 'warning' or 'off'")
            return dict.fromkeys(AUDIENCES, value)
        if not isinstance(value, dict):
            raise ValueError("Input should be 'error', 'warning' or 'off', or a table of them per audience")
        return value

    def __str__(self) -> str:
        if self.patient == self.professional:
            return str(self.patient or "default")
        return ", ".join(f"{audience} {getattr(self, audience) or 'default'}" for audience in AUDIENCES)


class VocabularyAdditions(_Strict):
    """`[checks.vocabulary]`: words the publisher adds to the shipped vocabularies
    (reviewflow/checks/vocabulary/*.toml); nothing here removes a shipped word."""

    claims: list[str] = Field(default_factory=list)  # claim-uncited: a claim whatever its subject
    effects: list[str] = Field(default_factory=list)  # claim-uncited: a claim next to a treatment word
    treatments: list[str] = Field(default_factory=list)  # claim-uncited: what a treatment is called
    self_care: list[str] = Field(default_factory=list)  # claim-uncited: advice, not a claim
    absolute: list[str] = Field(default_factory=list)  # absolute-claim
    abbreviations: list[str] = Field(default_factory=list)  # jargon: known without expansion
    jargon: dict[str, str] = Field(default_factory=dict)  # jargon: term = "plain words"
    outcomes: list[str] = Field(default_factory=list)  # testimonial: an outcome a person tells
    told_outcomes: list[str] = Field(default_factory=list)  # testimonial: with its teller and cause
    social_proof: list[str] = Field(default_factory=list)  # testimonial: stories as proof for the reader
    endorsements: list[str] = Field(default_factory=list)  # testimonial: authority as evidence


ReferenceCount = Annotated[int, Field(ge=0, le=100)]


class MinReferences(_Strict):
    """`[checks] min_references`: one number for every audience (`min_references = 1`), or per
    audience (`min_references = { patient = 1, professional = 3 }`; one not named keeps 1)."""

    patient: ReferenceCount = 1
    professional: ReferenceCount = 1

    @model_validator(mode="before")
    @classmethod
    def _one_for_all(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return dict.fromkeys(AUDIENCES, value)
        raise ValueError("must be a whole number, or one per audience: { patient = 1, professional = 3 }")


class Checks(_Strict):
    max_reference_age_years: int = _bounded("checks", "max_reference_age_years", 10)
    patient_max_grade: float = _bounded("checks", "patient_max_grade", 8.0)
    # absolute-claim's words; None: the shipped list (checks/vocabulary/absolute.toml).
    absolute_claims: list[str] | None = None
    # A local copy of the Retraction Watch CSV (TOML has no path type: a string is taken).
    retractions: Path | None = Field(None, strict=False)
    max_file_bytes: int = _bounded("checks", "max_file_bytes", 1024 * 1024)
    rules: dict[str, RuleSettings] = Field(default_factory=dict)
    # references-missing: the fewest references an article may have, for all or per audience.
    min_references: MinReferences = Field(default_factory=MinReferences)
    vocabulary: VocabularyAdditions = Field(default_factory=VocabularyAdditions)

    def min_references_for(self, audience: Audience) -> int:
        return int(getattr(self.min_references, audience))

    def rule_setting(self, rule: str, audience: Audience) -> RuleSetting | None:
        """What reviewflow.toml sets for RULE on an article for AUDIENCE; None: the default."""
        settings = self.rules.get(rule)
        return getattr(settings, audience) if settings else None


class References(_Strict):
    """`[references]`: how `reviewflow refs fetch` asks the registries (the only network use),
    and how `check` matches a reference against what its identifier resolved to."""

    # Sent in the User-Agent and as Crossref's `mailto` and NCBI's `email`: the services ask for it.
    contact: str | None = Field(None, pattern=EMAIL_PATTERN)
    crossref_url: str = Field("https://api.crossref.org", pattern=URL_PATTERN)
    eutils_url: str = Field("https://eutils.ncbi.nlm.nih.gov/entrez/eutils", pattern=URL_PATTERN)
    idconv_url: str = Field("https://pmc.ncbi.nlm.nih.gov/tools/idconv/api/v1/articles", pattern=URL_PATTERN)
    timeout_seconds: float = _bounded("references", "timeout_seconds", 30.0)
    retries: int = _bounded("references", "retries", 3)
    max_response_bytes: int = _bounded("references", "max_response_bytes", 4 * 1024 * 1024)
    requests_per_second: float = _bounded("references", "requests_per_second", 3.0)
    # reference-mismatch: the least normalised similarity of a stated title to the resolved one.
    title_similarity: float = _bounded("references", "title_similarity", 0.85)
    # reference-unverified in `ci`: "warning" as in `check`, or "error" to fail the change.
    ci_unverified: Literal["error", "warning"] = "warning"


class Site(_Strict):
    name: str = Field("Health library", min_length=1)
    url: str | None = None
    contact: str | None = None
    ownership: str | None = None
    advertising: str | None = None
    language: str = "en"


class Config(_Strict):
    """A reviewflow.toml. Read one with `parse_config`, which also checks what spans keys
    (the quorum against the board, duplicate members, rule ids)."""

    policy: Policy = Field(default_factory=Policy)
    board: list[BoardMember] = Field(default_factory=list)
    disclaimers: dict[str, Disclaimer] = Field(default_factory=dict)
    checks: Checks = Field(default_factory=Checks)
    site: Site = Field(default_factory=Site)
    # Set (even empty): every reference's identifiers must be in the lockfile. Reference identity
    # is checked whenever the lockfile exists, too.
    references: References | None = None

    def member(self, email: str) -> BoardMember | None:
        """The board member with this email (case-insensitive), if any."""
        wanted = email.lower()
        return next((m for m in self.board if m.key == wanted and m.same_email(email)), None)


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


def locate_root(start: Path, paths: Sequence[Path] = ()) -> Path:
    """The content repo at or above START, else the one that holds PATHS.

    pre-commit runs hooks at the top of the git work tree, which may hold the content repo
    in a subdirectory: the files then say where it is.
    """
    try:
        return find_root(start)
    except ConfigError:
        if not paths:
            raise
    roots = sorted({find_root(path if path.is_dir() else path.parent) for path in paths})
    if len(roots) > 1:
        listed = ", ".join(str(r) for r in roots)
        raise ConfigError(
            f"the files belong to different content repositories ({listed}): "
            "check each from its own directory"
        )
    return roots[0]


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
