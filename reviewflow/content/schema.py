"""The article front-matter schema (JSON Schema 2020-12), compiled once and reused.

The content repo's `schemas/article.schema.json` wins over the bundled copy, so a publisher's
extensions (extra required fields, stricter patterns) are honoured by every command. Its
`$ref`s must resolve inside the file itself (or to the JSON Schema meta-schemas, which ship
with jsonschema): nothing is ever fetched over the network or read from another file, and a
reference that does not resolve is a configuration error when the schema is loaded.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

from reviewflow.configfile import decoded
from reviewflow.errors import OVER_LIMITS, InvalidFile, Problem, over_limits
from reviewflow.files import read_regular
from reviewflow.layout import SCHEMA_FILE

# (path to the offending value, offending key within it or None, message)
SchemaError_ = tuple[tuple[str | int, ...], str | None, str]


def bundled_schema_text() -> str:
    return resources.files("reviewflow").joinpath("data/article.schema.json").read_text("utf-8")


class ArticleSchema:
    """The schema, checked when loaded; documents are validated by jsonschema-rs, and the
    Python jsonschema package (0.16 s to import) is loaded only to explain a rejection, or
    to check a schema the fast path has doubts about."""

    def __init__(self, schema: dict[str, Any], source: str = SCHEMA_FILE) -> None:
        self.source = source
        self.schema = schema
        # The Rust validator answers "valid?" about 100x faster; the Python one, which writes
        # the better messages, only runs for the documents it rejects. Formats are checked by
        # the fast one too, so it is never more lenient than the slow one.
        try:
            self._fast: Any = jsonschema_rs.validator_for(schema, validate_formats=True, offline=True)
        except Exception:  # noqa: BLE001 - a schema feature it lacks, or a $ref: see below
            self._fast = None
        if self._fast is None or not jsonschema_rs.meta.is_valid(schema) or not _only_local_refs(schema):
            self._check_with_jsonschema()

    def _check_with_jsonschema(self) -> None:
        """The full check of the schema: valid against the meta-schema, and every $ref
        resolvable offline, within the file or to a bundled meta-schema. Every problem is
        reported, in one InvalidFile."""
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import best_match
        from jsonschema_specifications import REGISTRY as META_SCHEMAS
        from referencing.jsonschema import DRAFT202012

        meta = Draft202012Validator(
            Draft202012Validator.META_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER
        )
        problems = [
            Problem(_field_name(tuple(error.absolute_path)), f"not a valid JSON Schema: {error.message}")
            for error in (best_match(e.context) if e.context else e for e in meta.iter_errors(self.schema))
        ]
        if not problems:  # a resolver needs a schema it can read
            root = META_SCHEMAS.resolver_with_root(DRAFT202012.create_resource(self.schema))
            problems += (
                Problem(
                    "",
                    f"$ref {ref!r} cannot be resolved: reviewflow fetches nothing over the network "
                    "and reads no other schema file; define it under $defs in this file",
                )
                for ref in dict.fromkeys(_unresolvable_refs(self.schema, root))  # each once
            )
        if problems:
            raise InvalidFile(self.source, problems)

    @cached_property
    def _validator(self) -> Draft202012Validator:
        from jsonschema import Draft202012Validator
        from referencing import Registry

        # An empty registry: jsonschema's default would download a remote $ref.
        return Draft202012Validator(
            self.schema, registry=Registry(), format_checker=Draft202012Validator.FORMAT_CHECKER
        )

    def errors(self, data: dict[str, Any]) -> list[SchemaError_]:
        if self._fast is not None and self._fast.is_valid(data):
            return []
        from jsonschema.exceptions import best_match

        explained = [
            _explain(best_match(error.context) if error.context else error)
            for error in self._validator.iter_errors(data)
        ]
        # A review-state key is also an unknown key: say only the more useful of the two.
        state_keys = {(path, key) for path, key, message in explained if message.startswith("field ")}
        return [
            (path, key, message)
            for path, key, message in explained
            if not (message.startswith("unknown field") and (path, key) in state_keys)
        ]


def load_schema(raw: str | bytes | None, source: str = SCHEMA_FILE) -> ArticleSchema:
    """The one reader of an article schema, wherever its text comes from: the work tree
    (`check`), HEAD (`publish`) or either side of a change (`ci`). None (no schema file there)
    is the bundled default. Every problem is reported in one InvalidFile."""
    if raw is None:
        return bundled_schema()
    try:
        data = json.loads(decoded(raw, source))
    except json.JSONDecodeError as exc:
        raise InvalidFile(source, [Problem("", f"invalid JSON: {exc.msg}", exc.lineno, exc.colno)]) from None
    except OVER_LIMITS as exc:
        raise InvalidFile(source, [over_limits(exc, decoded(raw, source))]) from None
    try:
        return ArticleSchema(data, source)
    except RecursionError as exc:  # read, but too deep for the check of a schema (jsonschema's)
        raise InvalidFile(source, [over_limits(exc, "")]) from None


def read_schema(root: Path) -> ArticleSchema:
    """The schema the work tree at ROOT holds, else the bundled default (`load_schema`)."""
    path = root / SCHEMA_FILE
    if not os.path.lexists(path):
        return bundled_schema()
    try:
        raw = read_regular(root, path)  # no link, no FIFO: files.py
    except OSError as exc:
        raise InvalidFile(SCHEMA_FILE, [Problem("", f"cannot be read: {exc}")]) from None
    return load_schema(raw, SCHEMA_FILE)


@cache
def bundled_schema() -> ArticleSchema:
    """The default schema reviewflow ships, for a repository without its own; compiled once."""
    return ArticleSchema(json.loads(bundled_schema_text()), "bundled article.schema.json")


# Keywords whose values are data, not subschemas: a "$ref" key in them is not a reference.
_DATA_KEYWORDS = frozenset({"const", "default", "enum", "examples"})


def _only_local_refs(node: Any) -> bool:
    """Whether every `$ref` / `$dynamicRef` under NODE points inside the file ("#...") and no
    `$id` changes the base they resolve against (jsonschema-rs then resolved them all)."""
    if isinstance(node, list):
        return all(_only_local_refs(item) for item in node)
    if not isinstance(node, dict):
        return True
    for keyword in ("$ref", "$dynamicRef"):
        ref = node.get(keyword)
        if isinstance(ref, str) and not ref.startswith("#"):
            return False
    if isinstance(node.get("$id"), str):
        return False
    return all(_only_local_refs(value) for key, value in node.items() if key not in _DATA_KEYWORDS)


def _unresolvable_refs(node: Any, resolver: Any) -> Iterator[str]:
    """Every `$ref` / `$dynamicRef` under NODE that RESOLVER cannot resolve."""
    from referencing.exceptions import Unresolvable

    if isinstance(node, list):
        for item in node:
            yield from _unresolvable_refs(item, resolver)
        return
    if not isinstance(node, dict):
        return
    if isinstance(node.get("$id"), str):
        from referencing.jsonschema import DRAFT202012

        resolver = resolver.in_subresource(DRAFT202012.create_resource(node))
    for keyword in ("$ref", "$dynamicRef"):
        ref = node.get(keyword)
        if isinstance(ref, str):
            try:
                resolver.lookup(ref)
            except Unresolvable:
                yield ref
    for key, value in node.items():
        if key not in _DATA_KEYWORDS:
            yield from _unresolvable_refs(value, resolver)


def _explain(error: ValidationError) -> SchemaError_:
    path = tuple(error.absolute_path)
    where = _field_name(path)
    kind = error.validator
    if kind == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else error.message
        return path, None, f"missing required field {_field_name((*path, missing))!r}"
    if kind in ("additionalProperties", "unevaluatedProperties") and isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in known) or [""]
        return path, extra[0], f"unknown field {_field_name((*path, extra[0]))!r}"
    if kind == "not" and error.schema_path and "propertyNames" in error.schema_path:
        return (
            path,
            str(error.instance),
            (
                f"field {error.instance!r} is not allowed: review state lives in git history, "
                "never in the article (see `reviewflow status`)"
            ),
        )
    if kind == "type" and error.validator_value == "string" and not isinstance(error.instance, str):
        return path, None, f"{where}: {_kind_of(error.instance)} must be text (put it in quotes)"
    described = error.schema.get("description") if isinstance(error.schema, dict) else None
    if kind == "pattern" and described:
        return path, None, f"{where}: {error.instance!r} is not {described}"
    return path, None, f"{where}: {error.message}" if where else error.message


def _field_name(path: tuple[Any, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _kind_of(value: Any) -> str:
    """What a non-text front-matter value is, in words: never its Python form, which the author
    did not write (`TRUE` would show as True, `0x1F` as 31, an empty item as None)."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    return "a list" if isinstance(value, list) else "a mapping"
