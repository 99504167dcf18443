"""The testimonial rule: a person's outcome story, a generalisation from stories, before-and-after
pictures and endorsements offered as evidence that a treatment works, at the line and column of
the sentence; and the lived experience, case reports and hedged observations next to them that
an editor lets pass."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import article_text
from tests.test_editorial_rules import PARA, body, check, found, messages, set_checks

Run = Callable[..., Result]
RULE = "testimonial"


def selling(text: str) -> str:
    """TEXT with its author declaring a commercial interest: a story there sells."""
    return text.replace(
        'competing_interests: "none"', 'competing_interests: "Sells the product described here."'
    )


@pytest.fixture
def repo(tmp_path: Path, run: Run) -> Path:
    run(tmp_path, "init", "lib")
    return tmp_path / "lib"


@pytest.mark.parametrize(
    "sentence",
    [
        # a person's outcome, and what brought it about
        "After two weeks of JointGold my pain was gone.",
        "I haven't had a flare since I started taking it.",
        "I haven’t had a flare since I started taking it.",  # a typographic apostrophe
        "My gout has never come back since I started taking the capsules.",
        "Since my first session I have been pain-free.",
        "Sarah's scan was clear after three sessions.",
        "Within a month on the plan, Tom’s migraines had vanished.",
        "Within six weeks of the programme, she was pain-free.",
        "Our patients are pain-free within two weeks of the programme.",
        '"After two months I no longer need my painkillers," says Helen.',
        # told outcomes, which carry their teller and cause
        "Honestly, LDN cured my fibro.",
        "Going keto got me off my diabetes tablets.",
        "This is how I reversed my diabetes.",
        # social proof and before-and-after
        "It can do the same for you.",
        "Thousands of customers can’t be wrong.",
        "Results you can feel, or your money back.",
        "Join thousands of happy customers today.",
        "Our before-and-after photos show what it can do.",
        # an endorsement as evidence, citing nothing
        "FlexiCollagen is doctor-recommended.",
        "The cream is recommended by doctors across the country.",
    ],
)
def test_a_testimonial_is_an_error_on_a_patient_page_at_its_sentence(
    run: Run, repo: Path, sentence: str
) -> None:
    code, findings = check(run, repo, selling(body(f"Some text. {sentence}")))
    assert [(f["rule"], f["severity"], f["line"], f["column"]) for f in findings if f["rule"] == RULE] == [
        (RULE, "error", PARA, 12)
    ]
    assert code == 1


@pytest.mark.parametrize(
    "sentence",
    [
        # lived experience: feelings and practicalities
        '"The tiredness was the hardest part. Some days I could not get out of bed," says Anna.',
        "Talking to other people with POEMS made me feel less alone.",
        "My tingling has not gone away, but I have learned to live with it.",
        "Pacing my day helped me most.",
        "Since I started pacing my day, the bad days have gone.",
        "I keep a notebook of questions for my check-ups.",
        # reported questions and hedged observations
        "Patients often ask whether the tiredness will ever go away.",
        "Some people find that a support group helps them feel less alone.",
        "Will my pain be gone after the injection?",
        # no person tells it, or it is an instruction
        "The rash was gone after a week of cream.",
        "If your rash has not gone after a week of cream, see your GP.",
        "Crohn's symptoms disappeared after surgery in some patients.",
        "It's gone after a few days in most people.",
        "Wash your hands before and after touching the wound.",
        "We will check your blood pressure after 2 weeks of treatment to see if it has gone back to normal.",
        "I will stop the cream after a week of treatment if my rash has cleared up.",
        "Doctors recommend the vaccine for adults over 70.",
        # an outcome with no cause told
        "Some days the tiredness is gone by lunchtime and I can do the shopping.",
    ],
)
def test_lived_experience_and_observations_are_not_testimonials(run: Run, repo: Path, sentence: str) -> None:
    assert found(run, repo, selling(body(sentence)), RULE) == []


def test_a_story_told_by_authors_who_sell_nothing_is_lived_experience(run: Run, repo: Path) -> None:
    """Every author declares no competing interest and there is no sponsor: a person telling
    what happened to them is not flagged; a told cure, or stories offered as proof, still are."""
    story = "My blood tests came back to normal after the transplant."
    assert found(run, repo, body(story), RULE) == []
    assert found(run, repo, selling(body(story)), RULE) == [(PARA, 1)]
    sponsored = body(story).replace("references:\n", 'sponsor: "Gummies Ltd"\nreferences:\n')
    assert found(run, repo, sponsored, RULE) == [(PARA + 1, 1)]  # one line more: the sponsor
    assert found(run, repo, body("Honestly, LDN cured my fibro.", "It can do the same for you."), RULE) == [
        (PARA, 1),
        (PARA + 2, 1),
    ]


def test_a_citation_does_not_make_a_story_evidence(run: Run, repo: Path) -> None:
    """One person's course is no evidence that the treatment caused it, cited or not; an
    endorsement with its source is a statement of who recommends it."""
    cited = selling(body("After two weeks of JointGold my pain was gone [1]."))
    assert found(run, repo, cited, RULE) == [(PARA, 1)]
    assert found(run, repo, body("It is doctor-recommended [1]."), RULE) == []


def test_a_case_report_on_a_professional_page_is_not_a_testimonial(run: Run, repo: Path) -> None:
    """Even where the author declares an interest (so stories would count): a cited sentence is
    the case's source, and "he", "his" and "we" tell no testimonial on a professional page."""
    case = selling(
        body(
            "A 54-year-old man presented with a sensorimotor neuropathy [1].",
            "Six months after starting lenalidomide, his serum VEGF was back to normal [1].",
            "We saw his neuropathy improve after three months of treatment, and his VEGF was back to normal [1].",
            "A year after the transplant, his VEGF was back to normal.",
            "In my own patient, the ascites had gone after three months of lenalidomide [1].",
            audience="professional",
        )
    )
    assert found(run, repo, case, RULE) == []


