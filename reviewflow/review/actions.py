"""The review actions: submit, review, request-changes, approve, withdraw.

Each one is an empty commit on the current branch whose trailers name the article, the action
and the exact text acted on (its blob id). Before committing, the action is judged by the same
state machine that replays the history, so reviewflow never records an event that would not
count; whatever else would make it useless (uncommitted text, a failing `check`, an unsigned
commit from a signing member, a detached HEAD) is refused with what to do instead. After
committing, the history is read again from git: an action reports success only for an event
that history counts, and undoes its commit otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from reviewflow.config import BoardMember, Config
from reviewflow.errors import Refused
from reviewflow.findings import Severity
from reviewflow.gitsignatures import signatures
from reviewflow.gitstore import GitStore
from reviewflow.gitwrite import commit_event, current_branch, signs_commits, undo_commit
from reviewflow.layout import duplicate_slug_message, work_tree_articles
from reviewflow.review.board import authors_of, committed_config
from reviewflow.review.kept import Overlay
from reviewflow.review.model import BOARD_ACTIONS, Action, ArticleStatus, Event, State
from reviewflow.review.queries import (
    PENDING,
    UnknownArticle,
    judge_for,
    judge_history,
    now,
    resolve_article,
    unknown_article,
)
from reviewflow.review.snapshot import Judged, kept_history
from reviewflow.review.trailers import TRAILER_ACCEPT, TRAILER_ACTION, TRAILER_ARTICLE, TRAILER_CONTENT
from reviewflow.review.workflow import ssh_fingerprint

if TYPE_CHECKING:
    from reviewflow.review.acknowledge import Acceptance
    from reviewflow.review.gate import ApprovalGate

_RESERVED_LINE = re.compile(r"^\s*reviewflow-[a-z-]*\s*:", re.IGNORECASE | re.MULTILINE)


def clean_message(message: str) -> str:
    """A user's -m message, tidied; refused if it could be mistaken for reviewflow's trailers."""
    lines = [line.rstrip() for line in message.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    if _RESERVED_LINE.search(text):
        raise Refused(
            "the message may not contain a line starting with 'Reviewflow-…:': reviewflow writes those itself"
        )
    return text


def event_message(
    action: Action, slug: str, content: str, message: str = "", accepted: Sequence[str] = ()
) -> str:
    """The commit message of a review action: subject, optional message, the three trailers,
    and on an approval one Reviewflow-Accept trailer for each warning acknowledged."""
    lines = [f"reviewflow: {action.value} {slug}", ""]
    if message:
        lines += [message, ""]
    lines += [
        f"{TRAILER_ARTICLE}: {slug}",
        f"{TRAILER_ACTION}: {action.value}",
        f"{TRAILER_CONTENT}: {content}",
        *(f"{TRAILER_ACCEPT}: {value}" for value in accepted),
    ]
    return "\n".join(lines) + "\n"


# --- the actions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionResult:
    """A review action that was recorded: its commit, and the article's state after it."""

    action: Action
    slug: str
    commit: str
    actor: str  # "Name <email>"
    status: ArticleStatus
    next_step: str
    # An approval: the warnings its reviewer acknowledged, and those the author marked intended
    # (each `rule line:column message`, the intended ones with the author's reason).
    acknowledged: tuple[str, ...] = ()
    intended: tuple[str, ...] = ()


def act(
    root: Path,
    config: Config,
    action: Action,
    article: str,
    message: str = "",
    *,
    sign: bool = False,
    cwd: Path | None = None,
    accept: Acceptance | None = None,
) -> ActionResult:
    """Record ACTION on ARTICLE as a commit on the current branch, or refuse and say why.

    Refused (exit 1): an unknown article, uncommitted changes to it, a transition not in the
    table, the wrong person (not on the board, an author), a `submit` that fails `check`, a
    reviewer approving the same text twice, a signing member whose commit is not signed, an
    approval of a text with errors, or with warnings ACCEPT does not acknowledge (acknowledge.py).
    """
    store = GitStore.open(root)
    try:
        slug = resolve_article(root, article, cwd)
    except UnknownArticle as exc:
        raise Refused(str(exc)) from None
    judged = _judge(store, config, action, slug, message, sign, accept)
    commit = commit_event(store, judged.message, judged.sign, store.head)
    if commit is None:
        raise Refused(
            f"cannot {action} {slug}: another commit landed on this branch while this action was "
            f"being judged, so nothing was recorded; run `reviewflow {action} {slug}` again"
        )
    member = judged.member
    if member is not None and member.signing_key:
        _keep_only_if_signed(store, commit, store.head, member.email, member.signing_key)
    recorded = _keep_only_if_counted(root, commit, store.head, slug, action)
    gate = judged.gate
    return ActionResult(
        action,
        slug,
        commit,
        judged.actor,
        recorded,
        next_step(recorded),
        gate.acknowledged if gate else (),
        gate.intended if gate else (),
    )


