"""The articles of a `reviewflow ci` run: the settings they are checked with, and the check.

The change's articles are checked with HEAD's configuration and schema, each rule at the
stricter of the base's and HEAD's severity, so a change cannot switch off the rule that would
fail it. A reviewflow.toml or schema the change breaks is its finding. For a change to the
configuration, every other article at HEAD is checked again, and the errors the change brings
it (not those it had at the base) are kept; many articles are checked in a process pool. The
retraction list is the base's, from git, together with HEAD's (`ci_retractions`); so is the
reference lockfile (`change_lock`).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

from reviewflow import gitstore
from reviewflow.cache import CACHE_DIR
from reviewflow.checks.readability import warm_up
from reviewflow.checks.reference_identity import judged_with_lock
from reviewflow.checks.retractions import RetractionIndex, load_retractions, parse_retractions, stricter
from reviewflow.checks.rules import Context, check_document
from reviewflow.checks.workspace import internal_error
from reviewflow.ci.config_diff import config_problems, schema_problems, stricter_rules
from reviewflow.config import Config
from reviewflow.configfile import parse_config
from reviewflow.content.article import Document, parse_document, slug_of
from reviewflow.content.schema import ArticleSchema, load_schema
from reviewflow.errors import ConfigError, InvalidFile, Problem
from reviewflow.findings import Finding, Severity
from reviewflow.gitlog import DiffEntry
from reviewflow.gitstore import GitStore
from reviewflow.layout import CONFIG_FILE, SCHEMA_FILE, duplicate_slug_message, is_article_path
from reviewflow.references.lockfile import LOCKFILE, change_lock
from reviewflow.review.model import State

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


@dataclass(frozen=True)
class Settings:
    """What articles are checked with: a configuration, a schema, and the context of the rules."""

    config: Config
    schema: ArticleSchema
    context: Context


def gate_settings(
    store: GitStore,
    files: Mapping[str, bytes | None],
    base: str,
    head: str,
    base_config: Config,
    today: date,
    *,
    config_changed: bool,
    schema_changed: bool,
) -> tuple[Settings | None, list[Finding]]:
    """HEAD's configuration and schema with the stricter of each rule's two severities, and
    the retraction list of the base together with HEAD's (`ci_retractions`).

    A reviewflow.toml, retraction list or schema that is invalid at HEAD is the change's finding
    when the change touched it (None and the findings); when it did not, it was broken before
    the change, which is a ConfigError (exit 2), not this change's fault.
    """
    problems: list[Finding] = []
    config = schema = retractions = None
    retractions_changed = False
    try:
        config = _head_config(files[f"{head}:./{CONFIG_FILE}"])
        lists = _retraction_files(store, base, head, base_config, config)
        retractions_changed = _edits(lists, base, head, config.checks.retractions)
        retractions = ci_retractions(store.root, lists, base, head, base_config, config)
    except ConfigError as exc:
        if not (config_changed or retractions_changed):
            raise
        problems += config_problems(exc)
    try:
        schema = _schema(files[f"{head}:./{SCHEMA_FILE}"], "at HEAD")
    except InvalidFile as exc:
        if not schema_changed:
            raise
        problems += schema_problems(exc)
    if problems or config is None or schema is None:
        return None, problems
    rules = stricter_rules(base_config, config)
    required = config.references is not None  # [references] set: every identifier must be locked
    lock = change_lock(files.get(f"{head}:./{LOCKFILE}"), files.get(f"{base}:./{LOCKFILE}"), required)
    retractions, rules = judged_with_lock(lock, retractions, rules, (base_config, config))
    config = config.model_copy(update={"checks": config.checks.model_copy(update={"rules": rules})})
    return Settings(config, schema, Context(config, today, retractions, lock)), []


def baseline_settings(
    files: Mapping[str, bytes | None], base: str, config: Config, head: Settings
) -> Settings | None:
    """The base's own settings, to tell the errors a change brings from those it found.

    None when the base's schema is unusable: then there is nothing to compare with. The
    base uses HEAD's retraction list (the base's and HEAD's together), if it had one at all.
    """
    try:
        schema = _schema(files[f"{base}:./{SCHEMA_FILE}"], "at the base")
    except ConfigError:
        return None
    if schema.schema == head.schema.schema:
        schema = head.schema  # one parse per article then serves both
    retractions = head.context.retractions if config.checks.retractions else None
    return Settings(config, schema, Context(config, head.context.today, retractions, head.context.references))


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
        jobs = os.cpu_count() or 1
        if (
            jobs == 1
            or len(unchanged) < PARALLEL_THRESHOLD
            or "fork" not in multiprocessing.get_all_start_methods()
        ):
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


def text_of(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")


def _head_config(raw: bytes | None) -> Config:
    if raw is None:
        raise ConfigError(f"{CONFIG_FILE} is not in HEAD's tree: a content repo must keep it in git")
    # No ROOT: the retraction lists come from git at both commits (see ci_retractions).
    return parse_config(raw, f"{CONFIG_FILE} (at HEAD)")


def base_config(text: str | None) -> tuple[Config, str | None]:
    """The base's configuration, or an empty board and the reason there is no usable one.

    A base without a usable reviewflow.toml must not block the change that repairs it, but no
    review event can count against it: with an empty board, none does.
    """
    if text is None:
        return Config(), f"the base has no {CONFIG_FILE}"
    try:
        return parse_config(text, f"{CONFIG_FILE} (at the base)"), None
    except InvalidFile as exc:
        return Config(), f"the base's {CONFIG_FILE} is invalid ({exc.summary()})"


def _schema(raw: bytes | None, where: str) -> ArticleSchema:
    """The schema in git at one side of the change (WHERE), or the bundled one if it has none."""
    return load_schema(raw, f"{SCHEMA_FILE} ({where})")


# --- the retraction list ---------------------------------------------------------------------------
# Judged by the base's list, from git at the base: a change that deletes or edits the entry of the
# retracted paper it cites still fails. HEAD's list counts as well (each paper at the stronger
# notice of the two), so an entry the change adds applies to the change's own articles at once.
# A file git holds at neither commit (one the CI job downloads, say) is read from the work tree,
# as `check` reads it: no change can have edited it.


def _retraction_files(
    store: GitStore, base: str, head: str, base_config: Config, head_config: Config
) -> Mapping[str, bytes | None]:
    """The files both configurations name as retraction lists, at both commits: one
    `cat-file --batch`, and none when neither names one."""
    configured = (base_config.checks.retractions, head_config.checks.retractions)
    paths = sorted({path.as_posix() for path in configured if path is not None})
    names = [f"{rev}:./{path}" for path in paths for rev in (base, head)]
    return gitstore.read_objects(store, names)


def _edits(files: Mapping[str, bytes | None], base: str, head: str, path: Path | None) -> bool:
    """Whether the change edits, adds or deletes the file at PATH."""
    return path is not None and files[f"{base}:./{path.as_posix()}"] != files[f"{head}:./{path.as_posix()}"]


def ci_retractions(
    root: Path,
    files: Mapping[str, bytes | None],
    base: str,
    head: str,
    base_config: Config,
    head_config: Config,
) -> RetractionIndex | None:
    """The retraction list a change is judged by: the base's and HEAD's together.

    The list HEAD's configuration names must be usable (a ConfigError if it is missing or not a
    Retraction Watch CSV); the base's counts when it is usable, and is ignored when it is not.
    """
    at_base, at_head = base_config.checks.retractions, head_config.checks.retractions
    base_list = head_list = None
    if at_base is not None:
        with suppress(ConfigError):  # a list that was unusable at the base cannot judge anything
            base_list = _retraction_list(root, files, (base, head), at_base, at_head=False)
    if at_head is not None:
        if base_list is not None and at_head == at_base and not _edits(files, base, head, at_head):
            head_list = base_list  # the same file: parsed once
        else:
            try:
                head_list = _retraction_list(root, files, (base, head), at_head, at_head=True)
            except ConfigError as exc:
                problem = Problem("checks.retractions", str(exc))
                raise InvalidFile(f"{CONFIG_FILE} (at HEAD)", [problem]) from None
    return stricter(base_list, head_list)


def _retraction_list(
    root: Path, files: Mapping[str, bytes | None], commits: tuple[str, str], path: Path, *, at_head: bool
) -> RetractionIndex:
    """The list at PATH at the base or at HEAD, from git; from the work tree only when git
    holds PATH at neither commit."""
    name = path.as_posix()
    at_base, at_head_raw = (files[f"{rev}:./{name}"] for rev in commits)
    raw, where = (at_head_raw, "at HEAD") if at_head else (at_base, "at the base")
    if raw is not None:
        return parse_retractions(raw, f"{name} ({where})")
    if at_base is not None or at_head_raw is not None:
        change = "removes it from git" if at_head else "adds it to git"
        raise ConfigError(f"{name} is not in the tree {where}: the change {change}")
    if not (root / path).is_file():
        raise ConfigError(f"file not found: {name}")
    return load_retractions(root / path, root)
