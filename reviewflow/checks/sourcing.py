"""The rules on sourcing: enough references, claims about treatments with a citation, and
citation numbers written as plain numbers instead of markers. Registered in rules.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from reviewflow.checks.language import negated
from reviewflow.checks.prose_fields import (
    FieldProse,
    bare_citations,
    prose_parts,
    sentence_cited,
    uncited_text,
)
from reviewflow.checks.vocabulary import Vocabulary, vocabulary
from reviewflow.content.article import Article, Document
from reviewflow.content.prose import MARKER, Prose
from reviewflow.findings import Severity

if TYPE_CHECKING:  # rules.py imports these rules into its registry
    from reviewflow.checks.rules import Context, Hit


def references_missing(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    wanted = ctx.config.checks.min_references_for(article.audience)
    count = len(article.references)
    if count < wanted:
        doc.load_positions()
        place = doc.key_positions.get(("references",)) or doc.position()
        have = "no references" if not count else f"{count} reference{'s' * (count != 1)}"
        yield (
            *place,
            f"{have}; a {article.audience} article needs at least {wanted} "
            "(checks.min_references): cite the sources of what it says",
        )


def claim_uncited(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    words = vocabulary(ctx.config.checks)
    for prose in prose_parts(doc, article):
        if prose is doc.prose and not (  # only uncited sentences are reported, of effects not headings
            words.claims_finder.may_start_in(uncited_text(prose), prose)
            or words.effects_finder.may_start_in(uncited_text(prose, headings=False), prose)
        ):
            continue
        yield from _claims_in(doc, prose, words)


def _claims_in(doc: Document, prose: Prose, words: Vocabulary) -> Iterator[Hit]:
    found = [(*span, True) for span in words.claims_finder.find(prose)]
    found += [(*span, False) for span in words.effects_finder.find(prose)]
    if not found:
        return
    text = prose.text
    done: set[int] = set()  # sentences found to be cited, or reported
    begin = sentence_end = -1
    for start, end, strong in sorted(found):
        if start >= sentence_end:  # words are in order: most share the last one's sentence
            begin, sentence_end = prose.sentence_span(start)
        if begin in done:
            continue
        word = text[start:end]
        # Most sentences of a well-sourced article are cited: that test is the cheap one.
        if sentence_cited(doc, prose, begin, sentence_end, word) or _paragraph_cited(prose, begin):
            done.add(begin)
            continue
        sentence = text[begin:sentence_end].rstrip()
        if sentence.endswith("?") or _label(prose, begin, sentence):
            continue
        if not strong and prose.in_heading(begin):
            continue  # "## Treatment and benefit" names a topic
        if not _is_claim(word, strong, sentence, start - begin, words):
            continue
        done.add(begin)
        yield (
            *prose.locate(begin),
            f"claim ({word!r}) about what a treatment does, with no citation: cite the evidence for it",
        )


# A treatment's effect as a question under study, not a claim: "how to make transplants
# safer", "whether it works", "researchers are evaluating the efficacy of …".
_HYPOTHETICAL = re.compile(
    r"\b(?:how to|whether|if|evaluating|investigating|studying|exploring|testing|researching)\b[^,;.]*$",
    re.IGNORECASE,
)


# …unless what is studied is said to have the effect: "studying antibodies that can target the
# cells without the toxicity of chemotherapy".
_ASSERTED = re.compile(r"\b(?:that|which)\s+(?:can|will|could|do|does)\b", re.IGNORECASE)
# What treatment is for, not what it achieves: "the goal of treatment is to eliminate the cells".
_PURPOSE = re.compile(
    r"\b(?:goal|aim|purpose|objective)s?\b[^,;.]*\b(?:is|are)\s+to\b[^,;.]*$", re.IGNORECASE
)


def _is_claim(word: str, strong: bool, sentence: str, at: int, words: Vocabulary) -> bool:
    if negated(sentence[:at], sentence[at + len(word) :]):
        return False  # "there is no cure", "it does not reverse the damage"
    # Never in self-care advice ("painkillers can relieve the pain", "physical therapy helps
    # you rebuild strength").
    lowered = sentence.lower()
    if any(re.search(rf"\b{re.escape(word)}\b", lowered) for word in words.self_care):
        return False
    studied = _HYPOTHETICAL.search(sentence[:at])
    if studied and not _ASSERTED.search(sentence, studied.start(), at):
        return False  # "how to make transplants safer", "testing whether it improves survival"
    if _PURPOSE.search(sentence[:at]):
        return False  # "the goal of treatment is to eliminate the abnormal cells"
    # "first-line", "standard of care", "cured" are claims whatever the subject; a word of
    # effect ("improves", "safe") makes a claim only about a treatment.
    return strong or bool(words.treatments_pattern.search(sentence))


def _label(prose: Prose, begin: int, sentence: str) -> bool:
    """A short block of its own that introduces a list ("First-line options:"): a title,
    not a statement."""
    whole_block = begin == 0 or prose.text[begin - 1] == "\n"
    return whole_block and sentence.endswith(":") and len(sentence.split()) <= 6


def _paragraph_cited(prose: Prose, offset: int) -> bool:
    """Whether the paragraph holding OFFSET ends with a citation marker: articles that cite
    a paragraph's sources once, at its end."""
    if isinstance(prose, FieldProse):
        return False
    end = prose.text.find("\n", offset)
    closing = prose.text[: len(prose.text) if end < 0 else end].rstrip().rstrip(".")
    last = closing.rfind("[")
    return last >= 0 and bool(MARKER.fullmatch(closing, last))


def citation_bare(article: Article, doc: Document, ctx: Context) -> Iterator[Hit]:
    no_list = not article.references
    for prose in prose_parts(doc, article):
        for offset, ids in bare_citations(prose):
            marker = "[" + ", ".join(part.strip() for part in ids.split(",")) + "]"
            message = f"{ids!r} looks like a citation written as a plain number: write it as {marker}"
            if no_list:
                yield (
                    *prose.locate(offset),
                    message + ", and add the reference list it points to (the article has none)",
                    Severity.ERROR,
                )
            else:
                yield *prose.locate(offset), message
