"""The lockfile's format: the schema every lockfile is checked against when it is read, and,
for one that fails it, which entry and what is wrong, with its line.

The Rust validator checks 80,000 entries in milliseconds; only a rejected file is gone through
in Python, field by field, for a message that names the line.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from typing import Any

import jsonschema_rs

VERSION = 1


def problem(data: Any, text: str) -> str:
    """Where and what is wrong in lockfile DATA (its TEXT), once the fast check has said so."""
    if not isinstance(data, dict) or not isinstance(data.get("works"), dict):
        return '1: not a reference lockfile: expected an object with "works"'
    if data.get("version") != VERSION:
        return f"1: lockfile version {data.get('version')!r} is not {VERSION}"
    for key, entry in data["works"].items():
        try:
            _check_entry(key, entry)
        except (TypeError, ValueError, KeyError) as exc:
            return f"{_line_of(text, key)}: entry {key!r}: {exc}"
    return "1: not in the reference lockfile format"


TEXTS = ("title", "journal", "journal_abbreviation", "first_author", "doi", "pmid", "pmcid", "note")


def _check_entry(key: str, entry: Any) -> None:
    """An entry checked field by field: what explains a lockfile LOCK_SCHEMA rejects."""
    if not _KEY.match(key):
        raise ValueError("a key is doi:<lowercase DOI>, pmid:<digits> or pmcid:PMC<digits>")
    if not isinstance(entry, Mapping):
        raise TypeError("an entry is an object")
    unknown = set(entry) - _FIELDS
    if unknown:
        raise ValueError(f"unknown field {sorted(unknown)[0]!r}")
    for name in ("source", "checked_on"):
        if not isinstance(entry.get(name), str):
            raise ValueError(f"{name!r} must be text")
    for name in TEXTS:
        _text(entry, name)
    year = entry.get("year")
    if year is not None and (type(year) is not int or not 1000 <= year <= 3000):
        raise ValueError("'year' must be a whole number")
    if not isinstance(entry.get("found", True), bool):
        raise ValueError("'found' must be true or false")
    for name in ("issn", "publication_types"):
        _texts(entry, name)
    for notice in _list(entry, "notices"):
        _notice(notice)


_FIELDS = {
    "source",
    "checked_on",
    "found",
    "title",
    "journal",
    "journal_abbreviation",
    "issn",
    "year",
    "first_author",
    "publication_types",
    "notices",
    "doi",
    "pmid",
    "pmcid",
    "note",
}


def _text(entry: Mapping[str, Any], name: str) -> str | None:
    value = entry.get(name)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{name!r} must be text")
    return value


def _list(entry: Mapping[str, Any], name: str) -> list[Any]:
    value = entry.get(name, [])
    if not isinstance(value, list):
        raise ValueError(f"{name!r} must be a list")
    return value


def _texts(entry: Mapping[str, Any], name: str) -> tuple[str, ...]:
    values = _list(entry, name)
    if not all(isinstance(v, str) for v in values):
        raise ValueError(f"{name!r} must be a list of text")
    return tuple(values)


def _notice(value: Any) -> None:
    if not isinstance(value, Mapping) or not isinstance(value.get("type"), str):
        raise ValueError("a notice is an object with a 'type'")
    unknown = set(value) - {"type", "doi", "pmid", "date"}
    if unknown:
        raise ValueError(f"unknown notice field {sorted(unknown)[0]!r}")
    for name in ("doi", "pmid", "date"):
        _text(value, name)


def _line_of(text: str, key: str) -> int:
    """The line of the entry KEY in the lockfile's TEXT (1 when it cannot be found)."""
    at = text.find(json.dumps(key, ensure_ascii=False) + ":")
    return text.count("\n", 0, at) + 1 if at >= 0 else 1


_TEXT = {"type": "string"}
_TEXT_LIST = {"type": "array", "items": _TEXT}
_KEY = re.compile(r"^(doi:10\.[^A-Z\s]+|pmid:[1-9][0-9]*|pmcid:PMC[0-9]+)$")
# The lockfile's shape, checked by the Rust validator in milliseconds for 80,000 entries; only a
# file it rejects is gone through in Python (`_work`), for the line and the words of the problem.
LOCK_SCHEMA = {
    "type": "object",
    "required": ["version", "works"],
    "properties": {
        "version": {"const": VERSION},
        "works": {
            "type": "object",
            "propertyNames": {"pattern": _KEY.pattern},
            "additionalProperties": {
                "type": "object",
                "required": ["source", "checked_on"],
                "additionalProperties": False,
                "properties": {
                    **dict.fromkeys(("source", "checked_on", *TEXTS), _TEXT),
                    "found": {"type": "boolean"},
                    "year": {"type": "integer", "minimum": 1000, "maximum": 3000},
                    "issn": _TEXT_LIST,
                    "publication_types": _TEXT_LIST,
                    "notices": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["type"],
                            "additionalProperties": False,
                            "properties": dict.fromkeys(("type", "doi", "pmid", "date"), _TEXT),
                        },
                    },
                },
            },
        },
    },
}


@functools.cache
def validator() -> Any:
    return jsonschema_rs.validator_for(LOCK_SCHEMA)
