"""The gate: no warning reaches readers unseen. `approve` lists a text's warnings and records what
the reviewer acknowledged; `verify` and `ci` refuse an approval that does not cover them; an
author marks one finding as intended, with a reason. Real git repositories throughout."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from reviewflow.errors import Refused
from reviewflow.repo import ContentRepo
from tests.conftest import git, write
from tests.gitrepo import ALICE, RITA, act_as, as_json, head, ok, refused

Run = Callable[..., Result]
SLUG = "miracle-claims"
PATH = f"articles/{SLUG}.md"
# Two warnings: reference-old on line 15 (the year), absolute-claim on line 21 ("miracle").
ARTICLE = """---
title: "A test article"
summary: "A short summary."
audience: patient
condition: POEMS syndrome
authors:
  - {{name: "Alice Author", email: "alice@authors.example",
     competing_interests: "none"}}
disclaimer: patient
references:
  - id: 1
    type: review
    title: "Update on the POEMS syndrome"
    source: "Blood Research"
    year: 2005
    doi: "10.5045/br.2022.2022001"
{intended}---

POEMS syndrome is rare [1].

This miracle treatment helps some people [1].
"""
OLD = "reference-old 15:11"
CLAIM = "absolute-claim 21:1"


def article(intended: str = "") -> str:
    return ARTICLE.format(intended=intended)


def under_review(repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch, text: str) -> Path:
    """TEXT as the article, committed, submitted by Alice and under review by Rita (acting next)."""
    write(repo / PATH, text)
    git(repo, "add", PATH)
    git(repo, "commit", "-q", "-m", "An article with warnings")
    act_as(monkeypatch, ALICE)
    ok(run(repo, "submit", SLUG))
    act_as(monkeypatch, RITA)
    ok(run(repo, "review", SLUG))
    return repo


@pytest.fixture
def reviewing(content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The article with two warnings, under review."""
    return under_review(content_repo, run, monkeypatch, article())


def trailers(repo: Path, rev: str = "HEAD") -> list[str]:
    block = git(repo, "log", "-1", "--format=%(trailers:only,unfold)", rev)
    return [line for line in block.splitlines() if line.startswith("Reviewflow-Accept: ")]


def forge_approval(repo: Path, accepted: list[str], slug: str = SLUG) -> str:
    """An approval made by hand with plain git, with these Reviewflow-Accept values."""
    content = git(repo, "rev-parse", f"HEAD:articles/{slug}.md").strip()
    text = f"reviewflow: approve {slug}\n\nReviewflow-Article: {slug}\nReviewflow-Action: approve\n"
    text += f"Reviewflow-Content: {content}\n" + "".join(f"Reviewflow-Accept: {a}\n" for a in accepted)
    git(repo, "commit", "-q", "--allow-empty", "-m", text)
    return head(repo)


def acknowledged_values(repo: Path, run: Run) -> list[str]:
    """What a real `approve --accept-warnings` records for the article, its commit undone."""
    ok(run(repo, "approve", SLUG, "--accept-warnings"))
    values = [line.removeprefix("Reviewflow-Accept: ") for line in trailers(repo)]
    git(repo, "reset", "-q", "--hard", "HEAD~1")
    return values


# --- approve ------------------------------------------------------------------------------------


def test_approve_lists_the_warnings_and_is_refused_without_acknowledgement(reviewing: Path, run: Run) -> None:
    before = head(reviewing)
    output = refused(run(reviewing, "approve", SLUG), OLD, CLAIM, "older than 10 years", "'miracle'")
    last = output.strip().splitlines()[-1]
    assert "2 warning(s) listed above are not acknowledged" in last
    assert "--accept-warnings" in last and "--accept reference-old --accept absolute-claim" in last
    assert head(reviewing) == before  # nothing recorded
    (entry,) = as_json(run(reviewing, "status", SLUG, "--format", "json"))
    assert entry["state"] == "under-review"


def test_accept_warnings_approves_and_records_each_warning(reviewing: Path, run: Run) -> None:
    result = ok(run(reviewing, "approve", SLUG, "--accept-warnings", "-m", "Sources checked"))
    assert "now approved" in result.output
    assert "Acknowledged 2 warnings" in result.output and OLD in result.output and CLAIM in result.output
    recorded = trailers(reviewing)
    assert [line.rsplit(" ", 1)[0] for line in recorded] == [
        f"Reviewflow-Accept: {OLD}",
        f"Reviewflow-Accept: {CLAIM}",
    ]
    assert all(len(line.rsplit(" ", 1)[1]) == 8 for line in recorded)  # the short hash of the line
    ok(run(reviewing, "verify"))


