"""Faults and limits: bounded config values, a full or read-only disk, killed builds, big files.

Real git repositories, real subprocesses and signals, and real tmpfs mounts where this process
may mount them (as root); each test says why when it skips.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from reviewflow.publish.output import MARKER
from reviewflow.publish.render import POOL_THRESHOLD
from tests.conftest import article_text, git, write
from tests.gitrepo import PATH, RITA, act_as, forge, ok

Run = Callable[..., Result]

# --- config values: strict types, every number bounded, in every command ----------------------


def commit_config(repo: Path, old: str, new: str) -> None:
    config = repo / "reviewflow.toml"
    text = config.read_text(encoding="utf-8")
    assert old in text
    config.write_text(text.replace(old, new), encoding="utf-8")
    git(repo, "commit", "-q", "-am", f"Config: {new}")


def approved(run: Run, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ok(run(repo, "submit", "what-is-poems-syndrome"))
    act_as(monkeypatch, RITA)
    ok(run(repo, "review", "what-is-poems-syndrome"))
    ok(run(repo, "approve", "what-is-poems-syndrome"))


BAD_VALUES = [
    ("review_cycle_days = 365", "review_cycle_days = 3000000",
     "policy.review_cycle_days: 3000000 is not allowed: must be a whole number of days from 1 to 3650"),
    ("approvals_required = 1", "approvals_required = true",
     "policy.approvals_required: true is not allowed: must be a whole number from 1 to 20"),
    ("approvals_required = 1", 'approvals_required = "1"',
     'policy.approvals_required: "1" is not allowed: must be a whole number from 1 to 20'),
    ("[checks]\n", "[checks]\nmax_file_bytes = 9223372036854775807\n",
     "checks.max_file_bytes: 9223372036854775807 is not allowed: must be a whole number of bytes from 1024 to 16777216"),
    ("[checks]\n", "[checks]\nmax_reference_age_years = 1000000\n",
     "checks.max_reference_age_years: 1000000 is not allowed: must be a whole number of years from 1 to 100"),
    ("[checks]\n", "[checks]\npatient_max_grade = inf\n",
     "checks.patient_max_grade: inf is not allowed: must be a number from 1 to 30"),
    # Past the interpreter's limits, which Python's TOML reader raises other errors for: a number
    # longer than int() converts (4,300 digits), and nesting deeper than its recursion.
    ("[checks]\n", "[checks]\nmax_file_bytes = " + "9" * 5000 + "\n",
     "a whole number of 5,000 digits, more than the 4,300 reviewflow reads"),
    ("[checks]\n", "[checks]\nrules = " + "[" * 1000 + "]" * 1000 + "\n", "nested too deeply to read"),
]  # fmt: skip

COMMANDS = [
    ("status",),
    ("check",),
    ("publish", "--out", "{tmp}/site"),
    ("verify",),
    ("ci", "--base", "HEAD~1"),
    ("history", "what-is-poems-syndrome"),
    ("queue",),
    ("submit", "what-is-poems-syndrome"),
    ("approve", "what-is-poems-syndrome"),
]


@pytest.mark.parametrize(("old", "new", "message"), BAD_VALUES, ids=[b[1].split()[-3] for b in BAD_VALUES])
def test_an_unbounded_or_mistyped_config_value_stops_every_command(
    run: Run,
    content_repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    old: str,
    new: str,
    message: str,
) -> None:
    approved(run, content_repo, monkeypatch)  # an approval: what made status and publish crash
    commit_config(content_repo, old, new)
    # ci judges the change that brings the value in: a finding on reviewflow.toml, not mergeable.
    change = run(content_repo, "ci", "--base", "HEAD~1")
    assert change.exit_code == 1, change.output
    assert message in change.output, change.output
    git(content_repo, "commit", "-q", "--allow-empty", "-m", "Later")
    for command in COMMANDS:
        result = run(content_repo, *(part.format(tmp=tmp_path) for part in command))
        assert result.exit_code == 2, (command, result.output)
        assert message in result.output, (command, result.output)
        assert "reviewflow.toml" in result.output, (command, result.output)
        assert len(result.output.strip().splitlines()) == 1, (command, result.output)
    assert not (tmp_path / "site").exists()


def test_an_event_under_an_out_of_range_committed_config_does_not_count(
    run: Run, content_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok(run(content_repo, "submit", "what-is-poems-syndrome"))
    act_as(monkeypatch, RITA)
    ok(run(content_repo, "review", "what-is-poems-syndrome"))
    commit_config(content_repo, "review_cycle_days = 365", "review_cycle_days = 3000000")
    forge(content_repo, "approve")  # made by hand: reviewflow itself refuses to act under it
    commit_config(content_repo, "review_cycle_days = 3000000", "review_cycle_days = 365")
    [status] = json.loads(ok(run(content_repo, "status", "--format", "json")).output)
    assert (status["state"], status["approved_by"], status["approved_blob"]) == ("under-review", [], None)
    verify = run(content_repo, "verify")
    assert verify.exit_code == 1, verify.output
    assert "invalid (policy.review_cycle_days: 3000000 is not allowed" in verify.output, verify.output


# --- file-too-large names the file's real size ------------------------------------------------


def test_file_too_large_names_the_real_size(run: Run, content_repo: Path) -> None:
    big = content_repo / PATH
    big.write_bytes(big.read_bytes() + b"x" * (3 * 1024 * 1024))
    size = big.stat().st_size
    result = run(content_repo, "check", "--format", "json")
    assert result.exit_code == 1, result.output
    assert f"file is {size} bytes, over the 1048576-byte limit" in result.output, result.output
    again = run(content_repo, "check", "--format", "json")  # the findings cache does not hide it
    assert f"file is {size} bytes" in again.output, again.output
    git(content_repo, "commit", "-q", "-am", "A huge article")
    ci = run(content_repo, "ci", "--base", "HEAD~1", "--format", "json")
    assert ci.exit_code == 1, ci.output
    assert f"file is {size} bytes, over the 1048576-byte limit" in ci.output, ci.output


# --- a killed build: its workers end with it, and the next build removes what it left --------


def many_articles(repo: Path, count: int) -> None:
    if not count:
        return
    for number in range(count):
        write(repo / "articles" / f"topic-{number:04d}.md", article_text(title=f"Topic {number}"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"{count} articles")


def children(pid: int) -> set[int]:
    """The live (not zombie) processes whose parent is PID."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if fields[0] != "Z" and int(fields[1]) == pid:
                found.add(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


# How a worker learns that the build died: from the kernel (Linux), or by watching (elsewhere).
WATCHERS = {
    "pdeathsig": "",
    "watching-thread": "import reviewflow.workers as w; w._kill_me_with_parent = lambda: False; ",
}


def reviewflow_command(setup: str = "") -> list[str]:
    return [sys.executable, "-c", f"{setup}from reviewflow.cli.commands import main; main()"]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to see the workers")
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="publish renders in one process on one CPU")
@pytest.mark.parametrize("watcher", WATCHERS)
def test_sigkill_of_publish_ends_its_workers_and_the_next_build_removes_its_leftovers(
    run: Run, content_repo: Path, tmp_path: Path, watcher: str
) -> None:
    many_articles(content_repo, POOL_THRESHOLD + 150)
    out = tmp_path / "www" / "site"
    command = [
        *reviewflow_command(WATCHERS[watcher]),
        "publish",
        "--preview",
        "--no-cache",
        "--out",
        str(out),
    ]

    def building() -> bool:  # the workers are forked before the history is read: kill it as they render
        return any(out.parent.glob(".site.new-*"))

    kill_when_workers_run(command, content_repo, "publish's render workers", building)

    # What it left beside --out is a preview nobody may read, and the next build removes it.
    left = [p for p in out.parent.iterdir() if p.name.startswith(".site.new-")]
    assert left, list(out.parent.iterdir())
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o700 for p in left)
    assert not out.exists()
    ok(run(content_repo, "publish", "--out", str(out), "--no-cache"))
    assert sorted(p.name for p in out.parent.iterdir()) == ["site"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o755


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to see the workers")
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="check runs in one process on one CPU")
@pytest.mark.parametrize("watcher", WATCHERS)
def test_sigkill_of_check_ends_its_workers(content_repo: Path, watcher: str) -> None:
    many_articles(content_repo, 1500)
    command = [*reviewflow_command(WATCHERS[watcher]), "check", "--no-cache"]
    kill_when_workers_run(command, content_repo, "check's workers")


