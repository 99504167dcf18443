"""The editorial rules: each fires on what a medical editor would send back, at its line and
column, and stays silent on the sentence next to it that the editor would let pass."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import article_text, write

Run = Callable[..., Result]
BODY_LINE = 19  # the first body line of article_text()
PARA = BODY_LINE + 2  # a second paragraph


@pytest.fixture
def repo(tmp_path: Path, run: Run) -> Path:
    run(tmp_path, "init", "lib")
    return tmp_path / "lib"


def check(run: Run, repo: Path, text: str) -> tuple[int, list[dict[str, object]]]:
    write(repo / "articles" / "subject.md", text)
    result = run(repo, "check", "articles/subject.md", "--format", "json")
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, list(json.loads(result.output)["findings"])


def found(run: Run, repo: Path, text: str, rule: str) -> list[tuple[int, int]]:
    return [(f["line"], f["column"]) for f in check(run, repo, text)[1] if f["rule"] == rule]  # type: ignore[misc]


def messages(run: Run, repo: Path, text: str, rule: str) -> list[str]:
    return [str(f["message"]) for f in check(run, repo, text)[1] if f["rule"] == rule]


def body(*paragraphs: str, audience: str = "patient", **kwargs: str) -> str:
    return article_text(
        "POEMS syndrome is rare [1].\n\n" + "\n\n".join(paragraphs) + "\n", audience=audience, **kwargs
    )


def set_checks(repo: Path, lines: str) -> None:
    """reviewflow.toml as `init` wrote it, with LINES at the start of [checks]."""
    config = repo / "reviewflow.toml"
    original = repo / ".reviewflow.toml.orig"
    if not original.exists():
        original.write_text(config.read_text())
    config.write_text(original.read_text().replace("[checks]\n", f"[checks]\n{lines}\n"))


# --- references-missing ----------------------------------------------------------------------


def test_an_article_without_references_fails_at_the_references_key(run: Run, repo: Path) -> None:
    code, findings = check(
        run,
        repo,
        article_text("POEMS syndrome is rare.\n", references=" []\n").replace(
            "references:\n []", "references: []"
        ),
    )
    assert code == 1
    assert [(f["rule"], f["severity"], f["line"], f["column"]) for f in findings] == [
        ("references-missing", "error", 10, 1)
    ]
    assert "no references; a patient article needs at least 1" in str(findings[0]["message"])


def test_min_references_per_audience(run: Run, repo: Path) -> None:
    set_checks(repo, "min_references = { professional = 2 }")
    assert found(run, repo, body(), "references-missing") == []  # patient: the default, 1
    hits = messages(run, repo, body(audience="professional"), "references-missing")
    assert hits == ["1 reference; a professional article needs at least 2 (checks.min_references): "
                    "cite the sources of what it says"]  # fmt: skip
    set_checks(repo, "min_references = 0")
    assert found(run, repo, article_text("Rare.\n", references=" []\n").replace("references:\n []", "references: []"),
                 "references-missing") == []  # fmt: skip


def test_min_references_out_of_range_is_a_config_error(run: Run, repo: Path) -> None:
    set_checks(repo, "min_references = { patient = -1 }")
    result = run(repo, "check")
    assert result.exit_code == 2
    assert "checks.min_references" in result.output


# --- claim-uncited ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        "Radiation is the treatment of choice for a single bone lesion.",
        "This drug improves nerve function within months.",
        "Lenalidomide is safe and works in most people.",
        "Early diagnosis is the strongest predictor of a good outcome.",
        "Honestly, LDN cured my fibro.",
        "The shingles vaccine reduces your chances of getting shingles.",
        "Researchers are studying antibodies that can target the cells without the toxicity of chemotherapy.",
        "Many patients achieve remission within a year.",
        "The symptoms often show remarkable improvement.",
    ],
)
def test_a_claim_about_a_treatment_needs_a_citation(run: Run, repo: Path, sentence: str) -> None:
    assert found(run, repo, body(f"Some text. {sentence}"), "claim-uncited") == [(PARA, 12)]
    assert found(run, repo, body(f"Some text. {sentence[:-1]} [1]."), "claim-uncited") == []


@pytest.mark.parametrize(
    "sentence",
    [
        "Rest and raise the leg to ease the swelling.",
        "Painkillers can relieve the pain.",
        "Blood tests often improve before the body does.",
        "There is no cure for POEMS syndrome.",
        "Doctors do not say that a person is cured.",
        "Will this treatment work for me?",
        "Researchers are testing whether the drug improves survival.",
        "Physical therapy helps you rebuild strength.",
        "The goal of treatment is to eliminate the abnormal cells.",
    ],
)
def test_advice_questions_and_negations_are_not_claims(run: Run, repo: Path, sentence: str) -> None:
    assert found(run, repo, body(sentence), "claim-uncited") == []


def test_a_paragraph_cited_at_its_end_cites_its_claims(run: Run, repo: Path) -> None:
    text = body("This drug improves nerve function. Most people take it for a year [1].")
    assert found(run, repo, text, "claim-uncited") == []


def test_claim_vocabulary_is_extended_in_the_config(run: Run, repo: Path) -> None:
    text = body("The cleanse rejuvenates your liver.")
    assert found(run, repo, text, "claim-uncited") == []
    set_checks(repo, '[checks.vocabulary]\neffects = ["rejuvenates"]\ntreatments = ["cleanse"]')
    assert found(run, repo, text, "claim-uncited") == [(PARA, 1)]


# --- evidence-uncited ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "number"),
    [
        ("It affects 1/330,000 people.", "1/330,000"),
        ("Men are affected more often (2.5:1).", "2.5:1"),
        ("In one series, n = 31 patients responded.", "n = 31"),
        ("Diabetes affects 23.6 million people.", "23.6 million"),
        ("It costs the country $245 billion a year.", "$245 billion"),
        ("It is the 7th leading cause of death.", "7th leading"),
        ("Remission lasts about 10–15 years.", "10–15 years"),
        ("Five-year survival is about 60 %.", "60 %"),
        ("Smokers are 3 times more likely to get it.", "3 times more"),
        ("About one in three people get it.", "one in three"),
        ("The survival rate exceeds 70-80%.", "70-80%"),
    ],
)
def test_every_form_of_a_number_as_evidence(run: Run, repo: Path, sentence: str, number: str) -> None:
    text = body(f"Some text. {sentence}", audience="professional")
    assert found(run, repo, text, "evidence-uncited") == [(PARA, 12)]
    assert number in messages(run, repo, text, "evidence-uncited")[0]
    assert (
        found(
            run, repo, body(f"Some text. {sentence[:-1]} [1].", audience="professional"), "evidence-uncited"
        )
        == []
    )


@pytest.mark.parametrize(
    "sentence",
    [
        "This is step 1 of 3.",
        "It was grade 2 of 4.",
        "Take 2 tablets of 500 mg twice a day.",
        "Take it for 5–7 days.",
        "Treatment takes place over 5 days.",
        "The clinic opened on 12/05/2023.",
        "Call 111 or see your GP.",
        "The 59 members of the forum share news.",
        "Blood pressure should be below 140/90.",
    ],
)
def test_steps_doses_instructions_and_dates_are_not_evidence(run: Run, repo: Path, sentence: str) -> None:
    assert found(run, repo, body(sentence, audience="professional"), "evidence-uncited") == []


def test_evidence_never_spans_a_paragraph_break(run: Run, repo: Path) -> None:
    text = body("Ask about the 5 year plan.", "The survival rate is good [1].", audience="professional")
    assert found(run, repo, text, "evidence-uncited") == []


# --- citation-bare ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paragraph", "column", "marker"),
    [
        ("Radiation improves survival. 1, 2", 30, "[1, 2]"),
        ("It is the preferred approach.1,2", 30, "[1, 2]"),
        ("Start ULT early. 1", 18, "[1]"),
        ("It can affect the kidneys (2).", 27, "[2]"),
    ],
)
def test_a_citation_written_as_a_plain_number(
    run: Run, repo: Path, paragraph: str, column: int, marker: str
) -> None:
    text = body(paragraph, audience="professional")
    code, findings = check(run, repo, text)
    bare = [f for f in findings if f["rule"] == "citation-bare"]
    assert [(f["line"], f["column"], f["severity"]) for f in bare] == [(PARA, column, "warning")]
    assert f"write it as {marker}" in str(bare[0]["message"])
    # Without a reference list the numbers point at nothing: an error.
    no_list = text.replace(text[text.index("references:\n") : text.index("---\n\n")], "references: []\n")
    code, findings = check(run, repo, no_list)
    assert code == 1
    assert [(f["line"], f["severity"]) for f in findings if f["rule"] == "citation-bare"] == [
        (PARA - 6, "error")
    ]


@pytest.mark.parametrize(
    "paragraph",
    [
        "Survival improved in 2019. 5 patients relapsed later [1].",
        "See figure (2) for the scheme [1].",
        "The options are (1) rest and (2) ice.",
        "Version 2.1 is current [1].",
        "Stage 4. 2 Treatments exist [1].",
    ],
)
def test_numbers_that_are_no_citation(run: Run, repo: Path, paragraph: str) -> None:
    assert found(run, repo, body(paragraph, audience="professional"), "citation-bare") == []


def test_a_bare_citation_is_one_finding_not_three(run: Run, repo: Path) -> None:
    # The sentence has a source, written the wrong way: citation-bare says how to fix it, and
    # evidence-uncited, claim-uncited and absolute-claim do not repeat it.
    text = body("Curative doses of 50 Gy improve survival in 97% of patients. 1, 2", audience="professional")
    assert [f["rule"] for f in check(run, repo, text)[1]] == ["citation-bare"]


def test_a_reference_cited_by_a_plain_number_is_not_also_never_cited(run: Run, repo: Path) -> None:
    second = """  - id: 2
    type: review
    title: "POEMS syndrome: 2023 update"
    source: "American Journal of Hematology"
    year: 2023
    doi: "10.1002/ajh.27081"
