"""`reviewflow ci` on changes to the configuration: reviewflow.toml and schemas/.

A configuration change is a change to every article: it must not pass the gate and then break
publishing. A change must not relax the rules it is judged by. And a reviewflow.toml the change
breaks is the change's finding, in every format, not an environment error.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from reviewflow.layout import CONFIG_FILE
from tests.conftest import article_text, git, write
from tests.gitcount import git_processes, total
from tests.test_ci import BAD, BAD_COLUMN, BAD_LINE, GOOD, WARNED, Run, annotations, branch, commit

EXAMPLE = "articles/what-is-poems-syndrome.md"  # the article `reviewflow init` writes; unchanged below
EXAMPLE_DISCLAIMER_LINE = 13  # its `disclaimer: patient`


def edit_config(repo: Path, old: str, new: str) -> str:
    text = (repo / CONFIG_FILE).read_text(encoding="utf-8")
    assert old in text
    write(repo / CONFIG_FILE, text.replace(old, new, 1))
    return text.replace(old, new, 1)


def findings(result_output: str) -> list[dict[str, object]]:
    payload = json.loads(result_output)
    found = payload["findings"]
    assert isinstance(found, list)
    return found


# --- 1. a configuration change is a change to every article ---------------------------------------


def test_renaming_a_disclaimer_fails_the_unchanged_articles_that_use_it(run: Run, content_repo: Path) -> None:
    branch(content_repo)
    edit_config(content_repo, "[disclaimers.patient]", "[disclaimers.patients]")
    commit(content_repo, "Rename the patient disclaimer")

    result = run(content_repo, "ci", "--base", "main", "--format", "json")

    assert result.exit_code == 1, result.output
    payload = json.loads(result.output)
    [error] = [f for f in payload["findings"] if f["severity"] == "error"]
    assert (error["rule"], error["path"], error["line"]) == (
        "disclaimer-unknown",
        EXAMPLE,
        EXAMPLE_DISCLAIMER_LINE,
    )
    assert "disclaimer 'patient' is not in reviewflow.toml" in error["message"]
    assert "unchanged" in error["message"]  # says why an article the change did not touch fails
    assert {"path": EXAMPLE, "change": "unchanged"}.items() <= payload["articles"][0].items()
    assert payload["summary"]["rechecked"] == 1
    assert payload["summary"]["passed"] is False


def test_many_unchanged_articles_are_checked_in_a_process_pool_with_the_same_outcome(
    run: Run, content_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import reviewflow.ci.articles

    for index in range(4):
        write(content_repo / "articles" / f"more-{index}.md", article_text(title=f"Article {index}"))
    write(content_repo / "articles" / "old-bad.md", BAD)
    commit(content_repo, "More articles")
    branch(content_repo)
    edit_config(content_repo, "[disclaimers.patient]", "[disclaimers.patients]")
    commit(content_repo, "Rename the patient disclaimer")
    monkeypatch.setattr(reviewflow.ci.articles, "PARALLEL_THRESHOLD", 2)  # a pool even for six articles

    result = run(content_repo, "ci", "--base", "main", "--format", "json")

    assert result.exit_code == 1, result.output
    payload = json.loads(result.output)
    assert payload["summary"]["rechecked"] == 6
    assert sorted(f["path"] for f in payload["findings"] if f["severity"] == "error") == sorted(
        [EXAMPLE, *(f"articles/more-{index}.md" for index in range(4))]
    )  # old-bad.md had its unknown disclaimer before the change


def test_a_schema_change_that_breaks_unchanged_articles_fails(run: Run, content_repo: Path) -> None:
    branch(content_repo)
    schema_path = content_repo / "schemas" / "article.schema.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    schema["required"].append("reviewed_on")
    schema["properties"]["reviewed_on"] = {"type": "string"}
    write(schema_path, json.dumps(schema, indent=2))
    commit(content_repo, "Require a new field")

    result = run(content_repo, "ci", "--base", "main", "--format", "github")

    assert result.exit_code == 1, result.output
    [error] = [a for a in annotations(result.output) if a["kind"] == "error"]
    assert (error["file"], error["title"]) == (EXAMPLE, "schema")
    assert "missing required field 'reviewed_on'" in error["message"]


def test_old_problems_in_unchanged_articles_do_not_block_a_config_change(
    run: Run, content_repo: Path
) -> None:
    write(content_repo / "articles" / "old-bad.md", BAD)
    commit(content_repo, "An old problem on main")
    branch(content_repo)
    edit_config(content_repo, "review_cycle_days = 365", "review_cycle_days = 180")
    commit(content_repo, "Review twice a year")

    result = run(content_repo, "ci", "--base", "main", "--format", "json")

    assert result.exit_code == 0, result.output
    assert "old-bad" not in result.output  # its error is the base's, not this change's
    assert json.loads(result.output)["summary"]["rechecked"] == 2


def test_a_change_to_an_article_alone_does_not_check_the_others(run: Run, content_repo: Path) -> None:
    write(content_repo / "articles" / "old-bad.md", BAD)
    commit(content_repo, "An old problem on main")
    branch(content_repo)
    write(content_repo / "articles" / "good.md", GOOD)
    commit(content_repo, "A good article")

    result = run(content_repo, "ci", "--base", "main", "--format", "json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["summary"]["rechecked"] == 0


def test_a_config_change_checks_every_article_in_a_fixed_number_of_git_calls(
    run: Run, content_repo: Path
) -> None:
    def git_calls(articles: int) -> Counter[str]:
        for index in range(articles):
            write(content_repo / "articles" / f"bulk-{articles}-{index}.md", GOOD)
        commit(content_repo, f"{articles} more articles")
        git(content_repo, "checkout", "-q", "-B", f"change-{articles}")
        edit_config(content_repo, "review_cycle_days = ", f"review_cycle_days = {articles}\n# was ")
        commit(content_repo, "A config change")
        with git_processes() as started:
            result = run(content_repo, "ci", "--base", "main", "--format", "json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["summary"]["rechecked"] == articles + 1 + (5 if articles > 5 else 0)
        git(content_repo, "checkout", "-q", "main")
        git(content_repo, "merge", "-q", "--ff-only", f"change-{articles}")
        return started

    small, large = git_calls(5), git_calls(40)
    assert small == large  # the same git processes for 6 or 46 articles
    assert 0 < total(large) <= 10, large
    # one `cat-file --batch` for the changed files and both configurations, one for every article
    assert (large["ls-tree"], large["cat-file"]) == (1, 2), large


# --- 2. a change cannot relax the rules it is judged by ---------------------------------------------


def test_a_change_cannot_switch_off_the_rule_that_would_fail_it(run: Run, content_repo: Path) -> None:
    branch(content_repo)
    config = edit_config(content_repo, "[checks]\n", '[checks]\nrules = { "disclaimer-unknown" = "off" }\n')
    write(content_repo / "articles" / "bad.md", BAD)
    commit(content_repo, "Switch the rule off and add an article it would fail")

    result = run(content_repo, "ci", "--base", "main", "--format", "github")

    assert result.exit_code == 1, result.output
    errors = [a for a in annotations(result.output) if a["kind"] == "error"]
    assert [(e["file"], e["line"], e["col"], e["title"]) for e in errors] == [
        ("articles/bad.md", str(BAD_LINE), str(BAD_COLUMN), "disclaimer-unknown")
    ]
    [warning] = [a for a in annotations(result.output) if a["kind"] == "warning"]
    assert warning["file"] == CONFIG_FILE and warning["title"] == "config-changed"
    assert "checks.rules.disclaimer-unknown: default → off" in warning["message"]
    assert "still checked at error" in warning["message"]  # the humans see that it did not apply here
    assert "disclaimer-unknown" in config.splitlines()[int(warning["line"]) - 1]


def test_a_rule_downgraded_to_a_warning_still_fails_the_changes_own_articles(
    run: Run, content_repo: Path
) -> None:
    branch(content_repo)
    edit_config(content_repo, "[checks]\n", '[checks]\nrules = { "disclaimer-unknown" = "warning" }\n')
    write(content_repo / "articles" / "bad.md", BAD)
    commit(content_repo, "Downgrade the rule")

    result = run(content_repo, "ci", "--base", "main", "--format", "json")

    assert result.exit_code == 1, result.output
    [error] = [f for f in findings(result.output) if f["severity"] == "error"]
    assert (error["rule"], error["path"]) == ("disclaimer-unknown", "articles/bad.md")


def test_a_change_may_make_a_rule_stricter(run: Run, content_repo: Path) -> None:
    branch(content_repo)
    edit_config(content_repo, "[checks]\n", '[checks]\nrules = { "reference-uncited" = "error" }\n')
    write(content_repo / "articles" / "warned.md", WARNED)
    commit(content_repo, "Make uncited references errors")

    result = run(content_repo, "ci", "--base", "main", "--format", "json")

    assert result.exit_code == 1, result.output
    [error] = [f for f in findings(result.output) if f["severity"] == "error"]
    assert (error["rule"], error["path"]) == ("reference-uncited", "articles/warned.md")


def test_a_rule_the_base_switched_off_stays_off(run: Run, content_repo: Path) -> None:
    edit_config(content_repo, "[checks]\n", '[checks]\nrules = { "reference-uncited" = "off" }\n')
    commit(content_repo, "We do not flag uncited references")
    branch(content_repo)
    write(content_repo / "articles" / "warned.md", WARNED)
    commit(content_repo, "An article with an uncited reference")

    result = run(content_repo, "ci", "--base", "main", "--strict", "--format", "json")

    assert result.exit_code == 0, result.output
    assert findings(result.output) == []


def test_switching_a_rule_off_and_renaming_a_disclaimer_still_fails_the_unchanged_articles(
    run: Run, content_repo: Path
) -> None:
    branch(content_repo)
    edit_config(content_repo, "[disclaimers.patient]", "[disclaimers.patients]")
    edit_config(content_repo, "[checks]\n", '[checks]\nrules = { "disclaimer-unknown" = "off" }\n')
    commit(content_repo, "Rename the disclaimer and hide it")

    result = run(content_repo, "ci", "--base", "main", "--format", "json")

    assert result.exit_code == 1, result.output
    [error] = [f for f in findings(result.output) if f["severity"] == "error"]
    assert (error["rule"], error["path"]) == ("disclaimer-unknown", EXAMPLE)


# --- 3. a reviewflow.toml the change breaks is the change's finding ----------------------------------


@pytest.fixture
def broken_config(content_repo: Path) -> tuple[Path, int]:
    """A branch that adds an article and misspells a policy key: (repo, the line of the key)."""
    branch(content_repo)
    config = edit_config(content_repo, "approvals_required = 1", "approvals_required = 1\nquorum = 3")
    write(content_repo / "articles" / "good.md", GOOD)
    commit(content_repo, "A misspelt key")
    line = next(n for n, text in enumerate(config.splitlines(), 1) if text.startswith("quorum"))
    return content_repo, line


def test_an_invalid_config_at_head_is_an_error_finding_in_text(
    run: Run, broken_config: tuple[Path, int]
) -> None:
    repo, line = broken_config
    result = run(repo, "ci", "--base", "main")

    assert result.exit_code == 1, result.output
    assert f"reviewflow.toml:{line}:1: error config-invalid policy.quorum: unknown key" in result.stdout
    assert "articles/good.md" in result.stdout and "not checked" in result.stdout
    assert "(not mergeable)" in result.stdout
    assert "Traceback" not in result.output


def test_an_invalid_config_at_head_is_an_error_finding_in_json(
    run: Run, broken_config: tuple[Path, int]
) -> None:
    repo, line = broken_config
    result = run(repo, "ci", "--base", "main", "--format", "json")

    assert result.exit_code == 1, result.output
    [error] = findings(result.output)
    assert (error["rule"], error["severity"], error["path"], error["line"]) == (
        "config-invalid",
        "error",
        CONFIG_FILE,
        line,
    )
    assert json.loads(result.output)["articles"][0]["checked"] is False


def test_an_invalid_config_at_head_is_an_annotation_on_its_line(
    run: Run, broken_config: tuple[Path, int]
) -> None:
    repo, line = broken_config
    result = run(repo, "ci", "--base", "main", "--format", "github")

    assert result.exit_code == 1, result.output
    [error] = [a for a in annotations(result.output) if a["kind"] == "error"]
    assert (error["file"], error["line"], error["title"]) == (CONFIG_FILE, str(line), "config-invalid")


def test_an_invalid_config_at_head_is_a_failed_junit_testcase(
    run: Run, broken_config: tuple[Path, int]
) -> None:
    repo, line = broken_config
    result = run(repo, "ci", "--base", "main", "--format", "junit")

    assert result.exit_code == 1, result.output
    cases = {case.get("name"): case for case in ET.fromstring(result.stdout).iter("testcase")}
    failure = cases[CONFIG_FILE].find("failure")
    assert failure is not None and failure.get("type") == "config-invalid"
    assert f"reviewflow.toml:{line}:1: error config-invalid" in (failure.text or "")
    skipped = cases["articles/good.md"].find("skipped")
    assert skipped is not None and "reviewflow.toml" in (skipped.get("message") or "")


def test_a_toml_syntax_error_at_head_names_its_line(run: Run, content_repo: Path) -> None:
    branch(content_repo)
    edit_config(content_repo, "review_cycle_days = 365", "review_cycle_days = = 365")
    commit(content_repo, "A typo")
    line = next(
        n
        for n, text in enumerate((content_repo / CONFIG_FILE).read_text().splitlines(), 1)
        if text.startswith("review_cycle_days")
    )

    result = run(content_repo, "ci", "--base", "main", "--format", "json")

    assert result.exit_code == 1, result.output
    [error] = findings(result.output)
    assert (error["rule"], error["line"]) == ("config-invalid", line)
    assert "invalid TOML" in str(error["message"])


def test_an_unknown_rule_id_at_head_is_a_finding(run: Run, content_repo: Path) -> None:
    branch(content_repo)
    config = edit_config(content_repo, "[checks]\n", '[checks]\nrules = { "disclaimer-unknwon" = "off" }\n')
    commit(content_repo, "A misspelt rule")

    result = run(content_repo, "ci", "--base", "main", "--format", "json")

    assert result.exit_code == 1, result.output
    [error] = findings(result.output)
    assert error["rule"] == "config-invalid" and "disclaimer-unknwon" in str(error["message"])
    assert "rules" in config.splitlines()[int(str(error["line"])) - 1]


def test_an_invalid_schema_at_head_is_a_finding(run: Run, content_repo: Path) -> None:
    branch(content_repo)
    write(content_repo / "schemas" / "article.schema.json", '{\n  "type": "object",\n  "required": [\n}\n')
    write(content_repo / "articles" / "good.md", GOOD)
    commit(content_repo, "Break the schema")

    result = run(content_repo, "ci", "--base", "main", "--format", "json")

    assert result.exit_code == 1, result.output
    [error] = [f for f in findings(result.output) if f["severity"] == "error"]
    assert (error["rule"], error["path"], error["line"]) == (
        "schema-invalid",
        "schemas/article.schema.json",
        4,
    )
    assert "invalid JSON" in str(error["message"])


def test_a_config_broken_at_the_base_and_untouched_by_the_change_still_exits_2(
    run: Run, content_repo: Path
) -> None:
    edit_config(content_repo, "approvals_required = 1", "approvals_required = 1\nquorum = 3")
    commit(content_repo, "A broken config merged without the gate")
    branch(content_repo)
    write(content_repo / "articles" / "good.md", article_text(title="Another"))
    commit(content_repo, "An unrelated change")

    result = run(content_repo, "ci", "--base", "main")

    lines = (content_repo / CONFIG_FILE).read_text().splitlines()
    line = next(n for n, text in enumerate(lines, 1) if text.startswith("quorum = 3"))
    assert result.exit_code == 2
    assert f"reviewflow.toml (at HEAD):{line}: policy.quorum: unknown key" in result.stderr
    assert "Traceback" not in result.output


CONFIG_WITH_PROBLEMS = """\
[policy]
approvals_required = 1
quorum = 2

