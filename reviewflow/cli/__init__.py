"""The command line: commands, and the text and JSON views of their results."""

from reviewflow.cli import serve  # noqa: F401 - registers `reviewflow serve` on the group
from reviewflow.cli.commands import cli, main

__all__ = ["cli", "main"]
