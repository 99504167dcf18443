"""One reader for reviewflow.toml and one for the schema, whatever command reads them and from where.

`check` and `new` read the work tree, `status`, `publish`, `verify` and the review actions the
commit at HEAD, `ci` both sides of the change, the history each event's commit: all through
`configfile.parse_config` and `schema.load_schema`, so a file is wrong in the same way everywhere,
and all its problems are named in one run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from reviewflow.config import RULE_IDS
from reviewflow.configfile import parse_config
from reviewflow.content.schema import bundled_schema, load_schema
from reviewflow.errors import ConfigError, InvalidFile, Problem
from reviewflow.layout import CONFIG_FILE, LOCKFILE, SCHEMA_FILE
from tests.conftest import git, write
from tests.gitrepo import RITA, act_as, forge, ok

Run = Callable[..., Result]

# Three problems of three kinds: a misspelt key, a value out of range, a rule id no rule has.
THREE_PROBLEMS = [
    ("approvals_required = 1", "approvals_required = 1\nquorum = 2"),
    ("review_cycle_days = 365", "review_cycle_days = 0"),
    ("[checks]\n", '[checks]\nrules = { "reference-olld" = "off" }\n'),
]
EXPECTED = [
    "policy.quorum: unknown key (check the spelling; see the README for the keys)",
    "policy.review_cycle_days: 0 is not allowed: must be a whole number of days from 1 to 3650",
    "checks.rules.reference-olld: unknown rule id; did you mean 'reference-old'?",
]


def break_config(repo: Path, edits: list[tuple[str, str]] = THREE_PROBLEMS) -> dict[str, int]:
    """Apply EDITS to reviewflow.toml; the line each expected problem is on."""
    path = repo / CONFIG_FILE
    text = path.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    lines = text.splitlines()

    def line_of(start: str) -> int:
        return next(n for n, line in enumerate(lines, 1) if line.startswith(start))

    return {
        "policy.quorum": line_of("quorum = 2"),
        "policy.review_cycle_days": line_of("review_cycle_days = 0"),
        "checks.rules.reference-olld": line_of("rules ="),
    }


def problem_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("reviewflow: ")]


# --- the loader itself -------------------------------------------------------------------------


def test_every_problem_is_reported_at_once_in_file_order() -> None:
    text = (
        "[policy]\n"
        "approvals_required = 3\n"  # more than the board: reported with the others, not after them
        "quorum = 2\n"
        "[[board]]\n"
        'name = "A"\nemail = "a@x.org"\ncredentials = "MD"\n'
        "[[board]]\n"
        'name = "B"\nemail = "A@X.org"\ncredentials = "MD"\n'
        "[checks]\n"
        "max_file_bytes = 12\n"
        'rules = { readability = "eror", "raw-htm" = "off" }\n'
    )
    with pytest.raises(InvalidFile) as raised:
        parse_config(text, "reviewflow.toml (at HEAD)")

    assert str(raised.value).splitlines() == [
        "reviewflow.toml (at HEAD):2: policy.approvals_required: 3 approvals can never be given: "
        "the board has only 2 member(s)",
        "reviewflow.toml (at HEAD):3: policy.quorum: unknown key (check the spelling; see the README for the keys)",
        'reviewflow.toml (at HEAD):10: board[1].email: "A@X.org" is listed twice (also board[0])',
        "reviewflow.toml (at HEAD):13: checks.max_file_bytes: 12 is not allowed: "
        "must be a whole number of bytes from 1024 to 16777216",
        "reviewflow.toml (at HEAD):14: checks.rules.readability: Input should be 'error', 'warning' or 'off'",
        "reviewflow.toml (at HEAD):14: checks.rules.raw-htm: unknown rule id; did you mean 'raw-html'?",
    ]
    assert raised.value.source == "reviewflow.toml (at HEAD)"
    assert len(raised.value.problems) == 6


def test_a_toml_syntax_error_names_its_line_and_column() -> None:
    with pytest.raises(InvalidFile) as raised:
        parse_config("[policy]\nreview_cycle_days = = 365\n")
    assert raised.value.problems == (Problem("", "invalid TOML: Invalid value", 2, 21),)
    assert str(raised.value) == "reviewflow.toml:2:21: invalid TOML: Invalid value"


def test_bytes_that_are_not_utf8_are_a_problem_not_a_crash() -> None:
    with pytest.raises(InvalidFile) as raised:
        parse_config(b"[policy]\napprovals_required = 1 # caf\xe9\n", "reviewflow.toml (committed at HEAD)")
    assert str(raised.value).startswith("reviewflow.toml (committed at HEAD): not UTF-8 text")


def test_a_valid_config_reads_the_same_from_text_and_bytes() -> None:
    text = '[policy]\napprovals_required = 1\n[checks]\nrules = { readability = "error" }\n'
    assert parse_config(text) == parse_config(text.encode("utf-8"))
    assert parse_config(text).checks.rule_setting("readability", "patient") == "error"
    assert parse_config(text).checks.rule_setting("readability", "professional") == "error"


def test_the_rule_ids_a_config_may_set_are_the_rules_check_runs() -> None:
    from reviewflow.checks.rules import RULES

    assert set(RULES) == RULE_IDS


def test_a_missing_retractions_file_is_reported_with_the_other_problems(tmp_path: Path) -> None:
    text = '[policy]\nquorum = 2\n[checks]\nretractions = "retractions.csv"\n'
    with pytest.raises(InvalidFile) as raised:
        parse_config(text, root=tmp_path)
    assert [p.key for p in raised.value.problems] == ["policy.quorum", "checks.retractions"]
    assert raised.value.problems[1].line == 4
    write(tmp_path / "retractions.csv", "")
    assert parse_config(text.replace("quorum = 2\n", ""), root=tmp_path).checks.retractions is not None
    # Without a ROOT (a config in git, judged for its board) the file is not looked for.
    assert parse_config(text.replace("quorum = 2\n", "")).checks.retractions is not None


def test_schema_problems_are_reported_at_once_with_their_place() -> None:
    with pytest.raises(InvalidFile) as raised:
        load_schema(b'{\n  "type": "object",\n  "required": [\n}\n', "schemas/article.schema.json (at HEAD)")
    assert str(raised.value) == "schemas/article.schema.json (at HEAD):4:1: invalid JSON: Expecting value"

    with pytest.raises(InvalidFile) as raised:
        load_schema('{"type": 12, "properties": {"title": {"minLength": -1}}}', SCHEMA_FILE)
    keys = sorted(p.key for p in raised.value.problems)
    assert keys == ["properties.title.minLength", "type"], str(raised.value)
    assert all("not a valid JSON Schema" in p.message for p in raised.value.problems)

    with pytest.raises(InvalidFile) as raised:
        load_schema(b"\xff{}", SCHEMA_FILE)
    assert str(raised.value).startswith(f"{SCHEMA_FILE}: not UTF-8 text")


def test_no_schema_file_is_the_bundled_schema_compiled_once() -> None:
    assert load_schema(None, "anything") is bundled_schema()
    assert bundled_schema().source == "bundled article.schema.json"


# --- the same file, the same problems, in every command ---------------------------------------


def test_check_status_and_publish_report_the_same_three_problems_in_one_run(
    run: Run, content_repo: Path, tmp_path: Path
) -> None:
    lines = break_config(content_repo)
    # `check` reads the work tree: the file need not be committed.
    check = run(content_repo, "check")
    assert check.exit_code == 2, check.output
    assert problem_lines(check.output) == [
        f"reviewflow: {CONFIG_FILE}:{lines[message.split(':')[0]]}: {message}" for message in EXPECTED
    ]
    # The commands that show review state judge by the committed file, and refuse the broken
    # edit in the work tree all the same, naming it; once committed, it is the committed one.
    commands = (("status",), ("publish", "--out", str(tmp_path / "site")), ("verify",), ("queue",))
    for where in ("work tree", "committed at HEAD"):
        if where == "committed at HEAD":
            git(content_repo, "commit", "-q", "-am", "Three mistakes")
        for command in (*commands, ("history", "what-is-poems-syndrome")):
            result = run(content_repo, *command)
            assert result.exit_code == 2, (command, result.output)
            reported = problem_lines(result.output)
            assert len(reported) == 3, (command, result.output)
            assert reported == [
                f"reviewflow: {CONFIG_FILE} ({where}):{lines[message.split(':')[0]]}: {message}"
                for message in EXPECTED
            ], (command, result.output)
    assert not (tmp_path / "site").exists()


def test_an_uncommitted_valid_config_is_named_as_not_the_one_that_judged(
    run: Run, content_repo: Path
) -> None:
    config = content_repo / CONFIG_FILE
    config.write_text(config.read_text() + "# a comment, not yet committed\n")
    for command in (("status",), ("verify",), ("queue",), ("ci", "--base", "HEAD")):
        result = run(content_repo, *command)
        assert result.exit_code == 0, (command, result.output)
        assert (
            f"reviewflow: note: {CONFIG_FILE} has uncommitted changes; what is shown was judged by the "
            "committed one (HEAD)"
        ) in result.output, command
    git(content_repo, "commit", "-q", "-am", "Comment")
    assert "note:" not in run(content_repo, "status").output


def test_ci_reports_the_same_three_problems_as_findings_on_their_lines(run: Run, content_repo: Path) -> None:
    git(content_repo, "checkout", "-q", "-b", "change")
    lines = break_config(content_repo)
    git(content_repo, "commit", "-q", "-am", "Three mistakes")

    result = run(content_repo, "ci", "--base", "main", "--format", "json")

    assert result.exit_code == 1, result.output
    errors = [f for f in json.loads(result.output)["findings"] if f["severity"] == "error"]
    assert [(f["rule"], f["line"]) for f in errors] == [
        ("config-invalid", lines[message.split(":")[0]]) for message in EXPECTED
    ]
    assert [f["message"] for f in errors] == EXPECTED


def test_an_unknown_rule_id_is_the_same_error_in_every_command(
    run: Run, content_repo: Path, tmp_path: Path
) -> None:
    edits = [("[checks]\n", '[checks]\nrules = { "reference-olld" = "off" }\n')]
    path = content_repo / CONFIG_FILE
    path.write_text(path.read_text(encoding="utf-8").replace(*edits[0], 1), encoding="utf-8")
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if text.startswith("rules ="))
    git(content_repo, "commit", "-q", "-am", "A misspelt rule id")
    git(content_repo, "commit", "-q", "--allow-empty", "-m", "A change that leaves the config alone")
    expected = "checks.rules.reference-olld: unknown rule id; did you mean 'reference-old'?"
    for command, source in (
        (("check",), CONFIG_FILE),
        (("status",), f"{CONFIG_FILE} (committed at HEAD)"),
        (("publish", "--out", str(tmp_path / "site")), f"{CONFIG_FILE} (committed at HEAD)"),
        (("ci", "--base", "HEAD~1"), f"{CONFIG_FILE} (at HEAD)"),  # untouched by the change: exit 2
    ):
        result = run(content_repo, *command)
        assert result.exit_code == 2, (command, result.output)
        assert problem_lines(result.output) == [f"reviewflow: {source}:{line}: {expected}"], (
            command,
            result.output,
        )


def test_an_event_under_a_committed_config_with_problems_does_not_count_and_says_how_many(
    run: Run, content_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok(run(content_repo, "submit", "what-is-poems-syndrome"))
    act_as(monkeypatch, RITA)
    ok(run(content_repo, "review", "what-is-poems-syndrome"))
    good = (content_repo / CONFIG_FILE).read_text(encoding="utf-8")
    break_config(content_repo)
    git(content_repo, "commit", "-q", "-am", "Three mistakes")
    forge(content_repo, "approve")  # by hand: reviewflow refuses to act under this config
    (content_repo / CONFIG_FILE).write_text(good, encoding="utf-8")
    git(content_repo, "commit", "-q", "-am", "Repaired")

    [status] = json.loads(ok(run(content_repo, "status", "--format", "json")).output)
    assert (status["state"], status["approved_by"]) == ("under-review", [])
    verify = run(content_repo, "verify")
    assert verify.exit_code == 1, verify.output
    # Two: in the history an unknown rule id is no problem (see the next test).
    assert f"invalid ({EXPECTED[0]} and 1 more problem(s))" in verify.output, verify.output


def test_an_event_under_a_config_naming_a_rule_this_version_lacks_still_counts(
    run: Run, content_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rule renamed or retired by a later release must not take back the approvals given
    under a configuration that named it: who was on the board does not depend on it."""
    path = content_repo / CONFIG_FILE
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("[checks]\n", '[checks]\nrules = { "retired-rule" = "off" }\n', 1))
    git(content_repo, "commit", "-q", "-am", "A rule a later release retired")
    forge(content_repo, "submit")
    act_as(monkeypatch, RITA)
    forge(content_repo, "review")
    forge(content_repo, "approve")
    path.write_text(good, encoding="utf-8")
    git(content_repo, "commit", "-q", "-am", "Drop the retired rule")

    [status] = json.loads(ok(run(content_repo, "status", "--format", "json")).output)
    assert status["state"] == "approved", status
    ok(run(content_repo, "verify"))


