"""What reviewflow judges is git's own objects, and a cache never changes a verdict.

Git can be told to show other objects than the ones committed: `refs/replace/*` (which a mirror
clone fetches) and `.git/info/grafts`. Every command must judge the real objects. And every
record reviewflow keeps (.git/reviewflow/, .reviewflow-cache/) may make a command faster, but
a torn, altered or foreign one must give the same output as no cache at all.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import random
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from reviewflow import gitprocess
from reviewflow.cache import record_tag
from reviewflow.gitlog import LogEntry
from reviewflow.gitstore import GitStore
from reviewflow.review import changes, snapshot, snapshot_file
from reviewflow.review.changes import ChangeIndex, Diff, FactFile, walk
from reviewflow.review.model import Event
from tests.conftest import article_text, git, write
from tests.gitrepo import ALICE, MALLORY, PATH, RITA, SAM, SLUG, act_as, blob, edit, forge, head, ok

Run = Callable[..., Result]
MALLORY_ON_BOARD = f'\n[[board]]\nname = "{MALLORY[0]}"\nemail = "{MALLORY[1]}"\ncredentials = "MD"\n'
PLANTED_DISCLAIMER = "Planted disclaimer that nobody committed."


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return head(repo)


def state_of(run: Run, repo: Path, slug: str = SLUG) -> str:
    result = run(repo, "status", slug, "--format", "json")
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.stdout)
    return str(entry["state"])


def site_text(run: Run, repo: Path, *options: str) -> str:
    out = repo.parent / "site"
    ok(run(repo, "publish", "--out", str(out), *options))
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(out.rglob("*")) if p.is_file())


def approve_as_rita(run: Run, monkeypatch: pytest.MonkeyPatch, repo: Path, slug: str = SLUG) -> None:
    act_as(monkeypatch, ALICE)
    ok(run(repo, "submit", slug))
    act_as(monkeypatch, RITA)
    ok(run(repo, "review", slug))
    ok(run(repo, "approve", slug))
    act_as(monkeypatch, ALICE)


def git_input(repo: Path, text: str, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=repo, input=text, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def replace_blob(repo: Path, rev_path: str, text: str) -> None:
    """Make git show TEXT wherever the blob at REV_PATH is read (unless told not to)."""
    planted = git_input(repo, text, "hash-object", "-w", "--stdin")
    git(repo, "replace", "-f", git(repo, "rev-parse", rev_path).strip(), planted)


# --- 2. objects substituted behind git's back ------------------------------------------------------


def test_a_replaced_board_in_the_base_does_not_let_an_outsider_pass_ci(
    run: Run, content_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(content_repo, "checkout", "-q", "-b", "feature")
    edit(content_repo)
    act_as(monkeypatch, ALICE)
    ok(run(content_repo, "submit", SLUG))
    act_as(monkeypatch, MALLORY)
    forge(content_repo, "review")
    forge(content_repo, "approve")
    act_as(monkeypatch, ALICE)
    honest = run(content_repo, "ci", "--base", "main", "--require-approved", "--format", "json")
    assert honest.exit_code == 1, honest.output

    config = (content_repo / "reviewflow.toml").read_text(encoding="utf-8")
    replace_blob(content_repo, "main:reviewflow.toml", config + MALLORY_ON_BOARD)  # HEAD's too
    result = run(content_repo, "ci", "--base", "main", "--require-approved", "--format", "json")
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout) == json.loads(honest.stdout)
    assert state_of(run, content_repo) != "approved"


def test_publish_shows_the_committed_config_and_text_not_replaced_ones(
    run: Run, content_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    approve_as_rita(run, monkeypatch, content_repo)
    honest = site_text(run, content_repo)
    config = (content_repo / "reviewflow.toml").read_text(encoding="utf-8")
    planted = config.replace("It is not a diagnosis", PLANTED_DISCLAIMER) + MALLORY_ON_BOARD
    replace_blob(content_repo, "HEAD:reviewflow.toml", planted)
    article = (content_repo / PATH).read_text(encoding="utf-8")
    replace_blob(content_repo, f"HEAD:{PATH}", article + "\nA sentence nobody approved.\n")

    site = site_text(run, content_repo, "--no-cache")
    assert PLANTED_DISCLAIMER not in site and MALLORY[0] not in site
    assert "nobody approved" not in site
    assert site == honest
    verify = run(content_repo, "verify", "--no-cache")
    assert verify.exit_code == 0, verify.output
    assert state_of(run, content_repo) == "approved"


def test_a_replaced_base_commit_cannot_empty_the_change_ci_judges(
    run: Run, content_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(content_repo, "checkout", "-q", "-b", "feature")
    edit(content_repo)
    act_as(monkeypatch, MALLORY)
    forge(content_repo, "approve")
    act_as(monkeypatch, ALICE)
    honest = run(content_repo, "ci", "--base", "main", "--require-approved", "--format", "json")
    assert honest.exit_code == 1, honest.output
    # main's tip, as if it already held the whole branch: the merge-base would be HEAD itself.
    tip = head(content_repo)
    fake = f"tree {git(content_repo, 'rev-parse', 'HEAD^{tree}').strip()}\nparent {tip}\n"
    fake += "author A <a@example> 1700000000 +0000\ncommitter A <a@example> 1700000000 +0000\n\nmain\n"
    planted = git_input(content_repo, fake, "hash-object", "-t", "commit", "-w", "--stdin")
    git(content_repo, "replace", git(content_repo, "rev-parse", "main").strip(), planted)
    result = run(content_repo, "ci", "--base", "main", "--require-approved", "--format", "json")
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout) == json.loads(honest.stdout)


def graft(repo: Path, *lines: str) -> None:
    write(repo / ".git" / "info" / "grafts", "".join(f"{line}\n" for line in lines))


def test_a_graft_cannot_hide_a_reviewers_own_edit(
    run: Run, content_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = edit(content_repo, "Alice's sentence.")
    act_as(monkeypatch, RITA)
    edit(content_repo, "Rita's own sentence.")
    act_as(monkeypatch, ALICE)
    write(content_repo / "NOTES.txt", "unrelated\n")
    after = commit_all(content_repo, "Notes")
    graft(content_repo, f"{after} {before}")  # Rita's edit is no longer in the history git shows
    approve_as_rita_forged(content_repo, monkeypatch)
    honest_site = site_text(run, content_repo)

    assert state_of(run, content_repo) != "approved"
    verify = run(content_repo, "verify")
    assert verify.exit_code == 1, verify.output
    assert "Rita's own sentence" not in honest_site


def approve_as_rita_forged(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    act_as(monkeypatch, ALICE)
    forge(repo, "submit")
    act_as(monkeypatch, RITA)
    forge(repo, "review")
    forge(repo, "approve")
    act_as(monkeypatch, ALICE)


def test_a_cyclic_graft_is_not_all_valid(
    run: Run, content_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edit(content_repo)
    act_as(monkeypatch, ALICE)
    forge(content_repo, "submit")
    act_as(monkeypatch, MALLORY)
    forge(content_repo, "approve")
    honest = run(content_repo, "verify", "--no-cache")
    assert honest.exit_code == 1, honest.output
    root = git(content_repo, "rev-list", "--max-parents=0", "HEAD").strip()
    graft(content_repo, f"{root} {head(content_repo)}")
    for args in (("verify",), ("verify", "--no-cache")):
        result = run(content_repo, *args)
        assert (result.exit_code, result.output) == (1, honest.output)


def test_a_verdict_made_under_a_graft_does_not_outlive_it(
    run: Run, content_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = edit(content_repo, "Alice's sentence.")
    act_as(monkeypatch, RITA)
    edit(content_repo, "Rita's own sentence.")
    act_as(monkeypatch, ALICE)
    write(content_repo / "NOTES.txt", "unrelated\n")
    after = commit_all(content_repo, "Notes")
    approve_as_rita_forged(content_repo, monkeypatch)
    graft(content_repo, f"{after} {before}")
    run(content_repo, "status", "--format", "json")  # whatever it says, it keeps its verdict
    (content_repo / ".git" / "info" / "grafts").unlink()
    assert state_of(run, content_repo) != "approved"
    assert run(content_repo, "verify").exit_code == 1


# --- 3. a cache may make a command faster, never change its verdict --------------------------------

SAM_ARTICLE = "sam-notes"


def build_library(run: Run, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A history whose verdicts hang on single facts: a board removal, an author's own approval."""
    with (repo / "reviewflow.toml").open("a", encoding="utf-8") as handle:
        handle.write(MALLORY_ON_BOARD)
    commit_all(repo, "Mallory joins the board")
    sam = article_text(title="Sam's notes").replace(
        "authors:\n", f'authors:\n  - name: "{SAM[0]}"\n    email: "{SAM[1]}"\n'
    )
    write(repo / "articles" / f"{SAM_ARTICLE}.md", sam)
    commit_all(repo, "Sam's notes")
    approve_as_rita(run, monkeypatch, repo)
    ok(run(repo, "status", "--format", "json"))
    edit(repo, "A sentence only Alice wrote.")
    forge(repo, "submit")
    ok(run(repo, "status", "--format", "json"))
    config = repo / "reviewflow.toml"
    config.write_text(config.read_text(encoding="utf-8").replace(MALLORY_ON_BOARD, ""), encoding="utf-8")
    commit_all(repo, "Mallory leaves the board")
    ok(run(repo, "status", "--format", "json"))  # the removal is the last fact in the index
    git(repo, "checkout", "-q", "-b", "feature")
    act_as(monkeypatch, MALLORY)
    forge(repo, "review")
    forge(repo, "approve")
    act_as(monkeypatch, ALICE)
    forge(repo, "submit", SAM_ARTICLE, blob(repo, path=f"articles/{SAM_ARTICLE}.md"))
    act_as(monkeypatch, SAM)
    forge(repo, "review", SAM_ARTICLE, blob(repo, path=f"articles/{SAM_ARTICLE}.md"))
    forge(repo, "approve", SAM_ARTICLE, blob(repo, path=f"articles/{SAM_ARTICLE}.md"))
    act_as(monkeypatch, ALICE)


