"""The articles of a `reviewflow ci` run and their check, with the settings of ci/settings.py.

The change's articles are checked with HEAD's configuration and schema, each rule at the
stricter of the base's and HEAD's severity, so a change cannot switch off the rule that would
fail it. For a change to the configuration, every other article at HEAD is checked again, and
the errors the change brings it (not those it had at the base) are kept; many articles are
checked in a process pool. Files a change must not bring (a planted cache, an article that is
not a regular file, a slug another file has) are its findings too.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

from reviewflow.cache import CACHE_DIR
from reviewflow.checks.readability import warm_up
from reviewflow.checks.rules import check_document
from reviewflow.checks.workspace import internal_error
from reviewflow.ci.settings import Settings
from reviewflow.config import Config
from reviewflow.content.article import Document, parse_document, slug_of
from reviewflow.content.schema import ArticleSchema
from reviewflow.findings import Finding, Severity
from reviewflow.gitlog import DiffEntry
from reviewflow.gitstore import GitStore
from reviewflow.layout import duplicate_slug_message, is_article_path
from reviewflow.review.model import State
from reviewflow.workers import can_fork, usable_cores

# Files a change must not bring: reviewflow's own cache (a planted one could hold links where
# reviewflow keeps its files), and an article that is not a regular file (a link's target is
# never read as an article).
PLANTED_FILE = "planted-file"
SLUG_DUPLICATE = "slug-duplicate"  # the rule `check` names the same problem with
_REGULAR_MODES = ("100644", "100755")

# "unchanged": an article the change does not touch, checked again because the change edits
# reviewflow.toml or the schema, which every article is judged by.
ChangeKind = Literal["added", "modified", "renamed", "deleted", "unchanged"]


@dataclass(frozen=True)
class ArticleChange:
    """One article file the gate checks: one the change touches, or an unchanged one that a
    configuration change has checked again."""

    path: str
    change: ChangeKind
    previous_path: str | None = None  # for a rename
    blob: str | None = None  # the content at HEAD; None for a deletion

    @property
    def slug(self) -> str:
        return slug_of(self.path)


@dataclass
class ArticleResult:
    change: ArticleChange
    findings: list[Finding] = field(default_factory=list)
    state: State | None = None  # the review state at HEAD, when it was asked for
    not_checked: str | None = None  # why the rules could not run on it, if they could not

    @property
    def path(self) -> str:
        return self.change.path


def planted_files(entries: Iterable[DiffEntry]) -> list[Finding]:
    """An error for each file the change adds or modifies under .reviewflow-cache/, and for
    each article it makes something other than a regular file (a symbolic link, a submodule)."""
    findings = []
    for entry in entries:
        if entry.new_blob is None:
            continue  # deleted: removing a planted file is welcome
        if entry.path == CACHE_DIR or entry.path.startswith(f"{CACHE_DIR}/"):
            message = (
                f"{CACHE_DIR}/ is reviewflow's local cache and never belongs in git: remove it from "
                f"the change (`git rm -r --cached {CACHE_DIR}`)"
            )
            findings.append(Finding.error(PLANTED_FILE, entry.path, 1, 1, message))
        elif is_article_path(entry.path) and entry.new_mode not in _REGULAR_MODES:
            link = entry.new_mode == "120000"
            what = "a symbolic link" if link else f"not a regular file (mode {entry.new_mode})"
            message = f"is {what} in git: an article must be a regular file; its target is never read"
            findings.append(Finding.error(PLANTED_FILE, entry.path, 1, 1, message))
    return findings


def duplicate_slugs(store: GitStore, head: str, changes: Sequence[ArticleChange]) -> list[Finding]:
    """An error on each article file the change adds or moves whose slug another file under
    articles/ has at HEAD: a slug names one article (one `ls-tree`, only for such a change)."""
    touched = {change.path for change in changes if change.change in ("added", "renamed")}
    if not touched:
        return []
    _, duplicates = store.article_listing(head)
    return [
        Finding.error(SLUG_DUPLICATE, path, 1, 1, duplicate_slug_message(slug, paths))
        for slug, paths in sorted(duplicates.items())
        for path in paths
        if path in touched
    ]


def check_articles(
    changes: Sequence[ArticleChange], blobs: Mapping[str, bytes | None], settings: Settings
) -> list[ArticleResult]:
    """Every check rule on the content of each changed article at HEAD."""
    results = []
    for change in changes:
        raw = blobs.get(change.blob) if change.blob else None
        if raw is None:
            findings = [_unreadable(change)]
        else:
            try:
                document = _parse(change.path, raw, settings.config, settings.schema)
                findings = check_document(document, settings.context)
            except Exception as exc:  # noqa: BLE001 - one article's failure never stops the gate
                findings = [internal_error(change.path, exc)]
        results.append(ArticleResult(change, sorted(findings, key=Finding.sort_key)))
    return results


def new_errors(change: ArticleChange, raw: bytes, head: Settings, base: Settings, what: str) -> list[Finding]:
    """The errors an unchanged article has with HEAD's settings and did not have at the base.

    An error the article already had is the base's, not the change's: a repository with old
    problems can still change its configuration. Errors are matched by rule and position,
    since their messages may name configuration values. The article is parsed once, twice
    only when the schema (or the size limit) differs.
    """
    try:
        document = _parse(change.path, raw, head.config, head.schema)
        errors = [f for f in check_document(document, head.context) if f.severity is Severity.ERROR]
        if not errors:
            return []
        if (
            base.schema is not head.schema
            or base.config.checks.max_file_bytes != head.config.checks.max_file_bytes
        ):
            document = _parse(change.path, raw, base.config, base.schema)
        before = {
            (f.rule, f.line, f.column)
            for f in check_document(document, base.context)
            if f.severity is Severity.ERROR
        }
    except Exception as exc:  # noqa: BLE001 - one article's failure never stops the gate
        return [internal_error(change.path, exc)]
    note = f" (unchanged article: it fails with this change's {what})"
    return [
        f.model_copy(update={"message": f.message + note})
        for f in errors
        if (f.rule, f.line, f.column) not in before
    ]


def recheck_unchanged(
    store: GitStore, head: str, touched: set[str], settings: Settings, baseline: Settings, what: str
) -> tuple[int, list[ArticleResult]]:
    """Check every article the change does not touch again, for a configuration change.

    Returns how many were checked and those with errors the change brings. One `ls-tree` and
    one `cat-file --batch`; many articles are checked in a process pool, as `check` does.
    """
    unchanged = [
        ArticleChange(path, "unchanged", blob=blob)
        for path, blob in sorted(store.article_files(head).values())
        if path not in touched
    ]
    contents = store.read_blobs(a.blob for a in unchanged if a.blob)
    global _forked
    _forked = (contents, settings, baseline, what)
    try:
        jobs = usable_cores()
        if not can_fork(jobs, len(unchanged), PARALLEL_THRESHOLD):
            found = _recheck(unchanged)
        else:
            warm_up()  # load shared data once, before the workers fork and inherit it
            size = max(16, -(-len(unchanged) // (jobs * 4)))
            chunks = [unchanged[i : i + size] for i in range(0, len(unchanged), size)]
            with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
                found = [result for chunk in pool.map(_recheck, chunks) for result in chunk]
    finally:
        _forked = None
    return len(unchanged), [result for result in found if result.findings]


# Below this many articles a process pool costs more to start than it saves (as for `check`).
PARALLEL_THRESHOLD = 200
# What the forked workers of recheck_unchanged inherit instead of receiving: the contents of
# the articles, HEAD's and the base's settings, and what changed.
_forked: tuple[Mapping[str, bytes], Settings, Settings, str] | None = None


def _recheck(changes: list[ArticleChange]) -> list[ArticleResult]:
    assert _forked is not None, "set by recheck_unchanged"
    contents, settings, baseline, what = _forked
    results = []
    for change in changes:
        raw = contents.get(change.blob) if change.blob else None
        if raw is None:
            results.append(ArticleResult(change, [_unreadable(change)]))
        else:
            results.append(ArticleResult(change, new_errors(change, raw, settings, baseline, what)))
    return results


def _parse(path: str, raw: bytes, config: Config, schema: ArticleSchema) -> Document:
    limit = config.checks.max_file_bytes
    return parse_document(path, raw[: limit + 1], schema, limit, len(raw))


def _unreadable(change: ArticleChange) -> Finding:
    return Finding.error("file-unreadable", change.path, 1, 1, "its content at HEAD cannot be read from git")
