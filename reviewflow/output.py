"""Where a build goes: the site's directory, replaced in one move, and the cache of rendered pages.

The site is written into a new directory beside --out, which then takes its place; only a
directory that reviewflow built (it holds MARKER) is ever replaced, and every path is checked
to stay inside it. The cache keeps rendered pages between builds, keyed by a hash of all that
went into each.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from reviewflow.errors import ConfigError, ExitCode, ReviewflowError
from reviewflow.site import PageInfo

CACHE_DIR = ".reviewflow-cache"  # in the content repo; it ignores itself (see PageCache)
MARKER = ".reviewflow-site"  # in every built site: only a directory with it is ever replaced
MANIFEST = ".reviewflow-pages"  # in every built site: its article pages' keys (publish.manifest)
FINGERPRINTS_KEPT = 4  # cache generations kept (a public and a preview build, and their previous)
CACHE_SCHEMA = 2  # the layout of pages.sqlite; a cache of another layout is emptied


class PublishError(ReviewflowError):
    """The site cannot be built as it is; the published directory was left untouched."""

    exit_code = ExitCode.FINDINGS


# --- the cache -------------------------------------------------------------------------------


class PageCache:
    """Rendered pages of earlier builds, by a hash of everything that went into them, in one file.

    One SQLite database (.reviewflow-cache/publish/pages.sqlite, which git ignores through a
    .gitignore the cache writes itself) holds:
    - pages: key -> (html, listing meta), the key a hash of the build fingerprint (reviewflow
      version, templates, config, schema, base URL, preview or not) and the page's PageInfo
      (which includes the blob id); the newest few fingerprints are kept;
    - memo: facts about git history, keyed by what they depend on (ContentHistory).
    A cache that cannot be read or written only makes builds slower: every failure is ignored.
    """

    def __init__(self, directory: Path, fingerprint: str) -> None:
        self.directory = directory
        self.fingerprint = fingerprint
        self.used: set[str] = set()
        self._db: sqlite3.Connection | None = None
        self._broken = False

    @property
    def db(self) -> sqlite3.Connection | None:
        if self._db is None and not self._broken:
            try:
                self._db = self._open()
            except (OSError, sqlite3.Error):
                self._broken = True
        return self._db

    def _open(self) -> sqlite3.Connection:
        if not self.directory.is_dir():
            self.directory.mkdir(parents=True, exist_ok=True)
            top = self.directory.parent
            (top / ".gitignore").write_text(
                "# Created by reviewflow publish: a build cache.\n*\n", encoding="utf-8"
            )
            (top / "CACHEDIR.TAG").write_text(
                "Signature: 8a477f597d28d172789f06886806bc55\n# reviewflow publish cache: safe to delete.\n",
                encoding="utf-8",
            )
        db = sqlite3.connect(
            self.directory / "pages.sqlite", timeout=30, isolation_level=None, check_same_thread=False
        )
        if db.execute("PRAGMA user_version").fetchone()[0] != CACHE_SCHEMA:
            db.executescript(
                "DROP TABLE IF EXISTS pages; DROP TABLE IF EXISTS generations; DROP TABLE IF EXISTS memo;"
            )
            db.execute(f"PRAGMA user_version = {CACHE_SCHEMA}")
        db.executescript(
            """
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = NORMAL;
            CREATE TABLE IF NOT EXISTS pages (
                key TEXT PRIMARY KEY, generation TEXT NOT NULL, html BLOB NOT NULL, meta TEXT NOT NULL,
                size INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS pages_generation ON pages (generation);
            CREATE TABLE IF NOT EXISTS generations (generation TEXT PRIMARY KEY, used INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS memo (name TEXT PRIMARY KEY, value TEXT NOT NULL);
            """
        )
        return db

    def metas(self) -> dict[str, tuple[dict[str, Any], int]]:
        """key -> (listing meta, size of the page in bytes) of every page of this build's fingerprint."""
        if self.db is None:
            return {}
        try:
            rows = self.db.execute(
                "SELECT key, meta, size FROM pages WHERE generation = ?", (self.fingerprint,)
            )
            return {key: (json.loads(meta), size) for key, meta, size in rows}
        except (sqlite3.Error, ValueError):
            return {}

    def html(self, key: str) -> bytes | None:
        """One page's bytes (UTF-8)."""
        if self.db is None:
            return None
        try:
            row = self.db.execute("SELECT html FROM pages WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None
        return row[0] if row and isinstance(row[0], bytes) else None

    def put_many(self, rows: Iterable[tuple[str, bytes, dict[str, Any]]]) -> bool:
        """Store (key, page bytes, meta) rows in one transaction; False when that failed."""
        if self.db is None:
            return False
        values = [(key, self.fingerprint, html, json.dumps(meta), len(html)) for key, html, meta in rows]
        try:
            with self.db:
                self.db.execute("BEGIN")
                self.db.executemany("INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?, ?)", values)
        except sqlite3.Error:
            return False
        return True

    def memo(self, name: str) -> str | None:
        if self.db is None:
            return None
        try:
            row = self.db.execute("SELECT value FROM memo WHERE name = ?", (name,)).fetchone()
        except sqlite3.Error:
            return None
        return row[0] if row else None

    def remember(self, name: str, value: str) -> None:
        if self.db is None:
            return
        try:
            with self.db:
                self.db.execute("INSERT OR REPLACE INTO memo VALUES (?, ?)", (name, value))
        except sqlite3.Error:
            pass

    def prune(self) -> None:
        """Drop pages of this fingerprint this build did not use, and all but the newest generations."""
        if self.db is None:
            return
        try:
            with self.db:
                self.db.execute("BEGIN")
                self.db.execute("CREATE TEMP TABLE IF NOT EXISTS used (key TEXT PRIMARY KEY)")
                self.db.execute("DELETE FROM used")
                self.db.executemany("INSERT OR IGNORE INTO used VALUES (?)", [(k,) for k in self.used])
                self.db.execute(
                    "DELETE FROM pages WHERE generation = ? AND key NOT IN (SELECT key FROM used)",
                    (self.fingerprint,),
                )
                latest = self.db.execute("SELECT COALESCE(MAX(used), 0) FROM generations").fetchone()[0]
                self.db.execute(
                    "INSERT OR REPLACE INTO generations VALUES (?, ?)", (self.fingerprint, latest + 1)
                )
                self.db.execute(
                    "DELETE FROM generations WHERE generation NOT IN "
                    "(SELECT generation FROM generations ORDER BY used DESC LIMIT ?)",
                    (FINGERPRINTS_KEPT,),
                )
                self.db.execute(
                    "DELETE FROM pages WHERE generation NOT IN (SELECT generation FROM generations)"
                )
        except sqlite3.Error:
            pass

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def page_key(fingerprint: str, info: PageInfo) -> str:
    return hashlib.sha256(f"{fingerprint}\0{info.key()}".encode()).hexdigest()


def check_target(root: Path, out: Path) -> Path:
    """The output directory, refused where replacing it could destroy anything but a built site."""
    if out.is_symlink():
        raise ConfigError(f"--out {out}: is a symbolic link; give the real directory")
    target = out.parent.resolve() / out.name if out.name not in ("", ".", "..") else out.resolve()
    root = root.resolve()
    if target == root or target in root.parents:
        raise ConfigError(
            f"--out {out}: is the content repository or contains it; choose a directory of its own"
        )
    if ".git" in target.relative_to(target.anchor).parts:
        raise ConfigError(f"--out {out}: is inside a .git directory")
    if target.exists() and not target.is_dir():
        raise ConfigError(f"--out {out}: exists and is not a directory")
    if target.is_dir() and any(target.iterdir()) and not (target / MARKER).is_file():
        raise ConfigError(
            f"--out {out}: is not empty and was not built by reviewflow publish (it has no {MARKER}); "
            "publish replaces the whole directory, so remove it or choose another"
        )
    return target


Content = str | bytes | Path | Callable[[], bytes | None]


def write_site(
    target: Path,
    files: Mapping[str, Content],
    links: Mapping[str, Path] | None = None,
    trash: Path | None = None,
) -> None:
    """Write FILES into a new directory beside TARGET, then put it in TARGET's place.

    LINKS are files of the site being replaced that stay as they are: they are hard-linked into
    the new directory (copied where links cannot be made), never written again. A file may also
    be given as a function that returns its bytes, called only when the file is written, so a
    build never holds all its pages in memory. The replaced
    site is moved into TRASH (on the same file system) for `empty_trash` to delete later, as
    deleting thousands of files costs seconds of disk waits; elsewhere it is deleted at once.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    try:
        os.chmod(building, 0o755)
        made: set[Path] = {building}
        everything: dict[str, Content] = {**(links or {}), **files}
        for relative in sorted(everything):
            content = everything[relative]
            path = building.joinpath(*_safe_parts(relative))
            if path.parent not in made:
                path.parent.mkdir(parents=True, exist_ok=True)
                made.add(path.parent)
            if isinstance(content, Path):
                try:
                    os.link(content, path)
                except OSError:
                    shutil.copyfile(content, path)
                continue
            data = content() if callable(content) else content
            if data is None:
                raise PublishError(f"{relative}: its page vanished from the cache during the build")
            path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        _swap(building, target, trash)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise


def _safe_parts(relative: str) -> Iterable[str]:
    parts = PurePosixPath(relative).parts
    if not parts or relative.startswith("/") or any(p in ("", ".", "..") or "\\" in p for p in parts):
        raise PublishError(f"refusing to write {relative!r}: it would land outside the site")
    return parts


def _swap(building: Path, target: Path, trash: Path | None = None) -> None:
    if not target.exists():
        os.rename(building, target)
        return
    retired = target.parent / f".{target.name}.old-{secrets.token_hex(4)}"
    if trash is not None:
        try:
            trash.mkdir(parents=True, exist_ok=True)
            if os.stat(trash).st_dev == os.stat(target.parent).st_dev:
                retired = trash / retired.name
        except OSError:
            pass
    if _exchange(building, target):  # one atomic step: readers see the old site or the new one
        os.rename(building, retired)
    else:  # two renames: for an instant there is no site at all
        os.rename(target, retired)
        try:
            os.rename(building, target)
        except BaseException:
            os.rename(retired, target)
            raise
    if retired.parent != trash:
        shutil.rmtree(retired, ignore_errors=True)


def empty_trash(trash: Path) -> None:
    """Delete the sites that earlier builds replaced (see write_site)."""
    try:
        entries = list(os.scandir(trash))
    except OSError:
        return
    paths = [entry.path for entry in entries]
    if paths and shutil.which("rm"):
        # rm waits on the disk without holding Python's interpreter lock, which the build needs.
        subprocess.run(["rm", "-rf", "--", *paths], capture_output=True, check=False)
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where that cannot be done."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange)
    return bool(result == 0)