def kill_when_workers_run(
    command: list[str], cwd: Path, workers_of: str, ready: Callable[[], bool] = lambda: True
) -> None:
    """Start COMMAND, SIGKILL it once two of its worker processes run (and READY says so), and
    fail if any of them outlives it (killing those, so that a failure leaves no stray process
    behind)."""
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    workers: set[int] = set()
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        workers = {pid for pid in children(process.pid) if _cmdline(pid) == _cmdline(process.pid)}
        if len(workers) >= 2 and ready():
            break
        time.sleep(0.005)
    assert len(workers) >= 2, f"it ended before {workers_of} were seen: {process.returncode}"
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    outlived = [pid for pid in workers if alive(pid)]
    for pid in outlived:
        os.kill(pid, signal.SIGKILL)
    assert not outlived, f"{workers_of} outlived the killed command"


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_the_next_build_removes_only_its_own_leftovers_of_ended_processes(
    run: Run, content_repo: Path, tmp_path: Path
) -> None:
    out = tmp_path / "www" / "site"
    dead = subprocess.Popen(["true"])
    dead.wait()
    running = subprocess.Popen(["sleep", "30"])
    try:
        planted = {  # name: (holds MARKER, removed by the next build)
            f".site.new-{dead.pid}-0123abcd": (True, True),  # a killed build's
            f".site.old-{dead.pid}-89abcdef": (True, True),  # a replaced site a killed build left
            f".site.new-{running.pid}-0123abcd": (True, False),  # a build still running
            f".site.new-{dead.pid}-fedcba98": (False, False),  # not built by reviewflow
            f".other.new-{dead.pid}-0123abcd": (True, False),  # another --out's
            f".site.new-{dead.pid}-aaaaaaaa": (None, True),  # killed before it held anything
        }
        for name, (marked, _) in planted.items():
            (out.parent / name).mkdir(parents=True)
            if marked is not None:
                write(out.parent / name / "articles" / "x" / "index.html", "unapproved text")
            if marked:
                write(out.parent / name / MARKER, "built by reviewflow")
        ok(run(content_repo, "publish", "--out", str(out)))
        kept = {p.name for p in out.parent.iterdir()} - {"site"}
        assert kept == {name for name, (_, removed) in planted.items() if not removed}
    finally:
        running.kill()
        running.wait()


