"""The desk on a real port, and a small HTTP client that keeps its cookie, for the desk's tests."""

from __future__ import annotations

import html
import http.client
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from reviewflow.desk.server import DeskServer, make_server


@contextmanager
def running_desk(root: Path) -> Iterator[DeskServer]:
    """`reviewflow serve` for ROOT on a free port of 127.0.0.1, served from a thread."""
    server = make_server(root, "127.0.0.1", 0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.close()
        thread.join(timeout=5)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def location(self) -> str:
        return self.headers.get("location", "")

    def has(self, message: str) -> bool:
        """Whether the page shows MESSAGE (as a browser shows it: entities decoded, spaces folded)."""
        shown = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", self.text)).split())
        return " ".join(message.split()) in shown


class Client:
    """A browser of one person: it opens the printed address once, then carries the cookie."""

    def __init__(self, server: DeskServer) -> None:
        self.server = server
        self.port = server.guard.port
        self.cookie = ""

    def request(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        sent = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
        if self.cookie:
            sent.setdefault("Cookie", self.cookie)
        body = None
        if form is not None:
            body = urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        reply = Reply(response.status, {k.lower(): v for k, v in response.getheaders()},
                      response.read().decode("utf-8"))  # fmt: skip
        connection.close()
        return reply

    def login(self) -> Reply:
        url = urlsplit(self.server.url)
        reply = self.request("GET", f"{url.path}?{url.query}")
        cookie = reply.headers.get("set-cookie", "")
        self.cookie = cookie.split(";")[0]
        return reply

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def act(self, slug: str, action: str, message: str = "", page: Reply | None = None) -> Reply:
        """Submit ACTION's form as the article page (PAGE, else a fresh one) holds it."""
        page = page or self.get(f"/articles/{slug}")
        form = form_fields(page.text, f"/articles/{slug}/{action}")
        form["message"] = message
        return self.request("POST", f"/articles/{slug}/{action}", form)

    def follow(self, reply: Reply) -> Reply:
        assert reply.status == 303, (reply.status, reply.text[:2000])
        return self.get(reply.location)


def form_fields(page: str, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to ACTION on PAGE."""
    start = page.index(f'action="{action}"')
    end = page.index("</form>", start)
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page[start:end])
    }
