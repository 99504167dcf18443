"""`check_document(..., warnings_only=True)`, what verify and ci judge an approval with: every
warning a full check finds, the same, without running the rules that report only errors."""

from __future__ import annotations

import json
import operator
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from reviewflow.checks.rules import RULES, Context, Hit, check_document
from reviewflow.config import Config
from reviewflow.content.article import Document, parse_document
from reviewflow.content.schema import ArticleSchema, bundled_schema_text
from reviewflow.findings import Severity
from reviewflow.review.acknowledge import to_acknowledge
from tests.conftest import PROJECT, article_text
from tests.editorial_table import load_corpus

SCHEMA = ArticleSchema(json.loads(bundled_schema_text()))
DISCLAIMERS = {
    "patient": {"audience": "patient", "text": "General information."},
    "professional": {"audience": "professional", "text": "For professionals."},
}
# Settings that move rules across: an error rule made a warning, a warning rule made an error,
# per audience too, and one turned off.
FLIPPED = {
    "date-future": "warning",
    "citation-unknown": {"patient": "warning"},
    "absolute-claim": "error",
    "readability": {"patient": "error"},
    "jargon": "off",
}


def config(rules: dict[str, Any] | None = None) -> Config:
    return Config.model_validate({"disclaimers": DISCLAIMERS, "checks": {"rules": rules or {}}})


# Hand-made texts with errors of the error rules (a reference dated after the day checked, an
# unknown citation, a testimonial in a patient article, a duplicated id), warnings, a bare
# citation in an article without references (citation-bare's own error), and intended marks:
# one that covers a warning, one that names an error rule (it covers nothing: stale), one stale.
TEXTS = {
    "errors-and-warnings": article_text(
        "Everyone knows this miracle cure always works [3].\n\n"
        "My aunt took it and was cured, so it will work for you too [1].\n\n"
        "About 40% of patients respond to the medication within 12 weeks.\n",
        references='  - id: 1\n    type: review\n    title: "A"\n    source: "B"\n    year: 2031\n'
        '    doi: "10.5045/br.2022.2022001"\n  - id: 1\n    type: review\n    title: "C"\n'
        '    source: "D"\n    year: 1990\n',
        extra="intended:\n  - rule: absolute-claim\n    text: miracle cure\n    reason: quoted\n"
        "  - rule: date-future\n    text: '2031'\n    reason: not a warning\n"
        "  - rule: raw-html\n    text: nowhere\n    reason: stale\n",
    ),
    "bare-without-references": article_text("POEMS is rare 1.\n", references="  []\n"),
    "professional": article_text(
        "The regimen always cures the disease [2] and 45% of patients relapse.\n", audience="professional"
    ),
}


def pages() -> dict[str, bytes]:
    """The editorial corpus's pages, the bundled articles and TEXTS, by slug."""
    texts = {page.slug: page.text for page in load_corpus()}
    for bundled in sorted((PROJECT / "articles").glob("*.md")):
        texts[bundled.stem] = bundled.read_text(encoding="utf-8")
    texts.update(TEXTS)
    return {slug: text.encode() for slug, text in texts.items()}


def parsed(slug: str, raw: bytes) -> Document:
    return parse_document(f"articles/{slug}.md", raw, SCHEMA, 10**6)


@pytest.mark.parametrize("rules", [{}, FLIPPED], ids=["defaults", "flipped"])
def test_every_warning_is_found_as_a_full_check_finds_it(rules: dict[str, Any]) -> None:
    context = Context(config(rules), date(2026, 1, 1))
    compared = 0
    for slug, raw in pages().items():
        full = check_document(parsed(slug, raw), context)
        document = parsed(slug, raw)
        only = check_document(document, context, warnings_only=True)
        assert to_acknowledge(only) == to_acknowledge(full), slug
        assert all(finding in full for finding in only)  # fewer errors, nothing else
        compared += len(to_acknowledge(full))
    assert compared > 50  # the pages do have warnings to compare


def test_the_error_rules_are_not_run() -> None:
    raw = TEXTS["errors-and-warnings"].encode()
    context = Context(config(), date(2026, 1, 1))
    full = check_document(parsed("a", raw), context)
    errors = {f.rule for f in full if f.severity is Severity.ERROR}
    assert {"date-future", "citation-unknown", "testimonial", "reference-duplicate-id"} <= errors
    only = check_document(parsed("a", raw), context, warnings_only=True)
    assert not {f.rule for f in only} & errors
    assert "intended-stale" in {f.rule for f in only}  # the marks are still judged


def test_a_text_whose_only_findings_are_errors_never_reads_its_positions() -> None:
    """What makes it cheaper: an error's position is read from the front-matter's lines (a
    reference dated after the day, an author without a declaration); no warning here asks."""
    raw = (
        b'---\ntitle: "Amyloidosis"\nsummary: "What to know."\naudience: patient\ncondition: "Amyloidosis"\n'
        b'authors:\n  - name: "Author 8"\n    email: "author8@writers.example"\ndisclaimer: patient\n'
        b'references:\n  - id: 1\n    type: review\n    title: "Study 1"\n    source: "Journal"\n'
        b'    year: 2030\n    pmid: "8911153"\n---\n\nAmyloidosis is rare [1].\n'
    )
    context = Context(config(), date(2026, 1, 1))
    full = check_document(parsed("a", raw), context)
    assert [f.rule for f in full] == ["disclosure-missing", "date-future"]
    document = parsed("a", raw)
    assert document.positions_later is not None  # left for later by the reading
    assert check_document(document, context, warnings_only=True) == []
    assert document.positions_later is not None  # and never read


def test_an_error_rules_hit_is_never_a_warning() -> None:
    """A hit's own severity only makes a warning rule's hit an error: an error rule that gave
    its hits WARNING would still report errors, so warnings_only may skip it."""
    rule = RULES["date-future"]
    original = rule.run

    def softer(*args: Any) -> Iterator[Hit]:
        for line, column, message, *_ in original(*args):
            yield line, column, message, Severity.WARNING

    object.__setattr__(rule, "run", softer)  # a frozen dataclass: put back below
    try:
        found = check_document(
            parsed("a", TEXTS["errors-and-warnings"].encode()), Context(config(), date(2026, 1, 1))
        )
    finally:
        object.__setattr__(rule, "run", original)
    assert {f.severity for f in found if f.rule == "date-future"} == {Severity.ERROR}


def test_what_warm_up_makes_before_a_fork_is_what_the_rules_read_and_let_go_drops_it() -> None:
    # rules.warm_up makes, in the process about to fork, the vocabularies, their finders and
    # the testimonial lists the rules would make on first use: the findings are the same made
    # either way, the rules read the very ones it made, and let_go drops them (made again later).
    from reviewflow.checks import rules, testimonial, vocabulary

    checked = config(FLIPPED)
    context = Context(checked, date(2026, 1, 1))
    rules.let_go()
    made_on_first_use = {slug: check_document(parsed(slug, raw), context) for slug, raw in pages().items()}
    rules.let_go()
    rules.warm_up(checked.checks)
    words, lists = vocabulary.vocabulary(checked.checks), testimonial._words(checked.checks)
    finders = words.make_finders()
    made_before = {slug: check_document(parsed(slug, raw), context) for slug, raw in pages().items()}
    assert made_before == made_on_first_use
    assert vocabulary.vocabulary(checked.checks) is words and testimonial._words(checked.checks) is lists
    assert all(map(operator.is_, words.make_finders(), finders))
    rules.let_go()
    assert (
        vocabulary.vocabulary(checked.checks) is not words and testimonial._words(checked.checks) is not lists
    )
