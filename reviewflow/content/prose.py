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
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, count, islice
from operator import add, itemgetter
from typing import Any

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


def _python_word_counts(lowered: str) -> dict[str, int]:
    """The words of LOWERED as `lowered.translate(WORD_BREAKS).split()` gives them, counted, in
    order of first occurrence: the reference of the extension written in C
    (reviewflow/content/textscan.c), which runs where that one is not built or is stale."""
    if lowered.isascii():
        words = lowered.encode("ascii").translate(_ASCII_WORD_BREAKS).decode("ascii").split()
    else:
        words = lowered.translate(WORD_BREAKS).split()
    return dict(Counter(words))


@dataclass(frozen=True)
class Sentence:
    line: int
    column: int
    text: str


Expanded = tuple[tuple[int, ...], str | None]  # a marker's ids and its problem (citations.expand)


class Prose:
    """The prose of a body as one text, with the way back to file lines and columns.

    Its tables (the lowered text, the word counts, the sentence starts, …) are built when a rule first
    reads one and kept, in attributes of their own rather than functools.cached_property's
    `__dict__`: the module is compiled (reviewflow/compiled.py), and a compiled class has none
    (nor does it read a dataclass field's default from the class: hence no dataclass)."""

    def __init__(
        self,
        text: str = "",
        line_starts: list[int] | None = None,
        line_places: list[tuple[int, int]] | None = None,
        html: list[tuple[int, int]] | None = None,
        headings: list[int] | None = None,
        block_starts: list[int] | None = None,
    ) -> None:
        self.text = text
        # Offset in text of each source line, and its (file line, 0-based column).
        self.line_starts: list[int] = [] if line_starts is None else line_starts
        self.line_places: list[tuple[int, int]] = [] if line_places is None else line_places
        # Raw HTML: (file line, 1-based column) of each.
        self.html: list[tuple[int, int]] = [] if html is None else html
        # Offset in text of each heading's line.
        self.headings: list[int] = [] if headings is None else headings
        # Offset in text of each block after the first, where the parse knew them (None: found
        # in the text, by `_block_starts`).
        self.block_starts = block_starts
        # What rules keep on a prose for the rules after them (prose_fields.py), by name.
        self.kept: dict[str, Any] = {}
        # Each table's slot (None until its property of the same name first builds it).
        self._heading_starts: frozenset[int] | None = None
        self._without_headings: str | None = None
        self._lowered: str | None = None
        self._word_counts: dict[str, int] | None = None
        self._word_set: frozenset[str] | None = None
        self._joined_words: str | None = None
        self._sentence_starts: list[int] | None = None
        self._sentences: list[Sentence] | None = None
        self._citations: list[Citation] | None = None
        self._cited: dict[str, Expanded] | None = None
        self._marker_insides: list[str] | None = None

    def in_heading(self, offset: int) -> bool:
        """Whether OFFSET is in one of the body's headings."""
        if not self.headings:
            return False
        if self._heading_starts is None:
            self._heading_starts = frozenset(self.headings)
        return self.text.rfind("\n", 0, offset) + 1 in self._heading_starts

    @property
    def without_headings(self) -> str:
        """The text with the headings' lines left blank: what a reading-level formula reads
        (a three-word heading is no sentence of the prose)."""
        if self._without_headings is None:
            self._without_headings = _without_lines(self.text, self.headings)
        return self._without_headings

    @property
    def lowered(self) -> str:
        if self._lowered is None:
            self._lowered = self.text.lower()
        return self._lowered

    @property
    def word_counts(self) -> dict[str, int]:
        """The lowercase words of the text, split at every ASCII character that is not a letter
        or a digit (and at white space), each with how often it occurs: read once, for the
        vocabularies (the distinct words) and readability (each distinct word's syllables)."""
        if self._word_counts is None:
            self._word_counts = _count_words(self.lowered)
        return self._word_counts

    @property
    def word_set(self) -> frozenset[str]:
        """The distinct words (`word_counts`): the cheap test of which vocabulary words occur at all."""
        if self._word_set is None:
            self._word_set = frozenset(self.word_counts)
        return self._word_set

    def mentions(self, phrases: tuple[str, ...]) -> bool:
        """Whether any of these lowercase phrases occurs in the lowercased text: a cheap test
        before a regex scan. Each word of a phrase lies inside one of the text's words, so a
        phrase whose words are not all in the text's distinct words, joined (a tenth of its
        length), is not looked for in the text: a scan of a body costs as much as ten of those."""
        lowered = self.lowered
        if len(lowered) < 400:  # a title, a summary: looked for directly
            return any(map(lowered.__contains__, phrases))
        words, entries = _phrase_words(phrases)
        if self._joined_words is None:
            self._joined_words = " ".join(self.word_set)
        joined = self._joined_words
        present = {word for word in words if word in joined}
        return any(needed <= present and phrase in lowered for phrase, needed in entries)

    def locate(self, offset: int) -> tuple[int, int]:
        """File line and 1-based column of an offset in `text`."""
        index = max(bisect_right(self.line_starts, offset) - 1, 0)
        line, column = self.line_places[index]
        return line, column + offset - self.line_starts[index] + 1

    @property
    def sentence_starts(self) -> list[int]:
        """Where sentences start: at the text's start, after each sentence end and at each
        block; a start on white space (an empty block, code blanked out) moves to the next
        character that is not. Listed once: every rule that reads sentences asks for many."""
        if self._sentence_starts is None:
            self._sentence_starts = _find_sentence_starts(self.text, self.block_starts)
        return self._sentence_starts

    @property
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

    @property
    def sentences(self) -> list[Sentence]:
        if self._sentences is None:
            self._sentences = [self.sentence_at(start) for start in self.sentence_starts]
        return self._sentences

    @property
    def citations(self) -> list[Citation]:
        if self._citations is None:
            self._citations = [
                Citation(match.start(), match.group(0), *expand(match.group(1)))
                for match in MARKER.finditer(self.text)
            ]
        return self._citations

    @property
    def cited(self) -> dict[str, Expanded]:
        """The distinct insides of the citation markers ("1", "2-4"), with their ids and problem:
        what most rules need, without the offset of every marker."""
        if self._cited is None:
            self._cited = {inner: expand(inner) for inner in set(self.marker_insides)}
        return self._cited

    @property
    def marker_insides(self) -> list[str]:
        """The inside of every citation marker ("1", "2-4"), in order: MARKER.findall."""
        if self._marker_insides is None:
            self._marker_insides = MARKER.findall(self.text)
        return self._marker_insides


