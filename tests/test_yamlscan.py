"""The plain front-matter's data read in C (reviewflow/content/yamlscan.c) against its Python
reference, `read_plain(source, 0, positions=False)`: the same data (keys in the same order, values
of the same types: True is not 1) or the same None, on plain front-matter, on near-plain
mutations of it, and on any text."""

from __future__ import annotations

import random
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewflow.content import frontmatter, plainyaml
from reviewflow.content.plainyaml import _python_plain_data
from tests import fuzzing  # noqa: F401  (the fuzz profile: examples per property, no deadline)
from tests.conftest import compiled_module, needs_extension
from tests.test_plainyaml import SAMPLES, mutate

try:
    from reviewflow.content._yamlscan import plain_data as c_plain_data
except ImportError:  # a pure build (tests/test_compiled.py fails where it must be built)
    c_plain_data = None

built = needs_extension(c_plain_data)


def shape(value: Any) -> Any:
    """VALUE with every scalar's type beside it and every mapping as its items in order: equal
    shapes are equal data, the same order of keys and the same types (True is not 1)."""
    if isinstance(value, dict):
        return ("dict", [(type(key), key, shape(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("list", [shape(item) for item in value])
    return (type(value), value)


def outcome(read: Any, source: str) -> Any:
    """What READ gives for SOURCE, as a shape, or the exception it raises."""
    try:
        return shape(read(source))
    except Exception as error:  # whatever the reference raises, C must raise too
        return (type(error), str(error))


def assert_same(source: str) -> Any:
    """The C reader's answer for SOURCE is the reference's; that answer."""
    assert c_plain_data is not None
    expected = outcome(_python_plain_data, source)
    assert outcome(c_plain_data, source) == expected, source
    return expected


# --- generated plain front-matter ------------------------------------------------------------

KEY_NAMES = ["title", "summary", "id", "a", "_x", "A1", "key-name", "year", "pmid", "x_y", "tags"]
KEYS = st.lists(st.sampled_from(KEY_NAMES), min_size=1, max_size=6, unique=True)
# What a quoted scalar may hold and still be plain (no quote, no backslash), and anything.
SAFE_INNER = st.text(
    alphabet=st.sampled_from([*"abc XYZ019:#,-[]{}&*!|>%@`~/()é日😀", "\u00a0"]), max_size=12
)
ANY_INNER = st.text(
    alphabet=st.one_of(
        st.sampled_from([*"abc XYZ019:#,-'\"\\[]{}&*!|>%@`~é日😀", "\u00a0", "\u2028", "\t", "\ud800"]),
        st.characters(),
    ),
    max_size=12,
)
WORD = st.text(alphabet=st.sampled_from(list("abcXYZ019 ,'()/-")), max_size=10).map(
    lambda w: "w" + w.rstrip(" ")
)
FLOW_WORD = st.text(alphabet=st.sampled_from(list("abXY09 '()/-")), max_size=6).map(
    lambda w: "f" + w.rstrip(" ")
)
SPECIAL = st.sampled_from(["true", "True", "TRUE", "false", "False", "FALSE", "null", "Null", "NULL"])
PLAIN_SCALAR = st.one_of(
    SAFE_INNER.map(lambda text: f'"{text}"'),
    SAFE_INNER.map(lambda text: f"'{text}'"),
    st.integers(0, 10**40).map(str),
    SPECIAL,
    WORD,
    st.lists(FLOW_WORD, max_size=4).map(lambda words: "[" + ", ".join(words) + "]"),
    st.sampled_from(["[ ]", "[a,b]", "[ a , b ]"]),
)
# Scalars the plain reader must decline, or that are nearly something it declines.
ODD_SCALAR = st.one_of(
    ANY_INNER.map(lambda text: f'"{text}"'),
    ANY_INNER.map(lambda text: f"'{text}'"),
    ANY_INNER,
    st.sampled_from(
        ["00", "012", "-5", "+5", "1_000", "3.14", "tRue", "yes", "~", "a: b", "x # c", "[a,]", "[,a]"]
    ),
    st.sampled_from(
        ["[", "]", "[a", "[[a]]", "[a] x", "[true]", "[a, null]", "{a: b}", "&a x", "*a", "!!str x"]
    ),
)
# One scalar in ten odd: most generated front-matter is plain, and read.
SCALAR = st.integers(0, 9).flatmap(lambda draw: ODD_SCALAR if draw == 0 else PLAIN_SCALAR)
SPACES = st.sampled_from(["", "", " ", "  "])
BLANK_OR_COMMENT = st.sampled_from(["", "# a comment", "   # indented", "  ", "#"])


@st.composite
def block_scalar(draw: st.DrawFn, key: str) -> list[str]:
    indicator = draw(st.sampled_from([">", ">-", "|", "|-", ">", ">-", "|", "|-", ">+", "|2"]))
    indent = " " * draw(st.integers(1, 4))
    lines = draw(st.lists(st.one_of(WORD, SAFE_INNER.map(str.strip).filter(bool), PLAIN_SCALAR), max_size=4))
    return [f"{key}: {indicator}{draw(SPACES)}", *(indent + line for line in lines)]


@st.composite
def sequence(draw: st.DrawFn, key: str) -> list[str]:
    dash = " " * draw(st.sampled_from([0, 2, 2, 4]))
    after = " " * draw(st.sampled_from([1, 1, 1, 3]))
    lines = [f"{key}:{draw(SPACES)}"]
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.integers(0, 3)) == 0:
            lines.append(f"{dash}-{after}{draw(SCALAR)}{draw(SPACES)}")
            continue
        first_key, *other_keys = draw(KEYS)
        lines.append(f"{dash}-{after}{first_key}: {draw(SCALAR)}{draw(SPACES)}")
        for item_key in other_keys:
            if draw(st.integers(0, 9)) == 0:
                lines.append(draw(BLANK_OR_COMMENT))
            lines.append(f"{dash} {after}{item_key}: {draw(SCALAR)}{draw(SPACES)}")
    return lines


@st.composite
def plain_front_matter(draw: st.DrawFn) -> str:
    """Front-matter of the shapes the corpus and articles/ use: scalars, quoted strings,
    integers, special words, flow sequences, block scalars, sequences of scalars and of flat
    mappings, comments and blank lines; one scalar in ten odd."""
    lines: list[str] = []
    for key in draw(KEYS):
        kind = draw(st.sampled_from(["scalar", "scalar", "block", "sequence"]))
        if kind == "scalar":
            lines.append(f"{key}: {draw(SCALAR)}{draw(SPACES)}")
        elif kind == "block":
            lines.extend(draw(block_scalar(key)))
        else:
            lines.extend(draw(sequence(key)))
        if draw(st.integers(0, 4)) == 0:
            lines.append(draw(BLANK_OR_COMMENT))
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n\n"]))


@st.composite
def near_plain(draw: st.DrawFn) -> str:
    """A plain front-matter (generated or real) with one to three slips."""
    text = draw(st.one_of(plain_front_matter(), st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        slip = draw(
            st.sampled_from(["insert", "delete", "duplicate", "indent", "dedent", "crlf", "bom", "comment"])
        )
        if slip == "insert":
            piece = draw(
                st.one_of(
                    st.sampled_from(
                        list(" \t\n\r#:-\"'\\[],|>!&*%@")
                        + ["\ufeff", "\x85", "\u2028", "\x7f", "\x00", "é", "\ud800", "😀"]
                    ),
                    st.characters(),
                )
            )
            text = text[:at] + piece + text[at:]
        elif slip == "delete":
            text = text[:at] + text[at + 1 :]
        elif slip == "duplicate":
            text = text[:at] + text[at : at + 1] + text[at:]
        elif slip in ("indent", "dedent"):
            start = text.rfind("\n", 0, at) + 1
            text = (
                text[:start] + " " + text[start:]
                if slip == "indent"
                else text[:start] + text[start:].lstrip(" ")
            )
        elif slip == "crlf":
            text = text.replace("\n", "\r\n")
        elif slip == "bom":
            text = "\ufeff" + text
        else:
            end = text.find("\n", at)
            end = len(text) if end < 0 else end
            text = text[:end] + draw(st.sampled_from([" # c", "#c", " #"])) + text[end:]
    return text


@built
@given(plain_front_matter())
def test_plain_front_matter_is_read_as_the_reference_reads_it(source: str) -> None:
    assert_same(source)


@built
@given(near_plain())
def test_near_plain_front_matter_is_read_or_declined_as_the_reference(source: str) -> None:
    assert_same(source)


@built
@given(st.text(alphabet=st.characters(exclude_categories=()), max_size=200))
def test_any_text_is_read_or_declined_as_the_reference(source: str) -> None:
    assert_same(source)


@built
@given(st.lists(st.sampled_from(list("ab: -\n#'\"[],>|0-1 ")), max_size=60).map("".join))
def test_text_of_yaml_s_characters_is_read_or_declined_as_the_reference(source: str) -> None:
    assert_same(source)


@built
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_mutated_real_front_matter_is_read_or_declined_as_the_reference(seed: int) -> None:
    """test_plainyaml.py's mutations of real front-matter (with libyaml as its oracle there)."""
    rng = random.Random(seed)
    read = 0
    for _ in range(1500):
        source = mutate(rng, rng.choice(SAMPLES))
        read += assert_same(source) != shape(None)
        read += assert_same(source + "\n") != shape(None)
    assert read > 400  # the plain reader read many of them, not only declined them


@built
@pytest.mark.parametrize("index", range(len(SAMPLES)))
def test_real_front_matter_is_read_as_the_reference_reads_it(index: int) -> None:
    assert assert_same(SAMPLES[index]) != shape(None)


# --- edge cases --------------------------------------------------------------------------------


@built
@pytest.mark.parametrize(
    ("source", "data"),
    [
        ("a: 1", {"a": 1}),
        ("a: 0\nb: 007x", None),
        ("a: true\nb: False\nc: NULL\nd: tRue", {"a": True, "b": False, "c": None, "d": "tRue"}),
        ("a: [x, y z, w (v)]\nb: []\nc: [ ]", {"a": ["x", "y z", "w (v)"], "b": [], "c": []}),
        ("a: [x, true]", None),
        ("a: [x,]", None),
        ('a: "x: # y"\nb: \'say "hi"\'', {"a": "x: # y", "b": 'say "hi"'}),
        ('a: "x\\"y"', None),
        ("a: 'it''s'", None),
        ("a: x # c", None),
        ("a: >\n  one\n  two\n", {"a": "one two\n"}),
        ("a: >-\n  one\n  two\n", {"a": "one two"}),
        ("a: |\n  one\n  two\n", {"a": "one\ntwo\n"}),
        ("a: |\n  one\n  two", {"a": "one\ntwo"}),
        ("a: |-\n  one\n  two\nb: 1", {"a": "one\ntwo", "b": 1}),
        ("a: |\n  one\n\n  two", None),
        ("a: |\n  one \n  two", None),
        ("a: |\n  one\n   two", None),
        ("a: |\nb: 1", None),
        ("a:\n  - x\n  - [y]\n  - k: 1\n    l: 'v'\nb: 2", {"a": ["x", ["y"], {"k": 1, "l": "v"}], "b": 2}),
        ("a:\n- k: 1\n  l: 2\n- m\nb: 3", {"a": [{"k": 1, "l": 2}, "m"], "b": 3}),
        ("a:\n  -   k: 1\n      l: 2", {"a": [{"k": 1, "l": 2}]}),
        ("a:\n  - k: 1\n    k: 2", None),
        ("a:\n  - k:\n    l: 2", None),
        ("a:\n  - k: |\n      x", None),
        ("a:\n  - x\n  -\n  - y", None),
        ("a:\n\n  # note\n  - x", {"a": ["x"]}),
        ("a:", None),
        ("a:\n  b: 1", None),
        ("a: 1\na: 2", None),
        ("  a: 1", None),
        ("", None),
        ("\n", None),
        ("# only a comment\n", None),
        ("a: 1\r\n", None),
        ("\ufeffa: 1", None),
        ("a:\tb", None),
        ("a: x\x85y", None),
        ("a: x\u2028y", None),
        ("a: x\ud800y", None),
        ("a: \"日本語 😀 é\"\nb: 'ā'", {"a": "日本語 😀 é", "b": "ā"}),
        ('a: "x"\nb: [ā]', None),
        ("a: é", None),
        ("a: 123456789012345678901234567890", {"a": 123456789012345678901234567890}),
        ("a: 999999999999999999\nb: 1000000000000000000", {"a": 999999999999999999, "b": 10**18}),
    ],
)
def test_edge_cases_are_read_as_the_reference_reads_them(source: str, data: dict[str, Any] | None) -> None:
    assert_same(source)
    assert c_plain_data is not None
    assert shape(c_plain_data(source)) == shape(data)


@built
def test_an_integer_past_int_s_digit_limit_is_declined_as_the_reference_declines_it() -> None:
    """int() refuses a decimal of more than sys.get_int_max_str_digits() digits: front-matter
    holding one is not plain to either reader, and the loader's path reports the number
    (tests/test_bad_input.py). One digit fewer is read."""
    assert c_plain_data is not None
    digits = "1" * (sys.get_int_max_str_digits() + 1)
    for source in (f"a: {digits}", f"a: x\nb:\n  - c: {digits}\n    d: y", f"a:\n  - {digits}"):
        assert _python_plain_data(source) is None
        assert c_plain_data(source) is None
    assert c_plain_data(f"a: {digits[1:]}") == {"a": int(digits[1:])}
    assert _python_plain_data(f"a: {digits[1:]}") == {"a": int(digits[1:])}


@built
@pytest.mark.parametrize("width", ["x", "é", "ā", "😀"])  # each of the three widths of a str
def test_long_front_matter_of_each_width_is_read_as_the_reference(width: str) -> None:
    lines = [f'k{number}: "{width * number}"' for number in range(2_000)]
    lines += [
        "list:",
        *(f"  - item {number}" for number in range(2_000)),
        "block: |",
        *(["  " + width] * 500),
    ]
    assert assert_same("\n".join(lines)) != shape(None)


@built
def test_the_extension_takes_only_a_str() -> None:
    assert c_plain_data is not None
    with pytest.raises(TypeError, match="takes a str, not bytes"):
        c_plain_data(b"a: 1")  # type: ignore[arg-type]


def test_the_front_matter_is_read_by_the_extension_where_the_build_made_it() -> None:
    """A compiled build reads plain front-matter's data with the C extension; where the compiled
    modules run from their sources (a pure build, REVIEWFLOW_PURE=1, a stale build) it uses the
    reference, whose answers are the same."""
    if compiled_module(plainyaml) is not None:
        assert c_plain_data is not None
        assert plainyaml.plain_data is c_plain_data
    else:
        assert plainyaml.plain_data is plainyaml._python_plain_data
    split = frontmatter.split_text(f"---\n{SAMPLES[-1]}\n---\nBody.\n")
    assert split.data is not None and split.data["references"][1]["pmid"] == "8911153"
    assert split.positions_later is not None
    assert split.positions_later()[0][("references", 1, "pmid")] == (22, 11)
