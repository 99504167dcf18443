"""`verify` with nothing kept: the approved texts checked while the history is still read.

Every counted approval's text is checked under the configuration in force for it, as of its
day (gate.py); which approvals count, the replay of the whole history says (~5 s of CPU at
10,000 articles, in the main process). The approval commits themselves say, before any replay,
which text each one names (its Reviewflow-Content trailer), for which article and on which day:
the history read's own log tells them as it is parsed, where that read is whole from git (with
nothing kept), and one `git log --grep` lists them otherwise. Their texts are checked from that
list in forked workers under HEAD's configuration while the main process reads the history, and
the gate then takes the result of each counted approval whose key (text, path, configuration,
day) is one of those; any other is checked as before. So the verdict is the same whatever the
list holds: a key is only a key. The workers read their texts from git themselves, from one
`cat-file --batch` they share (TextReader), so no text passes through the main process, and
they judge the last approved text of each article against the reference lockfile from the
parse the rules made (reference_check.py). From the same parse they answer who each text lists
as its authors: the history read leaves those texts to them (history.py), and `verify` holds
what the replay asked about them to these answers (board.listed_later).
"""

from __future__ import annotations

import copy
import multiprocessing
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from reviewflow import gitprocess
from reviewflow.collector import collection_paused
from reviewflow.config import Config
from reviewflow.content.schema import ArticleSchema
from reviewflow.errors import ConfigError
from reviewflow.gitbatch import stream
from reviewflow.gitlog import parse_trailers, separators
from reviewflow.gitstore import GitStore, read_objects
from reviewflow.layout import LOCKFILE, SCHEMA_FILE, article_path
from reviewflow.references.lockfile import ReferenceLock, change_lock
from reviewflow.review.acknowledge import ContentCheck, to_acknowledge
from reviewflow.review.board import parsed_authors
from reviewflow.review.changes import FactFile
from reviewflow.review.gate import fact_file_suffix, head_schema
from reviewflow.review.history import ApprovalsTold
from reviewflow.review.reference_check import ReferenceHits, reference_hits
from reviewflow.review.trailers import TRAILER_ACTION, TRAILER_ARTICLE, TRAILER_CONTENT
from reviewflow.workers import can_fork, tapering_chunks, usable_cores, worker_pool

if TYPE_CHECKING:  # the rules load only when texts are checked: a warm `verify` checks none
    from reviewflow.checks.rules import Context
    from reviewflow.content.article import Document

# (blob, path, day): a text to check under HEAD's configuration.
EarlyKey = tuple[str, str, date]
# Fewer articles than this at HEAD: checked after the replay, as before (a pool costs more).
EARLY_THRESHOLD = 200
CHUNK_TEXTS = 250


@dataclass(frozen=True)
class Shared:
    """What the forked workers inherit: HEAD's configuration and schema, the name of HEAD's
    lockfile (None: no reference check), and today. They inherit the lockfile's parse too, but
    not through this, which the lister keeps through the history read (the parse would add its
    ~55 MB at 10,000 articles to that read's peak): through `_locks`, which the main process
    empties once they have forked."""

    store: GitStore
    config: Config
    schema: ArticleSchema
    lockfile: str | None
    today: date
    texts: TextReader


@dataclass
class EarlyResults:
    config: Config  # HEAD's: what every early check was made under
    checked: dict[EarlyKey, ContentCheck | None]  # None: git has no such text
    # blob -> its path at HEAD and the reference rules' hits there (None: it did not parse)
    references: dict[str, tuple[str, ReferenceHits | None]]
    # blob -> every email its authors list (board.parsed_authors; None: the parse cannot say)
    authors: dict[str, frozenset[str] | None]


