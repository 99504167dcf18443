"""Output that cannot be turned against its reader, and actions that never claim a false success.

The repository is hostile here: an article file whose name holds a newline and a GitHub
workflow command, commit authors, emails and messages with terminal escape sequences, bidi
overrides and rich markup. Every report, in every format, must show them as visible escapes
(`\\n`, `\\x1b`, `\\u202e`): no raw control character, and no line a CI runner would run as a
command other than reviewflow's own annotations. And an action reports success only for an
event the history replay counts, on a branch.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reviewflow.cli.commands import cli
from reviewflow.cli.reporters import visible
from tests.conftest import article_text, as_author, git, write
from tests.gitrepo import ALICE, MALLORY, PATH, SLUG, act_as, head, ok, refused

Run = Callable[..., Result]

# A file name that, printed raw, puts a GitHub workflow command at the start of a line.
EVIL_NAME = "x\n::error file=evil.md,line=1::pwned\x1b]0;owned\x07.md"
EVIL_PATH = f"articles/{EVIL_NAME}"
# Terminal escapes (OSC title, clear screen, an 8-bit CSI), a bidi override and rich markup.
HOSTILE = "\x1b]0;pwned\x07\x1b[2J\x9b31m\u202e[bold]loud[/bold]"
EVE = (f"Eve {HOSTILE}", "eve\x1b[2J@authors.example")
EVIL_MESSAGE = f"Looks fine\n::error file=a.md::injected\n  ::warning::indented\n{HOSTILE}"

# What may not reach a reader raw: C0 controls but the newline ending a line, DEL, C1
# controls, line and paragraph separators, bidi controls.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
OWN_STYLE = re.compile("\x1b\\[[0-9;]*m")  # reviewflow's own colours (click.style)


@pytest.fixture
def colour_run(monkeypatch: pytest.MonkeyPatch) -> Run:
    """The CLI with colour kept, as on a terminal: nothing is stripped before the test sees it."""

    def invoke(directory: Path, *args: str) -> Result:
        monkeypatch.chdir(directory)
        return CliRunner().invoke(cli, list(args), catch_exceptions=False, color=True)

    return invoke


def assert_inert(output: str, commands: int = 0) -> None:
    """No raw control character but reviewflow's colours; no line a runner would take for a
    command, but COMMANDS annotations reviewflow wrote (checked by `annotations`)."""
    text = OWN_STYLE.sub("", output)
    assert not RAW_CONTROL.search(text), repr(text)
    started = [line for line in text.splitlines() if line.lstrip().startswith(("::", "##["))]
    assert len(started) == commands, started


def annotations(output: str) -> list[dict[str, str]]:
    """Each workflow command's properties and message, decoded as GitHub decodes them."""
    found = []
    for line in output.splitlines():
        match = re.fullmatch(r"::(\w+) ([^:]*)::(.*)", line)
        if match is None:
            assert not line.lstrip().startswith("::"), line
            continue
        properties = dict(item.split("=", 1) for item in match.group(2).split(","))
        decoded = {key: _unescape(value) for key, value in properties.items()}
        found.append({"kind": match.group(1), **decoded, "message": _unescape(match.group(3))})
    return found


def _unescape(value: str) -> str:
    for code, char in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        value = value.replace(code, char)
    return value


@pytest.fixture
def evil_file(content_repo: Path) -> Path:
    write(content_repo / EVIL_PATH, article_text())
    return content_repo


# --- check: text, github, json ---------------------------------------------------------------------


def test_check_text_shows_a_file_name_with_a_newline_as_one_escaped_line(
    evil_file: Path, colour_run: Run
) -> None:
    result = colour_run(evil_file, "check")
    assert result.exit_code == 1, result.output
    assert_inert(result.output)
    assert f"{visible(EVIL_PATH)}:1:1:" in OWN_STYLE.sub("", result.output)


def test_check_github_annotates_the_file_by_its_real_name_and_nothing_else(
    evil_file: Path, colour_run: Run
) -> None:
    result = colour_run(evil_file, "check", "--format", "github")
    assert result.exit_code == 1, result.output
    found = annotations(result.output)
    assert_inert(result.output, commands=len(found))
    assert [a["file"] for a in found] == [visible(EVIL_PATH)]
    assert all("\n" not in a["message"] for a in found)
    # JSON, for a program: the exact name, in ASCII.
    result = colour_run(evil_file, "check", "--format", "json")
    assert result.output.isascii()
    assert_inert(result.output)
    assert [f["path"] for f in json.loads(result.output)["findings"]] == [EVIL_PATH]


# --- the review commands: status, history, queue, verify, and an action's own output -------------


