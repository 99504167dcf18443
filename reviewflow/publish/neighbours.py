"""The other published articles a page links to: its counterpart for the other audience (the
"Which best describes you?" switch) and related articles on the same condition.

They are part of what a page shows, so part of its key, so they are known before any page is
rendered: from a few front-matter fields of every page's text (`Facts`), which the last build
kept by blob id (`BuildCache.facts`) or, for texts it never saw, read from git in one pass
(front-matter only). Related articles are chosen per condition from one sorted list, without
comparing every pair of pages: each page lists the next few articles after its own title (same
audience first), wrapping round, so every article is listed on as many pages as it lists, and a
change to one article changes the lists of a few pages only.
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

from reviewflow.content.facts import AUDIENCE_NAMES, Facts, read_facts
from reviewflow.gitstore import GitStore
from reviewflow.publish.pages import Neighbour, PageInfo

if TYPE_CHECKING:
    from reviewflow.publish.pool import PagePool
    from reviewflow.publish.records import BuildCache

RELATED_MAX = 5  # related articles listed on a page


TEXTS_HELD = 192 * 2**20  # bytes of texts held for their pages' rendering; more are read again
# Of the texts read ahead (read_ahead): enough for a build after a few changes, which then reads
# no text twice. Not more: they are read in a thread, so they live in another of the C
# allocator's arenas, whose freed memory the main thread's later work does not reuse; the pages
# of a full build read their texts again, as their rendering goes (one more `cat-file`).
TEXTS_AHEAD = 4 * 2**20
# The kept facts are written again only when more than this many were read from git or are no
# longer used: a build after one change reads the changed text anyway (to render it), and a few
# more in the same `cat-file` cost less than writing the facts of every page again.
FACTS_UNKEPT = 32


class FactsRead(NamedTuple):
    """What `read_ahead` found: the facts the last build kept, by blob id; the facts of the texts
    at HEAD it did not keep (None where a text's front-matter does not give them), read from git;
    the first of those texts, up to TEXTS_AHEAD bytes; and the blob ids of every text at HEAD."""

    known: dict[str, Facts]
    read: dict[str, Facts | None]
    texts: dict[str, bytes]
    at_head: frozenset[str] = frozenset()


def read_ahead(
    store: GitStore,
    cache: BuildCache | None,
    max_bytes: int,
    stop: threading.Event | None = None,
    pool: PagePool | None = None,
) -> FactsRead:
    """The facts of every text at HEAD, before anyone asks which texts the pages show: build.py
    runs this while the review history is judged, so that git's reading of the texts (and their
    parsing, as the history's reading waits on git in turn) overlaps that work. The pages show
    the approved texts, mostly HEAD's; `gather_facts` reads any other. STOP, once set, ends the
    reading early (the build failed). POOL: workers that read the texts the work tree holds (and
    parse them, off this process's interpreter lock); git is asked for the rest."""
    known = cache.facts() if cache is not None else {}
    listing, _ = store.article_listing()
    unknown = [blob for _, blob in listing.values() if blob not in known]
    read: dict[str, Facts | None] = {}
    if pool is not None:
        texts_at_head = [(store.prefix + path, blob) for path, blob in listing.values() if blob not in known]
        read, unknown = pool.facts(texts_at_head, stop)
    texts: dict[str, bytes] = {}
    room = TEXTS_AHEAD
    for blob, raw in store.iter_blobs(unknown):
        if stop is not None and stop.is_set():
            break
        read[blob] = read_facts(raw, max_bytes)
        if len(raw) <= room:
            texts[blob] = raw
            room -= len(raw)
    return FactsRead(known, read, texts, frozenset(blob for _, blob in listing.values()))


def gather_facts(
    store: GitStore,
    infos: Sequence[PageInfo],
    known: Mapping[str, Facts],
    max_bytes: int,
    texts: dict[str, bytes] | None = None,
    ahead: Mapping[str, Facts | None] | None = None,
) -> dict[str, Facts]:
    """The facts of every page's text, by blob id: KNOWN ones, those read AHEAD, the rest read
    from git. The texts read go into TEXTS, up to TEXTS_HELD bytes: a text read for its facts is
    usually rendered next (its page is new), and git is not asked for it twice."""
    ahead = ahead or {}
    facts = {info.blob: known[info.blob] for info in infos if info.blob in known}
    missing = []
    for info in infos:
        if info.blob in facts:
            continue
        if info.blob in ahead:
            found = ahead[info.blob]
            if found is not None:
                facts[info.blob] = found
        else:
            missing.append(info.blob)
    room = TEXTS_HELD - sum(map(len, texts.values())) if texts is not None else 0
    for blob, raw in store.iter_blobs(missing):
        found = read_facts(raw, max_bytes)
        if found is not None:
            facts[blob] = found
        if texts is not None and len(raw) <= room:
            texts[blob] = raw
            room -= len(raw)
    return facts


def link_neighbours(
    store: GitStore,
    infos: Sequence[PageInfo],
    cache: BuildCache | None,
    max_bytes: int,
    ahead: FactsRead | None = None,
) -> tuple[list[PageInfo], dict[str, bytes]]:
    """INFOS, each with its counterpart and related articles; the facts read are kept in CACHE.
    And the texts read for them, by blob id, for rendering. AHEAD: what `read_ahead` read."""
    if ahead is None:
        ahead = FactsRead(cache.facts() if cache is not None else {}, {}, {})
    known, texts = ahead.known, ahead.texts
    shown = {info.blob for info in infos}
    for blob in [blob for blob in texts if blob not in shown]:
        del texts[blob]  # read ahead, but no page shows it
    facts = gather_facts(store, infos, known, max_bytes, texts, ahead.read)
    # Kept too: the facts of the texts at HEAD that no page shows (a draft, an edit not yet
    # approved), which read_ahead would otherwise read from git and parse again at every build
    # (~1,000 texts at 10,000 articles, ~10,000 at 100,000).
    kept = {**_at_head(ahead), **facts}
    read = sum(1 for blob in kept if blob not in known)
    unused = len(known) - (len(kept) - read)
    if cache is not None and kept != known and (not known or max(read, unused) > FACTS_UNKEPT):
        cache.keep_facts(kept)
    return with_neighbours(infos, facts), texts


def _at_head(ahead: FactsRead) -> dict[str, Facts]:
    """The facts of every text at HEAD that the last build kept or `read_ahead` read."""
    found = {blob: ahead.known[blob] for blob in ahead.at_head if blob in ahead.known}
    found.update((blob, facts) for blob, facts in ahead.read.items() if facts is not None)
    return found


def with_neighbours(infos: Sequence[PageInfo], facts: Mapping[str, Facts]) -> list[PageInfo]:
    """INFOS with their neighbours among the published (approved) pages, from FACTS by blob."""
    published = {info.slug: facts[info.blob] for info in infos if info.approved and info.blob in facts}
    shelves = _shelves(published)
    pairs = counterparts(infos, facts, published)
    nodes = {slug: Neighbour(slug, found.title, found.audience) for slug, found in published.items()}
    # Per condition, not per page: how many it has, and its shelves as slugs alone.
    counts = {group: sum(map(len, by_audience.values())) for group, by_audience in shelves.items()}
    no_shelves: dict[str, Shelf] = {}
    linked = []
    for info in infos:
        mine = facts.get(info.blob)
        if mine is None:
            linked.append(info)
            continue
        group = mine.group
        pair = pairs.get(info.slug)
        counterpart = nodes[pair] if pair else None
        related = _related(info.slug, mine, shelves.get(group, no_shelves), nodes, pair)
        others = counts.get(group, 0) - (1 if info.slug in published else 0)
        linked.append(info.linked(counterpart, related, others > len(related) + (1 if counterpart else 0)))
    return linked


def counterparts(
    infos: Sequence[PageInfo], facts: Mapping[str, Facts], published: Mapping[str, Facts]
) -> dict[str, str]:
    """slug -> the published article for the other audience it pairs with: the one it declares
    (`counterpart:`) when that is published, on the same condition and for the other audience;
    else one that declares it (a published page's declaration is enough for both pages)."""
    declared: dict[str, str] = {}
    for info in infos:
        mine = facts.get(info.blob)
        if mine is None or mine.counterpart is None or mine.counterpart == info.slug:
            continue
        other = published.get(mine.counterpart)
        if other is not None and other.audience != mine.audience and other.group == mine.group:
            declared[info.slug] = mine.counterpart
    pairs = dict(declared)
    for slug, declared_slug in sorted(declared.items()):
        if slug in published:
            pairs.setdefault(declared_slug, slug)
    return pairs


Shelf = list[tuple[str, str]]  # (sort key, slug) of one condition's articles for one audience


def _shelves(published: Mapping[str, Facts]) -> dict[str, dict[str, Shelf]]:
    """condition -> audience -> its published articles in title order: grouped once for all pages."""
    shelves: dict[str, dict[str, Shelf]] = defaultdict(lambda: defaultdict(list))
    for slug, facts in published.items():
        shelves[facts.group][facts.audience].append((_order(facts.title, slug), slug))
    for by_audience in shelves.values():
        for shelf in by_audience.values():
            shelf.sort()
    return shelves


def _order(title: str, slug: str) -> str:
    return f"{title.casefold()}\0{slug}"


def _related(
    slug: str, mine: Facts, shelves: Mapping[str, Shelf], nodes: Mapping[str, Neighbour], pair: str | None
) -> tuple[Neighbour, ...]:
    """Up to RELATED_MAX articles on the condition: those after this one's title, wrapping
    round, for its own audience first; never itself or its counterpart (the switch links it)."""
    chosen: list[Neighbour] = []
    key = (_order(mine.title, slug), slug)
    for audience in _AUDIENCE_ORDER.get(mine.audience) or (mine.audience, *AUDIENCE_NAMES):
        shelf = shelves.get(audience)
        if not shelf:
            continue
        size = len(shelf)
        start = bisect.bisect_right(shelf, key)
        for step in range(start, start + size):
            candidate = shelf[step - size if step >= size else step][1]
            if candidate != slug and candidate != pair:
                chosen.append(nodes[candidate])
                if len(chosen) == RELATED_MAX:
                    return tuple(chosen)
    return tuple(chosen)


# Each audience's own shelf first, then the others in AUDIENCE_NAMES's order.
_AUDIENCE_ORDER = {a: (a, *(b for b in AUDIENCE_NAMES if b != a)) for a in AUDIENCE_NAMES}
