"""The workflow `init` writes (merge queues, the default branch, a content repo in a
subdirectory), the retraction list `ci` judges a change by, and the demo's colours.

The workflow's steps are run in bash with the variables GitHub would set, as in test_ci_files.
"""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from reviewflow.cli.integration import github_workflow
from tests.conftest import PROJECT, article_text, git, write
from tests.test_ci import BAD, BAD_LINE, GOOD, Run, annotations, branch, commit
from tests.test_ci_files import WORKFLOW, bash, load_yaml, step

GATE = "reviewflow ci"
PUBLISH = "Publish the approved articles"


def gate_step(workflow: dict[Any, Any]) -> dict[str, Any]:
    [found] = [s for s in workflow["jobs"]["gate"]["steps"] if GATE in s.get("run", "")]
    assert isinstance(found, dict)
    return found


def init_workflow(run: Run, where: Path, *args: str) -> dict[Any, Any]:
    result = run(where, "init", *args)
    assert result.exit_code == 0, result.output
    return load_yaml(where / (args[0] if args else ".") / WORKFLOW)


# --- merge queues and the default branch ----------------------------------------------------------


def test_the_gate_runs_for_pull_requests_and_merge_groups(run: Run, tmp_path: Path) -> None:
    workflow = init_workflow(run, tmp_path, "lib")

    triggers = workflow[True]  # YAML 1.1 reads the key `on` as a boolean
    assert "merge_group" in triggers and "pull_request" in triggers
    gate = workflow["jobs"]["gate"]
    assert gate["if"] == "github.event_name == 'pull_request' || github.event_name == 'merge_group'"
    ci = gate_step(workflow)
    # github.base_ref is empty for a merge group; its own base_ref is a full ref name.
    assert ci["env"] == {"BASE_REF": "${{ github.base_ref || github.event.merge_group.base_ref }}"}
    assert ci["run"] == 'reviewflow ci --base "origin/${BASE_REF#refs/heads/}" --format github'


def test_the_gate_step_judges_a_merge_group_against_the_branch_it_goes_into(
    run: Run, content_repo: Path
) -> None:
    workflow = load_yaml(content_repo / WORKFLOW)
    git(content_repo, "update-ref", "refs/remotes/origin/main", "main")  # what checkout fetches
    # Two queued pull requests: the first adds a bad article, the second a good one. The merge
    # queue checks out a temporary branch holding both merges.
    for name, text in (("bad", BAD), ("good", GOOD)):
        git(content_repo, "checkout", "-q", "-b", name, "main")
        write(content_repo / "articles" / f"{name}.md", text)
        commit(content_repo, f"A {name} article")
    git(content_repo, "checkout", "-q", "-b", "gh-readonly-queue/main/pr-8-0123abcd", "main")
    for name in ("bad", "good"):
        git(content_repo, "merge", "-q", "--no-ff", "-m", f"Merge the {name} article", name)

    result = bash(gate_step(workflow)["run"], content_repo, BASE_REF="refs/heads/main")

    # Judged against main as merged, with the change queued ahead of it (the first merge, the
    # second group's parent commit, would leave the bad article out of the change).
    assert result.returncode == 1, result.stderr
    assert f"::error file=articles/bad.md,line={BAD_LINE}," in result.stdout


def test_publish_runs_on_the_default_branch_github_names_at_run_time(run: Run, tmp_path: Path) -> None:
    workflow = init_workflow(run, tmp_path, "lib")
    condition = " ".join(workflow["jobs"]["publish"]["if"].split())
    assert "github.ref == format('refs/heads/{0}', github.event.repository.default_branch)" in condition
    assert "(github.event_name == 'push' || github.event_name == 'workflow_dispatch')" in condition
    assert "main" not in condition
    assert workflow[True]["push"]["branches"] == ["main"]  # no repository, no git setting: main


def repository(path: Path, branch_name: str) -> Path:
    git(path.parent, "init", "-q", "-b", branch_name, str(path))
    write(path / "README.md", "A repository\n")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "Start")
    return path


