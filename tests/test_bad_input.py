"""Bad input gets one clear finding naming the file, and the other files are still checked."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

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
