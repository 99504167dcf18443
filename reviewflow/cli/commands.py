"""The commands on files, checks, the merge gate and the site: init, new, check, ci, publish."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reviewflow.cli.app import State, cli, finish, main
from reviewflow.cli.reporters import inert_lines, visible
from reviewflow.errors import ExitCode, ReviewflowError

if TYPE_CHECKING:
    from reviewflow.config import Audience

__all__ = ["cli", "main"]

# Each command imports what it runs, so that `status` never loads the checks or `check` git:
# start-up is paid on every run. The output formats are named here for the options; a test
# holds them to the reporters' registries.
CHECK_FORMATS = ("text", "json", "github")
CI_FORMATS = ("text", "json", "github", "junit")


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
@click.option(
    "--dir",
    "directory",
    default="articles",
    show_default=True,
    help="Where to write it: articles/ or a directory under it, from the content repo's root "
    "(e.g. articles/poems). The slug stays the file name, unique under articles/.",
)
@click.pass_obj
def new_command(state: State, title: str, audience: Audience, condition: str, directory: str) -> None:
    """Start a new article from a template, named after its title.

    The file name is a slug of the title (other scripts transliterated), and the new
    article passes `reviewflow check` as written. --condition is required.

    Example: reviewflow new "Can POEMS syndrome be cured?" --condition "POEMS syndrome"
    """
    from reviewflow.cli.scaffold import new_article
    from reviewflow.gitprocess import author_identity

    workspace = state.repo().workspace
    author = author_identity(workspace.root)
    path = new_article(workspace.root, workspace.config, title, audience, condition, author, directory)
    click.echo(f"created {visible(str(workspace.relative(path)))}")


@cli.command(name="check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "output", type=click.Choice(CHECK_FORMATS), default="text", show_default=True)
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option("--no-cache", is_flag=True, help="Check every file again, ignoring .reviewflow-cache/.")
@click.pass_obj
def check_command(state: State, paths: tuple[Path, ...], output: str, strict: bool, no_cache: bool) -> None:
    """Check articles: front-matter, citations, disclaimers, claims, readability.

    With no PATHS, checks every article in articles/ and its subdirectories. Run outside the
    content repo (pre-commit runs at the top of the git work tree), the PATHS say which one.
    Exit 0 when there is no error (and no warning with --strict), 1 when there is. Files
    unchanged since the last run keep their findings from .reviewflow-cache/ (invalidated by
    any change to the rules, config, schema, retractions file, reference lockfile or date).

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