@dataclass(frozen=True)
class _Judged:
    """An action judged as the history would judge it, ready to commit."""

    actor: str  # "Name <email>", git's author identity
    message: str  # the commit message, trailers included
    sign: bool
    member: BoardMember | None  # the actor's board entry in HEAD's reviewflow.toml
    gate: ApprovalGate | None  # an approval's checks and acknowledgements


def _judge(
    store: GitStore,
    config: Config,
    action: Action,
    slug: str,
    message: str,
    sign: bool,
    accept: Acceptance | None,
) -> _Judged:
    """ACTION on SLUG with the user's MESSAGE, judged before anything is committed: refused,
    saying what to do instead, unless the history would count it."""
    _refuse_detached_head(store, action)
    name, email = store.author()
    text = clean_message(message)
    if action is Action.REQUEST_CHANGES and not text:
        raise Refused("say what has to change: reviewflow request-changes ARTICLE -m 'what and why'")
    blob = _committed_text(store, slug, action)
    if action is Action.SUBMIT:
        _refuse_failing_check(store.root, config, store.article_file(slug))

    # Judged like every event: under the reviewflow.toml committed where it is made, HEAD's.
    rules = committed_config(store)
    member = rules.member(email)
    key = ssh_fingerprint(member.signing_key) if member and member.signing_key else ""
    pending = _pending_event(store.head, action, slug, blob, text, (name, email), key)
    _refuse_unless_counted(store, rules, action, pending, on_board=member is not None)
    sign = sign or signs_commits(store)  # commit-tree does not read it: we do
    _refuse_unsigned(key, sign)
    gate = None
    if action is Action.APPROVE:
        from reviewflow.review.gate import judge_approval  # the checks: only `approve` pays for them

        gate = judge_approval(store, rules, slug, blob, accept)
    commit_message = event_message(action, slug, blob, text, gate.trailers if gate else ())
    return _Judged(f"{name} <{email}>", commit_message, sign, member, gate)


def _pending_event(
    head: str, action: Action, slug: str, blob: str, text: str, person: tuple[str, str], key: str
) -> Event:
    """The event ACTION would be, judged before it is committed."""
    return Event(
        commit=PENDING,
        parents=(head,),
        author_name=person[0],
        author_email=person[1],
        committed_at=now(),
        action=action,
        slug=slug,
        content=blob,
        message=text,
        signature="G",  # the real commit's signature is checked once it exists
        signing_key=key,
        committed_blob=blob,
    )


def _refuse_unless_counted(
    store: GitStore, rules: Config, action: Action, pending: Event, on_board: bool
) -> None:
    """Judge PENDING (ACTION, not yet committed) as the history would, and refuse it, saying what
    to do instead, unless it would count and move the article on."""
    slug, email = pending.slug, pending.author_email
    judged = _judged_with_actor(store, rules, pending)
    replay, before = judged.replay, judged.outcome.statuses[slug]
    if action is Action.REVIEW and before.state is State.UNDER_REVIEW:
        # Replay accepts a second review (one made on another branch, merged), but here and now
        # the article needs a verdict, not another start.
        by = f" by {', '.join(before.reviewers)}" if before.reviewers else ""
        raise Refused(f"cannot review {slug}: it is already under review{by}. {advice(action, before)}")
    verdict, _ = replay.try_event(pending)
    if not verdict.valid:
        author = replay.author_role(slug, email) is not None
        tip = role_advice(action, email, on_board, author) or advice(action, before)
        raise Refused(f"cannot {action} {slug}: {verdict.reason}. {tip}".rstrip())
    if action is Action.APPROVE and verdict.actor in before.approved_by:
        count = f"{before.approvals}/{before.approvals_required}"
        raise Refused(
            f"you ({email}) already approved this version of {slug} ({count} approvals), and the "
            "same reviewer counts once"
            + ("" if before.state is State.APPROVED else ": another board member has to approve it")
        )


