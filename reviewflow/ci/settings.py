"""What a `reviewflow ci` change is judged by: HEAD's configuration and schema, each rule at the
stricter of the base's and HEAD's severity, the retraction list of both sides, and the reference
lockfile of both (`change_lock`); and the base's own settings, to tell the errors a change brings
from those the base already had.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from reviewflow import gitstore
from reviewflow.checks.reference_identity import judged_with_lock
from reviewflow.checks.retractions import RetractionIndex, load_retractions, parse_retractions, stricter
from reviewflow.checks.rules import Context
from reviewflow.ci.config_diff import config_problems, schema_problems, stricter_rules
from reviewflow.config import Config
from reviewflow.configfile import parse_config
from reviewflow.content.schema import ArticleSchema, load_schema
from reviewflow.errors import ConfigError, InvalidFile, Problem
from reviewflow.findings import Finding
from reviewflow.gitstore import GitStore
from reviewflow.layout import CONFIG_FILE, SCHEMA_FILE
from reviewflow.references.lockfile import LOCKFILE, change_lock


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
