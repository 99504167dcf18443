"""The HTTP edge of `refs fetch`: one polite GET at a time, with the registries' rules kept.

Every request carries a User-Agent naming reviewflow and the publisher's contact address; each
service is asked at most its rate (NCBI allows 3 requests a second, 10 with an API key); a
request that times out, or is answered 429 or 5xx, is retried after a growing wait (the
server's Retry-After when it gives one); a response larger than `max_response_bytes` is refused
unread rather than held in memory. Standard library only (urllib): four GET endpoints need no
HTTP dependency. Anything the network does wrong ends the run with FetchError (exit 2), before
the lockfile is written.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import reviewflow
from reviewflow.errors import EnvironmentProblem

RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_WAIT_SECONDS = 60.0
READ_TIMEOUTS = 10  # a whole answer may take this many timeouts to arrive


class FetchError(EnvironmentProblem):
    """The registries could not be asked, or answered what cannot be used (exit 2)."""


@dataclass
class Response:
    status: int
    body: bytes

    def json(self, url: str) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise FetchError(f"{_host(url)} answered {_short(url)} with malformed JSON ({exc})") from None


@dataclass
class Client:
    """GETs for one run of `refs fetch`, counted per service (for the report)."""

    contact: str
    timeout: float
    retries: int
    max_bytes: int
    # Per service name: the least time between two requests to it, in seconds.
    intervals: Mapping[str, float] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    _last: dict[str, float] = field(default_factory=dict)

    @property
    def user_agent(self) -> str:
        return f"reviewflow/{reviewflow.__version__} (mailto:{self.contact})"

    def get(self, service: str, url: str, params: Mapping[str, str] | None = None) -> Response:
        """GET URL?PARAMS from SERVICE; a 4xx other than 429 is returned for the caller to read."""
        full = f"{url}?{urllib.parse.urlencode(params)}" if params else url
        for attempt in range(self.retries + 1):
            self._wait_turn(service)
            self.requests[service] = self.requests.get(service, 0) + 1
            try:
                response = self._once(full)
            except _Retry as retry:
                if attempt == self.retries:
                    raise FetchError(
                        f"{_host(full)}: {retry.reason} after {attempt + 1} attempt(s): {_short(full)}"
                    ) from None
                self.sleep(retry.wait if retry.wait is not None else min(2.0**attempt, MAX_WAIT_SECONDS))
                continue
            return response
        raise AssertionError("the loop returns or raises")

    def _wait_turn(self, service: str) -> None:
        interval = self.intervals.get(service, 0.0)
        last = self._last.get(service)
        if last is not None:
            wait = last + interval - self.clock()
            if wait > 0:
                self.sleep(wait)
        self._last[service] = self.clock()

    def _once(self, url: str) -> Response:
        request = urllib.request.Request(
            url, headers={"User-Agent": self.user_agent, "Accept": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310 - http(s) only
                return Response(answer.status, self._read(answer, url))
        except urllib.error.HTTPError as exc:
            if exc.code in RETRIED_STATUSES:
                raise _Retry(f"HTTP {exc.code}", _retry_after(exc.headers.get("Retry-After"))) from None
            return Response(exc.code, self._read(exc, url))
        except TimeoutError:
            raise _Retry(f"no answer within {self.timeout:g} s") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError | socket.timeout):
                raise _Retry(f"no answer within {self.timeout:g} s") from None
            raise FetchError(
                f"cannot reach {_host(url)}: {exc.reason}; the lockfile was not changed"
            ) from None
        except (ConnectionError, OSError, http.client.HTTPException) as exc:  # reset, cut short
            raise _Retry(f"the connection failed ({type(exc).__name__}: {exc})") from None

    def _read(self, answer: Any, url: str) -> bytes:
        declared = answer.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise self._too_large(url, int(declared))
        # In pieces, against a deadline: a server that trickles bytes just inside the timeout
        # must not hold the run for hours, nor an unsized answer fill memory.
        deadline = time.monotonic() + self.timeout * READ_TIMEOUTS
        chunks, size = [], 0
        while size <= self.max_bytes and (chunk := answer.read(min(1 << 16, self.max_bytes + 1 - size))):
            chunks.append(chunk)
            size += len(chunk)
            if time.monotonic() > deadline:
                raise _Retry(f"the answer took over {self.timeout * READ_TIMEOUTS:g} s")
        body = b"".join(chunks)
        if len(body) > self.max_bytes:
            raise self._too_large(url, None)
        if declared and declared.isdigit() and len(body) < int(declared):
            raise _Retry(f"the answer was cut short ({len(body):,} of {int(declared):,} bytes)")
        return bytes(body)

    def _too_large(self, url: str, size: int | None) -> FetchError:
        what = f"{size:,} bytes" if size is not None else "more"
        return FetchError(
            f"{_host(url)} answered {_short(url)} with {what}, over [references] max_response_bytes "
            f"({self.max_bytes:,}): refused unread"
        )


class _Retry(Exception):
    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.wait = reason, wait


def _retry_after(value: str | None) -> float | None:
    if value and value.strip().isdigit():
        return min(float(value.strip()), MAX_WAIT_SECONDS)
    return None


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc or url


_SECRET = re.compile(r"(api_key=)[^&]*")


def _short(url: str, limit: int = 120) -> str:
    """URL as a message shows it: the API key hidden, shortened."""
    url = _SECRET.sub(r"\1(hidden)", url)
    return url if len(url) <= limit else url[: limit - 1] + "…"
