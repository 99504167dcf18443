"""`verify` with nothing kept checks the approved texts while the history is read
(review/early_checks.py): the same verdicts as checking them after the replay, whatever the
approval commits claim. Real git repositories; the early path is taken for any number of
approvals here (EARLY_THRESHOLD), and seen to be taken by the `git log` that lists the approval
commits (the texts themselves are read in the workers, whose git processes are not counted)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests.conftest import article_text, as_author, git
from tests.gitcount import git_processes
from tests.gitrepo import RITA, as_json
from tests.test_gate import CLAIM, acknowledged_values, article, forge_approval, reviewing  # noqa: F401 (a fixture)
from tests.test_references import DOI, TITLE, entry, write_lock
from tests.test_references import repo as repo  # a fixture

Run = Callable[..., Result]


def verify_both_ways(
    run: Run, content: Path, monkeypatch: pytest.MonkeyPatch, replayed: bool = False
) -> tuple[Result, Result]:
    """`verify --no-cache --format json` with the texts checked after the replay, then early:
    the early checks take the approvals from the history read's own log, listed in no other.
    REPLAYED: an approved text's authors, answered by the early checks after the replay, list
    an actor the replay asked about, and the history is read and replayed again (its log too)."""
    from reviewflow.review import early_checks

    monkeypatch.setattr(early_checks, "EARLY_THRESHOLD", 10**9)
    with git_processes() as late_processes:
        late = run(content, "verify", "--no-cache", "--format", "json")
    monkeypatch.setattr(early_checks, "EARLY_THRESHOLD", 1)
    with git_processes() as early_processes:
        early = run(content, "verify", "--no-cache", "--format", "json")
    assert early_processes["log"] == late_processes["log"] + replayed, (late_processes, early_processes)
    assert early.output == late.output
    return late, early


def test_early_checks_refuse_the_same_forged_approval(
    reviewing: Path,  # noqa: F811 (the fixture)
    run: Run,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The early check of the text is brief. The gate checks it again, whole, for the approval
    # that leaves a warning unacknowledged (its report shows the full messages), and judges it
    # once for the others: one refused for an unreadable trailer alone, one that covers all.
    old, claim = acknowledged_values(reviewing, run)
    bare = forge_approval(reviewing, [old])  # the absolute claim is not acknowledged
    unreadable = forge_approval(reviewing, [old, claim, "not an acknowledgement"])
    forge_approval(reviewing, [old, claim])
    _, early = verify_both_ways(run, reviewing, monkeypatch)
    assert early.exit_code == 1, early.output
    refused, spoilt = as_json(early)["unacknowledged"]
    assert refused["commit"] == bare
    assert [f"{w['rule']} {w['line']}:{w['column']}" for w in refused["warnings"]] == [CLAIM]
    assert (spoilt["commit"], spoilt["warnings"]) == (unreadable, [])
    assert "unreadable Reviewflow-Accept trailers: 'not an acknowledgement'" in spoilt["problem"]


def test_an_approval_under_another_configuration_is_checked_under_its_own(
    reviewing: Path,  # noqa: F811 (the fixture)
    run: Run,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The early checks are made under HEAD's reviewflow.toml, which here no longer asks about
    # absolute claims: the approval made before that change is judged by the rules of its day.
    old, _ = acknowledged_values(reviewing, run)
    bare = forge_approval(reviewing, [old])
    config = reviewing / "reviewflow.toml"
    text = config.read_text(encoding="utf-8")
    assert "[checks]\n" in text and "\nrules =" not in text
    config.write_text(text.replace("[checks]\n", '[checks]\nrules = { "absolute-claim" = "off" }\n'))
    git(reviewing, "commit", "-q", "-am", "No longer ask about absolute claims")
    assert run(reviewing, "check", "--format", "json").exit_code == 0
    _, early = verify_both_ways(run, reviewing, monkeypatch)
    assert early.exit_code == 1, early.output
    [refused] = as_json(early)["unacknowledged"]
    assert (refused["commit"], [w["rule"] for w in refused["warnings"]]) == (bare, ["absolute-claim"])


def test_the_approvals_are_listed_as_git_writes_them(
    reviewing: Path,  # noqa: F811 (the fixture)
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The listing is read in blocks while git walks: a record cut by a block's end (here every
    # few bytes, a non-ASCII name among them) is the same record whole. With nothing kept, the
    # early checks take the approvals from the history read's log as it is parsed instead: the
    # ones, in the order and on the days, that the listing finds; then the end of the log.
    from reviewflow import gitbatch
    from reviewflow.gitstore import GitStore
    from reviewflow.review import early_checks
    from reviewflow.review.history import read_history

    forge_approval(reviewing, [CLAIM + " 0123abcd"])
    git(reviewing, "commit", "-q", "--allow-empty", "-m", "Nota bene: Ünïcode\n\nReviewflow-Action: approve")
    forge_approval(reviewing, [])
    store = GitStore.open(reviewing)
    whole = list(early_checks.approval_commits(store))
    monkeypatch.setattr(gitbatch, "STREAM_BYTES", 3)
    assert list(early_checks.approval_commits(store)) == whole
    blob = git(reviewing, "rev-parse", "HEAD:articles/miracle-claims.md").strip()
    assert [(b, slug) for b, slug, _ in whole] == [(blob, "miracle-claims")] * 2
    told: list[tuple[str, str, str] | None] = []
    read_history(GitStore.open(reviewing), use_cache=False, approved=told.append)
    assert told[-1] is None and None not in told[:-1]
    assert list(early_checks._told_approvals(iter([*told, None]).__next__)) == whole


def test_a_failed_history_read_ends_the_listing_it_was_telling(
    reviewing: Path,  # noqa: F811 (the fixture)
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The history read fails before it told the end of its log (here: ordering the commits):
    # the run reports it, and the thread that waited for the approvals it told ends (it would
    # wait for ever for an end never told).
    import threading

    from reviewflow.errors import EnvironmentProblem
    from reviewflow.gitstore import GitStore
    from reviewflow.review import early_checks
    from reviewflow.review.queries import verify

    log = GitStore.log

    def failing(self: GitStore, *args: Any, **kwargs: Any) -> None:
        # The whole log read (its approvals told), then a failure before its end is told. The
        # store's method, not history.py's functions: a module compiled by mypyc calls its own
        # functions directly, so a function patched into it would never be called.
        log(self, *args, **kwargs)
        raise EnvironmentProblem("the history is not whole")

    monkeypatch.setattr(early_checks, "EARLY_THRESHOLD", 1)
    monkeypatch.setattr(GitStore, "log", failing)
    listers = []
    started = early_checks.EarlyChecks.__init__

    def kept(self: early_checks.EarlyChecks, *args: Any, **kwargs: Any) -> None:
        started(self, *args, **kwargs)
        listers.append(self.lister)

    monkeypatch.setattr(early_checks.EarlyChecks, "__init__", kept)
    with pytest.raises(EnvironmentProblem):
        verify(reviewing, use_cache=False)
    [lister] = listers
    lister.join(timeout=30)
    assert not lister.is_alive() and lister not in threading.enumerate()


def test_chunks_sent_while_the_approvals_are_listed_give_the_same_verdicts(
    reviewing: Path,  # noqa: F811 (the fixture)
    run: Run,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One text a chunk: the workers get their first chunks before git has listed the rest.
    monkeypatch.setattr("reviewflow.review.early_checks.CHUNK_TEXTS", 1)
    old, claim = acknowledged_values(reviewing, run)
    bare = forge_approval(reviewing, [old])
    text = (reviewing / "articles" / "miracle-claims.md").read_text(encoding="utf-8")
    for number in range(12):  # twelve texts, each approved: more than the tapering reaches
        (reviewing / "articles" / "miracle-claims.md").write_text(
            text + f"\nNote {number}.\n", encoding="utf-8"
        )
        git(reviewing, "commit", "-q", "-am", f"Note {number}")
        forge_approval(reviewing, [old, claim])
    _, early = verify_both_ways(run, reviewing, monkeypatch)
    assert early.exit_code == 1, early.output
    [refused] = as_json(early)["unacknowledged"]
    assert refused["commit"] == bare


def lock_and_approve(run: Run, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The article's references locked as the registry resolved them, and the text approved by
    Rita (who stays the author of the commits that follow)."""
    write_lock(repo, {f"doi:{DOI}": entry()})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Write and lock")
    assert run(repo, "submit", "subject").exit_code == 0
    as_author(monkeypatch, "Dr. Rita Reviewer", "rita@board.example")
    assert run(repo, "review", "subject").exit_code == 0
    assert run(repo, "approve", "subject").exit_code == 0


