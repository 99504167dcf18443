"""Git's output read as git writes it, never held whole: any command's text in pieces, and the
objects of one `cat-file --batch` one by one (every git process starts in gitprocess.py)."""

from __future__ import annotations

import codecs
import contextlib
import os
import subprocess
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from reviewflow import gitprocess
from reviewflow.errors import EnvironmentProblem
from reviewflow.gitlog import is_object_id


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
        while chunk := os.read(process.stdout.fileno(), 1 << 20):
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


class SharedBatch:
    """One `cat-file --batch` that several threads ask in turn, a few hundred objects at a time.

    git keeps the bases of the deltas it applied (core.deltaBaseCacheLimit, 96 MB), so a text
    that one process read before costs it little the second time: at 10,000 articles, reading
    the 11,444 approved texts and then all 17,435 texts acted on cost git 0.75 s of CPU in one
    process, against 0.55 s and 0.65 s in two (and 0.95 s for the approved texts split between
    two processes). `verify` shares one between the early checks and the history read.
    """

    # A request is written whole before its answers are read: it must fit in the pipe (64 KB).
    REQUEST_BYTES = 16 << 10

    def __init__(self, cwd: Path) -> None:
        self._cwd = cwd
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._errors: list[bytes] = []
        self._drain: threading.Thread | None = None
        self._closed = False

    def objects(self, names: Iterable[str]) -> Iterator[tuple[str, bytes, bytes | None]]:
        """(name, object type, content) for each of NAMES, as `batch_objects` gives them: the
        content is None where the name names nothing. Read a request at a time, each answered
        whole while this thread alone asks."""
        request: list[str] = []
        size = 0
        for name in names:
            request.append(name)
            size += len(name) + 1
            if size >= self.REQUEST_BYTES:
                yield from self._ask(request)
                request, size = [], 0
        if request:
            yield from self._ask(request)

    def _ask(self, names: list[str]) -> list[tuple[str, bytes, bytes | None]]:
        answers: list[tuple[str, bytes, bytes | None]] = []
        with self._lock:
            if self._closed:
                raise EnvironmentProblem("git cat-file was asked after it was closed")
            process = self._started()
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write("".join(f"{name}\n" for name in names).encode("utf-8", "surrogateescape"))
            process.stdin.flush()
            for name in names:
                header = process.stdout.readline().split()
                if len(header) == 3 and header[2].isdigit() and is_object_id(header[0].decode("latin-1")):
                    answers.append((name, header[1], process.stdout.read(int(header[2]) + 1)[:-1]))
                elif len(header) == 2:  # "<name> missing" (or "ambiguous"): no content follows
                    answers.append((name, b"", None))
                else:  # git stopped answering, or answered what this cannot read
                    self._end()
                    detail = b"".join(self._errors).decode("utf-8", "replace").strip()
                    raise EnvironmentProblem(f"git cat-file failed: {detail or 'no answer'}")
        return answers

    def _started(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            self._process = gitprocess.start(self._cwd, "cat-file", "--batch")
            self._drain = threading.Thread(
                target=gitprocess.drain, args=(self._process, self._errors), daemon=True
            )
            self._drain.start()
        return self._process

    def close(self) -> None:
        """End the git process (waiting for a request being answered); no request after this."""
        with self._lock:
            self._closed = True
            self._end()

    def _end(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        assert process.stdin is not None and process.stdout is not None
        with contextlib.suppress(BrokenPipeError):
            process.stdin.close()
        process.stdout.close()
        process.wait()
        if self._drain is not None:
            self._drain.join()
