"""`reviewflow ci` on real repositories: a main branch, a feature branch, real commits.

Every test builds its history with git and reviewflow's own commands, acting as different people
through the environment (conftest.as_author), then runs the gate the way CI would.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result

from reviewflow import gitlog
from reviewflow.ci.articles import ArticleChange, ArticleResult
from reviewflow.ci.config_diff import config_findings
from reviewflow.ci.verdict import CI_RULES, CiResult, classify
from reviewflow.cli.ci_report import report_junit
from reviewflow.cli.commands import cli
from reviewflow.findings import Finding
from reviewflow.layout import CONFIG_FILE
from tests.conftest import PROJECT, article_text, as_author, git, write
from tests.gitcount import git_processes, total

Run = Callable[..., Result]

ALICE = ("Alice Author", "alice@authors.example")
RITA = ("Dr. Rita Reviewer", "rita@board.example")
SAM = ("Dr. Sam Second", "sam@board.example")
MALLORY = ("Mallory Maker", "mallory@elsewhere.example")
MALLORY_TOML = """
[[board]]
name = "Mallory Maker"
email = "mallory@elsewhere.example"
credentials = "MD"
"""

BAD = article_text(disclaimer="legal")  # disclaimer-unknown at line 9, column 13
BAD_LINE, BAD_COLUMN = 9, 13
GOOD = article_text()
WARNED = article_text("POEMS syndrome is rare.\n")  # reference-uncited: a warning only


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def branch(repo: Path, name: str = "feature") -> None:
    git(repo, "checkout", "-q", "-b", name)


def act(run: Run, monkeypatch: pytest.MonkeyPatch, repo: Path, who: tuple[str, str], *args: str) -> None:
    """One review action by WHO, which must be recorded."""
    as_author(monkeypatch, *who)
    result = run(repo, *args)
    as_author(monkeypatch, *ALICE)
    assert result.exit_code == 0, result.output


def approve(
    run: Run, monkeypatch: pytest.MonkeyPatch, repo: Path, slug: str, reviewer: tuple[str, str] = RITA
) -> None:
    """Alice submits SLUG, the reviewer takes it into review and approves it."""
    act(run, monkeypatch, repo, ALICE, "submit", slug)
    act(run, monkeypatch, repo, reviewer, "review", slug)
    act(run, monkeypatch, repo, reviewer, "approve", slug)


def annotations(output: str) -> list[dict[str, str]]:
    """The GitHub workflow commands in OUTPUT, parsed."""
    found = []
    for line in output.splitlines():
        match = re.match(r"^::(error|warning|notice) ([^:]*)::(.*)$", line)
        if match:
            properties = dict(item.split("=", 1) for item in match.group(2).split(",") if item)
            found.append({"kind": match.group(1), **properties, "message": match.group(3)})
    return found


# --- scope: what the change touches -------------------------------------------------------------


def test_a_bad_new_article_fails_with_an_annotation_on_its_file_and_line(
    run: Run, content_repo: Path
) -> None:
    branch(content_repo)
    write(content_repo / "articles" / "bad.md", BAD)
    commit(content_repo, "Add an article with an unknown disclaimer")

    result = run(content_repo, "ci", "--base", "main", "--format", "github")

    assert result.exit_code == 1, result.output
    errors = [a for a in annotations(result.output) if a["kind"] == "error"]
    assert errors == [
        {
            "kind": "error",
            "file": "articles/bad.md",
            "line": str(BAD_LINE),
            "col": str(BAD_COLUMN),
            "title": "disclaimer-unknown",
            "message": "disclaimer 'legal' is not in reviewflow.toml (known: patient, professional)",
        }
    ]
    assert "(not mergeable)" in result.output


def test_a_good_change_passes(run: Run, content_repo: Path) -> None:
    branch(content_repo)
    write(content_repo / "articles" / "good.md", GOOD)
    commit(content_repo, "Add a good article")

    result = run(content_repo, "ci", "--base", "main")

    assert result.exit_code == 0, result.output
    assert re.search(r"^  added +articles/good\.md +ok$", result.output, re.MULTILINE), result.output
    assert (
        "1 changed article checked, 0 deleted, 0 review events verified: 0 errors, 0 warnings (mergeable)"
        in result.output
    )


def test_a_bug_in_one_articles_check_is_its_finding_and_the_others_are_still_gated(
    run: Run, content_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewflow.checks import rules
    from reviewflow.findings import Severity

    def buggy(article: object, doc: Any, ctx: object) -> list[tuple[int, int, str]]:
        if doc.slug == "hits-a-bug":
            raise KeyError("no such thing")
        return []

    monkeypatch.setitem(
        rules.RULES, "buggy", rules.Rule("buggy", Severity.WARNING, "a rule with a bug", buggy)
    )
    branch(content_repo)
    write(content_repo / "articles" / "hits-a-bug.md", GOOD)
    write(content_repo / "articles" / "bad.md", BAD)
    commit(content_repo, "Two articles")

    result = run(content_repo, "ci", "--base", "main", "--format", "json")

    assert result.exit_code == 1, result.output
    found = {(f["path"], f["rule"]) for f in json.loads(result.output)["findings"]}
    assert found == {("articles/hits-a-bug.md", "internal-error"), ("articles/bad.md", "disclaimer-unknown")}


def test_an_old_bad_article_the_branch_does_not_touch_does_not_fail_it(run: Run, content_repo: Path) -> None:
    write(content_repo / "articles" / "old-bad.md", BAD)
    commit(content_repo, "An old problem on main")
    assert run(content_repo, "check").exit_code == 1  # the repository as a whole has an error
    branch(content_repo)
    write(content_repo / "articles" / "good.md", GOOD)
    commit(content_repo, "Add a good article")

    result = run(content_repo, "ci", "--base", "main", "--format", "json")

    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert [a["path"] for a in payload["articles"]] == ["articles/good.md"]
    assert "old-bad" not in result.output


def test_modified_renamed_and_deleted_articles(run: Run, content_repo: Path) -> None:
    for name in ("edited", "moved", "gone"):
        write(content_repo / "articles" / f"{name}.md", GOOD.replace("A test article", f"The {name} article"))
    write(content_repo / "articles" / "gone-bad.md", BAD)
    commit(content_repo, "Three articles")
    branch(content_repo)
    write(content_repo / "articles" / "edited.md", BAD.replace("A test article", "The edited article"))
    git(content_repo, "mv", "articles/moved.md", "articles/moved-here.md")
    git(content_repo, "rm", "-q", "articles/gone.md", "articles/gone-bad.md")
    write(content_repo / "notes.md", "not an article\n")
    commit(content_repo, "Edit one, move one, delete two")

    result = run(content_repo, "ci", "--base", "main", "--format", "json")

    assert result.exit_code == 1, result.output
    payload = json.loads(result.output)
    changes = {(a["path"], a["change"], a["previous_path"]) for a in payload["articles"]}
    assert changes == {
        ("articles/edited.md", "modified", None),
        ("articles/moved-here.md", "renamed", "articles/moved.md"),
    }
    assert payload["deleted"] == ["articles/gone-bad.md", "articles/gone.md"]  # reported, not checked
    assert {f["path"] for f in payload["findings"]} == {"articles/edited.md"}
    assert payload["summary"] == {
        "articles": 2,
        "deleted": 2,
        "rechecked": 0,  # no configuration change: the other articles are not read
        "events": 0,
        "invalid_events": 0,
        "errors": 1,
        "warnings": 0,
        "passed": False,
    }


def test_the_articles_are_judged_as_committed_not_as_in_the_work_tree(run: Run, content_repo: Path) -> None:
    branch(content_repo)
    write(content_repo / "articles" / "good.md", GOOD)
    commit(content_repo, "Add a good article")
    write(content_repo / "articles" / "good.md", BAD)  # an uncommitted edit: not part of the change

    assert run(content_repo, "ci", "--base", "main").exit_code == 0


def test_the_change_starts_at_the_merge_base_not_at_the_tip_of_the_base(run: Run, content_repo: Path) -> None:
    branch(content_repo)
    write(content_repo / "articles" / "good.md", GOOD)
    commit(content_repo, "Add a good article")
    git(content_repo, "checkout", "-q", "main")
    write(content_repo / "articles" / "later-on-main.md", BAD)
    commit(content_repo, "Main moves on")
    git(content_repo, "checkout", "-q", "feature")

    result = run(content_repo, "ci", "--base", "main", "--format", "json")

    assert result.exit_code == 0, result.output
    assert [a["path"] for a in json.loads(result.output)["articles"]] == ["articles/good.md"]


def test_strict_fails_on_warnings_in_the_changed_articles(run: Run, content_repo: Path) -> None:
    branch(content_repo)
    write(content_repo / "articles" / "warned.md", WARNED)
    commit(content_repo, "An article with an uncited reference")

    assert run(content_repo, "ci", "--base", "main").exit_code == 0
    strict = run(content_repo, "ci", "--base", "main", "--strict")
    assert strict.exit_code == 1
    assert "warning reference-uncited" in strict.output


# --- review events, judged by the base ----------------------------------------------------------


def test_an_approval_made_on_the_branch_counts_and_passes(
    run: Run, monkeypatch: pytest.MonkeyPatch, content_repo: Path
) -> None:
    branch(content_repo)
    write(content_repo / "articles" / "good.md", GOOD)
    commit(content_repo, "Add a good article")
    approve(run, monkeypatch, content_repo, "good")

    result = run(content_repo, "ci", "--base", "main", "--format", "json", "--require-approved")

    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert [(e["action"], e["actor"], e["valid"]) for e in payload["events"]] == [
        ("submit", ALICE[1], True),
        ("review", RITA[1], True),
        ("approve", RITA[1], True),
    ]
    assert payload["articles"][0]["state"] == "approved"


def test_a_forged_approval_in_the_range_fails(
    run: Run, monkeypatch: pytest.MonkeyPatch, content_repo: Path
) -> None:
    write(content_repo / "articles" / "good.md", GOOD)
    commit(content_repo, "Add a good article")
    act(run, monkeypatch, content_repo, ALICE, "submit", "good")
    act(run, monkeypatch, content_repo, RITA, "review", "good")
    branch(content_repo)
    # Someone off the board writes the approval trailers by hand.
    blob = git(content_repo, "rev-parse", "HEAD:articles/good.md").strip()
    as_author(monkeypatch, *MALLORY)
    message = f"reviewflow: approve good\n\nReviewflow-Article: good\nReviewflow-Action: approve\nReviewflow-Content: {blob}\n"
    git(content_repo, "commit", "-q", "--allow-empty", "-m", message)
    as_author(monkeypatch, *ALICE)

    result = run(content_repo, "ci", "--base", "main", "--format", "github")

    assert result.exit_code == 1, result.output
    [error] = [a for a in annotations(result.output) if a["kind"] == "error"]
    assert (error["file"], error["line"], error["title"]) == ("articles/good.md", "1", "review-event-invalid")
    assert "approve by mallory@elsewhere.example" in error["message"]
    assert "not on the advisory board" in error["message"]


def test_a_content_trailer_for_other_content_fails(
    run: Run, monkeypatch: pytest.MonkeyPatch, content_repo: Path
) -> None:
    write(content_repo / "articles" / "good.md", GOOD)
    write(content_repo / "articles" / "other.md", GOOD.replace("A test article", "Another article"))
    commit(content_repo, "Two articles")
    act(run, monkeypatch, content_repo, ALICE, "submit", "good")
    act(run, monkeypatch, content_repo, RITA, "review", "good")
    branch(content_repo)
    other = git(content_repo, "rev-parse", "HEAD:articles/other.md").strip()
    as_author(monkeypatch, *RITA)
    message = (
        f"approve\n\nReviewflow-Article: good\nReviewflow-Action: approve\nReviewflow-Content: {other}\n"
    )
    git(content_repo, "commit", "-q", "--allow-empty", "-m", message)
    as_author(monkeypatch, *ALICE)

    result = run(content_repo, "ci", "--base", "main", "--format", "json")

    assert result.exit_code == 1, result.output
    [event] = json.loads(result.output)["events"]
    assert event["valid"] is False
    assert "content trailer" in event["reason"]


def test_joining_the_board_and_approving_in_the_same_change_fails(
    run: Run, monkeypatch: pytest.MonkeyPatch, content_repo: Path
) -> None:
    write(content_repo / "articles" / "good.md", GOOD)
    commit(content_repo, "Add a good article")
    branch(content_repo)
    with (content_repo / CONFIG_FILE).open("a", encoding="utf-8") as handle:
        handle.write(MALLORY_TOML)
    commit(content_repo, "Add Mallory to the board")
    # At HEAD Mallory is on the board, so reviewflow itself lets her act...
    approve(run, monkeypatch, content_repo, "good", reviewer=MALLORY)
    assert run(content_repo, "status", "good", "--format", "json").exit_code == 0

    result = run(content_repo, "ci", "--base", "main", "--format", "github")

    # ...but the gate judges her by the base's board.
    assert result.exit_code == 1, result.output
    errors = [a for a in annotations(result.output) if a["kind"] == "error"]
    assert [(e["file"], e["title"]) for e in errors] == [("articles/good.md", "review-event-invalid")] * 2
    assert all("mallory@elsewhere.example is not on the advisory board" in e["message"] for e in errors)
    [warning] = [a for a in annotations(result.output) if a["kind"] == "warning"]
    assert warning["file"] == CONFIG_FILE
    assert "board member added: Mallory Maker <mallory@elsewhere.example>" in warning["message"]
    config_lines = (content_repo / CONFIG_FILE).read_text().splitlines()
    assert "mallory@elsewhere.example" in config_lines[int(warning["line"]) - 1]

    # Once the board change is merged, her actions in a later change count.
    git(content_repo, "checkout", "-q", "main")
    git(content_repo, "merge", "-q", "--ff-only", "feature")
    branch(content_repo, "next")
    write(content_repo / "articles" / "second.md", GOOD.replace("A test article", "A second article"))
    commit(content_repo, "A second article")
    approve(run, monkeypatch, content_repo, "second", reviewer=MALLORY)
    assert run(content_repo, "ci", "--base", "main").exit_code == 0


def test_require_approved_fails_until_the_changed_article_is_re_approved(
    run: Run, monkeypatch: pytest.MonkeyPatch, content_repo: Path
) -> None:
    write(content_repo / "articles" / "good.md", GOOD)
    commit(content_repo, "Add a good article")
    approve(run, monkeypatch, content_repo, "good")
    branch(content_repo)
    write(content_repo / "articles" / "good.md", GOOD.replace("is rare", "is a rare disorder"))
    commit(content_repo, "Edit the approved article")

    assert run(content_repo, "ci", "--base", "main").exit_code == 0  # without the flag: fine
    refused = run(content_repo, "ci", "--base", "main", "--require-approved", "--format", "github")
    assert refused.exit_code == 1, refused.output
    [error] = [a for a in annotations(refused.output) if a["kind"] == "error"]
    assert (error["file"], error["title"]) == ("articles/good.md", "not-approved")
    assert "good is draft at HEAD" in error["message"]

    approve(run, monkeypatch, content_repo, "good", reviewer=SAM)
    result = run(content_repo, "ci", "--base", "main", "--require-approved")
    assert result.exit_code == 0, result.output
    assert "approved at HEAD" in result.output


# --- what a change does to the configuration ------------------------------------------------------


def test_config_and_schema_changes_are_named_in_warnings_that_never_fail(
    run: Run, content_repo: Path
) -> None:
    branch(content_repo)
    config = (content_repo / CONFIG_FILE).read_text(encoding="utf-8")
    config = config.replace("approvals_required = 1", "approvals_required = 2")
    config = config.replace('email = "sam@board.example"', 'email = "samuel@board.example"')
    config = config.replace("[checks]\n", '[checks]\nrules = { "reference-uncited" = "off" }\n')
    write(content_repo / CONFIG_FILE, config)
    schema_path = content_repo / "schemas" / "article.schema.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    schema["required"].append("tags")
    write(schema_path, json.dumps(schema, indent=2))
    commit(content_repo, "Change the policy, the board, a rule and the schema")

    result = run(content_repo, "ci", "--base", "main", "--strict", "--format", "json")

    assert result.exit_code == 0, result.output  # warnings for humans, not a failed gate
    findings = json.loads(result.output)["findings"]
    messages = {(f["rule"], f["message"]) for f in findings}
    assert messages == {
        ("config-changed", "policy.approvals_required: 1 → 2"),
        (
            "config-changed",
            "board member added: Dr. Sam Second <samuel@board.example>; their review actions count only after this change is merged",
        ),
        ("config-changed", "board member removed: Dr. Sam Second <sam@board.example>"),
        (
            "config-changed",
            "checks.rules.reference-uncited: default → off; the articles of this change are still "
            "checked at warning: a change cannot relax the rules it is judged by",
        ),
        ("schema-changed", "schemas/article.schema.json changed: fields now required: tags"),
    }
    lines = config.splitlines()
    policy = next(f for f in findings if f["message"].startswith("policy."))
    assert lines[policy["line"] - 1].startswith("approvals_required = 2")


def test_a_signing_key_change_is_named(run: Run, content_repo: Path) -> None:
    branch(content_repo)
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk7O8rSQkpvjq1mMLy7nF0mT2Zx8pX7fDk7F7sm8wJx"
    config = (content_repo / CONFIG_FILE).read_text(encoding="utf-8")
    write(
        content_repo / CONFIG_FILE,
        config.replace(
            'email = "rita@board.example"', f'email = "rita@board.example"\nsigning_key = "{key}"'
        ),
    )
    commit(content_repo, "Rita signs from now on")

    result = run(content_repo, "ci", "--base", "main", "--format", "json")

    assert result.exit_code == 0, result.output
    assert [f["message"] for f in json.loads(result.output)["findings"]] == [
        "board member rita@board.example: signing key added"
    ]


# --- environment problems: exit 2 with a message, never a traceback -----------------------------


def test_an_unknown_base_exits_2(run: Run, content_repo: Path) -> None:
    result = run(content_repo, "ci", "--base", "origin/nope")
    assert result.exit_code == 2
    assert "unknown base 'origin/nope'" in result.stderr
    assert "git fetch" in result.stderr
    assert "Traceback" not in result.output


def test_a_base_that_looks_like_an_option_is_never_passed_to_git_as_one(run: Run, content_repo: Path) -> None:
    result = run(content_repo, "ci", "--base=--output=/tmp/owned")
    assert result.exit_code == 2
    assert "unknown base '--output=/tmp/owned'" in result.stderr


@pytest.fixture
def shallow(content_repo: Path, tmp_path: Path) -> Path:
    """A clone of the content repo with only its last commit, as CI checks out by default."""
    write(content_repo / "articles" / "good.md", GOOD)
    commit(content_repo, "A second commit")
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{content_repo}", str(clone)], check=True)
    return clone


def test_a_shallow_clone_exits_2_and_says_to_fetch_the_whole_history(run: Run, shallow: Path) -> None:

    result = run(shallow, "ci", "--base", "origin/main")

    assert result.exit_code == 2
    assert "shallow" in result.stderr
    assert "fetch-depth: 0" in result.stderr


def test_not_a_repository_exits_2(run: Run, tmp_path: Path) -> None:
    assert run(tmp_path, "init", "lib").exit_code == 0
    result = run(tmp_path / "lib", "ci", "--base", "main")
    assert result.exit_code == 2
    assert "not in a git repository" in result.stderr


def test_unrelated_histories_exit_2(run: Run, content_repo: Path) -> None:
    git(content_repo, "checkout", "-q", "--orphan", "elsewhere")
    commit(content_repo, "A history of its own")
    result = run(content_repo, "ci", "--base", "main")
    assert result.exit_code == 2
    assert "share no history" in result.stderr


# --- output formats --------------------------------------------------------------------------------


@pytest.fixture
def mixed_change(content_repo: Path) -> Path:
    """A branch that adds a bad article and a good one, deletes one, and changes the policy."""
    doomed = article_text("A long text on another subject, which no new article resembles [1]. " * 30)
    write(content_repo / "articles" / "doomed.md", doomed)
    commit(content_repo, "An article to delete later")
    branch(content_repo)
    write(content_repo / "articles" / "bad.md", BAD)
    write(content_repo / "articles" / "good.md", GOOD)
    git(content_repo, "rm", "-q", "articles/doomed.md")
    config = (content_repo / CONFIG_FILE).read_text(encoding="utf-8")
    write(content_repo / CONFIG_FILE, config.replace("review_cycle_days = 365", "review_cycle_days = 180"))
    commit(content_repo, "A mixed change")
    return content_repo


def test_junit_parses_and_lists_the_findings(run: Run, mixed_change: Path) -> None:
    result = run(mixed_change, "ci", "--base", "main", "--format", "junit")

    assert result.exit_code == 1
    suites = ET.fromstring(result.stdout)
    assert suites.tag == "testsuites"
    suite = suites.find("testsuite")
    assert suite is not None
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) == {"articles/bad.md", "articles/good.md", "articles/doomed.md", CONFIG_FILE}
    failure = cases["articles/bad.md"].find("failure")
    assert failure is not None and failure.text is not None
    assert failure.get("type") == "disclaimer-unknown"
    assert (
        f"articles/bad.md:{BAD_LINE}:{BAD_COLUMN}: error disclaimer-unknown disclaimer 'legal'"
        in failure.text
    )
    assert cases["articles/bad.md"].get("file") == "articles/bad.md"
    assert list(cases["articles/good.md"]) == []  # passed
    assert cases["articles/doomed.md"].find("skipped") is not None
    config_out = cases[CONFIG_FILE].find("system-out")
    assert config_out is not None and "policy.review_cycle_days: 365 → 180" in (config_out.text or "")
    assert cases[CONFIG_FILE].find("failure") is None  # a warning does not fail
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("4", "1", "1")
    assert suites.get("failures") == "1"


def test_junit_to_a_file_for_gitlab(run: Run, mixed_change: Path) -> None:
    result = run(
        mixed_change, "ci", "--base", "main", "--format", "junit", "--output", "reports/reviewflow.xml"
    )

    assert result.exit_code == 1
    report = mixed_change / "reports" / "reviewflow.xml"
    assert ET.parse(report).getroot().tag == "testsuites"
    assert "junit report written to" in result.stdout
    assert "<testsuites" not in result.stdout


def test_junit_with_nothing_changed_still_has_a_testcase(run: Run, content_repo: Path) -> None:
    result = run(content_repo, "ci", "--base", "HEAD", "--format", "junit")
    assert result.exit_code == 0
    suite = ET.fromstring(result.stdout).find("testsuite")
    assert suite is not None and len(list(suite.iter("testcase"))) == 1


def test_the_github_job_summary_is_appended_when_github_step_summary_is_set(
    run: Run, mixed_change: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "step-summary.md"
    summary.write_text("Earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))

    result = run(mixed_change, "ci", "--base", "main", "--format", "github")

    assert result.exit_code == 1
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("Earlier step\n## reviewflow ci: ❌ not mergeable\n")
    assert "| articles/bad.md | added | ❌ 1 error, 0 warnings |" in text
    assert "| articles/good.md | added | ✅ ok |" in text
    assert "| articles/doomed.md | deleted | not checked |" in text
    assert f"| articles/bad.md:{BAD_LINE}:{BAD_COLUMN} | error | `disclaimer-unknown` |" in text
    assert "> [!WARNING]" in text  # the change edits the review configuration
    notices = [a for a in annotations(result.stdout) if a["kind"] == "notice"]
    assert notices and "articles/doomed.md is deleted (not checked)" in notices[0]["message"]


def test_no_job_summary_without_the_variable_or_in_other_formats(
    run: Run, mixed_change: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "step-summary.md"
    run(mixed_change, "ci", "--base", "main", "--format", "github")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    run(mixed_change, "ci", "--base", "main", "--format", "text")
    assert not summary.exists()


def test_the_job_summary_keeps_article_text_inert(
    run: Run, content_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    branch(content_repo)
    write(
        content_repo / "articles" / "x.md",
        article_text(disclaimer='"<img src=x onerror=alert(1)> | [link](javascript:alert(1))"'),
    )
    commit(content_repo, "A hostile disclaimer key")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))

    run(content_repo, "ci", "--base", "main", "--format", "github")

    text = summary.read_text(encoding="utf-8")
    assert "<img" not in text and "&lt;img" in text
    assert "](javascript" not in text
    row = next(line for line in text.splitlines() if "disclaimer-unknown" in line)
    assert row.count(" | ") == 3  # the "|" in the message does not open a new column


def test_text_output_lists_the_change(run: Run, mixed_change: Path) -> None:
    result = run(mixed_change, "ci", "--base", "main")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("reviewflow ci: main (merge-base ")
    assert re.match(r"^  added +articles/bad\.md +1 error, 0 warnings$", lines[1])
    assert re.match(r"^  deleted +articles/doomed\.md +not checked$", lines[2])
    assert re.match(r"^  added +articles/good\.md +ok$", lines[3])
    assert f"articles/bad.md:{BAD_LINE}:{BAD_COLUMN}: error disclaimer-unknown" in result.stdout
    assert (
        lines[-1]
        == "2 changed articles checked, 1 deleted, 1 unchanged article rechecked, 0 review events verified: "
        "1 error, 1 warning (not mergeable)"
    )


# --- cost follows the change -------------------------------------------------------------------------


def test_the_cost_follows_the_change_not_the_repository(
    run: Run, content_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import reviewflow.ci.articles

    def measure(articles: int) -> tuple[Counter[str], int]:
        for index in range(articles):
            write(content_repo / "articles" / f"bulk-{articles}-{index}.md", GOOD)
        commit(content_repo, f"{articles} more articles")
        git(content_repo, "checkout", "-q", "-B", f"change-{articles}")
        for index in range(3):
            write(content_repo / "articles" / f"bulk-{articles}-{index}.md", WARNED)
        commit(content_repo, "Touch three")
        parses = 0
        real_parse = reviewflow.ci.articles.parse_document

        def counting_parse(*args, **kwargs):  # type: ignore[no-untyped-def]
            nonlocal parses
            parses += 1
            return real_parse(*args, **kwargs)

        with pytest.MonkeyPatch.context() as patch, git_processes() as started:
            patch.setattr(reviewflow.ci.articles, "parse_document", counting_parse)
            result = run(content_repo, "ci", "--base", "main")
        assert result.exit_code == 0, result.output
        git(content_repo, "checkout", "-q", "main")
        git(content_repo, "merge", "-q", "--ff-only", f"change-{articles}")
        return started, parses

    small, large = measure(5), measure(150)
    assert small == large  # the same git processes and parses for 5 or 150 articles
    assert large[1] == 3  # only the three changed articles are read
    assert 0 < total(large[0]) <= 8, large[0]
    assert (large[0]["diff"], large[0]["cat-file"]) == (1, 1), large[0]  # every changed file at once


# --- the integration files ----------------------------------------------------------------------------


def load_yaml(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_init_writes_a_github_workflow_that_gates_pull_requests_and_publishes_main(
    run: Run, tmp_path: Path
) -> None:
    result = run(tmp_path, "init", "lib")
    assert result.exit_code == 0, result.output
    assert "created .github/workflows/reviewflow.yml" in result.output
    workflow = load_yaml(tmp_path / "lib" / ".github" / "workflows" / "reviewflow.yml")

    triggers = workflow[True]  # YAML 1.1 reads the key `on` as a boolean; GitHub reads it as "on"
    assert "pull_request" in triggers and triggers["push"]["branches"] == ["main"]
    # Installed from an explicit source (tests/test_ci_files.py), never `reviewflow==VERSION`
    # from PyPI, where reviewflow is not: that name could install anyone's code.
    assert workflow["env"]["REVIEWFLOW_INSTALL"] == "${{ vars.REVIEWFLOW_INSTALL }}"
    gate, publish = workflow["jobs"]["gate"], workflow["jobs"]["publish"]
    assert "github.event_name == 'pull_request'" in gate["if"]  # and merge groups: test_init_ci_integration
    assert gate["steps"][0]["uses"].startswith("actions/checkout@")
    assert gate["steps"][0]["with"]["fetch-depth"] == 0
    assert any(step.get("uses", "").startswith("actions/setup-python@") for step in gate["steps"])
    assert any('pip install "$REVIEWFLOW_INSTALL"' in step.get("run", "") for step in gate["steps"])
    [ci_step] = [step for step in gate["steps"] if "reviewflow ci" in step.get("run", "")]
    assert ci_step["run"] == 'reviewflow ci --base "origin/${BASE_REF#refs/heads/}" --format github'
    assert ci_step["env"]["BASE_REF"] == "${{ github.base_ref || github.event.merge_group.base_ref }}"

    assert "github.event.repository.default_branch" in publish["if"]
    assert publish["steps"][0]["with"]["fetch-depth"] == 0
    # With the Pages address as the base URL when there is one (tests/test_ci_files.py).
    assert any(
        step.get("run") == 'reviewflow publish --out site ${BASE_URL:+--base-url "$BASE_URL"}'
        for step in publish["steps"]
    )
    uploads = {
        step["uses"].split("@")[0]: step["with"]["path"]
        for step in publish["steps"]
        if "upload" in step.get("uses", "")
    }
    assert uploads == {"actions/upload-artifact": "site", "actions/upload-pages-artifact": "site"}
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "publish" and deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert workflow["permissions"] == {"contents": "read"}  # least privilege for the gate


def test_init_keeps_an_existing_workflow(run: Run, tmp_path: Path) -> None:
    mine = write(tmp_path / "lib" / ".github" / "workflows" / "reviewflow.yml", "name: ours\n")
    result = run(tmp_path, "init", "lib")
    assert "kept    .github/workflows/reviewflow.yml" in result.output
    assert mine.read_text() == "name: ours\n"


def test_the_generated_gate_step_works_as_github_runs_it(
    run: Run, mixed_change: Path, tmp_path: Path
) -> None:
    """Run the workflow's own `reviewflow ci` step in bash, with the variables GitHub sets."""
    workflow = load_yaml(mixed_change / ".github" / "workflows" / "reviewflow.yml")
    [step] = [s for s in workflow["jobs"]["gate"]["steps"] if "reviewflow ci" in s.get("run", "")]
    git(mixed_change, "update-ref", "refs/remotes/origin/main", "main")  # what checkout fetches
    summary = tmp_path / "summary.md"
    environment = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "BASE_REF": "main",  # ${{ github.base_ref }}
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_ACTIONS": "true",
    }

    result = subprocess.run(
        ["bash", "-e", "-c", step["run"]], cwd=mixed_change, env=environment, capture_output=True, text=True
    )

    assert result.returncode == 1, result.stderr
    assert (
        f"::error file=articles/bad.md,line={BAD_LINE},col={BAD_COLUMN},title=disclaimer-unknown::"
        in result.stdout
    )
    assert "## reviewflow ci: ❌ not mergeable" in summary.read_text(encoding="utf-8")