CACHES = (".git/reviewflow", ".reviewflow-cache")


def outputs(run: Run, repo: Path, cached: bool) -> dict[str, object]:
    """What a user sees from status, verify, ci and publish (with the caches, or without any)."""
    if not cached:
        for name in CACHES:
            shutil.rmtree(repo / name, ignore_errors=True)
    no_cache = () if cached else ("--no-cache",)
    seen: dict[str, object] = {}
    for name, args in (
        ("status", ("status", "--format", "json")),
        ("verify", ("verify", *no_cache)),
        ("ci", ("ci", "--base", "main", "--format", "json")),
    ):
        result = run(repo, *args)
        seen[name] = (result.exit_code, result.output)
    out = repo.parent / "site"
    result = run(repo, "publish", "--out", str(out), *no_cache)
    files = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    seen["publish"] = (result.exit_code, result.output, files)
    return seen


def in_use(repo: Path, prefix: str) -> bool:
    """Whether the records of PREFIX that the last runs kept read back as records."""
    store = GitStore.open(repo)
    if prefix == "changes":
        return bool(ChangeIndex(store).file.lines())
    if prefix == "authors":
        return bool(FactFile(store, "authors-v1", "authors").lines())
    file = snapshot_file.kept_file(store)
    return file is not None and snapshot._load(store, file) is not None


