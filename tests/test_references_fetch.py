"""`reviewflow refs fetch` against a real HTTP server on 127.0.0.1 (no test reaches the internet).

The server answers in the documented shapes of the Crossref REST API (`/works?filter=doi:…`,
`/works/{doi}`), NCBI E-utilities `esummary.fcgi` (retmode=json) and the PMC ID converter
(format=json), and can misbehave on demand: 429 then success, no answer in time, malformed JSON,
a 5 MB answer.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from reviewflow.config import References
from reviewflow.references.fetch import FetchPlan, client_for, plan_fetch
from reviewflow.references.lockfile import LOCKFILE, parse_lock
from tests.conftest import article_text, make_content_repo, write

Run = Callable[..., Result]

# --- the registries' answers, in their documented shapes -------------------------------------------

CROSSREF = {
    "10.5045/br.2022.2022001": {
        "DOI": "10.5045/br.2022.2022001",
        "type": "journal-article",
        "title": ["Update on the POEMS syndrome"],
        "container-title": ["Blood Research"],
        "short-container-title": ["Blood Res"],
        "ISSN": ["2287-979X", "2288-0011"],
        "author": [{"given": "Y. R.", "family": "Kim", "sequence": "first"}],
        "issued": {"date-parts": [[2022, 4, 30]]},
    },
    "10.1234/retracted.1": {
        "DOI": "10.1234/retracted.1",
        "type": "journal-article",
        "title": ["A trial of a treatment that was retracted"],
        "container-title": ["Journal of Examples"],
        "issued": {"date-parts": [[2019]]},
        "author": [{"family": "Doe", "sequence": "first"}],
        "updated-by": [
            {
                "DOI": "10.1234/retraction.notice",
                "type": "retraction",
                "updated": {"date-parts": [[2021, 3, 2]]},
            }
        ],
    },
    # Not returned by the filtered query (the search index lags): only /works/{doi} knows it.
    "10.1234/lagging.1": {
        "DOI": "10.1234/lagging.1",
        "title": ["A paper registered yesterday"],
        "container-title": ["Journal of Examples"],
        "issued": {"date-parts": [[2026]]},
    },
}
PUBMED = {
    "37732822": {
        "uid": "37732822",
        "pubdate": "2023 Dec",
        "epubdate": "2023 Sep 21",
        "source": "Am J Hematol",
        "authors": [{"name": "Dispenzieri A", "authtype": "Author"}],
        "title": "POEMS syndrome: Update on diagnosis, risk-stratification, and management.",
        "fulljournalname": "American journal of hematology",
        "issn": "0361-8609",
        "essn": "1096-8652",
        "pubtype": ["Journal Article", "Review"],
        "articleids": [
            {"idtype": "pubmed", "value": "37732822"},
            {"idtype": "doi", "value": "10.1002/ajh.27081"},
        ],
    },
    "22547581": {
        "uid": "22547581",
        "pubdate": "2012 Jun 14",
        "source": "Blood",
        "authors": [{"name": "Dispenzieri A", "authtype": "Author"}],
        "title": "How I treat POEMS syndrome.",
        "fulljournalname": "Blood",
        "pubtype": ["Journal Article"],
        "articleids": [
            {"idtype": "doi", "value": "10.1182/blood-2012-03-378992"},
            {"idtype": "pmc", "value": "PMC3425020"},
        ],
    },
    "111": {
        "uid": "111",
        "pubdate": "2019 Jan",
        "source": "J Ex",
        "authors": [{"name": "Doe J"}],
        "title": "A trial of a treatment that was retracted.",
        "fulljournalname": "Journal of examples",
        "pubtype": ["Journal Article", "Retracted Publication"],
        "articleids": [{"idtype": "doi", "value": "10.1234/retracted.1"}],
    },
}
IDCONV = {"PMC3425020": {"pmcid": "PMC3425020", "pmid": "22547581", "doi": "10.1182/blood-2012-03-378992"}}


class Registries(BaseHTTPRequestHandler):
    """Crossref at /crossref, E-utilities at /eutils, the ID converter at /idconv."""

    mode = ""  # "", "429-once", "slow", "malformed", "huge", "huge-unsized", "cut", "trickle", "400-filter"
    requests: list[str] = []  # noqa: RUF012 - reset by the fixture for each test
    agents: list[str] = []  # noqa: RUF012

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        Registries.requests.append(self.path)
        Registries.agents.append(self.headers.get("User-Agent", ""))
        mode = Registries.mode
        if mode == "429-once" and len(Registries.requests) == 1:
            return self.answer(429, b"slow down", {"Retry-After": "0"})
        if mode == "slow":
            time.sleep(1.0)
        if mode == "malformed":
            return self.answer(200, b'{"message": {"items": [')
        if mode == "cut":  # promises more than it sends, then hangs up
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b'{"message": ')
            return None
        if mode == "trickle":  # a byte at a time, each well inside the timeout
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                for _ in range(1000):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.01)
            return None
        if mode == "400-filter" and "filter=" in self.path:
            return self.answer(400, b'{"status": "failed", "message": [{"type": "validation-failure"}]}')
        if mode in ("huge", "huge-unsized"):
            body = b'{"pad": "' + b"x" * (5 * 1024 * 1024) + b'"}'
            return self.answer(200, body, sized=mode == "huge")
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path == "/crossref/works":
            dois = [d.removeprefix("doi:") for d in query["filter"][0].split(",")]
            items = [CROSSREF[d] for d in dois if d in CROSSREF and "lagging" not in d]
            return self.json({"status": "ok", "message-type": "work-list", "message": {"items": items}})
        if url.path.startswith("/crossref/works/"):
            doi = urllib.parse.unquote(url.path.removeprefix("/crossref/works/"))
            if doi in CROSSREF:
                return self.json({"status": "ok", "message-type": "work", "message": CROSSREF[doi]})
            return self.answer(404, b"Resource not found.")
        if url.path == "/eutils/esummary.fcgi":
            ids = query["id"][0].split(",")
            result: dict[str, Any] = {"uids": ids}
            for pmid in ids:
                result[pmid] = PUBMED.get(pmid, {"uid": pmid, "error": "cannot get document summary"})
            return self.json({"header": {"type": "esummary", "version": "0.3"}, "result": result})
        if url.path == "/idconv/":
            records = [IDCONV.get(i, {"pmcid": i, "status": "error", "errmsg": "invalid article id"})
                       for i in query["ids"][0].split(",")]  # fmt: skip
            return self.json({"status": "ok", "records": records})
        return self.answer(404, b"no such route")

    def json(self, data: Any) -> None:
        self.answer(200, json.dumps(data).encode(), {"Content-Type": "application/json"})

    def answer(
        self, status: int, body: bytes, headers: dict[str, str] | None = None, sized: bool = True
    ) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if sized:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client refused the rest
            self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[str]:
    Registries.mode, Registries.requests, Registries.agents = "", [], []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Registries)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


REFERENCES = """  - id: 1
    type: review
    title: "Update on the POEMS syndrome"
    source: "Blood Research"
    year: 2022
    doi: "10.5045/br.2022.2022001"
  - id: 2
    type: review
    title: "POEMS syndrome: Update on diagnosis, risk-stratification, and management"
    source: "American Journal of Hematology"
    year: 2023
    pmid: "37732822"
  - id: 3
    type: review
    title: "How I treat POEMS syndrome"
    source: "Blood"
    year: 2012
    pmcid: "PMC3425020"
