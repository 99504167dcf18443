"""The reference lockfile read an entry at a time, through an index of where each entry's bytes
are in the file, so that checking some articles neither parses nor holds the whole file (118 MB
and 531,126 entries at 100,000 articles: ~550 MB once parsed).

The index is made by one pass over the file (lockwalk.py), which checks every entry against the
lockfile's schema; a file the pass does not take as it is is read whole by `parse_lock`, as
before, which says what is wrong and where: the check is exactly as strict either way.

The index is kept in .reviewflow-cache/, sealed with this user's key, and believed only for the
lockfile bytes it names (their SHA-256, which every run computes anyway: the findings cache is
keyed on it) and this code. Entries are then read from the lockfile's descriptor, kept open; its
size and times are compared at each read, so a lockfile rewritten in place during the run stops
it (exit 2) rather than mixing two versions.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import json
import os
from array import array
from collections.abc import Iterator, Mapping
from json.decoder import scanstring  # type: ignore[attr-defined]  # the C scanner json uses
from pathlib import Path
from typing import Any

from reviewflow.cache import cache_dir, code_fingerprint, seal_parts, unseal
from reviewflow.errors import ConfigError
from reviewflow.files import open_regular, read_own, read_regular, write_replacing
from reviewflow.gitlog import blob_hasher
from reviewflow.layout import LOCKFILE
from reviewflow.references.lockfile import ReferenceLock, parse_lock
from reviewflow.references.lockwalk import DECODER, Index, key_hash, past_space, walk

INDEX_FILE = "lockfile-index"
READ = 1 << 22  # bytes hashed at a time
Entry = dict[str, Any]


def indexed_lock(root: Path) -> ReferenceLock | None:
    """ROOT's lockfile (None when it has none) with its entries read from the file when looked
    up. ConfigError (exit 2) naming the line of a malformed one, as `load_lock`."""
    path = root / LOCKFILE
    if not path.is_file() and not path.is_symlink():
        return None
    try:
        lock = _indexed(root, path, LOCKFILE)
        return lock if lock is not None else parse_lock(read_regular(root, path), LOCKFILE)
    except OSError as exc:
        raise ConfigError(f"{LOCKFILE}: cannot be read: {exc}") from None


def committed_lock(root: Path, blob: str, source: str, use_cache: bool = True) -> ReferenceLock | None:
    """The lockfile committed as BLOB (SOURCE names it), read through the index of ROOT's
    lockfile when that file is this very blob, as it is once a `refs fetch` is committed; None
    when it is not, or cannot be read, or the walk does not take it: the caller parses the blob.
    USE_CACHE off (`verify --no-cache`): the index is made again, and not kept."""
    try:
        return _indexed(root, root / LOCKFILE, source, blob, use_cache)
    except OSError:
        return None


def _indexed(
    root: Path, path: Path, source: str, blob: str | None = None, use_cache: bool = True
) -> ReferenceLock | None:
    """The lockfile at PATH read through its index (kept, or made now); None when the walk does
    not take it, or (BLOB given) when its bytes are not that git blob."""
    file = os.fdopen(open_regular(root, path), "rb", buffering=0)
    try:
        stamp = _stamp(file.fileno())
        digest, blob_id = _digests(file.fileno(), blob_hasher(blob, stamp[0]) if blob is not None else None)
        entries = None
        if blob_id == blob:
            kept = _kept(root, digest) if use_cache else None
            entries = kept or walk(file.fileno(), digest)
            if kept is None and entries is not None and use_cache:
                _keep(root, digest, entries)
    except BaseException:
        file.close()
        raise
    if entries is None:
        file.close()
        return None
    return ReferenceLock(IndexedEntries(file, stamp, entries), source, digest)


class IndexedEntries(Mapping[str, Entry]):
    """The lockfile's entries, each parsed from the file when asked for."""

    def __init__(self, file: Any, stamp: tuple[int, ...], index: Index) -> None:
        self._file = file  # closed with this object
        self._stamp = stamp
        self._index = index

    def __getitem__(self, key: str) -> Entry:
        hashes = self._index.hashes
        wanted = key_hash(key)
        at = bisect.bisect_left(hashes, wanted)
        while at < len(hashes) and hashes[at] == wanted:
            found, entry = self._read(self._index.places[at], self._index.sizes[at])
            if found == key:
                return entry
            at += 1
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        places = self._index.places
        for at in sorted(range(len(places)), key=places.__getitem__):
            yield self._read(places[at], self._index.sizes[at])[0]

    def __len__(self) -> int:
        return len(self._index.hashes)

    def noticed(self) -> list[tuple[str, Entry]]:
        """The entries that record a notice, in the file's order."""
        pairs = self._index.noticed
        return [self._read(pairs[i], pairs[i + 1]) for i in range(0, len(pairs), 2)]

    def _read(self, place: int, size: int) -> tuple[str, Entry]:
        descriptor = self._file.fileno()
        data = os.pread(descriptor, size, place)
        if _stamp(descriptor) != self._stamp or len(data) != size:
            raise ConfigError(f"{LOCKFILE}: changed while reviewflow read it: run the command again")
        text = data.decode("utf-8")
        key, end = scanstring(text, 1)
        end = past_space(text, end) + 1  # past the colon
        entry, _ = DECODER.raw_decode(text, past_space(text, end))
        return key, entry


def _stamp(descriptor: int) -> tuple[int, ...]:
    """What changes when the open file is written to."""
    info = os.fstat(descriptor)
    return info.st_size, info.st_mtime_ns, info.st_ctime_ns


def _digests(descriptor: int, blob: hashlib._Hash | None) -> tuple[str, str | None]:
    """The SHA-256 of the file's bytes, and the git blob id BLOB (gitlog.blob_hasher) makes of
    them (None without one)."""
    digest = hashlib.sha256()
    place = 0
    while data := os.pread(descriptor, READ, place):
        digest.update(data)
        if blob is not None:
            blob.update(data)
        place += len(data)
    return digest.hexdigest(), blob.hexdigest() if blob is not None else None


# --- the kept index ------------------------------------------------------------------------------


def _header(digest: str, index: Index) -> bytes:
    sizes = [len(part) for part in index.parts()]
    return json.dumps({"lockfile": digest, "code": code_fingerprint(), "parts": sizes}).encode() + b"\n"


def _kept(root: Path, digest: str) -> Index | None:
    """The kept index of the lockfile whose bytes hash to DIGEST, if this user sealed one."""
    directory = cache_dir(root, quiet=True)
    if directory is None:
        return None
    try:
        data = unseal(read_own(directory / INDEX_FILE))
    except OSError:
        return None
    if data is None:
        return None
    line, _, body = data.partition(b"\n")
    try:
        header = json.loads(line)
    except ValueError:
        return None
    if header.get("lockfile") != digest or header.get("code") != code_fingerprint():
        return None
    arrays, place = [], 0
    for size in header["parts"]:
        part = array("Q")
        part.frombytes(body[place : place + size])
        arrays.append(part)
        place += size
    return Index(*arrays)


def _keep(root: Path, digest: str, index: Index) -> None:
    directory = cache_dir(root, quiet=True)
    if directory is None:
        return
    parts = [_header(digest, index), *index.parts()]
    sealed = seal_parts(parts)
    if sealed is None:
        return
    with contextlib.suppress(OSError):  # not kept: the next run walks the file again
        write_replacing(directory / INDEX_FILE, sealed)
