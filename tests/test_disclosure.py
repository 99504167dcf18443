"""Disclosure and authority: who wrote and who reviewed an article, what they declare, who paid
for it, and dates that cannot be in the future; in `check`, in reviewflow.toml and on the site."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import Result

from reviewflow.configfile import load_config
from reviewflow.publish.build import publish
from reviewflow.review.actions import act
from reviewflow.review.model import Action
from tests.browser.html import json_ld, parse, read
from tests.conftest import article_text, as_author, git, write

Run = Callable[..., Result]

# An author written the long way, each key on its own line, as authors write them.
UNDECLARED = """authors:
  - name: "Alice Author"
    email: "alice@authors.example"
  - name: "Bob Writer"
    email: "bob@authors.example"
    competing_interests: "Paid speaker for a maker of lenalidomide"
"""


@pytest.fixture
def repo(tmp_path: Path, run: Run) -> Path:
    run(tmp_path, "init", "lib")
    return tmp_path / "lib"


def check(run: Run, repo: Path, text: str) -> tuple[int, list[dict[str, object]]]:
    write(repo / "articles" / "subject.md", text)
    result = run(repo, "check", "articles/subject.md", "--format", "json")
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.output)["findings"]


def with_authors(authors: str, **kw: str) -> str:
    text = article_text(**kw)
    start = text.index("authors:\n")
    end = text.index("disclaimer:")
    return text[:start] + authors + text[end:]


# --- disclosure-missing ----------------------------------------------------------------------


def test_an_author_without_a_declaration_is_an_error_at_their_line(run: Run, repo: Path) -> None:
    code, found = check(run, repo, with_authors(UNDECLARED))
    assert code == 1
    assert [(f["rule"], f["severity"], f["line"], f["column"]) for f in found] == [
        ("disclosure-missing", "error", 7, 5)
    ]
    assert "'Alice Author'" in str(found[0]["message"]) and '"none"' in str(found[0]["message"])


def test_none_is_a_declaration_and_a_blank_one_is_not(run: Run, repo: Path) -> None:
    declared = UNDECLARED.replace(
        '"alice@authors.example"\n', '"alice@authors.example"\n    competing_interests: "none"\n'
    )
    assert check(run, repo, with_authors(declared)) == (0, [])
    blank = declared.replace('competing_interests: "none"', 'competing_interests: "  "')
    code, found = check(run, repo, with_authors(blank))
    assert (code, [(f["rule"], f["line"]) for f in found]) == (1, [("disclosure-missing", 7)])


def test_credentials_funding_and_sponsor_are_front_matter_fields(run: Run, repo: Path) -> None:
    authors = UNDECLARED.replace(
        '"alice@authors.example"\n',
        '"alice@authors.example"\n    credentials: "MD"\n    competing_interests: "none"\n',
    )
    extra = 'funding: "The Example Foundation"\nsponsor: "Example Pharma Ltd"\n'
    assert check(run, repo, with_authors(authors, extra=extra)) == (0, [])
    code, found = check(run, repo, with_authors(authors, extra='sponsor: ""\n'))
    assert (code, [f["rule"] for f in found]) == (1, ["schema"])


@pytest.mark.parametrize(
    ("setting", "expected"), [("warning", [("disclosure-missing", "warning")]), ("off", [])]
)
def test_disclosure_missing_is_configurable(
    run: Run, repo: Path, setting: str, expected: list[object]
) -> None:
    config = repo / "reviewflow.toml"
    config.write_text(
        config.read_text().replace(
            "[checks]\n", f'[checks]\nrules = {{ "disclosure-missing" = "{setting}" }}\n'
        )
    )
    code, found = check(run, repo, with_authors(UNDECLARED))
    assert (code, [(f["rule"], f["severity"]) for f in found]) == (0, expected)


# --- date-future -----------------------------------------------------------------------------


def test_a_reference_dated_after_this_year_is_an_error_at_its_year(run: Run, repo: Path) -> None:
    next_year = date.today().year + 1
    code, found = check(run, repo, article_text().replace("year: 2022", f"year: {next_year}"))
    assert code == 1
    assert [(f["rule"], f["severity"], f["line"], f["column"]) for f in found] == [
        ("date-future", "error", 15, 11)
    ]
    assert f"dated {next_year}, after this year ({next_year - 1})" in str(found[0]["message"])


def test_a_reference_from_this_year_is_not_in_the_future(run: Run, repo: Path) -> None:
    this_year = date.today().year
    assert check(run, repo, article_text().replace("year: 2022", f"year: {this_year}")) == (0, [])


# --- the board's declarations in reviewflow.toml ----------------------------------------------


def test_a_profile_url_must_be_an_http_address(run: Run, repo: Path) -> None:
    config = repo / "reviewflow.toml"
    config.write_text(
        config.read_text()
        + '\n[[board]]\nname = "Dr. X"\nemail = "x@board.example"\ncredentials = "MD"\n'
        + 'profile_url = "javascript:alert(1)"\n'
    )
    result = run(repo, "check")
    assert result.exit_code == 2
    line = len(config.read_text().splitlines())
    assert f"reviewflow.toml:{line}: board[0].profile_url: String should match pattern" in result.output


# --- the published site ------------------------------------------------------------------------

BOARD = """
[[board]]
name = "Dr. Rita Reviewer"
email = "rita@board.example"
credentials = "MD, Hematology"
affiliation = "City Hospital <Hematology>"
profile_url = "https://city-hospital.example/staff/rita"
competing_interests = "Advisory board fees from Example Pharma"

