"""The editorial corpus: pages a medical editor would send back or pass, with the findings the
editor expects written beside each page, and `check` measured against them (issue 18).

The whole corpus is checked in one `reviewflow check --format json` run; see
tests/editorial_table.py for how findings are matched and counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.editorial_table import (
    CORPUS,
    VERDICTS,
    Finding,
    Page,
    Score,
    check_corpus,
    explain,
    failing_rules,
    load_corpus,
    markdown_table,
    score,
)

PATIENT_SEEDS = (
    "seed-poems-can-it-be-cured",
    "seed-poems-first-line-treatment",
    "seed-poems-prognosis",
    "seed-poems-research-directions",
)
PROFESSIONAL_SEED = "seed-poems-treatment-professional"
# The rule ids an expectation may name: issue 18's, and the existing ones the corpus exercises.
KNOWN_RULES = {
    "references-missing", "claim-uncited", "evidence-uncited", "citation-bare", "citation-malformed",
    "citation-unknown", "jargon", "disclosure-missing", "date-future", "absolute-claim", "readability",
    "reference-uncited", "raw-html", "body-disclaimer", "reference-no-identifier", "schema", "testimonial",
}  # fmt: skip


@pytest.fixture(scope="module")
def corpus() -> list[Page]:
    return load_corpus()


@pytest.fixture(scope="module")
def findings(
    corpus: list[Page], tmp_path_factory: pytest.TempPathFactory, shared_cache: Path
) -> Iterator[list[Finding]]:
    """The corpus checked once, in a content repo made like every test's (conftest's
    isolation, set up here because this fixture outlives one test)."""
    home = tmp_path_factory.mktemp("corpus-home")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(shared_cache),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Alice Author",
            "GIT_AUTHOR_EMAIL": "alice@authors.example",
            "GIT_COMMITTER_NAME": "Alice Author",
            "GIT_COMMITTER_EMAIL": "alice@authors.example",
        }.items():
            patch.setenv(name, value)
        for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_CONFIG_GLOBAL", "NO_COLOR"):
            patch.delenv(name, raising=False)
        _, found = check_corpus(corpus, tmp_path_factory.mktemp("editorial"))
        yield found


def of(findings: list[Finding], page: str, rule: str | None = None) -> list[Finding]:
    return [f for f in findings if f.page == page and rule in (None, f.rule)]


# --- the corpus itself ---------------------------------------------------------------------------


def test_every_page_has_its_expectations_and_a_verdict(corpus: list[Page]) -> None:
    pages = {p.stem for p in CORPUS.glob("*.md")}
    sidecars = {p.name.removesuffix(".expected.toml") for p in CORPUS.glob("*.expected.toml")}
    assert pages == sidecars
    assert {p.verdict for p in corpus} <= set(VERDICTS)
    assert len([p for p in corpus if not p.slug.startswith("seed-")]) >= 20
    assert {p.slug for p in corpus} >= {*PATIENT_SEEDS, PROFESSIONAL_SEED}
    assert {p.verdict for p in corpus} == set(VERDICTS)
    for page in corpus:
        assert page.verdict == "pass" or page.expect, f"{page.slug}: sent back, but for nothing"
        assert page.verdict == "send back" or not page.expect, f"{page.slug}: passes with findings"


def test_every_expectation_points_at_its_text(corpus: list[Page]) -> None:
    """The sidecars stay honest when a page is edited: each judged line still says what the
    editor judged (the quote is on that line, at that column when one is given)."""
    for page in corpus:
        lines = page.text.split("\n")
        for mark in page.expect + page.must_not_flag + page.acceptable:
            where = f"{page.slug}.md:{mark.line}: {mark.rule}"
            assert mark.rule in KNOWN_RULES, where
            assert mark.why, f"{where}: say why"
            text = lines[mark.line - 1]
            assert mark.quote in text, f"{where}: {mark.quote!r} is not on this line"
            if mark.column is not None:
                assert text[mark.column - 1 :].startswith(mark.quote), f"{where}: not at column {mark.column}"
        for defended in page.must_not_flag:
            contradicted = [m for m in page.expect if (m.rule, m.line) == (defended.rule, defended.line)]
            assert all(None not in (m.column, defended.column) for m in contradicted), (
                f"{page.slug}.md:{defended.line}: {defended.rule} is both expected and defended"
            )


# --- check measured against the editor ------------------------------------------------------------


def test_precision_and_recall_per_rule(corpus: list[Page], findings: list[Finding]) -> None:
    scores = score(corpus, findings)
    table = markdown_table(scores)
    print("\n" + table)
    below = failing_rules(scores)
    assert not below, (
        f"below precision 90 % or recall 80 %: {', '.join(below)}\n{table}\n{explain(scores, below)}"
    )


def test_a_page_the_editor_sends_back_never_passes_silently(
    corpus: list[Page], findings: list[Finding]
) -> None:
    """Each such page fails `check` (an error) or has warnings that approval must acknowledge."""
    silent = [p.slug for p in corpus if p.verdict == "send back" and not of(findings, p.slug)]
    assert not silent, f"pages the editor would send back pass with no finding: {silent}"


def test_a_page_the_editor_passes_has_no_findings(corpus: list[Page], findings: list[Finding]) -> None:
    flagged = [
        f"{f.page}.md:{f.line}:{f.column}: {f.rule} {f.message}"
        for p in corpus
        if p.verdict == "pass"
        for f in of(findings, p.slug)
    ]
    assert not flagged, "\n".join(flagged)


# --- the golden claims of issue 18 on the seed pages -----------------------------------------------


def _lines_differ(page: Page, findings: list[Finding], rule: str) -> tuple[list[int], list[int]]:
    """(expected lines with no finding, lines with a finding nobody expected) for one rule."""
    scores: dict[str, Score] = score([page], of(findings, page.slug, rule))
    entry = scores.get(rule, Score(rule))
    return sorted(m.line for m in entry.misses), sorted(f.line for f in entry.false_alarms)


@pytest.mark.parametrize("slug", PATIENT_SEEDS)
def test_patient_seed_page_fails_with_the_findings_an_editor_marks(
    slug: str, corpus: list[Page], findings: list[Finding]
) -> None:
    page = next(p for p in corpus if p.slug == slug)
    errors = {f.rule for f in of(findings, slug) if f.severity == "error"}
    assert {"references-missing", "disclosure-missing"} <= errors, (
        f"{slug} must fail check with references-missing and disclosure-missing; its errors: {sorted(errors)}"
    )
    for rule in ("references-missing", "claim-uncited", "jargon", "disclosure-missing"):
        missed, unexpected = _lines_differ(page, findings, rule)
        assert (missed, unexpected) == ([], []), (
            f"{slug}: {rule}: missed lines {missed}, unexpected {unexpected}"
        )


def test_professional_seed_page_bare_numbers_and_its_cited_curative_doses(
    corpus: list[Page], findings: list[Finding]
) -> None:
    page = next(p for p in corpus if p.slug == PROFESSIONAL_SEED)
    missed, unexpected = _lines_differ(page, findings, "citation-bare")
    assert (missed, unexpected) == ([], []), f"citation-bare: missed lines {missed}, unexpected {unexpected}"
    curative = next(i for i, line in enumerate(page.text.split("\n"), 1) if "Curative doses" in line)
    assert [f for f in of(findings, PROFESSIONAL_SEED, "absolute-claim") if f.line == curative] == []
