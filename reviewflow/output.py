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
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from reviewflow.errors import ConfigError, ExitCode, ReviewflowError
from reviewflow.site import PageInfo

CACHE_DIR = ".reviewflow-cache"  # in the content repo; it ignores itself (see PageCache)
MARKER = ".reviewflow-site"  # in every built site: only a directory with it is ever replaced
FINGERPRINTS_KEPT = 4  # cache generations kept (a public and a preview build, and their previous)


class PublishError(ReviewflowError):
    """The site cannot be built as it is; the published directory was left untouched."""

    exit_code = ExitCode.FINDINGS


# --- the cache -------------------------------------------------------------------------------


@dataclass
class PageCache:
    """Rendered pages of earlier builds, by a hash of everything that went into them.

    One directory per build fingerprint (reviewflow version, templates, config, schema, base
    URL, preview or not); in it one JSON file per page, named by the hash of the page's PageInfo
    (which includes the blob id). Kept in the content repo under .reviewflow-cache/, which
    git ignores through a .gitignore the cache writes itself.
    """

    directory: Path
    fingerprint: str
    used: set[str] = field(default_factory=set)

    @property
    def generation(self) -> Path:
        return self.directory / self.fingerprint[:32]

    def _name(self, info: PageInfo) -> str:
        return hashlib.sha256(f"{self.fingerprint}\0{info.key()}".encode()).hexdigest() + ".json"

    def get(self, info: PageInfo) -> tuple[str, dict[str, Any]] | None:
        name = self._name(info)
        try:
            data = json.loads((self.generation / name).read_bytes())
            html, meta = data["html"], data["meta"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        self.used.add(name)
        return html, meta

    def put(self, info: PageInfo, html: str, meta: dict[str, Any]) -> None:
        try:
            if not self.generation.is_dir():
                self._create()
            name = self._name(info)
            temporary = self.generation / f".{name}.{secrets.token_hex(4)}"
            temporary.write_text(json.dumps({"html": html, "meta": meta}), encoding="utf-8")
            os.replace(temporary, self.generation / name)
            self.used.add(name)
        except OSError:
            pass  # a cache that cannot be written only makes the next build slower

    def _create(self) -> None:
        self.generation.mkdir(parents=True, exist_ok=True)
        top = self.directory.parent
        (top / ".gitignore").write_text(
            "# Created by reviewflow publish: a build cache.\n*\n", encoding="utf-8"
        )
        (top / "CACHEDIR.TAG").write_text(
            "Signature: 8a477f597d28d172789f06886806bc55\n# reviewflow publish cache: safe to delete.\n",
            encoding="utf-8",
        )

    def prune(self) -> None:
        """Drop pages this build did not use, and all but the newest few generations."""
        try:
            if self.generation.is_dir():
                for entry in os.scandir(self.generation):
                    if entry.name not in self.used:
                        os.unlink(entry.path)
                os.utime(self.generation)
            generations = sorted(
                (p for p in self.directory.iterdir() if p.is_dir()),
                key=lambda p: p.stat().st_mtime,
                reverse=True,
            )
            for old in generations[FINGERPRINTS_KEPT:]:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass


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


def write_site(target: Path, files: Mapping[str, str]) -> None:
    """Write FILES into a new directory beside TARGET, then put it in TARGET's place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    try:
        os.chmod(building, 0o755)
        made: set[Path] = {building}
        for relative, text in sorted(files.items()):
            path = building.joinpath(*_safe_parts(relative))
            if path.parent not in made:
                path.parent.mkdir(parents=True, exist_ok=True)
                made.add(path.parent)
            path.write_bytes(text.encode("utf-8"))
        _swap(building, target)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise


def _safe_parts(relative: str) -> Iterable[str]:
    parts = PurePosixPath(relative).parts
    if not parts or relative.startswith("/") or any(p in ("", ".", "..") or "\\" in p for p in parts):
        raise PublishError(f"refusing to write {relative!r}: it would land outside the site")
    return parts


def _swap(building: Path, target: Path) -> None:
    if not target.exists():
        os.rename(building, target)
        return
    retired = target.parent / f".{target.name}.old-{secrets.token_hex(4)}"
    if _exchange(building, target):  # one atomic step: readers see the old site or the new one
        os.rename(building, retired)
    else:  # two renames: for an instant there is no site at all
        os.rename(target, retired)
        try:
            os.rename(building, target)
        except BaseException:
            os.rename(retired, target)
            raise
    shutil.rmtree(retired, ignore_errors=True)


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
