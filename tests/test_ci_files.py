"""The files that put reviewflow into a team's CI: the GitHub workflow `init` writes, the README's
GitLab and pre-commit examples, `.pre-commit-hooks.yaml`, and the project's own `.ci/run`.

The workflow's shell steps are run in bash with the variables GitHub would set, so what is
tested is what a copied workflow does.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import PROJECT, git, write
from tests.test_ci import BAD, BAD_LINE, GOOD, Run, approve, commit

WORKFLOW = Path(".github") / "workflows" / "reviewflow.yml"
PINNED = "reviewflow @ git+https://github.com/acme/reviewflow@3f2c1a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a"
VENV_BIN = str(Path(sys.executable).parent)


def load_yaml(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def step(workflow: dict[Any, Any], job: str, name: str) -> dict[str, Any]:
    [found] = [s for s in workflow["jobs"][job]["steps"] if s.get("name") == name]
    assert isinstance(found, dict)
    return found


def bash(script: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a workflow step's script as GitHub does (bash -e), with ENV added."""
    environment = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}", **env}
    return subprocess.run(
        ["bash", "-e", "-c", script], cwd=cwd, env=environment, capture_output=True, text=True
    )


# --- where the workflow installs reviewflow from ------------------------------------------------------


def test_init_writes_a_workflow_that_installs_from_the_repository_variable(run: Run, tmp_path: Path) -> None:
    result = run(tmp_path, "init", "lib")

    assert result.exit_code == 0, result.output
    assert "REVIEWFLOW_INSTALL" in result.output  # says what is left to set
    workflow = load_yaml(tmp_path / "lib" / WORKFLOW)
    assert workflow["env"]["REVIEWFLOW_INSTALL"] == "${{ vars.REVIEWFLOW_INSTALL }}"
    text = (tmp_path / "lib" / WORKFLOW).read_text(encoding="utf-8")
    assert "reviewflow==" not in text  # never a name a stranger could register on PyPI


def test_init_install_writes_the_pinned_requirement_into_the_workflow(run: Run, tmp_path: Path) -> None:
    result = run(tmp_path, "init", "lib", "--install", PINNED)

    assert result.exit_code == 0, result.output
    assert load_yaml(tmp_path / "lib" / WORKFLOW)["env"]["REVIEWFLOW_INSTALL"] == PINNED


@pytest.mark.parametrize(
    "spec",
    [
        "reviewflow @ git+ssh://git@github.com/acme/reviewflow.git@v0.1.0",
        "reviewflow[extra] @ git+https://gitlab.example.org/acme/reviewflow@v0.1.0",
        "git+https://github.com/acme/reviewflow@v0.1.0",
        "https://files.example.org/reviewflow-0.1.0-py3-none-any.whl",
        "./vendor/reviewflow-0.1.0-py3-none-any.whl",
    ],
)
def test_init_accepts_explicit_sources(run: Run, tmp_path: Path, spec: str) -> None:
    result = run(tmp_path, "init", "lib", "--install", spec)
    assert result.exit_code == 0, result.output
    assert load_yaml(tmp_path / "lib" / WORKFLOW)["env"]["REVIEWFLOW_INSTALL"] == spec


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("reviewflow==0.1.0", "not on PyPI"),
        ("reviewflow", "not on PyPI"),
        ("git+https://github.com/acme/reviewflow", "@TAG or @COMMIT"),
        ("reviewflow @ git+https://github.com/acme/reviewflow.git", "@TAG or @COMMIT"),
        ("http://files.example.org/reviewflow-0.1.0-py3-none-any.whl", "not a safe source"),
        ("--extra-index-url=https://evil.example", "option"),
        ("reviewflow @ git+https://github.com/acme/reviewflow@v1\nrun: curl evil", "one line"),
        ("reviewflow @ git+https://github.com/${{ secrets.TOKEN }}/reviewflow@v1", "expression"),
    ],
)
def test_init_refuses_an_install_source_that_is_not_explicit_and_safe(
    run: Run, tmp_path: Path, spec: str, says: str
) -> None:
    result = run(tmp_path, "init", "lib", "--install", spec)

    assert result.exit_code == 2
    assert says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "lib").exists()  # nothing written


def test_init_says_when_it_kept_a_workflow_it_was_given_an_install_source_for(
    run: Run, tmp_path: Path
) -> None:
    write(tmp_path / "lib" / WORKFLOW, "name: ours\n")
    result = run(tmp_path, "init", "lib", "--install", PINNED)
    assert result.exit_code == 0, result.output
    assert "was kept as it is" in result.output
    assert (tmp_path / "lib" / WORKFLOW).read_text() == "name: ours\n"


