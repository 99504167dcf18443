"""The findings cache of `check`: unchanged files are not checked again.

Authors run `check` on every save, and most files have not changed since the last run. The
findings of each file are kept under a key made of its path and a hash of its bytes, in one
JSON file per content repo (`.reviewflow-cache/check.json`). The whole cache is thrown away
when anything else that decides a finding changes: reviewflow's own rule code, the config, the
schema, the retractions file, the reference lockfile, or the date (reference-old depends on it).

JSON, never pickle: the file lives in the content repository, where a pull request could plant
one, and loading it must not be able to run code. Nor is a planted one believed: every cache in
the content repository is sealed (`seal`) with a key of this user's, kept outside it, and a file
whose seal does not match is ignored, so a committed `check.json` cannot hide a finding.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import secrets
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

import reviewflow
from reviewflow import gitprocess
from reviewflow.files import own_directory, read_own, write_replacing
from reviewflow.findings import Finding, Severity

CACHE_DIR = ".reviewflow-cache"
CHECK_CACHE = "check.json"

# A finding without its path: (rule, severity, line, column, message).
# rule, severity, line, column, message, and for a finding marked intended the author's reason
Entry = tuple[str, str, int, int, str] | tuple[str, str, int, int, str, str]


def cache_dir(root: Path, quiet: bool = False) -> Path | None:
    """ROOT/.reviewflow-cache, created with a .gitignore so git never shows it; None (said once,
    on stderr) when the one there is not reviewflow's to use.

    The directory is in the work tree, so a commit can put one there before reviewflow ever
    ran, full of links to paths elsewhere: a directory git tracks, a symbolic link, or one that
    is not a directory of this user's is never used (see files.own_directory). Each caller asks
    once per command; another caller in the same command is QUIET.
    """
    directory = root / CACHE_DIR
    existed = os.path.lexists(directory)
    if not existed and not own_directory(directory):
        return None  # a read-only file system, say: no cache, nothing to say
    if not own_directory(directory, create=False):
        reason = "is not a directory of yours (a symbolic link, a file, or another user's)"
    elif existed and gitprocess.tracks(root, CACHE_DIR):
        reason = "holds files committed to git"
    else:
        try:
            if not os.path.isfile(directory / ".gitignore"):
                write_replacing(directory / ".gitignore", b"# Created by reviewflow: a build cache.\n*\n")
        except OSError:
            pass  # git shows the directory: harmless
        return directory
    if quiet:
        return None
    print(
        f"reviewflow: note: {CACHE_DIR}/ {reason}, so it is not used as a cache: this run reads and "
        f"writes no cache there. Remove it (`git rm -r --cached {CACHE_DIR}` if committed) to have one.",
        file=sys.stderr,
    )
    return None


def file_key(relative: str, raw: bytes) -> str:
    return f"{relative}\0{hashlib.blake2b(raw, digest_size=16).hexdigest()}"


def fingerprint(
    config_json: str, schema: dict[str, Any], retractions: Path | None, today: date, extra: str = ""
) -> str:
    """What the findings of `check` depend on besides each file; EXTRA: the reference lockfile's hash."""
    digest = hashlib.sha256(code_fingerprint().encode())
    digest.update(extra.encode())
    digest.update(config_json.encode())
    digest.update(json.dumps(schema, sort_keys=True).encode())
    if retractions is not None:
        stat = retractions.stat()
        digest.update(f"{retractions}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    digest.update(today.isoformat().encode())
    return digest.hexdigest()


@functools.cache
def code_fingerprint() -> str:
    """A hash of every file of the installed reviewflow package: any change to its code (or its
    templates and data) changes it, so that nothing kept by other code is ever believed.

    Computed from the files themselves, not a list of modules someone must keep up to date,
    nor a version number that an edited install does not change. A few milliseconds, once.
    """
    package = Path(reviewflow.__file__).parent
    digest = hashlib.blake2b(digest_size=20)
    for path in sorted(package.rglob("*")):
        if "__pycache__" in path.parts or not path.is_file():
            continue
        data = path.read_bytes()
        digest.update(f"{path.relative_to(package).as_posix()}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


_KEYS: dict[Path, bytes] = {}  # read once per process: every record of a run is checked with it


def local_key() -> bytes | None:
    """This user's key for sealing caches ($XDG_CACHE_HOME/reviewflow/publish.key, made on first
    use, readable by the user alone); None where it cannot be had (then nothing is cached)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = Path(base) / "reviewflow" / "publish.key"
    if path in _KEYS:
        return _KEYS[path]
    try:
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_hex(32))
        key = bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError):
        return None
    if len(key) < 16:
        return None  # not a key reviewflow made
    _KEYS[path] = key
    return key


def record_key(conditions: str) -> bytes | None:
    """A key for sealing records made under CONDITIONS (what they depend on besides the objects
    they describe), derived from this user's key; None without one (then nothing is kept).

    A record sealed under other conditions (another repository, another git, other code) or by
    anyone without this user's key does not check out, so it is recomputed, never believed.
    """
    key = local_key()
    if key is None:
        return None
    text = conditions.encode("utf-8", "surrogateescape")
    return hashlib.blake2b(text, key=key[:64], digest_size=32).digest()


def record_tag(key: bytes, data: bytes | memoryview, size: int = 12) -> str:
    """The seal of one record (a line, a file) under KEY: keyed BLAKE2b, a MAC as strong as
    HMAC and cheap enough for every line of a large file (about a microsecond each)."""
    return hashlib.blake2b(data, key=key, digest_size=size).hexdigest()


def record_mac(key: bytes, size: int = 12) -> hashlib.blake2b:
    """`record_tag`'s MAC, to be fed the record's bytes as they are written (`update`) and read
    (`hexdigest`) once they all are."""
    return hashlib.blake2b(key=key, digest_size=size)


def seal(text: bytes) -> bytes | None:
    """TEXT with a first line that proves this user wrote it; None without a key."""
    parts = seal_parts([text])
    return None if parts is None else b"".join(parts)


def seal_parts(parts: Sequence[bytes]) -> list[bytes] | None:
    """What `seal` makes of the joined PARTS, as parts (the first line, then PARTS): a large
    record is signed and written without ever being one string of bytes."""
    key = local_key()
    if key is None:
        return None
    mac = hmac.new(key, digestmod=hashlib.sha256)
    for part in parts:
        mac.update(part)
    return [mac.hexdigest().encode() + b"\n", *parts]


def unseal(data: bytes) -> bytes | None:
    """The text of what `seal` made, or None when it was not sealed with this user's key."""
    key = local_key()
    signature, _, text = data.partition(b"\n")
    if key is None or not hmac.compare_digest(signature, _mac(key, text)):
        return None
    return text


def sealed_lines(file: BinaryIO) -> Iterator[bytes]:
    """The lines of what `seal` made, read from FILE one at a time (each with its newline), for a
    reader that makes what it needs of each line as it comes rather than hold a large record's
    bytes, text and lines whole. Each line is fed to the seal as it is read, and once the last
    one is, ValueError if the seal does not fit (or there is no key): what was made of the lines
    must be thrown away then, so a reader believes nothing before the iteration has ended."""
    key = local_key()
    signature = file.readline()
    if key is None or not signature.endswith(b"\n"):
        raise ValueError("not sealed with this user's key")
    mac = hmac.new(key, digestmod=hashlib.sha256)
    for line in file:
        mac.update(line)
        yield line
    if not hmac.compare_digest(signature[:-1], mac.hexdigest().encode()):
        raise ValueError("not sealed with this user's key")


def write_sealed(path: Path, lines: Iterable[bytes]) -> bool:
    """Write at PATH what `seal` makes of the joined LINES, sealing each as it is written (the
    seal over room kept at the file's start, `write_replacing`'s FIRST): a large record is never
    held whole. False without a key (nothing written); OSError, or an error raised while LINES
    are made, leaves PATH as it was. `sealed_lines` reads it back."""
    key = local_key()
    if key is None:
        return False
    mac = hmac.new(key, digestmod=hashlib.sha256)

    def sealing() -> Iterator[bytes]:
        yield b"0" * (2 * mac.digest_size) + b"\n"  # room for the seal, written last
        for line in lines:
            mac.update(line)
            yield line

    write_replacing(path, sealing(), first=lambda: mac.hexdigest().encode())
    return True


def _mac(key: bytes, text: bytes | memoryview) -> bytes:
    return hmac.new(key, text, hashlib.sha256).hexdigest().encode()


@dataclass
class FindingsCache:
    path: Path | None  # None: no usable cache directory (see cache_dir), nothing read or kept
    fingerprint: str
    entries: dict[str, list[Entry]] = field(default_factory=dict)
    changed: bool = False

    @classmethod
    def load(cls, root: Path, fingerprint: str) -> FindingsCache:
        directory = cache_dir(root)
        cache = cls(directory / CHECK_CACHE if directory else None, fingerprint)
        if cache.path is None:
            return cache
        try:
            text = unseal(read_own(cache.path))
            payload = json.loads(text) if text is not None else {}
            if payload.get("fingerprint") == fingerprint and isinstance(payload.get("files"), dict):
                cache.entries = {key: [tuple(e) for e in value] for key, value in payload["files"].items()}  # type: ignore[misc]
        except (OSError, ValueError, TypeError, AttributeError):
            pass  # no cache, or one that cannot be read: check everything
        return cache

    def get(self, key: str, relative: str) -> list[Finding] | None:
        entries = self.entries.get(key)
        if entries is None:
            return None
        return [
            Finding(
                rule=rule,
                severity=Severity(severity),
                path=relative,
                line=line,
                column=column,
                message=message,
                intended=entry[5] if len(entry) == 6 else None,
            )
            for entry in entries
            for rule, severity, line, column, message in [entry[:5]]
        ]

    def put(self, key: str, findings: list[Finding]) -> None:
        self.entries[key] = [
            (f.rule, f.severity.value, f.line, f.column, f.message)
            if f.intended is None
            else (f.rule, f.severity.value, f.line, f.column, f.message, f.intended)
            for f in findings
        ]
        self.changed = True

    def save(self, keep: set[str]) -> None:
        """Write the entries of the files checked this time (others are dropped)."""
        stale = set(self.entries) - keep
        if self.path is None or (not self.changed and not stale):
            return
        files = {key: self.entries[key] for key in sorted(keep) if key in self.entries}
        try:
            sealed = seal(json.dumps({"fingerprint": self.fingerprint, "files": files}).encode("utf-8"))
            if sealed is not None:
                write_replacing(self.path, sealed)
        except OSError:
            pass  # a cache that cannot be written only makes the next run slower
