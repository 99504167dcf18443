"""The command line: commands, and the text and JSON views of their results."""

from reviewflow.cli import commands, refs_commands, review_commands, serve  # noqa: F401  each registers its commands on `cli`
from reviewflow.cli.app import cli, main

__all__ = ["cli", "main"]