[[board]]
name = "Dr. Rita Reviewer"
email = "rita@board.example"
credentials = "MD"

[[board]]
name = "Dr. Sam Second"
email = "not an address"
credentials = "MD"

[disclaimers.patient]
audience = "everyone"
text = "General information."
"""


@pytest.mark.parametrize(
    ("key", "line"),
    [
        ("policy.quorum", 3),
        ("board[1].email", 12),
        ("disclaimers.patient.audience", 16),
    ],
)
def test_each_config_problem_points_at_its_line(key: str, line: int) -> None:
    from reviewflow.ci.config_diff import config_problems
    from reviewflow.configfile import parse_config
    from reviewflow.errors import ConfigError

    with pytest.raises(ConfigError) as raised:
        parse_config(CONFIG_WITH_PROBLEMS, "reviewflow.toml (at HEAD)")
    problems = config_problems(raised.value)

    assert len(problems) == 3  # every problem, not just the first
    [problem] = [p for p in problems if p.message.startswith(f"{key}: ")]
    assert (problem.rule, problem.path, problem.line) == ("config-invalid", CONFIG_FILE, line)


def test_a_problem_with_the_whole_board_points_at_its_first_table() -> None:
    from reviewflow.tomltext import line_of_key

    text = '[policy]\napprovals_required = 1\n\n[[board]]\nname = "A"\n'
    assert line_of_key(text, "board") == 4
