"""The review history read from git: the rules in force at each event, and the two ways of reading.

Every event is judged by the reviewflow.toml committed where it was made, so changing the board
never rewrites the past; the whole history (read through the index of each commit's diffs) and
a few articles (read by looking into the events' trees) must always agree.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from reviewflow import gitstore
from reviewflow.gitstore import GitStore
from reviewflow.review.board import committed_config
from reviewflow.review.history import read_history
from reviewflow.review.queries import load_statuses
from reviewflow.review.trailers import message_of, plain_block, plain_message
from reviewflow.review.workflow import Replay
from tests.conftest import article_text, git, write
from tests.gitrepo import (
    ALICE,
    MALLORY,
    RITA,
    SAM,
    SLUG,
    act_as,
    add_signing_key,
    as_json,
    blob,
    edit,
    forge,
    ok,
    refused,
    set_quorum,
    ssh_key,
)

Run = Callable[..., Result]
MALLORY_ON_BOARD = f'\n[[board]]\nname = "{MALLORY[0]}"\nemail = "{MALLORY[1]}"\ncredentials = "MD"\n'


def status_of(run: Run, repo: Path, slug: str = SLUG) -> dict:
    (entry,) = as_json(run(repo, "status", slug, "--format", "json"))
    return entry


def whole(repo: Path, use_cache: bool = True) -> dict:
    """Every article's state from a read of the whole history (through the index), replayed."""
    store = GitStore.open(repo)
    history = read_history(store, use_cache=use_cache).history
    return as_json_statuses(Replay(history, committed_config(store)).run().statuses)


def kept(repo: Path) -> dict:
    """The same, from the state kept since the last run where it applies (what commands use)."""
    return as_json_statuses(load_statuses(repo))


def as_json_statuses(statuses: dict) -> dict:
    return {
        slug: (s.state, s.approved, [(e.commit, e.valid, e.reason) for e in s.events])
        for slug, s in statuses.items()
    }


