"""The library entry point, `ContentRepo`, used as a program would: only its public API, on real git."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from reviewflow.errors import ConfigError, ExitCode, Refused, ReviewflowError
from reviewflow.gitprocess import count_git_processes
from reviewflow.repo import ContentRepo
from reviewflow.review.model import Action, State
from reviewflow.review.queries import UnknownArticle
from tests.conftest import PROJECT, article_text, git, write
from tests.gitrepo import ALICE, MALLORY, PATH, RITA, SAM, SLUG, act_as, edit, forge, set_quorum


def approve_with_two(monkeypatch: pytest.MonkeyPatch, repo: ContentRepo) -> None:
    act_as(monkeypatch, ALICE)
    repo.submit(SLUG, "Ready for review")
    act_as(monkeypatch, RITA)
    repo.review(SLUG)
    repo.approve(SLUG, "Accurate")
    act_as(monkeypatch, SAM)
    repo.approve(SLUG, "Clear")


def forget_kept_state(content_repo: Path) -> None:
    """Delete the judged history kept at HEAD (review/snapshot.py): the next run reads the log."""
    git_dir = Path(git(content_repo, "rev-parse", "--absolute-git-dir").strip())
    for file in (git_dir / "reviewflow").glob("replay-*"):
        file.unlink()


def test_open_finds_the_repo_from_a_subdirectory(content_repo: Path) -> None:
    repo = ContentRepo.open(content_repo / "articles")
    assert repo.root == content_repo.resolve()
    # An article's path is taken from where the repo was opened, as with `reviewflow -C DIR`.
    assert [s.slug for s in repo.status([f"{SLUG}.md"]).statuses] == [SLUG]


def test_open_defaults_to_the_working_directory(monkeypatch: pytest.MonkeyPatch, content_repo: Path) -> None:
    monkeypatch.chdir(content_repo / "articles")
    repo = ContentRepo.open()
    assert repr(repo) == f"ContentRepo({str(content_repo.resolve())!r})"
    assert repo.history(f"{SLUG}.md").status.slug == SLUG


def test_open_outside_a_content_repo_is_the_cli_s_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="reviewflow.toml not found") as raised:
        ContentRepo.open(tmp_path)
    assert raised.value.exit_code == ExitCode.USAGE


def test_open_finds_the_repo_that_holds_the_paths(tmp_path: Path, content_repo: Path) -> None:
    # pre-commit runs at the top of the git work tree: the files say where the content repo is.
    repo = ContentRepo.open(content_repo.parent, paths=[f"content/{PATH}"])
    assert repo.root == content_repo.resolve()
    assert repo.check([f"content/{PATH}"]).files == 1


def test_check_reports_findings_and_strict_fails_on_warnings(content_repo: Path) -> None:
    repo = ContentRepo.open(content_repo)
    clean = repo.check()
    assert (clean.files, clean.errors, clean.failed) == (1, 0, False)

    write(content_repo / "articles" / "broken.md", article_text(body="POEMS syndrome is rare [2].\n"))
    report = repo.check(["articles/broken.md"], use_cache=False)
    assert report.failed
    assert {f.rule for f in report.findings} >= {"citation-unknown"}
    assert all(f.path.endswith("broken.md") for f in report.findings)


def test_the_review_workflow_through_the_library(monkeypatch: pytest.MonkeyPatch, content_repo: Path) -> None:
    set_quorum(content_repo, 2)
    repo = ContentRepo.open(content_repo)
    [status] = repo.status().statuses
    assert status.state is State.DRAFT

    act_as(monkeypatch, ALICE)
    submitted = repo.submit(SLUG, "Ready for review")
    assert (submitted.action, submitted.status.state) == (Action.SUBMIT, State.SUBMITTED)
    assert submitted.commit == git(content_repo, "rev-parse", "HEAD").strip()
    assert [item.status.slug for item in repo.queue()] == [SLUG]

    act_as(monkeypatch, RITA)
    assert [item.status.slug for item in repo.queue(mine=True)] == [SLUG]
    repo.review(SLUG)
    first = repo.approve(SLUG, "Accurate")
    assert (first.status.state, first.status.approvals) == (State.UNDER_REVIEW, 1)
    assert first.actor == "Dr. Rita Reviewer <rita@board.example>"

    act_as(monkeypatch, SAM)
    repo.act("approve", SLUG, "Clear")  # the named methods and `act` are one path
    [status] = repo.status([SLUG]).statuses
    assert status.state is State.APPROVED
    assert set(status.approved_by) == {"rita@board.example", "sam@board.example"}
    assert repo.queue() == []

    history = repo.history(SLUG)
    assert [e.action for e in history.status.events] == ["submit", "review", "approve", "approve"]
    assert all(e.valid for e in history.status.events)
    assert repo.verify().invalid == []

    edit(content_repo)
    diff = repo.diff(SLUG, context=0)
    assert diff.basis == "approved"
    assert "+One more sentence about POEMS syndrome." in diff.lines
    assert repo.status().statuses[0].state is State.DRAFT
    # Both at once (the desk's article page) are the two calls' answers, from one judged
    # history: the git logs of `history` alone, where the two calls read the history twice.
    # With nothing kept, each judges the log read for the article (a kept state reads none).
    forget_kept_state(content_repo)
    with count_git_processes() as both_started:
        both = repo.history_and_diff(SLUG, context=0)
    with count_git_processes() as history_started:
        history = repo.history(SLUG)
    with count_git_processes() as diff_started:
        assert repo.diff(SLUG, context=0) == diff
    assert both == (history, diff)
    assert both_started.count("log") == history_started.count("log")
    assert diff_started.count("log") >= 1  # what `diff` reads on its own, and both at once do not


def test_one_article_is_judged_from_the_kept_state_without_reading_the_log(
    monkeypatch: pytest.MonkeyPatch, content_repo: Path
) -> None:
    repo = ContentRepo.open(content_repo)
    approve_with_two(monkeypatch, repo)
    repo.status()  # keeps the judged history at HEAD in .git/reviewflow/
    with count_git_processes() as started:
        kept = repo.judge_article(SLUG)
        [status] = repo.status([SLUG]).statuses
    assert "log" not in started, started  # a scoped read of the log reads every commit
    assert kept.status == status and kept.status.state is State.APPROVED
    blob = kept.status.approved.blob
    [committed] = {
        e.committed_at for e in kept.status.events if e.content == blob and e.action is Action.SUBMIT
    }
    assert kept.appeared.keys() == {(SLUG, blob)} and max(kept.appeared[(SLUG, blob)]) <= committed

    # With nothing kept, the same article from the log read for it alone.
    forget_kept_state(content_repo)
    with count_git_processes() as read:
        scoped = repo.judge_article(SLUG)
    assert "log" in read and scoped.status == kept.status


def test_refusals_are_the_errors_the_cli_maps_to_exit_codes(
    monkeypatch: pytest.MonkeyPatch, content_repo: Path
) -> None:
    repo = ContentRepo.open(content_repo)
    act_as(monkeypatch, ALICE)
    repo.submit(SLUG)
    with pytest.raises(Refused) as raised:
        repo.approve(SLUG)  # Alice is not on the board, and she wrote it
    assert raised.value.exit_code == ExitCode.FINDINGS
    act_as(monkeypatch, RITA)
    with pytest.raises(Refused, match="say what has to change"):
        repo.request_changes(SLUG, "  ")
    with pytest.raises(Refused, match="no-such-article"):
        repo.review("no-such-article")
    with pytest.raises(UnknownArticle) as unknown:
        repo.history("Not A Slug")
    assert isinstance(unknown.value, ReviewflowError) and unknown.value.exit_code == ExitCode.USAGE


def test_withdraw_takes_an_article_back(monkeypatch: pytest.MonkeyPatch, content_repo: Path) -> None:
    repo = ContentRepo.open(content_repo)
    repo.submit(SLUG)
    assert repo.withdraw(SLUG, "Rewriting").status.state is State.DRAFT


def test_verify_reports_a_forged_approval(monkeypatch: pytest.MonkeyPatch, content_repo: Path) -> None:
    repo = ContentRepo.open(content_repo)
    act_as(monkeypatch, MALLORY)
    forged = forge(content_repo, "approve")
    [invalid] = repo.verify(use_cache=False).invalid
    assert invalid.commit == forged
    assert repo.verify(f"{forged}~1..{forged}").invalid == [invalid]


def test_ci_gates_a_branch_against_its_base(monkeypatch: pytest.MonkeyPatch, content_repo: Path) -> None:
    repo = ContentRepo.open(content_repo)
    git(content_repo, "checkout", "-q", "-b", "feature")
    edit(content_repo)
    assert not repo.ci("main").failed
    assert repo.ci("main", require_approved=True).failed  # the edit is not approved yet

    approve_with_two(monkeypatch, repo)
    result = repo.ci("main", require_approved=True)
    assert not result.failed, result.summary()

    with pytest.raises(ReviewflowError, match="origin/nope") as raised:
        repo.ci("origin/nope")
    assert raised.value.exit_code == ExitCode.USAGE


def test_publish_builds_the_approved_text(
    monkeypatch: pytest.MonkeyPatch, content_repo: Path, tmp_path: Path
) -> None:
    repo = ContentRepo.open(content_repo)
    out = tmp_path / "site"
    assert (repo.publish(out).articles, repo.publish(out, preview=True).pending) == (0, 1)

    approve_with_two(monkeypatch, repo)
    edit(content_repo, "A sentence nobody has approved.")
    result = repo.publish(out, base_url="https://health.example.org", use_cache=False)
    assert (result.articles, result.pending, result.index) == (1, 0, out / "index.html")
    page = (out / "articles" / SLUG / "index.html").read_text(encoding="utf-8")
    assert "POEMS syndrome" in page
    assert "A sentence nobody has approved." not in page  # the approved version is published


def test_the_package_exports_it_without_loading_it_on_every_import(content_repo: Path) -> None:
    import reviewflow

    assert reviewflow.ContentRepo is ContentRepo
    # `status` through the library loads neither the checks nor the site (start-up time).
    probe = (
        "import sys; import reviewflow.errors; assert 'reviewflow.repo' not in sys.modules; "
        "from reviewflow import ContentRepo; "
        f"assert ContentRepo.open({str(content_repo)!r}).status().statuses; "
        "print(' '.join(m for m in ('reviewflow.checks.workspace', 'reviewflow.ci.gate', "
        "'reviewflow.publish.build', 'jsonschema', 'jinja2') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == ""


def test_the_readme_example_runs(content_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Library\n", 1)[1]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert '"health-library"' in example
    exec(example.replace('"health-library"', repr(str(content_repo))), {})  # noqa: S102 - our own README
    printed = capsys.readouterr().out
    assert f"{SLUG} 0 Alice Author <alice@authors.example>" in printed
    assert f"{content_repo / 'site' / 'index.html'} 0 approved pages" in printed