def _judged_with_actor(store: GitStore, rules: Config, pending: Event) -> Judged:
    """The history at HEAD, told whether PENDING's actor is listed among its text's authors.

    The kept state where there is one (snapshot.kept_history), else the log read for the
    article (every commit: ~10 s at 100,000 articles against ~3.5 s). A whole history knows
    everyone's changes to the file, but a text's listed authors only among the actors of its
    events (`History.authors`): the actor's answer is added to what it knows of the text.
    """
    blob, email = pending.content, pending.author_email
    kept = kept_history(store, rules)
    if kept is None:
        return judge_history(store, rules, scope={pending.slug}, want_authors={blob: [email]})
    history = kept.replay.history
    listed, _ = authors_of(store, {blob: {email.lower()}}, use_cache=True, look_up=False)
    told = history.authors.get(blob, frozenset()) | listed.get(blob, frozenset())
    kept.replay.history = replace(history, authors=Overlay({blob: told}, history.authors))
    return kept


def _refuse_unsigned(key: str, sign: bool) -> None:
    """Refuse a commit git would not sign (SIGN: --sign or commit.gpgsign) for a member with a
    signing key (KEY): it would not count."""
    if key and not sign:
        raise Refused(
            "your board entry in reviewflow.toml has a signing_key, so only your signed actions "
            "count: add --sign, or `git config commit.gpgsign true` (with `git config gpg.format "
            "ssh` and `git config user.signingkey ~/.ssh/id_ed25519.pub`)"
        )


def _refuse_detached_head(store: GitStore, action: Action) -> None:
    """Refuse to act on a detached HEAD: the commit would be on no branch, and lost at the next
    checkout without a word."""
    if current_branch(store) is None:
        raise Refused(
            f"HEAD is detached (at {store.head[:12]}), so a review action would be recorded on no "
            "branch and lost at the next checkout. Switch to the branch the review belongs on "
            "(`git switch <branch>`), or keep this commit on a new one "
            f"(`git switch -c <new-branch>`), then {action} again"
        )


def _keep_only_if_counted(root: Path, commit: str, previous: str, slug: str, action: Action) -> ArticleStatus:
    """The article's state after COMMIT, as the history with COMMIT read from git says (what
    `status` and `verify` will say); COMMIT undone back to PREVIOUS, its parent, and the action
    refused, unless that history counts it.

    The action was judged before committing, but only the history decides: a configuration
    substituted under git, an object swapped with `git replace`, anything that made the recorded
    event differ from the judged one would otherwise be reported as a success that never was.
    """
    store = GitStore.open(root)
    # The kept state brought up to HEAD by reading the new commits from git (snapshot.py): what
    # `status` and `publish` read next. With none kept, the log is read for SLUG.
    status = judge_for(store, None, {slug}).outcome.statuses.get(slug)
    event = next((e for e in status.events if e.commit == commit), None) if status else None
    if status is not None and event is not None and event.valid:
        return status
    reason = event.reason if event is not None else "the history from HEAD holds no such event"
    undone = undo_commit(store, commit, previous)
    what = "reviewflow undid it" if undone else f"undo it with `git reset --soft {previous[:12]}`"
    raise Refused(
        f"cannot {action} {slug}: commit {commit[:12]} was made, but the review history does not "
        f"count it ({reason}); {what}. An object swapped with `git replace` or a "
        "configuration substituted under git can do this: see `git replace --list` and `reviewflow verify`"
    )


def _committed_text(store: GitStore, slug: str, action: Action) -> str:
    """The blob of the article at HEAD, refusing when the file is not exactly what is committed."""
    files, duplicates = store.article_listing()
    heads = {name: blob for name, (_, blob) in files.items()}
    if slug in duplicates:
        raise Refused(f"cannot {action} {slug}: {duplicate_slug_message(slug, duplicates[slug])}")
    path = store.article_file(slug)
    if slug not in heads:
        path = work_tree_articles(store.root).get(slug, path)
        if (store.root / path).is_file():
            raise Refused(
                f"{path} is not committed yet: commit it first (git add {path} && git commit), then {action}"
            )
        raise Refused(unknown_article(slug, heads))
    if not store.is_unchanged(store.article_path(slug)):
        raise Refused(
            f"{path} has uncommitted changes, and a review action applies to the text in git: "
            f"commit them (git add {path} && git commit) or discard them "
            f"(git restore --staged --worktree {path}), then {action}"
        )
    return heads[slug]


def _keep_only_if_signed(store: GitStore, commit: str, previous: str, email: str, public_key: str) -> None:
    """Undo COMMIT unless git verifies it was signed with the member's key: it would not count."""
    status, key = signatures(store, [commit], [(email, public_key)]).get(commit, ("N", ""))
    if status == "G" and key == ssh_fingerprint(public_key):
        return
    undone = undo_commit(store, commit, previous)
    what = "reviewflow undid it" if undone else f"undo it with `git reset --soft {previous[:12]}`"
    signed = f"signed with {key}" if key else "not signed"
    raise Refused(
        f"commit {commit[:12]} is {signed}, not with your signing_key from reviewflow.toml "
        f"(git reports {status}), so it would not count; {what}. Sign with the key whose "
        "public half is your signing_key (git config user.signingkey)"
    )


