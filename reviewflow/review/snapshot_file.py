"""The file that keeps the judged history (snapshot.py): where it is, the seal that makes it
believed, and its sections written one at a time and read back as layers of bytes.

A first line: the magic, the seal of everything after it, the length of the index (ten digits:
the line is written last, over as many bytes kept for it). Then the sections, each layer
marshalled on its own, and last the index, (HEAD, ((name, length), ...)), marshalled: a run
unmarshals only the sections it looks into, straight from the bytes read. The index comes last
(version 6; before, it came first) because the sections' lengths are known only once each is
written, and the seal covers the bytes in the order they are written.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import threading
import weakref
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

from reviewflow.cache import record_key, record_mac, record_tag
from reviewflow.errors import EnvironmentProblem
from reviewflow.gitstore import GitStore
from reviewflow.review.changes import conditions

Layer: TypeAlias = "bytes | memoryview | Part"  # a section's layer: its bytes, or where they are
MAGIC = b"reviewflow replay 6 "
_STAMP_SIZE = len(MAGIC) + 64 + 12  # the seal (32 bytes, in hex), " %010d\n"


@dataclass(frozen=True)
class KeptFile:
    """Where the kept state is, and the key that seals it: this user's, under the conditions it
    is made in (this repository, this git, this reviewflow code, this Python's marshal)."""

    path: Path
    key: bytes


def kept_file(store: GitStore) -> KeptFile | None:
    """Where STORE's kept state is; None where nothing can be kept (no git directory, no key)."""
    if store.git_dir is None:
        return None
    key = record_key(f"replay\0{conditions(store)}\0python {sys.version_info[:2]} marshal {marshal.version}")
    if key is None:
        return None  # nothing that cannot be checked is kept
    suffix = hashlib.sha1(store.prefix.encode()).hexdigest()[:12]
    return KeptFile(store.git_dir / "reviewflow" / f"replay-v1-{suffix}", key)


def write(file: KeptFile, head: str, sections: Iterable[tuple[str, list[bytes | memoryview]]]) -> None:
    """Write SECTIONS (each section's name and layers, made as they are asked for, so that the
    save holds one section's bytes at most) as the state at HEAD. The file is written whole
    under another name and then put in place, and its stamp (written last, at the start) seals
    the rest: a half-written file is never read as the kept state."""
    temporary = file.path.with_name(f"{file.path.name}.{os.getpid()}")
    try:
        file.path.parent.mkdir(exist_ok=True)
        with temporary.open("wb") as out:
            out.write(bytes(_STAMP_SIZE))  # a stamp no reader accepts, until the seal is known
            mac = record_mac(file.key, 32)
            named: list[tuple[str, int]] = []
            for name, layers in sections:
                before = sum(kept_name.partition("+")[0] == name for kept_name, _ in named)
                for at, raw in enumerate(layers, before):
                    out.write(raw)
                    mac.update(raw)
                    named.append((name if at == 0 else f"{name}+{at}", len(raw)))
                del layers  # let go before the next section is made
            index = marshal.dumps((head, tuple(named)))
            out.write(index)
            mac.update(index)
            out.seek(0)
            out.write(MAGIC + mac.hexdigest().encode() + b" %010d\n" % len(index))
        os.replace(temporary, file.path)  # readers see the old file or the new one, never half
    except OSError:
        temporary.unlink(missing_ok=True)  # a cache that cannot be written only costs time


class Opened:
    """A kept file whose seal checked out: the HEAD it is the state at, and each section's
    layers as views of the bytes read (`sections`), until `leave_in_file`."""

    def __init__(self, source: Source, data: bytes, start: int, head: str, named: Sequence[tuple[str, int]]):
        self.source, self.head, self.named = source, head, named
        self.start = start  # where the sections begin in the file
        self.payload = memoryview(data)[start:]
        self.sections: dict[str, list[Layer]] = {}
        at = 0
        for name, size in named:
            self.sections.setdefault(name.partition("+")[0], []).append(self.payload[at : at + size])
            at += size

    def leave_in_file(self, read: Collection[str]) -> dict[str, list[Layer]]:
        """The layers of the sections not READ yet as parts of the file, each read again when
        first wanted (a run that writes nothing back need not hold the file's bytes: ~165 MB
        at 100,000 articles that the events and tracks, unmarshalled, stand for)."""
        parts: dict[str, list[Layer]] = {}
        at = 0
        for name, size in self.named:
            section_name = name.partition("+")[0]
            if section_name not in read:
                raw = self.payload[at : at + size]
                parts.setdefault(section_name, []).append(Part(self.source, self.start + at, raw))
            at += size
        self.sections, self.payload = parts, memoryview(b"")
        return parts


def open_file(file: KeptFile) -> Opened | None:
    """The kept state, if its seal checks out: made by this user, under these conditions, whole
    and unaltered (a torn, damaged or foreign file is read again from git)."""
    try:
        source = Source(file.path)
        data = source.read(0, -1)
    except OSError:
        return None
    end = data.find(b"\n")
    stamp, payload = data[: max(end, 0)], memoryview(data)[end + 1 :]
    if end < 0 or not stamp.startswith(MAGIC):
        return None
    tag, _, length = stamp[len(MAGIC) :].partition(b" ")
    if tag != record_tag(file.key, payload, 32).encode():
        return None
    try:
        head, named = marshal.loads(payload[len(payload) - int(length) :])
    except (ValueError, TypeError, EOFError):
        return None  # not what this code wrote: read the history again
    del payload
    return Opened(source, data, end + 1, head, named)


class Source:
    """The kept file, open: read whole to check its seal, and then (`Opened.leave_in_file`) left
    in the file but for the sections a run may never look into, each read again when first
    wanted and checked against what the seal covered."""

    def __init__(self, path: Path) -> None:
        self.handle = path.open("rb", buffering=0)  # each read from the file, none from a buffer
        weakref.finalize(self, self.handle.close)
        self.lock = threading.Lock()  # the desk's threads may read two sections at once

    def read(self, offset: int, size: int) -> bytes:
        with self.lock:
            self.handle.seek(offset)
            return self.handle.read(size)


class Part:
    """A layer of a kept section left in the file (`Opened.leave_in_file`): its bytes are read
    when the section is first wanted, and refused unless they are the bytes the seal covered (a
    file altered in place since) by the digest taken when the seal was checked."""

    __slots__ = ("source", "offset", "size", "digest")

    def __init__(self, source: Source, offset: int, raw: memoryview) -> None:
        self.source, self.offset, self.size = source, offset, len(raw)
        self.digest = hashlib.blake2b(raw, digest_size=16).digest()

    def raw(self) -> bytes:
        raw = self.source.read(self.offset, self.size)
        if hashlib.blake2b(raw, digest_size=16).digest() != self.digest:
            raise EnvironmentProblem(
                f"{self.source.handle.name}: the kept review state changed while this run read it: run again"
            )
        return raw


def layer_bytes(layer: Layer) -> bytes | memoryview:
    return layer.raw() if isinstance(layer, Part) else layer