def test_accept_per_rule_must_cover_every_rule(reviewing: Path, run: Run) -> None:
    output = refused(run(reviewing, "approve", SLUG, "--accept", "absolute-claim"), "1 warning(s)")
    assert "--accept reference-old" in output.strip().splitlines()[-1]
    assert "--accept absolute-claim" not in output.strip().splitlines()[-1]
    ok(run(reviewing, "approve", SLUG, "--accept", "absolute-claim", "--accept", "reference-old"))
    assert len(trailers(reviewing)) == 2


def test_accept_of_an_unknown_rule_is_a_usage_error(reviewing: Path, run: Run) -> None:
    result = run(reviewing, "approve", SLUG, "--accept", "absolute-claims")
    assert result.exit_code == 2
    assert "--accept absolute-claims: no rule has that id" in result.output


def test_a_text_without_warnings_is_approved_with_no_acceptance(content_repo: Path, run: Run,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    act_as(monkeypatch, ALICE)
    ok(run(content_repo, "submit", "what-is-poems-syndrome"))
    act_as(monkeypatch, RITA)
    ok(run(content_repo, "review", "what-is-poems-syndrome"))
    result = ok(run(content_repo, "approve", "what-is-poems-syndrome"))
    assert "Acknowledged" not in result.output
    assert trailers(content_repo) == []


def test_errors_still_refuse_approval(reviewing: Path, run: Run) -> None:
    config = reviewing / "reviewflow.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + '\n[checks.rules]\nabsolute-claim = "error"\n', encoding="utf-8"
    )
    git(reviewing, "commit", "-q", "-am", "Absolute claims are errors")
    output = refused(run(reviewing, "approve", SLUG, "--accept-warnings"), CLAIM)
    assert "fails `reviewflow check articles/miracle-claims.md` with 1 error(s)" in output


def test_the_library_refuses_as_the_cli_does(reviewing: Path) -> None:
    repo = ContentRepo.open(reviewing)
    with pytest.raises(Refused, match="1 warning\\(s\\) listed above are not acknowledged"):
        repo.approve(SLUG, accept=["reference-old"])
    result = repo.approve(SLUG, accept=["reference-old", "absolute-claim"])
    assert [item.split(" ", 2)[:2] for item in result.acknowledged] == [
        ["reference-old", "15:11"],
        ["absolute-claim", "21:1"],
    ]


# --- verify and ci ------------------------------------------------------------------------------


def test_verify_refuses_a_forged_approval_that_does_not_cover(reviewing: Path, run: Run) -> None:
    old, claim = acknowledged_values(reviewing, run)
    commit = forge_approval(reviewing, [old])  # the absolute claim is not acknowledged
    result = run(reviewing, "verify")
    assert result.exit_code == 1, result.output
    assert f"unacknowledged commit {commit[:12]}" in result.output
    assert "does not acknowledge 1 warning(s)" in result.output and CLAIM in result.output
    payload = as_json(run(reviewing, "verify", "--format", "json"))
    assert payload["valid"] is False
    assert [(w["rule"], w["line"], w["column"]) for w in payload["unacknowledged"][0]["warnings"]] == [
        ("absolute-claim", 21, 1)
    ]
    assert run(reviewing, "verify", "--no-cache").exit_code == 1


def test_texts_checked_by_workers_are_judged_the_same(
    reviewing: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fresh clone's `verify` checks every approved text over forked workers; what they send
    # back (the warnings and their lines) judges the forged approval as the sequential path does.
    from reviewflow.review import acknowledge

    old, claim = acknowledged_values(reviewing, run)
    forge_approval(reviewing, [old])
    forge_approval(reviewing, [old, claim])
    monkeypatch.setattr(acknowledge, "PARALLEL_TEXTS", 1)
    result = run(reviewing, "verify", "--no-cache", "--format", "json")
    assert result.exit_code == 1, result.output
    [refused] = as_json(result)["unacknowledged"]
    assert [(w["rule"], w["line"], w["column"]) for w in refused["warnings"]] == [("absolute-claim", 21, 1)]


def test_verify_accepts_a_hand_made_approval_whose_trailers_cover(reviewing: Path, run: Run) -> None:
    forge_approval(reviewing, acknowledged_values(reviewing, run))
    ok(run(reviewing, "verify"))


def test_verify_refuses_an_acknowledgement_of_another_line(reviewing: Path, run: Run) -> None:
    old, claim = acknowledged_values(reviewing, run)
    forge_approval(reviewing, [old, claim.replace("21:1", "23:1"), "not an acknowledgement"])
    result = run(reviewing, "verify")
    assert result.exit_code == 1
    assert (
        CLAIM in result.output
        and "unreadable Reviewflow-Accept trailers: 'not an acknowledgement'" in result.output
    )


def test_legacy_approvals_are_not_asked_for_acknowledgements(reviewing: Path, run: Run) -> None:
    commit = forge_approval(reviewing, [])  # as reviewflow wrote approvals before the gate
    assert run(reviewing, "verify").exit_code == 1
    config = reviewing / "reviewflow.toml"
    text = config.read_text(encoding="utf-8").replace(
        "[policy]\n", f'[policy]\nlegacy_approvals = "{commit}"\n'
    )
    config.write_text(text, encoding="utf-8")
    git(reviewing, "commit", "-q", "-am", "Approvals up to here were made before acknowledgements")
    ok(run(reviewing, "verify"))


def test_ci_refuses_a_forged_approval_on_a_branch(reviewing: Path, run: Run) -> None:
    git(reviewing, "switch", "-q", "-c", "approve-it")
    forge_approval(reviewing, [])
    result = run(reviewing, "ci", "--base", "main", "--format", "json")
    assert result.exit_code == 1, result.output
    findings = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "approval-unacknowledged"]
    assert len(findings) == 1 and findings[0]["path"] == PATH
    assert "does not acknowledge 2 warning(s)" in findings[0]["message"]