def kept_files(repo: Path) -> dict[str, bytes]:
    directory = repo / ".git" / "reviewflow"
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def valid_verdict(data: bytes, reseal_with: bytes | None = None) -> bytes:
    """The kept replay state DATA with Mallory's refused approval made valid, in place, byte for
    byte: its events are kept as columns (review/kept.py), and the column of the replay's verdicts
    is one marshal byte per event, F or T. The seal line and the index are kept as they were,
    unless RESEAL_WITH: then the layer's digest in the index and the seal are made anew with that
    key (as one who holds it could)."""
    stamp, _, data = data.partition(b"\n")
    assert stamp.startswith(snapshot_file.MAGIC)
    index_length = int(stamp.rsplit(b" ", 1)[1])  # the seal line ends with the length of the index
    # the sections, then the index (HEAD, ((section, length, digest), ...))
    head, named = marshal.loads(data[len(data) - index_length :])
    starts, at = {}, 0
    for name, size, _ in named:
        starts[name] = (at, size)
        at += size
    columns = marshal.loads(data[starts["events"][0] : sum(starts["events"])])
    valid, reasons, _ = marshal.loads(data[starts["verdicts"][0] : sum(starts["verdicts"])])
    emails = columns[Event._fields.index("author_email")]
    place = next(
        i for i, (email, why) in enumerate(zip(emails, reasons, strict=True))
        if email == MALLORY[1] and why and "is not on the advisory board, so cannot approve" in why
    )  # fmt: skip
    start, size = starts["verdicts"]
    verdicts = b"".join(b"T" if v else b"F" for v in valid)
    at = data.find(len(valid).to_bytes(4, "little") + verdicts, start) + 4
    assert at >= start + 4 and data[at + place : at + place + 1] == b"F"
    data = data[: at + place] + b"T" + data[at + place + 1 :]
    if reseal_with is not None:
        digest = hashlib.blake2b(data[start : start + size], digest_size=32).digest()
        named = tuple((n, s, digest if n == "verdicts" else d) for n, s, d in named)
        index = marshal.dumps((head, named))
        assert len(index) == index_length
        data = data[: len(data) - index_length] + index
        stamp = snapshot_file.MAGIC + record_tag(reseal_with, index, 32).encode() + b" %010d" % len(index)
    return stamp + b"\n" + data


