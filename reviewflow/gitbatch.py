"""Git's output read as git writes it, never held whole: any command's text in pieces, and the
objects of one `cat-file --batch` one by one (every git process starts in gitprocess.py)."""

from __future__ import annotations

import codecs
import os
import subprocess
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from reviewflow import gitprocess
from reviewflow.errors import EnvironmentProblem
from reviewflow.gitlog import is_object_id

STREAM_BYTES = 1 << 20  # the most of a command's output `stream` takes at once


def stream(cwd: Path, *args: str) -> Iterator[str]:
    """The output of one git command run in CWD, decoded, in pieces as git writes it."""
    process = gitprocess.start(cwd, *args)
    assert process.stdin is not None and process.stdout is not None
    process.stdin.close()
    errors: list[bytes] = []
    reader = threading.Thread(target=gitprocess.drain, args=(process, errors), daemon=True)
    reader.start()
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    try:
        while chunk := os.read(process.stdout.fileno(), STREAM_BYTES):
            yield decoder.decode(chunk)
        yield decoder.decode(b"", final=True)
    finally:
        process.stdout.close()
        reader.join()
        if process.wait() != 0:
            gitprocess.fail(
                args, subprocess.CompletedProcess(args, process.returncode, b"", b"".join(errors))
            )


def batch_objects(cwd: Path, names: Sequence[str]) -> Iterator[tuple[str, bytes, bytes | None]]:
    """(name, object type, content) for each of NAMES, streamed from one `cat-file --batch` in
    CWD; the content is None where the name names nothing.

    Read as git writes it, never as one whole output: the 12,000 approved texts a `verify` from
    a fresh clone checks would otherwise be held twice over (git's output, then each text).
    """
    if not names:
        return
    process = gitprocess.start(cwd, "cat-file", "--batch")
    request = "".join(f"{name}\n" for name in names).encode("utf-8", "surrogateescape")
    writer = threading.Thread(target=gitprocess.feed, args=(process, request), daemon=True)
    writer.start()
    assert process.stdout is not None and process.stderr is not None
    complete = False
    try:
        for name in names:
            header = process.stdout.readline().split()
            if not header:
                break  # git stopped answering: its exit status says why
            if len(header) == 3 and header[2].isdigit() and is_object_id(header[0].decode("latin-1")):
                yield name, header[1], process.stdout.read(int(header[2]) + 1)[:-1]  # and its newline
            else:  # "<name> missing" (or "ambiguous"): no content follows
                yield name, b"", None
        complete = True
    finally:
        if not complete:
            process.kill()  # the reader stopped early: nobody wants the rest
        writer.join()
        process.stdout.read()
        stderr = process.stderr.read()
        if process.wait() != 0 and complete:
            detail = stderr.decode("utf-8", "replace").strip() or f"exit status {process.returncode}"
            raise EnvironmentProblem(f"git cat-file failed: {detail}")
