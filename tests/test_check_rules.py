"""Every `check` rule: a case that fires it and a case that does not."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import PROJECT, article_text, write

Run = Callable[..., Result]


@pytest.fixture
def repo(tmp_path: Path, run: Run) -> Path:
    run(tmp_path, "init", "lib")
    return tmp_path / "lib"


def findings(run: Run, repo: Path, text: str, name: str = "subject.md") -> list[dict[str, object]]:
    write(repo / "articles" / name, text)
    result = run(repo, "check", f"articles/{name}", "--format", "json")
    assert result.exit_code in (0, 1), result.output
    payload = json.loads(result.output)
    return list(payload["findings"])


def rules(found: list[dict[str, object]]) -> list[object]:
    return [f["rule"] for f in found]


def test_valid_article_has_no_findings(run: Run, repo: Path) -> None:
    assert findings(run, repo, article_text()) == []


# --- front-matter and schema -------------------------------------------------------------


def test_schema_violation_names_the_field_and_its_line(run: Run, repo: Path) -> None:
    text = article_text().replace("audience: patient", "audience: everyone")
    found = findings(run, repo, text)
    assert rules(found) == ["schema"]
    assert found[0]["line"] == 4
    assert "audience" in str(found[0]["message"])


def test_missing_required_field_is_reported(run: Run, repo: Path) -> None:
    text = article_text().replace("condition: POEMS syndrome\n", "")
    found = findings(run, repo, text)
    assert rules(found) == ["schema"]
    assert "missing required field 'condition'" in str(found[0]["message"])


@pytest.mark.parametrize("key", ["status", "state", "approved", "reviewed_by"])
def test_review_state_in_front_matter_is_rejected(run: Run, repo: Path, key: str) -> None:
    found = findings(run, repo, article_text(extra=f"{key}: approved\n"))
    assert rules(found) == ["schema"]
    assert f"'{key}'" in str(found[0]["message"])
    assert "git" in str(found[0]["message"])
    assert found[0]["line"] == 17


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("doi", '"doi:10.1182/blood"', "DOI"),
        ("doi", '"10.12/x"', "DOI"),
        ("pmid", '"022547581"', "PMID"),
        ("pmid", '"123456789"', "PMID"),
        ("pmcid", '"3425020"', "PMCID"),
    ],
)
def test_identifier_formats_are_validated(run: Run, repo: Path, field: str, value: str, words: str) -> None:
    references = f"""  - id: 1
    type: review
    title: "T"
    source: "S"
    year: 2022
    {field}: {value}
"""
    found = findings(run, repo, article_text(references=references))
    schema = [f for f in found if f["rule"] == "schema"]
    assert len(schema) == 1
    assert words in str(schema[0]["message"])
    assert schema[0]["line"] == 16


def test_valid_identifiers_pass(run: Run, repo: Path) -> None:
    references = """  - id: 1
    type: review
    title: "How I treat POEMS syndrome"
    source: "Blood"
    year: 2022
    doi: "10.1182/BLOOD-2012-03-378992"
    pmid: "22547581"
    pmcid: "PMC3425020"
"""
    assert findings(run, repo, article_text(references=references)) == []


def test_unquoted_pmid_is_the_identifier_and_other_numbers_are_asked_to_be_quoted(
    run: Run, repo: Path
) -> None:
    references = """  - id: 1
    type: review
    title: "T"
    source: "S"
    year: 2022
    pmid: 22547581