def damaged(data: bytes, kind: str, rng: random.Random, foreign: bytes) -> bytes:
    """DATA damaged as a crash, a full disk, a bad sector or a careless hand would leave it."""
    lines = data.split(b"\n")
    if kind == "truncate":
        return data[: rng.randrange(len(data))]
    if kind == "cut-last-line":
        last = data.rstrip(b"\n")
        start = last.rfind(b"\n") + 1
        return last[: rng.randrange(start, len(last))]
    if kind == "flip-byte":
        at = rng.randrange(len(data))
        return data[:at] + bytes([data[at] ^ rng.randrange(1, 256)]) + data[at + 1 :]
    if kind == "flip-low-bit":  # '1' <-> '0', one hex digit for another: still well-formed
        at = rng.randrange(len(data))
        return data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]
    if kind == "drop-line":
        del lines[rng.randrange(len(lines))]
        return b"\n".join(lines)
    if kind == "duplicate-line":
        at = rng.randrange(len(lines))
        lines.insert(at, lines[at])
        return b"\n".join(lines)
    reason = data.find(b"is not on the advisory board, so cannot approve")
    if kind == "alter-verdict" and reason > 0:  # the kept verdict on Mallory's approval: valid
        return valid_verdict(data)
    if kind in (
        "alter-line",
        "alter-verdict",
    ):  # a fact turned into another well-formed one: "1" for "0", a digit
        at = rng.choice([i for i, line in enumerate(lines[1:], 1) if line.strip()] or [0])
        line = lines[at]
        if line[-1:] in (b"0", b"1"):
            lines[at] = line[:-1] + (b"1" if line[-1:] == b"0" else b"0")
        else:
            digits = [i for i, c in enumerate(line) if chr(c) in "0123456789abcdef"] or [0]
            i = rng.choice(digits)
            lines[at] = line[:i] + rng.choice([b"0", b"7", b"a", b"f"]) + line[i + 1 :]
        return b"\n".join(lines)
    if kind == "foreign":
        return foreign
    if kind == "long-number":  # the first line's last number past int()'s 4,300 digits
        first, newline, rest = data.partition(b"\n")
        before, space, _ = first.rpartition(b" ")
        return (before + space if space else first) + b"9" * 5000 + newline + rest
    raise AssertionError(kind)


