"""The processes that render a build's pages, and the texts they read from the work tree.

A page shows one blob, which git holds; the work tree holds the same bytes for most pages (the
approved text is HEAD's, checked out). A worker reads a page's text from the work tree when,
and only when, the file's bytes are exactly that blob: their git blob id (sha1 of
"blob <size>\\0" and the bytes, what `git hash-object` says, computed here in-process) is the
page's. Any other file (edited and not yet approved, absent, a link, a device) is not read: the
page's text then comes from git (render.py). So git's `cat-file` and the parent's sending of
each text to a worker are spared for most pages.

A build that has many texts to read forks its workers first of all (build.py): while the main
process judges the review history, they read the front-matter facts of the texts at HEAD
(neighbours.read_ahead), off the main process's interpreter lock; then they render the pages.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from threading import Event
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from jinja2 import FileSystemBytecodeCache

from reviewflow.config import Config
from reviewflow.content.article import SLUG_PATTERN, parse_document
from reviewflow.content.facts import Facts, read_facts
from reviewflow.content.schema import ArticleSchema
from reviewflow.files import open_regular_at
from reviewflow.findings import Severity
from reviewflow.gitlog import blob_hasher
from reviewflow.publish.leftovers import running
from reviewflow.publish.output import write_file
from reviewflow.publish.pages import PageInfo, listing_meta
from reviewflow.publish.records import FileState, PageRecord, content_digest
from reviewflow.publish.search import DOC_FIELDS, SearchState, article_terms, terms_text, updated_search_files
from reviewflow.publish.site import PageProblem, SiteRenderer
from reviewflow.workers import worker_pool

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

Rendered = tuple[str, dict[str, Any]] | str  # (html, listing meta), or what is wrong
RenderedBytes = tuple[bytes, dict[str, Any]] | str  # (the page's UTF-8, listing meta), or what is wrong
# (digest of the page written, listing meta, search terms as JSON text, its file's state as
# written), or what is wrong
Written = tuple[str, dict[str, Any], str, FileState | None] | str
R = TypeVar("R")
MISSING = "its content is missing from the git object database"
Job = tuple[PageInfo, bytes | None]  # a page and its text; None: the worker reads it from the work tree
FACTS_CHUNK = 250  # texts whose facts a worker reads per task


_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# Directories a reader holds open (the bench corpus's texts are in 256 shards of `articles`):
# half the usual limit of 1,024 descriptors a process, leaving room for the pages a worker writes.
MAX_DIRECTORIES = 512


class TreeTexts:
    """The texts of the work tree at TOPLEVEL, read only where a file's bytes are exactly a blob.

    Each directory on the way to a text is opened once, as a real directory (no link followed),
    and kept open: a text is then one `stat`, `open`, `fstat`, `read` and `close` within its
    directory, where files.read_limited took eight calls, four of them walking the whole path
    from the root and two `lstat`s of its directories (and a full build reads two texts a
    page: for its facts, then for its page). Close it when done (or use it as a context manager).
    """

    def __init__(self, toplevel: str) -> None:
        self.toplevel = toplevel
        self._directories: dict[str, int] = {}

    def __enter__(self) -> TreeTexts:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        for descriptor in self._directories.values():
            os.close(descriptor)
        self._directories.clear()

    def read(self, path: str, blob: str, max_bytes: int) -> bytes | None:
        """The bytes of PATH (from the top of the work tree, "/" between names) if they are
        exactly blob BLOB's; None when they are anything else, or the file is absent, larger
        than MAX_BYTES (its text then comes from git, which says what is wrong with it), or not
        a regular file reached through real directories (no link followed, no FIFO waited on)."""
        parent, _, name = path.rpartition("/")
        try:
            directory = self._directory(parent)
            if directory is None or name in ("", ".", ".."):
                return None
            descriptor, found = open_regular_at(directory, name)  # a link, FIFO or device refused
            try:
                if found.st_size > max_bytes:
                    return None
                data = os.read(descriptor, found.st_size + 1)  # one more: a file that grew meanwhile
            finally:
                os.close(descriptor)
        except OSError:
            return None
        digest = blob_hasher(blob, len(data))
        if digest is None or len(data) > max_bytes:
            return None
        digest.update(data)
        return data if digest.hexdigest() == blob else None

    def _directory(self, relative: str) -> int | None:
        """A descriptor of RELATIVE (names from the top, "/" between them; "" the top itself),
        opened name by name as real directories; None for a path that is not such names."""
        found = self._directories.get(relative)
        if found is not None:
            return found
        if relative == "":
            found = os.open(self.toplevel, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        else:
            above, _, name = relative.rpartition("/")
            if name in ("", ".", ".."):
                return None
            parent = self._directory(above)
            if parent is None:
                return None
            found = os.open(name, _DIRECTORY_FLAGS, dir_fd=parent)
        if len(self._directories) >= MAX_DIRECTORIES:  # the one opened first goes (reopened if needed)
            os.close(self._directories.pop(next(iter(self._directories))))
        self._directories[relative] = found
        return found


def page_path(slug: str) -> str:
    return f"articles/{slug}/index.html"


def site_renderer(config: Config, base_url: str | None, preview: bool) -> SiteRenderer:
    """The renderer of one build, its compiled templates kept in the user's cache directory."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    directory = os.path.join(base, "reviewflow", "templates")
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        cache: FileSystemBytecodeCache | None = _TemplateCache(directory)
    except OSError:
        cache = None
    return SiteRenderer(config, base_url, preview, cache)


