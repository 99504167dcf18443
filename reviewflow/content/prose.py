"""What the checks read in a Markdown body: its prose, its sentences and its citation markers.

The body is parsed once (`reviewflow.content.markdown`, the same parse the page is rendered
from): every paragraph, heading and table cell becomes one line of `Prose.text`, as readers
see it, with code spans and inline HTML blanked out. Rules then run each regular expression
once over that text (fast, in C) and map the offset of a match back to its sentence and to its
line and column in the file.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate, count, islice
from operator import add, itemgetter
from typing import Any, Generic, TypeVar, overload

from reviewflow.content.citations import MARKER, MAX_RANGE, Citation, expand
from reviewflow.content.markdown import parse_body

__all__ = ["MARKER", "MAX_RANGE", "Citation", "Prose", "Sentence", "read_prose"]

# A sentence ends at . ! or ? (not after e.g., i.e., vs., Dr., approx., et al., fig. or cf.)
# followed by a space and a capital, digit, quote or bracket; and at the end of every block.
# The abbreviations are fixed-width lookbehinds so that the whole split runs inside `re`.
_SENTENCE_END = re.compile(
    # The punctuation comes first so that `re` only tries the lookbehinds at . ! and ?
    r"[.!?](?<![Ee]\.[Gg]\.)(?<![Ii]\.[Ee]\.)(?<!\b[Vv]s\.)(?<!\b[Dd]r\.)(?<!\b[Aa]pprox\.)"
    r"(?<!\bal\.)(?<!\b[Ff]ig\.)(?<!\b[Cc]f\.)[\"'”’)]*[ \t]+(?=[A-Z0-9\"“'(])|\n"
)
# The same ends found apart (sentence_starts), since `re` finds a literal "." several times
# faster than a choice of characters; tests/test_prose.py holds them to _SENTENCE_END. Every
# abbreviation ends in one of the letters gGeEsrxlf: after any other character (`[1].`, `60%.`)
# the eight lookbehinds are passed over, which halves the cost of the scan.
_FULL_STOP_END = re.compile(
    r"\.(?=[\"'”’)]*[ \t]+[A-Z0-9\"“'(])(?:(?<![gGeEsrxlf]\.)|"
    r"(?<![Ee]\.[Gg]\.)(?<![Ii]\.[Ee]\.)(?<!\b[Vv]s\.)(?<!\b[Dd]r\.)"
    r"(?<!\b[Aa]pprox\.)(?<!\bal\.)(?<!\b[Ff]ig\.)(?<!\b[Cc]f\.))[\"'”’)]*[ \t]+"
)
_NOT_SPACE = re.compile(r"\S")
WORD_BREAKS = str.maketrans({chr(c): " " for c in range(128) if not chr(c).isalnum()})
# The same for ASCII text as bytes: bytes.translate reads a table, str.translate a dictionary.
_ASCII_WORD_BREAKS = bytes(c if chr(c).isalnum() else 32 for c in range(128)) + bytes(range(128, 256))
_OTHER_END = re.compile(r"[!?][\"'”’)]*[ \t]+(?=[A-Z0-9\"“'(])")
# A block's first sentence starts at its first character that is not white space (an empty
# block, or code blanked out at its start, is passed over).
_BLOCK_START = re.compile(r"\n\s*(?=\S)")
_SPACE = re.compile(r"\s")
_FIRST_CHARACTER = itemgetter(slice(1))


@dataclass(frozen=True)
class Sentence:
    line: int
    column: int
    text: str


T = TypeVar("T")


class table(Generic[T]):  # lower case: a decorator, as functools.cached_property is
    """A table of a prose, built when first read and kept in the instance's __dict__ (where
    later reads find it): functools.cached_property without its lock, which Python 3.11 takes at
    every first read (~2.5 µs, more than many tables of a title cost to build; 3.12 dropped it).
    Building a table twice in two threads would give the same value."""

    def __init__(self, build: Callable[[Any], T]) -> None:
        self.build, self.name = build, build.__name__
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, prose: None, owner: type) -> table[T]: ...
    @overload
    def __get__(self, prose: object, owner: type) -> T: ...
    def __get__(self, prose: object, owner: type) -> table[T] | T:
        if prose is None:
            return self
        value = prose.__dict__[self.name] = self.build(prose)
        return value


@dataclass
class Prose:
    """The prose of a body as one text, with the way back to file lines and columns."""

    text: str = ""
    line_starts: list[int] = field(default_factory=list)  # offset in text of each source line
    line_places: list[tuple[int, int]] = field(default_factory=list)  # (file line, 0-based column)
    html: list[tuple[int, int]] = field(default_factory=list)  # raw HTML: (file line, 1-based column)
    headings: list[int] = field(default_factory=list)  # offset in text of each heading's line
    # Offset in text of each block after the first, where the parse knew them (None: found
    # in the text, by `_block_starts`).
    block_starts: list[int] | None = None

    def in_heading(self, offset: int) -> bool:
        """Whether OFFSET is in one of the body's headings."""
        return bool(self.headings) and self.text.rfind("\n", 0, offset) + 1 in self._heading_starts

    @table
    def _heading_starts(self) -> frozenset[int]:
        return frozenset(self.headings)

    @table
    def without_headings(self) -> str:
        """The text with the headings' lines left blank: what a reading-level formula reads
        (a three-word heading is no sentence of the prose)."""
        if not self.headings:
            return self.text
        text = self.text
        pieces, previous = [], 0
        for start in self.headings:
            end = text.find("\n", start)
            end = len(text) if end < 0 else end
            pieces += [text[previous:start], " " * (end - start)]
            previous = end
        return "".join([*pieces, text[previous:]])

    @table
    def lowered(self) -> str:
        return self.text.lower()

    @table
    def words(self) -> list[str]:
        """The lowercase words of the text, split at every ASCII character that is not a letter
        or a digit: read once, for the vocabularies and (in ASCII prose) readability."""
        lowered = self.lowered
        if lowered.isascii():
            return lowered.encode("ascii").translate(_ASCII_WORD_BREAKS).decode("ascii").split()
        return lowered.translate(WORD_BREAKS).split()

    @table
    def word_set(self) -> frozenset[str]:
        """The distinct words (`words`): the cheap test of which vocabulary words occur at all."""
        return frozenset(self.words)

    @table
    def _joined_words(self) -> str:
        return " ".join(self.word_set)

    def mentions(self, phrases: tuple[str, ...]) -> bool:
        """Whether any of these lowercase phrases occurs in the lowercased text: a cheap test
        before a regex scan. Each word of a phrase lies inside one of the text's words, so a
        phrase whose words are not all in the text's distinct words, joined (a tenth of its
        length), is not looked for in the text: a scan of a body costs as much as ten of those."""
        lowered = self.lowered
        if len(lowered) < 400:  # a title, a summary: looked for directly
            return any(map(lowered.__contains__, phrases))
        words, entries = _phrase_words(phrases)
        joined = self._joined_words
        present = {word for word in words if word in joined}
        return any(needed <= present and phrase in lowered for phrase, needed in entries)

    def locate(self, offset: int) -> tuple[int, int]:
        """File line and 1-based column of an offset in `text`."""
        index = max(bisect_right(self.line_starts, offset) - 1, 0)
        line, column = self.line_places[index]
        return line, column + offset - self.line_starts[index] + 1

    @table
    def sentence_starts(self) -> list[int]:
        """Where sentences start: at the text's start, after each sentence end and at each
        block; a start on white space (an empty block, code blanked out) moves to the next
        character that is not. Listed once: every rule that reads sentences asks for many."""
        text = self.text
        first = _NOT_SPACE.search(text)
        if first is None:
            return []
        # Every end is followed by a character that is not white space: each is a start.
        starts = {first.start(), *[match.end() for match in _FULL_STOP_END.finditer(text)]}
        if "!" in text or "?" in text:
            starts.update(match.end() for match in _OTHER_END.finditer(text))
        known = self.block_starts
        if known is not None and not _SPACE.search("".join(map(text.__getitem__, known))):
            starts.update(known)  # each block starts with a character that is not white space
        else:
            starts.update(_block_starts(text))
        return sorted(starts)

    @table
    def sentence_count(self) -> int:
        """len(sentence_starts)."""
        return len(self.sentence_starts)

    def sentence_span(self, offset: int) -> tuple[int, int]:
        """Start and end offsets of the sentence holding `offset` (an offset in white space
        before a block's first sentence belongs to the sentence before)."""
        starts = self.sentence_starts
        if not starts:
            return 0, len(self.text)
        index = max(bisect_right(starts, offset) - 1, 0)
        end = starts[index + 1] if index + 1 < len(starts) else len(self.text)
        return starts[index], end

    def sentence_at(self, offset: int) -> Sentence:
        begin, end = self.sentence_span(offset)
        text = self.text[begin:end].strip()
        return Sentence(*self.locate(begin), text)

    @table
    def sentences(self) -> list[Sentence]:
        return [self.sentence_at(start) for start in self.sentence_starts]

    @table
    def citations(self) -> list[Citation]:
        return [
            Citation(match.start(), match.group(0), *expand(match.group(1)))
            for match in MARKER.finditer(self.text)
        ]

    @table
    def cited(self) -> dict[str, tuple[tuple[int, ...], str | None]]:
        """The distinct insides of the citation markers ("1", "2-4"), with their ids and problem:
        what most rules need, without the offset of every marker."""
        return {inner: expand(inner) for inner in set(self.marker_insides)}

    @table
    def marker_insides(self) -> list[str]:
        """The inside of every citation marker ("1", "2-4"), in order: MARKER.findall."""
        return MARKER.findall(self.text)


