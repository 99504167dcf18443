"""Shared fixtures: isolated git identity and home, content repos in temp dirs, a CLI runner."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from click.testing import CliRunner, Result

from reviewflow.cli.commands import cli
from reviewflow.cli.scaffold import init_repo

PROJECT = Path(__file__).resolve().parent.parent

BOARD_TOML = """
[[board]]
name = "Dr. Rita Reviewer"
email = "rita@board.example"
credentials = "MD, Hematology"

[[board]]
name = "Dr. Sam Second"
email = "sam@board.example"
credentials = "MD, Neurology"
"""


INTERPRETED = "interpreted"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{INTERPRETED}: replaces a function of a compiled module, which compiled callers never see; "
        "run by `make test`'s second pass, with REVIEWFLOW_PURE=1",
    )


def compiled_module(owner: object) -> str | None:
    """The name of the compiled module OWNER is or belongs to (None for Python source)."""
    name = owner.__name__ if isinstance(owner, ModuleType) else getattr(owner, "__module__", None)
    module = sys.modules.get(name) if isinstance(name, str) else None
    filename = getattr(module, "__file__", None) or ""
    return name if filename.endswith(tuple(EXTENSION_SUFFIXES)) else None


def needs_extension(imported: object) -> pytest.MarkDecorator:
    """Skips a test of an extension written in C where it is not in use: a pure build,
    REVIEWFLOW_PURE=1 or a stale build, where IMPORTED (a function the test module imported from
    it) is None. tests/test_compiled.py fails where the extension must be built."""
    return pytest.mark.skipif(
        imported is None,
        reason="the extension is not in use (a pure build, REVIEWFLOW_PURE=1, a stale build)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from reviewflow.content import prose  # a listed module: compiled, or this run reads sources

    if compiled_module(prose) is None:
        return
    skip = pytest.mark.skip(reason="replaces a compiled function: run by make test's interpreted pass")
    for item in items:
        if item.get_closest_marker(INTERPRETED):
            item.add_marker(skip)


class GuardedMonkeyPatch(pytest.MonkeyPatch):
    """monkeypatch that refuses to replace a function of a compiled module in a test not marked
    `interpreted`: compiled callers call it directly, so the test would pass without testing."""

    marked = False

    def setattr(self, target: Any, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        if isinstance(target, str) and len(args) + len(kwargs) < 2:  # setattr("module.name", value)
            dotted, attribute = target.rsplit(".", 1)
            owner = sys.modules.get(dotted)
        else:
            owner, attribute = target, (args[0] if args else kwargs.get("name"))
        compiled = compiled_module(owner) if owner is not None else None
        if compiled and callable(getattr(owner, str(attribute), None)) and not self.marked:
            pytest.fail(
                f"this test replaces {compiled}.{attribute}, a function of a compiled module that compiled "
                f"callers never see: mark it @pytest.mark.{INTERPRETED}",
                pytrace=False,
            )
        super().setattr(target, *args, **kwargs)


@pytest.fixture
def monkeypatch(request: pytest.FixtureRequest) -> Iterator[pytest.MonkeyPatch]:
    patcher = GuardedMonkeyPatch()
    patcher.marked = request.node.get_closest_marker(INTERPRETED) is not None
    yield patcher
    patcher.undo()


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One user cache for the session, so the syllable table is built once, not per test."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, shared_cache: Path
) -> None:
    """No test reads or writes the developer's git config, home, cache or repository."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(shared_cache))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GITHUB_STEP_SUMMARY", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    as_author(monkeypatch, "Alice Author", "alice@authors.example")


def as_author(monkeypatch: pytest.MonkeyPatch, name: str, email: str) -> None:
    """Act as this person for every git commit (and so every reviewflow action) that follows."""
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", name)
        monkeypatch.setenv(f"GIT_{role}_EMAIL", email)


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return result.stdout


@pytest.fixture
def content_repo(tmp_path: Path) -> Path:
    """A content repo made by `reviewflow init`, with a two-member board, as a git repo."""
    return make_content_repo(tmp_path / "content")


def make_content_repo(repo: Path) -> Path:
    """REPO made a content repo by `reviewflow init`, with a two-member board, committed."""
    init_repo(repo)
    with (repo / "reviewflow.toml").open("a", encoding="utf-8") as handle:
        handle.write(BOARD_TOML)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Start the health library")
    return repo


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run the CLI in a directory; exceptions are not swallowed, so a crash fails loudly."""

    def invoke(directory: Path, *args: str, input: str | None = None) -> Result:
        monkeypatch.chdir(directory)
        return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)

    return invoke


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def article_text(
    body: str = "POEMS syndrome is rare [1].\n",
    *,
    audience: str = "patient",
    disclaimer: str | None = None,
    references: str | None = None,
    extra: str = "",
    title: str = "A test article",
) -> str:
    """A valid article, with the parts a test wants to break replaced."""
    if references is None:
        references = """  - id: 1
    type: review
    title: "Update on the POEMS syndrome"
    source: "Blood Research"
    year: 2022
    doi: "10.5045/br.2022.2022001"
"""
    return f"""---
title: "{title}"
summary: "A short summary."
audience: {audience}
condition: POEMS syndrome
authors:
  - {{name: "Alice Author", email: "alice@authors.example",
     competing_interests: "none"}}
disclaimer: {disclaimer or audience}
references:
{references}{extra}---

{body}"""
