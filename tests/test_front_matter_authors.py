"""Which people a text lists as authors: only its front-matter is searched for them, in this
process or, for many texts, in a child process of their own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from reviewflow.content.frontmatter import read_article_bytes
from reviewflow.errors import EnvironmentProblem
from reviewflow.review.authors import front_matter_authors, front_matter_bytes, listed_authors
from tests.gitcount import git_processes

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
    assert front_matter_bytes(raw) == front
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


# --- many texts read in a process of their own (authors.listed_authors) -------------------------

TEXTS = [
    ANN + b"---\nBody\n",  # ann listed
    b'---\nauthors:\n  - name: "B"\n    email: "bob\\x40x.example"\n---\nBody\n',  # bob, escaped
    '---\nauthors:\n  - name: "Zoë"\n    email: "Zoë@X.example"\n---\nÜber\n'.encode(),
    b"No front-matter, though ann@x.example wrote it.\n",
    b"\x00\xff binary",
]
PEOPLE = ("ann@x.example", "bob@x.example", "zoë@x.example", "o'brien@x.example")


def _stored(repo: Path, texts: list[bytes]) -> list[str]:
    """The blob ids of TEXTS, written into REPO's object store."""
    ids = []
    for text in texts:
        done = subprocess.run(
            ["git", "hash-object", "-w", "--stdin"], cwd=repo, input=text, capture_output=True, check=True
        )
        ids.append(done.stdout.decode().strip())
    return ids


@pytest.fixture
def texts_repo(tmp_path: Path) -> tuple[Path, list[str]]:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    blobs = _stored(tmp_path, TEXTS)
    tree = subprocess.run(["git", "write-tree"], cwd=tmp_path, capture_output=True, check=True)
    missing = "0" * 39 + "1"
    return tmp_path, [*blobs, missing, tree.stdout.decode().strip()]  # and no such blob, a tree


EXPECTED = [
    frozenset({"ann@x.example"}),
    frozenset({"bob@x.example"}),
    frozenset({"zoë@x.example"}),
    frozenset(),
    frozenset(),
]


@pytest.mark.parametrize("apart_from", [0, 10**9], ids=["apart", "here"])
def test_each_text_answers_for_its_candidates_read_apart_or_here(
    texts_repo: tuple[Path, list[str]], apart_from: int
) -> None:
    repo, blobs = texts_repo
    candidates = {blob: PEOPLE for blob in blobs}
    with git_processes() as started:
        answers = list(listed_authors(repo, blobs, candidates, apart_from))
    # Every text git has, in the order asked, with the candidates it lists; nothing for the
    # blob git lacks nor for the tree.
    assert answers == list(zip(blobs[:5], EXPECTED, strict=True))
    # Read apart, this process starts no git: the child reads the texts.
    assert started["cat-file"] == (0 if apart_from == 0 else 1)


def test_a_child_that_cannot_answer_leaves_every_text_to_this_process(
    texts_repo: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, blobs = texts_repo
    monkeypatch.setattr(sys, "executable", "/bin/false")  # starts, answers nothing, fails
    with git_processes() as started:
        answers = list(listed_authors(repo, blobs, {blob: PEOPLE for blob in blobs}, apart_from=0))
    assert answers == list(zip(blobs[:5], EXPECTED, strict=True))
    assert started["cat-file"] == 1


def test_a_repository_git_cannot_read_is_a_clear_error_either_way(tmp_path: Path) -> None:
    blobs = ["a" * 40] * 3
    for apart_from in (0, 10**9):
        with pytest.raises(EnvironmentProblem, match="git cat-file failed"):
            list(listed_authors(tmp_path, blobs, {"a" * 40: PEOPLE}, apart_from))


def test_a_candidate_the_request_could_not_carry_is_asked_here(texts_repo: tuple[Path, list[str]]) -> None:
    # The child reads one text a line, its candidates NUL-separated: an email with a newline
    # would shift every answer after it onto the wrong text.
    repo, blobs = texts_repo
    candidates = {blob: PEOPLE for blob in blobs}
    candidates[blobs[0]] = ("ann@x.example", "q\nbob@x.example")
    with git_processes() as started:
        answers = list(listed_authors(repo, blobs, candidates, apart_from=0))
    assert answers == list(zip(blobs[:5], EXPECTED, strict=True))
    assert started["cat-file"] == 1