@pytest.fixture
def hostile_history(content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Eve (hostile name and email) submits with a hostile message, and Mallory (not on the
    board, hostile name) forges an approval with it: an invalid event that verify reports."""
    as_author(monkeypatch, *EVE)
    ok(run(content_repo, "submit", SLUG, "-m", EVIL_MESSAGE))
    as_author(monkeypatch, f"Mallory {HOSTILE}", MALLORY[1])
    blob = git(content_repo, "rev-parse", f"HEAD:{PATH}").strip()
    body = f"reviewflow: approve {SLUG}\n\n{EVIL_MESSAGE}\n\n"
    body += f"Reviewflow-Article: {SLUG}\nReviewflow-Action: approve\nReviewflow-Content: {blob}\n"
    git(content_repo, "commit", "-q", "--allow-empty", "--cleanup=verbatim", "-m", body)
    act_as(monkeypatch, ALICE)
    return content_repo


def test_an_action_shows_a_hostile_actor_inertly(
    content_repo: Path, colour_run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_author(monkeypatch, *EVE)
    result = colour_run(content_repo, "submit", SLUG, "-m", EVIL_MESSAGE)
    assert result.exit_code == 0, result.output
    assert_inert(result.output)
    assert visible(EVE[0]) in result.output


@pytest.mark.parametrize(
    "args",
    [("history", SLUG), ("verify",), ("queue",)],
    ids=["history", "verify", "queue"],
)
def test_review_reports_show_names_and_messages_from_commits_inertly(
    hostile_history: Path, colour_run: Run, args: tuple[str, ...]
) -> None:
    result = colour_run(hostile_history, *args)
    assert result.exit_code in (0, 1), result.output
    assert_inert(result.output)
    if args[0] in ("history", "verify"):
        # Rich markup is shown as it is written, never interpreted.
        assert "[bold]loud[/bold]" in result.output
        assert "\\x1b]0;pwned\\x07" in result.output


def test_history_quotes_message_lines_that_look_like_workflow_commands_inertly(
    hostile_history: Path, colour_run: Run
) -> None:
    result = colour_run(hostile_history, "history", SLUG)
    assert "\\x3a:error file=a.md::injected" in result.output
    assert "\\x3a:warning::indented" in result.output


@pytest.mark.parametrize(
    "args", [("history", SLUG), ("verify",), ("queue",)], ids=["history", "verify", "queue"]
)
def test_review_json_round_trips_hostile_strings_in_ascii(
    hostile_history: Path, colour_run: Run, args: tuple[str, ...]
) -> None:
    result = colour_run(hostile_history, *args, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    assert result.output.isascii()
    assert_inert(result.output)
    data = json.loads(result.output)
    if args[0] == "history":
        assert [e["actor_name"] for e in data] == [EVE[0], f"Mallory {HOSTILE}"]
        assert data[0]["message"] == EVIL_MESSAGE
    if args[0] == "queue":
        assert data[0]["submitted_by"] == f"{EVE[0]} <{EVE[1]}>"


def test_diff_shows_hostile_article_text_inertly(content_repo: Path, colour_run: Run) -> None:
    with (content_repo / PATH).open("a", encoding="utf-8") as handle:
        handle.write(f"\n{HOSTILE}\n::error file=a.md::from the article\n")
    git(content_repo, "commit", "-q", "-am", "A hostile paragraph")
    result = colour_run(content_repo, "diff", SLUG)
    assert result.exit_code == 0, result.output
    assert_inert(result.output)
    assert "[bold]loud[/bold]" in result.output


def test_error_messages_show_what_the_user_typed_inertly(content_repo: Path, colour_run: Run) -> None:
    result = colour_run(content_repo, "history", f"articles/{HOSTILE}\n::error::typed.md")
    assert result.exit_code == 2, result.output
    assert_inert(result.output)
    result = colour_run(content_repo, "ci", "--base", f"{HOSTILE}", "--format", "github")
    assert result.exit_code == 2, result.output
    found = annotations(result.output)
    assert_inert(result.output, commands=len(found))
    assert [a["kind"] for a in found] == ["error"]


# --- ci: text, github, junit, json -----------------------------------------------------------------

MALLORY_EMAIL = "mallory\x1b]0;pwned\x07\u202e@elsewhere.example"


@pytest.fixture
def hostile_change(content_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A change that adds the evil file and carries a forged approval with a hostile email."""
    git(content_repo, "checkout", "-q", "-b", "feature")
    write(content_repo / EVIL_PATH, article_text())
    git(content_repo, "add", "-A")
    git(content_repo, "commit", "-q", "-m", "Add an article")
    as_author(monkeypatch, f"Mallory {HOSTILE}", MALLORY_EMAIL)
    blob = git(content_repo, "rev-parse", f"HEAD:{PATH}").strip()
    body = f"reviewflow: approve {SLUG}\n\n{EVIL_MESSAGE}\n\n"
    body += f"Reviewflow-Article: {SLUG}\nReviewflow-Action: approve\nReviewflow-Content: {blob}\n"
    git(content_repo, "commit", "-q", "--allow-empty", "--cleanup=verbatim", "-m", body)
    act_as(monkeypatch, ALICE)
    return content_repo


def test_ci_text_is_inert(hostile_change: Path, colour_run: Run) -> None:
    result = colour_run(hostile_change, "ci", "--base", "main")
    assert result.exit_code == 1, result.output
    assert_inert(result.output)
    assert visible(EVIL_PATH) in result.output
    assert visible(MALLORY_EMAIL.lower()) in result.output


def test_ci_github_writes_only_its_own_annotations(hostile_change: Path, colour_run: Run) -> None:
    result = colour_run(hostile_change, "ci", "--base", "main", "--format", "github")
    assert result.exit_code == 1, result.output
    found = annotations(result.output)
    assert_inert(result.output, commands=len(found))
    files = {a.get("file") for a in found}
    assert visible(EVIL_PATH) in files
    assert all("\n" not in value for a in found for value in a.values())


def test_ci_junit_is_xml_1_0_with_the_names_escaped(hostile_change: Path, colour_run: Run) -> None:
    result = colour_run(hostile_change, "ci", "--base", "main", "--format", "junit")
    assert result.exit_code == 1, result.output
    assert_inert(result.output)
    suite = ET.fromstring(result.output.split("\n", 1)[1])
    names = {case.get("name") for case in suite.iter("testcase")}
    assert visible(EVIL_PATH) in names
    failures = " ".join(f.text or "" for f in suite.iter("failure"))
    assert visible(MALLORY_EMAIL.lower()) in failures


def test_ci_json_round_trips_every_name_in_ascii(hostile_change: Path, colour_run: Run) -> None:
    result = colour_run(hostile_change, "ci", "--base", "main", "--format", "json")
    assert result.exit_code == 1, result.output
    assert result.output.isascii()
    assert_inert(result.output)
    data = json.loads(result.output)
    assert EVIL_PATH in [a["path"] for a in data["articles"]]
    assert [e["actor"] for e in data["events"]] == [MALLORY_EMAIL.lower()]


def test_ci_job_summary_is_inert(
    hostile_change: Path, colour_run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    colour_run(hostile_change, "ci", "--base", "main", "--format", "github")
    assert_inert(summary.read_text(encoding="utf-8"))


# --- actions: on a branch, and reported only when they count -------------------------------------


def commits(repo: Path) -> int:
    return int(git(repo, "rev-list", "--count", "--all").strip())


def test_an_action_on_a_detached_head_is_refused_before_anything_is_committed(
    content_repo: Path, run: Run
) -> None:
    git(content_repo, "checkout", "-q", "--detach")
    before, count = head(content_repo), commits(content_repo)
    refused(run(content_repo, "submit", SLUG), "HEAD is detached", "git switch <branch>", "git switch -c")
    assert head(content_repo) == before and commits(content_repo) == count
    assert git(content_repo, "reflog", "-1", "--format=%H").strip() == before


def test_an_action_judged_under_a_substituted_config_does_not_claim_success(
    content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`git replace` swaps the committed reviewflow.toml for one with Mallory on the board. The
    history replay judges by the real objects, so Mallory's review would not count: the action
    must not say "now under-review" (whether it refuses before committing or undoes its commit)."""
    ok(run(content_repo, "submit", SLUG))
    config = git(content_repo, "rev-parse", "HEAD:reviewflow.toml").strip()
    forged = (content_repo / "reviewflow.toml").read_text(encoding="utf-8")
    forged += '\n[[board]]\nname = "Mallory"\nemail = "mallory@elsewhere.example"\ncredentials = "MD"\n'
    write(content_repo / "forged.toml", forged)
    substitute = git(content_repo, "hash-object", "-w", "forged.toml").strip()
    (content_repo / "forged.toml").unlink()
    git(content_repo, "replace", config, substitute)
    before = head(content_repo)
    act_as(monkeypatch, MALLORY)
    result = run(content_repo, "review", SLUG)
    output = refused(result, "mallory@elsewhere.example")
    assert "now under-review" not in output
    assert head(content_repo) == before
    act_as(monkeypatch, ALICE)
    ok(run(content_repo, "verify"))
    assert '"state": "submitted"' in ok(run(content_repo, "status", SLUG, "--format", "json")).output


def test_an_event_a_hook_rewrote_is_undone_not_reported(
    content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A prepare-commit-msg hook (not skipped by --no-verify) breaks the content trailer: the
    recorded event does not count, so reviewflow must not report it as made."""
    hook = content_repo / ".git" / "hooks" / "prepare-commit-msg"
    write(
        hook,
        "#!/bin/sh\nsed -i 's/^Reviewflow-Content: .*/Reviewflow-Content: 0000000000000000000000000000000000000000/' \"$1\"\n",
    )
    hook.chmod(0o755)
    before = head(content_repo)
    result = run(content_repo, "submit", SLUG)
    if result.exit_code == 0:  # hooks off for reviewflow's commits: then the event must count
        ok(run(content_repo, "verify"))
        return
    output = refused(result, "does not count", "undid")
    assert "now submitted" not in output
    assert head(content_repo) == before
    ok(run(content_repo, "verify"))
