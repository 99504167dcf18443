"""`reviewflow serve`: the review desk in a browser, on this machine."""

from __future__ import annotations

import click

from reviewflow.cli.app import State, cli, finish
from reviewflow.errors import ExitCode


@cli.command(name="serve")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="The port to listen on (0: any free one).")  # fmt: skip
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on; anything but this machine needs --allow-remote.")  # fmt: skip
@click.option("--allow-remote", is_flag=True,
              help="Let --host be an address other machines can reach (prints a warning).")  # fmt: skip
@click.option("--open", "open_browser", is_flag=True, help="Open the desk in the default web browser.")
@click.pass_obj
def serve_command(state: State, port: int, host: str, allow_remote: bool, open_browser: bool) -> None:
    """Start the review desk: the queue, each article as it would be published, its findings,
    history and changes, and the review actions, in a web browser.

    Every action is the same commit, with the same rules, as the command line's, made as git's
    author identity. Prints the address to open, with this run's secret token. Ctrl-C stops it.

    Example: reviewflow serve --open
    """
    from reviewflow.desk.security import is_loopback
    from reviewflow.desk.server import make_server
    from reviewflow.errors import ReviewflowError

    if not is_loopback(host) and not allow_remote:
        raise ReviewflowError(
            f"--host {host} would let other machines reach the desk, which acts in git as you: "
            "add --allow-remote if that is what you want"
        )
    repo = state.repo()
    repo.judging()  # a broken repository is reported now, not on the first page
    server = make_server(repo.root, host, port)
    if not is_loopback(host):
        click.echo(
            f"reviewflow: warning: listening on {host}, reachable from other machines; anyone with "
            "the token below can act in git as you, and the traffic is not encrypted",
            err=True,
        )
    click.echo(f"Review desk for {repo.root}")
    click.echo(f"Open {server.url}")
    click.echo("Ctrl-C stops it.")
    if open_browser:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    finish(ExitCode.OK)
