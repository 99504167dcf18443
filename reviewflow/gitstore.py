"""The one module that talks to git. Everything else gets plain data from here."""

from __future__ import annotations

import subprocess
from pathlib import Path


def author_identity(root: Path) -> tuple[str, str] | None:
    """Git's author identity (name, email) as git itself resolves it, or None if unset."""
    try:
        result = subprocess.run(
            ["git", "var", "GIT_AUTHOR_IDENT"], cwd=root, capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    ident = result.stdout.strip()
    if result.returncode != 0 or "<" not in ident:
        return None
    name, _, rest = ident.partition("<")
    return name.strip(), rest.partition(">")[0].strip()
