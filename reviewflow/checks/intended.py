"""Findings an author marks as intended: front-matter `intended`, one mark for one warning.

    intended:
      - rule: absolute-claim
        text: "miracle cure"
        reason: "quoted to debunk it"

A mark matches the first warning of its rule, not matched by an earlier mark, whose line in
the body holds TEXT (or whose message does: a finding in the front-matter quotes what it is
about), case-insensitively. The finding is still reported, with the reason, and no longer
counts against the exit code. Only warnings can be marked: an error is the publisher's policy,
not the author's to waive. A mark that matches nothing is itself a warning (`intended-stale`),
so a mark cannot outlive the sentence it was written for and quietly cover a new one.
Pure: findings and the parsed document in, findings out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from reviewflow.content.article import Article, Document
from reviewflow.findings import Finding, Severity

INTENDED_STALE = "intended-stale"
INTENDED_FIELD = "intended"


class IntendedMark(NamedTuple):
    rule: str
    text: str
    reason: str
    place: int  # its index in the front-matter list


def intended_marks(article: Article) -> list[IntendedMark]:
    """The article's marks. The bundled schema checks their shape; a publisher's schema that
    does not is met here, and an item that is not a rule, a text and a reason is no mark."""
    listed = (article.model_extra or {}).get(INTENDED_FIELD)
    marks = []
    for index, item in enumerate(listed if isinstance(listed, list) else []):
        if not isinstance(item, dict):
            continue
        rule, text, reason = item.get("rule"), item.get("text"), item.get("reason")
        if isinstance(rule, str) and isinstance(text, str) and isinstance(reason, str) and text and reason:
            marks.append(IntendedMark(rule, text, reason, index))
    return marks


def apply_intended(findings: Sequence[Finding], article: Article, doc: Document) -> list[Finding]:
    """FINDINGS with the article's marks applied, and an `intended-stale` warning for each mark
    that matches no warning."""
    marks = intended_marks(article)
    if not marks:
        return list(findings)
    result = list(findings)
    body = doc.body.split("\n")
    for mark in marks:
        wanted = mark.text.casefold()
        for position, finding in enumerate(result):
            if (
                finding.rule == mark.rule
                and finding.severity is Severity.WARNING
                and finding.intended is None
                and _holds(finding, wanted, body, doc.body_line)
            ):
                result[position] = finding.model_copy(update={"intended": mark.reason})
                break
        else:
            line, column = doc.position(INTENDED_FIELD, mark.place)
            result.append(
                Finding.warning(
                    INTENDED_STALE,
                    doc.path,
                    line,
                    column,
                    f"intended mark for {mark.rule} {mark.text!r} matches no warning of that rule on a "
                    "line holding that text: remove the mark, or quote the text as the line has it",
                )
            )
    return result


def _holds(finding: Finding, wanted: str, body: Sequence[str], body_line: int) -> bool:
    """Whether the finding's line in the body, or its message, holds WANTED (casefolded)."""
    index = finding.line - body_line
    line = body[index].casefold() if 0 <= index < len(body) else ""
    return wanted in line or wanted in finding.message.casefold()
