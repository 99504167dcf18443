"""The review desk through its HTTP interface: a real server on a real port, real git repos.

Every action is checked against what git recorded, and every refusal against the message the
CLI gives for the same action in the same state: the desk has no rules of its own.
"""

from __future__ import annotations

import html
import json
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from reviewflow.desk.pages import ROWS_PER_PAGE
from reviewflow.desk.server import DeskServer
from reviewflow.gitprocess import count_git_processes
from tests.conftest import article_text, git, write
from tests.deskclient import Client, Reply, form_fields, running_desk
from tests.gitrepo import (
    ALICE,
    MALLORY,
    PATH,
    RITA,
    SAM,
    SLUG,
    act_as,
    blob,
    edit,
    forge,
    head,
    ok,
    set_quorum,
)

Run = Callable[..., Result]


@pytest.fixture
def desk(content_repo: Path) -> Iterator[DeskServer]:
    with running_desk(content_repo) as server:
        yield server


@pytest.fixture
def client(desk: DeskServer) -> Client:
    browser = Client(desk)
    assert browser.login().status == 303
    return browser


@pytest.fixture
def submitted(content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> Path:
    act_as(monkeypatch, ALICE)
    ok(run(content_repo, "submit", SLUG, "-m", "Ready for review"))
    return content_repo


def cli_refusal(run: Run, repo: Path, *args: str) -> str:
    """The message the CLI refuses the same action with (and that it made no commit)."""
    before = head(repo)
    result = run(repo, *args)
    assert result.exit_code == 1, result.output
    assert head(repo) == before
    return "\n".join(line.removeprefix("reviewflow: ") for line in result.output.strip().splitlines())


def refused_like_cli(reply: Reply, message: str) -> None:
    assert reply.status == 409, reply.text[:3000]
    assert reply.has("Not recorded. " + message), (message, reply.text[:3000])


def recorded(repo: Path, reply: Reply, client: Client) -> Reply:
    """Follow an action's redirect; the page names the commit git now has at HEAD."""
    page = client.follow(reply)
    assert page.status == 200
    assert f'<code id="commit">{head(repo)}</code>' in page.text
    return page


# --- who may use it ------------------------------------------------------------------------------


def test_the_printed_address_sets_a_strict_cookie_and_drops_the_token(desk: DeskServer) -> None:
    browser = Client(desk)
    reply = browser.login()
    assert reply.status == 303 and reply.location == "/"
    cookie = reply.headers["set-cookie"]
    assert cookie.startswith(f"reviewflow-desk-{desk.guard.port}={desk.guard.token};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    page = browser.get("/")
    assert page.status == 200 and "Review queue" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]


@pytest.mark.parametrize("path", ["/", "/articles/what-is-poems-syndrome", "/board", "/desk.css"])
def test_no_token_no_page(desk: DeskServer, path: str) -> None:
    reply = Client(desk).get(path)
    assert reply.status == 403 and reply.has("Open the address `reviewflow serve` printed")
    assert "alice@authors.example" not in reply.text


def test_a_bad_token_is_refused(desk: DeskServer) -> None:
    browser = Client(desk)
    reply = browser.get("/?token=" + "x" * len(desk.guard.token))
    assert reply.status == 403 and "set-cookie" not in reply.headers
    browser.cookie = f"reviewflow-desk-{desk.guard.port}=guessed"
    assert browser.get("/").status == 403


def test_another_host_name_is_refused_even_with_the_cookie(client: Client) -> None:
    # A DNS-rebinding page reaches 127.0.0.1 under its own name.
    reply = client.request("GET", "/", headers={"Host": f"evil.example:{client.port}"})
    assert reply.status == 403 and reply.has("This desk answers only to the address it printed")
    assert "alice@authors.example" not in reply.text  # a rebinding page learns nothing, not even who
    assert client.request("GET", "/", headers={"Host": f"localhost:{client.port}"}).status == 200


def test_a_post_without_the_csrf_token_acts_on_nothing(
    submitted: Path, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as(monkeypatch, RITA)
    before = head(submitted)
    reply = client.request("POST", f"/articles/{SLUG}/review", {"seen": blob(submitted), "message": ""})
    assert reply.status == 403 and reply.has("This form did not come from the desk")
    page = client.get(f"/articles/{SLUG}")
    form = {"csrf": "0" * 64, "seen": blob(submitted)}
    assert client.request("POST", f"/articles/{SLUG}/review", form).status == 403
    # The right token from a page of another origin is refused too.
    good = {"csrf": desk_csrf(page), "seen": blob(submitted)}
    other = client.request("POST", f"/articles/{SLUG}/review", good, {"Origin": "http://evil.example"})
    assert other.status == 403
    assert head(submitted) == before


def desk_csrf(page: Reply) -> str:
    return form_fields(page.text, f"/articles/{SLUG}/review")["csrf"]


def test_no_action_through_get(submitted: Path, client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    act_as(monkeypatch, RITA)
    before = head(submitted)
    reply = client.get(f"/articles/{SLUG}/review")
    assert reply.status == 405 and reply.has("Actions are forms (POST)")
    assert head(submitted) == before


@pytest.mark.parametrize(
    "path",
    [
        "/articles/..%2F..%2Freviewflow.toml",
        "/articles/../reviewflow.toml",
        "/articles/articles%2Fwhat-is-poems-syndrome.md",
        "/articles/What-Is-POEMS",
        "/site/articles/..%2Freviewflow.toml/",
        "/site/..%2F..%2Freviewflow.toml",
    ],
)
def test_a_path_in_the_url_is_no_article(client: Client, path: str) -> None:
    reply = client.get(path)
    assert reply.status == 404, reply.text[:2000]
    assert "[policy]" not in reply.text and "approvals_required" not in reply.text


def test_an_unknown_slug_is_a_404_with_the_cli_message(content_repo: Path, client: Client, run: Run) -> None:
    cli = run(content_repo, "history", "what-is-poems-syndrom")
    assert cli.exit_code == 2
    reply = client.get("/articles/what-is-poems-syndrom")
    assert reply.status == 404
    assert reply.has(cli.output.strip().removeprefix("reviewflow: "))
    assert reply.has("no article 'what-is-poems-syndrom' in articles/ at HEAD")


# --- the actions, as the CLI takes them -----------------------------------------------------------


def test_quorum_two_with_two_board_members(
    submitted: Path, client: Client, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_quorum(submitted, 2)
    act_as(monkeypatch, RITA)
    recorded(submitted, client.act(SLUG, "review"), client)
    page = recorded(submitted, client.act(SLUG, "approve", "Accurate and clear"), client)
    assert page.has("Now Under review, approvals 1/2. Approvals 1/2: another board member has to approve it.")
    assert page.has("Recorded: approve by Dr. Rita Reviewer <rita@board.example>")

    act_as(monkeypatch, SAM)
    page = recorded(submitted, client.act(SLUG, "approve"), client)
    assert page.has("Now Approved, approvals 2/2.")
    assert '<dd id="state">Approved</dd>' in page.text
    message = git(submitted, "log", "-1", "--format=%an <%ae>%n%B")
    assert message.startswith(
        "Dr. Sam Second <sam@board.example>\nreviewflow: approve what-is-poems-syndrome"
    )
    assert f"Reviewflow-Content: {blob(submitted)}" in message
    status = run(submitted, "status", SLUG, "--format", "json")
    assert '"state": "approved"' in status.output and '"approvals": 2' in status.output
    assert run(submitted, "verify").exit_code == 0


def test_the_same_member_approving_twice_is_refused_with_the_cli_message(
    submitted: Path, client: Client, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_quorum(submitted, 2)
    act_as(monkeypatch, RITA)
    client.act(SLUG, "review")
    client.act(SLUG, "approve")
    expected = cli_refusal(run, submitted, "approve", SLUG)
    refused_like_cli(client.act(SLUG, "approve"), expected)
    assert "already approved this version" in expected


def test_an_outsider_is_refused_with_the_cli_message(
    submitted: Path, client: Client, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as(monkeypatch, MALLORY)
    before = head(submitted)
    expected = cli_refusal(run, submitted, "review", SLUG)
    reply = client.act(SLUG, "review")
    refused_like_cli(reply, expected)
    assert "only the advisory board" in expected and head(submitted) == before


def test_an_author_on_the_board_is_refused_with_the_cli_message(
    content_repo: Path, client: Client, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    article = content_repo / PATH
    text = article.read_text("utf-8").replace(
        'email: "editors@example.org"',
        # the example's declaration then follows Sam's email: it declares for Sam
        'email: "editors@example.org"\n    competing_interests: "none"\n  - name: "Sam"\n'
        '    email: "sam@board.example"',
    )
    article.write_text(text, "utf-8")
    git(content_repo, "commit", "-q", "-am", "Sam co-writes")
    ok(run(content_repo, "submit", SLUG))
    act_as(monkeypatch, SAM)
    expected = cli_refusal(run, content_repo, "review", SLUG)
    refused_like_cli(client.act(SLUG, "review"), expected)
    assert "listed in its authors" in expected


def test_an_edit_after_the_page_was_loaded_is_not_approved_unread(
    submitted: Path, client: Client, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as(monkeypatch, RITA)
    client.act(SLUG, "review")
    page = client.get(f"/articles/{SLUG}")
    act_as(monkeypatch, ALICE)
    edit(submitted, "A sentence the reviewer has not read.")
    act_as(monkeypatch, RITA)
    before = head(submitted)
    reply = client.act(SLUG, "approve", page=page)
    assert reply.status == 409
    assert reply.has(f"{PATH} changed since this page was loaded")
    # Reloaded, the page shows the new text, and the library refuses as the CLI does: stale.
    expected = cli_refusal(run, submitted, "approve", SLUG)
    refused_like_cli(client.act(SLUG, "approve"), expected)
    assert "has not been submitted since it last changed" in expected
    assert head(submitted) == before


def test_uncommitted_changes_are_refused_with_the_cli_message(
    submitted: Path, client: Client, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as(monkeypatch, RITA)
    client.act(SLUG, "review")
    assert not client.get(f"/articles/{SLUG}").has("uncommitted changes")
    with (submitted / PATH).open("a", encoding="utf-8") as handle:
        handle.write("\nNot committed.\n")
    expected = cli_refusal(run, submitted, "approve", SLUG)
    reply = client.act(SLUG, "approve")
    refused_like_cli(reply, expected)
    assert "has uncommitted changes" in expected
    # The page read before the edit is kept for this HEAD, but the work tree is asked again.
    assert reply.has("The file in the work tree has uncommitted changes; they are not shown")


def test_request_changes_needs_a_message_then_the_author_resubmits(
    submitted: Path, client: Client, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as(monkeypatch, RITA)
    client.act(SLUG, "review")
    expected = cli_refusal(run, submitted, "request-changes", SLUG, "-m", "")
    refused_like_cli(client.act(SLUG, "request-changes", "  "), expected)
    page = recorded(submitted, client.act(SLUG, "request-changes", "Cite the <b>2023</b> update"), client)
    assert page.has("Now Changes requested")
    assert "Cite the &lt;b&gt;2023&lt;/b&gt; update" in page.text  # escaped, never markup

    act_as(monkeypatch, ALICE)
    edit(submitted, "The 2023 update is cited now.")
    queue = client.get("/")
    assert 'id="changes-requested"' in queue.text and SLUG in queue.text
    ok(run(submitted, "submit", SLUG, "-m", "Revised"))
    act_as(monkeypatch, RITA)
    article = client.get(f"/articles/{SLUG}")
    assert article.has("Never approved: compared with the version changes were last requested on")
    assert "<ins>The 2023 update is cited now.</ins>" in article.text
    recorded(submitted, client.act(SLUG, "review"), client)
    page = recorded(submitted, client.act(SLUG, "approve"), client)
    assert page.has("Now Approved, approvals 1/1.")


def test_a_signing_member_signs_through_the_desk(
    submitted: Path, client: Client, run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.gitrepo import add_signing_key, ssh_key

    private, public = ssh_key(tmp_path / "keys", "rita")
    add_signing_key(submitted, RITA[1], public)
    git(submitted, "config", "gpg.format", "ssh")
    git(submitted, "config", "user.signingkey", str(private))
    act_as(monkeypatch, RITA)
    recorded(submitted, client.act(SLUG, "review"), client)
    assert "\ngpgsig -----BEGIN SSH SIGNATURE-----" in git(submitted, "cat-file", "commit", "HEAD")
    page = client.get(f"/articles/{SLUG}")
    assert run(submitted, "verify").exit_code == 0
    history = page.text[page.text.index('id="history"') :]
    assert "<td>review</td>" in history and "<td>yes</td>" in history  # signed


def test_two_tabs_approving_at_once_make_one_event(
    submitted: Path, desk: DeskServer, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as(monkeypatch, RITA)
    tabs = [Client(desk), Client(desk)]
    for tab in tabs:
        tab.login()
    tabs[0].act(SLUG, "review")
    pages = [tab.get(f"/articles/{SLUG}") for tab in tabs]
    replies: list[Reply] = []
    start = threading.Barrier(2)

    def approve(tab: Client, page: Reply) -> None:
        start.wait()
        replies.append(tab.act(SLUG, "approve", page=page))

    threads = [threading.Thread(target=approve, args=pair) for pair in zip(tabs, pages, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(r.status for r in replies) == [303, 409]
    approvals = git(submitted, "log", "--format=%s", "--grep=reviewflow: approve")
    assert approvals.splitlines() == [f"reviewflow: approve {SLUG}"]
    assert run(submitted, "verify").exit_code == 0


# --- what the pages show --------------------------------------------------------------------------


def test_the_queue_lists_waiting_articles_and_the_rest_apart(
    content_repo: Path, client: Client, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(content_repo / "articles/a-draft.md", article_text(title="Still a draft"))
    warned = article_text(
        body="POEMS syndrome is rare [1].\n\nThis miracle treatment helps some people [1].\n"
    )
    write(content_repo / "articles/has-a-warning.md", warned)
    git(content_repo, "add", "-A")
    git(content_repo, "commit", "-q", "-m", "Two articles")
    ok(run(content_repo, "submit", SLUG))
    ok(run(content_repo, "submit", "has-a-warning"))
    check = run(content_repo, "check", "articles/has-a-warning.md", "--format", "json")
    warnings = check.output.count('"severity": "warning"')
    assert warnings == 1, check.output  # absolute-claim
    page = client.get("/")
    waiting = page.text[page.text.index('id="waiting"') : page.text.index("</table>")]
    assert SLUG in waiting and "has-a-warning" in waiting and "a-draft" not in waiting
    assert "<td>Alice Author</td>" in waiting and "<td>0/1</td>" in waiting
    assert "0 errors, 1 warning<" in waiting
    drafts = page.text[page.text.index('id="drafts"') :]
    assert "a-draft" in drafts
    # The counts follow the file in the work tree, as `check` does; nothing kept hides an edit.
    write(content_repo / "articles/has-a-warning.md", article_text())
    again = client.get("/")
    assert again.text.count("0 errors, 0 warnings") == 2, again.text

    act_as(monkeypatch, SAM)
    mine = client.get("/?mine=1")
    assert mine.has("Showing what waits for you") and "has-a-warning" in mine.text
    act_as(monkeypatch, MALLORY)  # neither on the board nor an author: nothing waits for them
    assert client.get("/?mine=1").has("Nothing is waiting for review by you.")


def rows_of(page: Reply, list_id: str) -> list[str]:
    """The articles a list of the queue page shows, in order."""
    table = page.text[page.text.index(f'<table class="list" id="{list_id}">') :]
    table = table[: table.index("</table>")]
    return re.findall(r'<th scope="row"><a href="/articles/([^"]+)">', table)


def links_of(page: Reply, list_id: str) -> dict[str, str]:
    """The pager links after list LIST_ID: text -> address, as a browser follows them."""
    start = page.text.index(f'<table class="list" id="{list_id}">')
    pager = page.text[start:].split("</table>", 1)[1].split("</nav>", 1)[0]
    return {
        text: html.unescape(href)
        for href, text in re.findall(r'<a (?:rel="\w+" )?href="([^"]+)">([^<]+)</a>', pager)
    }


def test_long_lists_are_paged_each_page_with_its_own_rows_and_links(
    content_repo: Path, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as(monkeypatch, ALICE)
    queued = [f"queued-{index:03}" for index in range(ROWS_PER_PAGE + 5)]
    drafts = [f"draft-{index:03}" for index in range(2 * ROWS_PER_PAGE + 1)]
    for slug in queued + drafts:
        write(content_repo / f"articles/{slug}.md", article_text(title=slug))
    git(content_repo, "add", "-A")
    git(content_repo, "commit", "-q", "-m", "Many articles")
    listed = git(content_repo, "ls-tree", "-r", "HEAD", "articles").splitlines()
    blobs = {Path(line.split("\t")[1]).stem: line.split()[2] for line in listed}
    for slug in queued:
        forge(content_repo, "submit", slug, content=blobs[slug])

    first = client.get("/")
    assert first.has(f"Waiting for review ({len(queued)})")
    assert len(rows_of(first, "waiting")) == ROWS_PER_PAGE
    assert first.has(f"Rows 1–{ROWS_PER_PAGE} of {len(queued)} (page 1 of 2)")
    assert links_of(first, "waiting") == {"Next page": "/?waiting=2", "Last page": "/?waiting=2"}
    second = client.get("/?waiting=2")
    assert second.has(f"Rows {ROWS_PER_PAGE + 1}–{len(queued)} of {len(queued)} (page 2 of 2)")
    assert links_of(second, "waiting") == {"First page": "/", "Previous page": "/"}
    # Every waiting article on exactly one page, each with its own check findings counted.
    shown = rows_of(first, "waiting") + rows_of(second, "waiting")
    assert sorted(shown) == queued
    assert second.text.count("0 errors, 0 warnings") == len(queued) - ROWS_PER_PAGE

    # The lists are paged apart, and a link keeps the other lists' pages and the filter.
    assert first.has(f"Drafts ({len(drafts) + 1})")  # and the example article
    middle = client.get("/?waiting=2&drafts=2")
    assert rows_of(middle, "waiting") == rows_of(second, "waiting")
    assert middle.has(f"Rows {ROWS_PER_PAGE + 1}–{2 * ROWS_PER_PAGE} of {len(drafts) + 1} (page 2 of 3)")
    assert links_of(middle, "drafts") == {
        "First page": "/?waiting=2",
        "Previous page": "/?waiting=2",
        "Next page": "/?waiting=2&drafts=3",
        "Last page": "/?waiting=2&drafts=3",
    }
    assert links_of(middle, "waiting")["Previous page"] == "/?drafts=2"
    every_draft = [
        slug for number in (1, 2, 3) for slug in rows_of(client.get(f"/?drafts={number}"), "drafts")
    ]
    assert sorted(every_draft) == sorted([*drafts, SLUG])
    mine = client.get("/?mine=1&drafts=3")
    assert mine.has("Showing what waits for you")
    assert links_of(mine, "drafts")["Previous page"] == "/?mine=1&drafts=2"

    # A page that is not there says why, and which pages there are.
    for asked, message in (
        ("drafts=4", "there is no page 4 of the drafts: its 202 rows fill pages 1 to 3"),
        ("waiting=0", "'0' is no page of the waiting list: a page is a whole number from 1"),
        ("drafts=two", "'two' is no page of the drafts list: a page is a whole number from 1"),
        ("changes-requested=2", "there is no page 2 of the changes requested: its 0 rows fill page 1"),
        ("drafts=%D9%A1", "'١' is no page of the drafts list: a page is a whole number from 1"),
        (
            "waiting=" + "9" * 20,
            f"'{'9' * 20}' is no page of the waiting list: a page is a whole number from 1",
        ),
    ):
        reply = client.get(f"/?{asked}")
        assert reply.status == 404 and reply.has(message), (asked, reply.text[:2000])


def test_the_article_page_shows_findings_history_and_the_published_page(
    content_repo: Path, client: Client, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = "POEMS syndrome is rare [1].\n\n<script>window.pwned = true</script>\n\n## Empty section\n\n## Next\n\nText [1].\n"
    write(content_repo / "articles/findings.md", article_text(body=body))
    git(content_repo, "add", "-A")
    git(content_repo, "commit", "-q", "-m", "An article with findings")
    report = run(content_repo, "check", "articles/findings.md")
    first = report.output.splitlines()[0]  # "articles/findings.md:LINE:COL: severity [rule] message"
    where = first.split(":")[1] + ":" + first.split(":")[2]
    ok(run(content_repo, "submit", "findings")) if report.exit_code == 0 else None
    page = client.get("/articles/findings")
    assert page.status == 200
    assert f"<td>{where}</td>" in page.text
    # Its published page, which the article page frames, is made from the history the article
    # page judged: no second read of the log, and the file where the judged status has it, not
    # looked up in a listing of HEAD's articles.
    with count_git_processes() as started:
        framed = client.get("/site/articles/findings/")
    assert framed.status == 200 and "log" not in started and "ls-tree" not in started, started
    # The findings are kept between pages only while the file is the same: fixed in the work
    # tree, the next page checks it again; then a reference lockfile that does not know the
    # article's DOI makes a finding of its own on the same unchanged file.
    write(content_repo / "articles/findings.md", article_text())
    fixed = client.get("/articles/findings")
    assert fixed.has("No findings: reviewflow check articles/findings.md passes without a warning.")
    unknown = {"source": "crossref", "checked_on": "2026-12-01", "found": False}
    lock = {"version": 1, "works": {"doi:10.5045/br.2022.2022001": unknown}}
    write(content_repo / "articles/references.lock.json", json.dumps(lock, indent=2) + "\n")
    locked = client.get("/articles/findings")
    assert locked.has("DOI 10.5045/br.2022.2022001 does not exist in Crossref (checked 2026-12-01)")
    published = client.get("/site/articles/findings/")
    assert published.status == 200 and "Pending medical review" in published.text
    assert "<script>window.pwned" not in published.text  # sanitised as publish does
    assert "Article review status" in published.text
    assert client.get("/site/style.css").headers["content-type"].startswith("text/css")


def test_the_diff_since_the_approved_version_is_word_level(
    submitted: Path, client: Client, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as(monkeypatch, RITA)
    client.act(SLUG, "review")
    client.act(SLUG, "approve")
    act_as(monkeypatch, ALICE)
    article = submitted / PATH
    text = article.read_text("utf-8")
    article.write_text(text.replace("audience: patient", "audience: professional", 1), "utf-8")
    git(submitted, "commit", "-q", "-am", "For professionals")
    page = client.get(f"/articles/{SLUG}")
    assert page.has("Compared with the approved version: a/articles/what-is-poems-syndrome.md (approved")
    assert (
        "<dt>audience</dt><dd><pre>audience: <del>patient</del><ins>professional</ins></pre></dd>"
        in page.text
    )
    assert page.has("front-matter field(s) unchanged")


def test_the_board_page_shows_members_quorum_and_overdue(
    submitted: Path, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = client.get("/board")
    assert page.has("Dr. Rita Reviewer MD, Hematology rita@board.example no")
    assert '<dd id="quorum">1 approval' in page.text and '<dd id="cycle">365 days' in page.text
    assert page.has("No approved article is past its review date")
    act_as(monkeypatch, RITA)
    client.act(SLUG, "review")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2020-01-01T12:00:00Z")
    client.act(SLUG, "approve")
    monkeypatch.delenv("GIT_COMMITTER_DATE")
    page = client.get("/board")
    overdue = page.text[page.text.index('id="overdue"') :]
    assert SLUG in overdue and "2020-12-31" in overdue
    assert 'class="pager"' not in page.text  # one page holds the list: no links to others
    assert client.get("/board?overdue=1").text == page.text
    beyond = client.get("/board?overdue=2")
    assert beyond.status == 404
    assert beyond.has("there is no page 2 of the articles overdue for review: its 1 rows fill page 1")


def test_approving_a_text_with_warnings_needs_them_acknowledged_on_the_form(
    content_repo: Path, client: Client, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    body = "POEMS syndrome is rare [1].\n\nThis miracle treatment helps some people [1].\n"  # absolute-claim
    write(content_repo / "articles/warned.md", article_text(body=body))
    git(content_repo, "add", "-A")
    git(content_repo, "commit", "-q", "-m", "An article with a warning")
    report = json.loads(run(content_repo, "check", "articles/warned.md", "--format", "json").stdout)
    rules = sorted({f["rule"] for f in report["findings"] if f["severity"] == "warning"})
    assert rules, report
    ok(run(content_repo, "submit", "warned"))
    act_as(monkeypatch, RITA)
    client.act("warned", "review")
    page = client.get("/articles/warned")
    for rule in rules:
        assert f'<input type="checkbox" name="accept" value="{rule}" id="accept-{rule}">' in page.text
    expected = cli_refusal(run, content_repo, "approve", "warned")
    refused_like_cli(client.act("warned", "approve", page=page), expected)

    form = form_fields(page.text, "/articles/warned/approve")
    bogus = client.request("POST", "/articles/warned/approve", [*form.items(), ("accept", "no-such-rule")])
    assert bogus.status == 400 and bogus.has("--accept no-such-rule: no rule has that id")
    reply = client.request(
        "POST",
        "/articles/warned/approve",
        [*form.items(), ("message", "Read"), *(("accept", r) for r in rules)],
    )
    done = recorded(content_repo, reply, client)
    assert done.has("Now Approved, approvals 1/1.")
    block = git(content_repo, "log", "-1", "--format=%(trailers:key=Reviewflow-Accept,valueonly)")
    assert sorted({value.split()[0] for value in block.splitlines() if value}) == rules
    assert done.has(f"Acknowledged: {block.splitlines()[0]}")
    assert run(content_repo, "verify").exit_code == 0
