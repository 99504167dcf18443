"""`reviewflow publish` on real git repositories: what gets published, from which commit, and how."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import tempfile
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import fields, replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import Result

from reviewflow.configfile import load_config
from reviewflow.content.schema import read_schema
from reviewflow.publish import output, pool, render, target
from reviewflow.publish.build import PublishResult, publish
from reviewflow.publish.collect import ContentHistory, first_approval
from reviewflow.publish.output import PublishError, write_site
from reviewflow.publish.pages import Neighbour, PageInfo, Reviewer
from reviewflow.publish.site import SiteRenderer
from reviewflow.publish.target import check_target
from reviewflow.review.actions import act
from reviewflow.review.model import Action, ArticleStatus, Event, State
from tests.browser.html import json_ld, parse, read
from tests.conftest import article_text, as_author, git, make_content_repo, write

Run = Callable[..., Result]
BASE = "https://health.example.org"
ATOM = {"a": "http://www.w3.org/2005/Atom"}
SITEMAP = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
BUILT_AT = datetime(2025, 6, 1, 12, tzinfo=UTC)  # the build time the tests publish at, unless they say


class Library:
    """A content repo driven through the real review workflow, on a controlled clock."""

    def __init__(self, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.repo = repo
        self.monkeypatch = monkeypatch

    def at(self, when: str) -> None:
        for role in ("AUTHOR", "COMMITTER"):
            self.monkeypatch.setenv(f"GIT_{role}_DATE", when)

    def write(self, slug: str, text: str, when: str, message: str = "Write") -> None:
        self.at(when)
        as_author(self.monkeypatch, "Alice Author", "alice@authors.example")
        write(self.repo / "articles" / f"{slug}.md", text)
        git(self.repo, "add", "-A")
        git(self.repo, "commit", "-q", "-m", f"{message} {slug}")

    def action(self, who: str, action: Action, slug: str, when: str) -> None:
        self.at(when)
        name = {"alice": "Alice Author", "rita": "Dr. Rita Reviewer", "sam": "Dr. Sam Second"}[who]
        email = {"alice": "alice@authors.example", "rita": "rita@board.example", "sam": "sam@board.example"}[
            who
        ]
        as_author(self.monkeypatch, name, email)
        act(self.repo, load_config(self.repo), action, slug)

    def approve(self, slug: str, day: str) -> None:
        self.action("alice", Action.SUBMIT, slug, f"{day}T09:00:00Z")
        self.action("rita", Action.REVIEW, slug, f"{day}T10:00:00Z")
        self.action("rita", Action.APPROVE, slug, f"{day}T11:00:00Z")

    def publish(self, out: str = "site", **options: object) -> PublishResult:
        options.setdefault("base_url", BASE)
        options.setdefault("now", BUILT_AT)
        return publish(self.repo, self.repo.parent / out, config=load_config(self.repo), **options)  # type: ignore[arg-type]


@pytest.fixture
def library(content_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Library:
    lib = Library(content_repo, monkeypatch)
    git(content_repo, "rm", "-q", "articles/what-is-poems-syndrome.md")
    git(content_repo, "commit", "-q", "-m", "Start empty")
    lib.write(
        "approved-one", article_text("Approved text v1 [1].\n", title="Approved one"), "2025-01-10T08:00:00Z"
    )
    lib.write(
        "never-approved", article_text("Draft text [1].\n", title="Never approved"), "2025-01-11T08:00:00Z"
    )
    lib.approve("approved-one", "2025-02-01")
    return lib


def tree(directory: Path) -> dict[str, bytes]:
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


# --- what is published ------------------------------------------------------------------------


def test_only_approved_articles_are_published(library: Library) -> None:
    result = library.publish()
    site = result.out
    assert (result.articles, result.pending) == (1, 0)
    assert result.index == site / "index.html"
    assert (site / "articles/approved-one/index.html").is_file()
    assert not (site / "articles/never-approved").exists()
    index = read(site / "index.html")
    assert [h.words for h in index.find_all("h3")] == ["Approved one"]
    for name in ("board/index.html", "editorial-policy/index.html", "for-patients/index.html",
                 "for-professionals/index.html", "style.css", "sitemap.xml", "feed.xml", "robots.txt", "404.html"):  # fmt: skip
        assert (site / name).is_file(), name


def test_the_article_page_carries_review_facts_from_git(library: Library) -> None:
    html = (library.publish().out / "articles/approved-one/index.html").read_text()
    page = parse(html)
    assert [b.words for b in page.with_class("byline")] == [
        "Medically reviewed by Dr. Rita Reviewer, MD, Hematology"
    ]
    dates = {d.find("dt").words: d.find("dd").words for d in page.with_class("dates")[0].find_all("div")}
    assert dates == {
        "Reviewed": "1 February 2025",
        "Last updated": "10 January 2025",
        "Next review due": "1 February 2026",
    }
    machine = [t.attrs["datetime"] for t in page.with_class("dates")[0].find_all("time")]
    assert machine == ["2025-02-01", "2025-01-10", "2026-02-01"]
    assert "Approved text v1" in page.with_class("body")[0].words
    assert page.with_class("body")[0].find("a").attrs["href"] == "#ref-1"
    assert page.by_id("ref-1").find("a").attrs["href"] == "https://doi.org/10.5045/br.2022.2022001"
    config = load_config(library.repo)
    assert page.find("aside").find("p").text == config.disclaimers["patient"].text
    data = json_ld(html)
    assert data["@type"] == "MedicalWebPage" and data["url"] == f"{BASE}/articles/approved-one/"
    assert (data["datePublished"], data["lastReviewed"]) == ("2025-02-01", "2025-02-01")
    assert (
        data["dateModified"] == "2025-02-01"
    )  # written before its first approval: not earlier than published
    assert data["reviewedBy"][0]["name"] == "Dr. Rita Reviewer"


def test_an_edit_after_approval_keeps_the_approved_text_online(library: Library) -> None:
    library.write(
        "approved-one", article_text("Edited text v2 [1].\n", title="Approved one"), "2025-03-01T08:00:00Z"
    )
    library.action("alice", Action.SUBMIT, "approved-one", "2025-03-02T08:00:00Z")
    public = library.publish()
    body = read(public.out / "articles/approved-one/index.html").with_class("body")[0].words
    assert "Approved text v1" in body and "Edited text v2" not in body

    preview = library.publish("preview", preview=True)
    page = read(preview.out / "articles/approved-one/index.html")
    assert "Edited text v2" in page.with_class("body")[0].words
    banner = page.with_class("pending")[0].words
    assert "Pending medical review" in banner and "1 February 2025" in banner

    library.action("rita", Action.REVIEW, "approved-one", "2025-03-03T08:00:00Z")
    library.action("rita", Action.APPROVE, "approved-one", "2025-03-04T08:00:00Z")
    page = read(library.publish().out / "articles/approved-one/index.html")
    assert "Edited text v2" in page.with_class("body")[0].words
    dates = {d.find("dt").words: d.find("dd").words for d in page.with_class("dates")[0].find_all("div")}
    assert dates["Reviewed"] == "4 March 2025" and dates["Last updated"] == "1 March 2025"


@pytest.mark.parametrize("workers", [1, 2], ids=["in-process", "forked-workers"])
def test_a_working_tree_file_unlike_the_approved_text_is_never_read(
    library: Library, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    # Pages and their neighbours' facts are read from the work tree only where the file is
    # exactly the approved blob; here it is edited and not committed, and its words must not show.
    library.write("second", article_text("Second text [1].\n", title="Second one"), "2025-01-12T08:00:00Z")
    library.approve("second", "2025-02-02")
    if workers == 1:  # the facts kept, so that no text is read from git before the pages
        library.publish("before")
    write(
        library.repo / "articles" / "approved-one.md", article_text("Unapproved words.\n", title="Tampered")
    )
    monkeypatch.setattr(render, "POOL_THRESHOLD", 1)  # two workers: forked first, as in a full build
    site = library.publish(use_cache=workers == 1, workers=workers).out
    page = read(site / "articles/approved-one/index.html")
    assert "Approved text v1" in page.with_class("body")[0].words
    other = (site / "articles/second/index.html").read_text()
    assert [a.words for a in parse(other).with_class("related")[0].find_all("a")] == ["Approved one"]
    assert "Tampered" not in other and "Unapproved words" not in page.words


def test_a_text_is_taken_from_the_work_tree_only_as_a_regular_file_holding_the_blob(tmp_path: Path) -> None:
    repo = make_content_repo(tmp_path / "content")
    text = (repo / "articles/what-is-poems-syndrome.md").read_bytes()
    blob = git(repo, "hash-object", "articles/what-is-poems-syndrome.md").strip()
    with pool.TreeTexts(str(repo)) as tree:
        assert tree.read("articles/what-is-poems-syndrome.md", blob, 100_000) == text
        assert tree.read("articles/what-is-poems-syndrome.md", blob, len(text) - 1) is None  # too large
        assert tree.read("articles/absent.md", blob, 100_000) is None
        (tmp_path / "outside.md").write_bytes(text)
        (repo / "articles/linked.md").symlink_to(tmp_path / "outside.md")
        assert tree.read("articles/linked.md", blob, 100_000) is None
        os.mkfifo(repo / "articles/fifo.md")
        assert tree.read("articles/fifo.md", blob, 100_000) is None  # and it did not wait
        (repo / "articles/what-is-poems-syndrome.md").write_bytes(text + b"\nEdited.\n")
        assert tree.read("articles/what-is-poems-syndrome.md", blob, 100_000) is None
        for path in (
            "articles/../articles/what-is-poems-syndrome.md",
            "articles//x.md",
            "/etc/passwd",
            "articles/",
        ):
            assert tree.read(path, blob, 100_000) is None


def test_a_text_is_read_through_real_directories_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_content_repo(tmp_path / "content")
    text = (repo / "articles/what-is-poems-syndrome.md").read_bytes()
    blob = git(repo, "hash-object", "articles/what-is-poems-syndrome.md").strip()
    outside = tmp_path / "outside"
    (outside / "shard").mkdir(parents=True)
    (outside / "shard/a.md").write_bytes(text)
    (repo / "articles/shard").symlink_to(outside / "shard")  # a directory link a commit planted
    (repo / "articles/real").mkdir()
    (repo / "articles/real/a.md").write_bytes(text)
    monkeypatch.setattr(pool, "MAX_DIRECTORIES", 2)  # held directories let go and opened again
    with pool.TreeTexts(str(repo)) as tree:
        for _ in range(2):
            assert tree.read("articles/shard/a.md", blob, 100_000) is None
            assert tree.read("articles/real/a.md", blob, 100_000) == text
            assert tree.read("articles/what-is-poems-syndrome.md", blob, 100_000) == text
        # A directory swapped for a link after it was opened: the files read are still the
        # real directory's, and still only bytes that are exactly the blob.
        (repo / "articles/real").rename(repo / "articles/moved")
        (repo / "articles/real").symlink_to(outside / "shard")
        assert tree.read("articles/real/a.md", blob, 100_000) in (text, None)
    with pool.TreeTexts(str(repo)) as tree:
        assert tree.read("articles/real/a.md", blob, 100_000) is None


def test_preview_adds_unapproved_articles_with_banner_and_noindex(library: Library) -> None:
    result = library.publish("preview", preview=True)
    assert (result.articles, result.pending) == (1, 1)
    html = (result.out / "articles/never-approved/index.html").read_text()
    page = parse(html)
    assert "Pending medical review" in page.with_class("pending")[0].words
    assert page.find("meta", name="robots").attrs["content"] == "noindex"
    assert "Medically reviewed by" not in page.words
    steps = page.with_class("tracker")[0].find_all("li")
    assert [s.attrs.get("aria-current") for s in steps] == [None, None, None]  # a draft: no step reached
    data = json_ld(html)
    assert "reviewedBy" not in data and "lastReviewed" not in data
    locations = [
        loc.text for loc in ET.parse(result.out / "sitemap.xml").getroot().iter(f"{{{SITEMAP['s']}}}loc")
    ]
    assert f"{BASE}/articles/approved-one/" in locations
    assert not any("never-approved" in (loc or "") for loc in locations)
    assert "never-approved" not in (result.out / "feed.xml").read_text()
    assert (result.out / "robots.txt").read_text() == "User-agent: *\nDisallow: /\n"
    index = read(result.out / "index.html")
    assert [h.words for h in index.find_all("h3")] == ["Approved one", "Never approved"]


def test_a_submitted_article_shows_its_step_in_preview(library: Library) -> None:
    library.action("alice", Action.SUBMIT, "never-approved", "2025-02-05T08:00:00Z")
    page = read(library.publish("preview", preview=True).out / "articles/never-approved/index.html")
    current = [
        s for s in page.with_class("tracker")[0].find_all("li") if s.attrs.get("aria-current") == "step"
    ]
    assert [c.words for c in current] == ["Submitted (current step)"]


def test_review_due_notice_is_judged_against_the_build_time(library: Library) -> None:
    """Approved on 2025-02-01 with a 365-day cycle: due on 2026-02-01, whatever HEAD's date."""

    def notices(now: datetime) -> list[str]:
        page = read(library.publish(now=now).out / "articles/approved-one/index.html")
        return [notice.words for notice in page.with_class("review-due")]

    assert notices(datetime(2026, 1, 31, 23, 59, tzinfo=UTC)) == []
    [notice] = notices(datetime(2026, 2, 1, 0, 0, tzinfo=UTC))
    assert "Review due." in notice and "1 February 2026" in notice
    # A commit dated after the due date does not make a build before it overdue.
    library.at("2026-03-01T00:00:00Z")
    git(library.repo, "commit", "-q", "--allow-empty", "-m", "A commit dated later")
    assert notices(datetime(2026, 1, 15, tzinfo=UTC)) == []