[[board]]
name = "Dr. Sam Second"
email = "sam@board.example"
credentials = "MD, Neurology"
"""


@pytest.fixture
def site(tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A library with one sponsored article approved by Rita (declared) and one by Sam (not)."""
    repo = tmp_path / "lib"
    run(tmp_path, "init", "lib")
    (repo / "articles" / "what-is-poems-syndrome.md").unlink()
    config = repo / "reviewflow.toml"
    config.write_text(config.read_text() + BOARD)
    authors = UNDECLARED.replace(
        '"alice@authors.example"\n',
        '"alice@authors.example"\n    credentials: "RN"\n    competing_interests: "none"\n',
    )
    extra = 'funding: "A grant from the Example Foundation"\nsponsor: "Example Pharma <Ltd>"\n'
    write(repo / "articles" / "sponsored.md", with_authors(authors, extra=extra, title="Sponsored one"))
    write(repo / "articles" / "plain.md", article_text(title="Plain one"))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Start")
    for slug, reviewer in (("sponsored", ("Dr. Rita Reviewer", "rita@board.example")),
                           ("plain", ("Dr. Sam Second", "sam@board.example"))):  # fmt: skip
        for who, action in ((("Alice Author", "alice@authors.example"), Action.SUBMIT),
                            (reviewer, Action.REVIEW), (reviewer, Action.APPROVE)):  # fmt: skip
            as_author(monkeypatch, *who)
            act(repo, load_config(repo), action, slug)
    result = publish(repo, tmp_path / "site", base_url="https://health.example.org")
    assert len(result.notes) == 1 and result.notes[0].startswith(
        "board[1] Dr. Sam Second: no competing_interests"
    )
    return repo, result.out


def declarations(page_path: Path) -> dict[str, str]:
    section = read(page_path).with_class("declarations")[0]
    return {item.find("dt").words: item.find("dd").words for item in section.with_class("declaration")}


def test_the_article_page_shows_every_declaration(site: tuple[Path, Path]) -> None:
    _, out = site
    assert declarations(out / "articles/sponsored/index.html") == {
        "Alice Author, RN (author)": "Competing interests: None declared.",
        "Bob Writer (author)": "Competing interests: Paid speaker for a maker of lenalidomide",
        "Dr. Rita Reviewer, MD, Hematology, City Hospital <Hematology> (medical reviewer)":
            "Competing interests: Advisory board fees from Example Pharma",
        "Funding": "A grant from the Example Foundation",
        "Sponsor": "Example Pharma <Ltd>",
    }  # fmt: skip
    assert declarations(out / "articles/plain/index.html") == {
        "Alice Author (author)": "Competing interests: None declared.",
        "Dr. Sam Second, MD, Neurology (medical reviewer)": "Competing interests: No declaration on file.",
    }


def test_a_sponsored_article_says_so_under_its_title(site: tuple[Path, Path]) -> None:
    _, out = site
    html = (out / "articles/sponsored/index.html").read_text()
    assert "Example Pharma &lt;Ltd&gt;" in html and "<Ltd>" not in html  # escaped, like all article text
    main = parse(html).find("main")
    blocks = [e for e in main.iter() if e.tag in ("h1", "p", "section")]
    notice = main.with_class("sponsored")[0]
    assert notice.words.startswith("Sponsored by Example Pharma <Ltd>.") and notice.attrs["role"] == "note"
    assert blocks.index(notice) == blocks.index(main.find("h1")) + 1  # right under the title
    assert read(out / "articles/plain/index.html").with_class("sponsored") == []


def test_funding_and_sponsor_are_in_the_json_ld(site: tuple[Path, Path]) -> None:
    _, out = site
    data = json_ld((out / "articles/sponsored/index.html").read_text())
    assert data["funding"] == {"@type": "Grant", "name": "A grant from the Example Foundation"}
    assert data["sponsor"] == {"@type": "Organization", "name": "Example Pharma <Ltd>"}
    assert data["author"][0]["hasCredential"]["name"] == "RN"
    plain = json_ld((out / "articles/plain/index.html").read_text())
    assert "funding" not in plain and "sponsor" not in plain


def test_the_board_page_shows_affiliations_and_declarations(site: tuple[Path, Path]) -> None:
    _, out = site
    members = read(out / "board/index.html").with_class("member")
    rita, sam = members
    affiliation = rita.with_class("member-affiliation")[0]
    assert affiliation.words == "City Hospital <Hematology>"
    assert affiliation.find("a").attrs["href"] == "https://city-hospital.example/staff/rita"
    assert (
        rita.with_class("member-interests")[0].words
        == "Competing interests: Advisory board fees from Example Pharma"
    )
    assert sam.with_class("member-affiliation") == []
    assert sam.with_class("member-interests")[0].words == "Competing interests: No declaration on file."