def test_the_push_trigger_names_origins_default_branch(run: Run, tmp_path: Path) -> None:
    repo = repository(tmp_path / "lib", "develop")
    git(repo, "update-ref", "refs/remotes/origin/trunk", "HEAD")
    git(repo, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/trunk")

    assert init_workflow(run, repo)[True]["push"]["branches"] == ["trunk"]


def test_the_push_trigger_names_the_branch_checked_out_without_origin(run: Run, tmp_path: Path) -> None:
    repo = tmp_path / "lib"
    git(tmp_path, "init", "-q", "-b", "develop", str(repo))  # no commit yet: the branch is unborn

    assert init_workflow(run, repo)[True]["push"]["branches"] == ["develop"]


def test_the_push_trigger_names_init_default_branch_outside_a_repository(run: Run, tmp_path: Path) -> None:
    write(Path(os.environ["HOME"]) / ".gitconfig", "[init]\n\tdefaultBranch = trunk\n")

    assert init_workflow(run, tmp_path, "lib")[True]["push"]["branches"] == ["trunk"]


def test_a_branch_name_with_pattern_characters_is_matched_literally() -> None:
    workflow = yaml.safe_load(github_workflow(None, branch="release+1"))
    assert workflow[True]["push"]["branches"] == ["release\\+1"]  # `+` is a pattern character


# --- init in a subdirectory of a git repository ---------------------------------------------------------


def test_init_in_a_subdirectory_writes_the_workflow_at_the_top_of_the_repository(
    run: Run, tmp_path: Path
) -> None:
    top = repository(tmp_path / "mono", "main")

    result = run(top, "init", "docs/health")

    assert result.exit_code == 0, result.output
    assert "created ../../.github/workflows/reviewflow.yml" in result.output
    assert "Note: ../../.github/workflows/reviewflow.yml installs reviewflow" in result.output
    assert not (top / "docs" / "health" / ".github").exists()  # GitHub would never read it there
    workflow = load_yaml(top / WORKFLOW)
    assert gate_step(workflow)["working-directory"] == "docs/health"
    assert step(workflow, "publish", PUBLISH)["working-directory"] == "docs/health"
    uploads = [
        s["with"]["path"] for s in workflow["jobs"]["publish"]["steps"] if "upload" in s.get("uses", "")
    ]
    assert uploads == ["docs/health/site", "docs/health/site"]
    assert (top / "docs" / "health" / "reviewflow.toml").is_file()

    # Run again from inside: everything is kept, the workflow at the top too.
    again = run(top / "docs" / "health", "init")
    assert again.exit_code == 0, again.output
    assert "kept    ../../.github/workflows/reviewflow.yml" in again.output


def test_init_at_the_top_of_a_repository_runs_reviewflow_there(run: Run, tmp_path: Path) -> None:
    top = repository(tmp_path / "lib", "main")
    workflow = init_workflow(run, top)
    assert gate_step(workflow)["working-directory"] == "."
    assert step(workflow, "publish", PUBLISH)["working-directory"] == "."


def test_a_content_directory_that_github_would_evaluate_is_refused() -> None:
    from reviewflow.errors import ConfigError

    with pytest.raises(ConfigError, match="cannot be written into a GitHub workflow"):
        github_workflow(None, content_dir="docs/${{ secrets.TOKEN }}/")


def test_the_gate_step_of_a_subdirectory_workflow_annotates_the_files_from_the_top(
    run: Run, tmp_path: Path
) -> None:
    top = repository(tmp_path / "mono", "main")
    assert run(top, "init", "docs/health").exit_code == 0
    commit(top, "Add the health library")
    branch(top)
    write(top / "docs" / "health" / "articles" / "bad.md", BAD)
    commit(top, "A bad article")
    git(top, "update-ref", "refs/remotes/origin/main", "main")  # what checkout fetches
    ci = gate_step(load_yaml(top / WORKFLOW))

    result = bash(ci["run"], top / ci["working-directory"], BASE_REF="main")

    assert result.returncode == 1, result.stderr
    [error] = [a for a in annotations(result.stdout) if a["kind"] == "error"]
    assert error["file"] == "docs/health/articles/bad.md" and error["line"] == str(BAD_LINE)


# --- ci: the retraction list comes from the base ------------------------------------------------


SAMPLE = PROJECT / "tests" / "data" / "retractions-sample.csv"
RETRACTED_DOI = "10.9999/retracted.2018.001"  # listed as "10.9999/RETRACTED.2018.001", a retraction
RETRACTED_ROW = "RETRACTED.2018.001"


def cites(doi: str) -> str:
    return article_text(
        references=f'  - id: 1\n    type: research\n    title: "T"\n    source: "S"\n    year: 2022\n    doi: "{doi}"\n'
    )


def use_retractions(repo: Path) -> None:
    config = repo / "reviewflow.toml"
    text = config.read_text(encoding="utf-8")
    assert '# retractions = "retractions.csv"' in text
    config.write_text(text.replace('# retractions = "retractions.csv"', 'retractions = "retractions.csv"'))


@pytest.fixture
def retractions_repo(content_repo: Path) -> Path:
    """A content repo that checks citations against a Retraction Watch CSV it keeps in git."""
    shutil.copy(SAMPLE, content_repo / "retractions.csv")
    use_retractions(content_repo)
    commit(content_repo, "Check citations against Retraction Watch")
    return content_repo


def ci_json(run: Run, repo: Path) -> tuple[int, dict[str, Any]]:
    result = run(repo, "ci", "--base", "main", "--format", "json")
    assert result.exit_code in (0, 1), result.output
    data = json.loads(result.output)
    assert isinstance(data, dict)
    return result.exit_code, data


def without_the_retraction(repo: Path) -> None:
    path = repo / "retractions.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert any(RETRACTED_ROW in line for line in lines)
    path.write_text("".join(line for line in lines if RETRACTED_ROW not in line), encoding="utf-8")


def as_a_correction(repo: Path) -> None:
    path = repo / "retractions.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    edited = [
        line.replace(",Retraction,", ",Correction,") if RETRACTED_ROW in line else line for line in lines
    ]
    assert edited != lines
    path.write_text("".join(edited), encoding="utf-8")


