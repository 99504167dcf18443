"""The file that keeps the judged history (snapshot.py): where it is, the seal that makes it
believed, and its sections written one at a time and read back as layers of bytes.

A first line: the magic, the seal of the index, the length of the index (ten digits: the line is
written last, over as many bytes kept for it). Then the sections, each layer marshalled on its
own, and last the index, (HEAD, ((name, length, digest), ...)), marshalled: a run unmarshals only
the sections it looks into, straight from the bytes read. The seal covers the index, and the
index each layer's digest (version 7; before, the seal covered every byte in the order written):
so the layers may be written by two processes, each digesting its own (`begin` writes the
sections a whole read gives before the replay, in a child of its own, and `write` the rest after
it), and their order in the file is free.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import threading
import weakref
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple, TypeAlias

from reviewflow.cache import record_key, record_tag
from reviewflow.errors import EnvironmentProblem
from reviewflow.gitstore import GitStore
from reviewflow.review.changes import conditions

Layer: TypeAlias = "bytes | memoryview | Checked | Part"  # a section's layer: its bytes, or where they are
Named: TypeAlias = list[tuple[str, int, bytes]]  # each layer written: its name, length and digest
Sections: TypeAlias = Iterable[tuple[str, list[Layer]]]  # each section's name and layers
MAGIC = b"reviewflow replay 7 "
DIGEST_SIZE = 32  # of each layer's digest, and of the seal
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


def write(
    file: KeptFile,
    head: str,
    sections: Sections,
    begun: Begun | None = None,
) -> None:
    """Write SECTIONS (each section's name and layers, made as they are asked for, so that the
    save holds one section's bytes at most) as the state at HEAD, after BEGUN's sections (`begin`:
    written already, by another process). The file is written whole under another name and
    then put in place, and its stamp (written last, at the start) seals the rest: a half-written
    file is never read as the kept state."""
    temporary = begun.temporary if begun is not None else temporary_path(file)
    try:
        file.path.parent.mkdir(exist_ok=True)
        with temporary.open("r+b" if begun is not None else "wb") as out:
            if begun is None:
                out.write(bytes(_STAMP_SIZE))  # a stamp no reader accepts, until the seal is known
            elif out.seek(0, os.SEEK_END) != _STAMP_SIZE + sum(size for _, size, _ in begun.named):
                raise OSError("the sections begun are not whole")  # not read as the kept state
            named = list(begun.named) if begun is not None else []
            _write_layers(out, sections, named)
            index = marshal.dumps((head, tuple(named)))
            out.write(index)
            out.seek(0)
            out.write(MAGIC + record_tag(file.key, index, DIGEST_SIZE).encode() + b" %010d\n" % len(index))
        os.replace(temporary, file.path)  # readers see the old file or the new one, never half
    except OSError:
        temporary.unlink(missing_ok=True)  # a cache that cannot be written only costs time


@dataclass(frozen=True)
class Begun:
    """The first sections of a save (`begin`), written to TEMPORARY: their layers, as NAMED."""

    temporary: Path
    named: Named


def temporary_path(file: KeptFile) -> Path:
    """Where a save is written before it is put in place (this process's own name)."""
    return file.path.with_name(f"{file.path.name}.{os.getpid()}")


def begin(file: KeptFile, temporary: Path, sections: Sections) -> Named:
    """Write the first SECTIONS of a save to TEMPORARY, after the room kept for the stamp: `write`
    adds the rest and seals it (given `Begun(TEMPORARY, what this returns)`). OSError: nothing
    is left at TEMPORARY."""
    try:
        file.path.parent.mkdir(exist_ok=True)
        with temporary.open("wb") as out:
            out.write(bytes(_STAMP_SIZE))
            named: Named = []
            _write_layers(out, sections, named)
        return named
    except OSError:
        temporary.unlink(missing_ok=True)
        raise


def _write_layers(out: BinaryIO, sections: Sections, named: Named) -> None:
    """Each section's layers, in turn, with their names, lengths and digests added to NAMED. A
    layer written again as it was read (`Checked`) keeps the digest its bytes were checked
    against, rather than being digested again (the whole kept state, but for what a run adds,
    on every save that resumes: 17 MB at 10,000 articles)."""
    for name, layers in sections:
        before = sum(kept_name.partition("+")[0] == name for kept_name, _, _ in named)
        for at, layer in enumerate(layers, before):
            raw = layer_bytes(layer)
            out.write(raw)
            digest = layer.digest if isinstance(layer, Checked) else _digest(raw)
            named.append((name if at == 0 else f"{name}+{at}", len(raw), digest))
        del layers  # let go before the next section is made


def _digest(raw: bytes | memoryview) -> bytes:
    return hashlib.blake2b(raw, digest_size=DIGEST_SIZE).digest()


class Checked(NamedTuple):
    """A layer of a kept file read whole (`open_file`), and the digest the sealed index names
    for it, which its bytes were checked against when the file was opened."""

    raw: memoryview
    digest: bytes


class Opened:
    """A kept file whose seal checked out: the HEAD it is the state at, and each section's
    layers as views of the bytes read (`sections`), until `leave_in_file`."""

    def __init__(self, source: Source, data: bytes, start: int, head: str, named: Named):
        self.source, self.head, self.named = source, head, named
        self.start = start  # where the sections begin in the file
        self.payload = memoryview(data)[start:]
        self.sections: dict[str, list[Layer]] = {}
        at = 0
        for name, size, digest in named:  # each checked by open_file
            layer = Checked(self.payload[at : at + size], digest)
            self.sections.setdefault(name.partition("+")[0], []).append(layer)
            at += size

    def leave_in_file(self, read: Collection[str]) -> dict[str, list[Layer]]:
        """The layers of the sections not READ yet as parts of the file, each read again when
        first wanted (a run that writes nothing back need not hold the file's bytes: ~165 MB
        at 100,000 articles that the events and tracks, unmarshalled, stand for)."""
        parts: dict[str, list[Layer]] = {}
        at = 0
        for name, size, digest in self.named:
            section_name = name.partition("+")[0]
            if section_name not in read:
                parts.setdefault(section_name, []).append(Part(self.source, self.start + at, size, digest))
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
    # (a length of more digits than a file's size has is damage, and more than int() converts)
    sections_end = len(payload) - int(length) if length.isdigit() and len(length) <= 20 else -1
    if sections_end < 0 or tag != record_tag(file.key, payload[sections_end:], DIGEST_SIZE).encode():
        return None
    try:
        head, named = marshal.loads(payload[sections_end:])
        at = 0
        for _, size, digest in named:  # each layer is the one the sealed index names
            if _digest(payload[at : at + size]) != digest:
                return None
            at += size
    except (ValueError, TypeError, EOFError):
        return None  # not what this code wrote: read the history again
    if at != sections_end:
        return None
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
    file altered in place since) by their digest, which the sealed index names."""

    __slots__ = ("source", "offset", "size", "digest")

    def __init__(self, source: Source, offset: int, size: int, digest: bytes) -> None:
        self.source, self.offset, self.size, self.digest = source, offset, size, digest

    def raw(self) -> bytes:
        raw = self.source.read(self.offset, self.size)
        if _digest(raw) != self.digest:
            raise EnvironmentProblem(
                f"{self.source.handle.name}: the kept review state changed while this run read it: run again"
            )
        return raw


def layer_bytes(layer: Layer) -> bytes | memoryview:
    if isinstance(layer, Checked):
        return layer.raw
    return layer.raw() if isinstance(layer, Part) else layer