class EarlyChecks:
    """The texts of the approval commits, checked in forked workers from the moment this starts.

    The workers fork first (from the main thread, before the history read grows it); a thread
    then hands them the texts of the approval commits as they are found, while the main thread
    already reads the history. Found by the history read's own log (TOLD, given to it) when
    FROM_HISTORY, or else by a `git log` of their own (~0.4 s of git's CPU at 10,000 articles:
    a second walk of every commit)."""

    def __init__(self, shared: Shared, from_history: bool = False) -> None:
        self.config = shared.config
        found: queue.SimpleQueue[tuple[str, str, str] | None] = queue.SimpleQueue()
        self.told: ApprovalsTold | None = found.put if from_history else None
        # Each chunk's keys and paths at HEAD, kept here: the results come back without them.
        self.futures: list[tuple[list[EarlyKey], list[str | None], Future[Checked]]] = []
        self.texts = shared.texts
        # The rules and their tables are loaded here, once, and the workers inherit them: each
        # loading them for itself cost ~0.35 s of CPU a worker (the rules' imports, the syllable
        # table, the hyphenation dictionary, the vocabularies). This process then lets the tables
        # go (~16 MB), so that they do not stay through the history read; the rules' modules stay.
        from reviewflow.checks import rules

        rules.warm_up(shared.config.checks)
        global _shared
        _shared = shared
        try:
            _parse_lock_for_workers(shared)
            self.pool = worker_pool(usable_cores())
            self.pool.submit(len, [])  # the workers fork now, in this thread
        except BaseException:
            self.texts.end(kill=True)
            raise
        finally:
            _shared = None
            _locks.clear()  # inherited: let go here (~55 MB at 10,000 articles, ~550 MB at 100,000)
            rules.let_go()
        approvals = _told_approvals(found.get) if from_history else approval_commits(shared.store)
        self.lister = threading.Thread(
            target=self._list, args=(shared, approvals), name="reviewflow-approvals", daemon=True
        )
        self.lister.start()

    @classmethod
    def start(cls, root: Path, store: GitStore, config: Config, use_cache: bool) -> EarlyChecks | None:
        """The workers started on every approval commit's text, or None: a gate that kept its
        verdicts (USE_CACHE, and .git/reviewflow/ has them) checks few texts; a pool is not
        worth it for few articles, or this platform cannot fork. Without USE_CACHE the history
        is read whole from git: its log tells the approvals (`told`), none is listed apart."""
        # Only a file begun under this code and git: one an earlier reviewflow kept counts for
        # nothing, and the gate would check every approved text itself, after the read.
        verdicts = FactFile(store, "acknowledged-v1" + fact_file_suffix(store), "acknowledged", use_cache)
        if verdicts.begun_here():
            return None
        # HEAD's files are listed once, for the history read too (and here, before the thread).
        if not can_fork(usable_cores(), len(store.article_paths()), EARLY_THRESHOLD):
            return None
        lock_name, schema_name = (f"{store.head}:{store.prefix}{name}" for name in (LOCKFILE, SCHEMA_FILE))
        schema = head_schema(read_objects(store, [schema_name]).get(schema_name))
        judged = (root / LOCKFILE).exists() or config.references is not None  # as reference_check.py
        texts = TextReader(store)  # before the workers fork: they inherit its pipes
        shared = Shared(store, config, schema, lock_name if judged else None, date.today(), texts)
        return cls(shared, from_history=not use_cache)

    def _list(self, shared: Shared, approvals: Iterable[tuple[str, str, date]]) -> None:
        """Hand the workers every approval commit's text as git lists them; the last approved
        one of each article (the newest approval: git lists the newest first) with its path at
        HEAD, to judge against the lockfile. A failure here only leaves the texts to the gate."""
        jobs = usable_cores()
        # Full chunks are sent while git still walks (the workers idled until the list was
        # whole), as long as more keys wait than the tapering below reaches: the chunks are the
        # ones tapering the whole list would make.
        reach = CHUNK_TEXTS * jobs * 3
        try:
            heads: dict[EarlyKey, str | None] = {}  # each key once, the first time it is listed
            seen: set[str] = set()
            waiting: list[EarlyKey] = []
            for blob, slug, day in approvals:
                key = (blob, article_path(slug), day)
                if key in heads:  # (a key names its article: its first listing came first)
                    continue
                heads[key] = shared.store.article_file(slug) if shared.lockfile and slug not in seen else None
                seen.add(slug)
                waiting.append(key)
                if len(waiting) >= reach + CHUNK_TEXTS:
                    self._send(waiting[:CHUNK_TEXTS], heads)
                    del waiting[:CHUNK_TEXTS]
            # In the order git listed them, the newest first, as git packs objects: reading the
            # 115,379 approved texts at 100,000 articles cost git 14 s of CPU this way, 47-49 s
            # sorted by article and 70 s in the order of their blob ids (each text's delta chain
            # read again). A text approved twice may be read twice: its keys are only keys.
            for chunk in tapering_chunks(waiting, jobs, 16, CHUNK_TEXTS):
                self._send(chunk, heads)
        except Exception:  # noqa: BLE001 - the gate checks whatever was not checked here
            return

    def _send(self, chunk: list[EarlyKey], heads: dict[EarlyKey, str | None]) -> None:
        paths = [heads[key] for key in chunk]
        self.futures.append((chunk, paths, self.pool.submit(_check_chunk, chunk, paths)))

    def cancel(self) -> None:
        """Stop: the run failed before it wanted the checks."""
        self._listed()
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.texts.end(kill=True)

    def results(self) -> EarlyResults:
        """Every early check, waited for; a chunk that failed is simply not among them."""
        self._listed()
        self.lister.join()
        checked: dict[EarlyKey, ContentCheck | None] = {}
        references: dict[str, tuple[str, ReferenceHits | None]] = {}
        authors: dict[str, frozenset[str] | None] = {}
        with self.pool:
            for keys, paths, future in self.futures:
                if future.exception() is None:
                    checks, hits, listed = future.result()
                    checked.update(zip(keys, checks, strict=True))
                    references.update((keys[index][0], (paths[index] or "", found)) for index, found in hits)
                    authors.update((key[0], emails) for key, emails in zip(keys, listed, strict=True))
        self.texts.end()  # after the workers, which hold its input open too
        return EarlyResults(self.config, checked, references, authors)

    def _listed(self) -> None:
        """No more approvals will be told (the history read told its end already, unless it
        stopped or read no log): the lister sends what it has."""
        if self.told is not None:
            self.told(None)


