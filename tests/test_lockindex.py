"""The lockfile read an entry at a time through its index (references/lockindex.py): the same
entries as the whole file parsed, the same refusal of a malformed one, and a kept index believed
only for the bytes it was made from."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from reviewflow.errors import ConfigError
from reviewflow.references import lockwalk
from reviewflow.references.lockfile import LOCKFILE, ReferenceLock, load_lock
from reviewflow.references.lockindex import INDEX_FILE, IndexedEntries, indexed_lock
from tests.conftest import write
from tests.test_references import DOI, TITLE, entry, subject_repo

Run = Callable[..., Result]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return subject_repo(tmp_path)


def works(count: int) -> dict[str, dict[str, Any]]:
    """COUNT entries of every shape: text beyond ASCII, escapes, notices, a work not found."""
    found: dict[str, dict[str, Any]] = {}
    for n in range(count):
        kind = n % 4
        if kind == 0:
            found[f"doi:10.{1000 + n}/x.{n}"] = entry(
                f'Étude {n} — “quoted” \\ "escaped" 研究', year=2000 + n % 20
            )
        elif kind == 1:
            notices = [{"type": "retraction", "doi": f"10.9/r.{n}", "date": "2024-01"}]
            found[f"pmid:{n + 1}"] = entry(f"Retracted {n}", source="pubmed", notices=notices)
        elif kind == 2:
            found[f"pmcid:PMC{n}"] = {"source": "pmc-idconv", "checked_on": "2026-12-01", "pmid": str(n + 1)}
        else:
            found[f"doi:10.5/ünï.{n}"] = {"source": "crossref", "checked_on": "2026-12-01", "found": False}
    return found


def write_text(repo: Path, text: str) -> None:
    write(repo / LOCKFILE, text)


def same_as_whole(repo: Path) -> ReferenceLock:
    """The indexed lock of REPO, held to the whole file parsed: every entry, the noticed ones in
    order, the digest, and no entry for a key the file does not have."""
    indexed, whole = indexed_lock(repo), load_lock(repo)
    assert indexed is not None and whole is not None
    assert isinstance(indexed.raw, IndexedEntries)
    assert indexed.digest == whole.digest
    assert list(indexed.raw) == list(whole.raw)
    assert all(indexed.raw[key] == value for key, value in whole.raw.items())
    assert [w.key for w in indexed.with_notices()] == [w.key for w in whole.with_notices()]
    assert indexed.get("doi", "10.1/not-there") is None
    assert indexed.works == whole.works
    return indexed


@pytest.mark.parametrize("indent", [2, None, 7])
def test_every_entry_is_the_whole_files(
    repo: Path, indent: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Windows of 97 bytes: entries (and characters of several bytes) cut by every window's end.
    monkeypatch.setattr(lockwalk, "WINDOW", 97)
    write_text(repo, json.dumps({"works": works(60), "version": 1}, indent=indent, ensure_ascii=False))
    same_as_whole(repo)


def test_escaped_keys_and_odd_white_space(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lockwalk, "WINDOW", 13)
    text = '\r\n\t{ "version" :1 ,"works":{"doi:10.1/\\u00e9\\"a" \n:\t{"source":"x","checked_on":"y"} , "pmid:7":{"source":"x","checked_on":"y","notices":[{"type":"retraction"}]}}, "other": [1, 2.5e3]}\n\n'
    write_text(repo, text)
    indexed = same_as_whole(repo)
    assert indexed.get("doi", '10.1/é"a') is not None


def test_an_empty_lockfile(repo: Path) -> None:
    write_text(repo, '{"version": 1, "works": {}}')
    assert len(same_as_whole(repo).raw) == 0


@pytest.mark.parametrize(
    "text",
    [
        '{\n  "version": 1,\n  "works": {,}\n}\n',  # not JSON
        '{"version": 1, "works": {"doi:10.1/a": {"source": "x"}}}',  # no checked_on
        '{"version": 2, "works": {}}',  # another version
        '{"version": 1}',  # no works
        '{"works": {}}',  # no version
        '{"version": 1, "works": []}',
        '{"version": 1, "works": {"DOI:10.1/a": {"source": "x", "checked_on": "y"}}}',  # a key not canonical
        '{"version": 1, "works": {}} {}',  # more after it
        '\ufeff{"version": 1, "works": {}}',  # a byte-order mark
        '{"version": 1, "works": {"doi:10.1/a": {"source": "x", "checked_on": "y", "year": 12}}}',
        '{"version": 1, "works": {"doi:10.1/a": {"source": "x", "checked_on": "y"}',  # cut short
        "[]",
        "",
        '{"version": 1, "works": {"doi:10.1/a": {"source": "\udcff", "checked_on": "y"}}}',  # not UTF-8
    ],
)
def test_a_malformed_lockfile_is_refused_as_the_whole_file_is(repo: Path, text: str) -> None:
    (repo / LOCKFILE).write_bytes(text.encode("utf-8", "surrogateescape"))  # "\udcff": the byte 0xff
    with pytest.raises(ConfigError) as whole:
        load_lock(repo)
    with pytest.raises(ConfigError) as indexed:
        indexed_lock(repo)
    assert str(indexed.value) == str(whole.value)


def test_a_key_given_twice_is_the_last_entry_as_json_reads_it(repo: Path) -> None:
    one = '{"source": "crossref", "checked_on": "2026-01-01", "title": "First"}'
    two = '{"source": "crossref", "checked_on": "2026-01-01", "title": "Second"}'
    write_text(
        repo, f'{{"version": 1, "works": {{"doi:10.1/a": {one}, "pmid:1": {one}, "doi:10.1/a": {two}}}}}'
    )
    lock = indexed_lock(repo)
    assert lock is not None and not isinstance(lock.raw, IndexedEntries)  # read whole
    assert lock.raw == load_lock(repo).raw  # type: ignore[union-attr]


def test_the_index_is_kept_and_believed_only_for_its_lockfile(repo: Path) -> None:
    write_text(repo, json.dumps({"version": 1, "works": works(20)}, indent=2))
    same_as_whole(repo)
    kept = repo / ".reviewflow-cache" / INDEX_FILE
    assert kept.is_file()
    made = kept.stat().st_mtime_ns
    same_as_whole(repo)
    assert kept.stat().st_mtime_ns == made  # read, not made again
    # Another lockfile: the index is made again for it.
    write_text(repo, json.dumps({"version": 1, "works": works(30)}, indent=2))
    same_as_whole(repo)
    assert kept.stat().st_mtime_ns != made


def test_an_index_not_sealed_by_this_user_is_not_believed(repo: Path) -> None:
    write_text(repo, json.dumps({"version": 1, "works": works(20)}, indent=2))
    same_as_whole(repo)
    kept = repo / ".reviewflow-cache" / INDEX_FILE
    data = bytearray(kept.read_bytes())
    body = data.index(b"\n", data.index(b"\n") + 1) + 1
    data[body : body + 16] = bytes(16)  # the first two keys' hashes zeroed
    kept.write_bytes(bytes(data))
    same_as_whole(repo)


def test_a_lockfile_rewritten_in_place_while_read_stops_the_run(repo: Path) -> None:
    write_text(repo, json.dumps({"version": 1, "works": works(8)}, indent=2))
    lock = indexed_lock(repo)
    assert lock is not None
    with open(repo / LOCKFILE, "r+b") as file:  # the same file, its bytes changed
        file.seek(40)
        file.write(b" ")
        os.utime(file.fileno(), ns=(1, 1))
    with pytest.raises(ConfigError, match="changed while reviewflow read it"):
        lock.get("pmid", "2")


def test_a_check_of_named_files_reads_the_index_and_finds_the_same(run: Run, repo: Path) -> None:
    lock = works(40)
    lock[f"doi:{DOI}"] = entry("Another paper entirely, about something else")
    write_text(repo, json.dumps({"version": 1, "works": lock}, indent=2, ensure_ascii=False))
    every = run(repo, "check", "--format", "json", "--no-cache")
    named = run(repo, "check", "--format", "json", "--no-cache", "articles/subject.md")
    assert every.exit_code == named.exit_code == 1, named.output
    assert json.loads(named.output) == json.loads(every.output)
    assert "reference-mismatch" in named.output and TITLE in named.output
    assert (repo / ".reviewflow-cache" / INDEX_FILE).is_file()


def test_verify_judges_by_heads_lockfile_through_the_work_trees_index_only_when_it_is_that_blob(
    run: Run, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_references import approved_and_locked, committed, write_lock

    approved_and_locked(run, repo, monkeypatch)
    write_lock(repo, {f"doi:{DOI}": entry("What the registry now says is another paper")})
    committed(repo, "Fetch the references again")
    index = repo / ".reviewflow-cache" / INDEX_FILE
    index.unlink(missing_ok=True)
    by_index = run(repo, "verify", "--no-cache", "--format", "json")
    assert not index.exists()  # --no-cache: nothing kept, nothing read from what was
    by_kept_index = run(repo, "verify", "--format", "json")
    assert index.is_file()  # HEAD's lockfile is the work tree's: read through its index
    # An edit not committed: HEAD's lockfile is read from git, and judges the same.
    write_lock(repo, {f"doi:{DOI}": entry()})
    index.unlink()
    by_git = run(repo, "verify", "--no-cache", "--format", "json")
    assert not index.exists()
    assert by_kept_index.output == by_index.output
    assert by_index.exit_code == by_git.exit_code == 1, by_git.output
    assert json.loads(by_index.output)["stale_references"] == json.loads(by_git.output)["stale_references"]
    assert json.loads(by_git.output)["stale_references"][0]["findings"][0]["rule"] == "reference-mismatch"
