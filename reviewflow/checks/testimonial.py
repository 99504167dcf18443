"""The testimonial rule: a personal story, or a generalisation from stories, used as evidence
that a treatment or a product works. Registered in rules.py.

It is a rule of its own, not part of claim-uncited, because a citation does not mend it: one
person's course after a treatment is no evidence that the treatment caused it, cited or not
(the CAP Code's rule 12.1 asks for evidence, where relevant trials on people; HONcode's
justifiability). Four kinds, from checks/vocabulary/testimonials.toml and `[checks.vocabulary]`:

- a story: a person (I, my; we, our, she, he on a patient page; a named person, "Sarah's scan") tells
  an outcome ("my pain was gone") and what brought it ("after two weeks of JointGold"), on a
  page that sells (not every author declares "none", or it has a sponsor): elsewhere it is the
  writers' lived experience;
- a told outcome, which carries its teller and cause: "LDN cured my fibro", "How I reversed…";
- social proof: "it can do the same for you", "thousands of customers can't be wrong",
  before-and-after pictures;
- an endorsement as evidence ("doctor-recommended") in a sentence that cites nothing.

Cheap, as `check` reads ten thousand articles: the text's set of words (built once, shared with
the other vocabularies) says which phrases can occur at all, so most texts run no regex; each
phrase that can is found with one regex that `re` starts at its literal first letters, and only
the sentence around a match is looked at. On a professional page a cited sentence is a case
report's, and "we" is the authors'.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from reviewflow.checks.language import negated
from reviewflow.checks.prose_fields import prose_parts, sentence_cited
from reviewflow.checks.vocabulary import shipped, vocabulary, words_pattern
from reviewflow.config import Checks
from reviewflow.content.article import Article, Document
from reviewflow.content.prose import WORD_BREAKS, Prose

if TYPE_CHECKING:  # rules.py imports this rule into its registry
    from reviewflow.checks.rules import Context, Hit

_KINDS = ("outcomes", "told_outcomes", "social_proof", "endorsements")

_I = re.compile(r"(?<![\w'’])I(?![\w-])|\b(?:[Mm]y|[Mm]e|[Mm]yself|[Mm]ine)\b")
_WE = re.compile(r"\b(?:[Ww]e|[Oo]ur|us|[Oo]urselves)\b")
# On a patient page, a story goes on in the third person ("Within six weeks, she was pain-free").
_THEY = re.compile(r"\b(?:[Ss]he|[Hh]e|[Hh]er|[Hh]is)\b")
_NAMED = re.compile(r"\b([A-Z][a-zà-ÿ]+)['’]s\b|\b(?:says|said|explains)\s+[A-Z][a-z]+\b")
_NUMBER = r"(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten|twelve|a few|a couple of|\d+)"
_SPAN = (
    r"(?:days?|weeks?|months?|sessions?|treatments?|injections?|infusions?|bottles?|courses?|doses?|visits?)"
)
# An outcome hoped for or tested, not told: "we check after 2 weeks of treatment whether it is
# back to normal", "stop when… until the rash has gone".
_CONDITION = re.compile(r"\b(?:if|whether|until|unless|in case|to see)\b[^,;.]*$", re.IGNORECASE)
# What brought the outcome about, told in the same sentence.
_CAUSE = re.compile(
    rf"\b(?:since|after|within|in)\s+(?:just\s+|only\s+)?{_NUMBER}\s+{_SPAN}\b"
    rf"|\b{_NUMBER}\s+(?:days?|weeks?|months?)\s+into\b"
    r"|\bsince\s+(?:I|we|she|he|they)(?:['’]ve|\s+have|\s+had)?\s+"
    r"(?:started|began|tried|switched|took|been\s+taking|been\s+using|joined|found|discovered)\b"
    r"|\bsince\s+(?:my|our|her|his|the)\s+(?:first|last|second|third)\b"
    r"|\b(?:after|from|by|since)\s+(?:taking|using|trying|starting|drinking|going|following|switching)\b"
    r"|\bthanks\s+to\b",
    re.IGNORECASE,
)


_APOSTROPHE = re.compile(r"\w*['’]\w*")


@dataclass(frozen=True)
class _Words:
    """The four lists, compiled, and the cheap test of which of their phrases can occur."""

    # Each phrase by one of its words (its longest), with all the words it needs: a phrase
    # can occur in a text only where all of them are among the text's words.
    by_key: dict[str, list[tuple[frozenset[str], int, str]]]
    not_names: frozenset[str]
    coping: re.Pattern[str]
    # by_key's keys as a set: met with a text's words by iterating the smaller of the two.
    keys: frozenset[str] = frozenset()

    def possible(self, prose: Prose) -> frozenset[tuple[int, str]]:
        """(kind, phrase) of each phrase whose words all occur in PROSE: a set lookup per
        word, so a text that holds none costs no regex scan at all."""
        words = prose.word_set
        return frozenset(
            (kind, phrase)
            for key in self.keys & words
            for needed, kind, phrase in self.by_key[key]
            if needed <= words
        )


def _needed_words(phrase: str) -> frozenset[str]:
    """The words of PHRASE that the text's word set holds whatever its apostrophes (' or ’,
    which the set keeps inside a word): "haven't had a" needs "had" and "a"."""
    return frozenset(_APOSTROPHE.sub(" ", phrase).translate(WORD_BREAKS).split())


@lru_cache(maxsize=8)
def _compiled(additions: tuple[tuple[str, ...], ...]) -> _Words:
    data = shipped("testimonials")
    kinds = tuple(
        tuple(dict.fromkeys(w.lower().strip() for w in (*data[kind], *extra) if w.strip()))
        for kind, extra in zip(_KINDS, additions, strict=True)
    )
    by_key: dict[str, list[tuple[frozenset[str], int, str]]] = {}
    for kind, phrases in enumerate(kinds):
        for phrase in phrases:
            needed = _needed_words(phrase)
            key = max(sorted(needed), key=len, default="")
            by_key.setdefault(key, []).append((needed, kind, phrase))
    return _Words(
        by_key=by_key,
        keys=frozenset(by_key),
        not_names=frozenset(name.lower() for name in data["not_names"]),
        coping=words_pattern(tuple(data["coping"])),
    )


@lru_cache(maxsize=1024)
def _phrase_pattern(phrase: str, ignore_case: bool) -> re.Pattern[str]:
    """PHRASE as a regex that starts with its first letters, which `re` finds with a fast
    search for a literal (an alternation, or a lookbehind first, makes it try every
    character: ten times slower); any space matches any white space, ' matches ’ too."""
    body = re.escape(phrase).replace(r"\ ", r"\s+").replace("'", "['’]")
    return re.compile(body + r"(?![\w-])", re.IGNORECASE if ignore_case else 0)


