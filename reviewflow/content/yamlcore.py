"""The YAML 1.2 core schema: what a plain scalar in front-matter is, and its value.

PyYAML resolves scalars by YAML 1.1, where `010` is 8, `3:1` is 181, `yes` is true and
`2024-01-05` is a date: values the author never wrote, which a message would then quote back.
Front-matter is read by the core schema of YAML 1.2 (section 10.3.2 of the 1.2.2
specification) on every path instead: integers are decimal (`010` is 10), or `0o` octal or `0x`
hexadecimal; no sexagesimal numbers, no timestamps; booleans are only true/True/TRUE and
false/False/FALSE; null is empty, `~` or null/Null/NULL; `.inf` and `.nan` are floats.
Everything else is text.
"""

from __future__ import annotations

import math
import re
from typing import Any

from reviewflow.errors import number_too_long

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"

_CORE = re.compile(
    r"""(?P<null>~|null|Null|NULL|)
      | (?P<bool>true|True|TRUE|false|False|FALSE)
      | (?P<int>[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)
      | (?P<float>[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
                  |[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))""",
    re.VERBOSE,
)
_TAGS = {"null": NULL, "bool": BOOL, "int": INT, "float": FLOAT}
_NAMES = {NULL: "null", BOOL: "boolean", INT: "integer", FLOAT: "number"}


def tag_of(plain: str) -> str:
    """The tag of an untagged plain scalar whose text is PLAIN."""
    match = _CORE.fullmatch(plain)
    return _TAGS[match.lastgroup] if match and match.lastgroup else STR


def value_of(tag: str, text: str) -> Any:
    """The value of a scalar of TAG written as TEXT (TAG implicit, or written as `!!int` and
    the like). ValueError when TEXT is not of that form in the core schema."""
    match = _CORE.fullmatch(text)
    kind = match.lastgroup if match else None
    if tag == INT and kind == "int":
        return _integer(text)
    if tag == FLOAT and kind in ("int", "float"):
        return _integer(text) if kind == "int" and text[:2] in ("0o", "0x") else _float(text)
    if tag == BOOL and kind == "bool":
        return text[0] in "tT"
    if tag == NULL and kind == "null":
        return None
    raise ValueError(f"{text!r} is not a YAML 1.2 {_NAMES.get(tag, tag)}")


class NumberTooLong(ValueError):
    """A decimal integer of more digits than `int()` converts (`sys.get_int_max_str_digits()`)."""


def decimal(text: str) -> int:
    """The value of TEXT, a decimal integer (a sign, then digits); NumberTooLong past the limit."""
    try:
        return int(text, 10)  # leading zeros are decimal: `010` is ten
    except ValueError:
        raise NumberTooLong(number_too_long(len(text.lstrip("+-")))) from None


def _integer(text: str) -> int:
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return decimal(text)


def _float(text: str) -> float:
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return -math.inf if lowered[0] == "-" else math.inf
    if lowered == ".nan":
        return math.nan
    return float(text)