def _refuse_failing_check(root: Path, config: Config, path: str) -> None:
    from reviewflow.checks.workspace import Workspace  # the checks: only `submit` pays for importing them

    report = Workspace(root, config).check([root / path])
    if report.errors:
        errors = [f for f in report.findings if f.severity is Severity.ERROR]
        shown = "; ".join(f"line {f.line}: {f.message} [{f.rule}]" for f in errors[:3])
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        raise Refused(
            f"{path} fails `reviewflow check` with {len(errors)} error(s), so it cannot be "
            f"submitted: {shown}{more}. Fix them (reviewflow check {path}), commit, and submit again"
        )


_TIPS: dict[tuple[Action, State], str] = {
    (Action.SUBMIT, State.SUBMITTED): "It is already waiting for a reviewer (see `reviewflow queue`).",
    (Action.SUBMIT, State.UNDER_REVIEW): "It is already under review.",
    (Action.SUBMIT, State.CHANGES_REQUESTED): "Edit it as requested, commit, then submit again.",
    (Action.SUBMIT, State.APPROVED): "It is approved as it is; edit and commit it to start a new version.",
    (Action.REVIEW, State.DRAFT): "It has not been submitted: an author runs `reviewflow submit {slug}`.",
    (Action.REVIEW, State.UNDER_REVIEW): "It is already under review: approve it or request changes.",
    (Action.REVIEW, State.CHANGES_REQUESTED): "It waits for the author to make the requested changes.",
    (Action.REVIEW, State.APPROVED): "It is approved; an edited version starts a new review.",
    (Action.REQUEST_CHANGES, State.DRAFT): "It has not been submitted; tell the author directly.",
    (Action.REQUEST_CHANGES, State.CHANGES_REQUESTED): "Changes are already requested.",
    (Action.REQUEST_CHANGES, State.APPROVED): "It is approved; an edited version starts a new review.",
    (Action.APPROVE, State.SUBMITTED): "Start the review first: `reviewflow review {slug}`.",
    (
        Action.APPROVE,
        State.DRAFT,
    ): "It has not been submitted since it last changed: `reviewflow submit {slug}`.",
    (Action.APPROVE, State.CHANGES_REQUESTED): "Changes were requested: it needs an edited version first.",
    (Action.WITHDRAW, State.DRAFT): "It is a draft already: there is nothing to withdraw.",
    (Action.WITHDRAW, State.APPROVED): "An approved version stays approved; edit it to start a new version.",
}


def advice(action: Action, status: ArticleStatus) -> str:
    """What to do instead, when ACTION is not allowed from the article's state."""
    return _TIPS.get((action, status.state), "").format(slug=status.slug)


def role_advice(action: Action, email: str, on_board: bool, author: bool) -> str | None:
    """What to do instead, when the person acting may not take ACTION (None if they may)."""
    if action in BOARD_ACTIONS and not on_board:
        return (
            f"You are acting as {email} (git's author identity), and only the advisory board "
            "([[board]] in reviewflow.toml) reviews: check `git config user.email`."
        )
    if action in BOARD_ACTIONS and author:
        return f"Ask another board member to {action} it."
    if action is Action.WITHDRAW and not author:
        return "Ask one of its authors to withdraw it."
    return None


def next_step(status: ArticleStatus) -> str:
    """What happens next, after an action left an article in STATUS."""
    slug, state = status.slug, status.state
    if state is State.UNDER_REVIEW and status.approvals:
        count = f"{status.approvals}/{status.approvals_required}"
        return f"Approvals {count}: another board member has to approve it."
    if state is State.APPROVED:
        return f"Approved by {', '.join(status.approved_by)}: `reviewflow publish` publishes this version."
    return {
        State.DRAFT: f"It is a draft again: edit, commit, and `reviewflow submit {slug}` when ready.",
        State.SUBMITTED: f"It waits for a board member: `reviewflow review {slug}`.",
        State.UNDER_REVIEW: f"Next: `reviewflow approve {slug}` or `reviewflow request-changes {slug} -m`.",
        State.CHANGES_REQUESTED: f"The author edits it, commits, and runs `reviewflow submit {slug}` again.",
    }[state]