# --- a file system that refuses the build: exit 2 with the path and the reason -----------------


@pytest.fixture
def mount_tmpfs(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Mount a small tmpfs (as root; the test skips where mounting is not permitted)."""
    mounted: list[Path] = []

    def mount(name: str, *options: str) -> Path:
        point = tmp_path / name
        point.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", ",".join(("size=64k", *options)), "tmpfs", str(point)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            pytest.skip(f"mounting a tmpfs is not permitted here: {done.stderr.strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], check=False)


def remount_read_only(point: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True, capture_output=True)


def fill(point: Path) -> None:
    """Write until the file system is full."""
    with (point / "filler").open("wb", buffering=0) as filler:
        try:
            while filler.write(b"\0" * 4096):
                pass
        except OSError:
            pass


def refused_write(result: Result, path: Path, reason: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    assert f"cannot write the site for --out {path}" in lines[0] and lines[0].endswith(f": {reason}"), lines


def test_a_read_only_file_system_is_exit_2_naming_the_path(
    run: Run, content_repo: Path, mount_tmpfs: Callable[..., Path]
) -> None:
    read_only = mount_tmpfs("ro", "ro")
    refused_write(
        run(content_repo, "publish", "--out", str(read_only / "site")),
        read_only / "site",
        "Read-only file system",
    )

    # A built site on a file system that became read-only: refused, and left as it was.
    disk = mount_tmpfs("disk", "size=1m")
    ok(run(content_repo, "publish", "--out", str(disk / "site")))
    before = (disk / "site" / "index.html").read_bytes()
    remount_read_only(disk)
    refused_write(
        run(content_repo, "publish", "--out", str(disk / "site"), "--preview"),
        disk / "site",
        "Read-only file system",
    )
    assert (disk / "site" / "index.html").read_bytes() == before


@pytest.mark.parametrize(
    "articles", [0, POOL_THRESHOLD + 50], ids=["full-at-the-start", "fills-up-in-the-render-workers"]
)
def test_a_full_file_system_is_exit_2_and_leaves_nothing_behind(
    run: Run, content_repo: Path, mount_tmpfs: Callable[..., Path], articles: int
) -> None:
    many_articles(content_repo, articles)
    full = mount_tmpfs("full", "size=256k")
    if not articles:
        fill(full)
    result = run(content_repo, "publish", "--preview", "--no-cache", "--out", str(full / "site"))
    refused_write(result, full / "site", "No space left on device")
    assert sorted(p.name for p in full.iterdir()) == (["filler"] if not articles else [])


def test_a_full_user_cache_does_not_fail_a_build(
    run: Run,
    content_repo: Path,
    tmp_path: Path,
    mount_tmpfs: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache = mount_tmpfs("cache")
    (cache / "reviewflow" / "templates").mkdir(parents=True)
    fill(cache)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    ok(run(content_repo, "publish", "--out", str(tmp_path / "site")))
    assert (tmp_path / "site" / "index.html").is_file()


def test_a_directory_without_write_permission_is_exit_2(run: Run, content_repo: Path, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("this process writes through any file mode (root): the tmpfs tests cover it")
        result = run(content_repo, "publish", "--out", str(locked / "site"))
        refused_write(result, locked / "site", "Permission denied")
        locked.chmod(0o000)  # not even to be looked into
        result = run(content_repo, "publish", "--out", str(locked / "site"))
        assert result.exit_code == 2, result.output
        assert (
            result.output
            == f"reviewflow: --out {locked / 'site'}: cannot be checked: {locked / 'site'}: Permission denied\n"
        )
    finally:
        locked.chmod(0o755)
