"""The few front-matter fields that other articles' pages and checks need to know of an
article (its title, audience, condition and declared counterpart), read without the schema,
the model or the body: for the links between pages (publish/neighbours.py) and the
`counterpart-unknown` check.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from reviewflow.config import SLUG_PATTERN
from reviewflow.content.frontmatter import read_article_bytes

AUDIENCE_NAMES = ("patient", "professional")


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
    data: Any = read_article_bytes(raw, max_bytes).data
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
