"""Whether a reference as written is the work its identifier resolved to (pure).

Titles are compared after normalisation (HTML entities and tags, Unicode compatibility forms and
accents, case, punctuation and spacing), by similarity, so that a registry's "Update on the POEMS
syndrome." matches an author's "Update on the POEMS Syndrome" but another paper does not. Years
may differ by one (online first, then in print). The journal matches by its name, its NLM
abbreviation (also as the abbreviation of the stated name) or an ISSN.
"""

from __future__ import annotations

import html
import re
import unicodedata
from difflib import SequenceMatcher
from functools import lru_cache

from reviewflow.references.lockfile import Work

DEFAULT_SIMILARITY = 0.85
_TAGS = re.compile(r"<[^>]{0,200}>")
_NOT_WORD = re.compile(r"[\W_]+")
_ISSN = re.compile(r"^\d{4}-?\d{3}[\dXx]$")
# Words a journal's NLM abbreviation leaves out.
_DROPPED = {"of", "the", "and", "for", "in", "on", "de", "la", "und", "a", "an"}


@lru_cache(maxsize=65536)
def normalised(text: str) -> str:
    """TEXT as titles are compared: entities decoded, tags and accents dropped, case folded,
    punctuation made spaces, spaces collapsed; `&` is `and`, and a leading "the" is dropped."""
    text = _TAGS.sub(" ", html.unescape(html.unescape(text)))
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold().replace("&", " and ")
    words = _NOT_WORD.sub(" ", text).split()
    if words[:1] == ["the"]:
        words = words[1:]
    return " ".join(words)


def title_similarity(stated: str, resolved: str) -> float:
    """How alike two titles are, from 0 to 1, once normalised. A stated title that is the
    resolved one without its subtitle (or the reverse) counts as the same."""
    if stated == resolved:  # most references copy the registry's title: nothing to normalise
        return 1.0
    a, b = normalised(stated), normalised(resolved)
    if a == b:
        return 1.0
    # Without its subtitle: only a main title of some words, or "POEMS syndrome" would match
    # every "POEMS syndrome: ..." paper.
    main_a, main_b = normalised(stated.partition(":")[0]), normalised(resolved.partition(":")[0])
    if (a == main_b and len(a.split()) >= 4) or (b == main_a and len(b.split()) >= 4):
        return 1.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def journal_matches(stated: str, work: Work) -> bool:
    """Whether the reference's SOURCE names WORK's journal: by name, NLM abbreviation or ISSN."""
    if _ISSN.match(stated.strip()):
        wanted = stated.strip().replace("-", "").upper()
        return any(issn.replace("-", "").upper() == wanted for issn in work.issn)
    names = [n for n in (work.journal, work.journal_abbreviation) if n]
    if not names or stated in names:
        return True  # nothing to compare with, or the very name
    given = normalised(stated)
    for name in names:
        known = normalised(name)
        if given == known or _abbreviates(known, given) or _abbreviates(given, known):
            return True
        if SequenceMatcher(None, given, known, autojunk=False).ratio() >= DEFAULT_SIMILARITY:
            return True
    return False


def _abbreviates(short: str, full: str) -> bool:
    """Whether SHORT ("am j hematol") abbreviates FULL ("american journal of hematology") word by
    word, as NLM abbreviations do: each word a prefix of the next kept word of the name."""
    words = [w for w in full.split() if w not in _DROPPED]
    parts = short.split()
    return (
        0 < len(parts) == len(words)
        and parts != words
        and all(w.startswith(p) for p, w in zip(parts, words, strict=True))
    )


def year_matches(stated: int, work: Work) -> bool:
    """Within one year: a paper online in December and in print in January is both years'."""
    return work.year is None or abs(stated - work.year) <= 1


def differences(title: str, source: str, year: int, work: Work, threshold: float) -> list[str]:
    """What in a reference (TITLE, SOURCE, YEAR) is not WORK, one phrase each; empty: it is."""
    found = []
    if work.title:
        similarity = title_similarity(title, work.title)
        if similarity < threshold:
            found.append(
                f'its title is "{_short(work.title)}", not "{_short(title)}" (similarity {similarity:.2f})'
            )
    if not year_matches(year, work):
        found.append(f"its year is {work.year}, not {year}")
    if not journal_matches(source, work):
        names = " / ".join(n for n in (work.journal, work.journal_abbreviation) if n)
        found.append(f'its journal is "{names}", not "{_short(source)}"')
    return found


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