@pytest.fixture
def approved(content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> Path:
    act_as(monkeypatch, ALICE)
    ok(run(content_repo, "submit", SLUG))
    act_as(monkeypatch, RITA)
    ok(run(content_repo, "review", SLUG))
    ok(run(content_repo, "approve", SLUG))
    return content_repo


def remove_rita(repo: Path) -> None:
    config = repo / "reviewflow.toml"
    text = config.read_text(encoding="utf-8")
    start = text.index('[[board]]\nname = "Dr. Rita Reviewer"')
    end = text.index("[[board]]", start + 1)
    config.write_text(text[:start] + text[end:], encoding="utf-8")
    git(repo, "commit", "-q", "-am", "Rita leaves the board")


def test_a_member_who_leaves_the_board_keeps_their_approvals(approved: Path, run: Run) -> None:
    remove_rita(approved)
    entry = status_of(run, approved)
    assert entry["state"] == "approved" and entry["approved_by"] == [RITA[1]]
    ok(run(approved, "verify"))
    # The published page names the reviewer, who is no longer on the board.
    out = approved / "site"
    ok(run(approved, "publish", "--out", str(out)))
    page = (out / "articles" / SLUG / "index.html").read_text(encoding="utf-8")
    assert "A former member of the advisory board" in page


def test_after_leaving_the_board_a_member_cannot_act(approved: Path, run: Run, monkeypatch) -> None:
    remove_rita(approved)
    act_as(monkeypatch, ALICE)
    edit(approved, "A new paragraph.")
    ok(run(approved, "submit", SLUG))
    act_as(monkeypatch, RITA)
    refused(run(approved, "review", SLUG), "not on the advisory board")
    forged = forge(approved, "review")
    result = run(approved, "verify")
    assert (
        result.exit_code == 1
        and forged[:12] in result.output
        and "not on the advisory board" in result.output
    )


def test_a_member_counts_from_the_commit_that_adds_them(
    content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as(monkeypatch, ALICE)
    ok(run(content_repo, "submit", SLUG))
    act_as(monkeypatch, MALLORY)
    early = forge(content_repo, "review")  # before Mallory is on the board
    with (content_repo / "reviewflow.toml").open("a", encoding="utf-8") as handle:
        handle.write(MALLORY_ON_BOARD)
    git(content_repo, "commit", "-q", "-am", "Mallory joins the board")
    ok(run(content_repo, "review", SLUG))
    ok(run(content_repo, "approve", SLUG))
    assert status_of(run, content_repo)["approved_by"] == [MALLORY[1]]
    invalid = as_json(run(content_repo, "verify", "--format", "json"))["invalid"]
    assert [e["commit"] for e in invalid] == [early]
    assert "not on the advisory board" in invalid[0]["reason"]


def test_an_uncommitted_board_entry_gives_nobody_a_say(
    content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as(monkeypatch, ALICE)
    ok(run(content_repo, "submit", SLUG))
    with (content_repo / "reviewflow.toml").open("a", encoding="utf-8") as handle:
        handle.write(MALLORY_ON_BOARD)  # in the work tree only
    act_as(monkeypatch, MALLORY)
    refused(run(content_repo, "review", SLUG), "not on the advisory board")
    forge(content_repo, "review")
    forge(content_repo, "approve")
    assert status_of(run, content_repo)["state"] == "submitted"
    assert run(content_repo, "verify").exit_code == 1


def test_an_event_under_a_broken_configuration_does_not_count(
    approved: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = approved / "reviewflow.toml"
    good = config.read_text(encoding="utf-8")
    act_as(monkeypatch, ALICE)
    edit(approved, "Changed text.")
    ok(run(approved, "submit", SLUG))
    config.write_text(good + "\n[policy\n", encoding="utf-8")
    git(approved, "commit", "-q", "-am", "A broken config")
    act_as(monkeypatch, RITA)
    broken = forge(approved, "review")
    config.write_text(good, encoding="utf-8")
    git(approved, "commit", "-q", "-am", "Repair the config")
    invalid = as_json(run(approved, "verify", "--format", "json"))["invalid"]
    assert [e["commit"] for e in invalid] == [broken]
    assert "reviewflow.toml in this commit is invalid" in invalid[0]["reason"]
    assert status_of(run, approved)["state"] == "submitted"


def test_a_status_needs_a_committed_configuration(tmp_path: Path, run: Run) -> None:
    from reviewflow.cli.scaffold import init_repo

    repo = tmp_path / "lib"
    init_repo(repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "articles")
    git(repo, "commit", "-q", "-m", "Articles first")
    result = run(repo, "status")
    assert result.exit_code == 2 and "reviewflow.toml is not committed" in result.output


def test_reviews_on_two_branches_merge_into_a_clean_history(
    content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_quorum(content_repo, 2)
    act_as(monkeypatch, ALICE)
    ok(run(content_repo, "submit", SLUG))
    for person, branch in ((RITA, "rita"), (SAM, "sam")):
        git(content_repo, "checkout", "-q", "-b", branch, "main")
        act_as(monkeypatch, person)
        ok(run(content_repo, "review", SLUG))
        ok(run(content_repo, "approve", SLUG))
    git(content_repo, "checkout", "-q", "main")
    git(content_repo, "merge", "-q", "--no-ff", "-m", "Rita's review", "rita")
    git(content_repo, "merge", "-q", "--no-ff", "-m", "Sam's review", "sam")
    entry = status_of(run, content_repo)
    assert entry["state"] == "approved" and entry["approved_by"] == [RITA[1], SAM[1]]
    ok(run(content_repo, "verify"))


def test_a_second_review_on_the_same_branch_is_refused_with_advice(
    content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as(monkeypatch, ALICE)
    ok(run(content_repo, "submit", SLUG))
    act_as(monkeypatch, RITA)
    ok(run(content_repo, "review", SLUG))
    act_as(monkeypatch, SAM)
    refused(run(content_repo, "review", SLUG), "already under review by rita@board.example", "approve it")


@pytest.fixture
def tangled(content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two articles, a branch with edits and reviews merged back, forged and stale events."""
    other = "poems-syndrome-and-you"
    act_as(monkeypatch, ALICE)
    write(content_repo / "articles" / f"{other}.md", article_text(title="Another one"))
    git(content_repo, "add", "-A")
    git(content_repo, "commit", "-q", "-m", "A second article")
    ok(run(content_repo, "submit", SLUG))
    ok(run(content_repo, "submit", other))
    git(content_repo, "checkout", "-q", "-b", "side")
    act_as(monkeypatch, RITA)
    ok(run(content_repo, "review", other))
    ok(run(content_repo, "request-changes", other, "-m", "Cite it"))
    act_as(monkeypatch, ALICE)
    edit(content_repo, "Cited now [1].", path=f"articles/{other}.md")
    git(content_repo, "checkout", "-q", "main")
    act_as(monkeypatch, SAM)
    ok(run(content_repo, "review", SLUG))
    edit(content_repo, "Sam edits the article he reviews.")  # Sam becomes an author of it
    forge(content_repo, "approve")
    act_as(monkeypatch, MALLORY)
    forge(content_repo, "approve", slug=other, content=blob(content_repo, path=f"articles/{other}.md"))
    act_as(monkeypatch, ALICE)
    git(content_repo, "merge", "-q", "--no-ff", "-m", "Merge side", "side")
    ok(run(content_repo, "submit", other))
    ok(run(content_repo, "submit", SLUG))
    return content_repo


def test_whole_and_scoped_reads_agree(tangled: Path) -> None:
    everything = whole(tangled)
    assert len(everything) == 2
    for slug in everything:
        assert as_json_statuses(load_statuses(tangled, scope={slug})) == {slug: everything[slug]}
    # The history is not trivial: invalid events of both kinds, and the changes on the branch.
    reasons = [reason for _, _, events in everything.values() for _, valid, reason in events if not valid]
    assert any("not on the advisory board" in r for r in reasons)
    assert any("changed it in commit" in r for r in reasons)


def test_the_index_is_kept_and_reused_and_git_alone_agrees(tangled: Path, run: Run) -> None:
    first = whole(tangled)
    index = list((tangled / ".git" / "reviewflow").glob("changes-*"))
    assert len(index) == 1 and index[0].stat().st_size > 0
    assert whole(tangled) == first
    # Unreadable lines are skipped, and a file of another layout is replaced.
    with index[0].open("a", encoding="utf-8") as handle:
        handle.write("garbage\n\n")
    assert whole(tangled) == first
    index[0].write_text("reviewflow changes 0\nnonsense\n", encoding="utf-8")
    assert whole(tangled) == first
    assert index[0].read_text(encoding="utf-8").startswith("reviewflow changes 2 ")
    shutil.rmtree(tangled / ".git" / "reviewflow")
    cached = run(tangled, "verify", "--format", "json")
    alone = run(tangled, "verify", "--no-cache", "--format", "json")
    assert cached.exit_code == alone.exit_code == 1 and cached.stdout == alone.stdout


def test_diffs_split_between_processes_give_the_same_answers(
    tangled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = GitStore.open(tangled)
    one = read_history(store, use_cache=False)
    monkeypatch.setattr(gitstore, "_PARALLEL_DIFFS", 1)
    two = read_history(store, use_cache=False)
    assert one == two


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen")
def test_a_new_signing_key_keeps_the_actions_signed_with_the_old_one(
    content_repo: Path, run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    old_private, old_public = ssh_key(tmp_path / "keys", "old")
    new_private, new_public = ssh_key(tmp_path / "keys", "new")
    add_signing_key(content_repo, RITA[1], old_public)
    git(content_repo, "config", "gpg.format", "ssh")
    act_as(monkeypatch, ALICE)
    ok(run(content_repo, "submit", SLUG))
    act_as(monkeypatch, RITA)
    git(content_repo, "config", "user.signingkey", str(old_private))
    ok(run(content_repo, "review", SLUG, "--sign"))
    ok(run(content_repo, "approve", SLUG, "--sign"))
    config = content_repo / "reviewflow.toml"
    config.write_text(config.read_text(encoding="utf-8").replace(old_public, new_public), encoding="utf-8")
    git(content_repo, "commit", "-q", "-am", "Rita's new key")
    assert status_of(run, content_repo)["state"] == "approved"
    ok(run(content_repo, "verify"))
    # From now on only the new key counts.
    act_as(monkeypatch, ALICE)
    edit(content_repo, "More.")
    ok(run(content_repo, "submit", SLUG))
    act_as(monkeypatch, RITA)
    refused(run(content_repo, "review", SLUG, "--sign"), "not with your signing_key")
    git(content_repo, "config", "user.signingkey", str(new_private))
    ok(run(content_repo, "review", SLUG, "--sign"))


def test_the_kept_state_is_what_a_whole_replay_gives(
    tangled: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After every kind of change, the state resumed from the last run equals a replay from git alone."""
    from reviewflow.review import snapshot as kept_state

    other = "poems-syndrome-and-you"
    whole_reads: list[int] = []

    def counted(*args: object, **options: object):  # type: ignore[no-untyped-def]
        whole_reads.append(1)
        return read_history(*args, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(kept_state, "read_history", counted)
    assert kept(tangled) == whole(tangled, use_cache=False)  # the first run keeps its state
    assert len(whole_reads) == 1
    snapshot = next((tangled / ".git" / "reviewflow").glob("replay-*"))

    def same(reads: int = 1) -> None:
        assert kept(tangled) == whole(tangled, use_cache=False)
        assert len(whole_reads) == reads, "a straight line of commits is read commit by commit"

    act_as(monkeypatch, RITA)
    ok(run(tangled, "review", other))  # one commit on top: resumed
    same()
    ok(run(tangled, "approve", other))
    act_as(monkeypatch, ALICE)
    edit(tangled, "A new line.", path=f"articles/{other}.md")  # an edit after approval
    ok(run(tangled, "submit", other))
    same()
    remove_rita(tangled)  # a config change, then events judged by it
    act_as(monkeypatch, RITA)
    forge(tangled, "review", slug=other, content=blob(tangled, path=f"articles/{other}.md"))
    same()
    same()  # the same HEAD: nothing to read
    # A merge is not a straight line: the whole history is read again, and kept anew.
    git(tangled, "checkout", "-q", "-b", "later", "HEAD~2")
    act_as(monkeypatch, SAM)
    forge(tangled, "review", slug=other, content=blob(tangled, path=f"articles/{other}.md"))
    git(tangled, "checkout", "-q", "main")
    git(tangled, "merge", "-q", "--no-ff", "-m", "Merge later", "later")
    same(reads=2)
    # Back in time (the kept HEAD is no ancestor of HEAD), and forward again.
    git(tangled, "reset", "-q", "--hard", "HEAD~3")
    same(reads=3)
    git(tangled, "reset", "-q", "--hard", "main@{1}")
    same(reads=4)
    # A kept state that does not read back is ignored, and replaced.
    snapshot.write_bytes(snapshot.read_bytes()[:-50])
    same(reads=5)
    snapshot.write_bytes(b"garbage")
    same(reads=6)
    assert snapshot.read_bytes() != b"garbage"


def test_a_whole_read_keeps_its_events_and_mappings_as_layers_that_read_back_as_one(
    tangled: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A whole read writes its events and its mappings' rows a few at a time, as layers of
    their sections (so that the save never holds them all at once): read back, they are the
    whole history, and a run that resumes adds its own layer over them."""
    from reviewflow.review import snapshot as kept_state

    monkeypatch.setattr(kept_state, "EVENTS_PER_LAYER", 2)
    monkeypatch.setattr(kept_state, "ROWS_PER_LAYER", 1)
    kept(tangled)
    snapshot = next((tangled / ".git" / "reviewflow").glob("replay-*"))
    layers = snapshot.read_bytes().count(b"events+")
    assert layers >= 2, "more than two events: more than one layer"
    data = snapshot.read_bytes()
    assert [name for name in (b"changes", b"authors", b"appeared") if b"%s+1" % name not in data] == []
    assert kept_log(tangled) == whole_log(tangled)
    act_as(monkeypatch, RITA)
    ok(run(tangled, "review", "poems-syndrome-and-you"))
    assert kept(tangled) == whole(tangled, use_cache=False)
    assert kept_log(tangled) == whole_log(tangled)
    assert snapshot.read_bytes().count(b"events+") == layers + 1


def test_a_run_that_resumes_writes_back_the_layers_it_read_with_the_digests_they_were_checked_against(
    tangled: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that resumes writes the kept layers back as they were read, under the digests the
    sealed index named for them when the file was opened (not digested again): the new file's
    every layer still hashes to the digest its index names, so the next run opens it."""
    import hashlib

    from reviewflow.review import snapshot_file

    def layers() -> dict[str, list[tuple[bytes, bytes]]]:
        file = snapshot_file.kept_file(GitStore.open(tangled))
        assert file is not None
        opened = snapshot_file.open_file(file)
        assert opened is not None, "the kept state's seal and every layer's digest check out"
        found: dict[str, list[tuple[bytes, bytes]]] = {}
        for name, each in opened.sections.items():
            assert all(isinstance(layer, snapshot_file.Checked) for layer in each)
            found[name] = [(bytes(snapshot_file.layer_bytes(layer)), layer.digest) for layer in each]
        return found

    kept(tangled)
    before = layers()
    act_as(monkeypatch, RITA)
    ok(run(tangled, "review", "poems-syndrome-and-you"))  # judged before its commit: the kept HEAD's parent
    kept(tangled)  # resumes, and adds the review's commit
    after = layers()
    assert len(after["events"]) == len(before["events"]) + 1, "the new event: a layer of its own"
    for name, old in before.items():
        assert after[name][: len(old)] == old or len(after[name]) == 1, name  # a section made whole
    for name, each in after.items():
        for raw, digest in each:
            assert hashlib.blake2b(raw, digest_size=snapshot_file.DIGEST_SIZE).digest() == digest, name
    assert kept(tangled) == whole(tangled, use_cache=False)


def test_a_kept_section_written_over_after_its_seal_was_checked_is_refused(tangled: Path) -> None:
    """A run at the kept HEAD leaves the sections it has not read in the file until it wants
    them: bytes written over there since the seal was checked are refused, never read."""
    from reviewflow.errors import EnvironmentProblem
    from reviewflow.review import snapshot as kept_state
    from reviewflow.review import snapshot_file

    kept(tangled)
    store = GitStore.open(tangled)
    file = snapshot_file.kept_file(store)
    assert file is not None
    found = kept_state._load(store, file)
    assert found is not None
    part = found.sections["changes"][0]
    assert isinstance(part, snapshot_file.Part), "not read yet: left in the file"
    with file.path.open("r+b") as handle:  # the same file, written over in place
        handle.seek(part.offset)
        first = handle.read(1)
        handle.seek(part.offset)
        handle.write(bytes([first[0] ^ 0xFF]))
    with pytest.raises(EnvironmentProblem, match="the kept review state changed while this run read it"):
        dict(found.log.history.changes)


def kept_log(repo: Path) -> tuple[dict, ...]:
    """The whole kept history, every section of it, as the next run reads it from .git/reviewflow/."""
    from reviewflow.review import snapshot as kept_state
    from reviewflow.review import snapshot_file

    store = GitStore.open(repo)
    file = snapshot_file.kept_file(store)
    assert file is not None
    found = kept_state._load(store, file)
    assert found is not None
    history = found.log.history
    return (
        found.head,
        list(history.order),
        dict(history.parents),
        dict(history.changes),
        dict(history.authors),
        dict(history.heads),
        dict(found.log.appeared),
        dict(found.log.config_blobs),
        [(e.commit, e.valid, e.reason) for e in found.events],
    )


def whole_log(repo: Path) -> tuple[dict, ...]:
    """The same, from git alone."""
    store = GitStore.open(repo)
    log = read_history(store, use_cache=False)
    history = log.history
    events = Replay(history, committed_config(store)).run().events
    return (
        store.head,
        list(history.order),
        dict(history.parents),
        dict(history.changes),
        dict(history.authors),
        dict(history.heads),
        dict(log.appeared),
        dict(log.config_blobs),
        [(e.commit, e.valid, e.reason) for e in events],
    )


def test_each_run_adds_a_layer_to_the_kept_state_and_merges_them_past_the_limit(
    tangled: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that resumes writes what it added as a layer over the kept bytes; read back, the
    layers are the whole history, and past LAYERS_MAX a section is merged into one again."""
    from reviewflow.review import snapshot as kept_state

    monkeypatch.setattr(kept_state, "LAYERS_MAX", 3)
    other = "poems-syndrome-and-you"
    kept(tangled)  # a whole read: one layer each
    snapshot = next((tangled / ".git" / "reviewflow").glob("replay-*"))
    layers_seen = set()
    steps = [
        (RITA, lambda: ok(run(tangled, "review", other))),
        (RITA, lambda: ok(run(tangled, "approve", other))),
        (ALICE, lambda: edit(tangled, "A new line.", path=f"articles/{other}.md")),
        (ALICE, lambda: ok(run(tangled, "submit", other))),
        (ALICE, lambda: remove_rita(tangled)),
        (
            RITA,
            lambda: forge(tangled, "review", slug=other, content=blob(tangled, path=f"articles/{other}.md")),
        ),
    ]
    for who, step in steps:
        act_as(monkeypatch, who)
        step()
        assert kept(tangled) == whole(tangled, use_cache=False)
        assert kept_log(tangled) == whole_log(tangled)
        data = snapshot.read_bytes()
        layers_seen.add(data.count(b"events+"))
        assert b"events+3" not in data
    assert layers_seen >= {0, 1, 2}, "each resumed run adds a layer, and the third is merged away"


def test_the_kept_tracks_place_each_event_as_a_map_of_every_event_would(tangled: Path) -> None:
    """The save places a track's events by one pass over the history (a track's events are its
    article's, in order); a track that is not so is placed event by event, as before."""
    from reviewflow.review import kept as rows_of
    from reviewflow.review import snapshot as kept_state

    store = GitStore.open(tangled)
    history = read_history(store, use_cache=False).history
    replay = Replay(history, committed_config(store))
    replay.run()
    place = {id(event): index for index, event in enumerate(replay.judged)}

    def by_map() -> dict:
        return {
            slug: rows_of.track_row(track, [place[id(event)] for event in track.events])
            for slug, track in replay.tracks.items()
        }

    def rows() -> dict:
        found: dict = {}
        for _, made in kept_state._track_layers(replay, None):
            found.update(made()[0])
        return found

    assert rows() == by_map()
    track = next(t for t in replay.tracks.values() if len(t.events) > 1)
    track.events.reverse()  # not its article's events in order any more
    assert rows() == by_map()


def test_a_plain_events_message_is_read_as_the_general_way_reads_it() -> None:
    """`plain_message` answers only where `message_of` would say the same: over bodies of odd
    lines, blank lines, whitespace `strip` takes and trailer lines `message_of` refuses, it is
    either None or `message_of`'s answer, and it answers for the bodies reviewflow writes."""
    block = "Reviewflow-Article: a-b\nReviewflow-Action: approve\nReviewflow-Content: " + "c" * 40 + "\n"
    assert plain_message(block, block) == message_of(block) == ""
    assert plain_message(f" Checked \n\n{block}", block) == message_of(f" Checked \n\n{block}") == "Checked"
    plain_accept = f"{block}Reviewflow-Accept: readability 86:1 b4c52e55\n"
    assert plain_message(f"Fine\n\n{plain_accept}", plain_accept) == "Fine"
    pieces = ["x", " ", "\t", "\r", "\x0b", "\x1c", "\x1f", "\x85", "\u2028", "\xa0", "\n", "\n\n", ":", "é"]
    accepts = ["", "ok", " ok", "ok ", "a\tb", "\x1c", "é", "", "a:b c"]
    chance = random.Random(14)
    answered = 0
    for _ in range(20_000):
        head = "".join(chance.choice(pieces) for _ in range(chance.randrange(4)))
        lines = [f"Reviewflow-Accept:{chance.choice([' ', '', chr(9)])}{chance.choice(accepts)}\n"]
        trailers = block + "".join(lines * chance.randrange(3))
        if plain_block(trailers) is None:
            continue
        body = (
            head + chance.choice(["\n\n", "\n", "", "\n\n\n"]) + trailers + chance.choice(["", "", "\n", " "])
        )
        fast = plain_message(body, trailers)
        if fast is not None:
            answered += 1
            assert fast == message_of(body), repr(body)
    assert answered > 1000
