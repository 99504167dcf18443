"""The few front-matter fields that other articles' pages and checks need to know of an
article (its title, audience, condition and declared counterpart), read without the schema,
the model or the body: for the links between pages (publish/neighbours.py) and the
`counterpart-unknown` check.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from reviewflow.content.frontmatter import read_article_bytes
from reviewflow.content.plainyaml import plain_data
from reviewflow.layout import SLUG_PATTERN

AUDIENCE_NAMES = ("patient", "professional")
FIELDS = ("title", "audience", "condition", "counterpart")

# The lines of the four fields: each `key:` line at the left margin and the indented lines
# that continue it (a folded title, say).
_FIELD_LINES = re.compile(r"^(?:title|audience|condition|counterpart):.*(?:\n[ ].*)*", re.MULTILINE)
_BLOCK_SCALAR = re.compile(r"^[a-z]+: *[|>]", re.MULTILINE)
# A line at the left margin that is not a key, a list item or a comment: it could be the rest
# of something above it.
_STRAY = re.compile(r"^(?! |[A-Za-z_][A-Za-z0-9_-]*:(?: |$)|-(?: |$)|#|$)", re.MULTILINE)
_CLOSERS = {'"': '"', "'": "'", "[": "]", "{": "}"}


class Facts(NamedTuple):
    """What other pages need to know of an article's text: from its front-matter."""

    title: str
    audience: str
    condition: str  # with its spaces normalised, as the index groups it
    counterpart: str | None

    @property
    def group(self) -> str:
        return self.condition.casefold()


def read_facts(raw: bytes, max_bytes: int) -> Facts | None:
    """The facts of one article's bytes, or None when its front-matter does not give them (the
    page then cannot be rendered either, and the build says why)."""
    data = _quick_fields(raw, max_bytes)
    if data is None:
        data = read_article_bytes(raw, max_bytes).data
    if not isinstance(data, dict):
        return None
    title, audience, condition, counterpart = (
        data.get(key) for key in ("title", "audience", "condition", "counterpart")
    )
    if not isinstance(title, str) or audience not in AUDIENCE_NAMES or not isinstance(condition, str):
        return None
    if not isinstance(counterpart, str) or not SLUG_PATTERN.match(counterpart):
        counterpart = None
    return Facts(title, audience, " ".join(condition.split()), counterpart)


def _quick_fields(raw: bytes, max_bytes: int) -> dict[str, Any] | None:
    """The four fields from their own lines, read as plain YAML (plainyaml.py), without
    reading the rest of the front-matter (its references, mostly): several times faster, and
    the same values, since in front-matter with no stray line at the margin and nothing left
    open at a line's end, a `key:` line at the margin can only be a top-level key. None when
    unsure: the whole front-matter is read instead."""
    if len(raw) > max_bytes or not raw.startswith(b"---\n"):
        return None
    end = raw.find(b"\n---", 3)
    if end < 0:
        return None
    try:
        source = raw[4 : end + 1].decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\r" in source or "\t" in source or _STRAY.search(source) or _left_open(source):
        return None
    lines = "\n".join(_FIELD_LINES.findall(source)) + "\n"
    if _BLOCK_SCALAR.search(lines):
        return None  # a block scalar may hold blank lines, which the lines above would drop
    return plain_data(lines)


def _left_open(source: str) -> bool:
    """Whether a line's value opens a quoted scalar or a flow collection that it does not
    close on that line (it may go on over the next lines, at the margin too)."""
    for line in source.split("\n"):
        value = line.lstrip(" -")
        key, colon, rest = value.partition(": ")
        if colon and key.replace("_", "a").replace("-", "a").isalnum():
            value = rest.lstrip(" ")
        if value and value[0] in _CLOSERS:
            value = value.rstrip(" ")
            if len(value) < 2 or value[-1] != _CLOSERS[value[0]] or value[-2] == "\\":
                return True
    return False
