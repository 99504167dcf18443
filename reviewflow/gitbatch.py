"""Git's output read as git writes it, never held whole: any command's text in pieces, and the
objects of one `cat-file --batch` one by one (every git process starts in gitprocess.py)."""

from __future__ import annotations

import codecs
import collections
import contextlib
import os
import queue
import subprocess
import threading
from collections.abc import Callable, Iterator, Sequence
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


# How far a started command's output may run ahead of its reader, in pieces of STREAM_BYTES:
# git then waits, as it waits on a full pipe.
STARTED_PIECES = 16


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


# Names a BatchFeed writes to git together: a pipe write each, not one a name.
FEED_NAMES_AT_ONCE = 64


class BatchFeed:
    """One `cat-file --batch` in CWD asked for objects as they become known (`ask`, from one
    thread), each answer handed to ANSWER (name, content; None where the name names no blob) on a
    thread of its own as git writes it: git reads the objects on another core while this process
    is still working out which it wants (a history's log names the texts its events act on long
    before the whole log is read). `close` waits for the last answer."""

    def __init__(self, cwd: Path, answer: Callable[[str, bytes | None], None]) -> None:
        self.answer = answer
        self.process = gitprocess.start(cwd, "cat-file", "--batch")
        self.asked: collections.deque[str] = collections.deque()  # written to git, not answered
        self.waiting: list[str] = []  # asked, not yet written to git
        self.errors: list[bytes] = []
        self.failure: BaseException | None = None  # what stopped the answering thread
        self.threads = [
            threading.Thread(target=gitprocess.drain, args=(self.process, self.errors), daemon=True),
            threading.Thread(target=self._answer_all, daemon=True),
        ]
        for thread in self.threads:
            thread.start()

    def ask(self, name: str) -> None:
        self.waiting.append(name)
        if len(self.waiting) >= FEED_NAMES_AT_ONCE or not self.asked:  # (or git has nothing to do)
            self._write()

    def _write(self) -> None:
        assert self.process.stdin is not None
        self.asked.extend(self.waiting)  # before git can answer them
        request = "".join(f"{name}\n" for name in self.waiting).encode("utf-8", "surrogateescape")
        self.waiting.clear()
        try:
            self.process.stdin.write(request)
            self.process.stdin.flush()
        except BrokenPipeError:
            pass  # git is gone: `close` says why

    def _answer_all(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        try:
            while header := stdout.readline().split():
                name = self.asked.popleft()
                if len(header) == 3 and header[2].isdigit() and is_object_id(header[0].decode("latin-1")):
                    content = stdout.read(int(header[2]) + 1)[:-1]  # and its newline
                    self.answer(name, content if header[1] == b"blob" else None)
                else:  # "<name> missing" (or "ambiguous"): no content follows
                    self.answer(name, None)
        except BaseException as failure:  # handed to `close`, on the thread that asked
            self.failure = failure
            self.process.kill()

    def close(self) -> None:
        """Every answer given (EnvironmentProblem when git failed or stopped answering)."""
        self._write()
        assert self.process.stdin is not None and self.process.stdout is not None
        with contextlib.suppress(BrokenPipeError):
            self.process.stdin.close()
        for thread in self.threads:
            thread.join()
        self.process.stdout.close()
        status = self.process.wait()
        if self.failure is not None:
            raise self.failure
        if status != 0 or self.asked:
            result = subprocess.CompletedProcess(self.process.args, status, b"", b"".join(self.errors))
            raise EnvironmentProblem(
                f"git cat-file failed: {gitprocess.stderr_text(result) or f'exit status {status}'}"
            )

    def stop(self) -> None:
        """Git stopped and waited for, its answers left unread (the run failed before `close`)."""
        self.process.kill()
        with contextlib.suppress(OSError):
            assert self.process.stdin is not None
            self.process.stdin.close()
        for thread in self.threads:
            thread.join()
        self.process.wait()


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
