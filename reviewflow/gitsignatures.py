"""Review commits' SSH signatures, verified by git against the board's signing keys: one
`log --no-walk --stdin` for the commits that need it, with a temporary allowed-signers file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from reviewflow import gitprocess
from reviewflow.errors import EnvironmentProblem
from reviewflow.gitlog import is_object_id
from reviewflow.gitstore import GitStore


def signatures(
    store: GitStore, commits: Sequence[str], signers: Iterable[tuple[str, str]]
) -> dict[str, tuple[str, str]]:
    """commit -> (git's verdict %G?, the key's fingerprint %GK), verified against SIGNERS.

    SIGNERS are (email, SSH public key) pairs, several keys per email where a member's key
    changed over time; git checks each signature with ssh-keygen against an allowed-signers
    file made from them, so only these commits pay for it.
    """
    if not commits:
        return {}
    if store.version < gitprocess.MIN_GIT_SSH:
        raise EnvironmentProblem(
            f"the board has signing keys, and verifying SSH signatures needs git "
            f"{gitprocess.dotted(gitprocess.MIN_GIT_SSH)} or newer "
            f"(this is git {gitprocess.dotted(store.version)}): upgrade git"
        )
    with _allowed_signers(signers) as allowed:
        out = store.run(
            "log", "--no-walk=unsorted", "--stdin", "--format=%H%x1f%G?%x1f%GK",
            input="".join(f"{c}\n" for c in commits if is_object_id(c)).encode(),
            config=("-c", f"gpg.ssh.allowedSignersFile={allowed}"),
        )  # fmt: skip
    verdicts = {}
    for line in out.decode("utf-8", "replace").splitlines():
        parts = line.split("\x1f")
        if len(parts) == 3:
            verdicts[parts[0]] = (parts[1] or "N", parts[2])
    return verdicts


@contextmanager
def _allowed_signers(signers: Iterable[tuple[str, str]]) -> Iterator[str]:
    """A temporary gpg.ssh.allowedSignersFile: each board member's email and signing key."""
    lines = sorted({f'{email} namespaces="git" {" ".join(key.split()[:2])}\n' for email, key in signers})
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", prefix="reviewflow-signers-", delete=False) as f:
        f.writelines(lines)
    try:
        yield f.name
    finally:
        os.unlink(f.name)