class _TemplateCache(FileSystemBytecodeCache):
    """Compiled templates in the user's cache: a cache that cannot be written (a full or
    read-only disk) only makes the next build compile them again; it never fails this one."""

    def dump_bytecode(self, bucket: Any) -> None:
        with suppress(OSError):
            super().dump_bytecode(bucket)


def render_article(
    renderer: SiteRenderer, schema: ArticleSchema, max_bytes: int, info: PageInfo, raw: bytes | None
) -> Rendered:
    """Parse one article's bytes and render its page: pure, so any process can run it."""
    outcome = render_page(renderer, schema, max_bytes, info, raw)
    if isinstance(outcome, str):
        return outcome
    data, meta = outcome
    return data.decode("utf-8"), meta


def render_page(
    renderer: SiteRenderer, schema: ArticleSchema, max_bytes: int, info: PageInfo, raw: bytes | None
) -> RenderedBytes:
    """`render_article` with the page as the UTF-8 bytes that are written (page_bytes)."""
    if raw is None:
        return MISSING
    if not SLUG_PATTERN.match(info.slug):
        return f"{info.slug!r} is not a valid slug"
    document = parse_document(info.path, raw, schema, max_bytes)
    if document.article is None:
        first = next((f for f in document.findings if f.severity is Severity.ERROR), None)
        detail = f"line {first.line}: {first.message}" if first else "the front-matter is invalid"
        return f"cannot be read: {detail} (run `reviewflow check` on that version)"
    try:
        data = page_bytes(renderer.article_pieces(info, document.article, document.body))
    except PageProblem as exc:
        return str(exc)
    meta = listing_meta(document.article)
    article = document.article
    meta["card"] = renderer.card_html(info, article.title, article.audience, article.summary)
    meta["search"] = article_terms(article, document.body)
    return data, meta


def page_bytes(pieces: list[str]) -> bytes:
    """A page's pieces encoded to UTF-8 one by one and joined: an ASCII piece is copied as it is,
    so only the few pieces beyond ASCII are encoded a character at a time (as one string, the
    page would be, every character of it)."""
    return b"".join([piece.encode("utf-8") for piece in pieces])


@dataclass(frozen=True)
class Worker:
    """Reads texts and renders pages, in this process or a pool's."""

    renderer: SiteRenderer
    schema: ArticleSchema
    max_bytes: int
    tree: TreeTexts

    def render(self, site: Path, info: PageInfo, raw: bytes | None, fresh: bool = False) -> Written | None:
        """Render INFO's page from RAW (None: from the work tree) and write it into SITE; None
        when RAW is None and the work tree does not hold the page's text. FRESH: SITE had no
        directories when the build began (a full build's), so the page's own is made first."""
        if raw is None:
            raw = self.tree.read(info.path, info.blob, self.max_bytes)
            if raw is None:
                return None
        outcome = render_page(self.renderer, self.schema, self.max_bytes, info, raw)
        if isinstance(outcome, str):
            return outcome
        data, meta = outcome
        terms = terms_text(meta.pop("search"))  # as its record keeps them: here, in parallel
        state = write_file(site, page_path(info.slug), data, new_directory=fresh)
        return content_digest(data), meta, terms, state

    def facts(self, texts: Sequence[tuple[str, str]]) -> tuple[list[tuple[str, Facts | None]], list[str]]:
        """The facts of each (path, blob) of TEXTS the work tree holds; the blobs it does not."""
        read: list[tuple[str, Facts | None]] = []
        absent = []
        for path, blob in texts:
            raw = self.tree.read(path, blob, self.max_bytes)
            if raw is None:
                absent.append(blob)
            else:
                read.append((blob, read_facts(raw, self.max_bytes)))
        return read, absent


