"""Faults and limits: bounded config values, a full or read-only disk, killed builds, big files.

Real git repositories, real subprocesses and signals, and real tmpfs mounts where this process
may mount them (as root); each test says why when it skips.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import git
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
