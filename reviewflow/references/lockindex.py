"""The reference lockfile read an entry at a time, through an index of where each entry's bytes
are in the file, so that checking some articles neither parses nor holds the whole file (118 MB
and 531,126 entries at 100,000 articles: ~550 MB once parsed).

The index is made by going through the file once, a window at a time, each entry parsed by the
json module's own scanner and the entries checked against the lockfile's schema in batches (the
schema judges each entry on its own, so the batches pass exactly when the whole file would).
Whatever the walk does not take as it is (a syntax error, an entry the schema rejects, text that
is not UTF-8, a key given twice) is left to `parse_lock`, which reads the whole file as before
and says what is wrong and where: the check is exactly as strict either way.

The index is kept in .reviewflow-cache/, sealed with this user's key, and believed only for the
lockfile bytes it names (their SHA-256, which every run computes anyway: the findings cache is
keyed on it) and this code. Entries are then read from the lockfile's descriptor, kept open; its
size and times are compared at each read, so a lockfile rewritten in place during the run stops
it (exit 2) rather than mixing two versions.
"""

from __future__ import annotations

import bisect
import codecs
import contextlib
import hashlib
import json
import os
import re
from array import array
from collections.abc import Callable, Iterator, Mapping
from json.decoder import scanstring  # type: ignore[attr-defined]  # the C scanner json uses
from pathlib import Path
from typing import Any, TypeVar

from reviewflow.cache import cache_dir, code_fingerprint, seal_parts, unseal
from reviewflow.errors import ConfigError
from reviewflow.files import open_regular, read_own, read_regular, write_replacing
from reviewflow.layout import LOCKFILE
from reviewflow.references.lockfile import ReferenceLock, parse_lock
from reviewflow.references.lockformat import VERSION, validator

INDEX_FILE = "lockfile-index"
WINDOW = 1 << 22  # bytes read at a time
BATCH = 4096  # entries checked against the schema at a time
_WS = re.compile(r"[ \t\n\r]*")  # what the json module skips between tokens
_DECODER = json.JSONDecoder()
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]
_COLON = re.compile(r"[ \t\n\r]*:[ \t\n\r]*")
_COMMA = re.compile(r"[ \t\n\r]*,")
T = TypeVar("T")
Entry = dict[str, Any]


class NotTaken(Exception):
    """The file is not one the walk takes as it is: `parse_lock` reads it whole."""


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
        digest, blob_id = _digests(file.fileno(), stamp[0] if blob is not None else None)
        entries = None
        if blob_id == blob:
            kept = _kept(root, digest) if use_cache else None
            entries = kept or _walk(file.fileno(), digest)
            if kept is None and entries is not None and use_cache:
                _keep(root, digest, entries)
    except BaseException:
        file.close()
        raise
    if entries is None:
        file.close()
        return None
    return ReferenceLock(IndexedEntries(file, stamp, entries), source, digest)


class Index:
    """Where each entry is: its key's 8-byte hash (sorted), and the place and size of its bytes
    (from its key's opening quote to its closing brace); and the entries that record a notice,
    in the file's order."""

    def __init__(
        self, hashes: array[int], places: array[int], sizes: array[int], noticed: array[int]
    ) -> None:
        self.hashes = hashes
        self.places = places
        self.sizes = sizes
        self.noticed = noticed  # place, size, place, size, ...

    def parts(self) -> list[bytes]:
        return [a.tobytes() for a in (self.hashes, self.places, self.sizes, self.noticed)]


class IndexedEntries(Mapping[str, Entry]):
    """The lockfile's entries, each parsed from the file when asked for."""

    def __init__(self, file: Any, stamp: tuple[int, ...], index: Index) -> None:
        self._file = file  # closed with this object
        self._stamp = stamp
        self._index = index

    def __getitem__(self, key: str) -> Entry:
        hashes = self._index.hashes
        wanted = _key_hash(key)
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
        end = _past_space(text, end) + 1  # past the colon
        entry, _ = _DECODER.raw_decode(text, _past_space(text, end))
        return key, entry


