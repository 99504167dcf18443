"""The plain YAML that front-matter nearly always is, read without a YAML parser.

Composing a front-matter with libyaml and walking its nodes for line marks costs about a
millisecond per article, the largest cost of `check`. Nearly every front-matter uses a small,
regular part of YAML: top-level `key: value` lines, block sequences of scalars or of flat
mappings (`- name: …` with aligned `email: …` lines), one-line flow sequences of words, folded
or literal block scalars with one indent, and scalars that are quoted strings without escapes,
words or decimal integers that `int()` converts (so the YAML 1.2 core schema and YAML 1.1
agree on every value it accepts). `read_plain` reads exactly that (one findall splits every
line in C, then one loop over the lines) and gives the same data and the same positions as
`frontmatter.py`'s libyaml path; the positions can be left out and found by a second call
when a finding needs one. `plain_data`, the data alone (what every plain article is read for),
is read in C where the extension is built (content/yamlscan.c), with `read_plain` as its
reference (tests/test_yamlscan.py holds the two equal). On anything else (a
comment after a value, an escape, an anchor, a tag, a duplicate key, a tab, a nested block,
...) it returns None and libyaml reads the file, with its exact messages for what is wrong.
`tests/test_plainyaml.py` holds the two paths to the same answers.
"""

from __future__ import annotations

import re
from typing import Any

from reviewflow.content import yamlcore

Path = tuple[str | int, ...]
Positions = dict[Path, tuple[int, int]]
Plain = tuple[dict[str, Any], Positions, Positions]

