"""Bad input gets one clear finding naming the file, and the other files are still checked."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from reviewflow.content.article import Document
from tests.conftest import article_text, write

Run = Callable[..., Result]

GOOD = article_text()


@pytest.fixture
def repo(tmp_path: Path, run: Run) -> Path:
    run(tmp_path, "init", "lib")
    repo = tmp_path / "lib"
    (repo / "articles" / "what-is-poems-syndrome.md").unlink()
    write(repo / "articles" / "a-good-article.md", GOOD)
    return repo


def check_json(run: Run, repo: Path) -> tuple[int, dict[str, object]]:
    result = run(repo, "check", "--format", "json")
    return result.exit_code, json.loads(result.output)


BAD_INPUTS: list[tuple[str, bytes, str, int]] = [
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "file-binary", 3),
    ("invalid-utf8", b'---\ntitle: "caf\xe9"\n---\nbody\n', "file-encoding", 2),
    ("empty", b"", "file-empty", 1),
    ("whitespace-only", b"  \n\n", "file-empty", 1),
    ("no-front-matter", b"# Just markdown\n\nText.\n", "frontmatter-missing", 1),
    ("unclosed", b"---\ntitle: x\nsummary: y\n", "frontmatter-unclosed", 1),
    ("not-a-mapping", b"---\n- one\n- two\n---\nbody\n", "frontmatter-not-mapping", 2),
    ("scalar-front-matter", b"---\njust text\n---\nbody\n", "frontmatter-not-mapping", 2),
    ("empty-front-matter", b"---\n---\nbody\n", "frontmatter-not-mapping", 1),
    ("yaml-syntax", b"---\ntitle: [unclosed\nsummary: x\n---\nbody\n", "yaml-syntax", 3),
    ("bad-indent", b"---\ntitle: x\n  summary: y\n---\nbody\n", "yaml-syntax", 3),
    ("anchor", b"---\ntitle: &t x\nsummary: *t\n---\nbody\n", "yaml-alias", 2),
    (
        "alias-bomb",
        b"---\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n---\nbody\n",
        "yaml-alias",
        2,
    ),
    (
        "python-tag",
        b"---\ntitle: !!python/object/apply:os.system ['touch pwned']\n---\nbody\n",
        "yaml-tag",
        2,
    ),
    ("binary-tag", b"---\ntitle: !!binary aGVsbG8=\n---\nbody\n", "yaml-tag", 2),
    ("duplicate-key", b"---\ntitle: one\nsummary: s\ntitle: two\n---\nbody\n", "yaml-duplicate-key", 4),
    ("directive", b"---\n%YAML 1.2\n--- {title: x}\n---\nbody\n", "yaml-unsupported", 2),
    ("glued-question-mark", b"---\ntitle: x\ntags: [?x]\n---\nbody\n", "yaml-syntax", 3),
    ("unindented-quote", b'---\ntitle: x\nsummary: "one\ntwo"\n---\nbody\n', "yaml-syntax", 4),
    ("glued-comment", b'---\ntitle: x\nsummary: "s"# note\n---\nbody\n', "yaml-syntax", 3),
    ("lone-dash", b"---\ntitle: x\ntags: [-]\n---\nbody\n", "yaml-syntax", 3),
    ("non-specific-tag", b"---\ntitle: ! 12\n---\nbody\n", "yaml-tag", 2),
    # A number longer than int() converts (4,300 digits), plain or signed, a value or an item.
    ("huge-number", b"---\ntitle: x\nsummary: " + b"9" * 5000 + b"\n---\nbody\n", "yaml-unsupported", 3),
    (
        "huge-signed-item",
        b"---\ntitle: x\ntags:\n  - -" + b"9" * 5000 + b"\n---\nbody\n",
        "yaml-unsupported",
        4,
    ),
    ("Bad_Name", GOOD.encode(), "slug", 1),
]


@pytest.mark.parametrize(("name", "content", "rule", "line"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_file_is_one_finding_and_others_still_checked(
    run: Run, repo: Path, name: str, content: bytes, rule: str, line: int
) -> None:
    write(repo / "articles" / f"{name}.md", content)
    code, payload = check_json(run, repo)
    assert code == 1
    bad = [f for f in payload["findings"] if f["path"] == f"articles/{name}.md"]  # type: ignore[index,union-attr]
    assert [(f["rule"], f["line"]) for f in bad] == [(rule, line)]
    assert payload["summary"]["files"] == 2  # type: ignore[index]
    assert not any(f["path"] == "articles/a-good-article.md" for f in payload["findings"])  # type: ignore[union-attr]


def test_python_tag_is_never_executed(run: Run, repo: Path) -> None:
    write(
        repo / "articles" / "evil.md", b"---\ntitle: !!python/object/apply:os.system ['touch pwned']\n---\n"
    )
    run(repo, "check")
    assert not (repo / "pwned").exists()


def test_duplicate_key_reports_both_lines(run: Run, repo: Path) -> None:
    write(repo / "articles" / "dup.md", b"---\ntitle: one\nsummary: s\ntitle: two\n---\nbody\n")
    result = run(repo, "check", "articles/dup.md")
    assert "articles/dup.md:4:1: error yaml-duplicate-key" in result.output
    assert "first on line 2" in result.output


def test_oversized_file_is_rejected_without_parsing(run: Run, repo: Path) -> None:
    write(repo / "articles" / "huge.md", GOOD + "word " * 300_000)
    code, payload = check_json(run, repo)
    assert code == 1
    assert [f["rule"] for f in payload["findings"]] == ["file-too-large"]  # type: ignore[union-attr]


def test_yaml_11_words_and_dates_stay_text(run: Run, repo: Path) -> None:
    text = (
        article_text(title="no")
        .replace('title: "no"', "title: no")
        .replace("condition: POEMS syndrome", "condition: 2024-01-05")
    )
    write(repo / "articles" / "yaml-words.md", text)
    code, payload = check_json(run, repo)
    assert code == 0, payload
    text = text.replace("tags", "x").replace("title: no", "title: yes\ntags: [on, off, 2024-01-05]")
    write(repo / "articles" / "yaml-words.md", text)
    code, payload = check_json(run, repo)
    assert code == 0, payload


def test_utf8_bom_and_crlf_are_accepted(run: Run, repo: Path) -> None:
    write(repo / "articles" / "windows.md", ("\ufeff" + GOOD).replace("\n", "\r\n").encode("utf-8"))
    code, payload = check_json(run, repo)
    assert code == 0, payload


def test_text_output_names_file_line_and_rule(run: Run, repo: Path) -> None:
    write(repo / "articles" / "broken.md", b"---\ntitle: [unclosed\n---\n")
    result = run(repo, "check")
    assert result.exit_code == 1
    first = result.output.splitlines()[0]
    assert first.startswith("articles/broken.md:3:1: error yaml-syntax YAML syntax error")
    assert "Traceback" not in result.output


def test_directory_named_like_an_article_is_reported(run: Run, repo: Path) -> None:
    (repo / "articles" / "folder.md").mkdir()
    code, payload = check_json(run, repo)
    assert code == 1
    assert [f["rule"] for f in payload["findings"]] == ["file-unreadable"]  # type: ignore[union-attr]


REFERENCE_AS_WRITTEN = """  - id: {id}
    type: review
    title: "Update on the POEMS syndrome"
    source: "Blood Research"
    year: 2022
    doi: "10.5045/br.2022.2022001"
    pmid: {pmid}