def test_a_broken_schema_is_the_same_error_for_check_and_publish(
    run: Run, content_repo: Path, tmp_path: Path
) -> None:
    write(content_repo / SCHEMA_FILE, '{\n  "type": "object",\n  "required": [\n}\n')
    check = run(content_repo, "check")
    assert check.exit_code == 2, check.output
    assert problem_lines(check.output) == [f"reviewflow: {SCHEMA_FILE}:4:1: invalid JSON: Expecting value"]
    git(content_repo, "commit", "-q", "-am", "A broken schema")
    publish = run(content_repo, "publish", "--out", str(tmp_path / "site"))
    assert publish.exit_code == 2, publish.output
    assert problem_lines(publish.output) == [
        f"reviewflow: {SCHEMA_FILE} (committed at HEAD):4:1: invalid JSON: Expecting value"
    ]


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        (SCHEMA_FILE, '{\n  "type": "object",\n  "maxProperties": ' + "9" * 5000 + "\n}\n",
         ":3:20: a whole number of 5,000 digits, more than the 4,300 reviewflow reads"),
        (SCHEMA_FILE, "[" * 5000 + "]" * 5000, ": nested too deeply to read"),  # too deep for the JSON reader
        (SCHEMA_FILE, '{"properties": ' * 400 + "{}" + "}" * 400, ": nested too deeply to read"),  # for the schema check
        (LOCKFILE, '{\n  "version": 1,\n  "works": {"doi:10.1/a": ' + "9" * 5000 + "}\n}\n",
         ":3:27: a whole number of 5,000 digits, more than the 4,300 reviewflow reads"),
        # Deep enough for the json module's reader, past the lockfile's walk (lockwalk.py) and its parse.
        (LOCKFILE, '{"version": 1, "works": {"doi:10.1/a": ' + "[" * 990 + "]" * 990 + "}}", ": nested too deeply to read"),
        (LOCKFILE, "[" * 5000 + "]" * 5000, ": nested too deeply to read"),
    ],
    ids=["schema-long-number", "schema-deep-json", "schema-deep-schema", "lock-long-number", "lock-deep-entry", "lock-deep-file"],
)  # fmt: skip
def test_a_schema_or_lockfile_past_python_s_limits_is_a_config_error_not_a_crash(
    run: Run, content_repo: Path, name: str, text: str, problem: str
) -> None:
    write(content_repo / name, text)
    check = run(content_repo, "check")
    assert check.exit_code == 2, check.output
    assert problem_lines(check.output) == [f"reviewflow: {name}{problem}"]


def test_a_config_error_is_a_config_error() -> None:
    # The CLI's boundary turns a ConfigError into exit 2: InvalidFile is one.
    assert issubclass(InvalidFile, ConfigError)