class PagePool:
    """COUNT forked workers for one build; forked when made, so make it before any thread starts
    (a fork copies only the thread that forks). Close it (or use it as a context manager)."""

    def __init__(
        self, config: Config, renderer: SiteRenderer, schema: ArticleSchema, toplevel: Path, count: int
    ) -> None:
        init = (config, renderer.base_url, renderer.preview, (schema.schema, schema.source), str(toplevel))
        self.count = count
        self._executor: ProcessPoolExecutor = worker_pool(count, _start_worker, init)
        self._executor.submit(int).result()

    def __enter__(self) -> PagePool:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def facts(
        self, texts: Sequence[tuple[str, str]], stop: Event | None = None
    ) -> tuple[dict[str, Facts | None], list[str]]:
        """The facts of each (path, blob) of TEXTS that the work tree holds, read by the workers;
        and the blobs it does not hold. STOP, once set, ends the reading early."""
        chunks = [texts[start : start + FACTS_CHUNK] for start in range(0, len(texts), FACTS_CHUNK)]
        futures = [self._executor.submit(_facts, chunk) for chunk in chunks]
        found: dict[str, Facts | None] = {}
        absent: list[str] = []
        for future in futures:
            if stop is not None and stop.is_set():
                for left in futures:
                    left.cancel()
                break
            read, missing = future.result()
            found.update(read)
            absent.extend(missing)
        return found, absent

    def new_search_files(
        self, pages: SearchInput, fingerprint: str
    ) -> Future[tuple[dict[str, str], SearchState]]:
        """`new_search_files` in a worker, for PAGES: every page of the build written into the
        search index's input as it came in (a page at a time, not pickled whole: at 100,000 pages
        that is over 100 MB, which this process held as one string of bytes at the top of a full
        build's memory). The input file is deleted once read (or the task failed or was cancelled)."""
        path, count = pages.finished()
        try:
            found = self._executor.submit(_search_files_from, path, count, fingerprint)
        except BaseException:
            _forget(path)
            raise
        found.add_done_callback(lambda _: _forget(path))  # read, failed or cancelled
        return found

    def submit(self, work: Callable[..., R], *args: Any) -> Future[R]:
        """WORK(*ARGS) in a worker (a module-level function, its arguments sent pickled)."""
        return self._executor.submit(work, *args)

    def render(self, site: Path, chunk: list[Job], fresh: bool) -> Future[list[Written | None]]:
        return self._executor.submit(_render, site, chunk, fresh)


_WORKER: Worker | None = None


def _start_worker(
    config: Config, base_url: str | None, preview: bool, schema: tuple[dict[str, Any], str], toplevel: str
) -> None:
    global _WORKER
    renderer = site_renderer(config, base_url, preview)
    # Its directories stay open for the worker's life (a worker ends with its build).
    _WORKER = Worker(renderer, ArticleSchema(*schema), config.checks.max_file_bytes, TreeTexts(toplevel))


def _render(site: Path, chunk: list[Job], fresh: bool) -> list[Written | None]:
    assert _WORKER is not None
    return [_WORKER.render(site, info, raw, fresh) for info, raw in chunk]


def _facts(texts: Sequence[tuple[str, str]]) -> tuple[list[tuple[str, Facts | None]], list[str]]:
    assert _WORKER is not None
    return _WORKER.facts(texts)