def test_the_pre_commit_hook_checks_staged_articles(run: Run, content_repo: Path) -> None:
    [hook] = yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "reviewflow-check"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is True
    files = re.compile(hook["files"])
    assert files.search("articles/what-is-poems-syndrome.md")
    assert not files.search("README.md") and not files.search("articles/image.png")
    command = hook["entry"].split()
    assert command[0] == "reviewflow" and command[1] in cli.commands

    write(content_repo / "articles" / "bad.md", BAD)
    staged = ["articles/bad.md", "articles/what-is-poems-syndrome.md"]  # as pre-commit passes them
    failed = run(content_repo, *command[1:], *staged)
    assert failed.exit_code == 1
    assert f"articles/bad.md:{BAD_LINE}:{BAD_COLUMN}: error disclaimer-unknown" in failed.output
    assert run(content_repo, *command[1:], "articles/what-is-poems-syndrome.md").exit_code == 0


def test_the_readme_has_a_gitlab_example_that_gates_with_junit() -> None:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use in CI", 1)[1].split("\n## ", 1)[0]
    for heading in ("### GitHub Actions", "### GitLab CI", "### pre-commit"):
        assert heading in section
    gitlab_block = section.split("### GitLab CI", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    gitlab = yaml.safe_load(gitlab_block)
    assert gitlab["variables"]["GIT_DEPTH"] == "0"
    gate = gitlab["reviewflow-gate"]
    assert any(
        "reviewflow ci --base" in line and "--format junit --output reviewflow-junit.xml" in line
        for line in gate["script"]
    )
    assert gate["artifacts"]["reports"]["junit"] == "reviewflow-junit.xml"
    assert gate["artifacts"]["when"] == "always"
    assert any("reviewflow publish --out public" in line for line in gitlab["pages"]["script"])


def test_the_projects_own_ci_runs_the_gate() -> None:
    script = (PROJECT / ".ci" / "run").read_text(encoding="utf-8")
    own_content = script.split("# --- the project's own content ---", 1)[1]
    assert "reviewflow ci --base" in own_content


# --- the edges of adoption and of broken configuration ------------------------------------------------


def test_adopting_reviewflow_in_a_change_passes_but_its_review_events_cannot_count(
    run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    repo = tmp_path / "legacy"
    write(repo / "articles" / "old.md", BAD)  # content from before reviewflow, never gated
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    commit(repo, "Articles from before reviewflow")
    branch(repo)
    assert run(tmp_path, "init", "legacy").exit_code == 0
    with (repo / CONFIG_FILE).open("a", encoding="utf-8") as handle:
        handle.write(
            '\n[[board]]\nname = "Dr. Rita Reviewer"\nemail = "rita@board.example"\ncredentials = "MD"\n'
        )
    commit(repo, "Adopt reviewflow")

    adopted = run(repo, "ci", "--base", "main", "--format", "json")
    assert adopted.exit_code == 0, adopted.output
    [warning] = [f for f in json.loads(adopted.output)["findings"] if f["rule"] == "config-changed"]
    assert warning["message"].startswith("reviewflow.toml is added in this change: the base has no board")

    approve(run, monkeypatch, repo, "what-is-poems-syndrome", reviewer=RITA)
    with_events = run(repo, "ci", "--base", "main", "--format", "json")
    assert with_events.exit_code == 1
    payload = json.loads(with_events.output)
    assert [e["valid"] for e in payload["events"]] == [True, False, False]  # submit is anyone's
    assert all(
        "the base has no reviewflow.toml" in f["message"]
        for f in payload["findings"]
        if f["rule"] == "review-event-invalid"
    )


def test_a_change_that_repairs_a_broken_base_config_is_not_blocked_by_it(
    run: Run, content_repo: Path
) -> None:
    good_config = (content_repo / CONFIG_FILE).read_text(encoding="utf-8")
    write(content_repo / CONFIG_FILE, good_config.replace("approvals_required = 1", "approvals_required = 0"))
    commit(content_repo, "A broken policy got merged")
    branch(content_repo)
    write(content_repo / CONFIG_FILE, good_config)
    commit(content_repo, "Repair the policy")

    result = run(content_repo, "ci", "--base", "main", "--format", "json")

    assert result.exit_code == 0, result.output
    [warning] = json.loads(result.output)["findings"]
    assert "the base's reviewflow.toml is invalid" in warning["message"]
    assert "policy.approvals_required" in warning["message"]


def test_an_invalid_config_at_head_is_a_finding_of_the_change(run: Run, content_repo: Path) -> None:
    # It used to exit 2 like an environment problem; it is the change that broke the file.
    branch(content_repo)
    config = (content_repo / CONFIG_FILE).read_text(encoding="utf-8")
    write(content_repo / CONFIG_FILE, config.replace("[policy]", "[policy]\nquorum = 3"))
    commit(content_repo, "A misspelt key")
    result = run(content_repo, "ci", "--base", "main")
    assert result.exit_code == 1
    assert "reviewflow.toml:5:1: error config-invalid policy.quorum: unknown key" in result.stdout


# --- the pure parts --------------------------------------------------------------------------------------


def test_classify_sorts_paths_into_articles_deletions_and_configuration() -> None:
    entry = gitlog.DiffEntry
    scope = classify(
        [
            entry("A", "articles/new.md", None, None, "a" * 40),
            entry("M", "articles/edited.md", None, "b" * 40, "c" * 40),
            entry("R", "articles/after.md", "articles/before.md", "d" * 40, "d" * 40),
            entry("R", "archive/retired.md", "articles/retired.md", "e" * 40, "e" * 40),
            entry("D", "articles/gone.md", None, "f" * 40, None),
            entry("A", "articles/images/figure.png", None, None, "1" * 40),
            entry("A", "articles/drafts/idea.md", None, None, "2" * 40),
            entry("M", "reviewflow.toml", None, "3" * 40, "4" * 40),
            entry("A", "schemas/extra.json", None, None, "5" * 40),
        ]
    )
    assert [(a.path, a.change, a.previous_path, a.blob) for a in scope.articles] == [
        ("articles/after.md", "renamed", "articles/before.md", "d" * 40),
        ("articles/drafts/idea.md", "added", None, "2" * 40),  # a subdirectory holds articles too
        ("articles/edited.md", "modified", None, "c" * 40),
        ("articles/new.md", "added", None, "a" * 40),
    ]
    assert [d.path for d in scope.deleted] == ["articles/gone.md", "articles/retired.md"]
    assert scope.config_changed
    assert scope.schema_paths == ["schemas/extra.json"]


def test_junit_survives_control_characters_in_messages() -> None:
    result = CiResult("main", "a" * 40, "b" * 40)
    change = ArticleChange("articles/x.md", "added", blob="c" * 40)
    message = "bad byte \x01 and \x1b[31m escape & <tag>"
    result.articles = [ArticleResult(change, [Finding.error("yaml-syntax", "articles/x.md", 2, 1, message)])]

    suites = ET.fromstring(report_junit(result))

    failure = suites.find("testsuite/testcase/failure")
    assert failure is not None and "& <tag>" in (failure.text or "")


def test_a_comment_only_config_change_is_still_reported() -> None:
    text = "[policy]\napprovals_required = 1\n"
    [finding] = config_findings(text, None, "# who approves what\n" + text)
    assert finding.message == "reviewflow.toml changed, but only in comments or formatting"


@pytest.mark.parametrize("rule", sorted(CI_RULES))
def test_every_ci_rule_is_in_the_readme(rule: str) -> None:
    assert f"`{rule}`" in (PROJECT / "README.md").read_text(encoding="utf-8")


def test_a_content_repo_in_a_subdirectory_annotates_paths_from_the_top_of_the_repository(
    run: Run, tmp_path: Path
) -> None:
    repo = tmp_path / "monorepo"
    assert run(tmp_path, "init", "monorepo/health").exit_code == 0
    write(repo / "README.md", "Everything the organisation writes.\n")
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    commit(repo, "Start")
    branch(repo)
    write(repo / "health" / "articles" / "bad.md", BAD)
    write(repo / "articles" / "not-ours.md", BAD)  # outside the content repo: not gated by it
    commit(repo, "A bad article")

    result = run(repo / "health", "ci", "--base", "main", "--format", "github")

    assert result.exit_code == 1, result.output
    [error] = [a for a in annotations(result.output) if a["kind"] == "error"]
    assert (error["file"], error["line"]) == ("health/articles/bad.md", str(BAD_LINE))
    junit = ET.fromstring(run(repo / "health", "ci", "--base", "main", "--format", "junit").stdout)
    [case] = junit.iter("testcase")
    assert (case.get("name"), case.get("file")) == ("articles/bad.md", "health/articles/bad.md")


def test_a_problem_that_stops_the_gate_is_an_error_annotation_in_github_format(
    run: Run, shallow: Path
) -> None:
    result = run(shallow, "ci", "--base", "origin/main", "--format", "github")

    assert result.exit_code == 2
    [error] = annotations(result.stdout)
    assert (error["kind"], error["title"]) == ("error", "reviewflow ci")
    assert "shallow" in error["message"] and "fetch-depth: 0" in error["message"]
    assert "shallow" in result.stderr  # and the usual line for the log