"""


def settings(base: str, **more: Any) -> str:
    values = {"contact": "editors@example.org", "crossref_url": f"{base}/crossref", "eutils_url": f"{base}/eutils",
              "idconv_url": f"{base}/idconv", "requests_per_second": 50, "timeout_seconds": 2, "retries": 1, **more}  # fmt: skip
    return "\n[references]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items())


@pytest.fixture
def repo(tmp_path: Path, server: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NCBI_API_KEY", "test-key-123")  # 10 requests a second: the tests run quicker
    repo = make_content_repo(tmp_path / "content")
    (repo / "articles" / "what-is-poems-syndrome.md").unlink()
    write(
        repo / "articles" / "subject.md",
        article_text("POEMS syndrome is rare [1, 2, 3].\n", references=REFERENCES),
    )
    with (repo / "reviewflow.toml").open("a") as handle:
        handle.write(settings(server))
    return repo


def configure(repo: Path, server: str, **more: Any) -> None:
    text = (repo / "reviewflow.toml").read_text()
    (repo / "reviewflow.toml").write_text(text[: text.index("\n[references]\n")] + settings(server, **more))


# --- fetching ------------------------------------------------------------------------------------


def test_fetch_writes_the_lockfile_and_check_passes(run: Run, repo: Path) -> None:
    result = run(repo, "refs", "fetch")
    assert result.exit_code == 0, result.output
    assert (
        "fetched 3 identifier(s) (1 DOI(s), 1 PMID(s), 1 PMCID(s)) in 4 request(s) (Crossref 1, NCBI 3)"
        in result.output
    )
    lock = parse_lock((repo / LOCKFILE).read_bytes())
    assert sorted(lock.works) == [
        "doi:10.5045/br.2022.2022001",
        "pmcid:PMC3425020",
        "pmid:22547581",
        "pmid:37732822",
    ]
    work = lock.works["pmid:37732822"]
    assert (work.title, work.journal_abbreviation, work.year, work.first_author, work.doi) == (
        "POEMS syndrome: Update on diagnosis, risk-stratification, and management.", "Am J Hematol", 2023,
        "Dispenzieri", "10.1002/ajh.27081")  # fmt: skip
    assert lock.works["doi:10.5045/br.2022.2022001"].issn == ("2287-979X", "2288-0011")
    checked = json.loads(run(repo, "check", "--format", "json").output)["findings"]
    assert [f["rule"] for f in checked] == ["reference-old"]  # the 2012 paper: identity is fine


def test_what_is_sent(run: Run, repo: Path) -> None:
    assert run(repo, "refs", "fetch").exit_code == 0
    crossref, esummary = Registries.requests[0], next(r for r in Registries.requests if "esummary" in r)
    assert "filter=doi%3A10.5045%2Fbr.2022.2022001" in crossref and "mailto=editors%40example.org" in crossref
    assert "tool=reviewflow" in esummary and "email=editors%40example.org" in esummary
    assert "api_key=test-key-123" in esummary and "api_key" not in crossref
    assert all(a.startswith("reviewflow/") and "(mailto:editors@example.org)" in a for a in Registries.agents)


def test_only_what_is_missing_or_old_is_fetched_again(run: Run, repo: Path) -> None:
    assert run(repo, "refs", "fetch").exit_code == 0
    before = (repo / LOCKFILE).read_bytes()
    Registries.requests.clear()
    again = run(repo, "refs", "fetch")
    assert "fetched 0 identifier(s) in 0 request(s); 3 already in the lockfile" in again.output
    assert "unchanged" in again.output and Registries.requests == []
    assert (repo / LOCKFILE).read_bytes() == before
    assert "fetched 3 identifier(s)" in run(repo, "refs", "fetch", "--refresh").output
    assert "fetched 0 identifier(s)" in run(repo, "refs", "fetch", "--max-age", "30").output


def test_a_fetch_for_every_article_drops_what_none_cites(run: Run, repo: Path) -> None:
    assert run(repo, "refs", "fetch").exit_code == 0
    data = json.loads((repo / LOCKFILE).read_text())
    data["works"]["doi:10.1234/no.longer.cited"] = {
        "source": "crossref",
        "checked_on": "2026-01-01",
        "found": True,
        "title": "Old",
    }
    (repo / LOCKFILE).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")  # as refs fetch writes
    assert "unchanged" in run(repo, "refs", "fetch", "articles/subject.md").output  # one article: kept
    assert "doi:10.1234/no.longer.cited" in (repo / LOCKFILE).read_text()
    assert "wrote articles/references.lock.json" in run(repo, "refs", "fetch").output
    assert sorted(parse_lock((repo / LOCKFILE).read_bytes()).works) == [
        "doi:10.5045/br.2022.2022001", "pmcid:PMC3425020", "pmid:22547581", "pmid:37732822"]  # fmt: skip


def test_a_dry_run_sends_nothing(run: Run, repo: Path) -> None:
    result = run(repo, "refs", "fetch", "--dry-run")
    assert result.exit_code == 0 and Registries.requests == []
    assert (
        "would fetch 3 identifier(s) (1 DOI(s), 1 PMID(s), 1 PMCID(s)) in at least 3 request(s) (Crossref 1, NCBI 2)"
        in result.output
    )
    assert not (repo / LOCKFILE).exists()


def test_not_found_retracted_and_the_lagging_index(run: Run, repo: Path) -> None:
    more = """  - id: 4
    type: research
    title: "A trial of a treatment that was retracted"
    source: "Journal of Examples"
    year: 2019
    doi: "10.1234/retracted.1"
    pmid: "111"
  - id: 5
    type: research
    title: "A paper registered yesterday"
    source: "Journal of Examples"
    year: 2026
    doi: "10.1234/lagging.1"
  - id: 6
    type: research
    title: "A paper nobody wrote"
    source: "Journal of Examples"
    year: 2020
    doi: "10.1234/missing.1"
    pmid: "99999999"