def test_the_build_time_is_the_clock_or_source_date_epoch(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    def overdue() -> bool:
        site = publish(library.repo, library.repo.parent / "site", config=load_config(library.repo)).out
        return bool(read(site / "articles/approved-one/index.html").with_class("review-due"))

    assert overdue()  # the clock: today is after 2026-02-01 (the approval is committed in 2025)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(datetime(2025, 6, 1, tzinfo=UTC).timestamp())))
    assert not overdue()  # a reproducible build at a set time


def test_sitemap_and_feed_parse_and_use_git_dates(library: Library) -> None:
    site = library.publish().out
    urls = {
        u.findtext("s:loc", namespaces=SITEMAP): u.findtext("s:lastmod", namespaces=SITEMAP)
        for u in ET.parse(site / "sitemap.xml").getroot()
    }
    assert urls[f"{BASE}/articles/approved-one/"] == "2025-01-10"
    assert all(u.startswith(f"{BASE}/") for u in urls)
    feed = ET.parse(site / "feed.xml").getroot()
    entries = feed.findall("a:entry", ATOM)
    assert [e.findtext("a:title", namespaces=ATOM) for e in entries] == ["Approved one"]
    assert entries[0].findtext("a:updated", namespaces=ATOM) == "2025-02-01T11:00:00Z"
    assert entries[0].findtext("a:published", namespaces=ATOM) == "2025-02-01T11:00:00Z"


def test_without_a_base_url_there_is_no_sitemap_or_feed_and_a_note_says_why(library: Library) -> None:
    result = library.publish(base_url=None)
    assert not (result.out / "sitemap.xml").exists() and not (result.out / "feed.xml").exists()
    assert "--base-url" in result.notes[0]
    assert "url" not in json_ld((result.out / "articles/approved-one/index.html").read_text())


# --- how it is built --------------------------------------------------------------------------


def test_builds_are_byte_identical(library: Library) -> None:
    first = tree(library.publish("one").out)
    second = tree(library.publish("two", use_cache=False).out)
    third = tree(library.publish("three").out)  # from the cache
    assert first == second == third
    assert len(first) > 10


def test_a_process_pool_renders_the_same_pages(
    library: Library, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    single = tree(library.publish("single", use_cache=False, workers=1).out)
    monkeypatch.setattr(render, "POOL_THRESHOLD", 1)
    temporary = tmp_path / "temporary"  # where the search index's input goes to a worker
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    pooled = tree(library.publish("pooled", use_cache=False, workers=2).out)
    assert single == pooled
    assert list(temporary.iterdir()) == []  # and is deleted once read


def test_unchanged_pages_come_from_the_cache(library: Library) -> None:
    assert library.publish().rendered == 1
    assert library.publish().rendered == 0
    cache = library.repo / ".reviewflow-cache"
    assert (cache / ".gitignore").read_text().splitlines()[-1] == "*"
    assert git(library.repo, "status", "--porcelain") == ""  # the cache never shows up as a change
    toml = library.repo / "reviewflow.toml"
    toml.write_text(toml.read_text().replace('name = "Health library"', 'name = "Renamed library"'))
    git(library.repo, "commit", "-qam", "Rename the site")
    result = library.publish()
    assert result.rendered == 1  # the footer of every page changed
    assert "Renamed library" in (result.out / "articles/approved-one/index.html").read_text()


def test_an_unchanged_page_is_kept_from_an_earlier_build_not_written_again(library: Library) -> None:
    page = "articles/approved-one/index.html"
    first = library.publish()
    before = (first.out / page).read_bytes()
    files = set()
    for _ in range(5):  # the spare (the site each build replaced) is brought up to date in turn
        again = library.publish()
        assert again.rendered == 0 and (again.out / page).read_bytes() == before
        stat = (again.out / page).stat()
        files.add((stat.st_ino, stat.st_mtime_ns))
    assert len(files) == 2  # the first build's file and the copy in the spare: never written again
    # A build without the cache writes every page; the next build with it still reuses them.
    third = library.publish(use_cache=False)
    assert tree(third.out) == tree(library.publish("elsewhere").out)
    assert (library.publish().out / page).read_bytes() == before
    assert [p.name for p in library.repo.parent.iterdir() if p.name.startswith(".")] == []


@pytest.mark.interpreted
def test_without_a_spare_unchanged_pages_are_copied_from_the_live_site(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(output, "_usable_spare", lambda spare, target: False)  # as across file systems
    page = "articles/approved-one/index.html"
    before = (library.publish().out / page).read_bytes()
    for _ in range(2):
        again = library.publish()
        assert again.rendered == 0 and (again.out / page).read_bytes() == before
    assert [p.name for p in library.repo.parent.iterdir() if p.name.startswith(".")] == []


def test_after_a_build_that_rendered_every_page_the_next_copies_them(library: Library) -> None:
    """A build that renders every page (here: another base URL) records them as 'every page of
    the live site', not a second copy of its record; the build after it, whose spare holds only
    stale pages, still copies each page from the live site rather than rendering it again."""
    for _ in range(3):  # a full build, then one that leaves a spare
        library.publish()
    other = "https://other.example.org"
    moved = library.publish(base_url=other)
    assert moved.rendered == moved.articles == 1
    again = library.publish(base_url=other)
    assert again.rendered == 0
    assert tree(again.out) == tree(moved.out) == tree(library.publish("elsewhere", base_url=other).out)


@pytest.mark.parametrize("how", ["in-process", "forked-workers", "over-the-spares-page"])
def test_pages_written_by_a_build_are_settled_by_the_file_systems_clock(
    library: Library, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """A page written a moment before the build ends is recorded with its file's state, as the
    file system's clock read after it proves it settled: the next build that finds it unchanged
    need not read and hash it (a spare copied in one go would be read whole otherwise). The state
    is taken by whichever process wrote the page, as it wrote it; a page written over the spare's
    older one is put in place by a rename, which changes its state: it is looked up after."""
    from reviewflow.publish.records import BuildCache

    page = "articles/approved-one/index.html"
    if how == "forked-workers":
        monkeypatch.setattr(render, "POOL_THRESHOLD", 1)
    if how == "over-the-spares-page":
        library.publish()
        library.publish()  # the spare now holds the page
        library.write(
            "approved-one",
            article_text("Approved text v2 [1].\n", title="Approved one"),
            "2025-03-01T08:00:00Z",
        )
        library.approve("approved-one", "2025-03-02")
    built = library.publish(workers=2 if how == "forked-workers" else 1)
    assert built.rendered == 1
    site = built.out
    record = BuildCache(library.repo).live_site(site)[page]
    found = os.lstat(site / page)
    assert record.state == (found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns)
    assert (library.publish().out / page).read_bytes() == (site / page).read_bytes()


def test_a_page_edited_in_the_built_site_is_never_carried_forward(library: Library) -> None:
    page = "articles/approved-one/index.html"
    site = library.publish().out
    approved = (site / page).read_bytes()
    library.publish()
    _edit_keeping_size_and_times(site / page, approved)
    for _ in range(2):  # the edited file is in the live site, then in the spare
        assert (library.publish().out / page).read_bytes() == approved


def test_a_page_edited_after_a_full_build_is_not_copied_into_the_next(library: Library) -> None:
    """The build after a full one copies each page from the live site (it has no spare): a page
    whose file is not in its recorded state is copied only if its bytes hash to the record's."""
    page = "articles/approved-one/index.html"
    site = library.publish().out
    approved = (site / page).read_bytes()
    _edit_keeping_size_and_times(site / page, approved)
    again = library.publish()
    assert again.rendered == 1 and (again.out / page).read_bytes() == approved


def test_a_fifo_or_a_link_planted_in_the_live_site_is_never_read_but_rendered_anew(
    library: Library, tmp_path: Path
) -> None:
    """The build after a full one copies each page from the live site, which anyone who can write
    to the served tree can plant things in: a FIFO must not make it wait, and a link must not be
    followed, even to a file holding the page's very bytes. Both pages are rendered anew."""
    library.write(
        "approved-two", article_text("Second text [1].\n", title="Approved two"), "2025-01-12T08:00:00Z"
    )
    library.approve("approved-two", "2025-02-02")
    site = library.publish().out  # a full build: the next one has no spare and copies every page
    fifo, link = site / "articles/approved-one/index.html", site / "articles/approved-two/index.html"
    copy = write(tmp_path / "outside.html", link.read_bytes())  # what following the link would find
    fifo.unlink()
    os.mkfifo(fifo)
    link.unlink()
    link.symlink_to(copy)
    built: list[PublishResult] = []
    builder = threading.Thread(target=lambda: built.append(library.publish()), daemon=True)
    builder.start()
    builder.join(60)
    if builder.is_alive():
        with open(fifo, "wb"):  # let the build go on, so that the test ends
            pass
        builder.join(60)
        pytest.fail("the build waited on a FIFO in the live site")
    assert built and built[0].rendered == 2
    expected = tree(library.publish("clean", use_cache=False).out)
    assert tree(site) == expected
    assert all(not (site / page).is_symlink() for page in expected)
    assert tree(library.publish().out) == expected  # the site with the planted files is now the spare


def test_pages_are_copied_the_same_where_the_kernel_will_not_copy_them(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where copy_file_range is refused (across file systems on older kernels, say), a page's
    bytes are read and written by the build: the same site."""

    def refused(*args: object, **kwargs: object) -> int:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    site = library.publish().out
    expected = tree(site)
    monkeypatch.setattr(os, "copy_file_range", refused)
    again = library.publish()
    assert again.rendered == 0 and tree(again.out) == expected


def _edit_keeping_size_and_times(path: Path, approved: bytes) -> None:
    """An edit in place that keeps the size, with the file's times set back: only its bytes tell."""
    times = os.stat(path)
    forged = approved.replace(b"Approved text v1", b"Approved text v9")
    assert len(forged) == len(approved) and forged != approved
    with open(path, "r+b") as file:
        file.write(forged)
    os.utime(path, ns=(times.st_atime_ns, times.st_mtime_ns))


def test_files_added_to_the_built_site_do_not_survive_a_build(library: Library) -> None:
    site = library.publish().out
    library.publish()
    write(site / "planted.html", "<script>alert(1)</script>")
    write(site / "articles/approved-one/extra.js", "alert(1)")
    (site / "articles/approved-one/link").symlink_to("/etc/passwd")
    (site / "board/index.html").unlink()
    (site / "board/index.html").mkdir()  # a directory where a page goes
    expected = tree(library.publish("clean", use_cache=False).out)
    for _ in range(2):  # the site with the planted files goes live again as the spare
        assert tree(library.publish().out) == expected
    assert not (site / "articles/approved-one/link").is_symlink()


def test_the_site_holds_no_internal_files_but_its_marker(library: Library) -> None:
    library.publish()
    site = library.publish().out
    hidden = sorted(p.relative_to(site).as_posix() for p in site.rglob(".*"))
    assert hidden == [output.MARKER]
    assert git(library.repo, "status", "--porcelain") == ""  # what the next build reuses stays in the cache


def test_a_cache_this_user_did_not_write_is_never_believed(
    library: Library, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    page = "articles/approved-one/index.html"
    approved = (library.publish().out / page).read_bytes()
    library.publish()  # the first site is now the spare, in the cache
    cache = library.repo / ".reviewflow-cache/publish"
    # A page and records planted in the cache (a commit could carry them) that vouch for it.
    forged = approved.replace(b"Approved text v1", b"Unapproved text")
    spares = list(cache.glob("spare-*/" + page))
    assert spares
    for planted in spares:
        planted.unlink()
        planted.write_bytes(forged)
    for record in cache.glob("*-*.json"):  # a header line, then path, key, digest, state, ... a page
        signature, _, text = record.read_bytes().partition(b"\n")
        header, *rows = text.rstrip(b"\n").split(b"\n")
        assert json.loads(header)["target"]
        pages = [row.split(b"\t") for row in rows]
        for entry in pages:
            entry[2], entry[3] = hashlib.sha256(forged).hexdigest().encode(), b"-"
        record.write_bytes(b"\n".join([signature, header, *(b"\t".join(entry) for entry in pages)]) + b"\n")
    result = library.publish()
    assert result.rendered == 1 and (result.out / page).read_bytes() == approved
    # Another user's key: nothing of this cache is believed, and the site comes out the same.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "elsewhere"))
    result = library.publish()
    assert result.rendered == 1 and (result.out / page).read_bytes() == approved


def test_text_dates_are_read_again_only_for_new_commits(library: Library) -> None:
    library.publish()
    library.write(
        "approved-one", article_text("Edited text v2 [1].\n", title="Approved one"), "2025-03-01T08:00:00Z"
    )
    library.action("alice", Action.SUBMIT, "approved-one", "2025-03-02T08:00:00Z")
    library.action("rita", Action.REVIEW, "approved-one", "2025-03-03T08:00:00Z")
    library.action("rita", Action.APPROVE, "approved-one", "2025-03-04T08:00:00Z")
    cached = library.publish()
    fresh = library.publish("fresh", use_cache=False)
    assert tree(cached.out) == tree(fresh.out)
    page = read(cached.out / "articles/approved-one/index.html")
    dates = {d.find("dt").words: d.find("dd").words for d in page.with_class("dates")[0].find_all("div")}
    assert dates["Last updated"] == "1 March 2025"


def test_the_output_directory_is_replaced_whole(library: Library) -> None:
    preview = library.publish("site", preview=True)
    assert (preview.out / "articles/never-approved/index.html").is_file()
    public = library.publish("site")
    assert not (public.out / "articles/never-approved").exists()  # nothing left over from the preview
    assert "noindex" not in (public.out / "index.html").read_text()
    leftovers = [p.name for p in public.out.parent.iterdir() if p.name.startswith(".site.")]
    assert leftovers == []


@pytest.mark.interpreted
@pytest.mark.parametrize("atomic_exchange", [True, False])
def test_replacing_works_with_and_without_an_atomic_exchange(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, atomic_exchange: bool
) -> None:
    if not atomic_exchange:
        monkeypatch.setattr(target, "_exchange", lambda first, second: False)
    site = tmp_path / "site"
    write_site(site, {"index.html": "one", "old/page.html": "gone soon", output.MARKER: ""})
    write_site(site, {"index.html": "two", output.MARKER: ""})
    assert tree(site) == {"index.html": b"two", output.MARKER: b""}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_a_failed_build_leaves_the_old_site_intact(library: Library) -> None:
    site = library.publish().out
    before = tree(site)
    toml = library.repo / "reviewflow.toml"
    text = toml.read_text()
    start = text.index("[disclaimers.patient]")
    end = text.index("[disclaimers.professional]")
    toml.write_text(text[:start] + text[end:])  # the approved article's disclaimer is gone
    with pytest.raises(PublishError, match="approved-one.*disclaimer 'patient' is not defined"):
        library.publish()
    assert tree(site) == before
    assert [p.name for p in site.parent.iterdir() if p.name.startswith(".site.")] == []


def test_publish_refuses_to_replace_what_it_did_not_build(library: Library, tmp_path: Path) -> None:
    mine = tmp_path / "documents"
    write(mine / "thesis.txt", "years of work")
    with pytest.raises(Exception, match="not built by reviewflow"):
        check_target(library.repo, mine)
    with pytest.raises(Exception, match="is the content repository or contains it"):
        check_target(library.repo, library.repo)
    with pytest.raises(Exception, match="is the content repository or contains it"):
        check_target(library.repo, library.repo.parent)
    assert (mine / "thesis.txt").read_text() == "years of work"


def test_nothing_is_ever_written_outside_the_site(tmp_path: Path) -> None:
    for bad in ("../escape.html", "/etc/passwd", "articles/../../x.html", "a\\..\\b"):
        with pytest.raises(PublishError, match="outside the site"):
            write_site(tmp_path / "site", {bad: "x"})
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_the_site_is_readable_by_a_web_server(library: Library) -> None:
    site = library.publish().out
    assert os.stat(site).st_mode & 0o005 == 0o005  # a server running as another user can list and read it


# --- the command ------------------------------------------------------------------------------


def test_cli_publish_prints_the_index_path(library: Library, run: Run) -> None:
    result = run(library.repo, "publish", "--out", "public", "--base-url", BASE)
    assert result.exit_code == 0, result.output
    index = library.repo / "public" / "index.html"
    assert result.stdout.strip() == str(index.resolve())
    assert index.is_file()


def test_cli_publish_reports_a_bad_base_url(library: Library, run: Run) -> None:
    result = run(library.repo, "publish", "--base-url", "javascript:alert(1)")
    assert result.exit_code == 2
    assert "expected an absolute http(s) address" in result.output


def test_cli_publish_outside_git_is_an_environment_error(tmp_path: Path, run: Run) -> None:
    assert run(tmp_path, "init", "lib").exit_code == 0
    result = run(tmp_path / "lib", "publish")
    assert result.exit_code == 2
    assert "not in a git repository" in result.output


def test_cli_publish_help_has_an_example(run: Run, tmp_path: Path) -> None:
    result = run(tmp_path, "publish", "--help")
    assert result.exit_code == 0
    assert "Example: reviewflow publish" in result.output


def test_json_ld_of_every_page_parses_and_names_its_subject(library: Library) -> None:
    site = library.publish("preview", preview=True).out
    pages = sorted(site.glob("articles/*/index.html"))
    assert len(pages) == 2
    for page in pages:
        data = json_ld(page.read_text())
        assert data["@type"] == "MedicalWebPage"
        assert data["name"] == read(page).find("h1").text
        assert data["about"] == {"@type": "MedicalCondition", "name": "POEMS syndrome"}
        assert data["citation"][0]["identifier"] == [
            {"@type": "PropertyValue", "propertyID": "DOI", "value": "10.5045/br.2022.2022001"}
        ]


# --- pure pieces ------------------------------------------------------------------------------


def event(action: Action, actor: str, content: str, day: int, valid: bool = True) -> Event:
    when = datetime(2025, 1, day, 12, 0, tzinfo=UTC)
    return Event("c" * 40, (), actor, actor, when, action, "x", content, "", valid=valid)


def test_first_publication_is_when_one_text_first_reached_the_quorum() -> None:
    events = (
        event(Action.APPROVE, "rita@board.example", "a" * 40, 2),
        event(Action.APPROVE, "mallory@elsewhere.example", "a" * 40, 3, valid=False),  # never counts
        event(Action.APPROVE, "rita@board.example", "b" * 40, 4),  # another text: starts again
        event(Action.APPROVE, "sam@board.example", "a" * 40, 5),  # the first text reaches two
        event(Action.APPROVE, "sam@board.example", "b" * 40, 6),
    )
    status = ArticleStatus("x", "articles/x.md", State.APPROVED, "b" * 40, 2, 2, (), None, None, None, events)
    assert first_approval(status, 2) == datetime(2025, 1, 5, 12, 0, tzinfo=UTC)
    assert first_approval(status, 1) == datetime(2025, 1, 2, 12, 0, tzinfo=UTC)
    assert first_approval(status, 3) is None


def test_a_page_with_an_invalid_slug_is_refused_before_any_path_is_made(tmp_path: Path) -> None:
    config = load_config(Path(__file__).resolve().parent.parent)
    renderer = SiteRenderer(config)
    info = PageInfo(
        slug="../../etc", path="articles/../../etc.md", blob="a" * 40, state="draft", approved=False
    )
    problem = pool.render_article(renderer, read_schema(tmp_path), 10_000, info, b"---\n")
    assert problem == "'../../etc' is not a valid slug"


def test_the_site_follows_the_committed_configuration_and_schema(library: Library) -> None:
    """Uncommitted edits of reviewflow.toml or the schema never change what is published."""
    out = library.repo.parent / "site"
    before = tree(publish(library.repo, out, base_url=BASE).out)
    config = library.repo / "reviewflow.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("Dr. Rita", "Dr. Uncommitted"), encoding="utf-8"
    )
    schema = library.repo / "schemas" / "article.schema.json"
    schema.write_text('{"type": "object", "required": ["not-in-any-article"]}', encoding="utf-8")
    assert tree(publish(library.repo, out, base_url=BASE, use_cache=False).out) == before


def test_a_texts_last_appearance_is_the_last_not_after_its_approval() -> None:
    """A page's "updated" date is the last commit that made its file hold the text, not counting
    commits after the approval (the text reverted to and back); none at all is no date."""
    day = [datetime(2025, 1, d, tzinfo=UTC) for d in range(1, 6)]
    history = ContentHistory(day[4], {("a", "b1"): (day[0], day[2], day[3]), ("a", "b2"): (day[3],)})
    assert history.text_changed("a", "b1") == day[3]
    assert history.text_changed("a", "b1", not_after=day[3]) == day[3]
    assert history.text_changed("a", "b1", not_after=day[2]) == day[2]
    assert history.text_changed("a", "b1", not_after=day[1]) == day[0]
    assert history.text_changed("a", "b2", not_after=day[2]) is None
    assert history.text_changed("a", "b3") is None


@pytest.mark.parametrize("count", [0, 1, 2, 5])
def test_a_pages_key_writes_its_neighbours_as_their_repr(count: int) -> None:
    """The key writes the counterpart and related pages from each neighbour's kept repr: the same
    text as repr() of the whole (so a site built before keeps its pages), however many there are."""
    related = tuple(Neighbour(f"s{n}", f"Title 'quoted' {n}", "patient") for n in range(count))
    for counterpart in (None, Neighbour("b", 'B "x"', "professional")):
        page = PageInfo(
            slug="a", path="articles/a.md", blob="a" * 40, state="approved", approved=True,
            counterpart=counterpart, related=related, more_on_condition=count > 2,
        )  # fmt: skip
        assert page.key().split("\0")[-3:] == [repr(counterpart), repr(related), "1" if count > 2 else "0"]


def test_every_fact_of_a_page_is_in_its_key() -> None:
    """A page is kept from an earlier build only when its key matches: a fact left out of the
    key would leave that fact stale on the page. A new field of PageInfo must be added here."""
    moment = datetime(2025, 1, 2, 12, tzinfo=UTC)
    page = PageInfo(
        slug="a", path="articles/a.md", blob="a" * 40, state="approved", approved=True,
        reviewers=(Reviewer("Dr. Rita", "MD", email="rita@board.example"),), reviewed_at=moment,
        published_at=moment, updated_at=moment, review_due=date(2026, 1, 2), overdue=False,
        approved_elsewhere=date(2025, 1, 1), counterpart=Neighbour("b", "B", "professional"),
        related=(Neighbour("c", "C", "patient"),), more_on_condition=False,
    )  # fmt: skip
    later = datetime(2025, 1, 3, 12, tzinfo=UTC)
    other = {
        "slug": "b", "path": "articles/b.md", "blob": "b" * 40, "state": "draft", "approved": False,
        "reviewers": (Reviewer("Dr. Rita", "MD", email="rita@board.example", acknowledged=1),),
        "reviewed_at": later, "published_at": later, "updated_at": later, "review_due": date(2026, 1, 3),
        "overdue": True, "approved_elsewhere": None, "counterpart": None,
        "related": (Neighbour("c", "C (renamed)", "patient"),), "more_on_condition": True,
    }  # fmt: skip
    assert set(other) == {field.name for field in fields(PageInfo)}
    for name, value in other.items():
        assert replace(page, **{name: value}).key() != page.key(), name