"""


def findings_of(payload: dict[str, object], name: str) -> list[tuple[str, int, int, str]]:
    return [
        (f["rule"], f["line"], f["column"], f["message"])  # type: ignore[index]
        for f in payload["findings"]  # type: ignore[attr-defined]
        if f["path"] == f"articles/{name}.md"  # type: ignore[index]
    ]


def test_an_empty_list_item_is_a_finding_at_its_line_not_a_crash(run: Run, repo: Path) -> None:
    """`- ` alone under tags: once an IndexError that stopped the check of every article."""
    write(repo / "articles" / "empty-item.md", article_text(extra="tags:\n  - rare\n  - \n"))
    code, payload = check_json(run, repo)
    assert code == 1
    assert findings_of(payload, "empty-item") == [
        ("schema", 19, 4, "tags[1]: an empty value must be text (put it in quotes)")
    ]
    assert payload["summary"]["files"] == 2  # type: ignore[index]
    write(
        repo / "articles" / "empty-item.md",
        article_text(extra="tags:\n  - rare\n  - \n").replace("  - \n", ""),
    )
    assert check_json(run, repo)[0] == 0


def test_a_lone_carriage_return_in_the_body_ends_a_line_as_markdown_says(run: Run, repo: Path) -> None:
    """A lone CR (an old Mac line ending, found by tests/test_fuzz_content.py) was an IndexError:
    the parser ends a line there, the walk did not. Now it is a line like any other."""
    write(repo / "articles" / "lone-cr.md", article_text(body="POEMS is rare [1].\r\rIt is rare [9].\n"))
    code, payload = check_json(run, repo)
    assert code == 1
    assert findings_of(payload, "lone-cr") == [
        ("citation-unknown", 21, 12, "citation [9] cites reference 9, which is not in references")
    ]
    write(repo / "articles" / "lone-cr.md", article_text(body="POEMS is rare.\rIt is rare [1].\n"))
    assert check_json(run, repo)[0] == 0


def test_a_lone_line_break_of_yaml_11_in_front_matter_is_read_as_libyaml_reads_it(
    run: Run, repo: Path
) -> None:
    """A lone CR (or NEL, LS, PS) starts a line for libyaml; the walk over its nodes split lines
    at \\n only and looked past its list (IndexError, found by tests/test_fuzz_content.py)."""
    for name, separator in (("cr", "\r"), ("nel", "\x85"), ("ls", "\u2028")):
        text = article_text(title='A test article" # libyaml reads a comment\n#')  # not plain YAML
        text = text.replace("\n    year: 2022\n    doi", f"{separator}    year: 2022{separator}    doi")
        write(repo / "articles" / f"lone-{name}.md", text)
        write(repo / "articles" / f"key-{name}.md", text.replace("---\n", "---\n? [complex, key]\n: v\n", 1))
    code, payload = check_json(run, repo)
    assert code == 1
    for name in ("cr", "nel", "ls"):
        assert findings_of(payload, f"lone-{name}") == []
        assert findings_of(payload, f"key-{name}") == [
            ("yaml-syntax", 2, 3, "mapping keys must be plain text")
        ]


def test_numbers_are_read_the_yaml_12_way_and_quoted_as_written(run: Run, repo: Path) -> None:
    """`010` is ten, not eight (YAML 1.1 octal); `3:1` is text, not 181 (sexagesimal)."""
    references = REFERENCE_AS_WRITTEN.format(id="010", pmid='"36340912"')
    write(repo / "articles" / "octal.md", article_text("It is rare [10].\n", references=references))
    write(repo / "articles" / "ratio.md", article_text().replace("POEMS syndrome\n", "3:1\n", 1))
    code, payload = check_json(run, repo)
    assert code == 0, payload
    write(repo / "articles" / "octal.md", article_text("It is rare [8].\n", references=references))
    write(repo / "articles" / "ratio.md", article_text(title="x").replace('"x"', "0123"))
    code, payload = check_json(run, repo)
    assert code == 1
    assert [f[:2] for f in findings_of(payload, "octal")] == [
        ("reference-uncited", 11),
        ("citation-unknown", 20),
    ]
    assert findings_of(payload, "ratio") == [
        ("schema", 2, 8, "title: a number must be text (put it in quotes)")
    ]


def test_a_number_longer_than_python_converts_is_a_finding_at_its_place(run: Run, repo: Path) -> None:
    """int() converts at most 4,300 digits (sys.get_int_max_str_digits()); a longer number, plain
    or tagged, is reported where it stands, and the other fields are still read."""
    digits = "9" * 5000
    write(
        repo / "articles" / "long.md", f"---\ntitle: x\nsummary: {digits}\nyear: !!int -{digits}\n---\nbody\n"
    )
    code, payload = check_json(run, repo)
    assert code == 1
    message = (
        "a whole number of 5,000 digits, more than the 4,300 reviewflow reads (quote it to keep it as text)"
    )
    assert findings_of(payload, "long") == [
        ("yaml-unsupported", 3, 10, message),
        ("yaml-unsupported", 4, 7, message),
    ]
    write(repo / "articles" / "long.md", article_text().replace("POEMS syndrome\n", f'"{digits}"\n', 1))
    code, payload = check_json(run, repo)
    assert code == 0, payload


def test_an_unquoted_pmid_is_the_identifier_as_written(run: Run, repo: Path) -> None:
    write(
        repo / "articles" / "pmid.md",
        article_text(references=REFERENCE_AS_WRITTEN.format(id=1, pmid=36340912)),
    )
    code, payload = check_json(run, repo)
    assert code == 0, payload
    leading_zero = REFERENCE_AS_WRITTEN.format(id=1, pmid="036340912")  # not a PMID: no leading zero
    write(repo / "articles" / "pmid.md", article_text(references=leading_zero))
    code, payload = check_json(run, repo)
    assert code == 1
    [(rule, line, column, message)] = findings_of(payload, "pmid")
    assert (rule, line, column) == ("schema", 17, 11)
    assert message.startswith("references[0].pmid: '036340912' is not")


def test_one_run_reports_every_broken_file_and_still_checks_the_others(
    run: Run, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each way a file can break is a finding for that file; the good ones keep their findings."""
    from reviewflow.checks import rules
    from reviewflow.findings import Severity

    def buggy(article: object, doc: Document, ctx: object) -> list[tuple[int, int, str]]:
        if doc.slug == "hits-a-bug":
            raise KeyError("no such thing")
        return []

    monkeypatch.setitem(
        rules.RULES, "buggy", rules.Rule("buggy", Severity.WARNING, "a rule with a bug", buggy)
    )
    write(repo / "articles" / "empty-item.md", article_text(extra="tags:\n  - \n"))
    write(repo / "articles" / "bad-yaml.md", b"---\ntitle: [unclosed\n---\nbody\n")
    write(repo / "articles" / "binary.md", b"\x00\x01")
    write(repo / "articles" / "hits-a-bug.md", GOOD)
    write(repo / "articles" / "uncited.md", article_text("No citation here.\n"))
    code, payload = check_json(run, repo)
    assert code == 1
    assert payload["summary"]["files"] == 6  # type: ignore[index]
    assert [f[0] for f in findings_of(payload, "empty-item")] == ["schema"]
    assert [f[0] for f in findings_of(payload, "bad-yaml")] == ["yaml-syntax"]
    assert [f[0] for f in findings_of(payload, "binary")] == ["file-binary"]
    assert [f[0] for f in findings_of(payload, "uncited")] == ["reference-uncited"]
    assert findings_of(payload, "a-good-article") == []
    [(rule, line, column, message)] = findings_of(payload, "hits-a-bug")
    assert (rule, line, column) == ("internal-error", 1, 1)
    assert message.startswith(
        "reviewflow could not check this file: KeyError: 'no such thing' at reviewflow/"
    )
    assert message.endswith("this is a bug in reviewflow, please report it")
    # Never kept in the findings cache: once the bug is gone, the file is checked.
    monkeypatch.delitem(rules.RULES, "buggy")
    code, payload = check_json(run, repo)
    assert findings_of(payload, "hits-a-bug") == []


def test_what_yaml_12_allows_of_those_constructs_is_read(run: Run, repo: Path) -> None:
    """The negatives of the refusals above: an indented continuation, a spaced comment, a quoted
    dash, a one-line list of words."""
    text = GOOD.replace(
        'summary: "A short summary."', 'summary: "A short\n  summary." # note\ntags: ["-", a b]'
    )
    write(repo / "articles" / "fine.md", text)
    code, payload = check_json(run, repo)
    assert code == 0, payload