def _told_approvals(told: Callable[[], tuple[str, str, str] | None]) -> Iterator[tuple[str, str, date]]:
    """(text blob, article, day) of each approval the history read told, as TOLD gives them
    (waiting for the next), until it gives None."""
    for blob, slug, when in iter(told, None):
        try:
            yield blob, slug, datetime.fromisoformat(when).date()
        except ValueError:
            continue


def approval_commits(store: GitStore) -> Iterator[tuple[str, str, date]]:
    """(text blob, article, day) of every commit reachable from HEAD whose trailers say it
    approves, the newest first: what its event will name if the replay counts it. Each as git
    writes it, while it still walks the history (~0.35 s of its CPU at 10,000 articles)."""
    start, sep, _ = separators()
    rest = ""
    for text in stream(
        store.toplevel, "log", "--no-color", "-F", f"--grep={TRAILER_ACTION}: approve",
        f"--format={start}%cI{sep}%(trailers:only,unfold)", "--end-of-options", store.head, "--",
    ):  # fmt: skip
        records = (rest + text).split(start)
        rest = records.pop()  # (it may go on in the next piece)
        yield from _approvals(records, sep)
    yield from _approvals([rest], sep)


def _approvals(records: list[str], sep: str) -> Iterator[tuple[str, str, date]]:
    """The approvals among RECORDS (each a commit's date, SEP and trailers)."""
    for record in records:
        when, _, block = record.partition(sep)
        trailers = dict(parse_trailers(block))
        blob, slug = trailers.get(TRAILER_CONTENT), trailers.get(TRAILER_ARTICLE)
        if trailers.get(TRAILER_ACTION) == "approve" and blob and slug:
            try:
                yield blob, slug, datetime.fromisoformat(when.strip()).date()
            except ValueError:
                continue


# What the workers inherit: set in the parent just before they fork.
_shared: Shared | None = None
# A chunk's outcome, without its keys (the main process holds them, as few objects as it can):
# the check of each key in order, (index, hits) of each judged against the lockfile, and the
# emails each key's text lists as its authors (None: not known).
Checked = tuple[
    list[ContentCheck | None], list[tuple[int, ReferenceHits | None]], list[frozenset[str] | None]
]


