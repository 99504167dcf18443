"""The desk's HTTP server: waitress (a pure-Python, multi-threaded WSGI server) serving app.py.

The port is known only once the socket is bound (`--port 0` picks a free one), and the Host
check needs it: the server is made first, then the app it serves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewflow.allocator import give_back_big_blocks
from reviewflow.desk.app import Desk, create_app
from reviewflow.desk.security import Guard
from reviewflow.errors import EnvironmentProblem

_SHUTTING = threading.Lock()
THREADS = 4  # pages read git in subprocesses: a few at once, while the lock keeps writes one at a time


@dataclass
class DeskServer:
    server: Any  # waitress's server (untyped)
    guard: Guard
    desk: Desk
    _stop: threading.Event = field(default_factory=threading.Event)
    _stopped: threading.Event = field(default_factory=threading.Event)
    _running: bool = False

    @property
    def url(self) -> str:
        return self.guard.url()

    def run(self) -> None:
        """Serve until interrupted (Ctrl-C) or closed (from another thread)."""
        from waitress import wasyncore

        self._running = True
        try:
            # waitress's own run() loops until its sockets are closed, and closing them from
            # another thread races with its select(): poll in short turns, and stop between them.
            while not self._stop.is_set():
                wasyncore.loop(timeout=0.2, map=self.server._map, count=1)
        finally:
            self._shut()

    def close(self) -> None:
        self._stop.set()
        if self._running:
            self._stopped.wait(timeout=10)
        else:
            self._shut()

    def _shut(self) -> None:
        from waitress import wasyncore

        with _SHUTTING:
            if not self._stopped.is_set():
                self.server.task_dispatcher.shutdown()
                wasyncore.close_all(self.server._map)
                self._stopped.set()


def make_server(root: Path, host: str = "127.0.0.1", port: int = 0) -> DeskServer:
    """Bind HOST:PORT (0: a free port) and make the desk for the content repo at ROOT."""
    from waitress.server import create_server

    give_back_big_blocks()  # a desk runs long and reads whole histories (allocator.py)

    served: dict[str, Any] = {}

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return served["app"](environ, start_response)  # type: ignore[no-any-return]

    try:
        server = create_server(application, host=host, port=port, threads=THREADS, ident="reviewflow-desk")
    except OSError as exc:
        raise EnvironmentProblem(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    guard = Guard(port=int(server.effective_port), host=host)
    desk = Desk(root, guard)
    served["app"] = create_app(desk)
    return DeskServer(server, guard, desk)
