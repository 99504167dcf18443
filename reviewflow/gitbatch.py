"""Git's output read as git writes it, never held whole: any command's text in pieces, and the
objects of one `cat-file --batch` one by one (every git process starts in gitprocess.py)."""

from __future__ import annotations

import codecs
import os
import queue
import subprocess
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from reviewflow import gitprocess
from reviewflow.errors import EnvironmentProblem
from reviewflow.gitlog import is_object_id

# The most of a command's output taken at once. Below glibc's threshold for mapped blocks (128 KB,
# which allocator.py fixes for a whole history read), so that each piece, its decoded text and the
# text it is joined to come from the heap and reuse the memory the last ones freed: pieces of 1 MB
# were each mapped anew and faulted in page by page, three times over (the bytes, the text, the
# join): ~24,000 of the main process's 83,000 page faults in `verify --no-cache` at 10,000
# articles (a 40 MB log).
STREAM_BYTES = 1 << 16


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


# How far a started command's output may run ahead of its reader, in pieces of STREAM_BYTES
# (16 MB): git then waits, as it waits on a full pipe.
STARTED_PIECES = 256


class Started:
    """One git command run in CWD from now on, its output taken from the pipe as git writes it
    and kept (at most STARTED_PIECES pieces ahead) until `pieces` reads it: git works on
    another core while this process does something else first. What `pieces` yields is what
    `stream` would have."""

    def __init__(self, cwd: Path, *args: str) -> None:
        self.args = args
        self.process = gitprocess.start(cwd, *args)
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.errors: list[bytes] = []
        self.output: queue.Queue[bytes] = queue.Queue(STARTED_PIECES)
        self.taken_whole = False  # the end of the output was taken from OUTPUT
        self.ended = False
        self.threads = [
            threading.Thread(target=gitprocess.drain, args=(self.process, self.errors), daemon=True),
            threading.Thread(target=self._take, daemon=True),
        ]
        for thread in self.threads:
            thread.start()

    def _take(self) -> None:
        assert self.process.stdout is not None
        try:
            while piece := self.process.stdout.read(STREAM_BYTES):  # (whole pieces, but the last)
                self.output.put(piece)
        finally:
            self.output.put(b"")  # the end (the pipe closed, or reading it failed)

    def _next(self) -> bytes:
        piece = self.output.get()
        self.taken_whole = not piece
        return piece

    def pieces(self) -> Iterator[str]:
        """The output, decoded; EnvironmentProblem when git fails. A reader that stops before
        the end stops git."""
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        try:
            while piece := self._next():
                yield decoder.decode(piece)
            yield decoder.decode(b"", final=True)
        finally:
            self.end()

    def end(self) -> None:
        """Git waited for: stopped first if its output was not all taken (nothing is said of
        how it ended then), else EnvironmentProblem if it failed."""
        if self.ended:
            return
        self.ended = True
        stopped = not self.taken_whole
        if stopped:
            self.process.kill()
            while self._next():  # to the end: the taking thread may be waiting on a full queue
                pass
        for thread in self.threads:
            thread.join()
        assert self.process.stdout is not None
        self.process.stdout.close()
        if self.process.wait() != 0 and not stopped:
            result = subprocess.CompletedProcess(
                self.args, self.process.returncode, b"", b"".join(self.errors)
            )
            gitprocess.fail(self.args, result)


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