def _check_chunk(keys: list[EarlyKey], paths: list[str | None]) -> Checked:
    """Each of KEYS checked; the text of a key with a path at HEAD (PATHS) judged against the
    lockfile there too."""
    from reviewflow.checks.rules import Context  # imported before the fork: the workers inherit it
    from reviewflow.content.article import parse_document

    shared = _shared
    assert shared is not None
    texts = shared.texts.read(list(dict.fromkeys(blob for blob, _, _ in keys)))
    checked: list[ContentCheck | None] = []
    references: list[tuple[int, ReferenceHits | None]] = []
    # The history read leaves these texts' authors to this parse (history.py): the same few
    # authors again and again, one set each in the chunk's answer.
    listed: list[frozenset[str] | None] = []
    groups: dict[frozenset[str], frozenset[str]] = {}
    for index, ((blob, path, day), at_head) in enumerate(zip(keys, paths, strict=True)):
        raw = texts.get(blob)
        if raw is None:
            checked.append(None)
            listed.append(None)
            continue
        document = parse_document(path, raw, shared.schema, shared.config.checks.max_file_bytes)
        emails = parsed_authors(document)
        listed.append(None if emails is None else groups.setdefault(emails, emails))
        checked.append(_warnings(document, raw, Context(shared.config, day, full_messages=False)))
        if at_head is not None and (lock := _lock(shared)):
            references.append((index, _reference_hits(document, at_head, shared, lock)))
    return checked, references, listed


# How long a worker waits for the other to finish reading a chunk's texts before it gives up on
# its own chunk (left to the gate): a chunk takes git milliseconds, ~0.1 s at 100,000 articles.
READ_WAIT_SECONDS = 120.0

# The reader's cache of delta bases (git's default is 96 MB). The approved texts of a big
# repository are deltas whose bases other articles' texts share: at 100,000 articles the default
# cache kept evicting them, and git spent 13.9-14.3 s of CPU on 115,380 texts; with 256 MB it
# spent 6.8-7.1 s, the process's peak 781 MB (610 MB with the default; either way ~500 MB of it
# the pack mapped), and `verify --no-cache` took 52.0-54.3 s against 55.6-56.3 s (alternated).
# A 512 MB cache took the peak over 1 GB for 0.3 s more. At 10,000 articles the cache stays
# under the default: no change (0.64-0.67 s).
DELTA_BASE_CACHE = "256m"


class TextReader:
    """One `cat-file --batch` that the workers share, a chunk's request and answers at a time.

    Each worker had a git process of its own: the approved texts, listed the newest first as git
    packs them, were then read half by each, and each git applied the delta chains of its half
    with a cache of delta bases of its own. One process reading them all cost git 0.56 s of CPU
    at 10,000 articles against 0.96 s split in two (11.5 s against 15.2 s at 100,000). Started
    before the workers fork, so that they inherit its pipes; a lock between them keeps each
    chunk's answers together, and a reader that fails part way through leaves the process to
    no one after it (its answers may be out of step): their chunks are checked by the gate."""

    def __init__(self, store: GitStore) -> None:
        self.process = gitprocess.start(
            store.root, "-c", f"core.deltaBaseCacheLimit={DELTA_BASE_CACHE}", "cat-file", "--batch"
        )
        context = multiprocessing.get_context("fork")
        self.lock = context.Lock()
        self.broken = context.RawValue("b", 0)

    def read(self, blobs: list[str]) -> dict[str, bytes | None]:
        """BLOBS' contents (None: git has no such object). A chunk's request (~10 KB) fits in
        the pipe: it is written whole before the answers are read."""
        if not self.lock.acquire(timeout=READ_WAIT_SECONDS):
            raise OSError("the other worker held git cat-file too long")
        try:
            if self.broken.value:
                raise OSError("git cat-file is out of step")
            try:
                return self._answers(blobs)
            except BaseException:
                self.broken.value = 1
                raise
        finally:
            self.lock.release()

    def _answers(self, blobs: list[str]) -> dict[str, bytes | None]:
        assert self.process.stdin is not None and self.process.stdout is not None
        request = memoryview("".join(f"{blob}\n" for blob in blobs).encode())
        while request:
            written = os.write(self.process.stdin.fileno(), request)  # not in the slice: mypyc runs it twice
            request = request[written:]
        # A reader of this chunk's own: nothing another worker's reader read ahead is in it.
        with open(self.process.stdout.fileno(), "rb", closefd=False) as answers:
            texts: dict[str, bytes | None] = {}
            for blob in blobs:
                header = answers.readline().split()
                if len(header) == 3 and header[2].isdigit():  # as gitbatch.batch_objects reads them
                    texts[blob] = answers.read(int(header[2]) + 1)[:-1]  # and its newline
                elif len(header) == 2:
                    texts[blob] = None  # "<name> missing": no text by that id
                else:
                    raise OSError(f"git cat-file answered {b' '.join(header)!r}")
            return texts

    def end(self, *, kill: bool = False) -> None:
        """The process ended: its input closed once the workers are gone (they hold it open
        too), or KILL it (the run stops, the workers may still be there)."""
        assert self.process.stdin is not None
        if kill:
            self.process.kill()
        self.process.stdin.close()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()


