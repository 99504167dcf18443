"""The `reviewflow` command group: its options, the one error boundary, and `main`.

The commands register on `cli` from commands.py (files, checks, the gate, the site) and
review_commands.py (the review actions and the commands that read the review log)."""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import signal
import sys
import threading
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click

from reviewflow import __version__
from reviewflow.cli.reporters import use_colour, visible
from reviewflow.errors import ExitCode, ReviewflowError
from reviewflow.layout import CONFIG_FILE
from reviewflow.repo import ContentRepo
from reviewflow.review.writers import saving_beside

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
        # A cold read's save may be written by a child beside the report: a command ends once
        # its state is kept, as it did when it wrote it itself.
        with saving_beside():
            return self._invoke(ctx)

    def _invoke(self, ctx: click.Context) -> Any:
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

    Authors write articles/[<dirs>/]<slug>.md, the advisory board reviews and approves them, and
    only approved text is published. Every review action is a git commit.
    """
    ctx.obj = State(directory=directory, debug=debug)
    # The one colour decision: every click.echo of every command follows the root context.
    ctx.color = use_colour()


def finish(code: int) -> NoReturn:
    sys.exit(int(code))


def main() -> None:
    # A run builds hundreds of thousands of small objects (commits, events) that live to the
    # end, and almost none are cycles: collecting less often saves a quarter of the time.
    gc.set_threshold(100_000, 50, 50)
    try:
        cli(prog_name="reviewflow")
    except SystemExit as stop:
        leave(stop.code)


def leave(code: Any) -> NoReturn:
    """End the process with CODE once its output is flushed and its exit handlers have run,
    without letting go of what it built: a cold `status` at 100,000 articles spent ~0.7 s
    freeing its judged history object by object as the interpreter wound down, for nothing.
    Where a thread that is not a daemon still runs (the interpreter would wait for it), or the
    output cannot be flushed (the reader went away), the interpreter's own exit."""
    if not isinstance(code, int | None) or _threads_to_wait_for():
        raise SystemExit(code)
    atexit._run_exitfuncs()  # as the interpreter would: then the streams, which they may write to
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe or stream: as the interpreter would report it
        raise SystemExit(code) from None
    os._exit(code or 0)


def _threads_to_wait_for() -> bool:
    main = threading.main_thread()
    return any(thread is not main and not thread.daemon for thread in threading.enumerate())