def reinstated(repo: Path) -> None:
    row = next(line for line in SAMPLE.read_text(encoding="utf-8").splitlines() if RETRACTED_ROW in line)
    with (repo / "retractions.csv").open("a", encoding="utf-8") as handle:
        handle.write(row.replace("1001,", "9001,", 1).replace(",Retraction,", ",Reinstatement,") + "\n")


def another_file(repo: Path) -> None:
    without_the_retraction(repo)
    (repo / "retractions.csv").rename(repo / "clean.csv")
    config = repo / "reviewflow.toml"
    config.write_text(
        config.read_text().replace('retractions = "retractions.csv"', 'retractions = "clean.csv"')
    )


@pytest.mark.parametrize(
    "hide", [without_the_retraction, as_a_correction, reinstated, another_file], ids=lambda f: f.__name__
)
def test_a_change_cannot_hide_a_retraction_it_cites_by_editing_the_list(
    run: Run, retractions_repo: Path, hide: Any
) -> None:
    branch(retractions_repo)
    hide(retractions_repo)
    write(retractions_repo / "articles" / "cites.md", cites(RETRACTED_DOI))
    commit(retractions_repo, "Cite a paper, and take it off the list")

    code, report = ci_json(run, retractions_repo)

    assert code == 1
    [finding] = [f for f in report["findings"] if f["path"] == "articles/cites.md"]
    assert (finding["rule"], finding["severity"]) == ("reference-retracted", "error")


def test_an_uncommitted_edit_of_the_list_changes_nothing(run: Run, retractions_repo: Path) -> None:
    branch(retractions_repo)
    write(retractions_repo / "articles" / "cites.md", cites(RETRACTED_DOI))
    commit(retractions_repo, "Cite a retracted paper")
    without_the_retraction(retractions_repo)  # in the work tree only: ci judges commits

    code, report = ci_json(run, retractions_repo)

    assert code == 1
    assert [f["rule"] for f in report["findings"]] == ["reference-retracted"]


def test_an_entry_the_change_adds_counts_at_once(run: Run, retractions_repo: Path) -> None:
    branch(retractions_repo)
    row = next(line for line in SAMPLE.read_text(encoding="utf-8").splitlines() if RETRACTED_ROW in line)
    with (retractions_repo / "retractions.csv").open("a", encoding="utf-8") as handle:
        handle.write(row.replace("1001,", "9002,", 1).replace(RETRACTED_ROW, "NEW.2024.007") + "\n")
    write(retractions_repo / "articles" / "cites.md", cites("10.9999/new.2024.007"))
    commit(retractions_repo, "List a new retraction, and cite the paper")

    code, report = ci_json(run, retractions_repo)

    assert code == 1
    assert [f["rule"] for f in report["findings"]] == ["reference-retracted"]


