"""A site's record (publish/records.py) written line by line and sealed as it goes, and the live
site's search terms read line by line from it: what a build holds at 100,000 pages, with the same
records and terms as reading the record whole, and a record torn or altered never believed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from reviewflow.cache import seal_parts, sealed_lines
from reviewflow.publish import pool
from reviewflow.publish.records import BuildCache, PageRecord

PAGE = "articles/alpha/index.html"
KEPT = PageRecord("k" * 64, "d" * 64, (1, 2, 3, 4), {"title": "Alpha"}, '{"alpha":1}')


def records(count: int) -> dict[str, PageRecord]:
    return {
        f"articles/a{n}/index.html": PageRecord(
            f"{n:064x}", "d" * 64, None, {"title": f"A{n}"}, f'{{"a{n}":{n}}}'
        )
        for n in range(count)
    }


def test_a_site_record_is_written_as_it_is_sealed_and_one_that_cannot_be_kept_leaves_the_last(
    content_repo: Path,
) -> None:
    cache = BuildCache(content_repo)
    target = content_repo.parent / "site"
    cache.keep_sites(target, {PAGE: KEPT}, {PAGE}, spare_was_live=False)
    assert cache.live_site(target)[PAGE]._replace(text="") == KEPT
    cache.keep_sites(target, {PAGE: KEPT._replace(terms='{"al\tpha":1}')}, {PAGE}, spare_was_live=False)
    assert cache.live_site(target)[PAGE]._replace(text="") == KEPT
    assert [p.name for p in cache.directory.iterdir() if p.name.endswith(".tmp")] == []
    record = next(cache.directory.glob("live-*.json"))
    record.write_bytes(record.read_bytes().replace(b"Alpha", b"Omega"))  # the seal no longer fits
    assert BuildCache(content_repo).live_site(target) == {}


def test_a_site_record_torn_halfway_is_not_believed(content_repo: Path) -> None:
    cache = BuildCache(content_repo)
    target = content_repo.parent / "site"
    live = records(50)
    cache.keep_sites(target, live, set(live), spare_was_live=False, search={"counts": {}})
    record = next(cache.directory.glob("live-*.json"))
    whole = record.read_bytes()
    assert {
        path: r._replace(text="") for path, r in BuildCache(content_repo).live_site(target).items()
    } == live
    for cut in (len(whole) // 2, whole.rindex(b"\n", 0, len(whole) - 1) + 1, len(whole) - 1):
        record.write_bytes(whole[:cut])
        assert BuildCache(content_repo).live_site(target) == {}
        assert BuildCache(content_repo).live_terms(target) is None


def test_the_terms_read_line_by_line_are_those_of_the_whole_record(content_repo: Path) -> None:
    cache = BuildCache(content_repo)
    target = content_repo.parent / "site"
    live = records(30)
    cache.keep_sites(target, live, set(live), spare_was_live=False, search={"counts": {"a": 1}})
    by_lines = BuildCache(content_repo).live_terms(target)
    whole = BuildCache(content_repo)
    whole.live_site(target)  # read whole first: live_terms then hands back what it found
    assert by_lines is not None and by_lines == whole.live_terms(target)
    assert list(by_lines.terms) == list(live)  # in the order the search index numbers the pages


def test_the_live_sites_terms_are_this_builds_own_where_a_page_has_the_same_key(content_repo: Path) -> None:
    cache = BuildCache(content_repo)
    target = content_repo.parent / "site"
    same, changed = "articles/same/index.html", "articles/changed/index.html"
    live = {
        same: PageRecord("a" * 64, "d" * 64, None, {"title": "Same"}, '{"same":1}'),
        changed: PageRecord("b" * 64, "d" * 64, None, {"title": "Changed"}, '{"before":1}'),
    }
    cache.keep_sites(target, live, set(live), spare_was_live=False, search={"counts": {}})
    current = {
        same: live[same]._replace(terms="".join(['{"same"', ":1}"])),  # equal text, another string
        changed: live[changed]._replace(key="c" * 64, terms='{"after":1}'),
    }
    found = cache.live_terms(target, current)
    assert found is not None and found.search == {"counts": {}}
    assert found.terms[same] is current[same].terms
    rekeyed = {same: current[same]._replace(key="e" * 64), changed: current[changed]}  # new code, say
    again = BuildCache(content_repo).live_terms(target, rekeyed)
    assert again is not None and again.terms[same] is current[same].terms  # the same words all the same
    assert again.terms[changed] == '{"before":1}'
    assert found.terms == {same: '{"same":1}', changed: '{"before":1}'}
    assert cache.live_terms(target) == found  # without this build's records: the record's own text
    record = next(cache.directory.glob("live-*.json"))
    record.write_bytes(record.read_bytes().replace(b'{"before":1}', b'{"forged":1}'))
    assert cache.live_terms(target) is None  # its seal no longer fits


def test_sealed_lines_are_given_as_read_and_refused_after_the_last_when_the_seal_does_not_fit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    parts = [b'{"version":3}\n', b"a\tb\n", b"c\td"]
    sealed = seal_parts(parts)
    assert sealed is not None
    path = tmp_path / "record"
    path.write_bytes(b"".join(sealed))
    with path.open("rb") as file:
        assert list(sealed_lines(file)) == parts
    path.write_bytes(b"".join(sealed).replace(b"c\td", b"c\te"))
    read = []
    with path.open("rb") as file, pytest.raises(ValueError):
        for line in sealed_lines(file):
            read.append(line)
    assert read == [*parts[:2], b"c\te"]  # every line given, and then refused
    path.write_bytes(b"".join(sealed)[:-1])  # torn
    with path.open("rb") as file, pytest.raises(ValueError):
        list(sealed_lines(file))


def test_the_search_input_goes_to_a_worker_through_a_file_as_it_was_in_the_builds_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    odd = 'tab\there, new\nline, a line separator\u2028, a lone surrogate \ud800, quotes " and é'
    pages = [
        (
            "articles/a/index.html",
            {"title": odd, "summary": odd, "audience": "patient", "card": "x"},
            '{"tab":2,"shared":1}',
        ),
        ("articles/b/index.html", {"title": "B"}, '{"shared":3}'),
        ("articles/c/index.html", {}, ""),
        ("articles/d/index.html", {"title": "D", "audience": "professional"}, '{"shared":5,"tab":1}'),
    ]
    with pool.SearchInput([path for path, _, _ in pages]) as written:
        assert len(written) == 4
        for path, meta, terms in [pages[3], pages[1], pages[0], pages[2]]:  # as the workers send them back
            written.add(path, PageRecord("k" * 64, "d" * 64, None, meta, terms))
        path, count = written.finished()
    assert Path(path).parent == tmp_path and count == 4
    files, state = pool._search_files_from(path, count, "print")
    assert (files, state) == pool.new_search_files(pages, "print")  # numbered in the build's order
    postings = {}
    for name in [name for name in files if name.startswith("search/terms/")]:
        postings.update(json.loads(files[name]))
    assert postings == {"shared": [0, 1, 1, 3, 3, 5], "tab": [0, 2, 3, 1]}  # [page, weight, ...]
    assert json.loads(files["search/docs/0.json"])[0][1] == odd
    pool._forget(path)
    assert list(tmp_path.iterdir()) == []


def test_a_search_input_not_given_to_a_worker_is_deleted_and_one_lacking_a_page_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pool.SearchInput(["articles/a/index.html"]) as written:
        written.add("articles/a/index.html", KEPT)
    assert list(tmp_path.iterdir()) == []  # a build that patched its index, or failed
    with pytest.raises(ValueError, match="deliberately"), pool.SearchInput(["articles/a/index.html"]):
        raise ValueError("deliberately")
    assert list(tmp_path.iterdir()) == []
    with pool.SearchInput(["articles/a/index.html", "articles/b/index.html"]) as written:
        written.add("articles/b/index.html", KEPT)
        path, count = written.finished()
    with pytest.raises(ValueError, match="holds 1 of the build's 2 pages"):
        pool._search_files_from(path, count, "print")
    pool._forget(path)


def test_a_search_input_left_by_a_killed_build_is_deleted_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    killed = tmp_path / f"reviewflow-search-{int(ended.stdout)}-x1y2z3.tsv"  # its build's process is gone
    killed.write_text("0\tarticles/a/index.html\t{}\t\n")
    running = tmp_path / f"reviewflow-search-{os.getpid()}-a1b2c3.tsv"  # a build running now
    running.write_text("")
    other = tmp_path / "reviewflow-search-notes.txt"  # not named as a build names its input
    other.write_text("")
    with pool.SearchInput(["articles/a/index.html"]) as written:
        written.add("articles/a/index.html", KEPT)
        left = sorted(path.name for path in tmp_path.iterdir())
        assert killed.name not in left and running.name in left and other.name in left
        assert len(left) == 3  # and this build's own
