"""The `reviewflow` command line: options in, one core call, a reporter, an exit code."""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click

from reviewflow import __version__
from reviewflow.cli.reporters import inert_lines, use_colour, visible
from reviewflow.config import CONFIG_FILE
from reviewflow.errors import ExitCode, ReviewflowError
from reviewflow.repo import ContentRepo

# Each command imports what it runs, so that `status` never loads the checks or `check` git:
# start-up is paid on every run. The output formats are named here for the options; a test
# holds them to the reporters' registries.
CHECK_FORMATS = ("text", "json", "github")
CI_FORMATS = ("text", "json", "github", "junit")

EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE  # what a shell reports for a process SIGPIPE ended


@dataclass
class State:
    """What every command needs: where to look, and how loud to fail."""

    directory: Path
    debug: bool

    def repo(self, paths: Sequence[Path] = ()) -> ContentRepo:
        """The content repo at or above the directory (else the one holding PATHS). Its
        reviewflow.toml on disk is read only by what needs it (`check`, `new`, the actions):
        the commands that read review state are judged by the committed one."""
        repo = ContentRepo.open(self.directory, paths=paths)
        click.get_current_context().call_on_close(lambda: _note_uncommitted_config(repo))
        return repo

    def path(self, value: Path) -> Path:
        return value if value.is_absolute() else self.directory / value


def _note_uncommitted_config(repo: ContentRepo) -> None:
    if repo.config_uncommitted:
        click.echo(
            f"reviewflow: note: {CONFIG_FILE} has uncommitted changes; what is shown was judged "
            "by the committed one (HEAD)",
            err=True,
        )


