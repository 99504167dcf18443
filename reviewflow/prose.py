"""What the checks read in a Markdown body: citation markers and sentences, with their lines.

Fenced code is skipped. Headings are not prose. Every other block (paragraph, list item,
table row, quote) is split into sentences whose line and column point back into the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# [1]  [1, 2]  [2-4]  [1, 3-5]; not a link ([1](url)) or [1][x].
MARKER = re.compile(r"\[(\d+(?:\s*[-–]\s*\d+)?(?:\s*,\s*\d+(?:\s*[-–]\s*\d+)?)*)\](?![(\[])")
MAX_RANGE = 100  # a range wider than this is a typo, and expanding it would cost memory

_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}(\s|$)")
_BLOCK_START = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+|^\s*\|")
_PREFIX = re.compile(r"^\s*(?:>\s?)*(?:[-*+]\s+|\d{1,9}[.)]\s+)?")
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*\s+")
_ABBREVIATIONS = ("e.g.", "i.e.", "vs.", "dr.", "approx.", "al.", "fig.", "no.", "ca.", "cf.")


@dataclass(frozen=True)
class Citation:
    line: int
    column: int
    text: str
    ids: tuple[int, ...]
    problem: str | None = None


@dataclass(frozen=True)
class Sentence:
    line: int
    column: int
    text: str


@dataclass(frozen=True)
class _Line:
    number: int  # in the file
    offset: int  # column (0-based) where the block content starts
    text: str


def prose_lines(body: str, body_line: int) -> list[list[_Line]]:
    """The body's prose, as blocks of lines (code fences and headings left out)."""
    blocks: list[list[_Line]] = []
    current: list[_Line] = []
    in_fence = False
    for index, raw in enumerate(body.split("\n")):
        number = body_line + index
        if _FENCE.match(raw):
            in_fence = not in_fence
            current = _flush(blocks, current)
            continue
        if in_fence or not raw.strip() or _HEADING.match(raw):
            current = _flush(blocks, current)
            continue
        if _BLOCK_START.match(raw):
            current = _flush(blocks, current)
        prefix = _PREFIX.match(raw)
        start = prefix.end() if prefix else 0
        current.append(_Line(number, start, raw[start:].rstrip()))
    _flush(blocks, current)
    return blocks


def _flush(blocks: list[list[_Line]], current: list[_Line]) -> list[_Line]:
    if current:
        blocks.append(current)
    return []


def citations(body: str, body_line: int) -> list[Citation]:
    found = []
    for block in prose_lines(body, body_line):
        for line in block:
            for match in MARKER.finditer(line.text):
                if match.start() == 0 and line.text[match.end() : match.end() + 1] == ":":
                    continue  # a Markdown reference definition: "[1]: https://…"
                ids, problem = _expand(match.group(1))
                found.append(Citation(line.number, line.offset + match.start() + 1, match.group(0), ids, problem))
    return found


def _expand(inner: str) -> tuple[tuple[int, ...], str | None]:
    ids: list[int] = []
    for part in inner.split(","):
        bounds = [int(b) for b in re.split(r"\s*[-–]\s*", part.strip())]
        low, high = bounds[0], bounds[-1]
        if high < low:
            return (), f"range {part.strip()} runs backwards"
        if high - low > MAX_RANGE:
            return (), f"range {part.strip()} spans more than {MAX_RANGE} references"
        ids.extend(range(low, high + 1))
    return tuple(ids), None


def sentences(body: str, body_line: int) -> list[Sentence]:
    result = []
    for block in prose_lines(body, body_line):
        text, starts = _join(block)
        begin = 0
        for match in _SENTENCE_END.finditer(text):
            if _ends_abbreviation(text, match.start()):
                continue
            following = text[match.end() : match.end() + 1]
            if following and not (following.isupper() or following.isdigit() or following in "\"“'("):
                continue
            result.append(_sentence(text, begin, match.end(), starts))
            begin = match.end()
        if text[begin:].strip():
            result.append(_sentence(text, begin, len(text), starts))
    return result


def _join(block: list[_Line]) -> tuple[str, list[tuple[int, _Line]]]:
    parts, starts, position = [], [], 0
    for line in block:
        starts.append((position, line))
        parts.append(line.text)
        position += len(line.text) + 1
    return " ".join(parts), starts


def _sentence(text: str, begin: int, end: int, starts: list[tuple[int, _Line]]) -> Sentence:
    while begin < end and text[begin] == " ":
        begin += 1
    position, line = next((s for s in reversed(starts) if s[0] <= begin), starts[0])
    return Sentence(line.number, line.offset + begin - position + 1, text[begin:end].strip())


def _ends_abbreviation(text: str, dot: int) -> bool:
    word = text[max(0, text.rfind(" ", 0, dot) + 1) : dot + 1].lower()
    return word.endswith(_ABBREVIATIONS)


def plain_text(body: str) -> str:
    """The body's sentences without markers or Markdown emphasis, for readability formulas."""
    blocks = []
    for block in prose_lines(body, 1):
        text = " ".join(line.text for line in block)
        text = MARKER.sub("", text)
        text = re.sub(r"[*_`|]", "", text).strip()
        if text and text[-1] not in ".!?:":
            text += "."  # a list item is a sentence of its own for the formula
        blocks.append(text)
    return "\n".join(blocks)
