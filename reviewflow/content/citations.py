"""Citation markers as authors write them, and what they cite.

A marker is a bracket that starts with a digit and holds no letters: `[1]`, `[1, 2]`, `[3-5]`,
`[3–5]` (`[3&ndash;5]` once the parser has decoded it), `[1, 3-5]`. Adjacent markers pasted
from encyclopaedias, `[2][3]`, are two markers. A bracket of that shape that is not a list of
ids and ranges (`[1, @21@]`, `[1,,2]`, `[1;2]`) is still a marker, with a problem that
`citation-malformed` reports at its column: a citation is never silently taken for prose.

Where markers are (in text, not in links, code or escaped brackets) is the Markdown parser's
business: see `reviewflow.content.markdown`.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# A digit first, then no letters, brackets or line breaks; at most 40 characters inside, so
# that a bracketed number table is not read as one marker.
MARKER = re.compile(r"\[(\d[^\[\]\nA-Za-z]{0,39})\]")
MAX_RANGE = 100  # a range wider than this is a typo, and expanding it would cost memory

_IDS = re.compile(r"\s*\d+(?:\s*[-–—]\s*\d+)?\s*(?:,\s*\d+(?:\s*[-–—]\s*\d+)?\s*)*")
_RANGE = re.compile(r"\s*[-–—]\s*")


class Citation(NamedTuple):
    offset: int  # in Prose.text; Prose.locate gives the line and column when one is reported
    text: str
    ids: tuple[int, ...]
    problem: str | None = None


def expand(inner: str) -> tuple[tuple[int, ...], str | None]:
    """The ids a marker's inside ("1, 3-5") cites, or no ids and the problem that stops it."""
    if inner.isdigit():
        return (int(inner),), None
    if _IDS.fullmatch(inner) is None:
        return (), "is not a list of reference ids; write it as [1, 2] or [3-5]"
    ids: list[int] = []
    for part in inner.split(","):
        bounds = [int(bound) for bound in _RANGE.split(part.strip())]
        low, high = bounds[0], bounds[-1]
        if high < low:
            return (), f"range {part.strip()} runs backwards"
        if high - low > MAX_RANGE:
            return (), f"range {part.strip()} spans more than {MAX_RANGE} references"
        ids.extend(range(low, high + 1))
    return tuple(ids), None
