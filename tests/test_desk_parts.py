"""The desk's pure parts (the word diff, the security checks) and the `serve` command itself."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from reviewflow.cli.commands import cli
from reviewflow.desk.security import Guard, is_loopback
from reviewflow.desk.worddiff import Piece, texts_of_unified, word_diff

OLD = """---
title: "POEMS syndrome"
audience: patient
authors:
  - name: "Alice Author"
---

POEMS syndrome is rare.

It affects the nerves.
"""


def test_a_changed_word_is_marked_and_the_rest_is_kept() -> None:
    new = OLD.replace("is rare", "is very rare")
    diff = word_diff(OLD, new)
    assert not any(block.changed for block in diff.fields)
    first, second = diff.prose
    assert first.pieces == (
        Piece("same", "POEMS syndrome is "),
        Piece("added", "very "),
        Piece("same", "rare."),
    )
    assert not second.changed and second.pieces == (Piece("same", "It affects the nerves."),)


def test_front_matter_is_compared_field_by_field() -> None:
    new = OLD.replace("audience: patient", "audience: professional").replace(
        '  - name: "Alice Author"', '  - name: "Alice Author"\n  - name: "Sam"'
    )
    fields = {block.name: block for block in word_diff(OLD, new).fields}
    assert fields["audience"].pieces == (
        Piece("same", "audience: "), Piece("removed", "patient"), Piece("added", "professional"),
    )  # fmt: skip
    assert fields["authors"].pieces[-1] == Piece("added", '\n  - name: "Sam"')
    assert not fields["title"].changed


def test_paragraphs_added_and_removed_stay_whole() -> None:
    new = OLD.replace("It affects the nerves.\n", "A new paragraph.\n\nIt affects the nerves.\n")
    assert [b.pieces for b in word_diff(OLD, new).prose if b.changed] == [
        (Piece("added", "A new paragraph."),)
    ]
    gone = word_diff(new, OLD).prose
    assert [b.pieces for b in gone if b.changed] == [(Piece("removed", "A new paragraph."),)]


def test_a_first_review_shows_everything_added() -> None:
    diff = word_diff("", OLD)
    assert diff.changed and all(p.kind == "added" for b in (*diff.fields, *diff.prose) for p in b.pieces)
    assert [b.name for b in diff.fields] == ["title", "audience", "authors"]


def test_the_texts_come_back_out_of_a_whole_file_unified_diff() -> None:
    import difflib

    new = OLD.replace("rare", "uncommon")
    lines = list(difflib.unified_diff(OLD.splitlines(), new.splitlines(), "a", "b", n=10**9, lineterm=""))
    assert texts_of_unified(lines) == (OLD.rstrip("\n"), new.rstrip("\n"))
    assert texts_of_unified([]) == ("", "")


def test_the_guard() -> None:
    guard = Guard(port=8765)
    assert guard.host_ok("127.0.0.1:8765") and guard.host_ok("LOCALHOST:8765") and guard.host_ok("[::1]:8765")
    assert (
        not guard.host_ok("127.0.0.1:8766")
        and not guard.host_ok("evil.example:8765")
        and not guard.host_ok(None)
    )
    assert guard.token_ok(guard.token) and not guard.token_ok(guard.token[:-1]) and not guard.token_ok(None)
    assert guard.csrf_ok(guard.csrf) and not guard.csrf_ok("") and guard.csrf != guard.token
    assert guard.origin_ok(None) and guard.origin_ok("http://localhost:8765")
    assert not guard.origin_ok("http://evil.example") and not guard.origin_ok("null")
    assert Guard(port=8765).token != guard.token  # a new secret every run
    assert guard.url().startswith("http://127.0.0.1:8765/?token=")
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2") and not is_loopback("example.org")


def test_serve_refuses_another_host_without_the_flag(content_repo: Path) -> None:
    result = CliRunner().invoke(cli, ["-C", str(content_repo), "serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "--host 0.0.0.0 would let other machines reach the desk" in result.output
    assert "add --allow-remote" in result.output


def test_serve_outside_a_content_repo_fails_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["-C", str(tmp_path), "serve", "--port", "0"])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert result.output.startswith("reviewflow: ") and "Traceback" not in result.output


@pytest.mark.parametrize("remote", [False, True])
def test_serve_prints_the_address_with_its_token_and_serves_it(content_repo: Path, remote: bool) -> None:
    args = ["--host", "0.0.0.0", "--allow-remote"] if remote else []
    process = subprocess.Popen(
        [sys.executable, "-m", "reviewflow", "serve", "--port", "0", *args],
        cwd=content_repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("Review desk for ")
        opened = process.stdout.readline().strip()
        assert opened.startswith("Open http://") and "?token=" in opened
        url = urlsplit(opened.removeprefix("Open "))
        assert (url.hostname == "0.0.0.0") is remote and (url.hostname == "127.0.0.1") is not remote
        connection = http.client.HTTPConnection("127.0.0.1", url.port, timeout=30)
        connection.request("GET", f"/?{url.query}", headers={"Host": url.netloc})
        reply = connection.getresponse()
        assert reply.status == 303 and "HttpOnly" in (reply.getheader("Set-Cookie") or "")
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=30)
    assert process.returncode == 0, errors
    assert ("warning: listening on 0.0.0.0, reachable from other machines" in errors) is remote
    assert "Traceback" not in errors


def test_serve_on_a_port_in_use_says_so_in_one_line(content_repo: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["-C", str(content_repo), "serve", "--port", str(port)])
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"reviewflow: cannot listen on 127.0.0.1:{port}: ")
    assert len(result.output.strip().splitlines()) == 1
