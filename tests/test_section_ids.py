"""The headings' ids (article_body._section_ids) found by `str.find`, held to the regular
expression's substitution they replaced, on mixtures of the pieces that could trip it."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from reviewflow.publish.article_body import _HEADING, _WORD, _section_ids, plain_text


def reference_section_ids(html: str) -> tuple[str, list[tuple[str, str]]]:
    """`_section_ids` as it was written: `_HEADING.sub` with a function per heading."""
    seen: set[str] = set()
    contents: list[tuple[str, str]] = []

    def with_id(match: re.Match[str]) -> str:
        level, inner = match.group(1), match.group(2)
        text = plain_text(inner)
        base = "s-" + ("-".join(_WORD.findall(text.casefold()))[:60].strip("-") or "section")
        anchor, n = base, 1
        while anchor in seen:
            n += 1
            anchor = f"{base}-{n}"
        seen.add(anchor)
        if level == "2":
            contents.append((anchor, text))
        return f'<h{level} id="{anchor}">{inner}</h{level}>'

    return _HEADING.sub(with_id, html), contents


PIECES = [
    "<h2>", "</h2>", "<h3>", "</h3>", "<h6>", "</h6>", "<h1>", "<h7>", "</h7>", "<hr>", "<h", "h2>", "<h2 >",
    "Same", "Other words", " ", "\n", "&amp; ", '<sup class="cite">[<a href="#ref-1">1</a>]</sup>', "<p>",
    "</p>", "é", "<em>x</em>",
]  # fmt: skip


@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_the_ids_are_the_substitutions(html: str) -> None:
    assert _section_ids(html) == reference_section_ids(html)


def test_headings_get_unique_ids_and_the_h2s_are_listed() -> None:
    html = "<p>a</p>\n<h2>Same</h2>\n<hr>\n<h3>Same</h3>\n<h2>Same</h2>\n<h4></h4>\n<h2>Open"
    made, contents = _section_ids(html)
    assert made == (
        '<p>a</p>\n<h2 id="s-same">Same</h2>\n<hr>\n<h3 id="s-same-2">Same</h3>\n'
        '<h2 id="s-same-3">Same</h2>\n<h4 id="s-section"></h4>\n<h2>Open'
    )
    assert contents == [("s-same", "Same"), ("s-same-3", "Same")]
    assert _section_ids("<p>No heading.</p>") == ("<p>No heading.</p>", [])
