"""Output formats for `reviewflow ci`: one registry, one function per format.

Each reporter turns a CiResult into text (styled for a terminal where that makes sense); the
CLI decides whether it goes to stdout or to a file. `github` also has a Markdown job summary,
which the CLI appends to $GITHUB_STEP_SUMMARY.
"""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import click

from reviewflow.ci.articles import ArticleResult
from reviewflow.ci.config_diff import CONFIG_CHANGED, SCHEMA_CHANGED
from reviewflow.ci.verdict import CiResult
from reviewflow.cli.reporters import (
    SEVERITY_COLOURS,
    dump_json,
    finding_line,
    github_command,
    inert_lines,
    plural,
    use_colour,
    visible,
    workflow_data,
)
from reviewflow.errors import EnvironmentProblem
from reviewflow.findings import Finding, Severity

MAX_SUMMARY_ROWS = 200  # GitHub caps a job summary at 1 MiB; a huge change still gets one


def counts(findings: list[Finding]) -> str:
    errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    return f"{plural(errors, 'error')}, {plural(len(findings) - errors, 'warning')}"


def range_line(result: CiResult) -> str:
    return f"{visible(result.base_ref)} (merge-base {result.merge_base[:12]}) .. HEAD ({result.head[:12]})"


def verdict_line(result: CiResult) -> str:
    s = result.summary()
    events = plural(s["events"], "review event")
    if s["invalid_events"]:
        events += f" ({s['invalid_events']} invalid)"
    rechecked = f", {plural(s['rechecked'], 'unchanged article')} rechecked" if s["rechecked"] else ""
    return (
        f"{plural(s['articles'], 'changed article')} checked, {s['deleted']} deleted{rechecked}, "
        f"{events} verified: {plural(s['errors'], 'error')}, {plural(s['warnings'], 'warning')}"
    )


# --- text -------------------------------------------------------------------------------------


def report_text(result: CiResult) -> str:
    lines = [f"reviewflow ci: {range_line(result)}"]
    by_path = result.by_path()
    rows = [
        (
            a.change.change,
            visible(a.path),
            visible(a.change.previous_path) if a.change.previous_path else None,
            visible(_outcome(a, by_path.get(a.path, []))),
        )
        for a in [*result.articles, *result.affected]
    ] + [("deleted", visible(d.path), None, "not checked") for d in result.deleted]
    if rows:
        width = max(len(path) for _, path, _, _ in rows)
        for kind, path, previous, outcome in sorted(rows, key=lambda row: row[1]):
            moved = f" (from {previous})" if previous else ""
            lines.append(f"  {kind:<9} {path:<{width}}  {outcome}{moved}")
    else:
        lines.append("  no article changed")
    for f in result.findings:
        severity = click.style(f.severity.value, fg=SEVERITY_COLOURS[f.severity], bold=True)
        lines.append(finding_line(f, severity))
    verdict = (
        click.style("not mergeable", fg="red", bold=True)
        if result.failed
        else click.style("mergeable", fg="green", bold=True)
    )
    lines.append(f"{verdict_line(result)} ({verdict})")
    return inert_lines("\n".join(lines))


def _outcome(article: ArticleResult, findings: list[Finding]) -> str:
    if article.not_checked:
        return f"not checked: {article.not_checked}"
    outcome = counts(findings) if findings else "ok"
    return f"{outcome}; {article.state} at HEAD" if article.state else outcome


# --- json -------------------------------------------------------------------------------------


def report_json(result: CiResult) -> str:
    by_path = result.by_path()
    payload = {
        "base": {"ref": result.base_ref, "merge_base": result.merge_base},
        "head": result.head,
        "articles": [
            {
                "path": a.path,
                "slug": a.change.slug,
                "change": a.change.change,
                "previous_path": a.change.previous_path,
                "state": a.state,
                "checked": a.not_checked is None,
                "findings": [f.model_dump(mode="json", exclude_none=True) for f in by_path.get(a.path, [])],
            }
            for a in [*result.articles, *result.affected]
        ],
        "deleted": [d.path for d in result.deleted],
        "events": [
            {
                "commit": e.commit,
                "article": e.article,
                "action": e.action,
                "actor": e.actor,
                "valid": e.valid,
                "reason": e.reason or None,
            }
            for e in result.events
        ],
        "findings": [f.model_dump(mode="json", exclude_none=True) for f in result.findings],
        "summary": result.summary(),
    }
    return dump_json(payload)


