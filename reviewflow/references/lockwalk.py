"""The pass over a reference lockfile that makes its index (lockindex.py): where each entry's
bytes are, each entry parsed by the json module's own C scanner, a window of the file at a time,
and checked against the lockfile's schema in batches (the schema judges each entry on its own, so
the batches pass exactly when the whole file would). Whatever the pass does not take as it is (a
syntax error, an entry the schema refuses, text that is not UTF-8, a key given twice) it leaves to
`parse_lock`, which reads the whole file and says what is wrong and where.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import re
from array import array
from collections.abc import Callable, Iterator
from json.decoder import scanstring  # type: ignore[attr-defined]  # the C scanner json uses
from typing import Any, TypeVar

from reviewflow.references.lockformat import VERSION, validator

WINDOW = 1 << 22  # bytes read at a time
BATCH = 4096  # entries checked against the schema at a time
_WS = re.compile(r"[ \t\n\r]*")  # what the json module skips between tokens
DECODER = json.JSONDecoder()
_SCAN: Callable[[str, int], tuple[Any, int]] = DECODER.scan_once  # type: ignore[attr-defined]
_COLON = re.compile(r"[ \t\n\r]*:[ \t\n\r]*")
_COMMA = re.compile(r"[ \t\n\r]*,")
T = TypeVar("T")


class NotTaken(Exception):
    """The file is not one the walk takes as it is: `parse_lock` reads it whole."""


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


def past_space(text: str, at: int) -> int:
    """Where the white space at AT in TEXT ends."""
    match = _WS.match(text, at)
    return match.end() if match else at


def key_hash(key: str) -> int:
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


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
            except (ValueError, IndexError, RecursionError):  # json.JSONDecodeError too
                if self.done:
                    raise NotTaken from None
            self.more()

    def space(self) -> None:
        while True:
            end = past_space(self.text, self.at)
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
        return self.token(DECODER.raw_decode)

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
        start = past_space(window, at)
        if start >= size or window[start] != '"':
            break
        try:
            key, end = scanstring(window, start + 1)
            colon = _COLON.match(window, end)
            if colon is None:
                break
            entry, end = _SCAN(window, colon.end())
        except (ValueError, StopIteration, RecursionError):  # taken token by token, or not at all
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


def walk(descriptor: int, digest: str) -> Index | None:
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
            hashes.append(key_hash(key))
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