"""
    text = article_text("POEMS syndrome is rare [1-6].\n", references=REFERENCES + more)
    write(repo / "articles" / "subject.md", text)
    result = run(repo, "refs", "fetch")
    assert result.exit_code == 0, result.output
    assert "not found: DOI 10.1234/missing.1" in result.output and "not found: PMID 99999999" in result.output
    assert any("/crossref/works/10.1234%2Flagging.1" in r for r in Registries.requests)
    checked = json.loads(run(repo, "check", "--format", "json").output)["findings"]
    found = sorted((f["rule"], f["line"]) for f in checked if f["rule"] != "reference-old")
    assert found == [
        ("reference-not-found", text[: text.index('doi: "10.1234/missing.1"')].count("\n") + 1),
        ("reference-not-found", text[: text.index('pmid: "99999999"')].count("\n") + 1),
        ("reference-retracted", text[: text.index("  - id: 4")].count("\n") + 1),
    ]
    lock = parse_lock((repo / LOCKFILE).read_bytes())
    assert [n.type for n in lock.works["pmid:111"].notices] == ["retraction"]  # "Retracted Publication"
    assert [(n.type, n.doi, n.date) for n in lock.works["doi:10.1234/retracted.1"].notices] == [
        ("retraction", "10.1234/retraction.notice", "2021-03-02")
    ]
    retracted = next(f for f in checked if f["rule"] == "reference-retracted")
    assert "has been retracted (Crossref)" in retracted["message"]


def test_a_doi_whose_title_differs(run: Run, repo: Path) -> None:
    write(repo / "articles" / "subject.md", article_text(references=REFERENCES.replace(
        '"Update on the POEMS syndrome"', '"Thalidomide for POEMS syndrome: a randomised trial"')))  # fmt: skip
    assert run(repo, "refs", "fetch").exit_code == 0
    result = run(repo, "check")
    assert result.exit_code == 1
    assert 'its title is "Update on the POEMS syndrome", not "Thalidomide for POEMS syndrome' in result.output


# --- the network misbehaving ---------------------------------------------------------------------


def test_429_then_success(run: Run, repo: Path) -> None:
    Registries.mode = "429-once"
    result = run(repo, "refs", "fetch")
    assert result.exit_code == 0, result.output
    assert Registries.requests[0] == Registries.requests[1]  # the same request again
    assert "in 5 request(s) (Crossref 2, NCBI 3)" in result.output


@pytest.mark.parametrize(
    ("mode", "more", "words"),
    [
        ("slow", {"timeout_seconds": 0.2, "retries": 0}, "no answer within 0.2 s after 1 attempt(s)"),
        ("malformed", {}, "with malformed JSON"),
        (
            "huge",
            {"max_response_bytes": 1048576},
            "with 5,242,891 bytes, over [references] max_response_bytes",
        ),
        ("huge-unsized", {"max_response_bytes": 1048576}, "with more, over [references] max_response_bytes"),
        ("cut", {}, "the answer was cut short (12 of 1,000 bytes) after 2 attempt(s)"),
        ("trickle", {"timeout_seconds": 0.5, "retries": 0}, "the answer took over 5 s after 1 attempt(s)"),
    ],
)
def test_a_failure_is_exit_2_and_leaves_the_lockfile(
    run: Run, repo: Path, server: str, mode: str, more: dict[str, Any], words: str
) -> None:
    write(repo / LOCKFILE, '{"version": 1, "works": {}}\n')
    configure(repo, server, **more)
    Registries.mode = mode
    result = run(repo, "refs", "fetch")
    assert result.exit_code == 2, result.output
    assert words in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert (repo / LOCKFILE).read_text() == '{"version": 1, "works": {}}\n'


def test_a_doi_the_filter_cannot_carry_is_asked_alone(run: Run, repo: Path) -> None:
    Registries.mode = "400-filter"
    result = run(repo, "refs", "fetch")
    assert result.exit_code == 0, result.output
    assert "/crossref/works/10.5045%2Fbr.2022.2022001?" in Registries.requests[1]
    assert (
        parse_lock((repo / LOCKFILE).read_bytes()).works["doi:10.5045/br.2022.2022001"].journal
        == "Blood Research"
    )


def test_no_network(run: Run, repo: Path) -> None:
    configure(repo, "http://127.0.0.1:9")  # the discard port: nothing listens
    result = run(repo, "refs", "fetch")
    assert result.exit_code == 2
    assert (
        result.output.startswith("reviewflow: cannot reach 127.0.0.1:9: ")
        and "lockfile was not changed" in result.output
    )
    assert not (repo / LOCKFILE).exists()


def test_the_api_key_never_shows(run: Run, repo: Path, server: str) -> None:
    configure(repo, server, timeout_seconds=0.2, retries=0)
    Registries.mode = "slow"
    write(
        repo / "articles" / "subject.md",
        article_text(
            references=REFERENCES.split("  - id: 3")[0].split("  - id: 2")[1].join(["  - id: 2", ""])
        ),
    )
    result = run(repo, "refs", "fetch")
    assert result.exit_code == 2 and "no answer within 0.2 s" in result.output
    assert "test-key-123" not in result.output


def test_without_a_contact_address_nothing_is_sent(run: Run, repo: Path, server: str) -> None:
    configure(repo, server)
    text = (repo / "reviewflow.toml").read_text().replace('contact = "editors@example.org"\n', "")
    (repo / "reviewflow.toml").write_text(text)
    result = run(repo, "refs", "fetch")
    assert result.exit_code == 2 and "[references] contact is not set" in result.output
    assert Registries.requests == []


def test_ncbi_is_asked_three_times_a_second_at_most_without_a_key(server: str) -> None:
    plain = References(requests_per_second=50)
    assert client_for(plain, "editors@example.org", None).intervals == {"crossref": 0.02, "ncbi": 1 / 3}
    assert client_for(plain, "editors@example.org", "key").intervals["ncbi"] == 0.1
    waits: list[float] = []
    client = client_for(References(), "editors@example.org", None)
    client.sleep, client.clock = waits.append, lambda: 100.0  # the waits recorded; no time passes
    for _ in range(3):
        client.get("ncbi", f"{server}/eutils/esummary.fcgi", {"db": "pubmed", "id": "37732822"})
    assert waits == pytest.approx([1 / 3, 1 / 3])
    assert client.requests == {"ncbi": 3}


# --- the request plan ----------------------------------------------------------------------------


def test_the_plan_batches() -> None:
    wanted = {("doi", f"10.1/{i}") for i in range(80_000)} | {("pmid", str(i)) for i in range(1, 80_001)}
    plan = plan_fetch(wanted, None, date(2026, 12, 5))
    assert isinstance(plan, FetchPlan) and len(plan) == 160_000
    assert plan.requests == {"crossref": 3200, "ncbi": 400}
