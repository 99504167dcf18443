"""The CLI as a user meets it: exit codes, output formats, config errors, init and new."""

from __future__ import annotations

import hashlib
import io
import json
import os
import pty
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reviewflow.cli.commands import cli
from reviewflow.progress import progress_bar, shows_progress
from tests.conftest import PROJECT, article_text, make_content_repo, write
from tests.gitrepo import ALICE, RITA, SLUG, act_as

Run = Callable[..., Result]


@pytest.fixture
def repo(tmp_path: Path, run: Run) -> Path:
    run(tmp_path, "init", "lib")
    return tmp_path / "lib"


# --- check output and exit codes ------------------------------------------------------------


def test_check_passes_on_a_fresh_repo(run: Run, repo: Path) -> None:
    result = run(repo, "check")
    assert result.exit_code == 0, result.output
    assert "1 file checked: 0 errors, 0 warnings (ok)" in result.output


def test_warnings_pass_unless_strict(run: Run, repo: Path) -> None:
    write(repo / "articles" / "warned.md", article_text("POEMS syndrome is rare.\n"))
    relaxed = run(repo, "check")
    assert relaxed.exit_code == 0
    assert relaxed.output.splitlines()[-1] == "2 files checked: 0 errors, 1 warning (ok)"
    strict = run(repo, "check", "--strict")
    assert strict.exit_code == 1
    assert "warning reference-uncited" in strict.output
    # the verdict in the summary is the exit code's
    assert strict.output.splitlines()[-1] == "2 files checked: 0 errors, 1 warning (failed)"


def test_json_format(run: Run, repo: Path) -> None:
    write(repo / "articles" / "bad.md", article_text(disclaimer="legal"))
    result = run(repo, "check", "--format", "json")
    assert result.exit_code == 1
    payload = json.loads(result.output)
    assert payload["findings"] == [
        {
            "rule": "disclaimer-unknown",
            "severity": "error",
            "path": "articles/bad.md",
            "line": 9,
            "column": 13,
            "message": "disclaimer 'legal' is not in reviewflow.toml (known: patient, professional)",
        }
    ]
    assert payload["summary"] == {
        "files": 2,
        "files_with_findings": 1,
        "errors": 1,
        "warnings": 0,
        "intended": 0,
    }


def test_github_format(run: Run, repo: Path) -> None:
    write(repo / "articles" / "bad.md", article_text("Rare [1]. 80% respond.\n", disclaimer="legal"))
    result = run(repo, "check", "--format", "github")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == (
        "::error file=articles/bad.md,line=9,col=13,title=disclaimer-unknown::"
        "disclaimer 'legal' is not in reviewflow.toml (known: patient, professional)"
    )
    assert lines[1].startswith("::warning file=articles/bad.md,line=19,col=11,title=evidence-uncited::")