@pytest.fixture
def workflow(run: Run, tmp_path: Path) -> dict[Any, Any]:
    assert run(tmp_path, "init", "lib").exit_code == 0
    return load_yaml(tmp_path / "lib" / WORKFLOW)


@pytest.mark.parametrize("job", ["gate", "publish"])
def test_the_install_step_fails_with_an_error_annotation_while_no_source_is_set(
    workflow: dict[Any, Any], tmp_path: Path, job: str
) -> None:
    script = step(workflow, job, "Install reviewflow")["run"]

    result = bash(script, tmp_path, REVIEWFLOW_INSTALL="")  # ${{ vars.X }} of an unset variable

    assert result.returncode == 1
    [line] = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert line.startswith("::error title=reviewflow is not installed::")
    assert "REVIEWFLOW_INSTALL" in line and "not on PyPI" in line


@pytest.mark.parametrize("job", ["gate", "publish"])
def test_the_install_step_gives_pip_the_requirement_as_one_argument(
    workflow: dict[Any, Any], tmp_path: Path, job: str
) -> None:
    script = step(workflow, job, "Install reviewflow")["run"]
    tools = tmp_path / "tools"
    python = write(tools / "python", '#!/bin/sh\nprintf "%s\\n" "$@" > "$ARGS_FILE"\n')
    python.chmod(0o755)
    arguments = tmp_path / "arguments"

    result = bash(
        script, tmp_path, REVIEWFLOW_INSTALL=PINNED, ARGS_FILE=str(arguments), PATH=f"{tools}:/usr/bin:/bin"
    )

    assert result.returncode == 0, result.stderr
    assert arguments.read_text().splitlines() == ["-m", "pip", "install", PINNED]


# --- the published site has its address --------------------------------------------------------------


def test_the_publish_job_passes_the_pages_address_as_the_base_url(workflow: dict[Any, Any]) -> None:
    publish = workflow["jobs"]["publish"]
    pages = step(workflow, "publish", "Find the address of the GitHub Pages site")
    assert pages["uses"].startswith("actions/configure-pages@")
    assert pages["id"] == "pages"
    assert pages["if"] == "vars.REVIEWFLOW_PAGES == 'true'"  # configure-pages fails without Pages
    assert publish["permissions"]["pages"] == "read"
    published = step(workflow, "publish", "Publish the approved articles")
    assert published["env"]["BASE_URL"] == "${{ steps.pages.outputs.base_url }}"
    names = [s.get("name") for s in publish["steps"]]
    assert names.index("Find the address of the GitHub Pages site") < names.index(
        "Publish the approved articles"
    )


@pytest.fixture
def approved_repo(run: Run, monkeypatch: pytest.MonkeyPatch, content_repo: Path) -> Path:
    write(content_repo / "articles" / "good.md", GOOD)
    commit(content_repo, "A good article")
    approve(run, monkeypatch, content_repo, "good")
    return content_repo


def test_the_publish_step_writes_a_sitemap_with_the_pages_address(
    workflow: dict[Any, Any], approved_repo: Path
) -> None:
    script = step(workflow, "publish", "Publish the approved articles")["run"]

    result = bash(script, approved_repo, BASE_URL="https://acme.github.io/health")

    assert result.returncode == 0, result.stderr
    sitemap = (approved_repo / "site" / "sitemap.xml").read_text(encoding="utf-8")
    assert "<loc>https://acme.github.io/health/articles/good/</loc>" in sitemap
    page = (approved_repo / "site" / "articles" / "good" / "index.html").read_text(encoding="utf-8")
    assert 'rel="canonical" href="https://acme.github.io/health/articles/good/"' in page


def test_the_publish_step_without_pages_falls_back_to_the_configured_url(
    workflow: dict[Any, Any], approved_repo: Path
) -> None:
    script = step(workflow, "publish", "Publish the approved articles")["run"]
    config = approved_repo / "reviewflow.toml"
    config.write_text(
        config.read_text().replace(
            '# url = "https://health.example.org"', 'url = "https://health.example.org"'
        )
    )
    commit(approved_repo, "Our address")

    result = bash(script, approved_repo, BASE_URL="")  # the configure-pages step was skipped

    assert result.returncode == 0, result.stderr
    assert "https://health.example.org/articles/good/" in (approved_repo / "site" / "sitemap.xml").read_text()


# --- the README's GitLab example ---------------------------------------------------------------------


def readme_ci_section() -> str:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    return readme.split("## Use in CI", 1)[1].split("\n## ", 1)[0]