"""
    references = article_text().split("references:\n", 1)[1].split("---\n", 1)[0] + second
    cited_wrongly = body("Radiation improves survival. 2", audience="professional", references=references)
    rules = [f["rule"] for f in check(run, repo, cited_wrongly)[1]]
    assert rules == ["citation-bare"]
    never_cited = body("Radiation is one option.", audience="professional", references=references)
    assert found(run, repo, never_cited, "reference-uncited") == [(17, 5)]  # its "- id: 2"


# --- absolute-claim --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        "It is not expensive, and it is guaranteed to cure you.",
        "His gout has never returned, miracle juice!",
        "These are real breakthroughs.",
        "It cures the disease.",
        "Patients saw 100% improvement in neuropathy.",
    ],
)
def test_absolute_claims_by_clause_and_inflection(run: Run, repo: Path, sentence: str) -> None:
    assert found(run, repo, body(f"Some text. {sentence}"), "absolute-claim") == [(PARA, 12)]


@pytest.mark.parametrize(
    "sentence", ["Treatment is not a cure.", "A cure cannot be promised.", "Can POEMS syndrome be cured?"]
)
def test_negated_or_asked_claims_pass(run: Run, repo: Path, sentence: str) -> None:
    assert found(run, repo, body(sentence), "absolute-claim") == []


def test_a_cited_claim_word_on_a_professional_page_is_evidence(run: Run, repo: Path) -> None:
    cited = "Curative doses of 40–50 Gy are given to the lesion [1]."
    assert found(run, repo, body(cited, audience="professional"), "absolute-claim") == []
    assert found(run, repo, body(cited), "absolute-claim") == [
        (PARA, 1)
    ]  # a patient page still hears a promise
    assert found(run, repo, body(cited[:-5] + ".", audience="professional"), "absolute-claim") == [(PARA, 1)]


def test_absolute_words_are_extended_in_the_config(run: Run, repo: Path) -> None:
    set_checks(repo, '[checks.vocabulary]\nabsolute = ["wonder drug"]')
    assert found(run, repo, body("It is a wonder drug.", "It cures you."), "absolute-claim") == [
        (PARA, 1),
        (PARA + 2, 1),
    ]


# --- jargon ----------------------------------------------------------------------------------


def test_an_abbreviation_must_be_spelt_out_at_first_use(run: Run, repo: Path) -> None:
    text = body("High VEGF levels matter. VEGF is high.")
    assert found(run, repo, text, "jargon") == [(PARA, 6)]
    assert "abbreviation VEGF is not spelt out" in messages(run, repo, text, "jargon")[0]


@pytest.mark.parametrize(
    "paragraph",
    [
        "Vascular endothelial growth factor (VEGF) is high.",
        "VEGF (vascular endothelial growth factor) is high.",
        "A protein called VEGF is high.",
        "Doctors may use IVIG. IVIG is an antibody drip.",
        "See your GP for an MRI or a CT scan.",
        "Stage II disease is common.",
        "Do NOT stop the tablets.",
        "The name POEMS comes from five signs.",
        "## How VEGF works\n\nVascular endothelial growth factor (VEGF) is high.",
    ],
)
def test_explained_known_and_own_name_abbreviations_pass(run: Run, repo: Path, paragraph: str) -> None:
    assert found(run, repo, body(paragraph), "jargon") == []


def test_a_glossary_term_must_be_explained_where_first_used(run: Run, repo: Path) -> None:
    text = body("It is a paraneoplastic syndrome. Later paraneoplastic signs fade.")
    assert found(run, repo, text, "jargon") == [(PARA, 9)]
    assert "e.g. 'caused by substances a tumour makes'" in messages(run, repo, text, "jargon")[0]


@pytest.mark.parametrize(
    "paragraph",
    [
        "It is a paraneoplastic syndrome, meaning a tumour's substances cause it.",
        "It is a paraneoplastic syndrome—one caused by a tumour's substances.",
        "It causes papilledema (swelling at the back of the eye).",
        "It causes swelling at the back of the eye (papilledema).",
        "It causes hyperpigmentation, which means darker patches of skin.",
        "It causes polyneuropathy. This is damage to many nerves.",
        "It causes dyspnoea, or shortness of breath.",
    ],
)
def test_explained_terms_pass(run: Run, repo: Path, paragraph: str) -> None:
    assert found(run, repo, body(paragraph), "jargon") == []


def test_jargon_is_for_patient_pages_only(run: Run, repo: Path) -> None:
    assert found(run, repo, body("High VEGF causes papilledema.", audience="professional"), "jargon") == []


def test_glossary_and_allow_list_are_extended_in_the_config(run: Run, repo: Path) -> None:
    text = body("Your erythrocyte count and your ESR are checked.")
    assert found(run, repo, text, "jargon") == [(PARA, 33)]  # ESR
    set_checks(
        repo, '[checks.vocabulary]\nabbreviations = ["ESR"]\njargon = { erythrocyte = "red blood cell" }'
    )
    assert messages(run, repo, text, "jargon") == [
        "medical term 'erythrocyte' is not explained where it is first used: say what it means in plain words "
        "(e.g. 'red blood cell')"
    ]


# --- the title and the summary are prose -------------------------------------------------------


def summary_text(summary: str, paragraph: str = "Some text [1].", audience: str = "patient") -> str:
    return body(paragraph, audience=audience).replace('summary: "A short summary."', f'summary: "{summary}"')


def test_the_summary_is_read_at_its_line(run: Run, repo: Path) -> None:
    text = summary_text("This drug improves survival in 80% of people. It may cause papilledema.")
    findings = check(run, repo, text)[1]
    assert {(f["rule"], f["line"], f["column"]) for f in findings} == {
        ("claim-uncited", 3, 1),
        ("evidence-uncited", 3, 1),
        ("jargon", 3, 1),
    }


def test_the_title_is_read_at_its_line(run: Run, repo: Path) -> None:
    text = body().replace('title: "A test article"', 'title: "The miracle cure for POEMS"')
    assert found(run, repo, text, "absolute-claim") == [(2, 1)]


def test_the_summary_relies_on_a_body_sentence_that_cites_the_same_statement(run: Run, repo: Path) -> None:
    cited_body = "In trials, lenalidomide improves nerve function in 80% of people [1]."
    text = summary_text("Lenalidomide improves nerve function in 80% of people.", cited_body)
    assert check(run, repo, text)[1] == []
    # The body cites another statement: the summary's claim and number stand uncited.
    other = summary_text(
        "Lenalidomide improves nerve function in 80% of people.", "POEMS is rare, 1 in 100,000 [1]."
    )
    assert {f["rule"] for f in check(run, repo, other)[1]} == {"claim-uncited", "evidence-uncited"}


# --- readability -----------------------------------------------------------------------------


def test_readability_names_the_hardest_sentences(run: Run, repo: Path) -> None:
    hard = (
        "Polyneuropathy accompanied by organomegaly, endocrinopathy and monoclonal gammopathy constitutes "
        "a multisystem paraneoplastic syndrome necessitating multidisciplinary haematological evaluation [1]."
    )
    easy = "It can hurt your feet. It can change your skin. Your team will help you. They check your blood."
    set_checks(repo, 'rules = { jargon = "off" }')
    message = messages(run, repo, body(easy, hard), "readability")[0]
    assert message.endswith(
        "the hardest sentences: line 23 (grade 29: 'Polyneuropathy accompanied by organomegaly, endocrinopathy …')"
    )


# --- the vocabularies ------------------------------------------------------------------------


def test_the_word_finder_finds_what_the_regex_finds() -> None:
    """WordFinder's fast path (a text's set of words, then str.find) must find exactly what
    the plain regex over the whole text finds."""
    import random

    from reviewflow.checks.vocabulary import WordFinder
    from reviewflow.content.prose import Prose

    words = ("cure", "miracle", "first-line", "100% effective", "no side effects", "relieve", "safe")
    finder = WordFinder(words, inflect=True)
    pieces = [
        "cure", "cures", "Cured", "curing", "secure", "cure-all", "miracles", "MIRACLE", "first-line",
        "first line", "100% effective", "100 % effective", "no side effects", "relieved", "safely",
        "safe", " ", " ", ", ", ". ", "-", "x", "\n", "word",
    ]  # fmt: skip
    rng = random.Random(7)
    for _ in range(500):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        prose = Prose(text, [0], [(1, 0)])
        assert finder.find(prose) == [m.span() for m in finder.pattern.finditer(text)], repr(text)


def test_the_word_finder_never_rules_out_a_part_where_a_word_starts() -> None:
    """may_start_in is the pre-test of the rules that report only uncited sentences: for any
    part of a text between white space, it says yes wherever the regex finds an entry
    starting in that part (it may say yes where none does)."""
    import random

    from reviewflow.checks.vocabulary import WordFinder
    from reviewflow.content.prose import Prose

    words = ("cure", "miracle", "first-line", "100% effective", "no side effects", "high rates of", "safe")
    finder = WordFinder(words, inflect=True)
    pieces = [
        "cure", "cures", "Cured", "secure", "cure-all", "MIRACLE", "first-line", "first-lines", "100%",
        "100 % effective", "no side effects", "No side effect", "high rates of", "high rates offer", "safe",
        "safely", " ", " ", ", ", ". ", "-", "x", "\n", "word", "_", "of",
    ]  # fmt: skip
    rng = random.Random(11)
    said_no = 0
    for _ in range(800):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 14)))
        prose = Prose(text, [0], [(1, 0)])
        cuts = sorted({0, len(text), *(i for i in range(1, len(text)) if text[i - 1].isspace())})
        begin, end = sorted(rng.sample(cuts, 2)) if len(cuts) > 1 else (0, len(text))
        if not finder.may_start_in(text[begin:end], prose):
            said_no += 1
            assert not any(begin <= m.start() < end for m in finder.pattern.finditer(text)), (
                text,
                begin,
                end,
            )
    assert said_no > 100  # the test rules parts out, so it can fail


def test_the_shipped_vocabularies_load_and_are_extended(tmp_path: Path) -> None:
    from reviewflow.checks.vocabulary import shipped, vocabulary
    from reviewflow.config import Checks

    assert len(shipped("jargon")["swap"]) >= 250
    assert all(shipped(name)["source"] == "project editors" for name in ("claims", "jargon", "absolute"))
    extended = vocabulary(
        Checks.model_validate({"vocabulary": {"jargon": {"Erythrocyte": "red blood cell"}}})
    )
    assert extended.jargon["erythrocyte"] == "red blood cell"
    assert "paraneoplastic" in extended.jargon
    assert "erythrocyte" not in vocabulary(Checks()).jargon


def test_a_heading_names_a_topic_and_claims_nothing(run: Run, repo: Path) -> None:
    text = body("## Treatment and benefit", "Most people feel better [1].")
    assert found(run, repo, text, "claim-uncited") == []
    # A strong claim is one in a heading too.
    assert found(run, repo, body("## The treatment of choice", "See below [1]."), "claim-uncited") == [
        (PARA, 4)
    ]


def test_the_articles_own_condition_is_never_jargon(run: Run, repo: Path) -> None:
    text = body("Anemia makes you tired [1].", "Hypothyroidism slows you down [1].").replace(
        "condition: POEMS syndrome", "condition: Anemia"
    )
    assert found(run, repo, text, "jargon") == [(PARA + 2, 1)]  # hypothyroidism; anemia is the topic
