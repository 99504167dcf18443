"""What the next build may reuse: a record of each page a build wrote, kept signed in the cache.

A record (`PageRecord`) says which page a file is (the hash of all that went into it) and what
its bytes are; `BuildCache` keeps the records of each --out's live site, its spare and the pages
it rendered in .reviewflow-cache/publish/, where the spare sites wait too (output.py moves them),
with the front-matter facts of each text that pages link to one another by (neighbours.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from reviewflow.cache import (
    CACHE_DIR,
    cache_dir,
    seal,
    sealed_lines,
    unseal,
    write_sealed,
)
from reviewflow.content.facts import Facts
from reviewflow.files import open_own, own_directory, read_own, write_replacing

RECORD_VERSION = 3  # the layout of a site record; a record of another layout is ignored
FACTS_VERSION = 1  # the layout of the kept front-matter facts
# A file changed within this many seconds of being looked at may keep the same times (file
# systems keep coarse clocks): such a file is checked by its bytes next time, not its times.
RACY_SECONDS = 2

FileState = tuple[int, int, int, int]  # inode, size, mtime and ctime (ns) of a file


class PageRecord(NamedTuple):
    """One article page of a built site, as the next build sees it."""

    key: str  # the hash of everything that went into the page (render.Build.key)
    digest: str  # the hash of its bytes (content_digest)
    state: FileState | None  # its file when last seen provably unchanged; None: check the bytes
    meta: dict[str, Any]  # its listing (site.listing_meta and card), for the index, sitemap and feed
    # Its search terms ({term: weight}) as JSON text: kept and compared as text, and decoded only
    # where they changed (search.py), since ten thousand pages hold half a million of them.
    terms: str = ""
    text: str = ""  # META as JSON text, when read from a record: written again as it was


SiteRecord = dict[str, PageRecord]  # relative path of an article page -> its record


class LiveSite(NamedTuple):
    """What the last build of an --out left: its pages' search terms as text, in the order the
    search index numbers them, and what its search index was (search.py's SearchState)."""

    terms: dict[str, str]  # relative path of an article page -> its record's terms
    search: dict[str, Any]


def content_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_state(path: Path | str) -> FileState | None:
    """The state of a regular file (never followed through a symbolic link), or None."""
    try:
        found = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(found.st_mode):
        return None
    return state_of(found)


def state_of(found: os.stat_result) -> FileState:
    """What tells a file changed: its inode, size, and modification and change times."""
    return found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns


def settled(state: FileState | None, now_ns: int, clock_ns: int | None = None) -> FileState | None:
    """STATE, if its times are old enough that any later change would show in them: older than
    RACY_SECONDS by the system's clock, or older than CLOCK_NS, the file system's own clock
    (BuildCache.clock) read before STATE was taken. A change after that reading is stamped at
    or after it, whatever the file system's resolution, so never with STATE's times again.

    Or read after STATE was taken by the process that wrote the file, from its descriptor, once
    written (output.put_file): a change in between is stamped later than the write as well,
    unless within the same tick of the file system's clock, and while the file is in a build's
    own directory (mode 0700, see output.Staging); a state looked up later, by the path, would
    take in any change made since the write, with the bytes unread."""
    if state is None:
        return None
    changed = max(state[2], state[3])
    if now_ns - changed >= RACY_SECONDS * 1_000_000_000 or (clock_ns is not None and changed < clock_ns):
        return state
    return None


class BuildCache:
    """.reviewflow-cache/publish/ in the content repo: spare sites, records and facts for the next build.

    Plain JSON files (loading JSON cannot run code), each written whole and then renamed into
    place, and each signed with a key kept in the user's cache directory: a file that arrived
    some other way (committed to the repository by someone, say) is never believed, since a
    planted record and a planted spare site could otherwise publish text nobody approved. The
    directory ignores itself through a .gitignore in .reviewflow-cache/. A cache that cannot be
    read or written only makes builds slower: every failure is ignored.

    Nothing in it is followed: a .reviewflow-cache/ that is not reviewflow's to use (committed
    to git, a link; see cache.cache_dir) is no cache at all, and within one, every directory is
    used only if it is a real one of this user's and every file is read and written without
    following a link (files.own_directory, read_own, write_replacing).
    """

    def __init__(self, root: Path, fingerprint: str | None = None) -> None:
        top = cache_dir(root)
        self.usable = top is not None
        self.directory = (top or root / CACHE_DIR) / "publish"
        # This build's fingerprint (render.Build.fingerprint), which every page's key holds: a
        # record of a build of another one has no page this build could reuse, and is not read.
        self.fingerprint = fingerprint
        # The live record's terms, when a build read it whole (live_site) before it asks for
        # them (live_terms): at 100,000 pages that record is over 100 MB, not read twice.
        self._live_terms: dict[str, LiveSite | None] = {}

    @property
    def trash(self) -> Path | None:
        """Where unwanted directories wait to be deleted (empty_trash), off the build's path;
        None without a usable cache (then nothing is deleted but what this build replaced)."""
        return self.directory / "replaced" if self.prepare() else None

    def spare(self, target: Path) -> Path:
        """Where the site that TARGET held before its last build is kept."""
        return self.directory / f"spare-{_name(target)}"

    def live_site(self, target: Path) -> SiteRecord:
        """The record of TARGET's live site (empty when unknown)."""
        found = self._site(f"live-{_name(target)}.json", target)
        search = found[0].get("search") if found is not None else None
        site, rows = found[1:] if found is not None else ({}, 0)
        if isinstance(search, dict) and len(site) == rows:  # as live_terms would find them
            self._live_terms[str(target)] = LiveSite({path: r.terms for path, r in site.items()}, search)
        return site

    def of_this_build(self, target: Path) -> bool:
        """Whether TARGET's live site is recorded, by a build of this fingerprint (as far as its
        header says: see _of_another_build). If not, nearly every page of this build is rendered."""
        try:
            with open(open_own(self.directory / f"live-{_name(target)}.json"), "rb") as file:
                file.readline()  # the seal, which only a reader of the whole record can check
                header = json.loads(file.readline())
        except (OSError, ValueError):
            return False
        return self._fits(header, target)

    def rendered_last(self, target: Path) -> SiteRecord:
        """The records of the pages TARGET's last build rendered: all that its spare lacks."""
        found = self._site(f"rendered-{_name(target)}.json", target)
        if found is not None and found[0].get(EVERY_PAGE) is True and not found[2]:
            return self.live_site(target)  # it rendered every page of the live site
        return found[1] if found is not None else {}

    def live_terms(self, target: Path, current: Mapping[str, PageRecord] | None = None) -> LiveSite | None:
        """The search terms and search index of TARGET's live site as its last build recorded them.
        A page whose record has the key of its page in CURRENT (this build's records) has the same
        terms, and so has one whose terms read as CURRENT's: CURRENT's text is taken for them, not
        a copy of it (at 100,000 pages the terms are over 100 MB, and a build held them twice)."""
        if str(target) in self._live_terms:
            return self._live_terms.pop(str(target))
        current = current or {}
        terms = {}
        rows = 0

        def take(line: str) -> None:
            nonlocal rows
            if line.count("\t") != len(RECORD_FIELDS) - 1:
                return
            rows += 1
            # The first two fields and the last alone: the others (the listing above all) stay unsplit.
            path_end = line.index("\t")
            path, key = line[:path_end], line[path_end + 1 : line.index("\t", path_end + 1)]
            same = current.get(path)
            if same is not None and same.key == key:
                terms[path] = same.terms
            else:  # another page, but after a change of code or config most have the same words
                text = line[line.rindex("\t") + 1 :]
                terms[path] = same.terms if same is not None and same.terms == text else text

        header = self._read_site(f"live-{_name(target)}.json", target, take)
        search = header.get("search") if header is not None else None
        return LiveSite(terms, search) if isinstance(search, dict) and len(terms) == rows else None

    def keep_sites(
        self,
        target: Path,
        live: SiteRecord,
        rendered: set[str],
        spare_was_live: bool,
        search: dict[str, Any] | None = None,
    ) -> None:
        """Record TARGET's new live site (with SEARCH, its search index) and which of its pages were
        RENDERED; the spare is now what was live, or there is none. Both records name the build's
        fingerprint, for the next build to know them of another before it reads them."""
        name = _name(target)
        if not self.prepare():
            return
        try:
            if spare_was_live:
                os.replace(self.directory / f"live-{name}.json", self.directory / f"spare-{name}.json")
            else:
                (self.directory / f"spare-{name}.json").unlink(missing_ok=True)
        except OSError:
            pass
        built_by = {"fingerprint": self.fingerprint} if self.fingerprint is not None else {}
        header: dict[str, Any] = {"version": RECORD_VERSION, "target": str(target), **built_by}
        if search is not None:
            header["search"] = search
        self._write_site(f"live-{name}.json", header, live)
        header = {"version": RECORD_VERSION, "target": str(target), **built_by}
        if rendered.issuperset(live):  # a full build: the live record again, twice the size and time
            header[EVERY_PAGE] = True
            self._write_site(f"rendered-{name}.json", header, {})
        else:
            self._write_site(f"rendered-{name}.json", header, {p: live[p] for p in rendered if p in live})

    def _write_site(self, name: str, header: dict[str, Any], records: SiteRecord) -> None:
        """The record, written line by line as each is made and sealed as it goes: at 100,000
        pages its lines are over 100 MB, which a build held whole (and then one more line,
        the seal, before them) at its peak. Not written if a field cannot be kept in it."""
        with contextlib.suppress(OSError, ValueError):
            write_sealed(self.directory / name, _record_lines(header, records))

    def clock(self, target: Path) -> int | None:
        """The time now by the clock of TARGET's file system: the ctime of a file made now in the
        cache, when that is on the same file system (None otherwise). A page copied a moment
        before is then known to be settled (see `settled`) without waiting RACY_SECONDS, which
        the next build would spend reading and hashing every page of a spare copied in one go."""
        if not self.prepare():
            return None
        try:
            write_replacing(self.directory / "clock", b"")
            made = os.lstat(self.directory / "clock")
            return made.st_ctime_ns if made.st_dev == os.lstat(target).st_dev else None
        except OSError:
            return None

    def facts(self) -> dict[str, Facts]:
        """The front-matter facts the last build read, by blob id (neighbours.py)."""
        data = self._read("facts.json")
        if not isinstance(data, dict) or data.get("version") != FACTS_VERSION:
            return {}
        found: dict[str, Facts] = {}
        entries = data.get("facts")
        for blob, entry in entries.items() if isinstance(entries, dict) else ():
            if isinstance(entry, list) and len(entry) == 4 and all(isinstance(v, str) for v in entry[:3]):
                counterpart = entry[3] if isinstance(entry[3], str) else None
                found[blob] = Facts(entry[0], entry[1], entry[2], counterpart)
        return found

    def has_facts(self) -> bool:
        """Whether the last build kept facts (`facts` may still find them unusable)."""
        return self.usable and os.path.isfile(self.directory / "facts.json")

    def keep_facts(self, facts: dict[str, Facts]) -> None:
        self._write("facts.json", {"version": FACTS_VERSION, "facts": {b: list(f) for b, f in facts.items()}})

    def prepare(self) -> bool:
        """Create the directory (cache_dir made the .gitignore that hides it from git); False
        when there is no usable one."""
        if not self.usable:
            return False
        if own_directory(self.directory, create=False):
            return True
        if os.path.lexists(self.directory) or not own_directory(self.directory):
            return False  # something else in its place: never written through
        with contextlib.suppress(OSError):  # the tag only asks backup tools to skip the directory
            write_replacing(
                self.directory.parent / "CACHEDIR.TAG",
                b"Signature: 8a477f597d28d172789f06886806bc55\n# reviewflow's build cache.\n",
            )
        return True

    def spare_site(self, target: Path) -> SiteRecord:
        """The record of TARGET's spare site (empty when unknown)."""
        found = self._site(f"spare-{_name(target)}.json", target)
        return found[1] if found is not None else {}

    def _site(self, name: str, target: Path) -> tuple[dict[str, Any], SiteRecord, int] | None:
        """The header of the site record NAME for TARGET, its pages' records and how many lines
        were a page's; None if the record is unusable (see _read_site)."""
        rows: list[list[str]] = []

        def take(line: str) -> None:
            row = line.split("\t")
            if len(row) == len(RECORD_FIELDS):
                rows.append(row)

        header = self._read_site(name, target, take)
        return (header, _records(rows), len(rows)) if header is not None else None

    def _read_site(self, name: str, target: Path, take: Callable[[str], None]) -> dict[str, Any] | None:
        """Give TAKE each page line of the site record NAME (decoded, without its newline) and
        return its header, once the record is known to be this user's, whole, of this layout
        and for TARGET; None if it is not (or cannot be read), and then what TAKE made of the
        lines must be thrown away. Read a line at a time, never whole: at 100,000 pages a record
        is over 100 MB, and its bytes, its text and its lines were each as much again at the top
        of a build's memory."""
        if not self.usable:
            return None
        try:
            with open(open_own(self.directory / name), "rb") as file:
                lines = sealed_lines(file)
                header = json.loads(next(lines, b""))
                if not self._fits(header, target):
                    return None
                for line in lines:
                    text = line[:-1] if line.endswith(b"\n") else line
                    if text:
                        take(text.decode("utf-8"))
        except (OSError, ValueError):  # unreadable, not sealed by this user, not JSON, not UTF-8
            return None
        return header

    def _fits(self, header: Any, target: Path) -> bool:
        """Whether HEADER is a site record's of this layout, for TARGET, and not of another build."""
        return (
            isinstance(header, dict)
            and header.get("version") == RECORD_VERSION
            and header.get("target") == str(target)
            and not self._of_another_build(header)
        )

    def _of_another_build(self, header: dict[str, Any]) -> bool:
        """Whether a record's HEADER names a build fingerprint other than this build's: then no
        page's key in it can be this build's (after a change of code or configuration, every
        one), and its lines, over 100 MB at 100,000 pages, are not read. Known before the seal
        is checked, and believed only so far: a false header can only have pages rendered. A
        record written before headers named it has its search index's (a live site's)."""
        if self.fingerprint is None:
            return False
        search = header.get("search")
        built_by = header.get("fingerprint", search.get("fingerprint") if isinstance(search, dict) else None)
        return isinstance(built_by, str) and built_by != self.fingerprint

    def _unsealed(self, name: str) -> bytes | None:
        if not self.usable:
            return None
        try:
            return unseal(read_own(self.directory / name))
        except OSError:
            return None

    def _read(self, name: str) -> Any:
        text = self._unsealed(name)
        try:
            return json.loads(text) if text is not None else None
        except ValueError:
            return None

    def _write(self, name: str, data: Any) -> None:
        sealed = seal(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        if sealed is None or not self.prepare():
            return
        with contextlib.suppress(OSError):
            write_replacing(self.directory / name, sealed)


def _name(text: Path | str) -> str:
    return hashlib.sha256(str(text).encode()).hexdigest()[:16]


# A site record is a header line (JSON) and a line per page of these fields, split by tabs: none
# of them can hold a tab or a newline (hex digits, numbers, a checked path, compact JSON), and so
# a page's listing is decoded with all the others in one call and its terms are never decoded.
RECORD_FIELDS = ("path", "key", "digest", "state", "meta", "terms")
# In the header of the record of the pages a build rendered: it rendered every page of the live
# site (a full build), whose record is not written twice.
EVERY_PAGE = "every_page"


def _record_lines(header: dict[str, Any], records: SiteRecord) -> Iterator[bytes]:
    """HEADER and RECORDS as the lines of a site record, encoded, one at a time; ValueError
    if a field could not be kept in it."""
    first = _dumps(header)
    if "\t" in first or "\n" in first:
        raise ValueError("a record's header holds a tab or a newline")
    yield f"{first}\n".encode()
    tabs = len(RECORD_FIELDS) - 1
    for path, record in records.items():
        state = ",".join(map(str, record.state)) if record.state is not None else "-"
        meta = record.text or _dumps(record.meta)
        line = "\t".join((path, record.key, record.digest, state, meta, record.terms))
        if line.count("\t") != tabs or "\n" in line:
            raise ValueError("a page's record holds a tab or a newline")
        yield f"{line}\n".encode()


def _records(rows: list[list[str]]) -> SiteRecord:
    """The records in a signed file. Their values are compared, never trusted to have a shape:
    a record that does not match is a page rendered again (see build.reuse_pages)."""
    try:
        metas = json.loads("[" + ",".join(row[4] for row in rows) + "]")
    except ValueError:
        return {}
    if not isinstance(metas, list) or len(metas) != len(rows):
        return {}
    records: SiteRecord = {}
    for (path, key, digest, state, text, terms), meta in zip(rows, metas, strict=False):
        records[path] = PageRecord(key, digest, _state(state), meta, terms, text)
    return records


def _state(text: str) -> FileState | None:
    parts = text.split(",")
    if len(parts) != 4 or not text.replace(",", "").isdigit():  # digits and three commas, no sign or space
        return None
    try:
        ino, size, mtime, ctime = map(int, parts)
    except ValueError:  # an empty part, or a digit int() does not read ("²")
        return None
    return ino, size, mtime, ctime


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
