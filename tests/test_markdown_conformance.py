"""The one Markdown parse against the CommonMark spec, and the checks against the page.

- Every example of the CommonMark spec (0.31.2, 652 examples, from the npm package
  `commonmark-spec`, fetched once into a cache outside the repository and required in CI)
  renders as the spec says, with the GFM table and strikethrough extensions the site uses on.
  The site escapes raw HTML by design: for the examples with raw HTML, the page shows exactly
  that HTML as text.
- On every spec example, with citation markers put into it, and on thousands of generated
  bodies: the citations the checks find are exactly the citation links on the rendered page,
  same ids, in the same order, each at the place in the file where its `[` is.
- A stored page (tests/data/markdown/) pins the HTML of a body with every construct articles
  use, so that a parser upgrade that changes what readers get fails here.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
from html import escape
from pathlib import Path

import comrak
import pytest

from reviewflow.content.article import Reference
from reviewflow.content.citations import MARKER
from reviewflow.content.markdown import EXTENSIONS, PARSING, RENDERING
from reviewflow.content.markup import BodyRenderer
from reviewflow.content.prose import read_prose
from tests.npm import CACHE, npm_data

SPEC_VERSION = "0.31.2"
SPEC_SHA256 = "257c41ad946f7a1414a499aca402a1aa8fdac3678532266611348c1cf54f4b80"
SPEC_DIR = Path(os.environ.get("REVIEWFLOW_SPEC_DIR") or CACHE / "commonmark-spec")
DATA = Path(__file__).parent / "data" / "markdown"
REFERENCES = {i: Reference(id=i, type="review", title="t", source="s", year=2020) for i in range(1, 100)}
RENDERER = BodyRenderer()
_CITE = re.compile(r'<sup class="cite">\[(.*?)\]</sup>')
_LINKED_ID = re.compile(r"Reference </span>(\d+)</a>")


def spec_examples() -> list[tuple[int, str, str]]:
    """(number, Markdown, HTML) of every spec example, as the spec's own test runner reads them."""
    spec = npm_data(f"commonmark-spec@{SPEC_VERSION}", SPEC_DIR, "commonmark-spec/spec.txt")
    raw = spec.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SPEC_SHA256, f"{spec} is not commonmark-spec {SPEC_VERSION}"
    text = re.sub(r"^<!-- END TESTS -->[\s\S]*", "", raw.decode().replace("\r\n", "\n"), flags=re.M)
    found = re.findall(r"^`{32} example\n([\s\S]*?)^\.\n([\s\S]*?)^`{32}$", text, flags=re.M)
    return [
        (number, markdown.replace("→", "\t"), html.replace("→", "\t"))
        for number, (markdown, html) in enumerate(found, start=1)
    ]


@pytest.fixture(scope="module")
def examples() -> list[tuple[int, str, str]]:
    return spec_examples()


def test_every_spec_example_renders_as_the_spec_says(examples: list[tuple[int, str, str]]) -> None:
    assert len(examples) == 652
    passing_raw_html = comrak.RenderOptions(unsafe_=True)
    wrong = [
        n
        for n, md, html in examples
        if comrak.markdown_to_html(md, EXTENSIONS, PARSING, passing_raw_html) != html
    ]
    assert wrong == []


def test_raw_html_in_spec_examples_is_shown_as_text(examples: list[tuple[int, str, str]]) -> None:
    with_raw_html = 0
    for number, markdown, html in examples:
        literals = raw_html(comrak.parse_document(markdown, EXTENSIONS, PARSING, RENDERING))
        if not literals:
            continue
        with_raw_html += 1
        expected = html
        for literal in sorted(set(literals), key=len, reverse=True):
            expected = expected.replace(literal, escape(literal, quote=False).replace('"', "&quot;"))
        assert comrak.markdown_to_html(markdown, EXTENSIONS, PARSING, RENDERING) == expected, number
    assert with_raw_html > 40


def raw_html(node: comrak.AstNode) -> list[str]:
    value = node.node_value
    if isinstance(value, comrak.HtmlInline):
        return [value.value]
    if isinstance(value, comrak.HtmlBlock):
        return [value.value.literal]
    return [literal for child in node.children for literal in raw_html(child)]