def _without_lines(text: str, starts: list[int]) -> str:
    """TEXT with the lines that start at STARTS left blank."""
    if not starts:
        return text
    pieces, previous = [], 0
    for start in starts:
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        pieces += [text[previous:start], " " * (end - start)]
        previous = end
    return "".join([*pieces, text[previous:]])


def _python_sentence_starts(text: str, known: list[int] | None) -> list[int]:
    """Prose.sentence_starts of TEXT, whose blocks start at KNOWN (offsets in TEXT) where the
    parse knew them: the reference of the extension written in C (content/textscan.c)."""
    first = _NOT_SPACE.search(text)
    if first is None:
        return []
    # Every end is followed by a character that is not white space: each is a start.
    starts = {first.start(), *[match.end() for match in _FULL_STOP_END.finditer(text)]}
    if "!" in text or "?" in text:
        starts.update(match.end() for match in _OTHER_END.finditer(text))
    if known is not None and not _SPACE.search("".join(map(text.__getitem__, known))):
        starts.update(known)  # each block starts with a character that is not white space
    else:
        starts.update(_block_starts(text))
    return sorted(starts)


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


# The word counts and the sentence starts in C where the extension is built
# (reviewflow/content/textscan.c: one pass over the text's buffer, no string or match object made
# that is thrown away). Not built, stale, or REVIEWFLOW_PURE=1 (reviewflow/compiled.py): the
# Python references above, the same tables.
try:
    from reviewflow.content._textscan import sentence_starts as _find_sentence_starts
    from reviewflow.content._textscan import word_counts as _count_words
except ImportError:
    _find_sentence_starts, _count_words = _python_sentence_starts, _python_word_counts


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
    prose._marker_insides = parsed.marker_insides  # found by the walk already
    return prose