def _past_space(text: str, at: int) -> int:
    """Where the white space at AT in TEXT ends."""
    match = _WS.match(text, at)
    return match.end() if match else at


def _stamp(descriptor: int) -> tuple[int, ...]:
    """What changes when the open file is written to."""
    info = os.fstat(descriptor)
    return info.st_size, info.st_mtime_ns, info.st_ctime_ns


def _digests(descriptor: int, size: int | None) -> tuple[str, str | None]:
    """The SHA-256 of the file's bytes, and with its SIZE its git blob id too (None without)."""
    digest = hashlib.sha256()
    blob = None
    if size is not None:
        blob = hashlib.sha1(b"blob %d\0" % size, usedforsecurity=False)
    place = 0
    while data := os.pread(descriptor, WINDOW, place):
        digest.update(data)
        if blob is not None:
            blob.update(data)
        place += len(data)
    return digest.hexdigest(), blob.hexdigest() if blob is not None else None


def _key_hash(key: str) -> int:
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


# --- the walk that makes the index ---------------------------------------------------------------


class _Text:
    """The file's text a window at a time, and the byte offset of the place read up to."""

    def __init__(self, descriptor: int) -> None:
        self.descriptor = descriptor
        self.size = os.fstat(descriptor).st_size
        self.read = 0  # bytes read so far
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.digest = hashlib.sha256()
        self.text = ""
        self.at = 0  # where the walk is in TEXT
        self.byte = 0  # and in the file
        self.ascii = True

    @property
    def done(self) -> bool:
        return self.read >= self.size

    def more(self) -> bool:
        """Read the next window onto what is left of this one; False at the end of the file."""
        if self.done:
            return False
        data = os.pread(self.descriptor, WINDOW, self.read)
        if not data:
            raise NotTaken  # shorter than it was
        self.read += len(data)
        self.digest.update(data)
        try:
            new = self.decoder.decode(data, final=self.done)
        except UnicodeDecodeError:
            raise NotTaken from None
        self.text = self.text[self.at :] + new
        self.at = 0
        self.ascii = self.text.isascii()
        return True

    def move(self, to: int) -> None:
        skipped = to - self.at if self.ascii else len(self.text[self.at : to].encode("utf-8"))
        self.byte += skipped
        self.at = to

    def token(self, parse: Callable[[str, int], tuple[T, int]]) -> T:
        """What PARSE reads at the walk's place, reading on when the window ends inside it."""
        while True:
            try:
                value, end = parse(self.text, self.at)
                if end < len(self.text) or self.done:
                    self.move(end)
                    return value
            except (ValueError, IndexError):  # json.JSONDecodeError too
                if self.done:
                    raise NotTaken from None
            self.more()

    def space(self) -> None:
        while True:
            end = _past_space(self.text, self.at)
            self.move(end)
            if end < len(self.text) or not self.more():
                return

    def next(self) -> str:
        """The next character (after any white space), read."""
        self.space()
        if self.at >= len(self.text):
            raise NotTaken
        self.move(self.at + 1)
        return self.text[self.at - 1]

    def expect(self, char: str) -> None:
        if self.next() != char:
            raise NotTaken

    def string(self) -> str:
        self.space()
        return self.token(_string)

    def value(self) -> Any:
        self.space()
        return self.token(_DECODER.raw_decode)

    def empty(self, close: str) -> bool:
        """Whether the object just opened closes at once (and if so, read past it)."""
        self.space()
        if self.at < len(self.text) and self.text[self.at] == close:
            self.move(self.at + 1)
            return True
        return False


def _string(text: str, at: int) -> tuple[str, int]:
    if text[at] != '"':
        raise ValueError("not a string")
    return scanstring(text, at + 1)