# Most approved texts have no warning: one object for them all (pickled once per chunk, and
# held once per chunk until the gate judges them: 100,000 of them at 100,000 articles).
_NO_WARNINGS = ContentCheck([], [])


def _warnings(document: Document, raw: bytes, context: Context) -> ContentCheck:
    """What judging an approval reads (acknowledge.check_content, kept small): the warnings, and
    the lines they stand on; without full messages (brief), which only a refusal shows."""
    from reviewflow.checks.rules import check_document

    warnings = to_acknowledge(check_document(document, context, warnings_only=True))
    if not warnings:
        return _NO_WARNINGS
    wanted = {f.line for f in warnings}
    last = max(wanted, default=0)
    lines = raw.decode("utf-8", "replace").split("\n", last)[:last]  # not split past the last wanted
    return ContentCheck(
        warnings, [line if number in wanted else "" for number, line in enumerate(lines, 1)], brief=True
    )


# This worker's parse of HEAD's lockfile: (it, or None when it is broken or missing). Made in the
# main process before the workers fork (`_parse_lock_for_workers`), and let go there after it.
_locks: list[ReferenceLock | None] = []


def _parse_lock_for_workers(shared: Shared) -> None:
    """HEAD's lockfile parsed here, once, as a worker parses it (`_lock`), for the workers about
    to fork to inherit: each parsed it for itself when its first chunk came (~0.24 s of CPU a
    worker at 10,000 articles, 12 MB of JSON; and git read the 12 MB once for each). Paused for
    the cycle collector, whose young collections would otherwise walk its ~55,000 new dicts here,
    and which then never walks them in the workers either (`collection_paused` puts what lives
    at its end out of reach). A parse that fails here for another reason than a broken lockfile
    (ConfigError, which `_lock` keeps as None) is left to each worker, as before."""
    if shared.lockfile is None:
        return
    try:
        with collection_paused():
            _lock(shared)
    except Exception:  # noqa: BLE001 - each worker then tries for itself
        _locks.clear()


def _lock(shared: Shared) -> ReferenceLock | None:
    """HEAD's lockfile as reference_check.py parses it; None: no reference check (a broken
    lockfile is `check`'s and `ci`'s to report)."""
    if shared.lockfile is None:
        return None
    if not _locks:
        raw = shared.texts.read([shared.lockfile])[shared.lockfile]
        try:
            _locks.append(change_lock(raw, None, shared.config.references is not None))
        except ConfigError:
            _locks.append(None)
    return _locks[0]


def _reference_hits(
    document: Document, path: str, shared: Shared, lock: ReferenceLock
) -> ReferenceHits | None:
    """The reference rules on DOCUMENT as the file PATH (where HEAD has it), under HEAD's
    configuration, today: the parse is the gate's (only the path it names differs)."""
    from reviewflow.checks.rules import Context

    at_head = copy.copy(document)
    at_head.path = path
    return reference_hits(at_head, Context(shared.config, shared.today, references=lock))
