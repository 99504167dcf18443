"""The plain front-matter reader against libyaml, on real and generated front-matter.

`reviewflow.content.plainyaml` reads the common, plain part of YAML without a parser. For every
front-matter it accepts, the data, value positions and key positions must be exactly those of
the libyaml path in `frontmatter.py`; for anything else it must decline (None), so that
libyaml reads it. Generated documents mutate real front-matter line by line with the YAML
constructs that are easy to get wrong: escapes, comments, anchors, tags, YAML 1.1 words and
numbers, flow and block collections, indentation, tabs, duplicates.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from reviewflow.cli.scaffold import template
from reviewflow.content import frontmatter
from reviewflow.content.frontmatter import Split
from reviewflow.content.plainyaml import read_plain
from tests.conftest import PROJECT


def front_matter(text: str) -> str:
    lines = text.split("\n")
    end = lines.index("---", 1)
    return "\n".join(lines[1:end])


SAMPLES = [front_matter(p.read_text(encoding="utf-8")) for p in sorted((PROJECT / "articles").glob("*.md"))]
SAMPLES.append(front_matter(template("what-is-poems-syndrome.md")))
SAMPLES.append(
    """title: "Amyloidosis: amyloidosis topic 00003"
summary: "What to know about amyloidosis (1)."
audience: patient
condition: "Amyloidosis"
authors:
  - name: "Author 8"
    email: "author8@writers.example"
disclaimer: patient
references:
  - id: 1
    type: review
    title: "Study 1 of Amyloidosis"
    source: "Journal of Examples"
    year: 2023
    url: "https://example.org/amyloidosis-topic-00003/1"
  - id: 2
    type: review
    title: "Study 2 of Amyloidosis"
    source: "Journal of Examples"
    year: 2023
    pmid: "8911153"
tags: [bench]"""
)

VALUES = [
    '"plain text"', '"a: b # c"', '"it\'s"', '"x \\" y"', '"a\\nb"', '""', "''", "'single'", "'it''s'",
    '"&anchor"', '"日本語"', "yes", "no", "on", "off", "y", "n", "true", "True", "FALSE", "null", "Null",
    "~", "0", "7", "012", "1_000", "-5", "+5", "3.14", ".inf", "0x1F", "1e3", "2024-01-05", "12:30",
    "a: b", "a #b", "a#b", "word, with comma", "it's fine", "x (y) / z-w", "[a, b]", "[a,b,]", "[ ]", "[]",
    "[a, [b]]", "['q']", "[yes, no]", "[true]", "{a: b}", "&a x", "*a", "!!str x", "!!python/object x",
    "| x", ">", ">-", "|", "|-", ">+", "@x", "%x", "`x`", '"x" # c', "x # c", "word   ", '"q"   ', "",
    "3:1", "0o10", "0123", "010", "-.inf", ".NaN", "TRUE", "+12", "1.", "0x", "-0",
]  # fmt: skip
EXTRA_LINES = [
    "", "# a comment", "  # an indented comment", "extra: 1", "  - stray", "\tkey: tab", "key:\tvalue",
    "nested:\n  inner: 1", "block: >-\n  one\n  two", "block: |\n  one\n  two", "block: >\n  one\n\n  two",
    "block: >-\n  one  \n  two", "block: >-\n    one\n  two", "- top item", "title: duplicate",
    "list:\n- a\n- b", "list:\n  - a\n  -\n  - c", "list:\n  - a: 1\n    b: 2\n  - a: 3", "list:", "k: v\r",
    "list:\n  - a: 1\n      b: 2", "list:\n  -   a: 1\n      b: 2", "list:\n  - [x, y]", "k: \x85", "k: \u2028x",
    "list:\n  - a: 1\n  # note\n    b: 2", "list:\n- a: 1\n  b: 2\nnext: 3", "list:\n  - a: |\n      x",
    "list:\n  - a\n  - \n  - c", "list:\n  - ", "list:\n  - a: 1\n  - ", "end: |\n  one\n  two",
]  # fmt: skip


def mutate(rng: random.Random, source: str) -> str:
    lines = source.split("\n")
    for _ in range(rng.randint(1, 3)):
        index = rng.randrange(len(lines))
        line = lines[index]
        choice = rng.random()
        if choice < 0.45 and ": " in line:
            head, _, _ = line.partition(": ")
            lines[index] = f"{head}: {rng.choice(VALUES)}"
        elif choice < 0.6:
            lines[index] = " " * rng.randint(0, 6) + line.lstrip(" ")
        elif choice < 0.75:
            lines.insert(index, rng.choice(EXTRA_LINES))
        elif choice < 0.85:
            lines.insert(index, line)  # a duplicate
        elif choice < 0.92:
            lines[index] = line + rng.choice([" ", "  ", " # trailing", "\t"])
        else:
            lines[index] = line.replace("  - ", rng.choice(["- ", "-   ", "  -  ", "   - "]))
    return "\n".join("\n".join(lines).split("\n"))


def libyaml(source: str) -> Split:
    """SOURCE read as `_parse_yaml` reads what the plain reader declines (by libyaml), without
    replacing the plain reader: compiled, frontmatter.py calls its own."""
    split = Split()
    data = frontmatter._read_yaml(source, split, 1, front_matter=True)
    if not split.problems:
        split.data = frontmatter.identifiers_as_text(data)
    return split


def assert_same(source: str) -> bool:
    """Whether the plain reader took SOURCE; if it did, its answer is libyaml's, with and
    without a line break at the end (a front-matter has one; it matters to a `|` at the end)."""
    for text in (source, source + "\n"):
        plain = read_plain(text, 1)
        if plain is None:
            return False
        expected = libyaml(text)
        assert not expected.problems, (text, expected.problems)
        data = frontmatter.identifiers_as_text(plain[0])  # as _parse_yaml reads an unquoted PMID
        assert (data, *plain[1:]) == (expected.data, expected.positions, expected.key_positions), text
        data_only = read_plain(text, 1, positions=False)
        assert data_only is not None and frontmatter.identifiers_as_text(data_only[0]) == expected.data
    # as check reads it: the data now, the positions when a finding needs one
    split = frontmatter.split_text(f"---\n{source}\n---\nBody.\n")
    assert split.data == expected.data and split.positions_later is not None
    assert split.positions_later() == (expected.positions, expected.key_positions)
    return True


@pytest.mark.parametrize("index", range(len(SAMPLES)))
def test_real_front_matter_is_read_plainly_and_the_same(index: int) -> None:
    assert assert_same(SAMPLES[index])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generated_front_matter_is_the_same_or_declined(seed: int) -> None:
    rng = random.Random(seed)
    taken = 0
    for _ in range(1500):
        taken += assert_same(mutate(rng, rng.choice(SAMPLES)))
    assert taken > 200  # the test exercises the plain reader, not only its refusals


def test_what_it_declines_libyaml_reads_with_its_messages(tmp_path: Path) -> None:
    """Declined front-matter still gets the loader's findings (here a duplicate key)."""
    text = "---\n" + SAMPLES[-1].replace("audience: patient", "audience: patient\naudience: professional")
    split = frontmatter.split_text(text + "\n---\nBody.\n")
    assert [p.rule for p in split.problems] == ["yaml-duplicate-key"]


