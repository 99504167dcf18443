"""Reference identity checked offline: the lockfile, the matching, the rules, ci and verify."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from reviewflow.references.lockfile import LOCKFILE, Work, change_lock, dumps, parse_lock
from reviewflow.references.matching import journal_matches, normalised, title_similarity
from tests.conftest import PROJECT, article_text, git, make_content_repo, write
from tests.gitcount import git_processes

Run = Callable[..., Result]

TITLE = "Update on the POEMS syndrome"
DOI = "10.5045/br.2022.2022001"


def entry(
    title: str = TITLE, journal: str = "Blood Research", year: int = 2022, **more: Any
) -> dict[str, Any]:
    return {"source": "crossref", "checked_on": "2026-12-01", "title": title, "journal": journal, "year": year,
            "first_author": "Kim", **more}  # fmt: skip


def write_lock(repo: Path, works: dict[str, dict[str, Any]]) -> Path:
    return write(repo / LOCKFILE, json.dumps({"version": 1, "works": works}, indent=2) + "\n")


def check(run: Run, repo: Path, *paths: str) -> tuple[Result, list[dict[str, Any]]]:
    result = run(repo, "check", "--format", "json", "--no-cache", *paths)
    assert result.exit_code in (0, 1), result.output
    return result, json.loads(result.output)["findings"]


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def subject_repo(tmp_path: Path) -> Path:
    """A content repo whose one article, subject.md, cites one reference."""
    repo = make_content_repo(tmp_path / "content")
    (repo / "articles" / "what-is-poems-syndrome.md").unlink()
    write(repo / "articles" / "subject.md", article_text("POEMS syndrome is rare [1].\n"))
    return repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return subject_repo(tmp_path)


# --- the bundled articles (golden) -----------------------------------------------------------------


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    for name in ("articles", "schemas"):
        shutil.copytree(PROJECT / name, copy / name)
    shutil.copy(PROJECT / "reviewflow.toml", copy / "reviewflow.toml")
    return copy


def test_the_bundled_articles_verify_against_the_bundled_lockfile(run: Run, project_copy: Path) -> None:
    result = run(project_copy, "check", "--strict", "--no-cache")
    assert result.exit_code == 0, result.output
    assert "0 errors, 0 warnings" in result.output
    lock = parse_lock((project_copy / LOCKFILE).read_bytes())
    assert lock.works and all(w.source == "manual" and w.note for w in lock.works.values())


def test_swapped_pmids_are_two_mismatches_at_their_lines(run: Run, project_copy: Path) -> None:
    path = project_copy / "articles" / "poems-syndrome-treatment-by-disease-extent.md"
    text = path.read_text()
    assert 'pmid: "37732822"' in text and 'pmid: "27496680"' in text
    swapped = (
        text.replace('"37732822"', '"SWAP"')
        .replace('"27496680"', '"37732822"')
        .replace('"SWAP"', '"27496680"')
    )
    path.write_text(swapped)
    _, found = check(run, project_copy, "articles/poems-syndrome-treatment-by-disease-extent.md")
    mismatches = [f for f in found if f["rule"] == "reference-mismatch"]
    assert [(f["line"], f["severity"]) for f in mismatches] == [
        (line_of(swapped, 'pmid: "27496680"'), "error"),
        (line_of(swapped, 'pmid: "37732822"'), "error"),
    ]
    assert (
        "PMID 27496680 resolves to another work (Misawa, Lancet Neurology, 2016" in mismatches[0]["message"]
    )
    assert 'not "POEMS syndrome: Update on diagnosis' in mismatches[0]["message"]
    assert len(found) == 2, found


# --- the rules -------------------------------------------------------------------------------------


def test_no_lockfile_and_no_references_table_checks_nothing(run: Run, repo: Path) -> None:
    assert check(run, repo)[1] == []


def test_an_identifier_missing_from_the_lockfile_is_unverified(run: Run, repo: Path) -> None:
    write_lock(repo, {})
    result, found = check(run, repo)
    assert result.exit_code == 0
    assert [(f["rule"], f["severity"], f["line"]) for f in found] == [("reference-unverified", "warning", 16)]
    assert "run `reviewflow refs fetch articles/subject.md`" in found[0]["message"]


def test_a_references_table_asks_for_a_lockfile(run: Run, repo: Path) -> None:
    with (repo / "reviewflow.toml").open("a") as handle:
        handle.write('\n[references]\ncontact = "editors@example.org"\n')
    assert [f["rule"] for f in check(run, repo)[1]] == ["reference-unverified"]


def test_a_matching_entry_passes(run: Run, repo: Path) -> None:
    write_lock(repo, {f"doi:{DOI}": entry("Update on the <i>POEMS</i> syndrome.", year=2023)})
    assert check(run, repo)[1] == []


def test_another_title_is_a_mismatch_showing_both(run: Run, repo: Path) -> None:
    write_lock(repo, {f"doi:{DOI}": entry("Thalidomide in a randomised trial of something else")})
    result, found = check(run, repo)
    assert result.exit_code == 1
    assert [(f["rule"], f["line"], f["column"]) for f in found] == [("reference-mismatch", 16, 10)]
    message = found[0]["message"]
    assert f"DOI {DOI} resolves to another work (Kim, Blood Research, 2022; Crossref)" in message
    assert (
        '"Thalidomide in a randomised trial of something else", not "Update on the POEMS syndrome"' in message
    )


def test_a_year_two_apart_and_another_journal_are_mismatches(run: Run, repo: Path) -> None:
    write_lock(repo, {f"doi:{DOI}": entry(year=2020, journal="Blood")})
    message = check(run, repo)[1][0]["message"]
    assert "its year is 2020, not 2022" in message
    assert 'its journal is "Blood", not "Blood Research"' in message


def test_a_registry_that_does_not_know_the_identifier_is_an_error(run: Run, repo: Path) -> None:
    write_lock(repo, {f"doi:{DOI}": {"source": "crossref", "checked_on": "2026-12-01", "found": False}})
    found = check(run, repo)[1]
    assert [(f["rule"], f["severity"], f["line"]) for f in found] == [("reference-not-found", "error", 16)]
    assert f"DOI {DOI} does not exist in Crossref (checked 2026-12-01)" in found[0]["message"]


@pytest.mark.parametrize(
    ("notice", "rule", "severity", "words"),
    [
        ("retraction", "reference-retracted", "error", "has been retracted (Crossref)"),
        (
            "expression-of-concern",
            "reference-concern",
            "warning",
            "carries an expression of concern (Crossref)",
        ),
        (
            "correction",
            "reference-corrected",
            "warning",
            "has a correction: correction DOI 10.5045/fix.1, 2023-02",
        ),
    ],
)
def test_the_lockfiles_notices(
    run: Run, repo: Path, notice: str, rule: str, severity: str, words: str
) -> None:
    notices = [{"type": notice, "doi": "10.5045/fix.1", "date": "2023-02"}]
    write_lock(repo, {f"doi:{DOI}": entry(notices=notices)})
    found = check(run, repo)[1]
    assert [(f["rule"], f["severity"], f["line"]) for f in found] == [(rule, severity, 11)]
    assert words in found[0]["message"]


def test_a_pmcid_is_judged_by_the_pmid_it_converts_to(run: Run, repo: Path) -> None:
    references = f'''  - id: 1
    type: review
    title: "{TITLE}"
    source: "Blood Research"
    year: 2022
    pmcid: "PMC123"
'''
    write(repo / "articles" / "subject.md", article_text(references=references))
    write_lock(repo, {
        "pmcid:PMC123": {"source": "pmc-idconv", "checked_on": "2026-12-01", "pmid": "555"},
        "pmid:555": entry("A study of another disease altogether", source="pubmed"),
    })  # fmt: skip
    found = check(run, repo)[1]
    assert [(f["rule"], f["line"]) for f in found] == [("reference-mismatch", 16)]
    assert (
        "PMCID PMC123 resolves to another work (PMID 555) (Kim, Blood Research, 2022; PubMed)"
        in found[0]["message"]
    )


def test_a_pmid_whose_pubmed_record_lists_another_doi(run: Run, repo: Path) -> None:
    references = article_text().split("references:\n")[1].split("---")[0] + '    pmid: "555"\n'
    write(repo / "articles" / "subject.md", article_text(references=references))
    write_lock(repo, {f"doi:{DOI}": entry(), "pmid:555": entry(source="pubmed", doi="10.9999/other")})
    found = check(run, repo)[1]
    assert [(f["rule"], f["line"]) for f in found] == [("reference-mismatch", 17)]
    assert f"PubMed lists DOI 10.9999/other for it, not {DOI}" in found[0]["message"]


def test_the_findings_cache_follows_the_lockfile(run: Run, repo: Path) -> None:
    write_lock(repo, {f"doi:{DOI}": entry()})
    assert run(repo, "check").exit_code == 0
    write_lock(repo, {f"doi:{DOI}": entry("Another paper entirely, about something else")})
    result = run(repo, "check")
    assert result.exit_code == 1 and "reference-mismatch" in result.output


def test_rule_settings_apply(run: Run, repo: Path) -> None:
    write_lock(repo, {})
    with (repo / "reviewflow.toml").open("a") as handle:
        handle.write('\n[checks.rules]\n"reference-unverified" = { patient = "error" }\n')
    result, found = check(run, repo)
    assert result.exit_code == 1 and found[0]["severity"] == "error"


# --- the lockfile itself ---------------------------------------------------------------------------


def test_malformed_json_is_exit_2_naming_the_line(run: Run, repo: Path) -> None:
    write(repo / LOCKFILE, '{\n  "version": 1,\n  "works": {,}\n}\n')
    result = run(repo, "check")
    assert result.exit_code == 2
    assert result.output.startswith(f"reviewflow: {LOCKFILE}:3:13: not valid JSON")
    assert "Traceback" not in result.output


def test_a_wrong_entry_names_its_line(run: Run, repo: Path) -> None:
    write_lock(repo, {"doi:10.1/a": entry(), f"doi:{DOI}": entry(year="2022")})
    result = run(repo, "check")
    assert result.exit_code == 2
    assert f"reviewflow: {LOCKFILE}:12: entry 'doi:{DOI}': 'year' must be a whole number" in result.output


def test_a_key_not_in_its_canonical_form_is_refused() -> None:
    with pytest.raises(Exception, match="a key is doi:<lowercase DOI>"):
        parse_lock(json.dumps({"version": 1, "works": {"doi:10.1/ABC": entry()}}).encode())


def test_the_lockfile_is_written_sorted_and_stable() -> None:
    works = [
        Work("pmid:2", "pubmed", "2026-12-01", title="B"),
        Work("doi:10.1/a", "crossref", "2026-12-01", title="A"),
    ]
    first = dumps(works)
    assert first == dumps(list(reversed(works)))
    assert first.endswith(b"}\n") and first.index(b"doi:10.1/a") < first.index(b"pmid:2")
    assert dumps(parse_lock(first).works.values()) == first


def test_refs_show(run: Run, repo: Path) -> None:
    write_lock(repo, {f"doi:{DOI}": entry()})
    result = run(repo, "refs", "show", DOI.upper())
    assert (
        result.exit_code == 0 and f'"doi:{DOI}"' in result.output and '"title": "Update on' in result.output
    )
    missing = run(repo, "refs", "show", "12345")
    assert missing.exit_code == 2 and "has no entry for 12345" in missing.output


# --- the matching, directly ------------------------------------------------------------------------


def test_normalisation() -> None:
    assert normalised("The Lancet&nbsp;Neurology") == "lancet neurology"
    assert normalised("Édème &amp; <sup>18</sup>F-FDG: a café study") == "edeme and 18 f fdg a cafe study"
    assert title_similarity("POEMS syndrome: an update", "POEMS Syndrome. An Update.") == 1.0
    assert title_similarity("POEMS syndrome", "POEMS syndrome: an update") < 0.85


def test_journal_names() -> None:
    work = Work("doi:10.1/a", "crossref", "2026-12-01", journal="American Journal of Hematology",
                issn=("0361-8609",))  # fmt: skip
    assert journal_matches("Am J Hematol", work)
    assert journal_matches("Am. J. Hematol.", work)
    assert journal_matches("0361-8609", work)
    assert not journal_matches("0006-4971", work)
    assert not journal_matches("Blood", work)
    assert journal_matches(
        "Lancet Neurology", Work("doi:10.1/b", "crossref", "x", journal="The Lancet Neurology")
    )


def test_the_very_title_or_journal_name_matches_without_normalising_and_an_issn_still_goes_first() -> None:
    assert title_similarity("Update &amp; <i>review</i>", "Update &amp; <i>review</i>") == 1.0
    assert title_similarity("", "") == 1.0
    work = Work("doi:10.1/c", "crossref", "x", journal="0006-4971", issn=("0361-8609",))
    assert not journal_matches("0006-4971", work)  # read as an ISSN, which the work does not have
    assert journal_matches("American Journal of Hematology", Work("doi:10.1/d", "crossref", "x",
                           journal="American Journal of Hematology", journal_abbreviation="Am J Hematol"))  # fmt: skip


# --- ci and verify ---------------------------------------------------------------------------------


def committed(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def locked_then_branched(repo: Path) -> Path:
    """REPO with its lockfile committed on main, on a new branch `change`; the article's path."""
    write_lock(repo, {f"doi:{DOI}": entry()})
    committed(repo, "Lock the references")
    git(repo, "checkout", "-q", "-b", "change")
    return repo / "articles" / "subject.md"


