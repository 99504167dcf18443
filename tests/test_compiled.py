"""The compiled modules and the extensions written in C (reviewflow/compiled.py, setup.py): run
compiled when the build compiled them, and never an extension older than its source."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

import reviewflow
from reviewflow.compiled import (
    BUILT_MODULES,
    COMPILED_MODULES,
    PURE_VARIABLE,
    RECORD,
    extension_paths,
    source_path,
)
from reviewflow.publish import render, search
from tests.conftest import GuardedMonkeyPatch, compiled_module

PACKAGE = Path(reviewflow.__file__).parent
# Prints where each listed module was loaded from, one line each.
WHERE = "import importlib, sys; [print(importlib.import_module(m).__file__) for m in sys.argv[1:]]"
TEXTSCAN = "reviewflow.content._textscan"
YAMLSCAN = "reviewflow.content._yamlscan"
BODYSCAN = "reviewflow.content._bodyscan"
# For each extension written in C: code that prints the module of a function its caller runs (the
# extension, or the Python reference in the caller's module), and the caller's module. The prose
# counts its words with the first; the front-matter's plain data is read with the second; a plain
# body is read with the third.
USERS = {
    TEXTSCAN: (
        "from reviewflow.content import prose; print(prose._count_words.__module__)",
        "reviewflow.content.prose",
    ),
    YAMLSCAN: (
        "from reviewflow.content import plainyaml; print(plainyaml.plain_data.__module__)",
        "reviewflow.content.plainyaml",
    ),
    BODYSCAN: (
        "from reviewflow.content import markdown; print(markdown._read_plain.__module__)",
        "reviewflow.content.markdown",
    ),
}


def load(package_parent: Path, pure: bool = False, code: str = WHERE) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key != PURE_VARIABLE}
    environment["PYTHONPATH"] = str(package_parent)
    if pure:
        environment[PURE_VARIABLE] = "1"
    return subprocess.run(
        [sys.executable, "-c", code, *COMPILED_MODULES],
        cwd=package_parent,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )


def built_compiled() -> bool:
    return bool(json.loads(RECORD.read_text(encoding="utf-8")))


def test_the_record_lists_every_compiled_module_or_none() -> None:
    recorded = json.loads(RECORD.read_text(encoding="utf-8"))
    assert sorted(recorded) in ([], sorted(BUILT_MODULES))
    assert {TEXTSCAN, YAMLSCAN, BODYSCAN} <= set(BUILT_MODULES)
    if recorded:  # each module the build vouches for has its extension beside its source
        assert [module for module in BUILT_MODULES if not extension_paths(module)] == []
    if os.environ.get("REVIEWFLOW_TEST_COMPILED") == "require":  # CI, where a C compiler is
        assert recorded, "the build installed pure Python: the compiled modules failed to build"


def test_listed_modules_run_compiled_when_the_build_compiled_them() -> None:
    loaded = load(PACKAGE.parent)
    files = loaded.stdout.split()
    assert len(files) == len(COMPILED_MODULES)
    if built_compiled():
        assert all(file.endswith(".so") for file in files), files
    else:
        assert all(file.endswith(".py") for file in files), files
    assert loaded.stderr == ""


def test_pure_variable_reads_every_listed_module_from_its_source() -> None:
    loaded = load(PACKAGE.parent, pure=True)
    assert loaded.stdout.split() == [source_path(module) for module in COMPILED_MODULES]
    assert loaded.stderr == ""


@pytest.mark.parametrize("extension", list(USERS))
def test_each_extension_written_in_c_runs_when_the_build_compiled_it(extension: str) -> None:
    code, reference = USERS[extension]
    used = load(PACKAGE.parent, code=code)
    assert used.stdout.split() == [extension if built_compiled() else reference]
    assert used.stderr == ""


@pytest.mark.parametrize("extension", list(USERS))
def test_pure_variable_runs_each_python_reference(extension: str) -> None:
    code, reference = USERS[extension]
    used = load(PACKAGE.parent, pure=True, code=code)
    assert used.stdout.split() == [reference]
    assert used.stderr == ""


def copy_package(tmp_path: Path) -> Path:
    shutil.copytree(PACKAGE, tmp_path / "reviewflow", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "reviewflow"


def test_an_edited_source_runs_instead_of_its_older_extension(tmp_path: Path) -> None:
    copy = copy_package(tmp_path)
    edited = COMPILED_MODULES[0]
    source = copy.joinpath(*edited.split(".")[1:]).with_suffix(".py")
    if not extension_paths(edited):  # a pure build: an extension an earlier build left behind
        source.with_suffix(EXTENSION_SUFFIXES[0]).write_bytes(b"not loaded")
    source.write_text(source.read_text(encoding="utf-8") + "EDITED = True\n", encoding="utf-8")

    loaded = load(tmp_path)

    files = loaded.stdout.split()
    assert files == [
        str(copy.joinpath(*module.split(".")[1:]).with_suffix(".py")) for module in COMPILED_MODULES
    ]
    assert f"the compiled {edited} was built from another version of the source" in loaded.stderr
    check = subprocess.run(
        [sys.executable, "-c", f"import {edited} as m; print(m.EDITED)"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert check.stdout == "True\n"


@pytest.mark.parametrize("extension", list(USERS))
def test_an_edited_c_source_runs_the_python_reference_instead_of_its_older_extension(
    tmp_path: Path, extension: str
) -> None:
    copy = copy_package(tmp_path)
    source = Path(source_path(extension))
    copied = copy / source.relative_to(PACKAGE)
    if not extension_paths(extension):  # a pure build: an extension an earlier build left behind
        (copied.parent / f"{extension.rsplit('.', 1)[1]}{EXTENSION_SUFFIXES[0]}").write_bytes(b"not loaded")
    copied.write_text(source.read_text(encoding="utf-8") + "/* edited */\n", encoding="utf-8")
    code, reference = USERS[extension]

    used = load(tmp_path, code=code)

    assert used.stdout.split() == [reference]
    assert f"the compiled {extension} was built from another version of the source" in used.stderr


@pytest.mark.parametrize("extension", list(USERS))
def test_a_missing_c_extension_leaves_its_python_reference_to_run(tmp_path: Path, extension: str) -> None:
    """An extension written in C that is not there (removed, or never built) is not stale: its
    caller, compiled or not, runs the Python reference, and nothing is said."""
    copy = copy_package(tmp_path)
    for path in extension_paths(extension):
        (copy / Path(path).relative_to(PACKAGE)).unlink()
    code, reference = USERS[extension]

    used = load(tmp_path, code=code)

    assert used.stdout.split() == [reference]
    assert used.stderr == ""
    if built_compiled():  # the other compiled modules still run compiled
        assert all(file.endswith(".so") for file in load(tmp_path).stdout.split())


def test_an_extension_the_record_does_not_vouch_for_is_not_run(tmp_path: Path) -> None:
    copy = copy_package(tmp_path)
    module = COMPILED_MODULES[0]
    if not extension_paths(module):
        copy.joinpath(*module.split(".")[1:]).with_suffix(EXTENSION_SUFFIXES[0]).write_bytes(b"x")
    (copy / "compiled.json").write_text("{}\n", encoding="utf-8")  # as a pure build writes it

    loaded = load(tmp_path)

    assert all(file.endswith(".py") for file in loaded.stdout.split())
    assert f"the compiled {module}" in loaded.stderr
    assert "was built from another version of the source" in loaded.stderr


def test_a_test_cannot_replace_a_compiled_function_unmarked() -> None:
    """The tests' monkeypatch refuses to replace a function compiled callers would never call
    (the test would pass without testing); a module constant is read at run time and may be set."""
    patcher = GuardedMonkeyPatch()
    try:
        patcher.setattr(render, "POOL_THRESHOLD", 1)
        if compiled_module(search) is None:  # a pure build: nothing to refuse
            patcher.setattr(search, "shard_keys", lambda sizes: [])
            return
        with pytest.raises(pytest.fail.Exception, match="replaces reviewflow.publish.search.shard_keys"):
            patcher.setattr(search, "shard_keys", lambda sizes: [])
        with pytest.raises(pytest.fail.Exception, match="mark it @pytest.mark.interpreted"):
            patcher.setattr("reviewflow.publish.search.shard_keys", lambda sizes: [])
        patcher.marked = True
        patcher.setattr(search, "shard_keys", lambda sizes: [])
    finally:
        patcher.undo()
