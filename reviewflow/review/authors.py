"""Who a text lists as its authors (its front-matter `authors`), and the reading of many texts
for it in a process of its own.

A review event's actor may not be an author of the text acted on, so a history read from git
alone asks this of every text a board action names: ~17,400 texts at 10,000 articles, ~175,000
(1.1 GB from `cat-file --batch`) at 100,000. Read by a thread of the command, those texts waited
on the interpreter's lock whenever the main thread replayed the diffs in compiled code, which
never lets go of it: git's pipe filled and git stopped. In a cold `status` at 100,000 articles
the read ran from 9 s to 23 s for 8.4 s of git's CPU, and the command waited ~6 s for it (with
the answers already kept, 25.3-26.1 s against 31.7-32.2 s). Many texts are therefore read by a
child Python process (`listed_authors`): git's output goes to it, and only one short answer per
text comes back.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from reviewflow import gitprocess
from reviewflow.gitbatch import batch_objects
from reviewflow.gitlog import is_object_id

# Texts to read before a process of their own pays for its start (~0.07 s of CPU, its imports).
APART_THRESHOLD = 2000


def front_matter_authors(raw: bytes, candidates: Iterable[str] = ()) -> frozenset[str]:
    """The lowercased emails in an article's `authors` (at least those among CANDIDATES).

    Parsing YAML costs about a millisecond, so an article whose front-matter cannot contain any
    candidate's email (no candidate as a substring, and no YAML escape that could spell one) is
    not parsed: the answer for every candidate is the same. Only the front-matter is searched:
    the bench corpus's bodies all hold an escape's characters (a `''` or a `\\`), which made
    every text acted on parse (the 17,438 texts at 10,000 articles: 0.25 s of CPU, 0.13 s now).
    """
    front = front_matter_bytes(raw)
    if front is None:
        return frozenset()  # no front-matter: nothing to parse, no authors
    if front.isascii():
        # The same test on the bytes (ASCII text lowercases alike either way), without
        # decoding: a fresh clone tests ~17,000 texts at 10,000 articles.
        low = front.lower()
        if not any(c.lower().encode("utf-8", "replace") in low for c in candidates) and (
            b"\\" not in low and b"''" not in low
        ):
            return frozenset()
    else:
        text = front.decode("utf-8", "replace").lower()
        if not any(c.lower() in text for c in candidates) and "\\" not in text and "''" not in text:
            return frozenset()
    from reviewflow.content.frontmatter import read_article_bytes  # YAML, loaded only when needed

    split = read_article_bytes(raw, max(len(raw), 1))
    authors = split.data.get("authors") if split.data else None
    if not isinstance(authors, list):
        return frozenset()
    return frozenset(str(a["email"]).strip().lower() for a in authors if isinstance(a, dict) and "email" in a)


# The line that closes front-matter, as frontmatter.py finds it (`---` or `...`, then blanks).
_CLOSING_LINE = re.compile(rb"(?:---|\.\.\.)[ \t]*\r?(?:\n|\Z)")


def front_matter_bytes(raw: bytes) -> bytes | None:
    """RAW up to the line that closes its front-matter (which holds all of its YAML), or None
    when no line after the first closes it (frontmatter.py then reads no front-matter)."""
    position = raw.find(b"\n")  # the front-matter starts after its first line, the fence
    while position >= 0:
        dashes = raw.find(b"\n---", position)
        dots = raw.find(b"\n...", position, len(raw) if dashes < 0 else dashes)
        found = dots if dots >= 0 else dashes
        if found < 0:
            return None
        if _CLOSING_LINE.match(raw, found + 1):
            return raw[:found]
        position = found + 1
    return None


def listed_authors(
    toplevel: Path,
    blobs: Sequence[str],
    candidates: Mapping[str, Collection[str]],
    apart_from: int = APART_THRESHOLD,
) -> Iterator[tuple[str, frozenset[str]]]:
    """(blob, those of its CANDIDATES its text lists as authors) for each of BLOBS that git has,
    read from one `cat-file --batch` in TOPLEVEL (the work tree), in the order given (git reads
    neighbouring texts through the same delta bases: the caller orders them).

    From APART_FROM texts on, in a child process (the module's docstring says why). Should it
    fail or stop answering (it cannot start, it is killed), the texts it did not answer are read
    here: the answers are the same either way, only slower.
    """
    blobs = [blob for blob in blobs if is_object_id(blob)]  # never a name git would resolve
    done = 0
    if len(blobs) >= apart_from:
        for answer in _read_apart(toplevel, blobs, candidates):
            done += 1
            if answer is not None:
                yield answer
    for blob, kind, raw in batch_objects(toplevel, blobs[done:]):
        if kind == b"blob" and raw is not None:
            yield blob, _listed(raw, candidates[blob])


def _listed(raw: bytes, candidates: Collection[str]) -> frozenset[str]:
    found = front_matter_authors(raw, candidates)
    return frozenset(email for email in candidates if email in found)


# --- the child ---------------------------------------------------------------------------------
# Asked one line per text: its blob id, then each candidate's email, NUL-separated (git allows
# neither a NUL nor a newline in an email). It answers one line per text, in the same order: a
# 1 or 0 for each candidate (listed or not), or "-" where git has no such blob.

_CHILD = "from reviewflow.review.authors import answer_requests; answer_requests()"


def _read_apart(
    toplevel: Path, blobs: Sequence[str], candidates: Mapping[str, Collection[str]]
) -> Iterator[tuple[str, frozenset[str]] | None]:
    """Each text's answer from the child, in order (None: git has no such blob), until it has
    answered every one or stops; nothing at all if it cannot be started."""
    asked = [tuple(candidates[blob]) for blob in blobs]
    if any("\0" in email or "\n" in email for emails in asked for email in emails):
        return  # not a request the child could read: every text is read here
    request = b"".join(
        b"\0".join([blob.encode(), *(e.encode("utf-8", "surrogateescape") for e in emails)]) + b"\n"
        for blob, emails in zip(blobs, asked, strict=True)
    )
    # The child imports this copy of reviewflow, whatever put it on this process's path.
    package_root = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH", "")) if p)
    try:
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(os.getpid())],
            cwd=toplevel,
            env={**os.environ, "PYTHONPATH": path},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # a failure is answered here, by reading the rest
        )
    except OSError:
        return
    assert child.stdin is not None and child.stdout is not None
    writer = threading.Thread(target=gitprocess.feed, args=(child, request), daemon=True)
    writer.start()
    index = 0
    try:
        for line in child.stdout:
            if index == len(blobs):
                break
            answer = line.rstrip(b"\n")
            emails = asked[index]
            if answer == b"-":
                yield None
            elif len(answer) == len(emails) and not answer.strip(b"01"):
                yield blobs[index], frozenset(e for e, bit in zip(emails, answer, strict=True) if bit == 49)
            else:
                break  # not an answer: the rest is read by the caller
            index += 1
    finally:
        if index < len(blobs):
            child.kill()
        writer.join()
        child.stdout.close()
        child.wait()


def answer_requests() -> None:
    """The child's whole work (`_read_apart` starts it): the request from stdin, each text from
    git, one answer line each to stdout. It ends with the command that started it."""
    from reviewflow.workers import end_with

    end_with(int(sys.argv[1]))
    blobs: list[str] = []
    asked: list[list[str]] = []
    for line in sys.stdin.buffer.read().split(b"\n"):
        if line:
            blob, *emails = line.decode("utf-8", "surrogateescape").split("\0")
            blobs.append(blob)
            asked.append(emails)
    out = sys.stdout.buffer
    gitprocess.widen_pipe(out.fileno())  # up to 1 MB: the answers rarely wait on the reader
    for (_, kind, raw), emails in zip(batch_objects(Path.cwd(), blobs), asked, strict=False):
        if kind != b"blob" or raw is None:
            out.write(b"-\n")
            continue
        found = front_matter_authors(raw, emails)
        out.write(bytes(49 if email in found else 48 for email in emails) + b"\n")
    out.flush()