"""
    assert findings(run, repo, article_text(references=references)) == []
    found = findings(run, repo, article_text(references=references.replace('"S"', "2022")))
    assert rules(found) == ["schema"]
    assert found[0]["message"] == "references[0].source: a number must be text (put it in quotes)"


def test_publisher_schema_extension_is_honoured(run: Run, repo: Path) -> None:
    schema_path = repo / "schemas" / "article.schema.json"
    schema = json.loads(schema_path.read_text())
    schema["required"].append("medical_code")
    schema["properties"]["medical_code"] = {"type": "string", "pattern": "^[A-Z][0-9]{2}"}
    schema_path.write_text(json.dumps(schema))
    found = findings(run, repo, article_text())
    assert "missing required field 'medical_code'" in str(found[0]["message"])
    assert findings(run, repo, article_text(extra='medical_code: "D47"\n')) == []


def test_invalid_schema_file_is_a_config_error(run: Run, repo: Path) -> None:
    (repo / "schemas" / "article.schema.json").write_text('{"type": 12}')
    result = run(repo, "check")
    assert result.exit_code == 2
    assert "schemas/article.schema.json" in result.output


@pytest.mark.parametrize(
    "ref",
    ["https://example.invalid/title.schema.json", "common.schema.json#/$defs/title", "#/$defs/nowhere"],
)
def test_unresolvable_schema_ref_is_a_config_error_and_never_fetched(repo: Path, ref: str) -> None:
    schema_path = repo / "schemas" / "article.schema.json"
    schema = json.loads(schema_path.read_text())
    schema["properties"]["title"] = {"$ref": ref}
    schema_path.write_text(json.dumps(schema))
    write(repo / "schemas" / "common.schema.json", '{"$defs": {"title": {"type": "string"}}}')
    # Any attempt to open a connection is printed, then refused.
    code = (
        "import socket, sys\n"
        "def refuse(*a, **k):\n    print('network used', file=sys.stderr); raise OSError('no network')\n"
        "socket.socket.connect = refuse\nsocket.create_connection = refuse\n"
        "from reviewflow.cli.commands import main\nmain()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "check"], cwd=repo, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        f"reviewflow: schemas/article.schema.json: $ref {ref!r} cannot be resolved: reviewflow "
        "fetches nothing over the network and reads no other schema file; define it under $defs in this file"
    )


def test_local_and_meta_schema_refs_resolve(run: Run, repo: Path) -> None:
    schema_path = repo / "schemas" / "article.schema.json"
    schema = json.loads(schema_path.read_text())
    schema["$defs"] = {**schema.get("$defs", {}), "text": {"type": "string", "minLength": 1}}
    schema["properties"]["title"] = {"$ref": "#/$defs/text"}
    # an optional field whose value would be a JSON Schema: the meta-schema ships with jsonschema
    schema["properties"]["rules"] = {"$ref": "https://json-schema.org/draft/2020-12/schema"}
    schema_path.write_text(json.dumps(schema))
    assert findings(run, repo, article_text()) == []
    assert "title" in str(findings(run, repo, article_text(title=""))[0]["message"])


# --- disclaimers ---------------------------------------------------------------------------


def test_unknown_disclaimer_key(run: Run, repo: Path) -> None:
    found = findings(run, repo, article_text(disclaimer="legal"))
    assert rules(found) == ["disclaimer-unknown"]
    assert found[0]["line"] == 9


def test_disclaimer_for_another_audience(run: Run, repo: Path) -> None:
    found = findings(run, repo, article_text(audience="professional", disclaimer="patient"))
    assert rules(found) == ["disclaimer-audience"]


def test_hand_written_disclaimer_in_body(run: Run, repo: Path) -> None:
    body = "POEMS syndrome is rare [1].\n\nThis content is for informational purposes only.\n"
    found = findings(run, repo, article_text(body))
    assert rules(found) == ["body-disclaimer"]
    assert found[0]["line"] == 21
    assert findings(run, repo, article_text("Ask your care team about tests for POEMS syndrome [1].\n")) == []


def test_raw_html_in_the_body_is_flagged_where_it_stands(run: Run, repo: Path) -> None:
    # The body starts on line 19 of the test article; readers would see each of these as text.
    body = (
        "POEMS syndrome is rare [1].\n\n"
        "<!-- TODO: cite the 2019 trial [7] -->\n\n"
        "Treatment is planned with a specialist <b>early</b> [1].\n"
    )
    found = findings(run, repo, article_text(body))
    assert rules(found) == ["raw-html", "raw-html"]
    assert [(f["line"], f["column"]) for f in found] == [(21, 1), (23, 40)]  # `</b>` adds none
    assert "readers would see it as text" in str(found[0]["message"])
    # Code is not HTML, and an autolink is a link.
    fine = "Use `<b>` only in code [1].\n\n    <div>indented code</div>\n\nSee <https://example.org> [1].\n"
    assert findings(run, repo, article_text(fine)) == []


# --- citations -----------------------------------------------------------------------------


def test_citation_of_unknown_reference(run: Run, repo: Path) -> None:
    found = findings(run, repo, article_text("POEMS syndrome is rare [1].\n\nIt affects nerves [1, 3].\n"))
    assert rules(found) == ["citation-unknown"]
    assert (found[0]["line"], found[0]["column"]) == (21, 19)
    assert "3" in str(found[0]["message"])


def test_citation_ranges_expand(run: Run, repo: Path) -> None:
    references = "".join(
        f'  - id: {i}\n    type: research\n    title: "T{i}"\n    source: "S"\n    year: 2022\n    url: "https://example.org/{i}"\n'
        for i in range(1, 5)
    )
    assert findings(run, repo, article_text("Rare [1].\n\nVaried [2-4].\n", references=references)) == []
    found = findings(run, repo, article_text("Rare [1].\n\nVaried [2-5].\n", references=references))
    assert rules(found) == ["citation-unknown"]


@pytest.mark.parametrize("marker", ["[2][3][4]", "[2–4]", "[2-4]", "[2&ndash;4]", "[2 – 4]", "[2, 3-4]"])
def test_pasted_markers_and_every_dash_of_a_range_cite_each_reference(
    run: Run, repo: Path, marker: str
) -> None:
    references = "".join(
        f'  - id: {i}\n    type: research\n    title: "T{i}"\n    source: "S"\n    year: 2022\n    url: "https://example.org/{i}"\n'
        for i in range(1, 5)
    )
    # Before, the 2 of "[2][3]" was lost and reference 2 reported as never cited.
    assert findings(run, repo, article_text(f"Rare [1].\n\nVaried {marker}.\n", references=references)) == []
    found = findings(run, repo, article_text("Rare [1].\n\nVaried [2][3].\n", references=references))
    assert [(f["rule"], f["line"], f["column"]) for f in found] == [
        ("reference-uncited", 29, 5)
    ]  # reference 4 alone


@pytest.mark.parametrize(
    ("marker", "problem"),
    [
        ("[1, @21@]", "is not a list of reference ids"),
        ("[1,,2]", "is not a list of reference ids"),
        ("[1;2]", "is not a list of reference ids"),
        ("[1 2]", "is not a list of reference ids"),
    ],
)
def test_a_garbled_marker_is_malformed_at_its_column(run: Run, repo: Path, marker: str, problem: str) -> None:
    found = findings(run, repo, article_text(f"Rare [1]. Also seen {marker} here.\n"))
    assert [(f["rule"], f["line"], f["column"]) for f in found] == [("citation-malformed", 19, 21)]
    assert f"citation {marker}: {problem}" in str(found[0]["message"])


def test_brackets_with_words_are_prose_not_citations(run: Run, repo: Path) -> None:
    found = findings(run, repo, article_text("Rare [1]. Doses [2 mg] vary [see below] and [n=31].\n"))
    assert [f["rule"] for f in found if str(f["rule"]).startswith("citation")] == []


def test_backwards_or_huge_range_is_malformed(run: Run, repo: Path) -> None:
    found = findings(run, repo, article_text("Rare [1]. Odd [4-2]. Huge [1-99999999].\n"))
    assert rules(found).count("citation-malformed") == 2


def test_markers_in_code_and_links_are_not_citations(run: Run, repo: Path) -> None:
    body = "Rare [1].\n\n```\narray[7]\n```\n\nSee [9](https://example.org).\n"
    assert findings(run, repo, article_text(body)) == []


@pytest.mark.parametrize(
    "body",
    [
        "Rare [1]. Index with `values[0]` or ``a[7]``.\n",
        "Rare [1].\n\n    array[8] = 0\n",
        "Rare [1].\n\n<!-- TODO: cite [9] here -->\n",
        "Rare [1].\n\n<!--\nTODO: cite [9]\n\nand [10]\n-->\n",
        "Rare [1]. Inline <!-- [9] --> note.\n",
        '<div class="box">\nBox [10]\n</div>\n\nRare [1].\n',
        "Rare [1].\n\n- A list item [1].\n\n      code in the item [7]\n",
        "Rare [1]. Escaped \\[4] and \\[5\\] and [[6]](https://example.org) and ![fig [7]](x.png).\n",
    ],
)
def test_markers_in_code_spans_code_blocks_and_html_are_not_citations(
    run: Run, repo: Path, body: str
) -> None:
    # Raw HTML is not prose (no citation is read in it), but it is flagged: readers would see it.
    assert rules(findings(run, repo, article_text(body))) == (["raw-html"] if "<" in body else [])


@pytest.mark.parametrize(
    ("body", "line", "column"),
    [
        ("Rare [1].\n\n## Treatment [4]\n", 21, 14),
        ("Rare [1].\n\nA setext heading [4]\n---\n", 21, 18),
        ("Rare [1].\n\n| Drug | Note |\n|---|---|\n| a `x\\|y` | b \\| c [4] |\n", 23, 21),
        ("Rare [1].\n\n- item [1]\n  - nested &ndash; [4]\n", 22, 20),
    ],
)
def test_markers_in_headings_tables_and_lists_are_citations(
    run: Run, repo: Path, body: str, line: int, column: int
) -> None:
    # The page links them, so the checks count them, at their place in the file.
    found = findings(run, repo, article_text(body))
    assert [(f["rule"], f["line"], f["column"]) for f in found] == [("citation-unknown", line, column)]


def test_prose_after_code_keeps_its_line_and_column(run: Run, repo: Path) -> None:
    # In the list item, 4 spaces are a paragraph of the item and 6 (4 past its content) code.
    body = (
        "Rare [1].\n\n- Item with `x[0]` then [2].\n\n  Continued [3].\n\n      code [4]\n\n    Text [5].\n"
    )
    found = findings(run, repo, article_text(body))
    assert [(f["rule"], f["line"], f["column"]) for f in found] == [
        ("citation-unknown", 21, 25),
        ("citation-unknown", 23, 13),
        ("citation-unknown", 27, 10),
    ]


def test_a_body_that_starts_with_code_is_checked_and_located(run: Run, repo: Path) -> None:
    found = findings(run, repo, article_text("`x` costs 5% of patients.\n\nRare [1].\n"))
    assert [(f["rule"], f["line"], f["column"]) for f in found] == [("evidence-uncited", 19, 5)]


def test_claims_in_code_and_comments_are_not_claims(run: Run, repo: Path) -> None:
    body = "Rare [1]. Set `cure = true` in the form.\n\n<!-- a miracle cure -->\n\n    guaranteed()\n"
    assert rules(findings(run, repo, article_text(body))) == ["raw-html"]  # the comment, not a claim


def test_marker_before_a_colon_is_a_citation(run: Run, repo: Path) -> None:
    assert findings(run, repo, article_text("Two things matter [1]: rest and care.\n")) == []
    found = findings(run, repo, article_text("Rare.\n\n[1]: https://example.org\n"))
    assert rules(found) == ["reference-uncited"]


def test_uncited_reference_is_a_warning(run: Run, repo: Path) -> None:
    found = findings(run, repo, article_text("POEMS syndrome is rare.\n"))
    assert rules(found) == ["reference-uncited"]
    assert found[0]["severity"] == "warning"
    assert found[0]["line"] == 11


def test_duplicate_reference_ids_and_identifiers(run: Run, repo: Path) -> None:
    references = """  - id: 1
    type: review
    title: "A"
    source: "S"
    year: 2022
    doi: "10.5045/br.2022.2022001"
  - id: 1
    type: review
    title: "B"
    source: "S"
    year: 2022
    doi: "10.5045/BR.2022.2022001"