# --- github -----------------------------------------------------------------------------------


def report_github(result: CiResult) -> str:
    # GitHub places annotations by path from the top of the repository.
    prefix = result.repo_prefix
    lines = [github_command(f.model_copy(update={"path": prefix + f.path})) for f in result.findings]
    lines += [
        f"::notice title=reviewflow::{workflow_data(prefix + d.path)} is deleted (not checked)"
        for d in result.deleted
    ]
    lines.append(
        f"reviewflow ci: {range_line(result)}: {verdict_line(result)} "
        f"({'not mergeable' if result.failed else 'mergeable'})"
    )
    return "\n".join(lines)


def github_problem(message: str) -> str:
    """The workflow command for a problem that stopped the gate (exit 2): an error on the run."""
    return f"::error title=reviewflow ci::{workflow_data(message)}"


def job_summary(result: CiResult) -> str:
    """The Markdown job summary for GitHub Actions: the verdict, the articles, the findings."""
    icon, verdict = ("❌", "not mergeable") if result.failed else ("✅", "mergeable")
    out = [
        f"## reviewflow ci: {icon} {verdict}",
        "",
        f"Base {_md(result.base_ref)} (merge-base `{result.merge_base[:12]}`) → "
        f"HEAD `{result.head[:12]}`: {_md(verdict_line(result))}.",
        "",
    ]
    if result.articles or result.affected or result.deleted:
        by_path, blocking = result.by_path(), set(result.blocking())
        rows = []
        for a in [*result.articles, *result.affected]:
            previous = f" (from {_md(a.change.previous_path)})" if a.change.previous_path else ""
            findings = by_path.get(a.path, [])
            mark = "➖" if a.not_checked else "❌" if blocking.intersection(findings) else "✅"
            outcome = _outcome(a, findings)
            rows.append(f"| {_md(a.path)} | {a.change.change}{previous} | {mark} {_md(outcome)} |")
        rows += [f"| {_md(d.path)} | deleted | not checked |" for d in result.deleted]
        out += ["| article | change | result |", "|---|---|---|", *rows[:MAX_SUMMARY_ROWS]]
        if len(rows) > MAX_SUMMARY_ROWS:
            out.append(f"\n… and {len(rows) - MAX_SUMMARY_ROWS} more (see the job log).")
        out.append("")
    else:
        out += ["No article changed.", ""]
    findings = result.findings
    if findings:
        out += ["### Findings", "", "| where | severity | rule | message |", "|---|---|---|---|"]
        for f in findings[:MAX_SUMMARY_ROWS]:
            out.append(
                f"| {_md(f'{f.path}:{f.line}:{f.column}')} | {f.severity.value} | "
                f"`{f.rule}` | {_md(f.message)} |"
            )
        if len(findings) > MAX_SUMMARY_ROWS:
            out.append(f"\n… and {len(findings) - MAX_SUMMARY_ROWS} more (see the job log).")
        out.append("")
    if result.events:
        out += ["### Review events in this change", ""]
        out += ["| commit | article | action | by | counts |", "|---|---|---|---|---|"]
        for e in result.events[:MAX_SUMMARY_ROWS]:
            counted = "yes" if e.valid else f"**no**: {_md(e.reason)}"
            out.append(
                f"| `{e.commit[:12]}` | {_md(e.article)} | {_md(e.action)} | {_md(e.actor)} | {counted} |"
            )
        out.append("")
    if any(f.rule in CONFIG_NOTICES for f in findings):
        out += [
            "> [!WARNING]",
            "> This change edits the review configuration. Its own review events were judged "
            "against the base's board and policy; the new ones apply after the merge.",
            "",
        ]
    return "\n".join(out) + "\n"


CONFIG_NOTICES = frozenset({CONFIG_CHANGED, SCHEMA_CHANGED})
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>])")


