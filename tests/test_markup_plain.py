"""The short ways of rendering a body (content/markup.py): a plain body rendered by Comrak's own
renderer and its plain HTML written as the sanitiser would write it give the very bytes the tree
walk and the sanitiser give, for every body; anything else takes the long way."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewflow.content.article import Reference
from reviewflow.content.markup import BodyRenderer, _adjusted, _as_sanitised, _plain_html
from tests.fuzzing import BODIES

SHORT, LONG = BodyRenderer(), BodyRenderer(plain=False)
REFERENCES = {
    i: Reference(id=i, type="review", title=f"Ref {i}", source="Journal", year=2020) for i in (1, 2, 3, 12)
}
# Pieces of Markdown whose mixtures reach every corner of the two ways: markers of each shape,
# brackets that only look like markers, emphasis, lists, tables, quotes, breaks, and characters
# the renderer or the sanitiser's parser writes in their own way.
PIECES = [
    "[1]", "[2, 3]", "[1-3]", "[1–5]", "[12]", "[4]", "[1,2]", "[", "]", "*", "**", "_", "~", "~~", '"', ">", "> ",
    "\n", "\n\n", "# ", "## ", "###### ", "| a | b |\n|---|---|\n| [1] | c |\n", "| x |\n|:-:|\n| [2] |\n",
    "- ", "1. ", "3) ", "1000000000. ", "text ", "word", "(", ")", "[x]: http://e.org\n", "[1]: /u\n", "!", " ",
    "    ", "'", "-", ":", "[1][2]", "[1] [2]", "[ 1]", "[1\"]", "[1>2]", "===\n", "---\n", "\t", "é", "*[1]*",
    "~~[2]~~", "[[1]]", "\r", "\r\n", "\xa0", "\x0c", "\x01", "\u2028", "\ufeff", "- [ ] ", "  \n",
    "[x](http://a.org)", "\\[1]", "&amp;", "&#91;1]", "<b>", "`[1]`",
]  # fmt: skip
MIXTURES = st.lists(st.sampled_from(PIECES), min_size=1, max_size=40).map("".join)


@given(body=st.one_of(MIXTURES, BODIES))
def test_the_short_ways_write_the_very_html_of_the_long_way(body: str) -> None:
    assert SHORT.render(body, REFERENCES) == LONG.render(body, REFERENCES), body


@pytest.mark.parametrize(
    "body",
    [
        "## Causes\n\nIron deficiency is common [1]. It is treated [2, 3].\n\n- one [12]\n- two [4]\n",
        '| a | b |\n|:--|--:|\n| [1] | "x" > y |\n\nA line  \nbreak.\n\n---\n\n3. third\n',
        "# Title\n\n> A quote [1-3]\n\n~~gone~~ *[1]* **[2]**\n",
    ],
)
def test_a_plain_body_takes_the_short_ways_and_reads_as_the_long_way(body: str) -> None:
    html = _plain_html(body)
    assert html is not None and _as_sanitised(_adjusted(html, plain=True)) is not None
    assert SHORT.render(body, REFERENCES) == LONG.render(body, REFERENCES)


@pytest.mark.parametrize(
    "body",
    [
        "A [link](https://example.org) [1].",  # text in a link does not cite
        "![an image [1]](x.png)",
        "Code `[1]` is not a citation [2].",
        "An escaped \\[1] bracket.",
        "An entity &#91;1] and a tag <b>[1]</b>.",
        "[1]\n\n[1]: https://example.org/reference",  # a link by reference
        'A quoted bracket [1"] of marker shape.',
    ],
)
def test_a_body_with_links_code_escapes_or_raw_html_takes_the_long_way(body: str) -> None:
    assert _plain_html(body) is None
    assert SHORT.render(body, REFERENCES) == LONG.render(body, REFERENCES)


@pytest.mark.parametrize(
    "html",
    [
        '<p><a href="https://example.org">x</a></p>\n',
        '<p class="x">x</p>\n',
        "<p>no\xa0break</p>\n",
        "<p>a\rb</p>\n",
        "<p>&copy;</p>\n",
        "<script>alert(1)</script>\n",
        '<ol start="1" onclick="x">\n<li>a</li>\n</ol>\n',
    ],
)
def test_html_with_anything_the_sanitiser_would_change_is_left_to_it(html: str) -> None:
    assert _as_sanitised(html) is None
    assert LONG.cleaner.clean(html) != html  # which is why it must see it


def test_plain_html_is_written_as_the_sanitiser_writes_it() -> None:
    html = '<h2>A</h2>\n<p>&quot;x&quot; &gt; y<br />\nz</p>\n<hr />\n<ol start="3">\n<li>a</li>\n</ol>\n'
    assert _as_sanitised(html) == LONG.cleaner.clean(html)
    assert (
        _as_sanitised(html)
        == '<h2>A</h2>\n<p>"x" &gt; y<br>\nz</p>\n<hr>\n<ol start="3">\n<li>a</li>\n</ol>\n'
    )
