"""A build of other code or configuration than the last (every upgrade of reviewflow): no page's
key can match, so the last builds' records (over 100 MB at 100,000 pages) are not read, the
workers are forked first, and one of them makes the search index anew; the site is the same."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

from reviewflow.publish import output, pagefiles, render
from reviewflow.publish.pool import PagePool
from reviewflow.publish.records import BuildCache, PageRecord
from tests.conftest import article_text, git
from tests.test_publish import Library, tree


def records(count: int) -> dict[str, PageRecord]:
    return {
        f"articles/a{n}/index.html": PageRecord(
            f"{n:064x}", "d" * 64, None, {"title": f"A{n}"}, f'{{"a{n}":{n}}}'
        )
        for n in range(count)
    }


def lines_read(cache: BuildCache, name: str, target: Path) -> int:
    """How many page lines of the record NAME a reader is given."""
    read: list[str] = []
    cache._read_site(name, target, read.append)
    return len(read)


def test_the_records_of_a_build_of_another_fingerprint_are_not_read(content_repo: Path) -> None:
    target = content_repo.parent / "site"
    ours = BuildCache(content_repo, "ours")
    live = records(5)
    for _ in range(2):  # a live site, and a spare
        ours.keep_sites(target, live, set(live), spare_was_live=True, search={"fingerprint": "ours"})
    names = sorted(p.name for p in ours.directory.glob("*.json"))
    assert [name.split("-")[0] for name in names] == ["live", "rendered", "spare"]
    same = BuildCache(content_repo, "ours")
    assert same.of_this_build(target)
    assert {p: r._replace(text="") for p, r in same.spare_site(target).items()} == live
    assert len(same.rendered_last(target)) == len(same.live_site(target)) == 5
    assert [lines_read(same, name, target) for name in names] == [5, 0, 5]  # rendered: every page

    other = BuildCache(content_repo, "other")
    assert not other.of_this_build(target)
    assert other.spare_site(target) == other.rendered_last(target) == other.live_site(target) == {}
    assert other.live_terms(target) is None  # nothing to patch the search index from
    assert [lines_read(other, name, target) for name in names] == [0, 0, 0]
    assert len(BuildCache(content_repo).live_site(target)) == 5  # no fingerprint: every record read


def test_a_record_from_before_headers_named_the_build_is_known_by_its_search_index(
    content_repo: Path,
) -> None:
    target = content_repo.parent / "site"
    cache = BuildCache(content_repo)  # writes no fingerprint, as reviewflow did before
    live = records(3)
    cache.keep_sites(target, live, set(live), spare_was_live=False, search={"fingerprint": "old"})
    assert BuildCache(content_repo, "old").of_this_build(target)
    assert len(BuildCache(content_repo, "old").live_site(target)) == 3
    assert not BuildCache(content_repo, "new").of_this_build(target)
    assert BuildCache(content_repo, "new").live_site(target) == {}
    assert not BuildCache(content_repo, "new").of_this_build(content_repo.parent / "elsewhere")


@pytest.fixture
def library(content_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Library:
    lib = Library(content_repo, monkeypatch)
    git(content_repo, "rm", "-q", "articles/what-is-poems-syndrome.md")
    git(content_repo, "commit", "-q", "-m", "Start empty")
    for number, slug in enumerate(("first", "second")):
        lib.write(slug, article_text("Text [1].\n", title=slug.title()), f"2025-01-1{number}T08:00:00Z")
        lib.approve(slug, f"2025-02-0{number + 1}")
    return lib


def test_a_build_of_other_configuration_into_a_site_with_a_spare_makes_its_index_in_a_worker(
    library: Library, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(render, "POOL_THRESHOLD", 1)
    made: list[int] = []  # how many pages each search index made anew in a worker was made of
    original = PagePool.new_search_files

    def in_a_worker(self: PagePool, pages: Any, fingerprint: str) -> Any:
        made.append(len(pages))
        return original(self, pages, fingerprint)

    monkeypatch.setattr(PagePool, "new_search_files", in_a_worker)
    temporary = tmp_path / "temporary"  # where the search index's input goes to a worker
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    library.publish(workers=2)
    made.clear()
    assert library.publish(workers=2).rendered == 0  # the same build: its index is patched
    assert made == []
    other = library.publish(workers=2, base_url="https://other.example.org")  # a spare, of another build
    assert other.rendered == 2 and made == [2]
    assert tree(other.out) == tree(
        library.publish("fresh", use_cache=False, base_url="https://other.example.org").out
    )
    assert list(temporary.iterdir()) == []


def test_a_site_wide_file_is_compared_a_part_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pagefiles, "COMPARED", 7)  # parts smaller than the file
    data = bytes(range(256)) * 3
    path = tmp_path / "index.html"
    path.write_bytes(data)
    assert pagefiles.holds_bytes(str(path), data)
    for changed in (data[:-1] + b"!", b"!" + data[1:], data[:300] + b"!" + data[301:]):
        assert not pagefiles.holds_bytes(str(path), changed)
    assert not pagefiles.holds_bytes(str(path), data[:-1])  # another size
    (tmp_path / "link.html").symlink_to(path)
    assert not pagefiles.holds_bytes(str(tmp_path / "link.html"), data)  # never through a link


@pytest.mark.parametrize("size", [0, 1, 4096, 300_000])
def test_every_byte_is_written_once(tmp_path: Path, size: int) -> None:
    # Compiled by mypyc, `view[os.write(...) :]` ran the write twice: every file held its bytes twice.
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    path = tmp_path / "page.html"
    output.write_file(tmp_path, "page.html", data)
    assert path.read_bytes() == data


def test_pages_kept_and_pages_rendered_in_a_pool_are_searched_in_the_builds_order(
    library: Library, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A worker makes the index from a file written as the pages come in: the pages kept from the
    # spare first, then each rendered one as a worker sends it back, each where the build lists it.
    monkeypatch.setattr(render, "POOL_THRESHOLD", 1)
    temporary = tmp_path / "temporary"  # where the search index's input goes to a worker
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    library.publish(workers=2)
    library.publish(workers=2)  # the first build's site is now the spare
    library.write("first", article_text("Text [1], changed.\n", title="First"), "2025-03-01T08:00:00Z")
    library.approve("first", "2025-03-02")
    made: list[int] = []
    original = PagePool.new_search_files

    def in_a_worker(self: PagePool, pages: Any, fingerprint: str) -> Any:
        made.append(len(pages))
        return original(self, pages, fingerprint)

    monkeypatch.setattr(PagePool, "new_search_files", in_a_worker)
    kept = library.repo / ".reviewflow-cache" / "publish"
    for lost in [*kept.glob("facts.json"), *kept.glob("live-*.json")]:  # so the pool, and no index to patch
        lost.unlink()
    built = library.publish(workers=2)
    assert built.rendered == 1 and made == [2]  # "second" kept from the spare, "first" rendered
    fresh = library.publish("fresh", use_cache=False)
    assert tree(built.out) == tree(fresh.out)
    docs = json.loads((built.out / "search/docs/0.json").read_text())
    assert [doc[1] for doc in docs] == ["First", "Second"]
    assert list(temporary.iterdir()) == []
