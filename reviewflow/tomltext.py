"""Where in a TOML text a problem is: tomllib's error position, and the line of a dotted key.

Pure functions on the text of a reviewflow.toml, so that every problem configfile.py finds is
reported at its line (`reviewflow.toml:18: checks.rules.x: …`).
"""

from __future__ import annotations

import re

from reviewflow.errors import Problem

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)")


def toml_problem(message: str) -> Problem:
    """tomllib's error, with its position taken out of the words and into the Problem."""
    position = _TOML_POSITION.search(message)
    if position is None:
        return Problem("", f"invalid TOML: {message}")
    words = message[: position.start()] + message[position.end() :]
    return Problem("", f"invalid TOML: {words}", int(position.group(1)), int(position.group(2)))


def line_of_key(text: str, dotted: str) -> int | None:
    """The line of TEXT (a reviewflow.toml) that sets a dotted key such as `policy.quorum` or
    `board[1].email`: the key's own line, else its table's header, if either is found."""
    parts = [p for p in re.split(r"\.|(?=\[)", dotted) if p]
    lines = text.splitlines()
    # The longest prefix of the key that is a [table] (or the N-th [[table]]) header, then the
    # next part as a key inside that table.
    for split in range(len(parts), 0, -1):
        table, rest = parts[:split], parts[split:]
        index = int(table[-1][1:-1]) if table[-1].startswith("[") else None
        name = ".".join(p for p in (table[:-1] if index is not None else table))
        start = _table_header(lines, name, index)
        if start is None:
            continue
        if not rest:
            return start + 1
        found = _key_in_table(lines, start + 1, rest[0])
        return found + 1 if found is not None else start + 1
    found = _key_in_table(lines, 0, parts[0]) if parts else None
    return found + 1 if found is not None else None


def _table_header(lines: list[str], name: str, index: int | None) -> int | None:
    pattern = re.escape(name).replace(r"\.", r"\s*\.\s*")
    if index is None:
        header = re.compile(rf"^\s*\[\s*{pattern}\s*\]")
    else:
        header = re.compile(rf"^\s*\[\[\s*{pattern}\s*\]\]")
    matches = [number for number, line in enumerate(lines) if header.match(line)]
    if not matches and index is None:  # `board` as a whole: its first [[board]]
        return _table_header(lines, name, 0)
    wanted = index or 0
    return matches[wanted] if wanted < len(matches) else None


def _key_in_table(lines: list[str], start: int, key: str) -> int | None:
    assignment = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    for number in range(start, len(lines)):
        if start and lines[number].lstrip().startswith("["):
            return None  # the next table: the key is not set in this one
        if assignment.match(lines[number]):
            return number
    return None