KINDS = {  # kind -> how many tries
    "truncate": 2, "cut-last-line": 2, "flip-byte": 2, "flip-low-bit": 2, "drop-line": 2,
    "duplicate-line": 1, "alter-line": 3, "alter-verdict": 1, "foreign": 1, "long-number": 1,
}  # fmt: skip


def test_a_torn_last_fact_cannot_hide_a_board_removal(
    run: Run, content_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_library(run, content_repo, monkeypatch)
    expected = outputs(run, content_repo, cached=False)
    assert "approve what-is-poems-syndrome  by Mallory" in str(expected["verify"])
    ok(run(content_repo, "status"))
    directory = content_repo / ".git" / "reviewflow"
    index = next(directory.glob("changes-*"))
    removal = git(content_repo, "rev-parse", "main").strip().encode()
    lines = index.read_bytes().rstrip(b"\n").split(b"\n")
    (last,) = [line for line in lines if line.startswith(removal)]
    assert b"reviewflow.toml=" in last
    commit, parent = last.split(b" ")[:2]
    # The removal appended last, and cut short as kill -9 or a full disk leaves it.
    index.write_bytes(b"\n".join([line for line in lines if line != last] + [commit + b" " + parent]))
    for kept in directory.glob("replay-*"):
        kept.unlink()
    assert outputs(run, content_repo, cached=True) == expected
    assert state_of(run, content_repo) != "approved"


@pytest.mark.parametrize("prefix", ["changes", "authors", "replay"])
def test_a_damaged_record_gives_the_same_output_as_no_cache(
    run: Run, content_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefix: str
) -> None:
    build_library(run, content_repo, monkeypatch)
    other = tmp_path / "other"  # another repository with the same history and one more commit
    git(tmp_path, "clone", "-q", str(content_repo), str(other))
    write(other / "NOTES.txt", "another clone\n")
    commit_all(other, "Another clone")
    ok(run(other, "status", "--format", "json"))
    run(other, "ci", "--base", "origin/main")
    ok(run(other, "publish", "--out", str(tmp_path / "other-site")))
    foreign = kept_files(other)

    expected = outputs(run, content_repo, cached=False)
    assert outputs(run, content_repo, cached=True) == expected  # fills the caches
    pristine = kept_files(content_repo)
    (name,) = [n for n in pristine if n.startswith(prefix)]
    assert in_use(content_repo, prefix)  # the records are read, so their damage could matter
    snapshot = [n for n in pristine if n.startswith("replay")]
    rng = random.Random(f"reviewflow-{prefix}")
    trials = [(kind, attempt) for kind, tries in KINDS.items() for attempt in range(tries)]
    for kind, attempt in trials:
        directory = content_repo / ".git" / "reviewflow"
        shutil.rmtree(directory)
        directory.mkdir()
        for file, data in pristine.items():
            if prefix == "replay" or file not in snapshot:  # the facts are read when HEAD's state is not kept
                (directory / file).write_bytes(data)
        (directory / name).write_bytes(damaged(pristine[name], kind, rng, foreign.get(name, b"")))
        touched = damage_publish_cache(content_repo, other, kind, rng)  # and one of publish's records
        assert outputs(run, content_repo, cached=True) == expected, (kind, attempt, touched)


def damage_publish_cache(repo: Path, other: Path, kind: str, rng: random.Random) -> str:
    """Damage one of the files publish keeps for the next build (a record, a page of the spare)."""
    directory = repo / ".reviewflow-cache" / "publish"
    files = sorted(
        p for p in directory.rglob("*") if p.is_file() and p.suffix != ".lock" and p.stat().st_size
    )
    target = rng.choice(files)
    kin = sorted((other / ".reviewflow-cache" / "publish").glob(f"{target.name.split('-')[0]}-*.json"))
    foreign = kin[0].read_bytes() if kin and target.suffix == ".json" else b"<p>Another site</p>\n"
    target.write_bytes(damaged(target.read_bytes(), kind, rng, foreign))
    return str(target.relative_to(directory))


@pytest.mark.interpreted
def test_a_record_sealed_under_other_conditions_is_not_believed(
    run: Run, content_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A snapshot that says Mallory's approval was valid, sealed with this user's key but under
    another git, other reviewflow code or in another repository, is read again from git."""
    build_library(run, content_repo, monkeypatch)
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(content_repo), str(other))
    expected = outputs(run, content_repo, cached=False)
    outputs(run, content_repo, cached=True)
    file = snapshot_file.kept_file(GitStore.open(content_repo))
    assert file is not None
    data = file.path.read_bytes()

    def plant(store: GitStore) -> None:
        key = snapshot_file.kept_file(store)
        assert key is not None
        forged = valid_verdict(data, key.key)
        assert forged != data
        file.path.write_bytes(forged)

    plant(GitStore.open(content_repo))  # under the conditions of this run: believed, as it must be
    assert outputs(run, content_repo, cached=True)["verify"] != expected["verify"]
    for conditions in ("git", "code", "repository"):
        with monkeypatch.context() as patched:
            if conditions == "git":
                patched.setattr(gitprocess, "git_version", lambda: (2, 99, 0))
            if conditions == "code":
                patched.setattr(changes, "code_fingerprint", lambda: "another reviewflow")
            plant(GitStore.open(other if conditions == "repository" else content_repo))
        assert outputs(run, content_repo, cached=True) == expected, conditions


def test_the_diffs_are_asked_of_git_oldest_first(content_repo: Path) -> None:
    """The commits that change a tree are diffed in the log's order, parents first: at 100,000
    articles git read the newer half's trees in two thirds of the time asked that way."""
    for n in range(4):
        write(content_repo / "articles" / f"topic-{n}.md", article_text(title=f"Topic {n}"))
        commit_all(content_repo, f"topic {n}")
    store = GitStore.open(content_repo)
    entries = store.log()
    ChangeIndex(store).diffs(entries)
    asked = [line.split(" ")[0] for line in ChangeIndex(store).file.lines()]  # as they were written
    order = [entry.commit for entry in entries]
    assert len(asked) >= 5 and asked == sorted(asked, key=order.index)


def files_by_hand(entries: list[LogEntry], diffs: dict[tuple[str, str], Diff]) -> dict[str, dict[str, str]]:
    """Every commit's files: its first parent's with its diff against it applied (no sharing)."""
    files: dict[str, dict[str, str]] = {}
    for entry in entries:
        first = entry.parents[0] if entry.parents else ""
        mine = dict(files.get(first, {}))
        for name, new in diffs[(entry.commit, first)].items():
            if new is None:
                mine.pop(name, None)
            else:
                mine[name] = new
        files[entry.commit] = mine
    return files


@pytest.mark.parametrize("forked", [False, True])
def test_the_walk_over_the_diffs_gives_each_commits_files(forked: bool) -> None:
    """A line of commits carries one set of files along (no children counted); a history
    where a commit has two children copies it where it forks: both give every commit's files."""
    chance = random.Random(7)
    names = [f"articles/a-{n}.md" for n in range(6)]
    entries: list[LogEntry] = []
    diffs: dict[tuple[str, str], Diff] = {}
    for n in range(60):
        commit = f"{n:040x}"
        parent = "" if n == 0 else f"{chance.randrange(n) if forked else n - 1:040x}"
        entries.append(
            LogEntry(
                commit, (parent,) if parent else (), "t", "A", "a@x", "2026-01-01T00:00:00+00:00", "", ""
            )
        )
        diffs[(commit, parent)] = {
            name: chance.choice([None, f"{n}-{name}"]) for name in chance.sample(names, 2)
        }
    wanted = {entry.commit: tuple(chance.sample(names, 2)) for entry in entries[::3]}
    found, changed = walk(entries, diffs, wanted)
    expected = files_by_hand(entries, diffs)
    for commit, wanted_names in wanted.items():
        assert [found.get((commit, name)) for name in wanted_names] == [
            expected[commit].get(n) for n in wanted_names
        ]
    assert changed == {commit: diff for (commit, _), diff in diffs.items() if diff}
