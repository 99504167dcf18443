"""The `reviewflow` command line: options in, one core call, a reporter, an exit code."""

from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click

from reviewflow import __version__, gitstore
from reviewflow.errors import ExitCode, ReviewflowError
from reviewflow.reporters import REPORTERS
from reviewflow.scaffold import init_repo, new_article
from reviewflow.workspace import Workspace


@dataclass
class State:
    """What every command needs: where to look, and how loud to fail."""

    directory: Path
    debug: bool

    def workspace(self) -> Workspace:
        return Workspace.open(self.directory)

    def path(self, value: Path) -> Path:
        return value if value.is_absolute() else self.directory / value


class ReviewflowGroup(click.Group):
    """The one error boundary: expected errors print one line, bugs print one line and exit 3."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except ReviewflowError as exc:
            for line in str(exc).splitlines() or [type(exc).__name__]:
                click.echo(f"reviewflow: {line}", err=True)
            ctx.exit(exc.exit_code)
        except Exception as exc:  # noqa: BLE001 - the boundary that turns bugs into exit 3
            if ctx.params.get("debug"):
                traceback.print_exc()
            else:
                message = str(exc).splitlines()[0] if str(exc) else ""
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


def finish(code: int) -> NoReturn:
    sys.exit(int(code))


@cli.command(name="init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.pass_obj
def init_command(state: State, directory: Path) -> None:
    """Create a content repo: reviewflow.toml, the article schema and an example article.

    Existing files are never overwritten.

    Example: reviewflow init health-library
    """
    for relative, written in init_repo(state.path(directory)):
        click.echo(f"{'created' if written else 'kept   '} {relative}")
    click.echo("Next: add your advisory board to reviewflow.toml, then run `reviewflow check`.")


@cli.command(name="new")
@click.argument("title")
@click.option("--audience", type=click.Choice(["patient", "professional"]), default="patient", show_default=True)
@click.option("--condition", default="", help="The condition the article is about.")
@click.pass_obj
def new_command(state: State, title: str, audience: str, condition: str) -> None:
    """Start a new article from a template, named after its title.

    Example: reviewflow new "Can POEMS syndrome be cured?" --condition "POEMS syndrome"
    """
    workspace = state.workspace()
    author = gitstore.author_identity(workspace.root)
    path = new_article(workspace.root, workspace.config, title, audience, condition, author)  # type: ignore[arg-type]
    click.echo(f"created {workspace.relative(path)}")


@cli.command(name="check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "output", type=click.Choice(list(REPORTERS)), default="text", show_default=True)
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.pass_obj
def check_command(state: State, paths: tuple[Path, ...], output: str, strict: bool) -> None:
    """Check articles: front-matter, citations, disclaimers, claims, readability.

    With no PATHS, checks every articles/*.md. Exit 0 when there is no error (and no
    warning with --strict), 1 when there is.

    Example: reviewflow check articles/poems-syndrome-prognosis.md --format json
    """
    workspace = state.workspace()
    report = workspace.check(workspace.article_files([state.path(p) for p in paths]))
    REPORTERS[output](report)
    finish(ExitCode.FINDINGS if report.failed(strict) else ExitCode.OK)


def main() -> None:
    cli(prog_name="reviewflow")