def test_ci_passes_an_approval_that_acknowledges(reviewing: Path, run: Run) -> None:
    git(reviewing, "switch", "-q", "-c", "approve-it")
    ok(run(reviewing, "approve", SLUG, "--accept-warnings"))
    result = run(reviewing, "ci", "--base", "main")
    assert result.exit_code == 0, result.output
    assert "approval-unacknowledged" not in result.output


def test_ci_judges_acknowledgements_by_the_bases_rules(reviewing: Path, run: Run) -> None:
    # The branch switches reference-old off and approves acknowledging only the claim: the base
    # still warns about the old reference, so the approval does not cover its text.
    git(reviewing, "switch", "-q", "-c", "lax")
    config = reviewing / "reviewflow.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + '\n[checks.rules]\nreference-old = "off"\n', encoding="utf-8"
    )
    git(reviewing, "commit", "-q", "-am", "No more reference-old")
    ok(run(reviewing, "approve", SLUG, "--accept", "absolute-claim"))
    ok(run(reviewing, "verify"))  # under the configuration committed with it, it covers
    result = run(reviewing, "ci", "--base", "main")
    assert result.exit_code == 1, result.output
    assert "approval-unacknowledged" in result.output and OLD in result.output


# --- history and status -------------------------------------------------------------------------


def test_history_and_status_show_what_was_acknowledged(reviewing: Path, run: Run) -> None:
    ok(run(reviewing, "approve", SLUG, "--accept-warnings"))
    text = ok(run(reviewing, "history", SLUG)).output
    assert f"acknowledged 2 warnings: {OLD} " in text and f", {CLAIM} " in text
    events = as_json(run(reviewing, "history", SLUG, "--format", "json"))
    assert [e["action"] for e in events] == ["submit", "review", "approve"]
    assert events[0]["acknowledged"] == []
    assert [a.rsplit(" ", 1)[0] for a in events[2]["acknowledged"]] == [OLD, CLAIM]
    (entry,) = as_json(run(reviewing, "status", SLUG, "--format", "json"))
    (approval,) = entry["approved_acknowledgements"]
    assert approval["approver"] == RITA[1] and approval["acknowledged"] == events[2]["acknowledged"]


# --- intended findings --------------------------------------------------------------------------

INTENDED = """intended:
  - rule: absolute-claim
    text: "Miracle treatment"
    reason: "quoted from an advert, to warn readers"
"""


def test_the_board_page_lists_each_approval_and_what_it_acknowledged(
    reviewing: Path, run: Run, tmp_path: Path
) -> None:
    from tests.browser.html import read

    ok(run(reviewing, "approve", SLUG, "--accept-warnings"))
    ok(run(reviewing, "publish", "--out", str(tmp_path / "site")))
    members = {
        m.with_class("member-name")[0].words: m
        for m in read(tmp_path / "site/board/index.html").with_class("member")
    }
    approved = members["Dr. Rita Reviewer"].with_class("member-approved")[0]
    assert approved.find("summary").words == "Approved the published text of 1 article"
    [item] = approved.find("ul").find_all("li")
    assert item.words.startswith("A test article, reviewed ")  # the approval's date, in words
    assert item.words.endswith(" (acknowledged 2 check warnings when approving)")
    assert item.find("a").attrs["href"] == f"../articles/{SLUG}/index.html"
    assert [
        m.with_class("member-approved") for name, m in members.items() if name != "Dr. Rita Reviewer"
    ] == [[]]