class ReviewflowGroup(click.Group):
    """The one error boundary: expected errors print one line, bugs print one line and exit 3."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except BrokenPipeError:
            # The reader went away (`reviewflow status | head -1`): stop quietly, as a program
            # killed by SIGPIPE would. Point stdout at /dev/null so the interpreter's final
            # flush cannot complain either.
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(EXIT_BROKEN_PIPE)
        except ReviewflowError as exc:
            # A message names files and quotes values the repository chose: each line inert.
            for line in str(exc).strip("\n").split("\n") if str(exc) else [type(exc).__name__]:
                click.echo(f"reviewflow: {visible(line)}", err=True)
            ctx.exit(exc.exit_code)
        except Exception as exc:  # noqa: BLE001 - the boundary that turns bugs into exit 3
            if ctx.params.get("debug"):
                traceback.print_exc()
            else:
                message = visible(str(exc).splitlines()[0]) if str(exc).strip() else ""
                click.echo(
                    f"reviewflow: internal error: {type(exc).__name__}: {message} "
                    "(re-run with --debug for the traceback, and please report it)",
                    err=True,
                )
            ctx.exit(ExitCode.INTERNAL)


@click.group(cls=ReviewflowGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-C",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    help="Run as if reviewflow was started in DIRECTORY.",
)
@click.option("--debug", is_flag=True, help="Show the full traceback of an internal error.")
@click.version_option(__version__, prog_name="reviewflow")
@click.pass_context
def cli(ctx: click.Context, directory: Path, debug: bool) -> None:
    """Editorial review for medical content kept in git.

    Authors write articles/<slug>.md, the advisory board reviews and approves them, and
    only approved text is published. Every review action is a git commit.
    """
    ctx.obj = State(directory=directory, debug=debug)
    # The one colour decision: every click.echo of every command follows the root context.
    ctx.color = use_colour()


def finish(code: int) -> NoReturn:
    sys.exit(int(code))


@cli.command(name="init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--install", "install", metavar="SPEC",
              help="The pip requirement, pinned to a tag or commit, the workflow installs.")  # fmt: skip
@click.pass_obj
def init_command(state: State, directory: Path, install: str | None) -> None:
    """Create a content repo: reviewflow.toml, the article schema, an example article, a workflow.

    Existing files are never overwritten. The GitHub workflow installs reviewflow from SPEC
    (reviewflow is not on PyPI), or from the repository variable REVIEWFLOW_INSTALL.

    Example: reviewflow init health-library --install "reviewflow @ git+https://github.com/ORG/reviewflow@v0.1.0"
    """
    from reviewflow.cli.scaffold import init_repo

    written_files = init_repo(state.path(directory), install)
    for relative, written in written_files:
        click.echo(f"{'created' if written else 'kept   '} {relative}")
    # The workflow comes last (at the top of the git repository when DIRECTORY is below it).
    workflow, workflow_written = written_files[-1]
    if install is None and workflow_written:
        click.echo(
            f"Note: {workflow} installs reviewflow from the repository variable "
            "REVIEWFLOW_INSTALL: set it to a pip requirement pinned to a tag or commit."
        )
    elif install is not None and not workflow_written:
        click.echo(f"Note: {workflow} was kept as it is: set REVIEWFLOW_INSTALL in it yourself.")
    click.echo("Next: add your advisory board to reviewflow.toml, then run `reviewflow check`.")


@cli.command(name="new")
@click.argument("title")
@click.option(
    "--audience", type=click.Choice(["patient", "professional"]), default="patient", show_default=True
)
@click.option(
    "--condition",
    required=True,
    help="The condition the article is about (required: every article names one).",
)
@click.pass_obj
def new_command(state: State, title: str, audience: str, condition: str) -> None:
    """Start a new article from a template, named after its title.

    The file name is a slug of the title (other scripts transliterated), and the new
    article passes `reviewflow check` as written. --condition is required.

    Example: reviewflow new "Can POEMS syndrome be cured?" --condition "POEMS syndrome"
    """
    from reviewflow.cli.scaffold import new_article
    from reviewflow.gitprocess import author_identity

    workspace = state.repo().workspace
    author = author_identity(workspace.root)
    path = new_article(workspace.root, workspace.config, title, audience, condition, author)  # type: ignore[arg-type]
    click.echo(f"created {visible(str(workspace.relative(path)))}")


@cli.command(name="check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "output", type=click.Choice(CHECK_FORMATS), default="text", show_default=True)
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option("--no-cache", is_flag=True, help="Check every file again, ignoring .reviewflow-cache/.")
@click.pass_obj
def check_command(state: State, paths: tuple[Path, ...], output: str, strict: bool, no_cache: bool) -> None:
    """Check articles: front-matter, citations, disclaimers, claims, readability.

    With no PATHS, checks every articles/*.md. Run outside the content repo (pre-commit
    runs at the top of the git work tree), the PATHS say which one. Exit 0 when there is no
    error (and no warning with --strict), 1 when there is. Files unchanged since the last run keep their
    findings from .reviewflow-cache/ (invalidated by any change to the rules, config,
    schema, retractions file or date).

    Example: reviewflow check articles/poems-syndrome-prognosis.md --format json
    """
    from reviewflow.cli.reporters import REPORTERS
    from reviewflow.progress import progress_bar

    report = state.repo(paths).check(
        paths, strict=strict, use_cache=not no_cache, progress=lambda n: progress_bar(n, "Checking articles")
    )
    REPORTERS[output](report)
    finish(ExitCode.FINDINGS if report.failed else ExitCode.OK)


@cli.command(name="ci")
@click.option("--base", "base_ref", required=True, metavar="REF", help="What the change merges into.")
@click.option("--format", "output", type=click.Choice(CI_FORMATS), default="text", show_default=True)
@click.option("--require-approved", is_flag=True, help="Fail unless every changed article is approved.")
@click.option("--strict", is_flag=True, help="Fail on warnings in the changed articles too.")
@click.option("--output", "to_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to FILE; print only the verdict.")  # fmt: skip
@click.pass_obj
def ci_command(
    state: State, base_ref: str, output: str, require_approved: bool, strict: bool, to_file: Path | None
) -> None:
    """Gate a change in CI: check the articles it changes and verify its review events.

    The change is every commit from the merge-base of REF and HEAD up to HEAD, as a pull
    request would merge it. Its review events are judged against the base's reviewflow.toml,
    so nobody can join the board and approve in the same change. Exit 0 mergeable, 1 not,
    2 when the history cannot be read (unknown REF, shallow clone, not a repository).

    Example: reviewflow ci --base origin/main --format github
    """
    from reviewflow.cli.ci_report import deliver, github_problem

    try:
        result = state.repo().ci(base_ref, require_approved=require_approved, strict=strict)
    except ReviewflowError as exc:
        if output == "github":  # on the pull request, not only in the job log
            click.echo(github_problem(str(exc)))
        raise
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    deliver(result, output, state.path(to_file) if to_file else None, summary)
    finish(ExitCode.FINDINGS if result.failed else ExitCode.OK)


@cli.command(name="publish")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("site"),
    show_default=True,
    help="The site's directory; replaced whole, and only if reviewflow built it.",
)
@click.option("--preview", is_flag=True, help="Also show unapproved articles, marked pending review.")
@click.option("--base-url", metavar="URL", help="The public address (default: [site] url), for the sitemap.")
@click.option("--no-cache", is_flag=True, help="Render every page anew, not from .reviewflow-cache/.")
@click.pass_obj
def publish_command(state: State, out: Path, preview: bool, base_url: str | None, no_cache: bool) -> None:
    """Build the static website from the last approved version of every article.

    Text edited after its approval stays online as approved until the edit is approved too.
    Prints the path of index.html. Exit 1 when an article cannot be published (the old site
    is then left as it was).

    Example: reviewflow publish --out site --base-url https://health.example.org
    """
    result = state.repo().publish(out, preview=preview, base_url=base_url, use_cache=not no_cache)
    for note in result.notes:
        click.echo(f"reviewflow: note: {visible(note)}", err=True)
    click.echo(inert_lines(visible(str(result.index))))
    finish(ExitCode.OK)


# --- the review workflow: actions (each one a commit) and the commands that read the review log ---

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

    ARTICLE is a slug or the path of articles/<slug>.md. The article must be committed and
    pass `reviewflow check`. Exit 1 (with the reason) when the action is refused.

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
    warning of the text it approved is refused too. Exit 1 when any is found.

    Example: reviewflow verify --range origin/main..HEAD --format json
    """
    from reviewflow.cli.views import VERIFY_VIEWS

    result = state.repo().verify(rev_range, use_cache=not no_cache)
    click.echo(VERIFY_VIEWS[output](result))
    finish(ExitCode.FINDINGS if result.failed else ExitCode.OK)


def main() -> None:
    # A run builds hundreds of thousands of small objects (commits, events) that live to the
    # end, and almost none are cycles: collecting less often saves a quarter of the time.
    gc.set_threshold(100_000, 50, 50)
    cli(prog_name="reviewflow")