def _words(checks: Checks) -> _Words:
    """The lists for CHECKS, compiled (the last asked for is kept by identity: every article
    asks for the same, and the key of _compiled's cache costs more to build than this)."""
    last = _last_asked
    if last and last[0] is checks:
        return last[1]
    extra = checks.vocabulary
    found = _compiled(tuple(tuple(getattr(extra, kind)) for kind in _KINDS))
    _last_asked[:] = [checks, found]
    return found


_last_asked: list[Any] = []  # [the Checks last asked about, its _Words]


def warm_up(checks: Checks) -> None:
    """Compile the lists for CHECKS now (rules.warm_up)."""
    _words(checks)


def let_go() -> None:
    """Drop every compiled list (rules.let_go)."""
    _last_asked.clear()
    _compiled.cache_clear()


def testimonial(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    words = _words(ctx.config.checks)
    professional = article.audience == "professional"
    # A page whose every author declares no competing interest, with no sponsor, is its
    # writers' own account: a person telling what happened to them there is lived experience
    # ("my blood tests came back to normal after the transplant"). What sells remains: a told
    # cure, stories offered as proof for the reader, an endorsement.
    stories = not _independent(article)
    for prose in prose_parts(doc, article):
        possible = words.possible(prose)
        if possible and not stories:
            possible = frozenset(p for p in possible if _KINDS[p[0]] != "outcomes")
        if possible:  # most texts: none of the phrases can occur, and no regex runs
            found = _occurrences(prose, possible)
            if found:
                yield from _testimonials_in(doc, prose, found, words, ctx, professional)


def _independent(article: Article) -> bool:
    return not article.sponsor and all(
        (author.competing_interests or "").strip().rstrip(".").casefold() == "none"
        for author in article.authors
    )


def _occurrences(prose: Prose, possible: frozenset[tuple[int, str]]) -> list[tuple[int, int, str]]:
    """(start, end, kind) of each POSSIBLE phrase in PROSE as whole words, in order. The scan
    reads the lowercased text where lowercasing keeps the offsets (a case-blind one is slower)."""
    same_offsets = len(prose.lowered) == len(prose.text)
    scanned = prose.lowered if same_offsets else prose.text
    found = []
    for kind, phrase in possible:
        for match in _phrase_pattern(phrase, not same_offsets).finditer(scanned):
            start = match.start()
            before = scanned[start - 1] if start else " "
            if not (before.isalnum() or before in "_-"):
                found.append((start, match.end(), _KINDS[kind]))
    return sorted(found)


def _testimonials_in(
    doc: Document,
    prose: Prose,
    found: list[tuple[int, int, str]],
    words: _Words,
    ctx: Context,
    professional: bool,
) -> Iterator[Hit]:
    text = prose.text
    reported: set[int] = set()
    for start, stop, kind in found:
        begin, end = prose.sentence_span(start)
        if begin in reported:
            continue
        sentence = text[begin:end].rstrip()
        phrase = text[start:stop]  # as written: the scan may read it lowercased
        at = start - begin
        if sentence.endswith("?") or negated(sentence[:at], sentence[at + len(phrase) :]):
            continue  # "Will my pain be gone?", "my tingling has not gone away"
        cited = sentence_cited(doc, prose, begin, end, phrase)
        if professional and cited:
            continue  # a case report, with its source
        if kind == "endorsements" and cited:
            continue  # who recommends it, and the evidence, are named
        if kind == "outcomes" and (
            _CONDITION.search(sentence, 0, at) or not _story(sentence, words, ctx, professional)
        ):
            continue
        reported.add(begin)
        yield *prose.locate(begin), _message(kind, phrase)


def _story(sentence: str, words: _Words, ctx: Context, professional: bool) -> bool:
    """Whether SENTENCE tells a person's outcome and what brought it about."""
    told = bool(_I.search(sentence)) or (
        not professional and bool(_WE.search(sentence) or _THEY.search(sentence))
    )
    if not told:
        told = any(
            name is None or name.lower() not in words.not_names
            for name in (m.group(1) for m in _NAMED.finditer(sentence))
        )
    if not told:
        return False
    treatment = vocabulary(ctx.config.checks).treatments_pattern.search(sentence)
    if not treatment and words.coping.search(sentence):
        return False  # lived experience: "since I started pacing my day, the bad days have gone"
    return bool(treatment or _CAUSE.search(sentence))


def _message(kind: str, phrase: str) -> str:
    if kind == "endorsements":
        return (
            f"endorsement as evidence ({phrase!r}) with no source: say who recommends it and cite the "
            "evidence that it works"
        )
    if kind == "social_proof":
        return (
            f"testimonial ({phrase!r}): other people's stories offered as proof that it will work for "
            "the reader; remove it, or cite the evidence of benefit"
        )
    return (
        f"testimonial ({phrase!r}): a personal story told as evidence that a treatment works; a story "
        "is not evidence, even with a citation: cite the evidence of benefit, or tell the experience "
        "without the outcome claim"
    )