def assert_checks_see_what_the_page_links(source: str) -> int:
    """The checks' citations are the page's citation links, in order, each at its `[` in SOURCE."""
    prose = read_prose(source, 1)
    checked = [c.ids for c in prose.citations if c.problem is None]
    page = RENDERER.render(source, REFERENCES)
    linked = [tuple(int(i) for i in _LINKED_ID.findall(cite)) for cite in _CITE.findall(page)]
    assert checked == linked, (source, page)
    lines = source.split("\n")
    for citation in prose.citations:
        line, column = prose.locate(citation.offset)
        assert lines[line - 1][column - 1] == "[", (source, citation, line, column)
    # The checks that search the text for markers find these and no others.
    assert [m.start() for m in MARKER.finditer(prose.text)] == [c.offset for c in prose.citations], source
    return len(checked)


def test_checks_and_page_agree_on_every_spec_example(examples: list[tuple[int, str, str]]) -> None:
    cited = 0
    for _, markdown, _ in examples:
        assert_checks_see_what_the_page_links(markdown)
        # Markers in every construct of the spec: headings, links, code, tables, quotes, lists...
        with_markers = (
            markdown.replace("foo", "foo [1]").replace("bar", "bar [2, 3]").replace("baz", "[4][5]")
        )
        cited += assert_checks_see_what_the_page_links(with_markers)
    assert cited > 400


# {m} becomes a marker, in lines that exercise code spans, fenced and indented code, HTML
# blocks and comments, headings, thematic breaks, lists, quotes, tables, escapes, entities,
# links, images and lazy continuation.
FRAGMENTS = [
    "Word word {m}.", "Plain text {m} and more.", "Use `x{m}` here {m}.", "Two ``a ` {m}`` ticks {m}.",
    "Open ` tick {m}", "close ` tick", "a <!-- {m} --> b {m}", "<!-- start {m}", "end {m} -->",
    '<span title="{m}">x</span> {m}', "<https://x.org/{m}> {m}", "    code {m}", "     code5 {m}",
    "```", "~~~", "``` x`y {m}", "<div>", "</div>", "<script>", "</script>", "# H {m}", "## H2 {m}",
    "===", "---", "***", "- item {m}", "* star {m}", "1. one {m}", "2) two {m}", "  - nested {m}",
    "   continued {m}", "      deep {m}", "> q {m}", "> - qitem {m}", ">", "\tcode tab {m}", "", "", "",
    "`{m}`", "\\`not code {m}`", "\\{m} escaped", "a \\{m}\\ b", "[link {m}](https://x.org) {m}",
    "![alt {m}](x.png) {m}", "[{m}]: https://x.org/def", "{m}{m} pasted", "&ndash; {m} &amp; {m}",
    "| a | b {m} |", "|---|:---:|", "| `c\\|d` {m} | e \\| f {m} |", "~~struck {m}~~ *em {m}*",
    "text  ", "[1,", "2] after a marker cut by a line break {m}", "[*3*] {m} [`4`]", "[1, @21@] {m}",
    "**{m}**", "x <b>{m}</b> y",
]  # fmt: skip
MARKERS = ["[1]", "[2, 3]", "[4-6]", "[7–9]", "[3&ndash;5]", "[1, 3-4]", "[99]", "[5-1]", "[1;2]"]


@pytest.mark.parametrize("seed", range(3))
def test_checks_and_page_agree_on_generated_bodies(seed: int) -> None:
    rng = random.Random(seed)
    cited = 0
    for _ in range(700):
        lines = [rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 12))]
        source = "\n".join(lines).replace("{m}", "\0")
        source = re.sub("\0", lambda _: rng.choice(MARKERS), source) + "\n"
        cited += assert_checks_see_what_the_page_links(source)
    assert cited > 1000


def test_a_marker_cut_by_a_line_break_or_markup_is_no_citation_for_either() -> None:
    source = "Text [1,\n2] and [*3*] and [4]\n[5] end.\n"
    assert assert_checks_see_what_the_page_links(source) == 2
    prose = read_prose(source, 1)
    assert [(prose.locate(c.offset), c.ids) for c in prose.citations] == [((2, 18), (4,)), ((3, 1), (5,))]
    assert prose.text == "Text ［1, 2] and ［3] and [4] [5] end."


def test_the_stored_page_is_what_the_body_renders_to() -> None:
    body = (DATA / "constructs.md").read_text()
    stored = (DATA / "constructs.html").read_text()
    assert RENDERER.render(body, {i: REFERENCES[i] for i in range(1, 10)}) == stored