# --- date-future in the history: verify -------------------------------------------------------


def test_verify_reports_a_review_event_dated_after_the_run(
    content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(content_repo, "submit", "what-is-poems-syndrome").exit_code == 0
    clean = run(content_repo, "verify")
    assert (clean.exit_code, clean.output.strip()) == (0, "1 review event checked: all valid (ok)")
    for role in ("AUTHOR", "COMMITTER"):  # a reviewer whose clock is years ahead
        monkeypatch.setenv(f"GIT_{role}_DATE", "2099-01-02T03:04:05Z")
    as_author(monkeypatch, "Dr. Rita Reviewer", "rita@board.example")
    assert run(content_repo, "review", "what-is-poems-syndrome").exit_code == 0
    result = run(content_repo, "verify")
    assert result.exit_code == 1
    future, reason, summary = result.output.strip().splitlines()
    assert future.startswith("future commit ") and "2099-01-02 03:04  review what-is-poems-syndrome" in future
    assert (
        "dated 2099-01-02T03:04:05+00:00, after the time of this run" in reason and "(date-future)" in reason
    )
    assert summary.startswith("2 review events checked: 0 invalid, not counted, 1 dated in the future")
    data = json.loads(run(content_repo, "verify", "--format", "json").output)
    assert ([e["action"] for e in data["future"]], data["valid"]) == (["review"], False)


def test_ci_fails_a_review_event_in_the_change_dated_after_the_run(
    content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(content_repo, "checkout", "-q", "-b", "change")
    assert run(content_repo, "submit", "what-is-poems-syndrome").exit_code == 0
    clean = run(content_repo, "ci", "--base", "main", "--format", "json")
    assert [f["rule"] for f in json.loads(clean.output)["findings"]] == []
    for role in ("AUTHOR", "COMMITTER"):  # a reviewer whose clock is years ahead
        monkeypatch.setenv(f"GIT_{role}_DATE", "2099-01-02T03:04:05Z")
    as_author(monkeypatch, "Dr. Rita Reviewer", "rita@board.example")
    assert run(content_repo, "review", "what-is-poems-syndrome").exit_code == 0
    result = run(content_repo, "ci", "--base", "main", "--format", "json")
    assert result.exit_code == 1, result.output
    [finding] = json.loads(result.output)["findings"]
    assert (finding["rule"], finding["severity"], finding["path"]) == (
        "date-future",
        "error",
        "articles/what-is-poems-syndrome.md",
    )
    assert "review by rita@board.example in commit " in finding["message"]
    assert "dated 2099-01-02T03:04:05+00:00, after the time of this run" in finding["message"]


def test_a_few_minutes_of_clock_difference_is_not_the_future(content_repo: Path, run: Run) -> None:
    from reviewflow.review.clock import LEEWAY
    from reviewflow.review.queries import verify

    assert run(content_repo, "submit", "what-is-poems-syndrome").exit_code == 0
    [event] = verify(content_repo).events
    assert verify(content_repo, now=event.committed_at - LEEWAY).future == []
    assert verify(content_repo, now=event.committed_at - LEEWAY * 2).future == [event]


def test_publish_notes_review_events_dated_after_the_build(
    content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_DATE", "2030-06-01T00:00:00Z")
    assert run(content_repo, "submit", "what-is-poems-syndrome").exit_code == 0

    def notes(now: datetime) -> list[str]:
        built = publish(content_repo, tmp_path / "site", now=now)
        return [note for note in built.notes if "date-future" in note]

    [note] = notes(datetime(2030, 5, 31, tzinfo=UTC))
    assert note.startswith("1 review event(s) dated after the time of this build, such as commit ")
    assert "(2030-06-01T00:00:00+00:00)" in note
    assert notes(datetime(2030, 6, 1, 1, tzinfo=UTC)) == []


def test_ci_names_a_change_to_a_members_declaration(content_repo: Path, run: Run) -> None:
    git(content_repo, "checkout", "-q", "-b", "declare")
    config = content_repo / "reviewflow.toml"
    config.write_text(
        config.read_text().replace(
            'email = "rita@board.example"\n',
            'email = "rita@board.example"\ncompeting_interests = "Consulting fees from Example Pharma"\n',
        )
    )
    git(content_repo, "commit", "-q", "-am", "Rita declares")
    result = run(content_repo, "ci", "--base", "main")
    assert result.exit_code == 0, result.output
    assert (
        "warning config-changed board member rita@board.example: competing_interests unset → "
        '"Consulting fees from Example Pharma"' in result.output
    )
    assert "only in comments or formatting" not in result.output


def test_ci_compares_every_field_of_a_board_member() -> None:
    from reviewflow.ci.config_diff import MEMBER_FIELDS
    from reviewflow.config import BoardMember

    assert set(MEMBER_FIELDS) == set(BoardMember.model_fields) - {"email"}  # email: who the member is
