"""Output formats for findings: one registry, one function per format."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from reviewflow.findings import Finding, Severity

if TYPE_CHECKING:  # the checks are imported by the commands that run them, not by every command
    from reviewflow.workspace import Report

_COLOURS = {Severity.ERROR: "red", Severity.WARNING: "yellow"}


def use_colour() -> bool | None:
    """Whether output may be coloured, for every command (the CLI sets it on its context):
    None lets click decide (colour on a terminal only); NO_COLOR turns it off everywhere."""
    return False if os.environ.get("NO_COLOR") else None


def report_text(report: Report) -> None:
    colour = use_colour()
    for f in report.findings:
        severity = click.style(f.severity.value, fg=_COLOURS[f.severity], bold=True)
        click.echo(f"{f.path}:{f.line}:{f.column}: {severity} {f.rule} {f.message}", color=colour)
    s = report.summary()
    verdict = (
        click.style("failed", fg="red", bold=True)
        if report.failed()
        else click.style("ok", fg="green", bold=True)
    )
    click.echo(
        f"{_plural(s['files'], 'file')} checked: {_plural(s['errors'], 'error')}, "
        f"{_plural(s['warnings'], 'warning')} ({verdict})",
        color=colour,
    )


def report_json(report: Report) -> None:
    payload = {"findings": [f.model_dump(mode="json") for f in report.findings], "summary": report.summary()}
    click.echo(json.dumps(payload, indent=2))


def github_command(f: Finding) -> str:
    """A GitHub Actions workflow command that annotates the file and line."""
    kind = "error" if f.severity is Severity.ERROR else "warning"
    properties = ",".join(
        f"{key}={_escape_property(str(value))}"
        for key, value in (("file", f.path), ("line", f.line), ("col", f.column), ("title", f.rule))
    )
    return f"::{kind} {properties}::{_escape_data(f.message)}"


def report_github(report: Report) -> None:
    for finding in report.findings:
        click.echo(github_command(finding))
    s = report.summary()
    counts = f"{_plural(s['errors'], 'error')}, {_plural(s['warnings'], 'warning')}"
    click.echo(f"reviewflow: {_plural(s['files'], 'file')} checked, {counts}")


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


REPORTERS: dict[str, Callable[[Report], None]] = {
    "text": report_text,
    "json": report_json,
    "github": report_github,
}