_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*):(?: +|$)")
# Every line, split in C by one findall: indent, dash, key, spaces and the value of the most
# common line, `key: value` or `- key: value` whose value is a double-quoted string without
# escapes, a decimal integer or a word; any other line whole, in the last group.
_LINES = re.compile(
    r"^(?:(( *)(- +)?([A-Za-z_][A-Za-z0-9_-]*): +)"
    r"""(?:("[^"\\\n]*") *|(0|[1-9][0-9]*) *|([A-Za-z][A-Za-z0-9 ,'()/-]*))|(.*))$""",
    re.MULTILINE,
)
# What can only be a string to the loader in frontmatter.py (its fast resolver's pattern);
# in a flow sequence, without the comma that separates items.
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9 ,'()/-]*")
_FLOW_WORD = re.compile(r"[A-Za-z][A-Za-z0-9 '()/-]*")
_INTEGER = re.compile(r"0|[1-9][0-9]*")
_SPECIAL_WORDS: dict[str, Any] = {
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
    **dict.fromkeys(("null", "Null", "NULL"), None),
}
_BLOCK_INDICATORS = {">": (" ", "\n"), ">-": (" ", ""), "|": ("\n", "\n"), "|-": ("\n", "")}
# Characters YAML rejects or reads as line breaks (which would shift the line numbers): the
# loader's reader deals with them.
_UNUSUAL = re.compile(
    "[^\x0a\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)


# The same for ASCII text, as the bytes to delete: what is left is unusual. bytes.translate
# reads a table; the expression tests a list of ranges at every character, ten times slower.
_USUAL_ASCII = b"\n" + bytes(range(0x20, 0x7F))


def _has_unusual(source: str) -> bool:
    if source.isascii():
        return bool(source.encode("ascii").translate(None, _USUAL_ASCII))
    return _UNUSUAL.search(source) is not None


class _NotPlain(Exception):
    """This front-matter is outside the plain subset: the YAML loader must read it."""


def _integer(digits: str) -> int:
    try:
        return yamlcore.decimal(digits)
    except yamlcore.NumberTooLong:  # more digits than int() converts: the loader's path reports it
        raise _NotPlain from None


def read_plain(source: str, line_offset: int, positions: bool = True) -> Plain | None:
    """The data, value positions and key positions of SOURCE, or None when it is not plain.

    Positions are 1-based (line, column) in the whole file; SOURCE starts on file line
    `line_offset + 1`. With POSITIONS false only the data is sure to be complete: most
    articles never need a position, so they are left for a second call when one does."""
    if _has_unusual(source):
        return None
    # The line break that ends the last line belongs to a block scalar there (`|` keeps it).
    final_break = source.endswith("\n")
    if final_break:
        source = source[:-1]
    lines = source.split("\n")
    rows = _LINES.findall(source)
    if len(rows) != len(lines):
        return None
    try:
        return _Reader(lines, rows, line_offset, positions, final_break).read()
    except _NotPlain:
        return None


def _python_plain_data(source: str) -> dict[str, Any] | None:
    """The data of SOURCE as `read_plain(source, 0, positions=False)` reads it, or None: the
    reference of the extension written in C (content/yamlscan.c)."""
    plain = read_plain(source, 0, positions=False)
    return None if plain is None else plain[0]


# The data of a plain front-matter read in C where the extension is built (content/yamlscan.c:
# one pass over the text's buffer, a string made only for each key and text value). Not built,
# stale, or REVIEWFLOW_PURE=1 (reviewflow/compiled.py): the Python reference above, the same data.
try:
    from reviewflow.content._yamlscan import plain_data
except ImportError:
    plain_data = _python_plain_data


# prefix (up to the value), indent, dash, key, then the value: quoted, number or word; or
# the whole of any other line.
Row = tuple[str, str, str, str, str, str, str, str]


def _value(row: Row) -> Any:
    """The value of a `key: value` row (it starts at column len(row[0]))."""
    quoted, number, word = row[4], row[5], row[6]
    if quoted:
        return quoted[1:-1]
    if number:
        return _integer(number)
    word = word.rstrip(" ")
    return _SPECIAL_WORDS.get(word, word)


class _Reader:
    def __init__(
        self, lines: list[str], rows: list[Row], line_offset: int, track: bool, final_break: bool
    ) -> None:
        self.track = track  # record positions on the short cuts too
        self.final_break = final_break  # the last line ended with a line break
        self.lines = lines
        self.rows = rows
        self.offset = line_offset + 1  # file line of lines[0]
        self.index = 0
        self.data: dict[str, Any] = {}
        self.positions: Positions = {}
        self.keys: Positions = {}

    def read(self) -> Plain:
        lines, rows = self.lines, self.rows
        data, positions, keys = self.data, self.positions, self.keys
        offset = self.offset
        while self.index < len(lines):
            row = rows[self.index]
            name = row[3]
            if name and not row[1] and not row[2]:
                # The short cut for `key: value` at the margin.
                if name in data:
                    raise _NotPlain  # a duplicate: the loader reports it with both lines
                if self.track:
                    number = self.index + offset
                    if not data:
                        positions[()] = (number, 1)
                    keys[(name,)] = (number, 1)
                    positions[(name,)] = (number, len(row[0]) + 1)
                data[name] = _value(row)
                self.index += 1
                continue
            line = lines[self.index]
            if _skippable(line):
                self.index += 1
                continue
            key = _KEY.match(line)
            if key is None:
                raise _NotPlain
            name = key.group(1)
            if name in data:
                raise _NotPlain
            if not data:
                positions[()] = (self.index + offset, 1)
            keys[(name,)] = (self.index + offset, 1)
            rest = line[key.end() :].rstrip(" ")
            if rest in _BLOCK_INDICATORS:
                data[name] = self.block_scalar(name, key.end() + 1, rest)
            elif rest:
                data[name] = self.scalar(rest, (name,), self.index, key.end() + 1)
                self.index += 1
            else:
                data[name] = self.sequence(name)
        if not data:
            raise _NotPlain  # empty: the loader says so
        return data, positions, keys

    def scalar(self, text: str, path: Path, index: int, column: int) -> Any:
        """A one-line value starting at COLUMN (1-based) of lines[INDEX]."""
        self.positions[path] = (index + self.offset, column)
        if not text:
            raise _NotPlain  # `- ` alone: an empty item (null), which the loader places
        first = text[0]
        if first == '"' or first == "'":
            inner = text[1:-1]
            if len(text) < 2 or text[-1] != first or first in inner or "\\" in inner:
                raise _NotPlain
            return inner
        if first == "[":
            return self.flow_sequence(text, path, index, column)
        if _INTEGER.fullmatch(text):
            return _integer(text)
        if _WORD.fullmatch(text):
            return _SPECIAL_WORDS.get(text, text)
        raise _NotPlain

    def flow_sequence(self, text: str, path: Path, index: int, column: int) -> list[Any]:
        if text[-1] != "]":
            raise _NotPlain
        inner = text[1:-1]
        if not inner.strip(" "):
            return []
        items: list[Any] = []
        start = 1
        for part in inner.split(","):
            word = part.strip(" ")
            if not _FLOW_WORD.fullmatch(word) or word in _SPECIAL_WORDS:
                raise _NotPlain
            lead = len(part) - len(part.lstrip(" "))
            self.positions[(*path, len(items))] = (index + self.offset, column + start + lead)
            items.append(word)
            start += len(part) + 1
        return items

    def block_scalar(self, name: str, column: int, indicator: str) -> str:
        """`key: >-` and the lines after it, all indented alike, none blank."""
        self.positions[(name,)] = (self.index + self.offset, column)
        joiner, chomp = _BLOCK_INDICATORS[indicator]
        self.index += 1
        contents: list[str] = []
        indent = 0
        lines = self.lines
        while self.index < len(lines):
            line = lines[self.index]
            stripped = line.lstrip(" ")
            if not stripped or stripped != stripped.rstrip(" "):
                raise _NotPlain  # blank lines and trailing spaces have rules of their own
            depth = len(line) - len(stripped)
            if depth == 0:
                break
            if indent == 0:
                indent = depth
            elif depth != indent:
                raise _NotPlain
            contents.append(stripped)
            self.index += 1
        if not contents:
            raise _NotPlain
        # A final line break is kept ("clip") unless the scalar ends a source without one.
        unbroken = self.index == len(lines) and not self.final_break
        return joiner.join(contents) + ("" if unbroken else chomp)

    def sequence(self, name: str) -> list[Any]:
        """The block sequence under `key:`: scalars, or flat mappings, one per `- ` item."""
        index, dash = self.first_item(name)
        lines, rows = self.lines, self.rows
        positions, keys, offset, track = self.positions, self.keys, self.offset, self.track
        items: list[Any] = []
        item: dict[str, Any] | None = None
        item_column = 0  # 0-based column of the keys of the current item's mapping
        while index < len(lines):
            row = rows[index]
            key = row[3]
            if key:
                # The short cut for `- key: value` and the `key: value` lines under it.
                depth, dashed = len(row[1]), bool(row[2])
                if dashed and depth == dash:
                    item, item_column = {}, depth + len(row[2])
                    items.append(item)
                    if track:
                        positions[(name, len(items) - 1)] = (index + offset, item_column + 1)
                elif item is not None and depth == item_column and not dashed:
                    pass
                elif depth == 0 and not dashed:
                    break  # the next top-level key
                else:
                    raise _NotPlain
                if key in item:
                    raise _NotPlain
                if track:
                    full = (name, len(items) - 1, key)
                    number = index + offset
                    keys[full] = (number, item_column + 1)
                    positions[full] = (number, len(row[0]) + 1)
                quoted = row[4]
                item[key] = quoted[1:-1] if quoted else _value(row)
                index += 1
                continue
            line = lines[index]
            if _skippable(line):
                index += 1
                continue
            depth = len(line) - len(line.lstrip(" "))
            if depth == dash and line[dash] == "-" and line[dash + 1 : dash + 2] == " ":
                self.index = index
                item, item_column = self.start_item(
                    items, (name, len(items)), line[dash + 1 :].lstrip(" "), line
                )
            elif item is not None and depth == item_column and (key_match := _KEY.match(line, depth)):
                self.index = index
                self.entry(item, (name, len(items) - 1), key_match, line[depth:], item_column + 1)
            elif depth == 0 and (dash > 0 or line[0] != "-"):
                break  # the next top-level key
            else:
                raise _NotPlain
            index += 1
        self.index = index
        return items

    def first_item(self, name: str) -> tuple[int, int]:
        """Where the sequence under `name:` starts: the index of its first item's line, and the
        column of its dashes."""
        lines = self.lines
        index = self.index + 1
        while index < len(lines) and _skippable(lines[index]):
            index += 1
        if index == len(lines):
            raise _NotPlain  # `key:` with nothing after it: a null the loader places
        first = lines[index]
        dash = len(first) - len(first.lstrip(" "))
        if first[dash : dash + 2] != "- ":
            raise _NotPlain  # a nested mapping or an empty item: the loader's
        self.positions[(name,)] = (index + self.offset, dash + 1)
        return index, dash

    def start_item(
        self, items: list[Any], path: Path, body: str, line: str
    ) -> tuple[dict[str, Any] | None, int]:
        """The item at PATH, BODY being LINE after its `- `, added to ITEMS: a scalar, or a
        mapping and its first `key: value`. The mapping (None for a scalar) and the column
        (0-based) of its keys."""
        column = len(line) - len(body) + 1
        key_match = _KEY.match(body)
        if key_match is None:
            items.append(self.scalar(body.rstrip(" "), path, self.index, column))
            return None, 0
        item: dict[str, Any] = {}
        self.positions[path] = (self.index + self.offset, column)
        items.append(item)
        self.entry(item, path, key_match, body, column)
        return item, column - 1

    def entry(self, item: dict[str, Any], path: Path, key: re.Match[str], text: str, column: int) -> None:
        """One `key: value` of a mapping in a sequence; TEXT starts at COLUMN."""
        name = key.group(1)
        value = text[key.end() - key.start() :].rstrip(" ")
        if name in item or not value or value in _BLOCK_INDICATORS:
            raise _NotPlain
        self.keys[(*path, name)] = (self.index + self.offset, column)
        item[name] = self.scalar(value, (*path, name), self.index, column + key.end() - key.start())


def _skippable(line: str) -> bool:
    """A blank line, or a comment on a line of its own."""
    stripped = line.lstrip(" ")
    return not stripped or stripped[0] == "#"
