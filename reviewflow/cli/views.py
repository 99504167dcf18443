"""Output of the review commands: one function per command and format, each returning text.

A registry per command (`STATUS_VIEWS`, ...) maps a `--format` name to its function, as the
check reporters do; adding a format touches one place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

import click

from reviewflow.cli.reporters import dump_json, inert_lines, plural, visible, visible_lines, visible_list
from reviewflow.collector import collection_paused
from reviewflow.review.actions import ActionResult
from reviewflow.review.model import Action, ArticleStatus, Event, State
from reviewflow.review.queries import ArticleDiff, ArticleHistory, QueueItem, StatusReport

_STATE_COLOURS = {
    State.DRAFT: None,
    State.SUBMITTED: "yellow",
    State.UNDER_REVIEW: "yellow",
    State.CHANGES_REQUESTED: "red",
    State.APPROVED: "green",
}


# --- building blocks -------------------------------------------------------------------------------


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    styles: Sequence[Sequence[str | None]] = (),
) -> str:
    """Columns padded to their widest cell; STYLES (a colour per cell) applied after padding."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for index, row in enumerate(rows):
        colours = styles[index] if index < len(styles) else [None] * len(row)
        cells = [
            click.style(cell.ljust(width), fg=colour) if colour else cell.ljust(width)
            for cell, width, colour in zip(row, widths, colours, strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def timestamp(moment: datetime | None) -> str:
    """A moment to the minute, as the views show it ("-" when unknown)."""
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value else None


def event_data(event: Event) -> dict[str, Any]:
    return {
        "commit": event.commit,
        "article": event.slug or None,
        "action": event.action.value if event.action else None,
        "actor_name": event.author_name,
        "actor_email": event.author_email,
        "committed_at": _iso(event.committed_at),
        "content": event.content or None,
        "message": event.message,
        "signature": event.signature,
        "signing_key": event.signing_key or None,
        "valid": event.valid,
        "superseded": event.superseded,
        "reason": event.reason,
        # An approval's Reviewflow-Accept trailers: each `rule line:column hash`, as recorded.
        "acknowledged": list(event.accepted),
    }


def acknowledgements_data(status: ArticleStatus) -> list[dict[str, Any]]:
    """Each counted approval of the published text, with the warnings its reviewer acknowledged."""
    approved = status.approved
    if approved is None:
        return []
    return [
        {"approver": e.actor, "commit": e.commit, "acknowledged": list(e.accepted)}
        for e in status.events
        if e.valid and e.action is Action.APPROVE and e.content == approved.blob
    ]


def status_data(status: ArticleStatus, today: date) -> dict[str, Any]:
    approved = status.approved
    return {
        "article": status.slug,
        "path": status.path,
        "state": status.state.value,
        "blob": status.blob,
        "approvals": status.approvals,
        "approvals_required": status.approvals_required,
        "approved_by": list(status.approved_by),
        "approved_commit": approved.commit if approved else None,
        "approved_blob": approved.blob if approved else None,
        "approved_approvers": list(approved.approvers) if approved else [],
        "approved_at": _iso(approved.approved_at) if approved else None,
        "review_due": _iso(status.review_due),
        "review_overdue": bool(status.review_due and status.review_due < today),
        "live_differs": status.live_differs,
        "submitted_at": _iso(status.submitted_at),
        "reviewers": list(status.reviewers),
        "approved_acknowledgements": acknowledgements_data(status),
    }


# --- status ----------------------------------------------------------------------------------------


def status_text(report: StatusReport, today: date) -> str:
    statuses = report.statuses
    notes = [
        f"{visible(path)} is not committed yet: it has no review state until it is (git add, git commit)."
        for path in report.uncommitted
    ]
    if not statuses:
        hint = 'No articles yet: `reviewflow new "Title" --condition "Condition"` starts one.'
        return inert_lines("\n".join([*notes, hint]))
    rows, styles = [], []
    for s in statuses:
        due = "-"
        if s.review_due:
            due = s.review_due.isoformat() + (" overdue" if s.review_due < today else "")
        live = {None: "never approved", True: "differs", False: "current"}[s.live_differs]
        if s.blob is None:
            live = "not in HEAD"
        approved_at = s.approved.approved_at.date().isoformat() if s.approved else "-"
        rows.append([
            visible(s.slug), s.state.value, f"{s.approvals}/{s.approvals_required}",
            visible_list(s.approved_by) or "-",
            approved_at, due, live,
        ])  # fmt: skip
        overdue = "red" if s.review_due and s.review_due < today else None
        styles.append([None, _STATE_COLOURS[s.state], None, None, None, overdue, None])
    counts: dict[str, int] = {}
    for s in statuses:
        counts[s.state.value] = counts.get(s.state.value, 0) + 1
    summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
    headers = [
        "ARTICLE",
        "STATE",
        "APPROVALS",
        "APPROVED BY",
        "LAST APPROVED",
        "REVIEW DUE",
        "LIVE VERSION",
    ]
    summary_line = f"{plural(len(statuses), 'article')}: {summary}"
    return inert_lines("\n".join([table(headers, rows, styles), "", summary_line, *notes]))


def status_json(report: StatusReport, today: date) -> str:
    # A dict and lists per article (100,000 at 100,000 articles), let go once written: no
    # cycles for the collector to find among them.
    with collection_paused():
        return dump_json([status_data(s, today) for s in report.statuses])


STATUS_VIEWS: dict[str, Callable[[StatusReport, date], str]] = {
    "text": status_text,
    "json": status_json,
}


# --- history ---------------------------------------------------------------------------------------


def history_text(history: ArticleHistory, today: date) -> str:
    s = history.status
    approvals = f"approvals {s.approvals}/{s.approvals_required}"
    head = f"{visible(s.slug)} ({visible(s.path)}): {s.state.value}, {approvals}"
    if s.approved:
        head += f"; last approved {s.approved.approved_at.date()} by {visible_list(s.approved.approvers)}"
    lines = [click.style(head, bold=True)]
    if not s.events:
        lines.append("No review events yet: it has never been submitted.")
    people = [f"{visible(e.author_name)} <{visible(e.author_email)}>" for e in s.events]
    width = max((len(p) for p in people), default=0)
    for event, person in zip(s.events, people, strict=True):
        action = event.action.value if event.action else "(malformed)"
        verdict = (
            click.style("ok", fg="green") if event.valid else click.style("NOT COUNTED", fg="red", bold=True)
        )
        when, commit = timestamp(event.committed_at), event.commit[:12]
        lines.append(f"{when}  {action:<15}  {person:<{width}}  commit {commit}  {verdict}")
        if event.message:
            lines.extend(f"    {line}" for line in visible_lines(event.message))
        if event.accepted:
            shown = ", ".join(visible(value) for value in event.accepted[:10])
            more = f" (and {len(event.accepted) - 10} more)" if len(event.accepted) > 10 else ""
            lines.append(f"    acknowledged {plural(len(event.accepted), 'warning')}: {shown}{more}")
        if not event.valid:
            lines.append(click.style(f"    why: {visible(event.reason or '')}", fg="red"))
    if history.changed_by is not None:
        lines.append(
            f"Changed after its last review event (latest: commit {history.changed_by.commit[:12]} by "
            f"{visible(history.changed_by.author_email)}), so it is a draft again."
        )
    return inert_lines("\n".join(lines))


def history_json(history: ArticleHistory, today: date) -> str:
    return dump_json([event_data(e) for e in history.status.events])


HISTORY_VIEWS: dict[str, Callable[[ArticleHistory, date], str]] = {
    "text": history_text,
    "json": history_json,
}


# --- queue -----------------------------------------------------------------------------------------


def queue_text(items: Sequence[QueueItem], mine: bool) -> str:
    if not items:
        return "Nothing waits for you." if mine else "Nothing waits for a reviewer."
    rows = [
        [
            plural(item.waiting_days, "day"),
            visible(item.status.slug),
            item.status.state.value,
            f"{item.status.approvals}/{item.status.approvals_required}",
            visible(item.submitted_by),
            visible_list(item.status.reviewers) or "-",
        ]
        for item in items
    ]
    styles = [[None, None, _STATE_COLOURS[i.status.state], None, None, None] for i in items]
    headers = ["WAITING", "ARTICLE", "STATE", "APPROVALS", "SUBMITTED BY", "REVIEWING"]
    return inert_lines(f"{table(headers, rows, styles)}\n\n{plural(len(items), 'article')} waiting")


def queue_json(items: Sequence[QueueItem], mine: bool) -> str:
    return dump_json(
        [
            {
                "article": i.status.slug,
                "path": i.status.path,
                "state": i.status.state.value,
                "waiting_days": i.waiting_days,
                "submitted_at": _iso(i.status.submitted_at),
                "submitted_by": i.submitted_by,
                "reviewers": list(i.status.reviewers),
                "approvals": i.status.approvals,
                "approvals_required": i.status.approvals_required,
            }
            for i in items
        ]
    )


QUEUE_VIEWS: dict[str, Callable[[Sequence[QueueItem], bool], str]] = {
    "text": queue_text,
    "json": queue_json,
}


# --- diff and actions ------------------------------------------------------------------------------


def diff_text(diff: ArticleDiff) -> str:
    s = diff.status
    if diff.basis == "approved":
        note = "changes since the last approved version"
    elif diff.basis == "changes-requested":
        note = "never approved: changes since the version changes were requested on"
    else:
        note = "never approved or reviewed: the whole file"
    lines = [click.style(f"{visible(s.slug)}: {note}", bold=True)]
    if not diff.lines:
        lines.append("No differences: the file at HEAD is the approved version.")
    for line in (visible(line, tabs=True) for line in diff.lines):
        if line.startswith(("+++", "---")):
            lines.append(click.style(line, bold=True))
        elif line.startswith("+"):
            lines.append(click.style(line, fg="green"))
        elif line.startswith("-"):
            lines.append(click.style(line, fg="red"))
        elif line.startswith("@@"):
            lines.append(click.style(line, fg="cyan"))
        else:
            lines.append(line)
    if diff.uncommitted:
        lines.append(
            f"Note: {visible(s.path)} has uncommitted changes, not shown; review acts on what is committed."
        )
    return inert_lines("\n".join(lines))


def action_text(result: ActionResult) -> str:
    s = result.status
    state = click.style(s.state.value, fg=_STATE_COLOURS[s.state], bold=True)
    head = f"{result.action.value} {visible(result.slug)}: now {state}"
    lines = [f"{head} (commit {result.commit[:12]} by {visible(result.actor)})"]
    if result.acknowledged:
        lines.append(f"Acknowledged {plural(len(result.acknowledged), 'warning')} (recorded in the commit):")
        lines.extend(f"  {visible(item)}" for item in result.acknowledged)
    if result.intended:
        lines.append("Marked intended by the author:")
        lines.extend(f"  {visible(item)}" for item in result.intended)
    lines.append(visible(result.next_step))
    return inert_lines("\n".join(lines))
