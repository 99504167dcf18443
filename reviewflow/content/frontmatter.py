"""Split an article file into YAML front-matter and Markdown body, safely and with line numbers.

Most front-matter is plain YAML, which `plainyaml.py` reads in a third of the time with the
same answers. Otherwise, one parse per file: libyaml composes the node tree (which carries line
marks), a single walk rejects what an editorial gate must not accept (duplicate keys, anchors
and aliases, exotic tags) and records where every value sits, then the tree is constructed
into plain data.

Both paths read scalars by the YAML 1.2 core schema (`yamlcore.py`): `010` is ten, `3:1`,
`yes`, `no` and `2024-01-05` are text, so a schema that expects text gets the text the author
wrote, and a message never quotes a value the author did not write. A reference's unquoted
`pmid: 35256536` is read as the identifier it is, the text "35256536".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from types import ModuleType
from typing import TYPE_CHECKING, Any

from reviewflow.content import yamlcore
from reviewflow.content.plainyaml import plain_data, read_plain

if TYPE_CHECKING:
    from reviewflow.content import yamlstrict

# libyaml (PyYAML, yamlloader.py, yamlstrict.py) is imported by the first front-matter that is
# not plain: most never need it, and importing PyYAML alone is ~100 M instructions (~20 ms) of
# every command that reads a text (a build after one change reads one).

# Where each value (and each mapping key) of the front-matter sits: JSON path -> (line, column),
# both 1-based and relative to the whole file.
Path = tuple[str | int, ...]
Positions = dict[Path, tuple[int, int]]

_ALLOWED_TAGS = {
    yamlcore.STR,
    yamlcore.INT,
    yamlcore.FLOAT,
    yamlcore.BOOL,
    yamlcore.NULL,
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:map",
}
_STR = yamlcore.STR
_FENCE = re.compile(r"^---[ \t]*\r?$")
_CLOSING_LINE = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.MULTILINE)  # the first one ends it


@dataclass
class Problem:
    """Something wrong with the file itself; it becomes an error finding."""

    rule: str
    line: int
    column: int
    message: str


@dataclass
class Split:
    """A file read as front-matter plus body, or the problems that stopped it."""

    data: dict[str, Any] | None = None
    positions: Positions = field(default_factory=dict)
    key_positions: Positions = field(default_factory=dict)
    body: str = ""
    body_line: int = 1  # file line on which the body starts
    problems: list[Problem] = field(default_factory=list)
    # Plain front-matter's positions, found on first need (most articles never need one).
    positions_later: Callable[[], tuple[Positions, Positions]] | None = None


def read_article_bytes(raw: bytes, max_bytes: int, size: int | None = None) -> Split:
    """Decode and split an article file; never raises for bad input. SIZE: the file's real
    size, when RAW is only its first bytes."""
    split = Split()
    if len(raw) > max_bytes:
        size = max(size or 0, len(raw))
        split.problems.append(
            Problem("file-too-large", 1, 1, f"file is {size} bytes, over the {max_bytes}-byte limit")
        )
        return split
    if not raw.strip():
        split.problems.append(Problem("file-empty", 1, 1, "file is empty"))
        return split
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        split.problems.append(
            Problem("file-binary", line, 1, "binary content (NUL byte): not a text article")
        )
        return split
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        split.problems.append(
            Problem(
                "file-encoding",
                line,
                column,
                f"invalid UTF-8 (byte 0x{raw[exc.start]:02x}); save the file as UTF-8",
            )
        )
        return split
    return split_text(text.removeprefix("\ufeff"), split)


def split_text(text: str, split: Split | None = None) -> Split:
    split = split or Split()
    first_end = text.find("\n")
    if not _FENCE.match(text, 0, len(text) if first_end < 0 else first_end):
        split.problems.append(
            Problem("frontmatter-missing", 1, 1, "no front-matter: the file must start with a '---' line")
        )
        return split
    closing = _closing_line(text, first_end + 1) if first_end >= 0 else None
    if closing is None:
        split.problems.append(
            Problem("frontmatter-unclosed", 1, 1, "front-matter opened with '---' on line 1 is never closed")
        )
        return split
    end = text.count("\n", 0, closing.start())  # the closing line's 0-based number
    after = text.find("\n", closing.start())
    split.body = "" if after < 0 else text[after + 1 :]
    split.body_line = end + 2
    # The front-matter keeps its last line break, as a YAML document would: a `|` block
    # scalar at its end ends with one.
    _parse_yaml(text[first_end + 1 : closing.start()], split, line_offset=1)
    return split


def _closing_line(text: str, start: int) -> re.Match[str] | None:
    """_CLOSING_LINE.search(TEXT, START), START being the start of a line. The lines that begin
    `---` or `...` are found by str.find, which scans in C, and the pattern is tried at those
    only: `re` would try it at every character of the front-matter (a tenth of a cold check's
    front-matter reading)."""
    position = start - 1  # the line break before START
    while True:
        dashes = text.find("\n---", position)
        dots = text.find("\n...", position, len(text) if dashes < 0 else dashes)
        found = dots if dots >= 0 else dashes
        if found < 0:
            return None
        if match := _CLOSING_LINE.match(text, found + 1):
            return match
        position = found + 1


def _parse_yaml(source: str, split: Split, line_offset: int) -> None:
    plain = plain_data(source)
    if plain is not None:  # the common, plain front-matter: no YAML parser needed
        split.data = identifiers_as_text(plain)
        split.positions_later = partial(_plain_positions, source, line_offset)
        return
    data = _read_yaml(source, split, line_offset, front_matter=True)
    if not split.problems:
        split.data = identifiers_as_text(data)


def load_yaml(source: str, line_offset: int = 0) -> tuple[Any, list[Problem]]:
    """One YAML document of any shape (a mapping, a list, a scalar; None when empty), read as
    front-matter is read, and the problems that stopped it. For tests: the conformance suite."""
    split = Split()
    value = _read_yaml(source, split, line_offset, front_matter=False)
    return (None if split.problems else value), split.problems


def _read_yaml(source: str, split: Split, line_offset: int, front_matter: bool) -> Any:
    """The value of the YAML document SOURCE by libyaml, or None with its problems in SPLIT.
    FRONT_MATTER: the document must be a mapping."""

    import yaml

    from reviewflow.content import yamlstrict
    from reviewflow.content.yamlloader import Loader

    def at(mark: Any) -> tuple[int, int]:
        return mark.line + 1 + line_offset, mark.column + 1

    if hit := yamlstrict.ending(source) or _screen(source):
        _report(split, hit, line_offset)
        return None
    loader = Loader(source)
    try:
        node = loader.get_single_node()
        if node is None and front_matter:
            split.problems.append(Problem("frontmatter-not-mapping", 1, 1, "front-matter is empty"))
        elif front_matter and not isinstance(node, yaml.MappingNode):
            line, column = at(node.start_mark)
            split.problems.append(
                Problem(
                    "frontmatter-not-mapping", line, column, "front-matter must be a mapping of field: value"
                )
            )
        elif node is not None:
            return _Walk(split, at, _YAML_LINE_BREAK.split(source), line_offset).value(node, (), -1)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = at(mark) if mark else (1 + line_offset, 1)
        problem = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        split.problems.append(Problem("yaml-syntax", line, column, f"YAML syntax error: {problem}"))
    except yaml.YAMLError as exc:
        split.problems.append(Problem("yaml-syntax", 1 + line_offset, 1, f"YAML error: {exc}"))
    except RecursionError:  # libyaml stops flow nesting at 1,000 levels, but not block nesting
        split.problems.append(Problem("yaml-syntax", 1 + line_offset, 1, "front-matter is nested too deeply"))
    finally:
        loader.dispose()
    return None


# Where libyaml's marks start a new line: a lone CR, NEL, LS and PS too (YAML 1.1 line breaks).
_YAML_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")

# Reference identifiers that authors write unquoted (`pmid: 35256536`); the schema wants text.
_IDENTIFIERS = ("pmid", "pmcid")


def identifiers_as_text(data: dict[str, Any]) -> dict[str, Any]:
    """DATA with every reference's whole-number PMID or PMCID as the text it was written as:
    an identifier, not a number (the schema says text, and messages quote it)."""
    references = data.get("references")
    if isinstance(references, list):
        for reference in references:
            if isinstance(reference, dict):
                for name in _IDENTIFIERS:
                    value = reference.get(name)
                    if type(value) is int:  # not a bool
                        reference[name] = str(value)
    return data


def _plain_positions(source: str, line_offset: int) -> tuple[Positions, Positions]:
    plain = read_plain(source, line_offset)
    assert plain is not None, "the same text was read plainly before"
    return plain[1], plain[2]


# What the screen looks for can only be where one of these is: `&` `*` anchors and aliases,
# `!` tags, `%` directives. Most front-matter that comes this way (a comment after a value, an
# escape) has none, and skips a second parse.
_MAY_NEED_SCREEN = re.compile(r"[&*!%]")


def _screen(source: str) -> yamlstrict.Hit | None:
    """What front-matter must not hold, found in one pass over libyaml's events."""
    if not _MAY_NEED_SCREEN.search(source):
        return None
    import yaml

    from reviewflow.content import yamlstrict
    from reviewflow.content.yamlloader import Loader

    try:
        return yamlstrict.screen(yaml.parse(source, Loader=Loader))
    except yaml.YAMLError:
        return None  # the main parse reports the syntax error with its line


