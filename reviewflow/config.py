"""reviewflow.toml as data: the publisher's policy, advisory board, disclaimers and check settings
(pydantic models, strict). configfile.py reads a file into them and reports its problems."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

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
    """A reviewflow.toml. Read one with `configfile.parse_config`, which also checks what spans keys
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