def new_search_files(
    pages: Sequence[tuple[str, Mapping[str, Any], str]], fingerprint: str
) -> tuple[dict[str, str], SearchState]:
    """`updated_search_files` with no last build to patch: the index built anew (in any process)."""
    return updated_search_files(pages, fingerprint, None, _nothing_kept)


class SearchInput:
    """The search index's input for a worker (`PagePool.new_search_files`): a temporary file of
    what the index needs of each page of a build, a line a page, written as each page comes in
    from the workers (in any order: each line says where its page is in the index), so that the
    index is made as soon as the last page is in, not after this process has written them all.
    Close it when done (or use it as a context manager): the file is deleted unless a worker
    was given it. Its name holds this process's id: a build killed while its pages were rendered
    leaves it behind, and the next build deletes it (`_forget_killed_inputs`)."""

    def __init__(self, paths: Sequence[str]) -> None:
        """PATHS: every page of the build (its path in the site), in the order the index numbers them."""
        self._numbers = {path: number for number, path in enumerate(paths)}
        self._count = len(paths)
        _forget_killed_inputs(tempfile.gettempdir())
        descriptor, self._path = tempfile.mkstemp(prefix=f"{SEARCH_INPUT}{os.getpid()}-", suffix=".tsv")
        try:
            # Open while the pages come in, a line written as each does.
            self._file: TextIO | None = open(descriptor, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        except BaseException:
            os.close(descriptor)
            _forget(self._path)
            raise
        self._given = False

    def __enter__(self) -> SearchInput:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __len__(self) -> int:
        """How many pages the index is to hold."""
        return self._count

    def add(self, relative: str, record: PageRecord) -> None:
        """The page at RELATIVE (one of the build's paths), as its record says: its listing and terms."""
        assert self._file is not None
        # JSON holds no raw tab or newline, nor does a page's path; ASCII, so that even a lone
        # surrogate in a listing is written (escaped) and read back.
        fields = json.dumps({key: record.meta[key] for key in DOC_FIELDS if key in record.meta})
        self._file.write(f"{self._numbers[relative]}\t{relative}\t{fields}\t{record.terms}\n")

    def finished(self) -> tuple[str, int]:
        """The file's path, written whole, and how many pages it is to hold; a worker reads it
        and deletes it."""
        assert self._file is not None
        self._file.close()
        self._file = None
        self._numbers = {}  # ~16 MB at 100,000 pages, not held while the site-wide files are made
        self._given = True
        return self._path, self._count

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if not self._given:
            _forget(self._path)


SEARCH_INPUT = "reviewflow-search-"  # a search input's name: this, the process id, "-", random, ".tsv"
_KILLED_INPUT = re.compile(re.escape(SEARCH_INPUT) + r"(?P<pid>[0-9]{1,10})-[^/]*\.tsv")


def _forget_killed_inputs(directory: str) -> None:
    """Delete the search inputs in DIRECTORY of this user's builds whose process is gone."""
    mine = os.getuid() if hasattr(os, "getuid") else None  # elsewhere, no owners to tell apart
    try:
        entries = [e for e in os.scandir(directory) if e.name.startswith(SEARCH_INPUT)]
    except OSError:
        return
    for entry in entries:
        found = _KILLED_INPUT.fullmatch(entry.name)
        with suppress(OSError):
            if (
                found
                and (mine is None or entry.stat(follow_symlinks=False).st_uid == mine)
                and not running(int(found["pid"]))
            ):
                os.unlink(entry.path)


def _search_files_from(path: str, count: int, fingerprint: str) -> tuple[dict[str, str], SearchState]:
    """`new_search_files` for the COUNT pages written at PATH by a `SearchInput`, each put where
    its line says it is in the index."""
    pages: list[tuple[str, Mapping[str, Any], str] | None] = [None] * count
    with open(path, encoding="utf-8", newline="\n") as file:
        for line in file:
            number, relative, fields, terms = line[:-1].split("\t")
            pages[int(number)] = (relative, json.loads(fields), terms)
    found = [page for page in pages if page is not None]
    if len(found) != count:
        raise ValueError(f"the search index's input holds {len(found)} of the build's {count} pages")
    return new_search_files(found, fingerprint)


def _forget(path: str) -> None:
    with suppress(OSError):
        os.unlink(path)


def _nothing_kept(path: str, digest: str) -> str | None:
    return None