def test_early_checks_judge_references_where_head_has_the_file(
    run: Run,
    repo: Path,  # noqa: F811 (the fixture)
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The gate checks the text as articles/<slug>.md; the reference check names the file where
    # HEAD has it, in a subdirectory: from the same parse, the same finding at the same place.
    (repo / "articles" / "blood").mkdir()
    (repo / "articles" / "subject.md").rename(repo / "articles" / "blood" / "subject.md")
    lock_and_approve(run, repo, monkeypatch)
    write_lock(repo, {f"doi:{DOI}": entry("What the registry now says is another paper")})
    git(repo, "commit", "-q", "-am", "Fetch the references again")
    _, early = verify_both_ways(run, repo, monkeypatch)
    assert early.exit_code == 1, early.output
    [stale] = json.loads(early.output)["stale_references"]
    found: list[dict[str, Any]] = stale["findings"]
    assert [(f["rule"], f["path"]) for f in found] == [("reference-mismatch", "articles/blood/subject.md")]
    assert TITLE in found[0]["message"]


def test_a_last_approved_text_the_early_checks_did_not_judge_is_judged_after_them(
    run: Run,
    repo: Path,  # noqa: F811 (the fixture)
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The newest approval commit of the article is a forgery on a later text: the early checks
    # judge that text against the lockfile, and the last approved text (Rita's) is judged after
    # them, by the main process with its own read of the lockfile.
    lock_and_approve(run, repo, monkeypatch)
    approved = git(repo, "rev-parse", "HEAD:articles/subject.md").strip()
    subject = repo / "articles" / "subject.md"
    subject.write_text(subject.read_text(encoding="utf-8") + "\nIt is often missed.\n", encoding="utf-8")
    git(repo, "commit", "-q", "-am", "Add a sentence")
    as_author(monkeypatch, "Mallory", "mallory@example.org")
    forge_approval(repo, [], "subject")
    write_lock(repo, {f"doi:{DOI}": entry("What the registry now says is another paper")})
    git(repo, "commit", "-q", "-am", "Fetch the references again")
    _, early = verify_both_ways(run, repo, monkeypatch)
    assert early.exit_code == 1, early.output
    [stale] = json.loads(early.output)["stale_references"]
    assert approved[:12] in stale["problem"]
    assert [f["rule"] for f in stale["findings"]] == ["reference-mismatch"]


def approve_then_relock(run: Run, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The approved text's reference then fetched again, as another paper (lock_and_approve)."""
    lock_and_approve(run, repo, monkeypatch)
    write_lock(repo, {f"doi:{DOI}": entry("What the registry now says is another paper")})
    git(repo, "commit", "-q", "-am", "Fetch the references again")


def assert_one_mismatch(result: Result) -> None:
    """RESULT (`verify --format json`) reports the approved text's reference as contradicted."""
    assert result.exit_code == 1, result.output
    [stale] = json.loads(result.output)["stale_references"]
    assert [f["rule"] for f in stale["findings"]] == ["reference-mismatch"]


def parses_recorded(monkeypatch: pytest.MonkeyPatch, record: Path, fail_in: int | None = None) -> None:
    """Each parse of HEAD's lockfile by the early checks written to RECORD as the id of the
    process that made it; one made in the process FAIL_IN fails there (not as a broken lockfile
    does)."""
    import os

    from reviewflow.review import early_checks

    parse = early_checks.change_lock

    def recorded(*args: Any) -> Any:
        with record.open("a", encoding="utf-8") as file:
            file.write(f"{os.getpid()}\n")
        if os.getpid() == fail_in:
            raise RuntimeError("not a broken lockfile")
        return parse(*args)

    monkeypatch.setattr(early_checks, "change_lock", recorded)


@pytest.mark.parametrize("fails_here", [False, True])
def test_the_lockfile_is_parsed_once_before_the_workers_fork_and_let_go_after(
    run: Run,
    repo: Path,  # noqa: F811 (the fixture)
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fails_here: bool,
) -> None:
    # The workers judge with the parse they inherit from this process: the stale reference is
    # found, no worker parses the lockfile again, and this process holds no parse after the run.
    # A parse that fails here for another reason than a broken lockfile is left to each worker
    # that judges a text, as before: the same verdicts.
    import os

    from reviewflow.review import early_checks

    approve_then_relock(run, repo, monkeypatch)
    here = str(os.getpid())
    parses_recorded(monkeypatch, tmp_path / "parses", fail_in=os.getpid() if fails_here else None)
    _, early = verify_both_ways(run, repo, monkeypatch)
    assert_one_mismatch(early)
    made_in = (tmp_path / "parses").read_text(encoding="utf-8").split()
    assert made_in[0] == here and early_checks._locks == []
    if fails_here:
        assert len(made_in) > 1 and here not in made_in[1:], made_in
    else:
        assert made_in == [here]


@pytest.mark.parametrize(
    "lockfile",
    [
        '{"version": 1, "works": {\n',  # not JSON
        '{"version": 1, "works": {"doi:10.5045/br.2022.2022001": {"source": "crossref"}}}\n',  # no checked_on
        None,  # no lockfile at HEAD, with [references] set
    ],
)
def test_a_broken_or_missing_lockfile_at_head_is_judged_alike_both_ways(
    run: Run,
    repo: Path,  # noqa: F811 (the fixture)
    monkeypatch: pytest.MonkeyPatch,
    lockfile: str | None,
) -> None:
    # Parsed before the workers fork, a lockfile that does not parse, or that the schema refuses,
    # judges no text, as each worker's own parse did; none at HEAD (where the configuration asks
    # for references) holds no entry a text could contradict.
    from reviewflow.layout import LOCKFILE

    lock_and_approve(run, repo, monkeypatch)
    if lockfile is None:
        git(repo, "rm", "-q", LOCKFILE)
        config = repo / "reviewflow.toml"
        if "[references]" not in config.read_text(encoding="utf-8"):
            config.write_text(
                config.read_text(encoding="utf-8") + '\n[references]\ncontact = "editors@example.org"\n',
                encoding="utf-8",
            )
            git(repo, "add", "reviewflow.toml")
    else:
        (repo / LOCKFILE).write_text(lockfile, encoding="utf-8")
        git(repo, "add", LOCKFILE)
    git(repo, "commit", "-q", "-m", "The lockfile spoilt")
    _, early = verify_both_ways(run, repo, monkeypatch)
    assert early.exit_code == 0, early.output
    assert json.loads(early.output)["stale_references"] == []


def test_verdicts_kept_by_other_code_do_not_stop_the_early_checks(
    reviewing: Path,  # noqa: F811 (the fixture)
    run: Run,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # After an upgrade, the verdicts an earlier reviewflow kept count for nothing: the texts are
    # checked early, as with nothing kept, not every one by the gate after the read.
    from reviewflow.review import early_checks

    monkeypatch.setattr(early_checks, "EARLY_THRESHOLD", 1)
    old, claim = acknowledged_values(reviewing, run)
    forge_approval(reviewing, [old, claim])
    assert run(reviewing, "verify").exit_code == 0  # keeps each approval's verdict
    [kept] = (reviewing / ".git" / "reviewflow").glob("acknowledged-v1*")
    with git_processes() as current:
        assert run(reviewing, "verify").exit_code == 0
    header, _, facts = kept.read_text(encoding="utf-8").partition("\n")
    kept.write_text(header.rsplit(" ", 1)[0] + " 0123456789abcdef01234567\n" + facts, encoding="utf-8")
    with git_processes() as foreign:
        result = run(reviewing, "verify", "--format", "json")
    assert result.exit_code == 0, result.output
    assert foreign["log"] == current["log"] + 1, (current, foreign)  # the approvals listed early


def test_an_authors_forged_approval_is_refused_the_same_both_ways(
    reviewing: Path,  # noqa: F811 (the fixture)
    run: Run,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The texts' authors are read by the history read while the workers check the approved
    # texts. Sam, on the board, approves by hand a text that lists him as an author, his email
    # spelt with a YAML escape: refused both ways, for the same reason.
    from tests.test_gate import PATH

    text = (reviewing / PATH).read_text(encoding="utf-8")
    sam = '  - {name: "Sam Second", email: "sam\\x40board.example", competing_interests: "none"}\n'
    (reviewing / PATH).write_text(text.replace("disclaimer:", sam + "disclaimer:", 1), encoding="utf-8")
    git(reviewing, "commit", "-q", "-am", "Sam writes too")
    as_author(monkeypatch, "Dr. Sam Second", "sam@board.example")
    forged = forge_approval(reviewing, [])
    _, early = verify_both_ways(run, reviewing, monkeypatch, replayed=True)
    assert early.exit_code == 1, early.output
    [invalid] = as_json(early)["invalid"]
    assert invalid["commit"] == forged
    assert "is listed in its authors" in invalid["reason"], invalid


def test_the_history_read_leaves_the_approved_texts_authors_to_the_early_checks(
    reviewing: Path,  # noqa: F811 (the fixture)
) -> None:
    # With the approvals told as the log is read (verify with nothing kept), the texts they name
    # are not read for their authors: each is left with its people in question (here Rita, who
    # reviewed and approved it), the other texts answered as before. Without, all are read.
    from reviewflow.gitstore import GitStore
    from reviewflow.review.history import read_history
    from tests.test_gate import PATH

    forge_approval(reviewing, [])
    approved = git(reviewing, "rev-parse", f"HEAD:{PATH}").strip()
    (reviewing / PATH).write_text(article() + "\nA later text.\n", encoding="utf-8")
    git(reviewing, "commit", "-q", "-am", "A later text")
    whole = read_history(GitStore.open(reviewing), use_cache=False).history
    told: list[tuple[str, str, str] | None] = []
    early = read_history(GitStore.open(reviewing), use_cache=False, approved=told.append).history
    assert [approval[0] for approval in told if approval] == [approved]
    assert approved in whole.authors and whole.authors_later == {}
    assert early.authors_later == {approved: frozenset({"rita@board.example"})}
    assert early.authors == {blob: listed for blob, listed in whole.authors.items() if blob != approved}


def fail_in_workers(monkeypatch: pytest.MonkeyPatch, marker: str) -> None:
    """The early checks' parse of any text holding MARKER fails in the workers (its chunk's
    answers are lost: the gate checks those texts itself), not in this process."""
    import os

    from reviewflow.review import early_checks

    answer = early_checks.parsed_authors
    here = os.getpid()

    def failing(document: Any) -> Any:
        if os.getpid() != here and marker in document.article.title:
            raise RuntimeError("a chunk that fails")
        return answer(document)

    monkeypatch.setattr(early_checks, "parsed_authors", failing)


SAM = '  - {name: "Sam Second", email: "sam@board.example", competing_interests: "none"}\n'


@pytest.mark.parametrize("answered", ["parsed", "invalid", "too large", "chunk fails"])
@pytest.mark.parametrize("listed", [True, False])
@pytest.mark.parametrize("sams", ["oldest", "newest"])
def test_an_approver_listed_in_the_authors_is_found_however_the_workers_answer(
    reviewing: Path,  # noqa: F811 (the fixture)
    run: Run,
    monkeypatch: pytest.MonkeyPatch,
    answered: str,
    listed: bool,
    sams: str,
) -> None:
    # The approved texts' authors are left to the early checks, which answer after the replay;
    # the replay takes no one for listed and records whom it asked about which text. Sam, on
    # the board, approves a text: one that lists him among its authors (refused, and found only
    # then: the history is replayed again) or one that lists Alice alone (no second replay).
    # Their answer is the text's parse ("parsed"); none, and the text read from git again, for
    # a front-matter the schema refuses, a text over the size limit, or a chunk that failed. Each
    # text a chunk of its own, Sam's approval the oldest or the newest of seven: whenever the
    # workers answer, the same verdicts as with the texts read for their authors by the history.
    from tests.test_gate import PATH

    monkeypatch.setattr("reviewflow.review.early_checks.CHUNK_TEXTS", 1)
    text = (reviewing / PATH).read_text(encoding="utf-8") + "\nSam's note.\n"
    if listed:
        text = text.replace("disclaimer:", SAM + "disclaimer:", 1)
    if answered == "invalid":
        text = text.replace("audience: patient", "audience: martians", 1)
    elif answered == "chunk fails":
        text = text.replace('title: "A test article"', 'title: "A test article, failing"', 1)
        fail_in_workers(monkeypatch, "failing")
    elif answered == "too large":
        config = reviewing / "reviewflow.toml"
        checks = config.read_text(encoding="utf-8").replace(
            "[checks]\n", "[checks]\nmax_file_bytes = 2000\n", 1
        )
        config.write_text(checks, encoding="utf-8")
        text += "\nA long last paragraph. " * 80
    others = [article() + f"\nNote {number}.\n" for number in range(6)]

    def approved_by_rita(texts: list[str]) -> None:
        as_author(monkeypatch, *RITA)
        for other in texts:
            (reviewing / PATH).write_text(other, encoding="utf-8")
            git(reviewing, "commit", "-q", "-am", "Another text")
            forge_approval(reviewing, [])

    approved_by_rita(others if sams == "newest" else [])
    (reviewing / PATH).write_text(text, encoding="utf-8")
    git(reviewing, "commit", "-q", "-am", "Sam's text")
    as_author(monkeypatch, "Dr. Sam Second", "sam@board.example")
    sams_approval = forge_approval(reviewing, [])
    approved_by_rita(others if sams == "oldest" else [])
    _, early = verify_both_ways(run, reviewing, monkeypatch, replayed=listed)
    reasons = {event["commit"]: event["reason"] for event in as_json(early)["invalid"]}
    assert ("is listed in its authors" in reasons[sams_approval]) is listed, reasons


def test_a_withdrawn_text_is_asked_about_by_the_history_read(
    reviewing: Path,  # noqa: F811 (the fixture)
    run: Run,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A withdrawal needs its actor among the authors: the texts withdrawals name are read for
    # their authors by the history read, even approved ones (here an approval forged after Alice
    # withdrew the text), and the history is not replayed again for them.
    from tests.gitrepo import ALICE, act_as
    from tests.test_gate import SLUG

    act_as(monkeypatch, ALICE)
    result = run(reviewing, "withdraw", SLUG)
    assert result.exit_code == 0, result.output
    act_as(monkeypatch, RITA)
    forged = forge_approval(reviewing, [])
    _, early = verify_both_ways(run, reviewing, monkeypatch)
    [invalid] = as_json(early)["invalid"]
    assert invalid["commit"] == forged and "is listed in its authors" not in invalid["reason"], invalid


def _read_chunk(reader: Any, chunk: list[str]) -> dict[str, bytes | None]:
    return dict(reader.read(chunk))


def test_the_workers_read_their_texts_from_one_git_process(content_repo: Path) -> None:
    """Two forked workers share one `cat-file --batch` (TextReader), a chunk at a time: every
    chunk gets its own texts, whichever worker asks and in whatever order they interleave."""
    from reviewflow.gitstore import GitStore
    from reviewflow.review.early_checks import DELTA_BASE_CACHE, TextReader
    from reviewflow.workers import fork_map

    texts = {f"text {number}\n".encode() * (number + 1) for number in range(60)}
    blobs = {}
    for text in texts:
        (content_repo / "blob").write_bytes(text)
        blobs[git(content_repo, "hash-object", "-w", "blob").strip()] = text
    missing = "0" * 40
    names = [*blobs, missing]
    chunks = [names[start : start + 7] for start in range(0, len(names), 7)]
    with git_processes() as started:
        reader = TextReader(GitStore.open(content_repo))
        try:
            read = [text for chunk in fork_map(_read_chunk, reader, chunks, 2) for text in chunk.items()]
        finally:
            reader.end()
    assert dict(read) == {**blobs, missing: None}
    assert started["cat-file"] == 1
    assert reader.process.returncode == 0  # ended by its input closing, not killed
    # with a delta-base cache of its own size (at 100,000 articles git's default halves its pace)
    assert f"core.deltaBaseCacheLimit={DELTA_BASE_CACHE}" in reader.process.args


def test_a_reader_out_of_step_reads_for_no_one_after_it(content_repo: Path) -> None:
    """A chunk whose answers stop making sense leaves the rest of them in the pipe: the chunks
    after it are not read (the gate checks their texts), rather than read out of step."""
    from reviewflow.gitstore import GitStore
    from reviewflow.review.early_checks import TextReader

    (content_repo / "blob").write_bytes(b"a text\n")
    blob = git(content_repo, "hash-object", "-w", "blob").strip()
    reader = TextReader(GitStore.open(content_repo))
    try:
        assert reader.read([blob]) == {blob: b"a text\n"}
        with pytest.raises(OSError, match="answered"):
            reader.read(["not an object", blob])  # "not an object missing": three words
        with pytest.raises(OSError, match="out of step"):
            reader.read([blob])
    finally:
        reader.end()


def _warnings_of(text: str, *, full_messages: bool) -> list[tuple[str, int, int, str, str | None]]:
    from datetime import date

    from reviewflow.checks.rules import Context, check_document
    from reviewflow.config import Config
    from reviewflow.content.article import parse_document
    from reviewflow.content.schema import bundled_schema

    document = parse_document("articles/hard.md", text.encode(), bundled_schema(), 1 << 20)
    context = Context(Config(), date(2026, 1, 1), full_messages=full_messages)
    found = check_document(document, context, warnings_only=True)
    return [(f.rule, f.line, f.column, f.message, f.intended) for f in found]


def test_a_check_without_full_messages_finds_the_same_warnings() -> None:
    """The early checks leave out readability's hardest sentences (only a refusal shows them):
    the same warnings, where they are; with a mark that may match a message's words, the full
    messages, so that it marks what it marks in a full check."""
    from tests.test_check_rules import HARD

    text = article_text(f"POEMS syndrome is rare [1].\n\n{HARD}\n")
    full, brief = _warnings_of(text, full_messages=True), _warnings_of(text, full_messages=False)
    assert [f[:3] for f in brief] == [f[:3] for f in full] and ("readability", 18, 1) in [f[:3] for f in full]
    [(_, _, _, named, _)] = [f for f in full if f[0] == "readability"]
    [(_, _, _, unnamed, _)] = [f for f in brief if f[0] == "readability"]
    assert "the hardest sentences: line 21" in named and "hardest" not in unnamed
    # The mark's text is on no line of the body the finding stands on: only in its message.
    mark = '  - {rule: readability, text: "Polyneuropathy accompanied", reason: "the disease\'s name"}\n'
    marked = article_text(f"POEMS syndrome is rare [1].\n\n{HARD}\n", extra=f"intended:\n{mark}")
    assert _warnings_of(marked, full_messages=False) == _warnings_of(marked, full_messages=True)
    assert ("readability", "the disease's name") in [
        (f[0], f[4]) for f in _warnings_of(marked, full_messages=True)
    ]


def test_a_refusal_of_a_hard_text_names_its_hardest_sentences_both_ways(
    content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An approval that covers its warnings is judged from the early check without full
    messages; one that does not is checked again, and reported as a full check reports it."""
    from tests.test_check_rules import HARD
    from tests.test_gate import under_review

    hard = under_review(content_repo, run, monkeypatch, f"{article()}\n{HARD}\n")
    covered = acknowledged_values(hard, run)
    bare = forge_approval(hard, [])
    forge_approval(hard, covered)
    _, early = verify_both_ways(run, hard, monkeypatch)
    [refused] = as_json(early)["unacknowledged"]
    assert refused["commit"] == bare
    [readability] = [w for w in refused["warnings"] if w["rule"] == "readability"]
    assert "the hardest sentences: line 23" in readability["message"], readability