def test_ci_judges_by_the_base_lockfile_as_well(run: Run, repo: Path) -> None:
    path = locked_then_branched(repo)
    path.write_text(path.read_text().replace(TITLE, "A title that is not the paper's"))
    write_lock(repo, {f"doi:{DOI}": entry("A title that is not the paper's")})  # made to fit
    committed(repo, "Retitle the reference, and the lockfile to match")
    assert run(repo, "check").exit_code == 0  # the work tree's lockfile agrees with itself
    result = run(repo, "ci", "--base", "main")
    assert result.exit_code == 1, result.output
    assert "reference-mismatch" in result.output and "Update on the POEMS syndrome" in result.output


def test_ci_judges_by_a_lockfile_the_change_left_alone(run: Run, repo: Path) -> None:
    path = locked_then_branched(repo)
    path.write_text(path.read_text().replace(TITLE, "A title that is not the paper's"))
    committed(repo, "Retitle the reference only")
    result = run(repo, "ci", "--base", "main")
    assert result.exit_code == 1, result.output
    assert "reference-mismatch" in result.output and "Update on the POEMS syndrome" in result.output


def test_the_same_lockfile_at_both_ends_is_read_once_and_named_for_each() -> None:
    raw = dumps([Work(f"doi:{DOI}", "crossref", "2025-01-01", title=TITLE)])
    lock = change_lock(raw, raw, required=False)
    assert lock is not None and lock.base is not None
    assert (lock.path, lock.base.path) == (f"{LOCKFILE} (at HEAD)", f"{LOCKFILE} (at the base)")
    assert lock.base.raw is lock.raw and lock.base.digest == lock.digest
    assert [w.title for w in lock.entries("doi", DOI)] == [TITLE]  # one entry, not the same twice
    other = change_lock(raw, dumps([]), required=False)
    assert other is not None and other.base is not None and other.base.raw == {}


