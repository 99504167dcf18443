"""kill -9 at any step of `publish` and of every review action, and two actions racing.

A real reviewflow process is SIGKILLed at its Nth file-system or process step: a Python audit
hook (`sys.addaudithook`, installed by the launcher below, never by reviewflow) counts the
steps that touch the test's directories (open, rename, remove, mkdir, chmod, scandir, rmtree,
the `renameat2` lookup just before the atomic swap) and every process it starts, and kills
its own process at step N. The steps of a whole run are counted first, so the kill points
cover the run from start to end: a few of them in `make test`, every one with
`REVIEWFLOW_FUZZ=long` (`make fuzz`).

What must hold after the kill: the served site is byte for byte the previous build or the new
complete one, and the next build finishes and leaves nothing behind; a review action either
landed as one whole commit or not at all, `git fsck` and `reviewflow verify` pass, no earlier
event is lost and the workflow goes on.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from reviewflow.cli.commands import cli
from reviewflow.publish.render import POOL_THRESHOLD
from tests.conftest import article_text, git, make_content_repo, write
from tests.fuzzing import PROFILE
from tests.gitrepo import ALICE, PATH, RITA, SAM, SLUG, edit, head, set_quorum

LAUNCHER = """
import os, signal, sys
_at, _under, _count = int(os.environ["RF_KILL_AT"]), os.environ["RF_KILL_UNDER"], os.environ["RF_KILL_COUNT"]
_STEPS = {"open", "os.rename", "os.remove", "os.rmdir", "os.mkdir", "os.chmod", "os.link", "os.symlink",
          "os.truncate", "os.utime", "os.scandir", "os.listdir", "shutil.rmtree", "shutil.copyfile"}
_seen = []
def _step(event, args):
    path = args[0] if args else None
    if event in _STEPS:
        if not isinstance(path, (str, bytes)) or not os.fsdecode(path).startswith(_under):
            return
    elif event not in ("subprocess.Popen", "ctypes.dlsym"):
        return
    _seen.append(f"{event} {os.fsdecode(path) if isinstance(path, (str, bytes)) else ''}")
    if len(_seen) == _at:
        os.kill(os.getpid(), signal.SIGKILL)
def _report():
    with open(_count, "w") as file:
        file.write("\\n".join([str(len(_seen)), *_seen]))
import atexit
atexit.register(_report)
sys.addaudithook(_step)
from reviewflow.cli.commands import main
main()
"""
EPOCH = "1764547200"  # 1 December 2025: every build of one commit is the same bytes


def reviewflow(
    cwd: Path, *args: str, kill_at: int = 0, person: tuple[str, str] = ALICE
) -> tuple[int, str, int]:
    """Run reviewflow ARGS in CWD as PERSON, SIGKILLed at step KILL_AT (0: never). Returns its
    exit code (-9 when killed), its stderr and the steps it took. Waits for what it started
    (git) to end, as a process killed alone leaves its children running."""
    count = cwd.parent / "steps"
    count.unlink(missing_ok=True)
    env = dict(os.environ, RF_KILL_AT=str(kill_at), RF_KILL_UNDER=str(cwd.parent), RF_KILL_COUNT=str(count),
               SOURCE_DATE_EPOCH=EPOCH)  # fmt: skip
    for role in ("AUTHOR", "COMMITTER"):
        env[f"GIT_{role}_NAME"], env[f"GIT_{role}_EMAIL"] = person
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *args], cwd=cwd, env=env, capture_output=True, start_new_session=True
    )
    wait_for_children(cwd)
    steps = int(count.read_text().split("\n", 1)[0]) if count.exists() else -1
    return done.returncode, done.stderr.decode("utf-8", "replace"), steps


def steps_of_last_run(cwd: Path) -> list[str]:
    """The steps the last run in CWD took that ended by itself, in order: "event path"."""
    return (cwd.parent / "steps").read_text().split("\n")[1:]


def inproc(repo: Path, *args: str) -> tuple[int, str]:
    """Run reviewflow ARGS on REPO in this process (faster, for the runs nobody kills)."""
    result = CliRunner(env={"SOURCE_DATE_EPOCH": EPOCH}).invoke(cli, ["-C", str(repo), *args])
    return result.exit_code, result.output


def wait_for_children(cwd: Path) -> None:
    """Wait until no process runs in CWD's repository any more (the killed one's git children)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(
        _runs_in(cwd, pid) for pid in os.listdir("/proc") if pid.isdigit()
    ):
        time.sleep(0.02)