def test_a_change_that_deletes_the_list_breaks_the_configuration(run: Run, retractions_repo: Path) -> None:
    branch(retractions_repo)
    git(retractions_repo, "rm", "-q", "retractions.csv")
    write(retractions_repo / "articles" / "cites.md", cites(RETRACTED_DOI))
    commit(retractions_repo, "No more list")

    code, report = ci_json(run, retractions_repo)  # the change's own problem: exit 1, not 2

    assert code == 1
    [problem] = [f for f in report["findings"] if f["rule"] == "config-invalid"]
    assert "checks.retractions" in problem["message"] and "removes it from git" in problem["message"]


def test_a_list_git_does_not_hold_is_read_from_the_work_tree(run: Run, content_repo: Path) -> None:
    write(content_repo / ".gitignore", "retractions.csv\n")  # downloaded by the CI job, say
    use_retractions(content_repo)
    commit(content_repo, "Check citations against the Retraction Watch download")
    shutil.copy(SAMPLE, content_repo / "retractions.csv")
    branch(content_repo)
    write(content_repo / "articles" / "cites.md", cites(RETRACTED_DOI))
    commit(content_repo, "Cite a retracted paper")

    code, report = ci_json(run, content_repo)

    assert code == 1
    assert [f["rule"] for f in report["findings"]] == ["reference-retracted"]


def test_a_change_that_names_a_missing_list_breaks_the_configuration(run: Run, content_repo: Path) -> None:
    branch(content_repo)
    use_retractions(content_repo)  # and no file, in git or out of it
    commit(content_repo, "Check citations against a list we forgot")

    code, report = ci_json(run, content_repo)

    assert code == 1
    [problem] = [f for f in report["findings"] if f["rule"] == "config-invalid"]
    assert problem["message"] == "checks.retractions: file not found: retractions.csv"


def test_a_good_change_with_the_list_in_git_passes(run: Run, retractions_repo: Path) -> None:
    branch(retractions_repo)
    write(retractions_repo / "articles" / "cites.md", cites("10.9999/corrected.2019.003"))
    commit(retractions_repo, "Cite a corrected paper")

    code, report = ci_json(run, retractions_repo)

    assert code == 0, report["findings"]


# --- the demo's colours ------------------------------------------------------------------------------


DEMO = PROJECT / "scripts" / "demo.sh"


def demo_step(tmp_path: Path, on_terminal: bool, **env: str) -> bytes:
    """The demo's `step` heading, written to a pipe or to a terminal (a pseudo-terminal).

    Sourced, the script only defines its functions; run from TMP_PATH all the same, so that a
    script that went on could not touch the project.
    """
    environment = {**os.environ, **env}
    script = 'source "$1" || exit 1; step "An author checks the articles"'
    command = ["bash", "-c", script, "demo", str(DEMO)]
    if not on_terminal:
        return subprocess.run(command, cwd=tmp_path, env=environment, capture_output=True, check=True).stdout
    leader, follower = pty.openpty()
    try:
        subprocess.run(command, cwd=tmp_path, env=environment, stdout=follower, check=True)
        os.close(follower)
        output = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the terminal is closed and drained
                break
            if not chunk:
                break
            output += chunk
        return output
    finally:
        os.close(leader)


def test_the_demo_prints_no_escape_codes_into_a_pipe(tmp_path: Path) -> None:
    assert demo_step(tmp_path, on_terminal=False) == b"\n== An author checks the articles\n"


def test_the_demo_is_bold_on_a_terminal_unless_no_color_is_set(tmp_path: Path) -> None:
    bold = demo_step(tmp_path, on_terminal=True)
    assert bold.replace(b"\r\n", b"\n") == b"\n\x1b[1m== An author checks the articles\x1b[0m\n"
    plain = demo_step(tmp_path, on_terminal=True, NO_COLOR="1")
    assert plain.replace(b"\r\n", b"\n") == b"\n== An author checks the articles\n"