"""
    found = findings(run, repo, article_text(references=references))
    assert sorted(rules(found)) == ["reference-duplicate-id", "reference-duplicate-identifier"]
    duplicate_id = next(f for f in found if f["rule"] == "reference-duplicate-id")
    assert duplicate_id["line"] == 17
    assert "first on line 11" in str(duplicate_id["message"])


@pytest.mark.parametrize(
    "sentence",
    [
        "About 80% of people respond well.",
        "The five-year survival rate was 70 in one series.",
        "In one study (n = 99) most patients improved.",
        "It affects about 1 in 100,000 people.",
    ],
)
def test_number_as_evidence_needs_a_citation(run: Run, repo: Path, sentence: str) -> None:
    found = findings(run, repo, article_text(f"POEMS syndrome is rare [1].\n\n{sentence}\n"))
    assert rules(found) == ["evidence-uncited"]
    assert found[0]["line"] == 21
    assert findings(run, repo, article_text(f"POEMS syndrome is rare [1].\n\n{sentence[:-1]} [1].\n")) == []


EVIDENCE_PIECES = [
    "5", "12", "1.5", "1,000", ".5", ",", ".", "%", " %", "percent", "PERCENT", "per cent", "Per Cent", "percentage",
    " in ", " of ", " out of ", "  in  ", " in\t", "\t", "every ", "İ", "١٢", "\u00a0", "\n", "x", "word ", "[1]",
    "n = 4", "n=", "survival rate", " response rates ", "hazard ratio", "2-fold", "-fold", "(", ")",
]  # fmt: skip


@pytest.mark.parametrize("seed", range(3))
def test_evidence_found_from_literals_is_what_finditer_finds(seed: int) -> None:
    from reviewflow.checks.language import _EVIDENCE, _evidence_matches
    from reviewflow.content.prose import Prose

    rng = random.Random(seed)
    for _ in range(3000):
        text = "".join(rng.choice(EVIDENCE_PIECES) for _ in range(rng.randint(1, 25)))
        prose = Prose(text, [0], [(1, 0)])
        expected = sorted(
            (
                m
                for triggers, pattern in _EVIDENCE
                if prose.mentions(triggers)
                for m in pattern.finditer(text)
            ),
            key=lambda m: m.start(),
        )
        assert [m.span() for m in _evidence_matches(prose)] == [m.span() for m in expected], repr(text)


def test_old_reference_is_a_warning_and_configurable(run: Run, repo: Path) -> None:
    old = article_text().replace("year: 2022", "year: 2005")
    found = findings(run, repo, old)
    assert rules(found) == ["reference-old"]
    config = repo / "reviewflow.toml"
    config.write_text(
        config.read_text().replace("# max_reference_age_years = 10", "max_reference_age_years = 30")
    )
    assert findings(run, repo, old) == []


def test_reference_without_identifier_or_url(run: Run, repo: Path) -> None:
    found = findings(run, repo, article_text().replace('    doi: "10.5045/br.2022.2022001"\n', ""))
    assert rules(found) == ["reference-no-identifier"]


# --- retractions ---------------------------------------------------------------------------


def retraction_repo(repo: Path) -> None:
    shutil.copy(PROJECT / "tests" / "data" / "retractions-sample.csv", repo / "retractions.csv")
    config = repo / "reviewflow.toml"
    config.write_text(
        config.read_text().replace('# retractions = "retractions.csv"', 'retractions = "retractions.csv"')
    )


def cited(identifier: str) -> str:
    return article_text(
        references=f'  - id: 1\n    type: research\n    title: "T"\n    source: "S"\n    year: 2022\n    {identifier}\n'
    )


def test_retracted_reference_by_doi_any_case(run: Run, repo: Path) -> None:
    retraction_repo(repo)
    found = findings(run, repo, cited('doi: "10.9999/retracted.2018.001"'))
    assert rules(found) == ["reference-retracted"]
    assert found[0]["severity"] == "error"


def test_retracted_reference_by_pmid(run: Run, repo: Path) -> None:
    retraction_repo(repo)
    assert rules(findings(run, repo, cited('pmid: "28000004"'))) == ["reference-retracted"]


def test_expression_of_concern_is_a_warning_and_correction_is_fine(run: Run, repo: Path) -> None:
    retraction_repo(repo)
    found = findings(run, repo, cited('doi: "10.9999/concern.2019.002"'))
    assert rules(found) == ["reference-concern"]
    assert found[0]["severity"] == "warning"
    assert findings(run, repo, cited('doi: "10.9999/corrected.2019.003"')) == []


RETRACTION_WATCH_HEADER = (
    "Record ID,Title,RetractionDOI,OriginalPaperDOI,OriginalPaperPubMedID,RetractionNature\n"
)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # a correction, then an expression of concern for the same paper: the concern counts
        (
            "1,T,10.1/c,10.5555/paper.1,,Correction\n2,T,10.1/e,10.5555/paper.1,,Expression of concern\n",
            "reference-concern",
        ),
        # the same, the other way round
        (
            "2,T,10.1/e,10.5555/paper.1,,Expression of concern\n1,T,10.1/c,10.5555/paper.1,,Correction\n",
            "reference-concern",
        ),
        # a correction listed by DOI, the retraction of the same paper by PMID only
        (
            "1,T,10.1/c,10.5555/paper.1,,Correction\n2,T,,unavailable,31000001,Retraction\n",
            "reference-retracted",
        ),
        # a concern by DOI, the retraction by PMID
        ("1,T,,10.5555/paper.1,0,Expression of concern\n2,T,,,31000001,Retraction\n", "reference-retracted"),
        # the retraction by DOI, a later correction by PMID
        ("1,T,,10.5555/PAPER.1,,Retraction\n2,T,,,31000001,Correction\n", "reference-retracted"),
        # retracted, then reinstated (by either identifier): it stands, with a warning to check it
        ("1,T,,10.5555/paper.1,,Retraction\n2,T,,10.5555/paper.1,,Reinstatement\n", "reference-concern"),
        ("1,T,,10.5555/paper.1,,Retraction\n2,T,,,31000001,Reinstatement\n", "reference-concern"),
    ],
)
def test_the_strongest_notice_of_a_paper_counts(run: Run, repo: Path, rows: str, expected: str) -> None:
    (repo / "retractions.csv").write_text(RETRACTION_WATCH_HEADER + rows, encoding="utf-8")
    config = repo / "reviewflow.toml"
    config.write_text(
        config.read_text().replace('# retractions = "retractions.csv"', 'retractions = "retractions.csv"')
    )
    found = findings(run, repo, cited('doi: "10.5555/paper.1"\n    pmid: "31000001"'))
    assert rules(found) == [expected]


def test_missing_retractions_file_is_a_config_error(run: Run, repo: Path) -> None:
    config = repo / "reviewflow.toml"
    config.write_text(
        config.read_text().replace('# retractions = "retractions.csv"', 'retractions = "nowhere.csv"')
    )
    result = run(repo, "check")
    assert result.exit_code == 2
    assert "checks.retractions" in result.output


def test_a_retraction_list_the_csv_reader_cannot_read_is_a_config_error_naming_the_line(
    run: Run, repo: Path
) -> None:
    # A field longer than the csv module reads (131,072 characters) on the list's third line.
    rows = "1,T,,10.5555/paper.1,,Retraction\n" + f'2,"{"x" * 200_000}",,10.5555/paper.2,,Retraction\n'
    (repo / "retractions.csv").write_text(RETRACTION_WATCH_HEADER + rows, encoding="utf-8")
    config = repo / "reviewflow.toml"
    config.write_text(
        config.read_text().replace('# retractions = "retractions.csv"', 'retractions = "retractions.csv"')
    )
    result = run(repo, "check")
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        f"reviewflow: {repo / 'retractions.csv'}:3: not a readable CSV: field larger than field limit (131072)"
    ]


# --- language --------------------------------------------------------------------------------


@pytest.mark.parametrize("claim", ["This will cure you", "Results are guaranteed", "It has no side effects"])
def test_absolute_claims_are_flagged(run: Run, repo: Path, claim: str) -> None:
    found = findings(run, repo, article_text(f"POEMS syndrome is rare [1].\n\n{claim}.\n"))
    assert rules(found) == ["absolute-claim"]
    assert found[0]["line"] == 21


@pytest.mark.parametrize(
    "sentence",
    [
        "There is no cure yet",
        "Treatment is not a cure",
        "No drug is free of side effects",
        "A cure cannot be promised",
    ],
)
def test_negated_claims_pass(run: Run, repo: Path, sentence: str) -> None:
    assert findings(run, repo, article_text(f"POEMS syndrome is rare [1].\n\n{sentence}.\n")) == []


def test_claim_list_is_configurable(run: Run, repo: Path) -> None:
    config = repo / "reviewflow.toml"
    config.write_text(
        config.read_text().replace("[checks]\n", '[checks]\nabsolute_claims = ["wonder drug"]\n')
    )
    text = article_text("POEMS syndrome is rare [1].\n\nIt is a wonder drug, and it will cure you.\n")
    found = findings(run, repo, text)
    # The list replaces the shipped one: "cure" is no absolute claim here (it is still a claim
    # about a treatment with no citation).
    assert rules(found) == ["absolute-claim", "claim-uncited"]
    assert "wonder drug" in str(found[0]["message"])


HARD = (
    "Polyneuropathy accompanied by organomegaly, endocrinopathy, monoclonal gammopathy and "
    "cutaneous manifestations constitutes a paraneoplastic syndrome characterised by "
    "overproduction of vascular endothelial growth factor, necessitating multidisciplinary "
    "haematological, neurological and endocrinological evaluation and individualised "
    "therapeutic stratification according to the dissemination of osteosclerotic lesions [1]."
)
EASY = (
    "POEMS syndrome is rare [1]. It can hurt the nerves in your feet and hands. "
    "It can make some organs grow. It can change your skin. Your care team will help you. "
    "They will check your blood and your bones. Then they will plan your care with you."
)


def test_patient_article_above_reading_grade(run: Run, repo: Path) -> None:
    found = [
        f for f in findings(run, repo, article_text(HARD)) if f["rule"] != "jargon"
    ]  # HARD is jargon too
    assert rules(found) == ["readability"]
    assert "grade" in str(found[0]["message"])
    # It names the sentence to rewrite first, by its line and its opening words.
    assert "the hardest sentences: line 19 (grade" in str(found[0]["message"])
    assert "'Polyneuropathy accompanied by organomegaly, endocrinopathy," in str(found[0]["message"])
    assert findings(run, repo, article_text(EASY)) == []


def test_headings_do_not_lower_the_grade_of_the_prose(run: Run, repo: Path) -> None:
    # Prose of grade ~9.9 under a short heading each: read as sentences, the headings would
    # pull the grade to ~5.9, under the limit of 8; the prose alone is above it.
    medium = (
        "Your doctor will carefully examine the nerves in your arms and legs, looking for damage "
        "caused by the abnormal proteins [1]."
    )
    sections = "\n\n".join(f"## Part {n}\n\n{medium}" for n in range(1, 7))
    found = findings(run, repo, article_text(sections + "\n"))
    assert [f["rule"] for f in found] == ["readability"], found
    plain = findings(run, repo, article_text("\n\n".join([medium] * 6) + "\n"))
    assert [f["rule"] for f in plain] == ["readability"]


def test_professional_article_is_not_graded(run: Run, repo: Path) -> None:
    assert findings(run, repo, article_text(HARD, audience="professional")) == []


def test_rule_can_be_turned_off_or_made_an_error(run: Run, repo: Path) -> None:
    config = repo / "reviewflow.toml"
    original = config.read_text()
    config.write_text(
        original.replace("[checks]\n", '[checks]\nrules = { readability = "off", jargon = "off" }\n')
    )
    assert findings(run, repo, article_text(HARD)) == []
    config.write_text(
        original.replace("[checks]\n", '[checks]\nrules = { readability = "error", jargon = "off" }\n')
    )
    found = findings(run, repo, article_text(HARD))
    assert found[0]["severity"] == "error"
    config.write_text(original.replace("[checks]\n", '[checks]\nrules = { readablity = "off" }\n'))
    result = run(repo, "check")
    assert result.exit_code == 2
    assert "readablity" in result.output


def test_rule_severity_can_be_set_per_audience(run: Run, repo: Path) -> None:
    config = repo / "reviewflow.toml"
    original = config.read_text()
    per_audience = '[checks]\nrules = { absolute-claim = { patient = "error", professional = "off" } }\n'
    config.write_text(original.replace("[checks]\n", per_audience))
    claim = "This treatment is a miracle cure [1].\n"
    patient = findings(run, repo, article_text(claim))
    assert {(f["rule"], f["severity"]) for f in patient} == {("absolute-claim", "error")}
    assert findings(run, repo, article_text(claim, audience="professional")) == []
    config.write_text(
        original.replace("[checks]\n", '[checks]\nrules = { absolute-claim = { nurse = "off" } }\n')
    )
    result = run(repo, "check")
    assert result.exit_code == 2
    assert "checks.rules.absolute-claim" in result.output
