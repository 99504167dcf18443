"""The words the editorial rules look for, as data an editor extends without code.

The shipped lists are TOML files in checks/vocabulary/, in the shape of Vale's `existence`
(a list of tokens) and `substitution` (a `swap` table of term = plain words) rules. A
publisher's `[checks.vocabulary]` in reviewflow.toml adds to them. Each combination is read
and compiled once per process.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from importlib import resources
from typing import Any

from reviewflow.config import Checks


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


@dataclass(frozen=True)
class Vocabulary:
    claims: tuple[str, ...]
    effects: tuple[str, ...]
    treatments: tuple[str, ...]
    self_care: frozenset[str]
    absolute: tuple[str, ...]
    abbreviations: frozenset[str]
    jargon: dict[str, str]  # lowercase term -> plain words

    @cached_property
    def claims_pattern(self) -> re.Pattern[str]:
        return words_pattern(self.claims, inflect=True)

    @cached_property
    def effects_pattern(self) -> re.Pattern[str]:
        return words_pattern(self.effects, inflect=True)

    @cached_property
    def treatments_pattern(self) -> re.Pattern[str]:
        return words_pattern(self.treatments)

    @cached_property
    def absolute_pattern(self) -> re.Pattern[str]:
        return words_pattern(self.absolute, inflect=True)

    @cached_property
    def jargon_pattern(self) -> re.Pattern[str]:
        return words_pattern(tuple(self.jargon), inflect=True)


def vocabulary(checks: Checks) -> Vocabulary:
    """The shipped vocabularies with the publisher's additions from CHECKS."""
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
