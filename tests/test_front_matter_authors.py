"""Which people a text lists as authors: only its front-matter is searched for them."""

from __future__ import annotations

import pytest

from reviewflow.content.frontmatter import read_article_bytes
from reviewflow.review.board import _front_matter_bytes, front_matter_authors

ANN = b'---\ntitle: "T"\nauthors:\n  - name: "A"\n    email: "Ann@X.example"\n'


@pytest.mark.parametrize(
    ("raw", "front"),
    [
        (ANN + b"---\nBody ''quoted'' \\ here\n", ANN[:-1]),
        (ANN + b"...\nBody\n", ANN[:-1]),
        (ANN + b"--- \t\r\nBody\n", ANN[:-1]),
        (ANN + b"---", ANN[:-1]),  # the closing line ends the file
        (ANN + b"----\n---\nBody\n", ANN + b"----"),  # four dashes do not close it
        (ANN + b"...x\n...\n", ANN + b"...x"),
        (ANN + b"Body without a closing line\n", None),
        (b"---", None),  # one line: nothing after the fence
        (b"no fence at all", None),
    ],
)
def test_the_front_matter_is_the_text_up_to_its_closing_line(raw: bytes, front: bytes | None) -> None:
    assert _front_matter_bytes(raw) == front
    if front is not None:  # the YAML frontmatter.py reads is inside it
        split = read_article_bytes(raw, len(raw))
        assert split.body_line == front.count(b"\n") + 3  # the line after the closing one


def test_an_escape_or_a_candidate_in_the_body_only_changes_nothing() -> None:
    body = b"---\nWrite to bob@x.example, or to 'o''brien' \\ the editors.\n"
    assert front_matter_authors(ANN + body, ["bob@x.example"]) == frozenset()
    assert front_matter_authors(ANN + body, ["ann@x.example"]) == frozenset({"ann@x.example"})
    crlf = ANN.replace(b"\n", b"\r\n") + b"...\r\n" + body
    assert front_matter_authors(crlf, ["ann@x.example"]) == frozenset({"ann@x.example"})
    assert front_matter_authors(ANN + b"no closing line, ann@x.example\n", ["ann@x.example"]) == frozenset()


def test_an_escape_in_the_front_matter_is_still_parsed() -> None:
    escaped = b'---\nauthors:\n  - name: "B"\n    email: "bob\\x40x.example"\n---\nBody\n'
    assert front_matter_authors(escaped, ["bob@x.example"]) == frozenset({"bob@x.example"})
    unicode = '---\nauthors:\n  - name: "Zoë"\n    email: "zo\\u00eb@x.example"\n---\nÜber\n'.encode()
    assert front_matter_authors(unicode, ["zoë@x.example"]) == frozenset({"zoë@x.example"})


@pytest.mark.parametrize(
    ("change", "emails"),
    [
        ((b"", b""), {"alice@authors.example"}),
        (
            (b'email: "alice@authors.example"', b'email: "Alice\\x40Authors.example"'),
            {"alice@authors.example"},
        ),
        ((b"audience: patient", b"audience: martians"), None),  # the schema refuses it
        ((b'email: "alice@authors.example"', b"email: !!binary YWxpY2VAYXV0aG9ycy5leGFtcGxl"), None),
        ((b"---\ntitle", b"title"), None),  # no front-matter
        ((b"condition:", b"authors: []\ncondition:"), None),  # a key twice: YAML the read refuses
    ],
)
def test_the_authors_a_parse_answers_for_are_every_one_front_matter_authors_finds(
    change: tuple[bytes, bytes], emails: set[str] | None
) -> None:
    # verify's early checks answer, from their parse of a text, who its authors are: every
    # email `front_matter_authors` finds for any candidates (the history read's answer), or
    # nothing where their parse has no article (the text is then read again from git).
    from reviewflow.content.article import parse_document
    from reviewflow.content.schema import load_schema
    from reviewflow.review.board import parsed_authors
    from tests.conftest import article_text

    raw = article_text().encode().replace(*change)
    document = parse_document("articles/a.md", raw, load_schema(None, "schema"), 1 << 20)
    parsed = parsed_authors(document)
    assert parsed == (None if emails is None else frozenset(emails))
    people = ["alice@authors.example", "b'alice@authors.example'", "bob@authors.example"]
    if parsed is not None:
        assert front_matter_authors(raw, people) == parsed
    too_large = parse_document("articles/a.md", raw, load_schema(None, "schema"), len(raw) - 1)
    assert parsed_authors(too_large) is None