def _entries(text: _Text, top: dict[str, Any]) -> Iterator[tuple[str, int, int, Any]]:
    """Each entry of "works" as (key, place, end, entry), the file read as `json.loads` reads it;
    the lockfile's other members go into TOP. NotTaken for anything else."""
    text.expect("{")
    if text.empty("}"):
        raise NotTaken  # no "works"
    while True:
        name = text.string()
        text.expect(":")
        if name in top:
            raise NotTaken  # given twice: json.loads keeps the last one
        if name != "works":
            top[name] = text.value()
        else:
            top["works"] = {}
            text.expect("{")
            if not text.empty("}"):
                yield from _works(text)
        if (after := text.next()) == "}":
            break
        if after != ",":
            raise NotTaken
    text.space()
    if text.at < len(text.text):
        raise NotTaken  # more after the lockfile's object


def _works(text: _Text) -> Iterator[tuple[str, int, int, Any]]:
    """The entries of "works", after its opening brace, to its closing one read."""
    while True:
        yield from _whole_entries(text)
        # An entry that the window ends in (or anything unusual), token by token.
        text.space()
        place = text.byte
        key = text.string()
        text.expect(":")
        entry = text.value()
        yield key, place, text.byte, entry
        if (after := text.next()) == "}":
            return
        if after != ",":
            raise NotTaken


def _whole_entries(text: _Text) -> Iterator[tuple[str, int, int, Any]]:
    """The entries that lie whole in the window, each followed by its comma, read by the json
    module's C scanner with no step between (most of the file's entries)."""
    window, at, byte, ascii = text.text, text.at, text.byte, text.ascii
    size = len(window)
    while True:
        start = _past_space(window, at)
        if start >= size or window[start] != '"':
            break
        try:
            key, end = scanstring(window, start + 1)
            colon = _COLON.match(window, end)
            if colon is None:
                break
            entry, end = _SCAN(window, colon.end())
        except (ValueError, StopIteration):
            break
        comma = _COMMA.match(window, end)
        if comma is None:
            break  # the last entry, or the window ends: taken token by token
        place = byte + start - at  # white space (and a comma) before: a byte a character
        byte = place + (end - start if ascii else len(window[start:end].encode("utf-8")))
        yield key, place, byte, entry
        at = comma.end()
        byte += at - end
    text.at, text.byte = at, byte


def _walk(descriptor: int, digest: str) -> Index | None:
    """The index of the lockfile open at DESCRIPTOR (whose bytes hash to DIGEST), made and
    checked in one pass; None when the whole file has to be read (see the module's docstring)."""
    text = _Text(descriptor)
    top: dict[str, Any] = {}
    hashes, places, sizes, noticed = array("Q"), array("Q"), array("Q"), array("Q")
    batch: dict[str, Any] = {}
    check = validator().is_valid
    try:
        for key, place, end, entry in _entries(text, top):
            batch[key] = entry
            hashes.append(_key_hash(key))
            places.append(place)
            sizes.append(end - place)
            if isinstance(entry, dict) and entry.get("notices"):
                noticed.extend((place, end - place))
            if len(batch) == BATCH:
                if not check({"version": VERSION, "works": batch}):
                    return None
                batch.clear()
    except NotTaken:
        return None
    # TOP holds "works" as {} when the file has it: the rest of the lockfile checked alone.
    if not check({"version": VERSION, "works": batch}) or not check(top):
        return None
    if text.digest.hexdigest() != digest:
        return None  # changed since it was hashed: read it whole
    order = sorted(range(len(hashes)), key=hashes.__getitem__)
    index = Index(
        array("Q", (hashes[i] for i in order)),
        array("Q", (places[i] for i in order)),
        array("Q", (sizes[i] for i in order)),
        noticed,
    )
    if _key_twice(descriptor, index):
        return None
    return index


def _key_twice(descriptor: int, index: Index) -> bool:
    """Whether two entries have the same key (json.loads keeps the last one's entry at the first
    one's place): only entries whose keys' hashes are equal are read to know."""
    hashes = index.hashes
    for at in range(1, len(hashes)):
        if hashes[at] == hashes[at - 1]:
            first = os.pread(descriptor, index.sizes[at - 1], index.places[at - 1]).decode("utf-8")
            second = os.pread(descriptor, index.sizes[at], index.places[at]).decode("utf-8")
            if scanstring(first, 1)[0] == scanstring(second, 1)[0]:
                return True
    return False


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
