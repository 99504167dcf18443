"""jargon: words a patient may not know, on patient pages. Registered in rules.py.

Two kinds: an abbreviation (two or more capitals) that is not expanded where it is first
used, unless patients know it (the allow-list) or it names the article's condition; and a
term of the glossary (checks/vocabulary/jargon.toml) that is not explained where it is
first used. The title, the summary and the body are each read as a whole: each is shown alone
somewhere (a listing shows the summary without the body).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from reviewflow.checks.prose_fields import prose_parts
from reviewflow.checks.readability import syllable_table
from reviewflow.checks.vocabulary import Vocabulary, vocabulary
from reviewflow.content.article import Article, Document
from reviewflow.content.prose import Prose

if TYPE_CHECKING:  # rules.py imports these rules into its registry
    from reviewflow.checks.rules import Context, Hit

# The capital first, then what precedes it: `re` tries the lookbehind only at capitals.
_ABBREVIATION = re.compile(r"[A-Z](?<![\w-].)[A-Za-z0-9&]*[A-Z][A-Z0-9]*s?(?![\w])")
_ROMAN = re.compile(r"[IVXLC]+")
_CONDITION_WORD = re.compile(r"[A-Za-z0-9]+")
# An ASCII text's shape: capitals "A", other letters, digits and "&" "a", the rest " ". An
# abbreviation needs "A", then [Aa]*, then "A" there; `re` finds that from the literal "A",
# several times faster than _ABBREVIATION tries its lookbehind at every capital.
# A table for bytes: bytes.translate reads it directly, str.translate builds a cache of a dictionary.
_SHAPE = bytes(
    [ord("A" if c.isupper() else "a" if c.isalnum() or c == "&" else " ") for c in map(chr, range(128))]
) + bytes(range(128, 256))
_TWO_CAPITALS = re.compile(rb"A[Aa]*A")
# An explanation right after a word: "VEGF (vascular …)", "neuropathy, which means …",
# "paraneoplastic—meaning …", "remission: a time when …", "ascites, or fluid in the belly".
_EXPLAINED_AFTER = re.compile(
    r"s?[\"”’']?(?:[ \t]+[A-Za-z-]+){0,3}?[\"”’']?[ \t]*(?:\(|[—–:]|-[ \t]|,?[ \t]*(?:which|that)[ \t]+"
    r"(?:means|is|are)\b|,?[ \t]*meaning\b|[ \t]+means\b)"
    r"|s?[\"”’']?(?:,[ \t]*(?:or|i\.e\.|that is|also called|also known as)\b|,[ \t]*an?\b)"
)
# … or right before it: "nerve damage (neuropathy)", "a protein called VEGF".
_EXPLAINED_BEFORE = re.compile(r"(?:\([ \t]*|\b(?:called|known as|named|termed)[ \t]+[\"“‘']?)$")
# The next sentence explains it: "… a long remission. Remission means …", "This is …".
_NEXT_EXPLAINS = re.compile(
    r"(?:this|that|it|these|those)[ \t]+(?:is|are|means?|happens|refers)\b", re.IGNORECASE
)


_DEFINES = r"(?:(?:is|are)\s+(?:an?|the)|means|stands\s+for)\b"  # "IVIG is an …", "Remission means …"


def jargon(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    if article.audience != "patient":
        return
    words = vocabulary(ctx.config.checks)
    # The article's own condition is the name readers came for ("POEMS", "multiple sclerosis").
    condition = set(_CONDITION_WORD.findall(article.condition))
    condition_words = {word.lower() for word in condition}
    for prose in prose_parts(doc, article):
        hits = [*_abbreviations(prose, words, condition), *_terms(prose, words, condition_words)]
        yield from sorted(hits)


def _abbreviations(prose: Prose, words: Vocabulary, condition: set[str]) -> Iterator[Hit]:
    text = prose.text
    if text.isascii() and not _TWO_CAPITALS.search(text.encode("ascii").translate(_SHAPE)):
        return  # no word with two capitals: most patient pages
    seen: set[str] = set()
    known = syllable_table()
    for match in _ABBREVIATION.finditer(text):
        word = match.group(0)
        stem = word[:-1] if word.endswith("s") and word[:-1].isupper() else word
        if stem in seen or prose.in_heading(match.start()):
            continue  # a heading names the topic; the first sentence under it spells it out
        seen.add(stem)
        if (
            stem in words.abbreviations
            or stem in condition
            or _ROMAN.fullmatch(stem)
            or (len(stem) > 3 and stem.isalpha() and stem.lower() in known)  # "NOT", "NEVER": shouting
            or _explained(text, match.start(), match.end())
            or _next_explains(prose, match.start(), stem)
        ):
            continue
        yield (
            *prose.locate(match.start()),
            f"abbreviation {stem} is not spelt out where it is first used: write the words in full, "
            f"then ({stem})",
        )


def _terms(prose: Prose, words: Vocabulary, condition: set[str]) -> Iterator[Hit]:
    text = prose.text
    seen: set[str] = set()
    met: set[str] = set()  # each form is judged where it first occurs: later, its term is seen
    for start, end in words.jargon_finder.find(prose):
        found = text[start:end]
        lowered = found.lower()
        if lowered in met:
            continue
        met.add(lowered)
        term = _glossary_term(lowered, words)
        if term is None or term in seen or lowered in condition or term in condition:
            continue
        seen.add(term)
        plain = words.jargon[term]
        if _explained(text, start, end) or _plain_nearby(prose, start, plain):
            continue
        yield (
            *prose.locate(start),
            f"medical term {found!r} is not explained where it is first used: "
            f"say what it means in plain words (e.g. {plain!r})",
        )


def _glossary_term(found: str, words: Vocabulary) -> str | None:
    for ending in ("", "s", "es", "d", "ed", "ing"):
        if found.endswith(ending) and found[: len(found) - len(ending)] in words.jargon:
            return found[: len(found) - len(ending)]
    return None


def _explained(text: str, start: int, end: int) -> bool:
    after = _EXPLAINED_AFTER.match(text, end)
    if after and after.group(0).endswith("("):
        # Brackets explain with words: "(nerve damage)", not "(CIDP)".
        inside = text[after.end() : text.find(")", after.end())]
        return bool(re.search(r"[a-z]{3,}", inside))
    return bool(after or _EXPLAINED_BEFORE.search(text, max(0, start - 20), start))


def _plain_nearby(prose: Prose, offset: int, plain: str) -> bool:
    """Whether the plain words are in the term's sentence, or the next sentence explains it."""
    begin, end = prose.sentence_span(offset)
    sentence = prose.lowered[begin:end]
    content = [
        w for w in re.findall(r"[a-z]{4,}", plain.lower()) if w not in {"with", "from", "that", "when"}
    ]
    if content and all(word in sentence for word in content):
        return True
    return _next_explains(prose, offset, prose.text[offset : offset + 40].split()[0].strip(".,;:"))


def _next_explains(prose: Prose, offset: int, term: str) -> bool:
    """Whether the sentence after the one at OFFSET explains TERM: "IVIG is an antibody drip.",
    "This means …"."""
    _, end = prose.sentence_span(offset)
    block_end = prose.text.find("\n", end)
    following = prose.text[end : len(prose.text) if block_end < 0 else block_end]
    return bool(
        following.strip()
        and (
            _NEXT_EXPLAINS.match(following)
            or re.match(rf"{re.escape(term)}\w*\s+{_DEFINES}", following, re.IGNORECASE)
        )
    )
