"""Output formats for findings (one registry, one function per format), and the one escaper
every reporter of every command uses for text it did not write.

File names, titles, names, emails, commit messages and trailer values come from the repository
and its history, that is from anyone who can push a commit. Shown raw, a newline in a file name
starts a new line (`::error …` at its start is a GitHub workflow command), an escape sequence
recolours or retitles a terminal, a bidi override reorders what a reviewer reads. So every
reporter passes each such string through `visible` (one-line fields) or `visible_lines`
(multi-line text), and every text report through `inert_lines`:

- C0 controls (tab, newline and carriage return included), DEL, C1 controls (\\x9b is a CSI),
  U+2028/U+2029, the bidi controls, lone surrogates (undecodable bytes of a file name) and
  the XML non-characters U+FFFE/U+FFFF are shown as escapes: `\\n`, `\\x1b`, `\\u202e`.
  What is left is legal in XML 1.0 and inert on a terminal.
- JSON is written ASCII-only (`dump_json`): every other character as a \\u escape, so no
  report can carry a raw control character, and json.loads gives the exact string back.
- GitHub workflow commands escape their properties and data as GitHub specifies
  (`workflow_property`, `workflow_data`), after `visible`.
- Rich markup (`[bold]`) is never interpreted: text is printed with click, and the one rich
  widget (the progress bar) shows no user text and renders none as markup.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import click
import orjson

from reviewflow.findings import Finding, Severity

if TYPE_CHECKING:  # the checks are imported by the commands that run them, not by every command
    from reviewflow.checks.workspace import Report

SEVERITY_COLOURS = {Severity.ERROR: "red", Severity.WARNING: "yellow"}

# --- text the repository chose, shown inertly ------------------------------------------------------

_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)
_UNSAFE_KEEP_TABS = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
    "\ud800-\udfff\ufffe\uffff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# A line a CI runner would read as a command: GitHub's `::` (after leading blanks, as the runner
# trims them, and after reviewflow's own colours, which click removes off a terminal) and its
# older `##[`.
_COMMAND_LINE = re.compile(r"^((?:[ \t]|\x1b\[[0-9;]*m)*)(:(?=:)|#(?=#\[))", re.MULTILINE)
_NON_ASCII = re.compile(r"[^\n\x20-\x7e]")


def _escape(match: re.Match[str]) -> str:
    return _escape_char(match.group())


def _escape_char(char: str) -> str:
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def visible(text: str, *, tabs: bool = False) -> str:
    """TEXT as one inert line: every control, line break and bidi character shown as an escape.

    TABS keeps tab characters (the lines of a diff, where a tab is part of the content).
    """
    if text.isascii() and text.isprintable():
        return text  # nearly every string: nothing to look for
    return (_UNSAFE_KEEP_TABS if tabs else _UNSAFE).sub(_escape, text)


def visible_lines(text: str) -> list[str]:
    """Multi-line TEXT (a commit message) as inert lines: split at newlines, each made `visible`."""
    return [visible(line) for line in text.split("\n")]


def visible_list(items: Iterable[str], separator: str = ", ") -> str:
    return separator.join(visible(item) for item in items)


def inert_lines(text: str) -> str:
    """A whole text report with no line a CI runner would run as a workflow command.

    Nothing reviewflow writes in a text report starts with `::`, so such a line can only come
    from a file name or a text it quotes; its first character is shown as an escape instead.
    """
    if "::" not in text and "##[" not in text:
        return text
    return _COMMAND_LINE.sub(lambda m: m.group(1) + _escape_char(m.group(2)), text)


def workflow_data(text: str) -> str:
    """The message of a GitHub workflow command: one line that cannot end the command early."""
    return visible(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_property(text: str) -> str:
    """A property value (`file=`, `title=`) of a GitHub workflow command."""
    return workflow_data(text).replace(":", "%3A").replace(",", "%2C")


def ascii_json(text: str) -> str:
    """JSON text with every non-ASCII character as a \\u escape, as `json.dumps` writes it.

    Valid for output whose only raw line breaks are indentation (every JSON encoder escapes
    the controls inside strings): the characters replaced can only be inside strings.
    """
    if text.isascii() and "\x7f" not in text:
        return text
    return _NON_ASCII.sub(_json_escape, text)


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}"


def dump_json(payload: Any) -> str:
    """PAYLOAD as indented, ASCII-only JSON: what every `--format json` writes.

    `json.dumps(payload, indent=2)` byte for byte, in C: with an indent the json module encodes
    in pure Python, 0.4 s for the status of 10,000 articles against a few hundredths here.
    """
    try:
        text = orjson.dumps(payload, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode("utf-8")
    except orjson.JSONEncodeError:  # a lone surrogate (an undecodable file name): the slow way
        return json.dumps(payload, indent=2, ensure_ascii=True)
    return ascii_json(text)


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


# --- the check reporters ---------------------------------------------------------------------------


def use_colour() -> bool | None:
    """Whether output may be coloured, for every command (the CLI sets it on its context):
    None lets click decide (colour on a terminal only); NO_COLOR turns it off everywhere."""
    return False if os.environ.get("NO_COLOR") else None


def report_text(report: Report) -> None:
    colour = use_colour()
    for f in report.findings:
        severity = click.style(f.severity.value, fg=SEVERITY_COLOURS[f.severity], bold=True)
        click.echo(inert_lines(finding_line(f, severity)), color=colour)
    s = report.summary()
    verdict = (
        click.style("failed", fg="red", bold=True)
        if report.failed
        else click.style("ok", fg="green", bold=True)
    )
    intended = s["intended"]
    click.echo(
        f"{plural(s['files'], 'file')} checked: {plural(s['errors'], 'error')}, "
        f"{plural(s['warnings'], 'warning')}"
        + (f", {intended} marked intended" if intended else "")
        + f" ({verdict})",
        color=colour,
    )


def finding_line(f: Finding, severity: str | None = None) -> str:
    """`path:line:col: severity rule message`, one inert line whatever the path and message hold."""
    shown = severity if severity is not None else f.severity.value
    line = f"{visible(f.path)}:{f.line}:{f.column}: {shown} {visible(f.rule)} {visible(f.message)}"
    return line if f.intended is None else f"{line} (intended by the author: {visible(f.intended)})"


def report_json(report: Report) -> None:
    findings = [f.model_dump(mode="json", exclude_none=True) for f in report.findings]
    click.echo(dump_json({"findings": findings, "summary": report.summary()}))


def github_command(f: Finding) -> str:
    """A GitHub Actions workflow command that annotates the file and line."""
    kind = "error" if f.severity is Severity.ERROR else "warning" if f.intended is None else "notice"
    message = f.message if f.intended is None else f"{f.message} (intended by the author: {f.intended})"
    properties = ",".join(
        f"{key}={workflow_property(str(value))}"
        for key, value in (("file", f.path), ("line", f.line), ("col", f.column), ("title", f.rule))
    )
    return f"::{kind} {properties}::{workflow_data(message)}"


def report_github(report: Report) -> None:
    for finding in report.findings:
        click.echo(github_command(finding))
    s = report.summary()
    counts = f"{plural(s['errors'], 'error')}, {plural(s['warnings'], 'warning')}"
    click.echo(f"reviewflow: {plural(s['files'], 'file')} checked, {counts}")


REPORTERS: dict[str, Callable[[Report], None]] = {
    "text": report_text,
    "json": report_json,
    "github": report_github,
}
