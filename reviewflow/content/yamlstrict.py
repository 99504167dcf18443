"""What libyaml accepts but front-matter must not: YAML it misreads, and YAML outside the subset.

The YAML test suite (tests/test_yaml_conformance.py) finds libyaml 0.2.5 reading some invalid
documents as if they were valid, and reading a few valid ones wrongly: a quoted scalar or a
`[...]` list whose next lines are not indented under their key, a `#` comment glued to a
closing quote, `]` or block indicator, a lone `-` in a list, a block scalar that starts with
lines of spaces longer than its text's, the non-specific tag `!` (read as if untagged), and
`?x` in a one-line collection (read as a key). Each is refused here with a message that says
where, so no front-matter is ever read differently from what YAML 1.2 says. So are the parts of
YAML a front-matter has no use for: anchors and aliases, and directives.

Each check returns a Hit, (rule, line, column, message) with 0-based line and column, or None.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

Hit = tuple[str, int, int, str]

_DIRECTIVES = "YAML directives (%YAML, %TAG) are not allowed in front-matter"


def screen(events: Iterable[Any]) -> Hit | None:
    """The first event that front-matter must not hold: an anchor or alias, the tag `!`, a
    directive."""
    for event in events:
        mark = event.start_mark
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            return (
                "yaml-alias",
                mark.line,
                mark.column,
                "YAML anchors and aliases are not allowed in front-matter",
            )
        if getattr(event, "tag", None) == "!":
            return "yaml-tag", mark.line, mark.column, "the non-specific YAML tag '!' is not allowed"
        if isinstance(event, yaml.DocumentStartEvent) and (event.version or event.tags):
            return "yaml-unsupported", mark.line, mark.column, _DIRECTIVES
    return None


def ending(source: str) -> Hit | None:
    """A last line of only spaces without a line break, which libyaml drops from a block
    scalar. (Front-matter read from a file always ends with a line break.)"""
    last = source.rsplit("\n", 1)[-1]
    if last and not last.strip(" \t"):
        line = source.count("\n")
        return "yaml-unsupported", line, 0, "the last line has only spaces and no line break"
    return None


def simple_quoted(node: Any, lines: list[str]) -> bool:
    """Whether NODE is a quoted scalar on one line with nothing glued after it: text as it is,
    nothing for `node_hit` to check (most quoted values)."""
    start, end = node.start_mark, node.end_mark
    return (
        node.style in ('"', "'")
        and start.line == end.line
        and lines[end.line][end.column : end.column + 1] != "#"
    )


def node_hit(node: Any, lines: list[str], indent: int) -> Hit | None:
    """What is wrong with NODE (a quoted or block scalar, a one-line list or mapping, or a plain
    scalar that is a lone indicator), within a block collection at column INDENT (-1 at the top)."""
    if not isinstance(node, yaml.ScalarNode) and not node.flow_style:
        return None  # a block collection: libyaml checks its indentation
    if isinstance(node, yaml.MappingNode):  # `{a: b}`, or `[a: b]` in a list
        return _glued_question_mark(node, lines)
    style = node.style if isinstance(node, yaml.ScalarNode) else None
    start, end = node.start_mark, node.end_mark
    if isinstance(node, yaml.ScalarNode) and not style:  # plain ('' from libyaml, None from PyYAML)
        if node.value in ("-", "?", ":"):
            return "yaml-syntax", start.line, start.column, f"a lone {node.value!r} is not a value: quote it"
        return None
    if style in ("|", ">"):
        return _block_scalar_hit(lines, start.line, start.column)
    if end.line > start.line and (hit := _continuation_hit(lines, start.line + 1, end.line, indent)):
        return hit
    if end.line < len(lines) and lines[end.line][end.column : end.column + 1] == "#":
        return "yaml-syntax", end.line, end.column, "a comment needs a space before its '#'"
    if not isinstance(node, yaml.ScalarNode):
        return _glued_comment(lines, start, end)
    return None


def _glued_comment(lines: list[str], start: Any, end: Any) -> Hit | None:
    """A `#` right after a `,` or `[` of a flow list, which libyaml reads as a comment. (A quoted
    item holding `,#` is refused too: rare, and said clearly.)"""
    for number in range(start.line, min(end.line, len(lines) - 1) + 1):
        line = lines[number]
        first = start.column if number == start.line else 0
        last = end.column if number == end.line else len(line)
        for glued in (",#", "[#"):
            column = line.find(glued, first, last)
            if column >= 0:
                return "yaml-syntax", number, column + 1, "a comment needs a space before its '#'"
    return None


def _glued_question_mark(node: Any, lines: list[str]) -> Hit | None:
    """A key of a one-line mapping written `?x`: YAML 1.2 reads the text `?x`, libyaml the key
    `x` (`? x`, with a space, is an explicit key, which both read alike)."""
    for key, _ in node.value:
        mark = key.start_mark
        if mark.column > 0 and lines[mark.line][mark.column - 1 : mark.column] == "?":
            return (
                "yaml-syntax",
                mark.line,
                mark.column - 1,
                "write '? ' (with a space) for a key, or quote '?'",
            )
    return None


def _continuation_hit(lines: list[str], first: int, last: int, indent: int) -> Hit | None:
    """Lines FIRST..LAST of a multi-line quoted scalar or flow list: each must be indented with
    spaces past INDENT, the column of the block collection it is in."""
    for number in range(first, min(last, len(lines) - 1) + 1):
        line = lines[number]
        if not line.strip(" \t"):
            continue
        spaces = len(line) - len(line.lstrip(" "))
        if spaces <= indent:
            return (
                "yaml-syntax",
                number,
                spaces,
                "this line continues the value above it, so it must be indented under its key",
            )
    return None


def _block_scalar_hit(lines: list[str], line: int, column: int) -> Hit | None:
    """A `|` or `>` header at LINE:COLUMN glued to a comment, or followed by lines of spaces
    longer than the indentation of the first line after them (YAML 1.2 section 8.1.1.1)."""
    header = lines[line][column:]
    indicators = len(header) - len(header[1:].lstrip("+-0123456789"))
    if header[indicators : indicators + 1] == "#":
        return "yaml-syntax", line, column + indicators, "a comment needs a space before its '#'"
    if any(ch.isdigit() for ch in header[:indicators]):
        return None  # an explicit indentation: libyaml follows it
    longest = 0
    for number in range(line + 1, len(lines)):
        text = lines[number]
        if text.strip(" "):
            if longest > len(text) - len(text.lstrip(" ")):
                return (
                    "yaml-syntax",
                    number - 1,
                    0,
                    "a block scalar cannot start with lines of spaces longer than its first line's indent",
                )
            return None
        longest = max(longest, len(text))
    return None
