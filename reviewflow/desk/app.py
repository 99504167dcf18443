"""The review desk: a small web app over the library, for board members who review in a browser.

Every page reads through `ContentRepo` (pages.py, preview.py) and every action is
`ContentRepo.act`, the call the CLI's actions make: the refusals, their messages and the commit
are the same. Writes are serialized by one lock, and the article's state is read again inside
it, so two tabs approving at once make two whole events or one event and one refusal.
Flask routes the requests; security.py decides who may make them.
"""

from __future__ import annotations

import secrets
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, redirect, request
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as AnyResponse

from reviewflow.desk.pages import BOARD_LISTS, QUEUE_LISTS, Memo, article_page, board_page, queue_page
from reviewflow.desk.preview import NoPage, Previews
from reviewflow.desk.security import Guard
from reviewflow.errors import Refused, ReviewflowError
from reviewflow.gitstore import GitStore
from reviewflow.layout import SLUG_PATTERN
from reviewflow.publish.site import STATE_LABELS
from reviewflow.repo import ContentRepo
from reviewflow.review.actions import ActionResult
from reviewflow.review.queries import UnknownArticle

DESK_ACTIONS = ("review", "request-changes", "approve")  # what a board member does on the desk
KEPT_RESULTS = 100  # recent action results, shown once the browser follows the redirect
SECURITY_HEADERS = {
    # No script at all: every page works with links and forms alone (and so with a keyboard).
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
        "form-action 'self'; frame-ancestors 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    # Not "no-referrer": with it a browser sends `Origin: null` on a form, which origin_ok refuses.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class Desk:
    """One running desk: the content repo, the run's secrets, and what is kept between requests."""

    def __init__(self, root: Path, guard: Guard) -> None:
        self.root = root
        self.guard = guard
        self.write_lock = threading.Lock()
        self.memo = Memo()
        self.previews = Previews()
        self._results: OrderedDict[str, ActionResult] = OrderedDict()
        self.templates = Environment(
            loader=PackageLoader("reviewflow.desk", "templates"),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        self.templates.globals.update(csrf=guard.csrf, state_labels=STATE_LABELS, actions=DESK_ACTIONS)

    def repo(self) -> ContentRepo:
        """A fresh view of the repo: the work tree's reviewflow.toml is read again each request."""
        return ContentRepo(self.root)

    def page(self, template: str, status: int = 200, *, identity: bool = True, **context: Any) -> Response:
        """TEMPLATE rendered; IDENTITY: with who acts (never on a page for a refused visitor)."""
        name = email = None
        if identity:
            try:
                name, email = _identity(self.root)
            except ReviewflowError:
                name, email = "", ""
        html = self.templates.get_template(template).render(me_name=name, me_email=email, **context)
        return Response(html, status, mimetype="text/html")

    def problem(self, status: int, title: str, message: str, *, identity: bool = True) -> Response:
        return self.page("problem.html", status, identity=identity, title=title, message=message)

    def turn_away(self, title: str, message: str) -> Response:
        """403 for a request the guard refuses: it learns nothing, not even whose desk this is."""
        return self.problem(403, title, message, identity=False)

    # --- the pages ------------------------------------------------------------------------------

    def queue(self) -> Response:
        mine = request.args.get("mine") == "1"
        data = queue_page(self.repo(), self.memo, mine=mine, numbers=_page_numbers(QUEUE_LISTS))
        page_url = _page_url("/", QUEUE_LISTS)
        return self.page("queue.html", title="Review queue", data=data, page_url=page_url)

    def article(
        self, slug: str, refused: str | None = None, message: str = "", attempted: str = "", status: int = 200
    ) -> Response:
        data = article_page(self.repo(), self.memo, _slug(slug))
        done = self._results.get(request.args.get("done", ""))
        if done is not None and done.slug != data.status.slug:
            done = None
        return self.page(
            "article.html", status, title=slug, data=data, done=done, refused=refused, message=message,
            attempted=attempted, accepted=request.form.getlist("accept") if attempted else [],
        )  # fmt: skip

    def board(self) -> Response:
        data = board_page(self.repo(), self.memo, date.today(), _page_numbers(BOARD_LISTS))
        page_url = _page_url("/board", BOARD_LISTS)
        return self.page("board.html", title="Board and policy", data=data, page_url=page_url)

    def published(self, slug: str) -> Response:
        repo, slug = self.repo(), _slug(slug)
        store = GitStore.open(repo.root)
        # The day too: a page says when its review is due.
        parts = ("page", slug, date.today())
        html = self.memo.at_head(
            repo, store, parts, lambda: self.previews.article(repo, slug, self.memo.judged(repo, store, slug))
        )
        return Response(html, 200, mimetype="text/html")

    def site_file(self, name: str) -> Response:
        text = self.previews.site_page(self.repo(), name)
        if text is None:
            return self.problem(404, "Not in the preview", "The desk previews article pages only.")
        kind = {"css": "text/css", "svg": "image/svg+xml"}.get(name.rpartition(".")[2], "text/html")
        return Response(text, 200, mimetype=kind)

    # --- the actions ----------------------------------------------------------------------------

    def act(self, slug: str, action: str) -> AnyResponse:
        slug = _slug(slug)
        if action not in DESK_ACTIONS:
            return self.problem(404, "No such action", f"The desk has no action {action!r}.")
        message = request.form.get("message", "")
        seen = request.form.get("seen", "")
        with self.write_lock:
            repo = self.repo()
            # Read again inside the lock: what the reviewer saw may have changed since.
            current = repo.status([slug]).statuses[0]
            try:
                if seen != (current.blob or ""):
                    raise Refused(
                        f"{current.path} changed since this page was loaded (the text you read is no "
                        f"longer the one at HEAD): read the new version, then {action} again"
                    )
                sign = _must_sign(repo)
                if action == "approve":  # the warnings ticked on the form, as `approve --accept RULE`
                    accept = request.form.getlist("accept")
                    result = repo.approve(slug, message, sign=sign, accept=accept)
                else:
                    result = repo.act(action, slug, message, sign=sign)
            except ReviewflowError as exc:  # Refused; or a form naming no rule (as `--accept NOPE`)
                code = 409 if isinstance(exc, Refused) else 400
                return self.article(slug, refused=str(exc), message=message, attempted=action, status=code)
            key = secrets.token_urlsafe(12)
            self._results[key] = result
            while len(self._results) > KEPT_RESULTS:
                self._results.popitem(last=False)
        # Post/redirect/get: reloading the page shows the result, never acts twice.
        return redirect(f"/articles/{slug}?done={key}", 303)

    # --- every request --------------------------------------------------------------------------

    def check_request(self) -> AnyResponse | None:
        """Refuse what does not come from the person who started the desk; None lets it through."""
        guard = self.guard
        if not guard.host_ok(request.headers.get("Host")):
            return self.turn_away("Wrong host", "This desk answers only to the address it printed.")
        token = request.args.get("token")
        if token is not None:
            if not guard.token_ok(token):
                return self.turn_away("Wrong token", "Open the address `reviewflow serve` printed.")
            # The token becomes a cookie, and leaves the address bar (history, screen shares).
            rest = urlencode([(k, v) for k, v in request.args.items(multi=True) if k != "token"])
            response = redirect(request.path + (f"?{rest}" if rest else ""), 303)
            response.set_cookie(guard.cookie_name, guard.token, httponly=True, samesite="Strict", path="/")
            return response
        if not guard.token_ok(request.cookies.get(guard.cookie_name)):
            return self.turn_away(
                "Token needed", "Open the address `reviewflow serve` printed (it ends in ?token=…)."
            )
        if request.method == "POST" and not (
            guard.csrf_ok(request.form.get("csrf")) and guard.origin_ok(request.headers.get("Origin"))
        ):
            return self.turn_away("Form refused", "This form did not come from the desk: reload the page.")
        return None


def _slug(value: str) -> str:
    """The slug a URL names, by the CLI's rule; anything else (a path, `..`) is no article."""
    if not SLUG_PATTERN.match(value):
        raise UnknownArticle(f"{value!r} is not an article slug")
    return value


def _page_numbers(lists: tuple[str, ...]) -> dict[str, int]:
    """The page of each of LISTS this request asks for (`?drafts=3`); a page that is not a
    whole number from 1 is no page."""
    numbers = {}
    for name in lists:
        value = request.args.get(name)
        if value is not None:
            if not (value.isascii() and value.isdigit() and len(value) <= 9 and int(value) >= 1):
                raise NoPage(f"{value!r} is no page of the {name} list: a page is a whole number from 1")
            numbers[name] = int(value)
    return numbers


def _page_url(path: str, lists: tuple[str, ...]) -> Callable[[str, int], str]:
    """For the pages' links: PATH with this request's filter and pages, and LIST's page moved to
    NUMBER (the first page has no number: one address per page)."""
    kept = {k: v for k, v in request.args.items() if k == "mine" or k in lists}

    def url(list_name: str, number: int) -> str:
        query = {k: v for k, v in kept.items() if k != list_name}
        if number > 1:
            query[list_name] = str(number)
        return path + (f"?{urlencode(query)}" if query else "")

    return url


def _identity(root: Path) -> tuple[str, str]:
    from reviewflow.gitstore import GitStore

    return GitStore.open(root).author()


def _must_sign(repo: ContentRepo) -> bool:
    """Sign (git commit -S) when the acting member's board entry has a signing_key: only then
    does their action count, as the CLI's --sign says."""
    config, store = repo.judging()
    member = config.member(store.author()[1])
    return member is not None and bool(member.signing_key)


def create_app(desk: Desk) -> Flask:
    app = Flask("reviewflow.desk", static_folder=None)
    app.before_request(desk.check_request)

    @app.after_request
    def secure(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.errorhandler(UnknownArticle)
    def unknown(exc: UnknownArticle) -> Response:
        return desk.problem(404, "No such article", str(exc))

    @app.errorhandler(NoPage)
    def no_page(exc: NoPage) -> Response:
        return desk.problem(404, "No page", str(exc))

    @app.errorhandler(ReviewflowError)
    def expected(exc: ReviewflowError) -> Response:
        return desk.problem(503, "The desk cannot read the repository", str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        code = exc.code or 400
        text = {
            404: "There is no such page on the desk.",
            405: "Actions are forms (POST); links only read.",
        }.get(code, exc.description or "")
        return desk.problem(code, exc.name, text)

    @app.errorhandler(Exception)
    def bug(exc: Exception) -> Response:
        # One line on the terminal, none of the traceback in the page.
        print(f"reviewflow serve: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return desk.problem(500, "Internal error", "The desk hit a bug; the terminal it runs in says which.")

    app.add_url_rule("/", "queue", desk.queue)
    app.add_url_rule("/board", "board", desk.board)
    app.add_url_rule("/articles/<slug>", "article", desk.article)
    choices = ", ".join(f'"{action}"' for action in DESK_ACTIONS)
    app.add_url_rule(f"/articles/<slug>/<any({choices}):action>", "act", desk.act, methods=["POST"])
    app.add_url_rule("/site/articles/<slug>/", "published", desk.published)
    app.add_url_rule("/site/<path:name>", "site_file", desk.site_file)
    app.add_url_rule("/desk.css", "stylesheet", lambda: Response(_stylesheet(), mimetype="text/css"))
    return app


def _stylesheet() -> str:
    from importlib.resources import files

    return files("reviewflow.desk").joinpath("templates/desk.css").read_text(encoding="utf-8")
