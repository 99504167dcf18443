"""The review workflow on the command line: the actions (each one a commit) and the commands
that read the review log (status, history, diff, queue, verify)."""

from __future__ import annotations

import click

from reviewflow.cli.app import State, cli, finish
from reviewflow.errors import ExitCode

_SIGN_HELP = "Sign the commit (git commit -S); needed when your board entry has a signing_key."


def _act(state: State, action: str, article: str, message: str, sign: bool) -> None:
    from reviewflow.cli.views import action_text

    click.echo(action_text(state.repo().act(action, article, message, sign=sign)))
    finish(ExitCode.OK)


@cli.command(name="submit")
@click.argument("article")
@click.option("-m", "--message", default="", help="A note for the reviewers.")
@click.option("--sign", is_flag=True, help=_SIGN_HELP)
@click.pass_obj
def submit_command(state: State, article: str, message: str, sign: bool) -> None:
    """Submit an article for review by the advisory board (a commit on this branch).

    ARTICLE is a slug or the path of its file (articles/[<dirs>/]<slug>.md). The article must
    be committed and pass `reviewflow check`. Exit 1 (with the reason) when the action is refused.

    Example: reviewflow submit poems-syndrome-prognosis -m "Ready for review"
    """
    _act(state, "submit", article, message, sign)


@cli.command(name="review")
@click.argument("article")
@click.option("-m", "--message", default="", help="A note in the review log.")
@click.option("--sign", is_flag=True, help=_SIGN_HELP)
@click.pass_obj
def review_command(state: State, article: str, message: str, sign: bool) -> None:
    """Start reviewing a submitted article (board members who are not its authors).

    Example: reviewflow review poems-syndrome-prognosis
    """
    _act(state, "review", article, message, sign)


@cli.command(name="request-changes")
@click.argument("article")
@click.option("-m", "--message", required=True, help="What has to change, and why (required).")
@click.option("--sign", is_flag=True, help=_SIGN_HELP)
@click.pass_obj
def request_changes_command(state: State, article: str, message: str, sign: bool) -> None:
    """Send an article back to its authors with the changes it needs.

    Example: reviewflow request-changes poems-syndrome-prognosis -m "Cite the 2019 guideline for the dose"
    """
    _act(state, "request-changes", article, message, sign)


@cli.command(name="approve")
@click.argument("article")
@click.option("-m", "--message", default="", help="A note in the review log.")
@click.option("--sign", is_flag=True, help=_SIGN_HELP)
@click.option("--accept-warnings", is_flag=True, help="Acknowledge every warning of the text (recorded).")
@click.option("--accept", "accept_rules", multiple=True, metavar="RULE",
              help="Acknowledge the warnings of this rule (repeatable; recorded).")  # fmt: skip
@click.pass_obj
def approve_command(
    state: State, article: str, message: str, sign: bool, accept_warnings: bool, accept_rules: tuple[str, ...]
) -> None:
    """Approve the committed text of an article under review.

    It is approved once policy.approvals_required distinct board members approve the same
    text; any later edit makes it a draft again, while the approved version stays published.
    A text with errors is refused; one with warnings is refused until you acknowledge them
    (--accept-warnings, or --accept RULE), and the commit records what you acknowledged.

    Example: reviewflow approve poems-syndrome-prognosis -m "Accurate and clear"
    """
    from reviewflow.cli.views import action_text

    result = state.repo().approve(
        article, message, sign=sign, accept_warnings=accept_warnings, accept=accept_rules
    )
    click.echo(action_text(result))
    finish(ExitCode.OK)


@cli.command(name="withdraw")
@click.argument("article")
@click.option("-m", "--message", default="", help="Why it is withdrawn.")
@click.option("--sign", is_flag=True, help=_SIGN_HELP)
@click.pass_obj
def withdraw_command(state: State, article: str, message: str, sign: bool) -> None:
    """Take your article back out of review: it becomes a draft again (authors only).

    Example: reviewflow withdraw poems-syndrome-prognosis -m "Rewriting the treatment section"
    """
    _act(state, "withdraw", article, message, sign)


@cli.command(name="status")
@click.argument("articles", nargs=-1)
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def status_command(state: State, articles: tuple[str, ...], output: str) -> None:
    """Show where every article stands: state, approvals, approvers, dates, live version.

    With ARTICLES (slugs or paths), only those. LIVE VERSION says whether the approved
    version (the one published) differs from the file at HEAD.

    Example: reviewflow status --format json
    """
    from datetime import date

    from reviewflow.cli.views import STATUS_VIEWS

    statuses = state.repo().status(articles)
    click.echo(STATUS_VIEWS[output](statuses, date.today()))
    finish(ExitCode.OK)


@cli.command(name="history")
@click.argument("article")
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def history_command(state: State, article: str, output: str) -> None:
    """Show every review event of an article, oldest first, and why any did not count.

    Example: reviewflow history poems-syndrome-prognosis
    """
    from datetime import date

    from reviewflow.cli.views import HISTORY_VIEWS

    history = state.repo().history(article)
    click.echo(HISTORY_VIEWS[output](history, date.today()))
    finish(ExitCode.OK)


@cli.command(name="diff")
@click.argument("article")
@click.option("-U", "--unified", "context", type=click.IntRange(0), default=3, show_default=True,
              help="Lines of context around each change.")  # fmt: skip
@click.pass_obj
def diff_command(state: State, article: str, context: int) -> None:
    """Show what changed in an article since its last approved version: what to re-review.

    Compares the approved text with the file as committed at HEAD (never approved: with the
    version changes were last requested on, else the whole file).

    Example: reviewflow diff poems-syndrome-prognosis
    """
    from reviewflow.cli.views import diff_text

    diff = state.repo().diff(article, context=context)
    click.echo(diff_text(diff))
    finish(ExitCode.OK)


@cli.command(name="queue")
@click.option("--mine", is_flag=True, help="Only what waits for you: to review, or your own articles.")
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def queue_command(state: State, mine: bool, output: str) -> None:
    """List the articles waiting for a reviewer (submitted, under review), longest waiting first.

    Example: reviewflow queue --mine
    """
    from reviewflow.cli.views import QUEUE_VIEWS

    click.echo(QUEUE_VIEWS[output](state.repo().queue(mine=mine), mine))
    finish(ExitCode.OK)


@cli.command(name="verify")
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--range", "rev_range", metavar="A..B", help="Only report the events in this range of commits.")
@click.option(
    "--no-cache", is_flag=True, help="Judge from git alone, ignoring the facts kept in .git/reviewflow/."
)
@click.pass_obj
def verify_command(state: State, output: str, rev_range: str | None, no_cache: bool) -> None:
    """Check every review event in the history and report each one that does not count.

    Invalid: an actor not on the board, an author approving their own work, a transition the
    workflow does not allow, a content trailer that is not the committed text, a missing or
    wrong signature. An approval whose Reviewflow-Accept trailers do not acknowledge every
    warning of the text it approved is refused too, and an event dated after the time of the
    run is listed (date-future). Exit 1 when any is found.

    Example: reviewflow verify --range origin/main..HEAD --format json
    """
    from reviewflow.cli.verify_report import VERIFY_VIEWS

    result = state.repo().verify(rev_range, use_cache=not no_cache)
    click.echo(VERIFY_VIEWS[output](result))
    finish(ExitCode.FINDINGS if result.failed else ExitCode.OK)
