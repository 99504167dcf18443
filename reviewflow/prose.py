"""What the checks read in a Markdown body: its prose, its sentences and its citation markers.

The body is walked once. Fenced code and headings are left out; every other block (paragraph,
list item, table row, quote) becomes one line of `Prose.text`, its source lines joined by
spaces. Rules then run each regular expression once over that text (fast, in C) and map the
offset of a match back to its sentence and to its line and column in the file.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

# [1]  [1, 2]  [2-4]  [1, 3-5]; not a link ([1](url)) or [1][x].
MARKER = re.compile(r"\[(\d+(?:\s*[-–]\s*\d+)?(?:\s*,\s*\d+(?:\s*[-–]\s*\d+)?)*)\](?![(\[])")
MAX_RANGE = 100  # a range wider than this is a typo, and expanding it would cost memory

_FENCE = re.compile(r"\s{0,3}(```|~~~)")
_HEADING = re.compile(r"\s{0,3}#{1,6}(\s|$)")
_BLOCK_START = re.compile(r"\s*(?:[-*+]|\d{1,9}[.)])\s+|\s*\|")
_PREFIX = re.compile(r"\s*(?:>\s?)*(?:[-*+]\s+|\d{1,9}[.)]\s+)?")
# A sentence ends at . ! or ? (not after e.g., i.e., vs., Dr., approx., et al., fig. or cf.)
# followed by a space and a capital, digit, quote or bracket; and at the end of every block.
# The abbreviations are fixed-width lookbehinds so that the whole split runs inside `re`.
_SENTENCE_END = re.compile(
    # The punctuation comes first so that `re` only tries the lookbehinds at . ! and ?
    r"[.!?](?<![Ee]\.[Gg]\.)(?<![Ii]\.[Ee]\.)(?<!\b[Vv]s\.)(?<!\b[Dd]r\.)(?<!\b[Aa]pprox\.)"
    r"(?<!\bal\.)(?<!\b[Ff]ig\.)(?<!\b[Cc]f\.)[\"'”’)]*[ \t]+(?=[A-Z0-9\"“'(])|\n"
)


class Citation(NamedTuple):
    offset: int  # in Prose.text; Prose.locate gives the line and column when one is reported
    text: str
    ids: tuple[int, ...]
    problem: str | None = None


@dataclass(frozen=True)
class Sentence:
    line: int
    column: int
    text: str


@dataclass
class Prose:
    """The prose of a body as one text, with the way back to file lines and columns."""

    text: str = ""
    line_starts: list[int] = field(default_factory=list)  # offset in text of each source line
    line_places: list[tuple[int, int]] = field(default_factory=list)  # (file line, 0-based column)

    @cached_property
    def lowered(self) -> str:
        return self.text.lower()

    def mentions(self, phrases: tuple[str, ...]) -> bool:
        """Whether any of these lowercase phrases occurs: a cheap test before a regex scan."""
        return any(map(self.lowered.__contains__, phrases))

    def locate(self, offset: int) -> tuple[int, int]:
        """File line and 1-based column of an offset in `text`."""
        index = max(bisect_right(self.line_starts, offset) - 1, 0)
        line, column = self.line_places[index]
        return line, column + offset - self.line_starts[index] + 1

    @cached_property
    def sentence_starts(self) -> list[int]:
        text = self.text
        starts = [0, *(match.end() for match in _SENTENCE_END.finditer(text))]
        return [start for start in starts if start < len(text) and not text[start].isspace()]

    def sentence_span(self, offset: int) -> tuple[int, int]:
        """Start and end offsets of the sentence holding `offset`."""
        starts = self.sentence_starts
        index = max(bisect_right(starts, offset) - 1, 0)
        end = starts[index + 1] if index + 1 < len(starts) else len(self.text)
        return starts[index], end

    def sentence_at(self, offset: int) -> Sentence:
        begin, end = self.sentence_span(offset)
        text = self.text[begin:end].strip()
        return Sentence(*self.locate(begin), text)

    @cached_property
    def sentences(self) -> list[Sentence]:
        return [self.sentence_at(start) for start in self.sentence_starts]

    @cached_property
    def citations(self) -> list[Citation]:
        found = []
        line_starts = set(self.line_starts)
        for match in MARKER.finditer(self.text):
            if match.start() in line_starts and self.text[match.end() : match.end() + 1] == ":":
                continue  # a Markdown reference definition: "[1]: https://…"
            ids, problem = _expand(match.group(1))
            found.append(Citation(match.start(), match.group(0), ids, problem))
        return found


def read_prose(body: str, body_line: int) -> Prose:
    """Walk the body once and collect its prose blocks."""
    prose = Prose()
    parts: list[str] = []
    position = 0
    in_fence = False
    in_block = False
    for index, raw in enumerate(body.split("\n")):
        stripped = raw.strip()
        if not stripped:
            in_block = False
            continue
        first = stripped[0]
        if first in "`~" and _FENCE.match(raw):
            in_fence = not in_fence
            in_block = False
            continue
        if in_fence or (first == "#" and _HEADING.match(raw)):
            in_block = False
            continue
        if first in "-*+|0123456789" and _BLOCK_START.match(raw):
            in_block = False
        prefix = _PREFIX.match(raw)
        start = prefix.end() if prefix else 0
        content = raw[start:].rstrip()
        separator = " " if in_block else ("\n" if parts else "")
        position += len(separator)
        parts.append(separator + content)
        prose.line_starts.append(position)
        prose.line_places.append((body_line + index, start))
        position += len(content)
        in_block = True
    prose.text = "".join(parts)
    return prose


def _expand(inner: str) -> tuple[tuple[int, ...], str | None]:
    if inner.isdigit():
        return (int(inner),), None
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
