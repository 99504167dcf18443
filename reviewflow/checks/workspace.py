"""The content repo on disk: its config, its schema, and its article files.

This is the file-system edge of `check`: it finds and reads files, and hands bytes to the
pure parser and rules.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path

from reviewflow.cache import FindingsCache, file_key, fingerprint
from reviewflow.checks.reference_identity import lock_retractions
from reviewflow.checks.retractions import RetractionIndex, load_retractions, stricter
from reviewflow.checks.rules import Context, check_document, warm_up
from reviewflow.config import Config
from reviewflow.configfile import load_config
from reviewflow.content.article import Document, Reference, parse_document
from reviewflow.content.facts import Facts, read_facts
from reviewflow.content.schema import ArticleSchema, read_schema
from reviewflow.errors import ConfigError
from reviewflow.files import NotRegularFile, read_limited
from reviewflow.findings import Finding, Severity, Tallied
from reviewflow.layout import (
    ARTICLES_DIR,
    article_files_under,
    article_slug,
    duplicate_slug_message,
    find_root,
    work_tree_articles,
    work_tree_listing,
)
from reviewflow.references.lockfile import ReferenceLock, load_lock
from reviewflow.references.lockindex import indexed_lock
from reviewflow.workers import can_fork, fork_map, tapering_chunks, usable_cores


@dataclass
class Report(Tallied):
    """The outcome of checking some articles."""

    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    strict: bool = False  # warnings fail too (`check --strict`)

    def blocking(self) -> list[Finding]:
        """The findings that fail the check: errors, and with --strict warnings too (not those the
        author marked intended, with a reason)."""
        return [
            f for f in self.findings if f.intended is None and (self.strict or f.severity is Severity.ERROR)
        ]

    def summary(self) -> dict[str, int]:
        return {
            "files": self.files,
            "files_with_findings": len({f.path for f in self.findings}),
            "errors": self.errors,
            "warnings": self.warnings,
            "intended": sum(1 for f in self.findings if f.intended is not None),
        }


class Workspace:
    def __init__(self, root: Path, config: Config) -> None:
        self.root = root
        self.config = config  # from config.load_config, which has checked everything in it
        self._facts: dict[str, Facts | None] = {}  # other articles' facts, as rules ask for them

    @classmethod
    def open(cls, start: Path) -> Workspace:
        root = find_root(start)
        return cls(root, load_config(root))

    @cached_property
    def schema(self) -> ArticleSchema:
        return read_schema(self.root)

    @cached_property
    def retractions(self) -> RetractionIndex | None:
        path = self.config.checks.retractions
        return load_retractions(self.root / path, self.root) if path else None

    @cached_property
    def references(self) -> ReferenceLock | None:
        """The reference lockfile, its entries read from the file as they are looked up (a
        check of some articles: the desk's queue, pre-commit's files); an empty one when
        reviewflow.toml has a [references] table and there is no file yet; None: identity is
        not checked."""
        return self._lock(indexed_lock(self.root))

    @cached_property
    def every_reference(self) -> ReferenceLock | None:
        """The reference lockfile parsed whole, once: a check of every article cites nearly
        every entry."""
        return self._lock(load_lock(self.root))

    def _lock(self, lock: ReferenceLock | None) -> ReferenceLock | None:
        if lock is None and self.config.references is not None:
            return ReferenceLock()
        return lock

    @cached_property
    def _work_tree_articles(self) -> dict[str, str]:
        """slug -> its file, listed once, when a rule first asks about another article."""
        return work_tree_articles(self.root)

    @property
    def articles_dir(self) -> Path:
        return self.root / ARTICLES_DIR

    def article_files(self, paths: Sequence[Path] = ()) -> list[Path]:
        """The files to check: the given files and directories, or every articles/*.md.

        Whatever is there is listed, a symbolic link or a FIFO too: `check_files` reads only
        regular files inside the repository, and names anything else in a finding. A linked
        articles/ is listed as itself, not looked into.
        """
        if not paths:
            if os.path.islink(self.articles_dir):
                return [self.articles_dir]
            return _sorted_articles(self.articles_dir) if self.articles_dir.is_dir() else []
        files: list[Path] = []
        for path in paths:
            if path.is_dir() and not path.is_symlink():
                files.extend(_sorted_articles(path))
            elif os.path.lexists(path):
                files.append(path)
            else:
                raise ConfigError(f"{path}: no such file or directory")
        return list(dict.fromkeys(self._located(p) for p in files))

    def _located(self, path: Path) -> Path:
        """PATH made absolute as written, never through the link it may be; only when that is
        not under the root (the root was reached through a linked parent) are its directories
        resolved."""
        absolute = Path(os.path.abspath(path))
        if absolute.is_relative_to(self.root):
            return absolute
        return Path(os.path.realpath(absolute.parent)) / absolute.name

    def relative(self, path: Path) -> str:
        """PATH relative to the repo root, with forward slashes (as it appears in findings)."""
        text = str(path if path.is_absolute() else Path.cwd() / path)
        prefix = str(self.root) + os.sep
        if text.startswith(prefix) and ".." not in path.parts:
            return text[len(prefix) :].replace(os.sep, "/")
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def parse(self, path: str, raw: bytes, size: int | None = None) -> Document:
        return parse_document(path, raw, self.schema, self.config.checks.max_file_bytes, size)

    def context(self, today: date | None = None, every: bool = False) -> Context:
        """What the rules read; EVERY: for a check of every article."""
        lock, retractions = self.every_reference if every else self.references, self.retractions
        if lock is not None:  # its notices count with the Retraction Watch list's
            retractions = stricter(lock_retractions(lock), retractions)
        return Context(self.config, today or date.today(), retractions, lock, self.article_facts)

    def article_facts(self, slug: str) -> Facts | None:
        """The front-matter facts of the article SLUG in the working tree, in articles/ or a
        subdirectory of it (read once per process)."""
        if slug not in self._facts:
            found = None
            relative = self._work_tree_articles.get(slug)
            if relative is not None:
                try:
                    path = self.root / relative
                    raw, _ = read_limited(self.root, path, self.config.checks.max_file_bytes)
                    found = read_facts(raw, self.config.checks.max_file_bytes)
                except OSError:
                    found = None
            self._facts[slug] = found
        return self._facts[slug]

    def check(
        self,
        files: Iterable[Path],
        today: date | None = None,
        jobs: int | None = None,
        use_cache: bool = False,
        advance: Callable[[int], None] | None = None,
        every: bool = False,
    ) -> Report:
        """Check FILES (EVERY: every article). With USE_CACHE, files unchanged since the last run
        keep their findings without being parsed; large sets are split over a process pool, one
        chunk per task. ADVANCE, if given, is told how many more files are done (for a progress
        bar)."""
        files = list(files)
        context = self.context(today, every)
        cache = self.findings_cache(context) if use_cache else None
        jobs = jobs or usable_cores()
        if not can_fork(jobs, len(files), PARALLEL_THRESHOLD):
            results = self.check_files(files, context, cache, advance)
        else:
            warm_up(context.config.checks)  # load shared data once, before the workers fork and inherit it
            # Chunks of at most CHUNK_FILES (few enough that sending them costs nothing), ever
            # smaller towards the end: equal ones left one worker idle for most of a chunk.
            chunks = tapering_chunks(files, jobs, 16, CHUNK_FILES)
            results = []
            for chunk in fork_map(_check_chunk, (self, context, cache), chunks, jobs):
                results.extend(chunk)
                if advance is not None:
                    advance(len(chunk))
        if cache is not None:
            for key, findings, fresh in results:
                if key is not None and fresh:
                    cache.put(key, findings)
            cache.save({key for key, _, _ in results if key is not None})
        findings = [f for _, findings, _ in results for f in findings]
        return Report(findings + self.duplicate_slugs(files), len(files))

    def duplicate_slugs(self, files: Iterable[Path]) -> list[Finding]:
        """A finding on each article file whose slug another one under articles/ has too (the
        whole directory is listed for that, whichever FILES are checked)."""
        files = list(files)
        if not any(article_slug(self.relative(path)) for path in files):
            return []
        shared = [(slug, paths) for slug, paths in work_tree_listing(self.root).items() if len(paths) > 1]
        if not shared:
            return []  # the common case, known without placing every file checked
        checked = {self.relative(path) for path in files}
        return [
            Finding.error("slug-duplicate", path, 1, 1, duplicate_slug_message(slug, paths))
            for slug, paths in shared
            for path in paths
            if path in checked
        ]

    def references_of(self, files: Iterable[Path]) -> list[Reference]:
        """The references of FILES, each parsed once; a file that does not parse has none here
        (`check` reports why)."""
        found: list[Reference] = []
        for path in files:
            try:
                raw, size = read_limited(self.root, path, self.config.checks.max_file_bytes)
            except OSError:
                continue
            article = self.parse(self.relative(path), raw, size).article
            if article is not None:
                found += article.references
        return found

    def findings_cache(self, context: Context) -> FindingsCache:
        retractions = self.config.checks.retractions
        stamp = fingerprint(
            self.config.model_dump_json(),
            self.schema.schema,
            self.root / retractions if retractions else None,
            context.today,
            extra=context.references.digest if context.references is not None else "",
        )
        return FindingsCache.load(self.root, stamp)

    def check_files(
        self,
        files: Iterable[Path],
        context: Context,
        cache: FindingsCache | None = None,
        advance: Callable[[int], None] | None = None,
    ) -> list[Checked]:
        results: list[Checked] = []
        for path in files:
            if advance is not None:
                advance(1)
            try:
                results.append(self._check_file(path, context, cache))
            except Exception as exc:  # noqa: BLE001 - one file's failure never stops the run
                results.append((None, [internal_error(self.relative(path), exc)], False))
        return results

    def _check_file(self, path: Path, context: Context, cache: FindingsCache | None) -> Checked:
        relative = self.relative(path)
        try:
            raw, size = read_limited(self.root, path, self.config.checks.max_file_bytes)
        except OSError as exc:  # NotRegularFile too: a link, a FIFO, a directory, ...
            why = "not read" if isinstance(exc, NotRegularFile) else "cannot read"
            return None, [Finding.error("file-unreadable", relative, 1, 1, f"{why}: {exc.strerror}")], True
        if size > self.config.checks.max_file_bytes:  # its finding names its size: not cached
            return None, check_document(self.parse(relative, raw, size), context), True
        key = file_key(relative, raw) if cache is not None else None
        cached = cache.get(key, relative) if cache is not None and key is not None else None
        if cached is not None:
            return key, cached, False
        document = self.parse(relative, raw)
        if document.article is not None and document.article.counterpart is not None:
            key = None  # judged against another file too: never kept, so always judged afresh
        return key, check_document(document, context), True


def internal_error(path: str, exc: Exception) -> Finding:
    """The finding for a bug met while checking the file at PATH: the other files are still
    checked, and the message says where in reviewflow it happened, for a bug report."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [frame for frame in frames if f"{os.sep}reviewflow{os.sep}" in frame.filename] or frames
    where = ""
    if ours:
        package_path = ours[-1].filename.rsplit(f"{os.sep}reviewflow{os.sep}", 1)[-1]
        where = f" at reviewflow/{package_path.replace(os.sep, '/')}:{ours[-1].lineno}"
    detail = str(exc).splitlines()[0] if str(exc).strip() else ""
    return Finding.error(
        "internal-error",
        path,
        1,
        1,
        f"reviewflow could not check this file: {type(exc).__name__}{': ' if detail else ''}{detail}"
        f"{where}; this is a bug in reviewflow, please report it",
    )


# Below this many files a process pool costs more to start than it saves.
PARALLEL_THRESHOLD = 200
CHUNK_FILES = 250
# One file's outcome: its cache key (None when unreadable), its findings, and whether they
# were just computed (and so belong in the cache).
Checked = tuple[str | None, list[Finding], bool]


def _check_chunk(shared: tuple[Workspace, Context, FindingsCache | None], files: list[Path]) -> list[Checked]:
    workspace, context, cache = shared
    return workspace.check_files(files, context, cache)


def _sorted_articles(directory: Path) -> list[Path]:
    """Every *.md in DIRECTORY and its subdirectories, in name order (sorted by their text:
    comparing Path objects costs 0.1 s for 10,000 files). A linked subdirectory is not looked
    into: like git, reviewflow follows no link the repository brings."""
    return sorted(article_files_under(directory), key=str)
