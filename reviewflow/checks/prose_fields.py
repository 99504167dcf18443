"""The title and the summary, read as prose like the body.

Readers see the summary first (and search engines show it), so every rule that reads prose
reads these two front-matter fields as well, at their lines. They carry no citation markers
of their own: a statement there counts as cited when the body cites the same statement (see
`cited_in_body`).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import compress, repeat
from operator import not_

from reviewflow.content.article import Article, Document
from reviewflow.content.prose import MARKER, Prose

_FIELDS = ("title", "summary")
_WORD = re.compile(r"[a-z][a-z-]{5,}")
_DIGITS = re.compile(r"\d[\d,.]*")
# Words too common to tie a summary sentence to a body sentence.
_COMMON = frozenset(
    "people patients patient disease illness condition syndrome treatment treatments therapy "
    "doctors doctor should usually often better people's because through before during between "
    "after within without another others".split()
)


class FieldProse(Prose):
    """A front-matter string as prose; every place in it is reported at the field's value."""

    def __init__(
        self,
        text: str,
        line_starts: list[int],
        line_places: list[tuple[int, int]],
        *,
        field_name: str = "",
        document: Document | None = None,
    ) -> None:
        super().__init__(text, line_starts, line_places)
        self.field_name = field_name
        self.document = document

    def locate(self, offset: int) -> tuple[int, int]:
        doc = self.document
        if doc is None:
            return 1, 1
        doc.load_positions()  # only when a finding is reported: most articles need none
        return doc.key_positions.get((self.field_name,)) or doc.position(self.field_name)


def prose_parts(doc: Document, article: Article) -> list[Prose]:
    """The body's prose, then the title's and the summary's (built once per document)."""
    parts: list[Prose] | None = doc.__dict__.get("_prose_parts")
    if parts is None:
        parts = [doc.prose]
        for name in _FIELDS:
            text = " ".join(str(getattr(article, name)).split())
            if text:
                parts.append(FieldProse(text, [0], [(0, 0)], field_name=name, document=doc))
        doc.__dict__["_prose_parts"] = parts
    return parts


# Numbers that are citations written the wrong way: "… survival. 1, 2", "…approach.1,2",
# a dangling "(2)". At most three digits each, so years and counts are never taken.
_IDS = r"\d{1,3}(?:\s*,\s*\d{1,3})*"
_TIGHT_IDS = r"\d{1,3}(?:,\d{1,3})*"
_AFTER_SENTENCE = re.compile(  # the punctuation first: `re` tries the rest only there
    rf"[.!?](?<=[A-Za-z)%\]][.!?])"
    rf"(?:[ \t]+({_IDS})(?=[ \t]*(?:\n|$)|[ \t]+[A-Z\"“])|({_TIGHT_IDS})(?=\s|$))"
)
# The same for a text without "!" or "?": `re` scans for a literal several times faster than for
# a choice of characters (~30 µs a body), and there every match starts at a ".".
_AFTER_FULL_STOP = re.compile(_AFTER_SENTENCE.pattern.replace("[.!?]", r"\.", 2))
_IN_BRACKETS = re.compile(
    rf"\((?:(?<=[A-Za-z%.,;]\()|(?<=[A-Za-z%.,;][ \t]\())({_IDS})\)(?=[ \t]*[.!?;,]?[ \t]*(?:\n|$|[A-Z]))"
)
_NOT_CITATION_BEFORE = re.compile(
    r"\b(?:fig|figure|table|step|type|grade|stage|no|vol|page|p|class|level|phase|part|option|appendix)\.?\s*\(?$",
    re.IGNORECASE,
)


def bare_citations(prose: Prose) -> list[tuple[int, str]]:
    """(offset, "1, 2") of each citation written as plain numbers in PROSE (found once)."""
    found: list[tuple[int, str]] | None = prose.kept.get("_bare_citations")
    if found is None:
        text = prose.text
        candidates = _after_sentences(text)
        if "(" in text and not isinstance(prose, FieldProse):  # "(1)" closing a title numbers it
            candidates += [(m.start(), m.group(1)) for m in _IN_BRACKETS.finditer(text)]
        found = [
            (offset, ids)
            for offset, ids in sorted(candidates)
            if not _NOT_CITATION_BEFORE.search(text, max(0, offset - 12), offset)
        ]
        prose.kept["_bare_citations"] = found
    return found


def _after_sentences(text: str) -> list[tuple[int, str]]:
    """(offset, ids) of each match of _AFTER_SENTENCE in TEXT, as its finditer finds them. Every
    match starts at a mark (".", "!" or "?") followed by a digit, or by spaces or tabs and then
    a digit; a body has ~80 marks and nearly none is followed so. So those few marks are found
    first (`_marks_before_digits`) and the expression is tried there only: `re` scanning the
    body for its first character and trying it at every full stop cost ~94 K instructions a
    body, ~6 % of checking an approved text. No mark lies inside a match (its ids are digits,
    commas and white space), so each is tried alone and the matches are finditer's, in order."""
    every_mark = "!" in text or "?" in text
    pattern = _AFTER_SENTENCE if every_mark else _AFTER_FULL_STOP
    found = []
    for at in _marks_before_digits(text, every_mark):
        match = pattern.match(text, at)
        if match is not None:
            ids = match.group(1)
            found.append((match.start(1), ids) if ids else (match.start(2), match.group(2)))
    return found