def test_colour_on_terminal_and_never_with_no_color(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(repo / "articles" / "bad.md", article_text(disclaimer="legal"))
    monkeypatch.chdir(repo)
    coloured = CliRunner().invoke(cli, ["check"], color=True)
    assert "\x1b[31m" in coloured.output
    monkeypatch.setenv("NO_COLOR", "1")
    plain = CliRunner().invoke(cli, ["check"], color=True)
    assert "\x1b[" not in plain.output
    assert "articles/bad.md:9:13: error disclaimer-unknown" in plain.output


def test_every_command_honours_no_color(content_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One colour decision for all commands: on a terminal, coloured unless NO_COLOR is set."""
    monkeypatch.chdir(content_repo)

    def invoke(*args: str) -> str:
        result = CliRunner().invoke(cli, list(args), color=True, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    act_as(monkeypatch, ALICE)
    assert "\x1b[" in invoke("submit", SLUG, "-m", "Ready")
    act_as(monkeypatch, RITA)
    assert "\x1b[" in invoke("status")
    monkeypatch.setenv("NO_COLOR", "1")
    outputs = {
        "review": invoke("review", SLUG),
        "status": invoke("status"),
        "history": invoke("history", SLUG),
        "verify": invoke("verify"),
        "queue": invoke("queue"),
        "diff": invoke("diff", SLUG),
        "check": invoke("check"),
    }
    assert {name: "\x1b[" in text for name, text in outputs.items()} == dict.fromkeys(outputs, False)
    assert "under-review" in outputs["status"]


def test_check_named_paths_and_directories(run: Run, repo: Path) -> None:
    write(repo / "drafts" / "other.md", article_text(disclaimer="legal"))
    assert run(repo, "check", "drafts").exit_code == 1
    assert run(repo, "check", "articles/what-is-poems-syndrome.md").exit_code == 0


def test_missing_path_is_a_usage_error(run: Run, repo: Path) -> None:
    result = run(repo, "check", "articles/nope.md")
    assert result.exit_code == 2
    assert "articles/nope.md: no such file or directory" in result.output


def test_dash_c_runs_elsewhere(run: Run, repo: Path, tmp_path: Path) -> None:
    result = run(tmp_path, "-C", str(repo), "check")
    assert result.exit_code == 0, result.output


# --- configuration errors ---------------------------------------------------------------------


def test_missing_config_is_exit_2(run: Run, tmp_path: Path) -> None:
    result = run(tmp_path, "check")
    assert result.exit_code == 2
    assert "reviewflow.toml not found" in result.output
    assert "reviewflow init" in result.output


def test_toml_syntax_error_names_file_and_line(run: Run, repo: Path) -> None:
    (repo / "reviewflow.toml").write_text("[policy]\napprovals_required = \n")
    result = run(repo, "check")
    assert result.exit_code == 2
    assert "reviewflow.toml:2:22: invalid TOML: Invalid value" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        (
            "[policy]\napprovals_required = 0\n",
            "reviewflow.toml:2: policy.approvals_required: 0 is not allowed: must be a whole number from 1 to 20",
        ),
        ("[policy]\napprovals_requird = 2\n", "reviewflow.toml:2: policy.approvals_requird: unknown key"),
        (
            '[[board]]\nname = "A"\nemail = "not-an-email"\ncredentials = "MD"\n',
            "reviewflow.toml:3: board[0].email:",
        ),
        (
            '[disclaimers.patient]\naudience = "kids"\ntext = "x"\n',
            "reviewflow.toml:2: disclaimers.patient.audience:",
        ),
        (
            '[[board]]\nname = "A"\nemail = "a@x.org"\ncredentials = "MD"\nsigning_key = "not a key"\n',
            "board[0].signing_key",
        ),
        (
            '[[board]]\nname = "A"\nemail = "a@x.org"\ncredentials = "MD"\n[[board]]\nname = "B"\nemail = "A@X.org"\ncredentials = "MD"\n',
            "listed twice",
        ),
        (
            '[policy]\napprovals_required = 3\n[[board]]\nname = "A"\nemail = "a@x.org"\ncredentials = "MD"\n',
            "has only 1 member",
        ),
    ],
)
def test_bad_config_values_name_the_key(run: Run, repo: Path, toml: str, expected: str) -> None:
    (repo / "reviewflow.toml").write_text(toml)
    result = run(repo, "check")
    assert result.exit_code == 2
    assert expected in result.output


def test_every_config_problem_is_reported_at_once(run: Run, repo: Path) -> None:
    (repo / "reviewflow.toml").write_text("[policy]\napprovals_required = 0\nreview_cycle_days = -1\n")
    result = run(repo, "check")
    assert "policy.approvals_required" in result.output
    assert "policy.review_cycle_days" in result.output


# --- the error boundary ------------------------------------------------------------------------


def test_internal_error_is_one_line_and_exit_3(run: Run, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A bug in one file's check is that file's `internal-error` finding (tests/test_bad_input.py);
    # a bug outside any one file, here in the reporter, ends the command.
    from reviewflow.cli.reporters import REPORTERS

    def broken(*args: object) -> None:
        raise RuntimeError("reporter exploded")

    monkeypatch.setitem(REPORTERS, "text", broken)
    result = run(repo, "check")
    assert result.exit_code == 3
    assert result.output.strip().splitlines() == [
        "reviewflow: internal error: RuntimeError: reporter exploded (re-run with --debug for the traceback, and please report it)"
    ]
    debug = run(repo, "--debug", "check")
    assert debug.exit_code == 3
    assert "Traceback" in debug.output


@pytest.mark.parametrize("command", [["check"], ["status"], ["check", "--format", "json"]])
def test_a_closed_stdout_ends_quietly(content_repo: Path, command: list[str]) -> None:
    """`reviewflow check | head -1`: no 'internal error', no traceback, the SIGPIPE exit code."""
    process = subprocess.Popen(
        [sys.executable, "-m", "reviewflow", *command],
        cwd=content_repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before the first line
    stderr = process.stderr.read().decode()
    assert process.wait() == 141, stderr
    assert stderr == ""


def many_articles(repo: Path, count: int = 310) -> None:
    for number in range(count):
        write(repo / "articles" / f"article-{number}.md", article_text())


def run_check_with_stderr_on_a_terminal(
    repo: Path, env: dict[str, str], command: tuple[str, ...] = ("check", "--no-cache")
) -> tuple[int, str]:
    """A reviewflow command (default `check`) with stderr on a pseudo-terminal: its exit code
    and what the terminal showed."""
    terminal, child_end = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "reviewflow", *command],
        cwd=repo,
        stdout=subprocess.DEVNULL,
        stderr=child_end,
        env=env,
    )
    os.close(child_end)
    shown = b""
    while True:
        try:
            data = os.read(terminal, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        shown += data
    os.close(terminal)
    return process.wait(), shown.decode("utf-8", "replace")


def test_a_long_check_shows_progress_on_a_terminal_only(repo: Path) -> None:
    many_articles(repo)
    env = {name: value for name, value in os.environ.items() if name != "CI"}
    code, shown = run_check_with_stderr_on_a_terminal(repo, env)
    assert code == 0
    assert "Checking articles" in shown and "311/311" in shown
    # in CI: silent, terminal or not
    code, shown = run_check_with_stderr_on_a_terminal(repo, {**env, "CI": "true"})
    assert (code, shown) == (0, "")
    # off a terminal (a pipe): silent
    piped = subprocess.run(
        [sys.executable, "-m", "reviewflow", "check", "--no-cache"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
    )
    assert piped.returncode == 0
    assert piped.stderr == ""
    assert piped.stdout == "311 files checked: 0 errors, 0 warnings (ok)\n"


def test_a_long_publish_shows_progress_on_a_terminal_only(tmp_path: Path) -> None:
    sys.path.insert(0, str(PROJECT / "bench"))
    import corpus  # the benchmark's generator: 400 reviewed articles (~360 approved) in seconds

    repo = tmp_path / "library"
    corpus.generate(repo, 400)
    env = {name: value for name, value in os.environ.items() if name != "CI"}
    code, shown = run_check_with_stderr_on_a_terminal(repo, env, ("publish", "--out", "site"))
    assert code == 0 and "Rendering pages" in shown
    code, shown = run_check_with_stderr_on_a_terminal(repo, {**env, "CI": "1"}, ("publish", "--no-cache"))
    assert code == 0 and "Rendering pages" not in shown


def test_progress_bar_is_silent_unless_on_a_terminal() -> None:
    stream = io.StringIO()
    with progress_bar(1000, "Working", stream=stream) as advance:
        advance(1000)
    assert stream.getvalue() == ""
    assert not shows_progress(1000, stream)
    assert not shows_progress(10, sys.stderr)  # too few to be worth a bar


def test_python_dash_m_and_version() -> None:
    result = subprocess.run([sys.executable, "-m", "reviewflow", "--version"], capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stdout.startswith("reviewflow, version ")


def test_readability_works_without_network(repo: Path) -> None:
    """textstat must not try to download its dictionary: run with every socket refused."""
    write(
        repo / "articles" / "hard.md",
        article_text("Polyneuropathy necessitates multidisciplinary evaluation. " * 8 + "[1]\n"),
    )
    code = (
        "import socket, sys\n"
        "def refuse(*a, **k): raise OSError('network disabled in this test')\n"
        "socket.socket.connect = refuse\nsocket.create_connection = refuse\n"
        "from reviewflow.cli.commands import cli\n"
        "cli(['check', '--format', 'json'], prog_name='reviewflow')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    rules = [f["rule"] for f in json.loads(result.stdout)["findings"]]
    assert [rule for rule in rules if rule != "jargon"] == ["readability"]  # polyneuropathy: jargon too


# --- init and new ----------------------------------------------------------------------------


def test_init_never_overwrites(run: Run, tmp_path: Path) -> None:
    write(tmp_path / "lib" / "reviewflow.toml", "# mine\n")
    result = run(tmp_path, "init", "lib")
    assert result.exit_code == 0
    assert "kept    reviewflow.toml" in result.output
    assert "created articles/what-is-poems-syndrome.md" in result.output
    assert (tmp_path / "lib" / "reviewflow.toml").read_text() == "# mine\n"


def test_init_schema_is_the_projects_schema(run: Run, repo: Path) -> None:
    shipped = (repo / "schemas" / "article.schema.json").read_text()
    assert shipped == (PROJECT / "schemas" / "article.schema.json").read_text()


def test_new_writes_a_checkable_article(run: Run, repo: Path) -> None:
    result = run(repo, "new", "Living with POEMS syndrome", "--condition", "POEMS syndrome")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "created articles/living-with-poems-syndrome.md"
    text = (repo / "articles" / "living-with-poems-syndrome.md").read_text()
    assert 'title: "Living with POEMS syndrome"' in text
    assert 'email: "alice@authors.example"' in text
    # The one thing `new` cannot write for the author is their declaration: check asks for it.
    check = run(repo, "check")
    assert check.exit_code == 1
    assert "living-with-poems-syndrome.md:8:5: error disclosure-missing author 'Alice Author'" in check.output
    assert "references-missing no references" in check.output  # nor their sources
    assert "2 errors, 0 warnings" in check.output


def test_the_hint_on_an_empty_library_works_as_printed(run: Run, tmp_path: Path) -> None:
    repo = make_content_repo(tmp_path / "empty")
    for article in (repo / "articles").glob("*.md"):
        article.unlink()
    subprocess.run(["git", "-C", str(repo), "commit", "-qam", "Empty"], check=True)
    hint = run(repo, "status").output
    command = shlex.split(re.search(r"`reviewflow (new [^`]+)`", hint).group(1))  # type: ignore[union-attr]
    created = run(repo, *command)
    assert created.exit_code == 0, (command, created.output)
    assert created.output.startswith("created articles/title.md")
    checked = run(repo, "check", "--format", "json")  # valid; only the author's declaration is to write
    assert checked.exit_code == 1 and undeclared_only(json.loads(checked.output)["findings"])


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("../../x <script>alert(1)</script>", "x-script-alert-1-script"),
        ("/etc/passwd", "etc-passwd"),
        (
            'Ménière\'s disease: what "vertigo" means\n---\nstatus: approved',
            "meniere-s-disease-what-vertigo-means-status-approved",
        ),
    ],
)
def test_new_with_hostile_title_stays_in_articles(run: Run, repo: Path, title: str, slug: str) -> None:
    result = run(repo, "new", title, "--condition", "x")
    assert result.exit_code == 0, result.output
    created = repo / "articles" / f"{slug}.md"
    assert created.exists()
    assert sorted(p.name for p in repo.rglob("*.md")) == sorted([f"{slug}.md", "what-is-poems-syndrome.md"])
    check = run(repo, "check", f"articles/{slug}.md", "--format", "json")
    assert undeclared_only(json.loads(check.output)["findings"])


def undeclared_only(findings: list[dict]) -> bool:
    """A new article is valid and lacks only what its author must write: their declaration
    and the references it cites."""
    return [(f["rule"], f["line"]) for f in findings] == [
        ("disclosure-missing", 8),
        ("references-missing", 13),
    ]


def test_new_refuses_to_overwrite_and_untitled(run: Run, repo: Path) -> None:
    assert run(repo, "new", "What is POEMS syndrome?", "--condition", "x").exit_code == 1
    result = run(repo, "new", "?!", "--condition", "x")
    assert result.exit_code == 2
    assert "no letters or digits" in result.output


@pytest.mark.parametrize("condition", [None, "", "   "])
def test_new_needs_a_condition(run: Run, repo: Path, condition: str | None) -> None:
    """Never write a file that fails its own check: without a condition, nothing is written."""
    args = ["new", "Living with POEMS syndrome"] + ([] if condition is None else ["--condition", condition])
    result = run(repo, *args)
    assert result.exit_code == 2
    expected = "Missing option '--condition'" if condition is None else "the condition is empty"
    assert expected in result.output
    assert sorted(p.name for p in (repo / "articles").iterdir()) == ["what-is-poems-syndrome.md"]


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("日本語の記事", "ri-ben-yu-noji-shi"),
        ("Лечение синдрома POEMS", "lechenie-sindroma-poems"),
        # letters text-unidecode cannot transliterate: a stable hash of the title
        ("𠀀𠀁", "article-" + hashlib.sha256("𠀀𠀁".encode()).hexdigest()[:10]),
    ],
)
def test_new_derives_a_slug_from_any_script(run: Run, repo: Path, title: str, slug: str) -> None:
    result = run(repo, "new", title, "--condition", "POEMS syndrome")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"created articles/{slug}.md"
    assert f'title: "{title}"' in (repo / "articles" / f"{slug}.md").read_text(encoding="utf-8")
    check = run(repo, "check", f"articles/{slug}.md", "--format", "json")
    assert check.exit_code == 1, check.output
    assert undeclared_only(json.loads(check.output)["findings"])


# --- the findings cache ------------------------------------------------------------------------


def test_cache_keeps_findings_and_notices_every_change(run: Run, repo: Path) -> None:
    article = write(repo / "articles" / "cached.md", article_text("POEMS syndrome is rare.\n"))
    first = run(repo, "check", "--format", "json")
    assert [f["rule"] for f in json.loads(first.output)["findings"]] == ["reference-uncited"]
    cache = kept_findings(repo)
    assert sorted(key.split("\0")[0] for key in cache["files"]) == [
        "articles/cached.md",
        "articles/what-is-poems-syndrome.md",
    ]
    assert (repo / ".reviewflow-cache" / ".gitignore").read_text().strip().endswith("*")
    # the same answer from the cache
    assert run(repo, "check", "--format", "json").output == first.output
    # an edited file is checked again
    article.write_text(article_text("POEMS syndrome is rare [1].\n"))
    assert json.loads(run(repo, "check", "--format", "json").output)["findings"] == []
    # a config change invalidates every entry
    config = repo / "reviewflow.toml"
    config.write_text(
        config.read_text().replace("[checks]\n", '[checks]\nrules = { "reference-old" = "error" }\n')
    )
    article.write_text(article_text("POEMS syndrome is rare [1].\n").replace("year: 2022", "year: 1990"))
    found = json.loads(run(repo, "check", "--format", "json").output)["findings"]
    assert [(f["rule"], f["severity"]) for f in found] == [("reference-old", "error")]


def test_a_planted_cache_is_data_never_code(run: Run, repo: Path) -> None:
    (repo / ".reviewflow-cache").mkdir()
    (repo / ".reviewflow-cache" / "check.json").write_bytes(b"\x80\x04cos\nsystem\n(S'touch pwned'\ntR.")
    result = run(repo, "check")
    assert result.exit_code == 0
    assert not (repo / "pwned").exists()
    assert kept_findings(repo)["files"]


def kept_findings(repo: Path) -> dict:
    """check.json: a seal line (this user's HMAC), then the JSON."""
    seal, _, text = (repo / ".reviewflow-cache" / "check.json").read_bytes().partition(b"\n")
    assert len(seal) == 64
    return json.loads(text)


def test_a_cache_sealed_by_anyone_else_is_not_believed(run: Run, repo: Path, tmp_path: Path) -> None:
    """A committed (or otherwise planted) check.json cannot hide a finding."""
    bad = write(repo / "articles" / "bad.md", article_text("Rare [9].\n"))
    assert run(repo, "check").exit_code == 1
    cache = repo / ".reviewflow-cache" / "check.json"
    forged = kept_findings(repo)
    forged["files"] = {key: [] for key in forged["files"]}  # "no findings", for the same bytes
    text = json.dumps(forged).encode()
    cache.write_bytes(text)  # plain JSON, as a pull request could commit it
    assert run(repo, "check").exit_code == 1
    cache.write_bytes(b"0" * 64 + b"\n" + text)
    assert run(repo, "check").exit_code == 1
    # nor one sealed with another user's key
    import hashlib
    import hmac

    cache.write_bytes(hmac.new(b"other", text, hashlib.sha256).hexdigest().encode() + b"\n" + text)
    result = run(repo, "check", "--format", "json")
    assert result.exit_code == 1 and "citation-unknown" in result.output
    assert bad.exists()


def test_no_cache_checks_everything(run: Run, repo: Path) -> None:
    assert run(repo, "check", "--no-cache").exit_code == 0
    assert not (repo / ".reviewflow-cache").exists()