def test_an_intended_mark_shows_the_finding_with_its_reason_and_does_not_fail(
    content_repo: Path, run: Run
) -> None:
    write(content_repo / PATH, article(INTENDED).replace("year: 2005", "year: 2022"))
    result = run(content_repo, "check", "--strict", PATH)
    assert result.exit_code == 0, result.output
    assert (
        f"{PATH}:25:1: warning absolute-claim absolute or promotional claim 'miracle': qualify it or cite "
        "the evidence (intended by the author: quoted from an advert, to warn readers)"
    ) in result.output
    assert "0 warnings, 1 marked intended (ok)" in result.output
    payload = as_json(run(content_repo, "check", "--format", "json", PATH))
    assert payload["findings"][0]["intended"] == "quoted from an advert, to warn readers"
    assert payload["summary"]["warnings"] == 0 and payload["summary"]["intended"] == 1


def test_without_the_mark_the_same_finding_fails_strict(content_repo: Path, run: Run) -> None:
    write(content_repo / PATH, article().replace("year: 2005", "year: 2022"))
    result = run(content_repo, "check", "--strict", PATH)
    assert result.exit_code == 1
    assert f"{PATH}:21:1: warning absolute-claim" in result.output and "intended" not in result.output


def test_a_stale_mark_is_a_warning_at_its_line(content_repo: Path, run: Run) -> None:
    write(content_repo / PATH, article(INTENDED.replace("Miracle treatment", "wonder drug")))
    result = run(content_repo, "check", PATH)
    assert (
        f"{PATH}:18:5: warning intended-stale intended mark for absolute-claim 'wonder drug'" in result.output
    )
    assert f"{PATH}:25:1: warning absolute-claim" in result.output  # still a warning: not covered


def test_a_mark_covers_one_finding_only(content_repo: Path, run: Run) -> None:
    text = article(INTENDED).replace("some people [1].", "some people [1].\n\nA miracle, they say [1].")
    write(content_repo / PATH, text)
    payload = as_json(run(content_repo, "check", "--format", "json", PATH))
    claims = [(f["line"], f.get("intended")) for f in payload["findings"] if f["rule"] == "absolute-claim"]
    assert claims == [(25, "quoted from an advert, to warn readers"), (27, None)]


def test_a_mark_cannot_waive_an_error(content_repo: Path, run: Run) -> None:
    config = content_repo / "reviewflow.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + '\n[checks.rules]\nabsolute-claim = "error"\n', encoding="utf-8"
    )
    write(content_repo / PATH, article(INTENDED))
    result = run(content_repo, "check", PATH)
    assert result.exit_code == 1
    assert f"{PATH}:25:1: error absolute-claim" in result.output and "intended-stale" in result.output


def test_approve_lists_intended_findings_without_asking_to_acknowledge_them(
    content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    under_review(content_repo, run, monkeypatch, article(INTENDED))
    output = refused(
        run(content_repo, "approve", SLUG), "1 warning(s) listed above", "--accept reference-old"
    )
    assert "absolute-claim 25:1" in output and "intended by the author: quoted from an advert" in output
    result = ok(run(content_repo, "approve", SLUG, "--accept", "reference-old"))
    assert "Marked intended by the author:" in result.output
    assert [line.split(" ")[1] for line in trailers(content_repo)] == ["reference-old"]
    ok(run(content_repo, "verify"))


def test_a_kept_verdict_never_covers_an_approval_it_was_not_made_for(reviewing: Path, run: Run) -> None:
    # A run that judged a covering approval keeps that verdict in .git/reviewflow/; a forged
    # line claiming the same for a bare approval is not sealed, so it is judged again.
    ok(run(reviewing, "approve", SLUG, "--accept-warnings"))
    ok(run(reviewing, "verify"))
    kept = reviewing / ".git" / "reviewflow" / "acknowledged-v1"
    first = kept.read_text(encoding="utf-8").splitlines()[1]
    git(reviewing, "reset", "-q", "--hard", "HEAD~1")
    forged = forge_approval(reviewing, [])
    commit, config, schema, _ = first.split(" ")
    with kept.open("a", encoding="utf-8") as handle:
        handle.write(f"{forged} {config} {schema} {'0' * 24}\n")
    result = run(reviewing, "verify")
    assert result.exit_code == 1 and f"unacknowledged commit {forged[:12]}" in result.output


def test_texts_checked_in_batches_are_judged_the_same(
    reviewing: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `verify` reads and checks the approved texts a batch at a time (never all at once); one
    # text per batch refuses the same approvals, in the order of the history.
    from reviewflow.review import gate

    old, claim = acknowledged_values(reviewing, run)
    forge_approval(reviewing, [old])
    whole = as_json(run(reviewing, "verify", "--no-cache", "--format", "json"))
    forge_approval(reviewing, [old, claim])
    monkeypatch.setattr(gate, "BATCH_TEXTS", 1)
    result = run(reviewing, "verify", "--no-cache", "--format", "json")
    assert result.exit_code == 1, result.output
    assert [p["commit"] for p in as_json(result)["unacknowledged"]] == [
        p["commit"] for p in whole["unacknowledged"]
    ]
    assert len(whole["unacknowledged"]) == 1
