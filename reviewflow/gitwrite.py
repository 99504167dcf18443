"""The only commits reviewflow makes: a review action's empty commit on the current branch,
signed when git is set to sign, and its undoing when the action would not count. Each step is
a compare-and-swap on the branch, so an action lands only on the history it was judged against
(every git process starts in gitprocess.py)."""

from __future__ import annotations

from reviewflow import gitprocess
from reviewflow.errors import EnvironmentProblem
from reviewflow.gitstore import GitStore


def current_branch(store: GitStore) -> str | None:
    """The branch HEAD is on (`refs/heads/…`), or None when HEAD is detached (or on no branch)."""
    result = gitprocess.run(store.toplevel, "symbolic-ref", "-q", "HEAD", check=False)
    ref = result.stdout.decode("utf-8", "replace").strip()
    return ref if result.returncode == 0 and ref.startswith("refs/heads/") else None


def signs_commits(store: GitStore) -> bool:
    """Whether git is set to sign every commit (commit.gpgsign): commit-tree does not read it."""
    result = gitprocess.run(store.toplevel, "config", "--type=bool", "--get", "commit.gpgsign", check=False)
    return result.stdout.decode().strip() == "true"


def commit_event(store: GitStore, message: str, sign: bool, parent: str) -> str | None:
    """Record MESSAGE as an empty commit on PARENT and move the branch to it, or None if the
    branch is no longer at PARENT (another action landed since PARENT was read and judged).

    `commit-tree` plus a compare-and-swap `update-ref`, not `git commit`: the id returned is
    this commit's, never one another process made a moment later, and the event is recorded
    only on the history it was judged against. Nothing staged is committed (the tree is
    PARENT's), no hook runs, the message is kept verbatim. Signed (`-S`, with git's gpg.format
    and user.signingkey) when SIGN: commit-tree does not read commit.gpgsign, so the caller
    decides with it.
    """
    commit = store.run(
        "commit-tree", *(["-S"] if sign else []), f"{parent}^{{tree}}", "-p", parent, "-F", "-",
        input=message.encode("utf-8"),
    ).decode().strip()  # fmt: skip
    subject = message.partition("\n")[0]
    moved = gitprocess.run(
        store.toplevel, "update-ref", "-m", f"commit: {subject}", "HEAD", commit, parent, check=False
    )
    if moved.returncode == 0:
        return commit
    if store.run("rev-parse", "--verify", "HEAD^{commit}").decode().strip() != parent:
        return None
    problem = gitprocess.stderr_text(moved)
    raise EnvironmentProblem(f"git could not move the branch to the new commit: {problem}")


def undo_commit(store: GitStore, commit: str, previous: str) -> bool:
    """Move the branch back from COMMIT to PREVIOUS, only if nothing else moved it since."""
    result = gitprocess.run(
        store.toplevel, "update-ref", "-m", "reviewflow: undo an action that would not count",
        "HEAD", previous, commit, check=False,
    )  # fmt: skip
    return result.returncode == 0