def test_on_a_professional_page_a_story_is_a_warning_and_we_is_the_authors(run: Run, repo: Path) -> None:
    story = selling(body("After two weeks of the supplement my pain was gone.", audience="professional"))
    code, findings = check(run, repo, story)
    assert [(f["severity"], f["line"], f["column"]) for f in findings if f["rule"] == RULE] == [
        ("warning", PARA, 1)
    ]
    assert code == 0
    ours = selling(body("We find that patients are pain-free after three sessions.", audience="professional"))
    assert found(run, repo, ours, RULE) == []


def test_the_title_and_summary_are_read_at_their_lines(run: Run, repo: Path) -> None:
    text = article_text(title="How I healed my gut in 30 days").replace(
        'summary: "A short summary."', 'summary: "It worked for me, and it can work for you too."'
    )
    assert found(run, repo, text, RULE) == [(2, 1), (3, 1)]


def test_the_message_names_the_phrase_and_the_fix(run: Run, repo: Path) -> None:
    story, endorsement = messages(
        run,
        repo,
        selling(body("After two weeks of JointGold my pain was gone.", "It is doctor-recommended.")),
        RULE,
    )
    assert story.startswith("testimonial ('was gone'): a personal story told as evidence")
    assert "a story is not evidence, even with a citation" in story
    assert endorsement.startswith("endorsement as evidence ('doctor-recommended') with no source")


def test_the_vocabulary_is_extended_in_the_config(run: Run, repo: Path) -> None:
    text = selling(body("Since I started the drops I feel reborn.", "Ten thousand mums agree."))
    assert found(run, repo, text, RULE) == []
    set_checks(repo, '[checks.vocabulary]\noutcomes = ["feel reborn"]\nsocial_proof = ["mums agree"]')
    assert found(run, repo, text, RULE) == [(PARA, 1), (PARA + 2, 1)]


def test_severity_is_configured_per_audience(run: Run, repo: Path) -> None:
    set_checks(repo, 'rules = { testimonial = { patient = "warning" } }')
    code, findings = check(run, repo, body("It can do the same for you."))
    assert [(f["rule"], f["severity"]) for f in findings] == [(RULE, "warning")]
    assert code == 0
    set_checks(repo, 'rules = { testimonial = "off" }')
    assert found(run, repo, body("It can do the same for you."), RULE) == []


def test_json_output_carries_the_rule_id(run: Run, repo: Path) -> None:
    (repo / "articles" / "subject.md").write_text(body("It can do the same for you."))
    result = run(repo, "check", "--format", "json")
    assert result.exit_code == 1
    rules = [f["rule"] for f in json.loads(result.output)["findings"]]
    assert rules == [RULE]
