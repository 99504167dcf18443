"""A progress bar for long runs, on a terminal only: silent in CI, in pipes and in files.

    with progress_bar(len(files), "Checking") as advance:
        for path in files:
            ...
            advance(1)

Shown on stderr (stdout stays the report), only when stderr is a terminal, `CI` is not set
and there are at least `threshold` items; rich, which draws it, leaves out colour when
NO_COLOR is set and removes the bar when the run ends. Otherwise `advance` does nothing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

MIN_ITEMS = 300  # below this a run is over before a bar would tell anything


def shows_progress(total: int, stream: TextIO | None = None, threshold: int = MIN_ITEMS) -> bool:
    """Whether a bar for TOTAL items would be drawn on STREAM (default: stderr)."""
    stream = stream or sys.stderr
    if total < threshold or os.environ.get("CI") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@contextmanager
def progress_bar(
    total: int, description: str, stream: TextIO | None = None, threshold: int = MIN_ITEMS
) -> Iterator[Callable[[int], None]]:
    """A function that advances the bar by N items; a bar only where `shows_progress`."""
    if not shows_progress(total, stream, threshold):
        yield _ignore
        return
    # Imported and created here, not at import time: rich is only needed for a bar, and a
    # Console made early would write past a test runner's capture of stderr.
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(file=stream or sys.stderr)
    # The description is shown as it is, never read as rich markup (`[bold]`).
    text = TextColumn("{task.description}", markup=False)
    columns = (text, BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda count: bar.advance(task, count)


def _ignore(count: int) -> None:
    pass