def _runs_in(cwd: Path, pid: str) -> bool:
    try:
        return os.readlink(f"/proc/{pid}/cwd").startswith(str(cwd)) and int(pid) != os.getpid()
    except OSError:
        return False


def kill_points(steps: int, seed: str, few: int) -> list[int]:
    """Where to kill a run of STEPS steps: every step in the long profile, else the first, the
    last, and FEW others chosen by SEED."""
    if PROFILE == "long":
        return list(range(1, steps + 1))
    chosen = random.Random(seed).sample(range(2, steps), min(few, max(steps - 2, 0)))
    return sorted({1, steps, *chosen})


def files_of(site: Path) -> dict[str, bytes]:
    return {str(p.relative_to(site)): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


# --- publish ----------------------------------------------------------------------------------


@pytest.fixture
def two_versions(tmp_path: Path) -> tuple[Path, dict[str, dict[str, bytes]]]:
    """A content repo with branches `one` and `two` (articles edited, added and removed), and
    the complete site of each, built apart with --no-cache."""
    repo = make_content_repo(tmp_path / "content")
    for number in range(min(12, POOL_THRESHOLD - 1)):  # in one process: a worker is another test's
        write(repo / "articles" / f"topic-{number:02d}.md", article_text(title=f"Topic {number}"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Twelve articles")
    git(repo, "branch", "one")
    for number in (1, 5, 7):
        edit(repo, f"Topic {number} has news.", path=f"articles/topic-{number:02d}.md")
    git(repo, "rm", "-q", "articles/topic-03.md")
    write(repo / "articles" / "topic-99.md", article_text(title="A new topic"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Edit three, remove one, add one")
    git(repo, "branch", "two")
    sites = {}
    for branch in ("one", "two"):
        git(repo, "checkout", "-q", branch)
        code, err = inproc(
            repo, "publish", "--preview", "--no-cache", "--out", str(tmp_path / "ref" / branch)
        )
        assert code == 0, err
        sites[branch] = files_of(tmp_path / "ref" / branch)
    assert sites["one"] != sites["two"]
    return repo, sites


@pytest.mark.parametrize("cache", [True, False], ids=["incremental", "no-cache"])
def test_publish_killed_at_any_step_leaves_the_old_site_or_the_new_one(
    two_versions: tuple[Path, dict[str, dict[str, bytes]]], tmp_path: Path, cache: bool
) -> None:
    repo, sites = two_versions
    out = tmp_path / "www" / "site"
    command = ("publish", "--preview", "--out", str(out), *(() if cache else ("--no-cache",)))
    git(repo, "checkout", "-q", "one")
    assert inproc(repo, *command)[0] == 0
    git(repo, "checkout", "-q", "two")
    code, err, steps = reviewflow(repo, *command)  # counted, then back to `one`
    assert code == 0 and steps > 10, (err, steps)
    git(repo, "checkout", "-q", "one")
    assert inproc(repo, *command)[0] == 0
    live, killed = "one", 0
    for step in kill_points(steps, f"publish-{cache}", 3):
        wanted = "two" if live == "one" else "one"
        git(repo, "checkout", "-q", wanted)
        code, err, _ = reviewflow(repo, *command, kill_at=step)
        assert code in (-signal.SIGKILL, 0), (step, code, err)  # 0: the way back takes fewer steps
        killed += code == -signal.SIGKILL
        served = files_of(out)
        assert served in (sites[live], sites[wanted]), f"killed at step {step} of {steps}: a mixed site"
        code, err = inproc(repo, *command)
        assert code == 0, (step, err)
        assert files_of(out) == sites[wanted], f"the build after a kill at step {step} is not the site"
        assert sorted(p.name for p in out.parent.iterdir()) == ["site"], f"killed at step {step}"
        live = wanted
    assert killed >= len(kill_points(steps, f"publish-{cache}", 3)) // 2
    spare = repo / ".reviewflow-cache" / "publish"
    leftovers = (
        [p for p in spare.rglob("*") if ".new-" in p.name or ".old-" in p.name] if spare.exists() else []
    )
    assert not leftovers, leftovers


def test_a_build_killed_while_it_rewrites_its_marker_is_still_removed_by_the_next(
    two_versions: tuple[Path, dict[str, dict[str, bytes]]], tmp_path: Path
) -> None:
    """The marker (.reviewflow-site) is how the next build knows a directory beside --out for
    a killed build of its own. Killed as the build replaced it with the site's own copy, the
    directory held unapproved pages and no marker, and stayed for good."""
    repo, sites = two_versions
    out = tmp_path / "www" / "site"
    command = ("publish", "--preview", "--no-cache", "--out", str(out))
    git(repo, "checkout", "-q", "one")
    assert inproc(repo, *command)[0] == 0
    git(repo, "checkout", "-q", "two")
    assert reviewflow(repo, *command)[0] == 0
    marker_steps = [n for n, s in enumerate(steps_of_last_run(repo), 1) if s.endswith("/.reviewflow-site")]
    assert marker_steps
    for step in sorted({n + after for n in marker_steps for after in (0, 1)}):
        git(repo, "checkout", "-q", "one")
        assert inproc(repo, *command)[0] == 0
        git(repo, "checkout", "-q", "two")
        reviewflow(repo, *command, kill_at=step)
        assert files_of(out) in (sites["one"], sites["two"])
        assert inproc(repo, *command)[0] == 0
        assert sorted(p.name for p in out.parent.iterdir()) == ["site"], f"killed at step {step}"
        assert files_of(out) == sites["two"]


# --- the review actions -----------------------------------------------------------------------


def commits(repo: Path) -> list[str]:
    return git(repo, "rev-list", "HEAD").split()


def assert_sound(repo: Path, before: list[str], step: int) -> bool:
    """The repository after a kill: whole, verified, every earlier commit kept; whether the
    killed action's commit landed."""
    fsck = subprocess.run(
        ["git", "fsck", "--strict", "--no-progress"], cwd=repo, capture_output=True, text=True
    )
    assert fsck.returncode == 0, (step, fsck.stdout, fsck.stderr)
    assert not list((repo / ".git").glob("**/*.lock")), (step, list((repo / ".git").glob("**/*.lock")))
    after = commits(repo)
    assert after[-len(before) :] == before, f"step {step}: an earlier commit was lost"
    assert len(after) - len(before) in (0, 1), step
    code, err = inproc(repo, "verify")
    assert code == 0, (step, err)
    return len(after) > len(before)


ROUND = [  # the workflow of one article, each action as whoever takes it
    ("submit", ALICE),
    ("review", RITA),
    ("request-changes", RITA),
    ("edit", ALICE),
    ("submit", ALICE),
    ("review", RITA),
    ("approve", RITA),
]


def test_every_review_action_killed_at_any_step_lands_whole_or_not_at_all(tmp_path: Path) -> None:
    repo = make_content_repo(tmp_path / "content")
    for action, person in ROUND:
        if action == "edit":
            edit(repo)
            continue
        args = (action, SLUG, "-m", f"{action} by {person[0]}")
        start = head(repo)
        code, err, steps = reviewflow(repo, *args, person=person)
        assert code == 0 and steps > 3, (action, err)
        git(repo, "reset", "-q", "--hard", start)  # counted; now killed at each chosen step
        for step in kill_points(steps, action, 1):
            before = commits(repo)
            code, err, _ = reviewflow(repo, *args, person=person, kill_at=step)
            assert code in (-signal.SIGKILL, 0), (action, step, code, err)  # 0: fewer steps than counted
            if assert_sound(repo, before, step):
                assert f"Reviewflow-Action: {action}" in git(repo, "log", "-1", "--format=%B")
                git(repo, "reset", "-q", "--hard", start)  # landed whole: try the next step
        code, err, _ = reviewflow(repo, *args, person=person)
        assert code == 0, (action, err)  # and the workflow goes on
    assert "approved" in inproc(repo, "status", SLUG)[1]


def test_a_reading_command_killed_while_it_keeps_its_facts_changes_no_verdict(
    tmp_path: Path,
) -> None:
    """`verify` and `status` keep what they learnt in .git/reviewflow/; killed at any step of
    writing it, the next run says exactly what git alone says."""
    repo = make_content_repo(tmp_path / "content")
    for action, person in (("submit", ALICE), ("review", RITA), ("approve", RITA)):
        assert reviewflow(repo, action, SLUG, person=person)[0] == 0
    edit(repo, "A later edit.")
    git(repo, "commit", "-q", "--allow-empty", "-m", f"x\n\nReviewflow-Article: {SLUG}\nReviewflow-Action: approve\n"
        f"Reviewflow-Content: {git(repo, 'rev-parse', f'HEAD:{PATH}').strip()}\n")  # fmt: skip
    truth = {
        "verify": inproc(repo, "verify", "--no-cache", "--format", "json"),
        "status": inproc(repo, "status", "--format", "json"),
    }
    assert truth["verify"][0] == 1  # the forged approval
    facts = repo / ".git" / "reviewflow"
    for command in ("verify", "status"):
        shutil.rmtree(facts, ignore_errors=True)
        steps = reviewflow(repo, command)[2]
        for step in kill_points(steps, command, 3):
            shutil.rmtree(facts, ignore_errors=True)
            code, err, _ = reviewflow(repo, command, kill_at=step)
            assert code in (-signal.SIGKILL, 0), (command, step, code, err)
            args = (command, "--format", "json")
            assert inproc(repo, *args) == truth[command], f"{command} after a kill at step {step} of {steps}"


def test_locks_left_by_a_killed_git(tmp_path: Path) -> None:
    """kill -9 of git itself (a cancelled CI job kills the whole process group) can leave a
    lock behind. A review action never touches the index, so a stale .git/index.lock does not
    stop it; a stale lock on the branch does, in one line that names it and says what to do,
    exit 2, with nothing recorded; once the lock is gone, the action works."""
    repo = make_content_repo(tmp_path / "content")
    (repo / ".git" / "index.lock").touch()
    before = commits(repo)
    assert reviewflow(repo, "submit", SLUG)[0] == 0
    assert len(commits(repo)) == len(before) + 1
    (repo / ".git" / "index.lock").unlink()

    branch = git(repo, "symbolic-ref", "HEAD").strip()
    lock = repo / ".git" / f"{branch}.lock"
    lock.touch()
    before = commits(repo)
    code, err, _ = reviewflow(repo, "review", SLUG, person=RITA)
    assert code == 2, err
    assert err.startswith("reviewflow: git could not move the branch to the new commit: ")
    assert f"Unable to create '{lock}': File exists" in err, err
    assert err.strip().endswith("if none is running, remove that file and try again"), err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert commits(repo) == before
    lock.unlink()
    assert reviewflow(repo, "review", SLUG, person=RITA)[0] == 0
    assert inproc(repo, "verify")[0] == 0


# --- two actions racing on one repository -----------------------------------------------------


def race(repo: Path, *runs: tuple[tuple[str, ...], tuple[str, str]]) -> list[tuple[int, str]]:
    """Start every run at once, as its person; their exit codes and stderr."""
    started = []
    for args, person in runs:
        env = dict(os.environ)
        for role in ("AUTHOR", "COMMITTER"):
            env[f"GIT_{role}_NAME"], env[f"GIT_{role}_EMAIL"] = person
        started.append(subprocess.Popen([sys.executable, "-m", "reviewflow", *args], cwd=repo, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE))  # fmt: skip
    return [(p.wait(), p.communicate()[1].decode()) for p in started]


RACES = {  # the two actions that race, after which steps, and how many of them can count
    "two approvals": ((("approve", RITA), ("approve", SAM)), (("submit", ALICE), ("review", RITA)), 2),
    "one submit twice": ((("submit", ALICE), ("submit", ALICE)), (), 1),
}


@pytest.mark.parametrize("name", RACES)
def test_two_actions_racing_land_in_order_or_the_loser_says_why(tmp_path: Path, name: str) -> None:
    racing, steps_before, can_count = RACES[name]
    repo = make_content_repo(tmp_path / "content")
    set_quorum(repo, 2)
    for number in range(2):
        if number:
            edit(repo, f"Round {number}.")
        for action, person in steps_before:
            assert race(repo, ((action, SLUG), person))[0][0] == 0
        before = commits(repo)
        results = race(repo, *(((action, SLUG), person) for action, person in racing))
        for code, err in results:
            assert code in (0, 1, 2), err
            assert "Traceback" not in err and (code == 0 or err.startswith("reviewflow: ")), err
        after = commits(repo)
        assert after[len(after) - len(before) :] == before, "an earlier commit was lost"
        assert len(after) - len(before) == sum(code == 0 for code, _ in results), results
        fsck = subprocess.run(["git", "fsck", "--strict", "--no-progress"], cwd=repo, capture_output=True)
        assert fsck.returncode == 0, fsck.stderr
        assert inproc(repo, "verify")[0] == 0
        losers = [
            (action, person) for (code, _), (action, person) in zip(results, racing, strict=True) if code
        ]
        assert len(racing) - len(losers) <= can_count, results
        for action, person in losers[: can_count - (len(racing) - len(losers))]:
            assert race(repo, ((action, SLUG), person))[0][0] == 0, "the loser cannot take its turn"
        if name == "two approvals":
            status = inproc(repo, "status", SLUG)[1]
            assert "approved" in status and "2/2" in status, status
    assert git(repo, "show", f"HEAD:{PATH}")  # the branch still names a whole tree


def test_an_action_another_lands_before_is_not_recorded_and_the_winner_stays(tmp_path: Path) -> None:
    """Another submit lands between reviewflow judging the action and moving the branch (a `git`
    first on PATH makes that moment certain). reviewflow's commit is not recorded, since it was
    judged against a history that is no longer the branch's, and the winner's event stays.
    (Before, `git commit` then `rev-parse HEAD` could name the other process's commit as its
    own, and both racers undid and refused what had in fact landed.)"""
    repo = make_content_repo(tmp_path / "content")
    landed = tmp_path / "landed"
    real = shutil.which("git")
    wrapper = write(
        tmp_path / "bin" / "git",
        f"""#!/bin/sh
case " $* " in *" update-ref "*) if [ ! -e {landed} ]; then
  blob=$({real} rev-parse HEAD:{PATH})
  printf 'reviewflow: submit {SLUG}\\n\\nReviewflow-Article: {SLUG}\\nReviewflow-Action: submit\\nReviewflow-Content: %s\\n' "$blob" \\
    | {real} commit-tree "$({real} rev-parse 'HEAD^{{tree}}')" -p HEAD > {landed}
  {real} update-ref HEAD "$(cat {landed})"
fi;; esac
exec {real} "$@"
""",
    )
    wrapper.chmod(0o755)
    env = dict(os.environ, PATH=f"{wrapper.parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run([sys.executable, "-m", "reviewflow", "submit", SLUG], cwd=repo, env=env,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "another commit landed on this branch while this action was being judged" in done.stderr
    assert f"run `reviewflow submit {SLUG}` again" in done.stderr and len(done.stderr.splitlines()) == 1
    winner = landed.read_text().strip()
    assert head(repo) == winner, "the other action's event was undone too"
    assert inproc(repo, "verify")[0] == 0
    assert "submitted" in inproc(repo, "status", SLUG)[1]
