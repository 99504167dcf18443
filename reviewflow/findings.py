"""A finding: one problem in one file, at one line, from one rule."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule: str
    severity: Severity
    path: str
    line: int
    column: int
    message: str
    # The author's reason, when front-matter `intended` marks this warning as meant: still
    # shown, never counted against the exit code (checks/intended.py).
    intended: str | None = None

    @classmethod
    def error(cls, rule: str, path: str, line: int, column: int, message: str) -> Finding:
        return cls(rule=rule, severity=Severity.ERROR, path=path, line=line, column=column, message=message)

    @classmethod
    def warning(cls, rule: str, path: str, line: int, column: int, message: str) -> Finding:
        return cls(rule=rule, severity=Severity.WARNING, path=path, line=line, column=column, message=message)

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.rule)


def count(findings: Iterable[Finding], severity: Severity) -> int:
    """How many findings of SEVERITY count (a warning the author marked intended does not)."""
    return sum(1 for f in findings if f.severity is severity and f.intended is None)


class _Judged(Protocol):
    @property
    def findings(self) -> Sequence[Finding]: ...

    def blocking(self) -> list[Finding]: ...


class Tallied:
    """What every result made of findings has (a check's report, ci's result): the counts, and one
    verdict, `failed`, from the findings its own `blocking()` says stop it."""

    @property
    def errors(self: _Judged) -> int:
        return count(self.findings, Severity.ERROR)

    @property
    def warnings(self: _Judged) -> int:
        return count(self.findings, Severity.WARNING)

    @property
    def failed(self: _Judged) -> bool:
        return bool(self.blocking())
