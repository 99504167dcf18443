"""libyaml's safe loader with plain scalars resolved by the YAML 1.2 core schema (yamlcore.py).

A module of its own, not compiled: it patches the resolver onto a subclass of PyYAML's loader
class, which mypyc cannot compile (frontmatter.py, which uses it, is compiled).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from reviewflow.content import yamlcore

_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


class Loader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """Safe loader whose plain scalars resolve by the YAML 1.2 core schema (yamlcore.py)."""


_PLAIN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9 ,'()/-]*")  # can only resolve to a string
_NOT_TEXT = frozenset(("true", "True", "TRUE", "false", "False", "FALSE", "null", "Null", "NULL"))


def _resolve(self: Any, kind: Any, value: Any, implicit: Any) -> str:
    # Called by libyaml for every node (a hot path), so the common answers come first.
    # A quoted (or "!"-tagged) scalar is text whatever it says, as in PyYAML's resolver
    # (this loader has no path resolvers). Most plain values are words, which are text.
    if kind is yaml.ScalarNode:
        if not implicit[0]:
            return yamlcore.STR
        if _PLAIN_TEXT.fullmatch(value) and value not in _NOT_TEXT:
            return yamlcore.STR
        return yamlcore.tag_of(value)
    return _SEQ if kind is yaml.SequenceNode else _MAP


Loader.resolve = _resolve  # type: ignore[method-assign]
