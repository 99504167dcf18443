"""The words the editorial rules look for, as data an editor extends without code.

The shipped lists are TOML files in checks/vocabulary/, in the shape of Vale's `existence`
(a list of tokens) and `substitution` (a `swap` table of term = plain words) rules. A
publisher's `[checks.vocabulary]` in reviewflow.toml adds to them. Each combination is read
and compiled once per process.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from reviewflow.config import Checks
from reviewflow.content.prose import WORD_BREAKS, Prose


@cache
def shipped(name: str) -> dict[str, Any]:
    """One vocabulary file of the package, e.g. shipped("jargon")."""
    text = resources.files("reviewflow.checks").joinpath("vocabulary", f"{name}.toml").read_text("utf-8")
    return tomllib.loads(text)


def words_pattern(words: tuple[str, ...], inflect: bool = False) -> re.Pattern[str]:
    """Any of WORDS as whole words, case-insensitively, longest first; with INFLECT also their
    plurals and -ed/-ing forms ("breakthroughs", "cures", "cured")."""
    phrases = sorted(
        {re.escape(w.lower()).replace("%", r"\s?%").replace(r"\ ", r"\s+") for w in words if w.strip()},
        key=len,
        reverse=True,
    )
    ending = r"(?:s|es|d|ed|ing)?" if inflect else ""
    return re.compile(r"(?<![\w-])(?:" + "|".join(phrases) + r")" + ending + r"(?![\w-])", re.IGNORECASE)


_ENDINGS = ("", "s", "es", "d", "ed", "ing")
# WORD_BREAKS as a table for ASCII bytes: bytes.translate reads it directly, where str.translate
# builds a cache of the dictionary at each call (four times the time on a few sentences).
_BREAKS = bytes(32 if code in WORD_BREAKS else code for code in range(256))


class WordFinder:
    """Where the words of a vocabulary occur in a text, as whole words, case-insensitively.

    A regex alternation of a few hundred words costs milliseconds per article, and `check`
    reads ten thousand of them. So single words are first looked up in the text's set of
    words (with their inflections, if INFLECT) and phrases with a substring test; only what
    occurs is then located, with str.find."""

    def __init__(self, words: tuple[str, ...], inflect: bool = False) -> None:
        self.forms: dict[str, str] = {}  # an inflected single word -> its vocabulary entry
        # The words of each entry of several words, or with "-", "%"…: where all of them occur,
        # the entry may (the regex then says where it does).
        self.phrases: list[frozenset[str]] = []
        for word in dict.fromkeys(w.lower().strip() for w in words if w.strip()):
            if word.isalnum():
                for ending in _ENDINGS if inflect else ("",):
                    self.forms.setdefault(word + ending, word)
            else:
                self.phrases.append(frozenset(word.translate(WORD_BREAKS).split()))
        # The phrases by their longest word (what a text's words must hold for any of them to
        # be there), looked up with one set intersection; one without words is always possible.
        self.phrases_by_word: dict[str, list[frozenset[str]]] = {}
        for needed in self.phrases:
            self.phrases_by_word.setdefault(max(sorted(needed), key=len, default=""), []).append(needed)
        # The same keys as sets: a set meets another by iterating the smaller one (a text's ~60
        # words against a vocabulary's ~10-1,700 forms), a dict's keys meet a set by iterating it.
        self.form_set, self.phrase_keys = frozenset(self.forms), frozenset(self.phrases_by_word)
        self._words, self._inflect = words, inflect
        self._pattern: re.Pattern[str] | None = None  # made on first need (pattern)
        # Each entry by its first word (a single word: inflected), with the words that must
        # follow it: what an occurrence of the entry starts with in an ASCII text. None when
        # some entry does not start with an ASCII letter or digit (it could start where no
        # word of the text does).
        self.openers: dict[str, list[tuple[list[str], tuple[str, ...]]]] | None = {
            form: [([], ())] for form in self.forms
        }
        for word in (w.lower() for w in words if w.strip()):
            parts = word.translate(WORD_BREAKS).split()
            if not (word[:1].isascii() and word[:1].isalnum() and parts[0].isascii()):
                self.openers = None
                break
            if not word.isalnum():  # its other words, and the endings its last word may take
                endings = _ENDINGS if inflect and word[-1].isalnum() else ("",)
                self.openers.setdefault(parts[0], []).append((parts[1:], endings))

    @property
    def pattern(self) -> re.Pattern[str]:
        """The words as one regex: compiled only when some text holds all the words of a phrase
        (it costs ~0.1 s for the glossary, in each process that checks), and kept."""
        if self._pattern is None:
            self._pattern = words_pattern(self._words, self._inflect)
        return self._pattern

    def find(self, prose: Prose) -> list[tuple[int, int]]:
        """(start, end) of each occurrence in PROSE.text, in order."""
        words = prose.word_set
        by_word = self.phrases_by_word
        keys = self.phrase_keys & words
        if "" in by_word or (keys and any(parts <= words for key in keys for parts in by_word[key])):
            return [m.span() for m in self.pattern.finditer(prose.text)]  # rare: phrases are few
        forms = words & self.form_set
        if not forms:
            return []  # most texts, for most vocabularies: nothing to locate
        spans = [span for form in forms for span in _whole_words(prose.lowered, form)]
        return sorted(spans)

    def may_start_in(self, text: str, prose: Prose) -> bool:
        """Whether an occurrence of an entry may start in TEXT, a part of PROSE (False: surely
        none does): the words of TEXT against the entries' first words, and the other words
        of an entry of several against the words of PROSE."""
        if self.openers is None or not text.isascii():
            return True
        text_words = text.lower().encode("ascii").translate(_BREAKS).decode("ascii").split()
        for first in self.openers.keys() & text_words:
            for rest, endings in self.openers[first]:
                if not rest or not prose.text.isascii():
                    return True
                words = prose.word_set
                if all(part in words for part in rest[:-1]) and any(rest[-1] + e in words for e in endings):
                    return True
        return False


def _whole_words(lowered: str, word: str) -> list[tuple[int, int]]:
    spans = []
    at = lowered.find(word)
    while at >= 0:
        end = at + len(word)
        before = lowered[at - 1] if at else " "
        after = lowered[end] if end < len(lowered) else " "
        if not (before.isalnum() or before == "-" or after.isalnum() or after == "-"):
            spans.append((at, end))
        at = lowered.find(word, at + 1)
    return spans


class Vocabulary:
    """The vocabularies one configuration's rules read, each finder made when a rule first asks
    for it and kept (one Vocabulary per configuration: `_combined`)."""

    def __init__(
        self,
        claims: tuple[str, ...],
        effects: tuple[str, ...],
        treatments: tuple[str, ...],
        self_care: frozenset[str],
        absolute: tuple[str, ...],
        abbreviations: frozenset[str],
        jargon: dict[str, str],  # lowercase term -> plain words
    ) -> None:
        self.claims, self.effects, self.treatments = claims, effects, treatments
        self.self_care, self.absolute = self_care, absolute
        self.abbreviations, self.jargon = abbreviations, jargon
        # Made on first need, by the properties below.
        self._claims_finder: WordFinder | None = None
        self._effects_finder: WordFinder | None = None
        self._treatments_pattern: re.Pattern[str] | None = None
        self._absolute_finder: WordFinder | None = None
        self._jargon_finder: WordFinder | None = None

    def make_finders(self) -> list[WordFinder]:
        """Every finder, each made now if it was not (rules.warm_up)."""
        return [self.claims_finder, self.effects_finder, self.absolute_finder, self.jargon_finder]

    @property
    def claims_finder(self) -> WordFinder:
        if self._claims_finder is None:
            self._claims_finder = WordFinder(self.claims, inflect=True)
        return self._claims_finder

    @property
    def effects_finder(self) -> WordFinder:
        if self._effects_finder is None:
            self._effects_finder = WordFinder(self.effects, inflect=True)
        return self._effects_finder

    @property
    def treatments_pattern(self) -> re.Pattern[str]:
        if self._treatments_pattern is None:
            self._treatments_pattern = words_pattern(self.treatments)
        return self._treatments_pattern

    @property
    def absolute_finder(self) -> WordFinder:
        if self._absolute_finder is None:
            self._absolute_finder = WordFinder(self.absolute, inflect=True)
        return self._absolute_finder

    @property
    def jargon_finder(self) -> WordFinder:
        if self._jargon_finder is None:
            self._jargon_finder = WordFinder(tuple(self.jargon), inflect=True)
        return self._jargon_finder


def vocabulary(checks: Checks) -> Vocabulary:
    """The shipped vocabularies with the publisher's additions from CHECKS (the last one asked
    for is kept by identity: every rule of every article asks for the same)."""
    last = _last_asked
    if last and last[0] is checks:
        return last[1]
    found = _vocabulary(checks)
    _last_asked[:] = [checks, found]
    return found


_last_asked: list[Any] = []  # [the Checks last asked about, its Vocabulary]


def let_go() -> None:
    """Drop every vocabulary made (rules.let_go)."""
    _last_asked.clear()
    _combined.cache_clear()


def _vocabulary(checks: Checks) -> Vocabulary:
    extra = checks.vocabulary
    absolute = checks.absolute_claims
    return _combined(
        tuple(extra.claims),
        tuple(extra.effects),
        tuple(extra.treatments),
        tuple(extra.self_care),
        tuple(shipped("absolute")["tokens"] if absolute is None else absolute) + tuple(extra.absolute),
        tuple(extra.abbreviations),
        tuple(sorted(extra.jargon.items())),
    )


@lru_cache(maxsize=8)
def _combined(
    claims: tuple[str, ...],
    effects: tuple[str, ...],
    treatments: tuple[str, ...],
    self_care: tuple[str, ...],
    absolute: tuple[str, ...],
    abbreviations: tuple[str, ...],
    jargon: tuple[tuple[str, str], ...],
) -> Vocabulary:
    claim_data = shipped("claims")
    glossary = {term.lower(): plain for term, plain in shipped("jargon")["swap"].items()}
    glossary.update((term.lower(), plain) for term, plain in jargon)
    return Vocabulary(
        claims=_lower(claim_data["claims"], claims),
        effects=_lower(claim_data["effects"], effects),
        treatments=_lower(claim_data["treatments"], treatments),
        self_care=frozenset(_lower(claim_data["self_care"], self_care)),
        absolute=_lower(absolute),
        abbreviations=frozenset(
            (*shipped("abbreviations")["tokens"], *shipped("abbreviations")["emphasis"], *abbreviations)
        ),
        jargon=glossary,
    )


def _lower(*lists: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(word.lower() for words in lists for word in words if word.strip()))