def test_a_clean_article_never_reads_its_positions() -> None:
    """The rules ask for a front-matter position only to report something there."""
    from datetime import date

    from reviewflow.checks.rules import Context, check_document
    from reviewflow.config import Config
    from reviewflow.content.article import parse_document
    from reviewflow.content.schema import ArticleSchema, bundled_schema_text

    text = f"---\n{SAMPLES[-1]}\n---\n\nAmyloidosis is rare [1]. It is treated [2].\n"
    schema = ArticleSchema(json.loads(bundled_schema_text()))
    doc = parse_document("articles/amyloidosis.md", text.encode(), schema, 10**6)
    config = Config.model_validate(
        {
            "disclaimers": {"patient": {"audience": "patient", "text": "x"}},
            # The sample's author makes no declaration: a finding, whose position would be read.
            "checks": {"max_reference_age_years": 50, "rules": {"disclosure-missing": "off"}},
        }
    )
    found = check_document(doc, Context(config, date(2024, 1, 1)))
    assert found == []
    assert doc.positions_later is not None  # still left for later


def test_unusual_characters_are_found_alike_by_the_table_and_the_expression() -> None:
    """ASCII front-matter is tested by a bytes table, anything else by `_UNUSUAL`: the two
    must decline the same characters (a tab, a carriage return, DEL, a control character)."""
    from reviewflow.content.plainyaml import _UNUSUAL, _has_unusual

    for code in [*range(0x100), 0x2028, 0x2029, 0xFEFF, 0xFFFE, 0x1F600]:
        source = f"title: a{chr(code)}b\n"
        assert _has_unusual(source) == bool(_UNUSUAL.search(source)), hex(code)


@pytest.mark.parametrize(
    "closing",
    ["---", "...", "--- ", "---\t", "...  ", "---\r"],
)
def test_the_front_matter_ends_at_its_first_closing_line(closing: str) -> None:
    """Lines that only begin like a closing line (`----`, `--- x`, `....`, `---` indented)
    do not end the front-matter; the first one that does is found, `...` as well as `---`."""
    near_misses = "summary: |\n  ----\n  --- x\n  ....\n  ...x\n   ---\n"
    text = f"---\ntitle: Dose\n{near_misses}{closing}\nBody [1].\n---\nMore.\n"
    split = frontmatter.split_text(text)
    assert not split.problems
    assert (split.body, split.body_line) == ("Body [1].\n---\nMore.\n", 10)
    assert split.data is not None and split.data["summary"].startswith("----\n--- x\n")


def test_a_front_matter_whose_fence_lines_never_close_is_unclosed() -> None:
    split = frontmatter.split_text("---\ntitle: x\n----\n--- x\n.... \n")
    assert [(p.rule, p.line) for p in split.problems] == [("frontmatter-unclosed", 1)]


def test_libyaml_is_loaded_by_the_first_front_matter_that_is_not_plain() -> None:
    """Start-up is paid on every command: the publish path, and plain front-matter, need no
    PyYAML (nor a pool's multiprocessing); front-matter that is not plain is read by libyaml."""
    import subprocess
    import sys

    probe = (
        "import sys; import reviewflow.cli.commands, reviewflow.publish.build, reviewflow.review.queries; "
        "from reviewflow.content.frontmatter import read_article_bytes; "
        "loaded = lambda: [m for m in ('yaml', 'multiprocessing') if m in sys.modules]; "
        "print(loaded(), read_article_bytes(b'---\\ntitle: A\\n---\\nBody.\\n', 1000).data, loaded()); "
        "other = read_article_bytes(b'---\\ntitle: A # a comment\\ntags: [a, b]\\n---\\nBody.\\n', 1000); "
        "print(other.data, other.problems, loaded())"
    )
    lines = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert lines.splitlines() == [
        "[] {'title': 'A'} []",
        "{'title': 'A', 'tags': ['a', 'b']} [] ['yaml']",
    ]
