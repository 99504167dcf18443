"""`verify` output: the events the history does not count, those a merge superseded, approvals
that do not cover their warnings, events dated in the future and approved texts the lockfile
contradicts, as text or json (`VERIFY_VIEWS`, as the other review views)."""

from __future__ import annotations

from collections.abc import Callable

import click

from reviewflow.cli.reporters import dump_json, inert_lines, plural, visible
from reviewflow.cli.views import event_data, timestamp
from reviewflow.layout import LOCKFILE
from reviewflow.review.clock import future_reason
from reviewflow.review.model import Event
from reviewflow.review.queries import Verification


def verify_text(result: Verification) -> str:
    lines = []
    for label, colour, events in (
        ("invalid", "red", result.invalid),
        ("superseded", "yellow", result.superseded),
    ):
        for event in events:
            lines += [_event_line(label, colour, event), f"    {visible(event.reason or '')}"]
    for problem in result.unacknowledged:
        what = f"approve {visible(problem.event.slug)}"
        lines += [
            _event_line("unacknowledged", "red", problem.event, what),
            f"    {visible(problem.message)}",
        ]
    for stale in result.stale_references:
        lines.append(
            f"{click.style('references', fg='red', bold=True)} {visible(stale.status.slug)}  "
            f"approved text no longer matches {LOCKFILE}"
        )
        lines.append(f"    {visible(stale.message)}")
    total = plural(len(result.events), "review event")
    apart = f", {len(result.superseded)} superseded by a merge" if result.superseded else ""
    if result.stale_references:
        apart += f", {plural(len(result.stale_references), 'approved text')} the lockfile contradicts"
    if result.unacknowledged:
        apart += f", {plural(len(result.unacknowledged), 'approval')} not covering its warnings"
    lines += future_lines(result)
    apart += f", {len(result.future)} dated in the future" if result.future else ""
    if result.failed:
        lines.append(
            f"{total} checked: {len(result.invalid)} invalid, not counted{apart} "
            f"({click.style('failed', fg='red', bold=True)})"
        )
    else:
        lines.append(f"{total} checked: all valid{apart} ({click.style('ok', fg='green', bold=True)})")
    return inert_lines("\n".join(lines))


def future_lines(result: Verification) -> list[str]:
    """The events dated after the time of the run (date-future): they count, the record is wrong."""
    lines = []
    for event in result.future:
        assert result.checked_at is not None
        lines += [_event_line("future", "red", event), f"    {future_reason(event, result.checked_at)}"]
    return lines


def _event_line(label: str, colour: str, event: Event, what: str | None = None) -> str:
    """One event in `verify`'s report: LABEL, the commit, its date, WHAT it did (by default its
    action and article) and who did it."""
    if what is None:
        action = event.action.value if event.action else "(malformed)"
        what = f"{action} {visible(event.slug) or '(no article)'}"
    label = click.style(label, fg=colour, bold=True)
    return (
        f"{label} commit {event.commit[:12]}  {timestamp(event.committed_at)}  "
        f"{what}  by {visible(event.author_name)} <{visible(event.author_email)}>"
    )


def verify_json(result: Verification) -> str:
    return dump_json(
        {
            "events": len(result.events),
            "invalid": [event_data(e) for e in result.invalid],
            "superseded": [event_data(e) for e in result.superseded],
            "unacknowledged": [
                {
                    **event_data(p.event),
                    "problem": p.message,
                    "warnings": [f.model_dump(mode="json", exclude_none=True) for f in p.warnings],
                }
                for p in result.unacknowledged
            ],
            "future": [event_data(e) for e in result.future],
            "stale_references": [
                {
                    "article": s.status.slug,
                    "problem": s.message,
                    "findings": [f.model_dump(mode="json", exclude_none=True) for f in s.findings],
                }
                for s in result.stale_references
            ],
            "valid": not result.failed,
        }
    )


VERIFY_VIEWS: dict[str, Callable[[Verification], str]] = {"text": verify_text, "json": verify_json}