def _md(text: str) -> str:
    """Text that stays text inside a Markdown table cell: no markup, no HTML, one line."""
    text = visible(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


# --- junit ------------------------------------------------------------------------------------


def report_junit(result: CiResult) -> str:
    """JUnit XML as GitLab and Jenkins read it: one testcase per article.

    A testcase fails with every finding of its file when one of them blocks the merge;
    findings that do not block (warnings) go to its system-out. Deleted articles are skipped.
    """
    blocking = set(result.blocking())
    by_path = result.by_path()
    changed = {a.path for a in result.articles if not a.not_checked}
    not_checked = {a.path: a.not_checked for a in result.articles if a.not_checked}
    paths = sorted(changed | set(by_path))
    suites = ET.Element("testsuites", name="reviewflow")
    suite = _testsuite(suites, result)
    failures = skipped = 0
    for path in paths:
        failures += _checked_case(suite, path, result.repo_prefix + path, by_path.get(path, []), blocking)
    for path, reason in sorted(not_checked.items()):
        skipped += 1
        case = _testcase(suite, path, result.repo_prefix + path)
        ET.SubElement(case, "skipped", message=_xml(f"not checked: {reason}"))
    for deleted in result.deleted:
        skipped += 1
        case = _testcase(suite, deleted.path, None)
        ET.SubElement(case, "skipped", message="deleted in this change: not checked")
    if not paths and not result.deleted and not not_checked:
        case = _testcase(suite, "no article changed", None)
        ET.SubElement(case, "system-out").text = _xml(verdict_line(result))
    total = len(paths) + len(not_checked) + len(result.deleted) or 1
    for element in (suites, suite):
        element.set("tests", str(total))
        element.set("failures", str(failures))
        element.set("errors", "0")
        element.set("skipped", str(skipped))
        element.set("time", "0")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")


def _testsuite(suites: ET.Element, result: CiResult) -> ET.Element:
    """The one testsuite, named for the range, with the commits it covers as properties."""
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=_xml(f"reviewflow ci {result.base_ref}..HEAD"),
        timestamp=datetime.now(UTC).replace(microsecond=0).isoformat(),
        hostname=_xml(socket.gethostname()),
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("base", result.base_ref),
        ("merge-base", result.merge_base),
        ("head", result.head),
    ):
        ET.SubElement(properties, "property", name=name, value=_xml(value))
    return suite


def _checked_case(
    suite: ET.Element, path: str, file: str, findings: list[Finding], blocking: set[Finding]
) -> int:
    """The testcase of a checked file: failed (1 is returned) when one of FINDINGS blocks."""
    case = _testcase(suite, path, file)
    if any(f in blocking for f in findings):
        failure = ET.SubElement(
            case,
            "failure",
            message=_xml(f"{path}: {counts(findings)}"),
            type=_xml(next(f.rule for f in findings if f in blocking)),
        )
        failure.text = "\n".join(finding_line(f) for f in findings)
        return 1
    if findings:
        ET.SubElement(case, "system-out").text = "\n".join(finding_line(f) for f in findings)
    return 0


def _testcase(suite: ET.Element, name: str, file: str | None) -> ET.Element:
    classname = "reviewflow.articles" if name.startswith("articles") else "reviewflow.config"
    case = ET.SubElement(suite, "testcase", name=_xml(name), classname=classname, time="0")
    if file is not None:
        case.set("file", _xml(file))  # from the top of the repository, as CI links it
    return case


def _xml(text: str) -> str:
    """One line of XML 1.0 text: it cannot carry some control characters at all, not even
    escaped, and `visible` shows every one of them as an escape."""
    return visible(text)


def deliver(result: CiResult, output: str, to_file: Path | None, step_summary: str | None) -> None:
    """Print the report (or write it to TO_FILE), and append GitHub's job summary if asked."""
    rendered = REPORTERS[output](result)
    if to_file is None:
        click.echo(rendered, color=use_colour())
    else:
        try:
            to_file.parent.mkdir(parents=True, exist_ok=True)
            to_file.write_text(click.unstyle(rendered) + "\n", encoding="utf-8")
        except OSError as exc:
            raise EnvironmentProblem(f"{to_file}: cannot write the report: {exc.strerror}") from None
        click.echo(
            f"reviewflow ci: {verdict_line(result)}; {output} report written to {visible(str(to_file))}"
        )
    if output == "github" and step_summary:
        try:
            with open(step_summary, "a", encoding="utf-8") as handle:
                handle.write(job_summary(result))
        except OSError as exc:  # the annotations are out: a lost summary must not fail the gate
            click.echo(f"reviewflow: cannot write the job summary: {visible(str(exc))}", err=True)


REPORTERS: dict[str, Callable[[CiResult], str]] = {
    "text": report_text,
    "json": report_json,
    "github": report_github,
    "junit": report_junit,
}