def _block_starts(text: str) -> Iterable[int]:
    """Where _BLOCK_START's matches end in TEXT. Nearly always every line after the first starts
    with a character that is not white space, and then these are the lines' starts, found by
    calls in C (split, the first characters joined, sums) rather than a regular expression
    tried at every line break."""
    lines = text.split("\n")
    firsts = "".join(map(_FIRST_CHARACTER, lines[1:]))
    if len(firsts) < len(lines) - 1 or _SPACE.search(firsts):  # an empty line or one that starts blank
        return [match.end() for match in _BLOCK_START.finditer(text)]
    # Line i + 1 starts after the lengths of lines 0..i and i + 1 line breaks.
    return islice(map(add, accumulate(map(len, lines)), count(1)), len(lines) - 1)


@lru_cache(maxsize=64)
def _phrase_words(phrases: tuple[str, ...]) -> tuple[tuple[str, ...], list[tuple[str, frozenset[str]]]]:
    """Every word of PHRASES once, and each phrase with its words."""
    entries = [(phrase, frozenset(phrase.translate(WORD_BREAKS).split())) for phrase in phrases]
    return tuple(dict.fromkeys(word for _, needed in entries for word in needed)), entries


def read_prose(body: str, body_line: int) -> Prose:
    """The prose of a Markdown body whose first line is line BODY_LINE of its file."""
    parsed = parse_body(body, body_line)
    prose = Prose(
        parsed.text, parsed.line_starts, parsed.line_places, parsed.html, parsed.headings, parsed.block_starts
    )
    prose.__dict__["marker_insides"] = parsed.marker_insides  # found by the walk already
    return prose