def _report(split: Split, hit: yamlstrict.Hit, line_offset: int) -> None:
    rule, line, column, message = hit
    split.problems.append(Problem(rule, line + 1 + line_offset, column + 1, message))


class _Walk:
    """Build the value of a node tree while recording positions and reporting duplicate keys,
    disallowed tags and what libyaml accepts but YAML 1.2 does not (one pass over the tree
    instead of a walk plus PyYAML's constructor)."""

    def __init__(
        self, split: Split, at: Callable[[Any], tuple[int, int]], lines: list[str], line_offset: int
    ) -> None:
        import yaml

        from reviewflow.content import yamlstrict

        self.split, self.at, self.lines, self.line_offset = split, at, lines, line_offset
        self.strict: ModuleType = yamlstrict  # imported with libyaml (see above)
        self.scalar_node, self.sequence_node = yaml.ScalarNode, yaml.SequenceNode
        self.mapping_node = yaml.MappingNode

    def value(self, node: Any, path: Path, indent: int) -> Any:
        """NODE's value; INDENT: the column of the block collection it is in (-1 at the top)."""
        split, at = self.split, self.at
        split.positions[path] = at(node.start_mark)
        tag = node.tag
        if (hit := self.strict.node_hit(node, self.lines, indent)) is not None:
            _report(split, hit, self.line_offset)
            return None
        if tag == _STR:
            return node.value
        if tag not in _ALLOWED_TAGS:
            line, column = at(node.start_mark)
            split.problems.append(Problem("yaml-tag", line, column, f"YAML tag {tag!r} is not allowed"))
            return None
        if isinstance(node, self.mapping_node):
            return self.mapping(node, path, node.start_mark.column)
        if isinstance(node, self.sequence_node):
            inner = indent if node.flow_style else node.start_mark.column
            return [self.value(item, (*path, index), inner) for index, item in enumerate(node.value)]
        return _scalar(node, path, split, at)

    def mapping(self, node: Any, path: Path, indent: int) -> dict[str, Any]:
        split, at = self.split, self.at
        mapping: dict[str, Any] = {}
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            line, column = at(key_node.start_mark)
            if not isinstance(key_node, self.scalar_node) or key_node.tag == yamlcore.NULL:
                split.problems.append(Problem("yaml-syntax", line, column, "mapping keys must be plain text"))
                continue
            key = key_node.value
            if key in first_seen:
                split.problems.append(
                    Problem(
                        "yaml-duplicate-key",
                        line,
                        column,
                        f"duplicate key {key!r} (first on line {first_seen[key]}); "
                        "YAML would silently keep only the last",
                    )
                )
                continue
            first_seen[key] = line
            value_path = (*path, key)
            split.key_positions[value_path] = (line, column)
            # Most values are text, plain or quoted on one line: no call of their own.
            if value_node.tag == _STR and (
                not value_node.style or self.strict.simple_quoted(value_node, self.lines)
            ):
                split.positions[value_path] = at(value_node.start_mark)
                mapping[key] = value_node.value
            else:
                mapping[key] = self.value(value_node, value_path, indent)
        return mapping


def _scalar(node: Any, path: Path, split: Split, at: Callable[[Any], tuple[int, int]]) -> Any:
    tag, value = node.tag, node.value
    if tag == yamlcore.INT and len(path) == 3 and path[0] == "references" and path[2] in _IDENTIFIERS:
        return value  # an unquoted identifier: the text as written (`0123` stays `0123`)
    try:
        if tag == yamlcore.INT and value.isascii() and value.isdigit():
            return yamlcore.decimal(value)  # a plain decimal (leading zeros too: YAML 1.2 has no 1.1 octal)
        return yamlcore.value_of(tag, value)
    except yamlcore.NumberTooLong as exc:  # valid YAML, but no use to front-matter
        line, column = at(node.start_mark)
        message = f"{exc} (quote it to keep it as text)"
        split.problems.append(Problem("yaml-unsupported", line, column, message))
    except ValueError as exc:  # only an explicit tag (`!!int abc`) can disagree with its text
        line, column = at(node.start_mark)
        split.problems.append(Problem("yaml-tag", line, column, f"YAML tag {tag!r}: {exc}"))
    return None
