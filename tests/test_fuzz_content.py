"""Property-based fuzzing of what authors write: an article file, its body, and its page.

Properties: `check` never raises on any file (every problem is a finding at a line:column of
that file, never an `internal-error`); the HTML readers get from any body holds no script,
event handler, style or javascript:/data:/vbscript: URL (walked with a real HTML parser); and
the citations `check` sees are exactly the numbered links the page shows. Strategies and the
profiles (`REVIEWFLOW_FUZZ=ci|long`) are in tests/fuzzing.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from reviewflow.checks.rules import check_document
from reviewflow.checks.workspace import Workspace
from reviewflow.cli.commands import cli
from reviewflow.cli.scaffold import init_repo
from reviewflow.content.article import Reference
from reviewflow.content.markup import BodyRenderer
from reviewflow.content.prose import read_prose
from tests.browser.html import Element, parse
from tests.conftest import article_text, git, make_content_repo, write
from tests.fuzzing import BODIES, FEW, PROCESSES, article_bytes


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A content repo made by `init` (no git needed to check files), opened once."""
    root = tmp_path_factory.mktemp("fuzz") / "lib"
    init_repo(root)
    return Workspace.open(root)


RENDERER = BodyRenderer()


def lines_of(raw: bytes) -> int:
    """An upper bound on the lines any reader could count in RAW, whatever it takes for a break."""
    return len(raw.decode("utf-8", "replace").splitlines()) + raw.count(b"\n") + 1


# --- check never raises -----------------------------------------------------------------------


@given(raw=article_bytes())
def test_check_reports_every_problem_of_any_file_as_a_finding_at_a_place_in_it(
    workspace: Workspace, raw: bytes
) -> None:
    doc = workspace.parse("articles/fuzzed.md", raw)
    findings = check_document(doc, workspace.context(date(2026, 12, 1)))
    for finding in findings:
        assert finding.rule != "internal-error", finding.message
        assert finding.path == "articles/fuzzed.md"
        assert 1 <= finding.line <= lines_of(raw), (finding, lines_of(raw))
        assert finding.column >= 1, finding
        assert finding.message.strip(), finding
    if doc.article is None:  # a file that did not parse says so
        assert [f for f in findings if f.severity == "error"], findings


@contextmanager
def library_of(files: list[bytes]) -> Iterator[Path]:
    """A content repo made by `init` (no git) holding FILES as articles fuzzed-0.md, ..."""
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory) / "lib"
        init_repo(root)
        for number, raw in enumerate(files):
            write(root / "articles" / f"fuzzed-{number}.md", raw)
        yield root


@FEW
@given(files=st.lists(article_bytes(), min_size=3, max_size=8))
def test_check_command_reports_any_files_as_findings_never_a_crash(files: list[bytes]) -> None:
    with library_of(files) as root:
        result = CliRunner().invoke(cli, ["-C", str(root), "check", "--format", "json", "--no-cache"])
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.stdout)
    named = {f["path"] for f in report["findings"]}
    assert not [f for f in report["findings"] if f["rule"] == "internal-error"], result.stdout
    assert named <= {"articles/what-is-poems-syndrome.md"} | {
        f"articles/fuzzed-{n}.md" for n in range(len(files))
    }


@PROCESSES
@given(files=st.lists(article_bytes(), min_size=2, max_size=4))
def test_check_as_a_real_process_never_shows_a_traceback(files: list[bytes]) -> None:
    with library_of(files) as root:
        done = subprocess.run(
            [sys.executable, "-m", "reviewflow", "check", "--no-cache"], cwd=root, capture_output=True
        )
    assert done.returncode in (0, 1), done.stderr
    assert b"Traceback" not in done.stdout + done.stderr
    assert b"internal-error" not in done.stdout, done.stdout


# --- the page of any body is inert ------------------------------------------------------------

FORBIDDEN_TAGS = {"script", "iframe", "frame", "object", "embed", "svg", "math", "style", "link", "meta",
                  "base", "form", "input", "button", "img", "video", "audio", "source", "template"}  # fmt: skip
