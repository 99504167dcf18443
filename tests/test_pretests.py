"""The pre-tests of the rules that report only uncited sentences (evidence-uncited,
claim-uncited, and absolute-claim on professional pages): they look at the body's uncited
sentences first and stop when nothing the rule looks for can start there. A body they stop
must be one in which the rule, read sentence by sentence, finds nothing: the findings are the
same with and without them.
"""

from __future__ import annotations

import random
from datetime import date

import pytest

from reviewflow.checks.language import _absolute_in, _evidence_in, absolute_claim, evidence_uncited
from reviewflow.checks.prose_fields import prose_parts, uncited_text
from reviewflow.checks.sourcing import _claims_in, claim_uncited
from reviewflow.checks.vocabulary import vocabulary
from reviewflow.checks.workspace import Workspace
from reviewflow.cli.scaffold import init_repo
from tests.conftest import article_text

SENTENCES = [
    "Survival rate is 70%.", "It cures most people.", "Patients recover fast.", "Patients recovery is slow.",
    "This treatment improves survival.", "One in three people have it.", "In this study n = 31.", "n",
    "= 4 people.", "The hazard ratio was low.", "It is safe [1].", "About 300 people [2].", "A miracle cure.",
    "The second most common cancer.", "Ask your doctor.", "First-line therapy [1].", "Up to 40 percent [2].",
    "It helps (1).", "Really? Yes 5 of 10.", "Drug X is the standard of care.", "It was 10. People",
    "Care and body.", "Tests [1, 2].", "Treatment improves [3]. Rest", "It is ſafe.", "Two-fold risk [1].",
    "This drug improves survival. 1, 2", "The rate was 60%. 3",
]  # fmt: skip


def body(rng: random.Random) -> str:
    blocks = []
    for _ in range(rng.randint(1, 6)):
        prefix = rng.choice(["", "", "## ", "- "])
        blocks.append(prefix + " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(1, 4))))
    return "\n\n".join(blocks) + "\n"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("pretests") / "lib"
    init_repo(root)
    return Workspace.open(root)


@pytest.mark.parametrize("seed", range(3))
def test_the_rules_find_with_their_pretests_what_they_find_sentence_by_sentence(
    workspace: Workspace, seed: int
) -> None:
    rng = random.Random(seed)
    context = workspace.context(date(2026, 1, 1))
    words = vocabulary(context.config.checks)
    stopped = 0
    for _ in range(150):
        text = body(rng)
        for audience in ("patient", "professional"):
            raw = article_text(text, audience=audience).encode()
            doc = workspace.parse("articles/pretest.md", raw)
            article = doc.article
            assert article is not None
            parts = prose_parts(doc, article)
            evidence = [hit for prose in parts for hit in _evidence_in(doc, prose)]
            assert list(evidence_uncited(article, doc, context)) == evidence, text
            claims = [hit for prose in parts for hit in _claims_in(doc, prose, words)]
            assert list(claim_uncited(article, doc, context)) == claims, text
            professional = audience == "professional"
            absolute = [
                hit
                for prose in parts
                for hit in _absolute_in(doc, prose, words.absolute_finder.find(prose), professional)
            ]
            assert list(absolute_claim(article, doc, context)) == absolute, text
            stopped += not words.claims_finder.may_start_in(uncited_text(doc.prose), doc.prose)
    assert stopped > 20  # the pre-tests do stop bodies here, so the comparison means something


def test_uncited_text_is_the_sentences_without_a_citation() -> None:
    from reviewflow.content.prose import read_prose

    prose = read_prose("## Care\n\nIt works [1]. It helps. Really (2)\n\nAlso [3, 4]. End.\n", 1)
    assert uncited_text(prose) == "Care\nI\nIt helps. R\nEnd."
    assert uncited_text(prose, headings=False) == "It helps. R\nEnd."