_FULL_STOP_BEFORE_DIGIT = re.compile(r"\.(?=[ \t]*\d)")
_MARK_BEFORE_DIGIT = re.compile(r"[.!?](?=[ \t]*\d)")


def _python_marks_before_digits(text: str, every_mark: bool) -> list[int]:
    """The offset of each full stop in TEXT (EVERY_MARK: each ".", "!" and "?") followed by
    spaces or tabs, or none, and then a digit: the reference of the extension written in C
    (reviewflow/content/textscan.c)."""
    pattern = _MARK_BEFORE_DIGIT if every_mark else _FULL_STOP_BEFORE_DIGIT
    return [match.start() for match in pattern.finditer(text)]


# In C where the extension is built (each "." found by CPython's character search); not built,
# stale, or REVIEWFLOW_PURE=1 (reviewflow/compiled.py): the reference above.
try:
    from reviewflow.content._textscan import marks_before_digits as _marks_before_digits
except ImportError:
    _marks_before_digits = _python_marks_before_digits


def sentence_cited(doc: Document, prose: Prose, begin: int, end: int, key: str) -> bool:
    """Whether the sentence PROSE.text[BEGIN:END] is cited: by a marker in it, or, in the
    title or summary, by a cited body sentence that holds KEY (the number or claim word
    found) and shares one of its distinctive words (6+ letters, not a common word)."""
    # Several rules ask about the same sentences: each is looked at once.
    marked: dict[tuple[int, int], bool] = prose.kept.setdefault("_marked_sentences", {})
    cited = marked.get((begin, end))
    if cited is None:
        # A citation written as a plain number is cited, and citation-bare says how.
        cited = marked[begin, end] = bool(
            MARKER.search(prose.text, begin, end)
            or any(begin <= at <= end for at, _ in bare_citations(prose))
        )
    return cited or (isinstance(prose, FieldProse) and cited_in_body(doc, prose.text[begin:end], key))


def cited_in_body(doc: Document, sentence: str, key: str) -> bool:
    digits = _DIGITS.search(key)
    key = digits.group(0) if digits else key.lower()  # a number is matched by its digits
    words = {w for w in _WORD.findall(sentence.lower()) if w not in _COMMON and w != key}
    for cited in _cited_body_sentences(doc):
        if key in cited and (not words or any(word in cited for word in words) or key[:1].isdigit()):
            return True
    return False


def _cited_body_sentences(doc: Document) -> list[str]:
    found: list[str] | None = doc.__dict__.get("_cited_body_sentences")
    if found is None:
        prose = doc.prose
        spans = {prose.sentence_span(m.start()) for m in MARKER.finditer(prose.text)}
        found = [prose.lowered[begin:end] for begin, end in sorted(spans)]
        doc.__dict__["_cited_body_sentences"] = found
    return found


def uncited_text(prose: Prose, headings: bool = True) -> str:
    """The sentences of PROSE that sentence_cited finds no citation in (without HEADINGS: but
    those that start in a heading), each with the character after it (a match may reach it:
    "n\\n= 31"), one a line.

    Rules that report only uncited sentences (evidence-uncited, claim-uncited, absolute-claim
    on professional pages) look here first: where nothing they look for can start, a
    well-cited body is done without reading it sentence by sentence.
    """
    kept: dict[bool, str] = prose.kept.setdefault("_uncited_text", {})  # asked for by three rules
    found = kept.get(headings)
    if found is None:
        text = prose.text
        spans = _uncited_spans(prose)
        if not headings and prose.headings:
            spans = [(begin, end) for begin, end in spans if not prose.in_heading(begin)]
        found = kept[headings] = "\n".join(text[begin : end + 1] for begin, end in spans)
    return found


def _python_uncited(text: str, starts: list[int]) -> list[bool]:
    """For each sentence of TEXT (STARTS: where each starts, in order), whether no citation
    marker lies wholly inside it: the reference of the extension written in C
    (reviewflow/content/textscan.c). A marker cites the sentence it is wholly inside: a search
    between the sentence's bounds finds exactly those (a marker holds no "[" or "]", so where a
    scan starts never changes what it finds)."""
    ends = [*starts[1:], len(text)] if starts else []
    return list(map(not_, map(MARKER.search, repeat(text), starts, ends)))


# In C where the extension is built (one pass over the markers, not a search a sentence); not
# built, stale, or REVIEWFLOW_PURE=1 (reviewflow/compiled.py): the reference above.
try:
    from reviewflow.content._textscan import uncited as _uncited
except ImportError:
    _uncited = _python_uncited


def _uncited_spans(prose: Prose) -> list[tuple[int, int]]:
    found: list[tuple[int, int]] | None = prose.kept.get("_uncited_spans")
    if found is None:
        text = prose.text
        starts = prose.sentence_starts
        ends = [*starts[1:], len(text)] if starts else []
        uncited = _uncited(text, starts)
        for at, _ in bare_citations(prose):  # at its start or end: begin <= at <= end
            index = bisect_right(starts, at) - 1
            if index >= 0:
                uncited[index] = False
                if index and starts[index] == at:
                    uncited[index - 1] = False
        found = list(compress(zip(starts, ends, strict=True), uncited))
        prose.kept["_uncited_spans"] = found
    return found