def test_ci_takes_a_new_reference_with_its_lockfile_entry(run: Run, repo: Path) -> None:
    path = locked_then_branched(repo)
    path.write_text(path.read_text().replace(DOI, "10.1234/new.1"))
    write_lock(repo, {f"doi:{DOI}": entry(), "doi:10.1234/new.1": entry()})
    committed(repo, "Cite the new DOI, fetched")
    result = run(repo, "ci", "--base", "main")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("setting", "code"), [("warning", 0), ("error", 1)])
def test_ci_unverified(run: Run, repo: Path, setting: str, code: int) -> None:
    with (repo / "reviewflow.toml").open("a") as handle:
        handle.write(f'\n[references]\ncontact = "editors@example.org"\nci_unverified = "{setting}"\n')
    path = locked_then_branched(repo)
    path.write_text(path.read_text().replace(DOI, "10.1234/unfetched"))
    committed(repo, "Cite a DOI not fetched")
    result = run(repo, "ci", "--base", "main")
    assert result.exit_code == code, result.output
    assert "reference-unverified" in result.output


def approved_and_locked(run: Run, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The subject article and a lockfile that vouches for its reference, committed; the
    article submitted, reviewed and approved by Rita."""
    from tests.conftest import as_author

    write_lock(repo, {f"doi:{DOI}": entry()})
    committed(repo, "Write and lock")
    assert run(repo, "submit", "subject").exit_code == 0
    as_author(monkeypatch, "Dr. Rita Reviewer", "rita@board.example")
    assert run(repo, "review", "subject").exit_code == 0
    assert run(repo, "approve", "subject").exit_code == 0, "approved"


def test_verify_lists_an_approved_text_the_lockfile_now_contradicts(
    run: Run, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    approved_and_locked(run, repo, monkeypatch)
    with git_processes() as first:  # the text the gate reads is judged against the lockfile too
        assert run(repo, "verify").exit_code == 0
    with git_processes() as again:  # judged by both before: the lockfile is not read, only its blob id
        assert run(repo, "verify").exit_code == 0
    assert again["cat-file"] == first["cat-file"] - 1, (first, again)  # the one that read the lockfile
    write_lock(repo, {f"doi:{DOI}": entry("What the registry now says is another paper")})
    committed(repo, "Fetch the references again")
    with git_processes() as relocked:  # the gate judged the text before: read for the lockfile alone
        result = run(repo, "verify")
    # one cat-file for the lockfile and the schema, one for the text
    assert relocked["cat-file"] == again["cat-file"] + 2, (again, relocked)
    assert result.exit_code == 1, result.output
    assert (
        "references subject  approved text no longer matches articles/references.lock.json" in result.output
    )
    payload = json.loads(run(repo, "verify", "--format", "json").output)
    assert payload["stale_references"][0]["findings"][0]["rule"] == "reference-mismatch"
