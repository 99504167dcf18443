"""Who may use the desk: the per-run token, the session cookie set from it, the CSRF token of
every form, and the Host header check.

The desk writes to git as the person who started it, so a page another site opens in the same
browser must not be able to act through it: every request needs the token (in the URL once,
then a cookie that other sites' requests do not carry, SameSite=Strict), every POST also the
form's CSRF token, and the Host header must name this server (a DNS-rebinding page names its
own host). Pure functions over strings; app.py applies them to each request.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass, field

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def is_loopback(host: str) -> bool:
    """Whether HOST (a name or address to bind) only listens on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Guard:
    """The secrets of one run of `reviewflow serve`, and the checks made with them."""

    port: int
    host: str = "127.0.0.1"
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @property
    def cookie_name(self) -> str:
        # Cookies are per host, not per port: two desks on one machine keep theirs apart.
        return f"reviewflow-desk-{self.port}"

    @property
    def csrf(self) -> str:
        """The token every form carries: derived from the run's token, so nothing is stored."""
        return hmac.new(self.token.encode(), b"csrf", hashlib.sha256).hexdigest()

    def allowed_hosts(self) -> frozenset[str]:
        names = {*LOOPBACK_NAMES, self.host if ":" not in self.host else f"[{self.host}]"}
        return frozenset(f"{name}:{self.port}".lower() for name in names)

    def host_ok(self, header: str | None) -> bool:
        return header is not None and header.lower() in self.allowed_hosts()

    def token_ok(self, value: str | None) -> bool:
        return value is not None and hmac.compare_digest(value.encode(), self.token.encode())

    def csrf_ok(self, value: str | None) -> bool:
        return value is not None and hmac.compare_digest(value.encode(), self.csrf.encode())

    def origin_ok(self, origin: str | None) -> bool:
        """A browser names the page a POST comes from; when it does, it must be this desk."""
        if origin is None:
            return True
        return origin.lower() in {f"http://{host}" for host in self.allowed_hosts()}

    def url(self, path: str = "/") -> str:
        """The address to open, with the token (printed once, as Jupyter does)."""
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}{path}?token={self.token}"