ALLOWED_ATTRIBUTES = {"href", "title", "start", "class", "rel"}
# What a browser ignores in a URL before its scheme: ASCII whitespace and C0 controls anywhere.
_IGNORED_IN_URL = re.compile(r"[\x00-\x20\x7f]+")


def unsafe_url(value: str) -> bool:
    """Whether a browser would run or load VALUE as a script or inline document."""
    squeezed = _IGNORED_IN_URL.sub("", value).lower()
    return squeezed.startswith(("javascript:", "data:", "vbscript:"))


def inert_problems(tree: Element) -> list[str]:
    problems = []
    for element in tree.iter():
        if element.tag in FORBIDDEN_TAGS:
            problems.append(f"<{element.tag}>")
        for name, value in element.attrs.items():
            if name.startswith("on") or name not in ALLOWED_ATTRIBUTES or unsafe_url(value):
                problems.append(f"<{element.tag} {name}={value!r}>")
    return problems


@given(body=BODIES)
def test_the_html_of_any_body_holds_no_script_handler_or_script_url(body: str) -> None:
    html = RENDERER.render(body, {})
    assert not inert_problems(parse(html)), (inert_problems(parse(html)), html)
    assert "<script" not in html.lower(), html  # raw HTML arrives as text, `&lt;script`


def references_for(ids: set[int]) -> dict[int, Reference]:
    return {i: Reference(id=i, type="review", title=f"Ref {i}", source="Journal", year=2020) for i in ids}


@given(body=BODIES)
def test_the_citations_check_sees_are_the_numbered_links_the_page_shows(body: str) -> None:
    citations = read_prose(body, 1).citations
    seen = [list(dict.fromkeys(c.ids)) for c in citations if c.problem is None and c.ids]
    cited = {i for c in citations for i in c.ids}
    tree = parse(RENDERER.render(body, references_for(cited)))
    shown = [
        [int(a.attrs["href"].removeprefix("#ref-")) for a in sup.find_all("a")]
        for sup in tree.iter()
        if sup.tag == "sup" and sup.has_class("cite")
    ]
    assert shown == seen, body
    # Without the references, the same markers are shown, unlinked, as their numbers.
    bare = parse(RENDERER.render(body, {}))
    assert [sup.words for sup in bare.with_class("cite")] == [
        "[" + ", ".join(map(str, ids)) + "]" for ids in seen
    ], body


@FEW
@given(bodies=st.lists(BODIES, min_size=4, max_size=10))
def test_every_published_page_of_fuzzed_bodies_is_inert(bodies: list[str]) -> None:
    """The whole pages `publish --preview` writes: no script but the JSON-LD and the site's own
    files, no handler, no script URL, whatever the bodies hold."""
    with tempfile.TemporaryDirectory() as directory:
        root = make_content_repo(Path(directory) / "lib")
        for number, body in enumerate(bodies):
            # A NUL byte makes a file binary, which publish refuses (test_bad_input.py).
            write(root / "articles" / f"fuzzed-{number}.md", article_text(body=body.replace("\0", "") + "\n"))
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "Fuzzed articles")
        out = Path(directory) / "site"
        result = CliRunner().invoke(cli, ["-C", str(root), "publish", "--preview", "--out", str(out)])
        assert result.exit_code == 0, result.output
        pages = sorted(out.glob("articles/fuzzed-*/index.html"))
        assert len(pages) == len(bodies)
        for page in pages:
            html = page.read_text(encoding="utf-8")
            tree = parse(html)
            for script in tree.find_all("script"):
                if script.attrs.get("type") == "application/ld+json":
                    json.loads(script.text)
                else:  # the site's own script file, if the site has one: no inline code
                    source = script.attrs.get("src", "")
                    assert source and ":" not in source and not source.startswith("//"), script.attrs
                    assert not script.text.strip(), script.text
            for element in tree.iter():
                assert not [n for n in element.attrs if n.startswith("on")], element.attrs
                assert not [v for v in element.attrs.values() if unsafe_url(v)], element.attrs
                assert element.tag not in FORBIDDEN_TAGS - {"script", "link", "meta"}, element.tag