def gitlab_example() -> dict[Any, Any]:
    block = readme_ci_section().split("### GitLab CI", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    data = yaml.safe_load(block)
    assert isinstance(data, dict)
    return data


def test_the_readme_never_installs_reviewflow_by_name_from_an_index() -> None:
    examples = re.findall(r"```\w*\n(.*?)```", readme_ci_section(), re.DOTALL)
    assert len(examples) >= 4
    assert not [e for e in examples if re.search(r"reviewflow\s*(==|>=|~=)", e)]
    gitlab = gitlab_example()
    assert "REVIEWFLOW_INSTALL" in gitlab["variables"]
    for job in ("reviewflow-gate", "pages"):
        assert gitlab[job]["extends"] == ".reviewflow"


def test_the_gitlab_example_stops_with_a_message_while_no_source_is_set(tmp_path: Path) -> None:
    script = "\n".join(gitlab_example()[".reviewflow"]["before_script"])

    result = bash(script, tmp_path, REVIEWFLOW_INSTALL="")

    assert result.returncode == 1
    assert "REVIEWFLOW_INSTALL is empty" in result.stdout and "pinned to a tag or commit" in result.stdout


def test_the_gitlab_example_installs_the_requirement_it_is_given(tmp_path: Path) -> None:
    script = "\n".join(gitlab_example()[".reviewflow"]["before_script"])
    tools = tmp_path / "tools"
    write(tools / "python", '#!/bin/sh\nprintf "%s\\n" "$@" > "$ARGS_FILE"\n').chmod(0o755)
    arguments = tmp_path / "arguments"

    result = bash(
        script, tmp_path, REVIEWFLOW_INSTALL=PINNED, ARGS_FILE=str(arguments), PATH=f"{tools}:/usr/bin:/bin"
    )

    assert result.returncode == 0, result.stderr
    assert arguments.read_text().splitlines() == ["-m", "pip", "install", PINNED]


def test_the_gitlab_pages_job_publishes_with_the_pages_address() -> None:
    [command] = gitlab_example()["pages"]["script"]
    assert command == 'reviewflow publish --out public --base-url "$CI_PAGES_URL"'


# --- pre-commit --------------------------------------------------------------------------------------


def hook() -> dict[str, Any]:
    [found] = yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert isinstance(found, dict)
    return found


@pytest.mark.parametrize(
    ("path", "matches"),
    [
        ("articles/what-is-poems-syndrome.md", True),
        ("health/articles/what-is-poems-syndrome.md", True),  # a content repo in a subdirectory
        ("articles/drafts/idea.md", True),  # in a subdirectory of articles/: an article too
        ("health/articles/3f/what-is-poems-syndrome.md", True),
        ("articles/drafts/image.png", False),
        ("articles/image.png", False),
        ("README.md", False),
        ("notarticles/x.md", False),
    ],
)
def test_the_hook_matches_what_check_and_ci_treat_as_articles(path: str, matches: bool) -> None:
    from reviewflow.layout import is_article_path

    assert bool(re.search(hook()["files"], path)) is matches
    assert is_article_path(path.removeprefix("health/")) is matches  # from its content repo's root


@pytest.mark.parametrize(
    ("path", "article", "slug"),
    [
        ("articles/poems-syndrome.md", True, "poems-syndrome"),
        ("articles/Bad_Name.md", True, None),  # an article file (`check` reports its name), but no slug
        ("articles/drafts/idea.md", True, "idea"),
        ("articles/drafts/Bad_Name.md", True, None),
        ("articles/idea.txt", False, None),
        ("reviewflow.toml", False, None),
    ],
)
def test_one_rule_says_which_files_are_articles_and_their_slugs(
    path: str, article: bool, slug: str | None
) -> None:
    from reviewflow.layout import article_path, article_slug, is_article_path

    assert is_article_path(path) is article
    assert article_slug(path) == slug
    if slug is not None:  # the name the review record keeps it under, wherever the file is
        assert article_path(slug) == f"articles/{slug}.md"


def test_the_readme_local_hook_uses_the_same_pattern() -> None:
    local = readme_ci_section().split("repo: local", 1)[1]
    assert f"files: {hook()['files']}" in local


def test_the_hook_runs_from_the_top_of_a_repository_whose_content_repo_is_a_subdirectory(
    run: Run, tmp_path: Path
) -> None:
    repo = tmp_path / "monorepo"
    assert run(tmp_path, "init", "monorepo/health").exit_code == 0
    write(repo / "health" / "articles" / "bad.md", BAD)
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    command = hook()["entry"].split()[1:]

    # pre-commit runs the hook at the top of the work tree with the paths from there.
    failed = run(repo, *command, "health/articles/bad.md", "health/articles/what-is-poems-syndrome.md")
    assert failed.exit_code == 1, failed.output
    assert f"articles/bad.md:{BAD_LINE}:13: error disclaimer-unknown" in failed.output
    passed = run(repo, *command, "health/articles/what-is-poems-syndrome.md")
    assert passed.exit_code == 0, passed.output


def test_the_hook_refuses_files_from_two_content_repos_in_one_run(run: Run, tmp_path: Path) -> None:
    for name in ("one", "two"):
        assert run(tmp_path, "init", name).exit_code == 0
    result = run(
        tmp_path, "check", "one/articles/what-is-poems-syndrome.md", "two/articles/what-is-poems-syndrome.md"
    )
    assert result.exit_code == 2
    assert "different content repositories" in result.stderr


# --- the project's own .ci/run ------------------------------------------------------------------------


def run_system_packages(
    tmp_path: Path, *, uid: int, apt_get: int | None, npm: int | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the system-packages section of .ci/run on a machine with no browser.

    The machine is made of stand-ins on PATH: `id`, and `apt-get` and `npm` exiting with the
    given codes (None: not installed). Nothing is installed for real.
    """
    script = (PROJECT / ".ci" / "run").read_text(encoding="utf-8")
    section = script.split("# --- system packages", 1)[1].split("\n", 1)[1]
    section = section.split("# --- the README's test command ---", 1)[0]
    tools = tmp_path / "machine"
    write(tools / "id", f"#!/bin/sh\necho {uid}\n").chmod(0o755)
    for name, code in (("apt-get", apt_get), ("npm", npm)):
        if code is not None:
            write(tools / name, f"#!/bin/sh\nexit {code}\n").chmod(0o755)
    environment = {"PATH": str(tools), "HOME": str(tmp_path / "home")}
    return subprocess.run(
        [
            "/bin/bash",
            "-euo",
            "pipefail",
            "-c",
            section + 'echo "browser tests: ${REVIEWFLOW_BROWSER_TESTS:-may skip}"\n'
            'echo "test data: ${REVIEWFLOW_TEST_DATA:-may skip}"',
        ],
        env=environment,
        capture_output=True,
        text=True,
    )


def test_ci_run_fails_when_it_could_install_chromium_and_the_install_fails(tmp_path: Path) -> None:
    result = run_system_packages(tmp_path, uid=0, apt_get=100)
    assert result.returncode == 1
    assert "apt-get could not install chromium chromium-driver npm" in result.stderr


def test_ci_run_fails_when_it_could_install_and_npm_cannot_install_axe(tmp_path: Path) -> None:
    result = run_system_packages(tmp_path, uid=0, apt_get=0, npm=1)
    assert result.returncode == 1
    assert "npm could not install axe-core" in result.stderr


def test_ci_run_requires_the_browser_tests_where_it_installs_what_they_need(tmp_path: Path) -> None:
    # apt-get "succeeds" but no browser appears: the browser tests must then fail, not skip.
    result = run_system_packages(tmp_path, uid=0, apt_get=0)
    assert result.returncode == 0, result.stderr
    assert "browser tests: require" in result.stdout


def test_ci_run_requires_the_conformance_data_where_it_can_install_it(tmp_path: Path) -> None:
    # npm "succeeds" and installs nothing: the conformance tests must then fail, not skip.
    assert "test data: require" in run_system_packages(tmp_path, uid=0, apt_get=0, npm=0).stdout
    # A developer's machine without npm: they may skip, and each says why.
    assert "test data: may skip" in run_system_packages(tmp_path, uid=1000, apt_get=None).stdout


@pytest.mark.parametrize(("uid", "apt_get"), [(1000, 0), (0, None)])
def test_ci_run_skips_the_browser_tests_with_a_reason_where_it_cannot_install(
    tmp_path: Path, uid: int, apt_get: int | None
) -> None:
    result = run_system_packages(tmp_path, uid=uid, apt_get=apt_get)
    assert result.returncode == 0, result.stderr
    assert (
        "not root or no apt-get, so Chromium is not installed; the browser tests will skip" in result.stderr
    )
    assert "browser tests: may skip" in result.stdout


def test_the_readme_says_which_base_ci_run_gates_its_own_history_with() -> None:
    script = (PROJECT / ".ci" / "run").read_text(encoding="utf-8")
    assert "--diff-filter=A -- reviewflow.toml" in script  # the commit that added reviewflow.toml
    own = readme_ci_section().split("### This project's own CI", 1)[1]
    assert "the commit that\nadded reviewflow.toml" in own or "the commit that added reviewflow.toml" in own
    assert "root commit" not in own
