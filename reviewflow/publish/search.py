"""The site's full-text search: a small prebuilt index the search page's script reads, no server.

Each article's words are counted once, where its page is rendered (`article_terms`, kept with the
page's record, so a build that reuses a page reuses its words too). `updated_search_files`
joins them into an inverted index written as JSON files under search/:

    search/index.json        the manifest: how many articles, which shards and doc chunks exist
    search/terms/<key>.json  {term: [article, weight, article, weight, ...]} for the terms whose
                             longest shard key is <key> (a prefix of the term)
    search/docs/<n>.json     [[page, title, summary, audience], ...] for articles n*DOC_CHUNK ...

A query fetches the manifest, the shard of each of its terms and the doc chunks of the results it
shows: a few small files, whatever the size of the site. Shards are keyed by term prefix and a
prefix that holds too much is split by one more letter (`shard_keys`), so each stays small and a
word being typed ("myel") finds its completions ("myeloma") in the shards under its prefix.

Normalising is the same here and in search.js: Unicode NFKD without its marks (so
"Waldenstrom" finds "Waldenström"), lower case, runs of letters and digits, a few stop words
dropped, and a light plural stem ("biopsies" -> "biopsy", "nerves" -> "nerve").
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import orjson

from reviewflow.content.article import Article
from reviewflow.publish.site import AUDIENCES

INDEX_VERSION = 1
SHARD_BYTES = 48_000  # a shard about this size or smaller (estimated), unless one term alone is larger
DOC_CHUNK = 200  # articles per doc chunk
SUMMARY_CHARS = 240  # of each article's summary shown with a result
MAX_WEIGHT = 255
# Where a word occurs says how much an article is about it.
WEIGHTS = {"title": 10, "condition": 6, "tags": 4, "summary": 3, "heading": 3, "body": 1}

# Short, common words that would match every article. The same list is in search.js.
STOP_WORDS = frozenset(
    "a an and are as at be but by can do for from has have if in into is it its may no not of on or "
    "our so than that the their them then there these they this to was we were what when which who "
    "will with you your".split()
)
_WORD = re.compile(r"[^\W_]+")
# Every ASCII byte that is not a lower-case letter or a digit, made a space (_words).
_ASCII_SPACES = bytes(c if (48 <= c <= 57 or 97 <= c <= 122) else 32 for c in range(256))
_LINK_TARGET = re.compile(r"\]\([^)\s]*\)|<https?://[^>\s]*>")  # a link's address is not its text
# A heading's text, in "\n" + the body. The literal "\n" first lets `re` skip ahead, eight times
# faster than ^ with re.M; the price is that an indented heading (rare) counts as body text.
_HEADING = re.compile(r"\n#{1,6}[ \t]+([^\n]*)")


def normalise(text: str) -> str:
    """TEXT lower case, without accents (NFKD minus its marks, as search.js does: \\p{M})."""
    decomposed = unicodedata.normalize("NFKD", text)
    if not decomposed.isascii():  # look up each distinct character once, not each one in the text
        marks = {ord(c): None for c in set(decomposed) if unicodedata.category(c)[0] == "M"}
        decomposed = decomposed.translate(marks) if marks else decomposed
    return decomposed.lower()


def term(word: str) -> str | None:
    """The index term of one normalised WORD, or None for a word not worth indexing: a stop word,
    a number, a single letter or a run too long to be a word. Plurals get a light stem, enough
    that "nerve" finds "nerves" (the same rules are in search.js)."""
    if len(word) < 2 or len(word) > 40 or word in STOP_WORDS or word.isdigit():
        return None
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def terms(text: str) -> list[str]:
    """The index terms of TEXT, in order (a query is split the same way)."""
    return [t for t in map(term, _WORD.findall(normalise(text))) if t is not None]


def article_terms(article: Article, body: str) -> dict[str, int]:
    """Each term of one article (BODY: its Markdown) with its weight: how often it occurs, counted
    more in its title, condition, tags, summary and headings than in the body. Plain JSON, kept
    with the page's record. The body's words are counted in C (a Counter); each distinct word is
    judged once per process (_TERMS)."""
    if "](" in body or "<http" in body:
        body = _LINK_TARGET.sub("]", body)
    headings = "\n".join(_HEADING.findall("\n" + body)) if "#" in body else ""
    weighted = (
        (article.title, WEIGHTS["title"]), (article.condition, WEIGHTS["condition"]),
        (" ".join(article.tags), WEIGHTS["tags"]), (article.summary, WEIGHTS["summary"]),
        (headings, WEIGHTS["heading"] - WEIGHTS["body"]),  # a heading is in the body text too
    )  # fmt: skip
    # The few words of the weighted parts each added with its weight, then the body's counted
    # on top in C: the same counts, in the same order (each word where it first occurs), as
    # counting every part's words repeated as often as the part weighs.
    first: dict[str | bytes, int] = {}
    for text, weight in weighted:
        for word in _words(normalise(text)):
            first[word] = first.get(word, 0) + weight
    counted = Counter(first)
    counted.update(_words(normalise(body)))
    if len(_TERMS) > 200_000:  # a bound on memory in a process that renders a huge site
        _TERMS.clear()
    weights: dict[str, int] = {}
    for word, count in counted.items():
        term_of = _TERMS.get(word, _UNSEEN)
        if term_of is _UNSEEN:
            term_of = _TERMS[word] = term(word if isinstance(word, str) else word.decode("ascii"))
        if term_of is not None:
            weights[term_of] = weights.get(term_of, 0) + count
    if weights and max(weights.values()) > MAX_WEIGHT:  # rare: most pages' words weigh far less
        return {term_of: min(weight, MAX_WEIGHT) for term_of, weight in weights.items()}
    return weights


_TERMS: dict[str | bytes, str | None] = {}  # word (str, or ASCII bytes) -> its term, as term() says
_UNSEEN = ""


def _words(text: str) -> list[str] | list[bytes]:
    """The words of normalised TEXT; ASCII text's split by bytes.translate (several times faster)."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_SPACES).split()
    return _WORD.findall(text)


def shard_keys(sizes: Mapping[str, int], limit: int = SHARD_BYTES) -> dict[str, str]:
    """The shard key of each term: a prefix of it, one letter longer wherever the terms under a
    prefix would make a shard larger than LIMIT bytes. A term's key is the longest key that is a
    prefix of it, so search.js can find it from the manifest's list of keys."""
    keys: dict[str, str] = {}
    pending: list[tuple[str, list[str]]] = []
    by_first: dict[str, list[str]] = {}
    for term in sorted(sizes):
        by_first.setdefault(term[0], []).append(term)
    pending.extend(by_first.items())
    while pending:
        prefix, members = pending.pop()
        if sum(sizes[t] for t in members) <= limit or all(len(t) <= len(prefix) for t in members):
            keys.update((t, prefix) for t in members)
            continue
        longer: dict[str, list[str]] = {}
        for term in members:
            if len(term) <= len(prefix):
                keys[term] = prefix  # the prefix itself is a term: it keeps the shard of that name
            else:
                longer.setdefault(term[: len(prefix) + 1], []).append(term)
        pending.extend(longer.items())
    return keys


def _built(pages: Iterable[Mapping[str, int]]) -> tuple[dict[str, str], dict[str, int]]:
    """The shard files for the terms of PAGES (in the order the index numbers them), and how many
    articles each term is in. PAGES may be made one at a time: each page's terms are let go once
    they are in the postings."""
    postings = _postings(pages)
    counts = {term: len(entry) // 2 for term, entry in postings.items()}
    shards = _shards(postings, _keys(counts))
    return {_shard_file(key): _shard_json(shard) for key, shard in shards.items()}, counts


def _postings(pages: Iterable[Mapping[str, int]]) -> dict[str, list[int]]:
    """term -> [article, weight, article, weight, ...] in article order, for the terms of PAGES."""
    postings: dict[str, list[int]] = {}
    for number, found in enumerate(pages):
        for term, weight in found.items():
            entry = postings.get(term)
            if entry is None:
                postings[term] = [number, weight]
            else:
                entry += (number, weight)
    return postings


def _keys(counts: Mapping[str, int]) -> dict[str, str]:
    """Each term's shard key, for terms in COUNTS articles each: about 8 bytes per posting pair
    and the term's own length (a size estimate, not a count)."""
    return shard_keys({term: len(term) + 4 + 8 * count for term, count in counts.items()})


def _shards(postings: Mapping[str, list[int]], keys: Mapping[str, str]) -> dict[str, dict[str, list[int]]]:
    shards: dict[str, dict[str, list[int]]] = {}
    for term in sorted(postings):
        shards.setdefault(keys[term], {})[term] = postings[term]
    return shards


DOC_FIELDS = ("summary", "audience", "title")  # what `_doc` reads of a page's listing


def _doc(path: str, meta: Mapping[str, Any]) -> list[str]:
    summary = str(meta.get("summary", ""))
    if len(summary) > SUMMARY_CHARS:
        summary = summary[:SUMMARY_CHARS].rsplit(" ", 1)[0] + "…"
    audience = AUDIENCES.get(str(meta.get("audience")), ("", ""))[0]
    return [path, str(meta.get("title", "")), summary, audience]


def _doc_files(docs: Sequence[list[str]], shard_names: list[str]) -> dict[str, str]:
    """The doc chunks and the manifest."""
    chunks = [docs[start : start + DOC_CHUNK] for start in range(0, len(docs), DOC_CHUNK)]
    files = {f"search/docs/{n}.json": _json(chunk) for n, chunk in enumerate(chunks)}
    manifest: dict[str, Any] = {"version": INDEX_VERSION, "articles": len(docs), "docChunk": DOC_CHUNK}
    manifest["shards"] = shard_names
    files["search/index.json"] = _json(manifest)
    return files


_SHARDS = "search/terms/"  # where the shard files are, under the site


def _shard_file(key: str) -> str:
    return f"{_SHARDS}{_file_name(key)}.json"


def _shard_key(path: str) -> str:
    """The key of the shard file at PATH (`_shard_file`'s inverse)."""
    return bytes.fromhex(path[len(_SHARDS) : -len(".json")]).decode()


def _file_name(key: str) -> str:
    """A shard's file name: its key's UTF-8 bytes in hex, safe on any file system and in a URL
    (search.js names them the same way)."""
    return key.encode("utf-8").hex()


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _shard_json(shard: Mapping[str, list[int]]) -> str:
    """A shard as `_json` writes it, by orjson: a shard is mostly numbers (~800,000 in all at
    10,000 bench articles), which orjson writes ~18 times as fast as `json`. Its keys are terms, letters and
    digits, written as they are by both and sorted by code point by both (orjson by their UTF-8
    bytes, which sort the same)."""
    return orjson.dumps(shard, option=orjson.OPT_SORT_KEYS).decode("utf-8")


# --- the index brought up to date --------------------------------------------------------------
#
# A rebuild changes the words of a few pages at most, and each page's words are kept with its
# record as JSON text (`terms_text`). The index of the last build is then patched, not rebuilt:
# its state (`SearchState`: how many articles each term is in, and the digest of each shard file
# written) says which shard holds each term, and the shards of the terms whose postings changed
# are read back from the live site (only if their bytes match the digest), patched and written
# again; every other shard keeps its bytes. An article added or removed moves the number of
# every article after it: then every shard is read back and renumbered, one at a time (built
# anew in a build after a first approval at 100,000 articles, the index took the build's peak to
# 1,035-1,049 MB). Whatever cannot be patched so (the articles in another order, another build
# fingerprint, a shard file changed or missing) builds the index anew, and either way the files
# are the same as a build anew makes.

SearchState = dict[str, Any]  # {"fingerprint": ..., "counts": {term: articles}, "files": {path: sha256}}


def terms_text(found: Mapping[str, int] | None) -> str:
    """An article's terms as its record keeps them: compact JSON, written by orjson as `json.dumps`
    writes it (a term is letters and digits, never a lone surrogate, which orjson refuses)."""
    return orjson.dumps(found or {}).decode("utf-8")


def updated_search_files(
    pages: Sequence[tuple[str, Mapping[str, Any], str]],
    fingerprint: str,
    last: tuple[dict[str, str], SearchState] | None,
    read_last: Callable[[str, str], str | None],
) -> tuple[dict[str, str], SearchState]:
    """The index's files for PAGES (page path, listing meta, terms text), and its state for the
    next build. LAST: the last build's terms text by page path (in its order) and its state;
    READ_LAST(path, digest): the text of one of its files if its bytes still have that digest."""
    try:
        patched = _patched(pages, fingerprint, last, read_last) if last is not None else None
    except (TypeError, ValueError, KeyError):  # a state of another shape: build the index anew
        patched = None
    # Each page's terms decoded as the postings take them: decoded all at once, 90,000 pages'
    # terms held ~490 MB beside the postings (~100 MB).
    files, counts = patched or _built(_decoded(text) for _, _, text in pages)
    digests = {path: _sha256(text) for path, text in files.items()}
    shard_names = sorted(map(_shard_key, files))
    files.update(_doc_files([_doc(path, meta) for path, meta, _ in pages], shard_names))
    return files, {"fingerprint": fingerprint, "counts": counts, "files": digests}


Changes = dict[str, dict[int, tuple[int | None, int | None]]]  # term -> article -> (weight before, after)


def _patched(
    pages: Sequence[tuple[str, Mapping[str, Any], str]],
    fingerprint: str,
    last: tuple[dict[str, str], SearchState],
    read_last: Callable[[str, str], str | None],
) -> tuple[dict[str, str], dict[str, int]] | None:
    """The shard files and term counts for PAGES, patched from LAST's; None if they cannot be."""
    before, state = last
    counts, digests = state.get("counts"), state.get("files")
    if (
        state.get("fingerprint") != fingerprint
        or not isinstance(counts, dict)
        or not isinstance(digests, dict)
    ):
        return None
    last_number = {path: number for number, path in enumerate(before)}
    numbers = _renumbered(last_number, [path for path, _, _ in pages])
    if numbers is None:
        return None  # the articles in another order
    edited, added = _changes(pages, before, last_number, numbers)
    updated = dict(counts)
    for changes in (edited, added):
        for term, articles in changes.items():
            updated[term] = updated.get(term, 0) + sum(
                (n is not None) - (o is not None) for o, n in articles.values()
            )
            if updated[term] == 0:
                del updated[term]
    old_keys, new_keys = _keys(counts), _keys(updated)
    renumber = numbers if any(old != new for old, new in numbers.items()) else None
    if renumber is not None:  # every shard may hold a moved number
        touched = {*old_keys.values(), *new_keys.values()}
    else:
        moved = [t for t in old_keys.keys() | new_keys.keys() if old_keys.get(t) != new_keys.get(t)]
        changed = [*edited, *added, *moved]
        touched = {keys[t] for t in changed for keys in (old_keys, new_keys) if t in keys}
    files = _rewritten(touched, old_keys, new_keys, (edited, renumber, added), updated, digests, read_last)
    if files is None:
        return None
    for key in set(new_keys.values()) - touched:  # every other shard as the last build wrote it
        path = _shard_file(key)
        text = read_last(path, str(digests.get(path)))
        if text is None:
            return None
        files[path] = text
    return files, updated


def _renumbered(last_number: Mapping[str, int], paths: Sequence[str]) -> dict[int, int] | None:
    """Each kept article's number in the last build (LAST_NUMBER, by path) -> in this one (the
    articles of PATHS the last build had, in the same order); None if their order changed."""
    numbers: dict[int, int] = {}
    previous = -1
    for number, path in enumerate(paths):
        old = last_number.get(path)
        if old is not None:
            if old < previous:
                return None
            numbers[old] = number
            previous = old
    return numbers


def _changes(
    pages: Sequence[tuple[str, Mapping[str, Any], str]],
    before: Mapping[str, str],
    last_number: Mapping[str, int],
    kept: Mapping[int, int],
) -> tuple[Changes, Changes]:
    """The weights that changed since the last build, by term and article number: those of
    articles edited or removed numbered as the last build numbered them (LAST_NUMBER; KEPT holds
    the numbers of those still here), those of articles added as this build does."""
    edited: Changes = {}
    added: Changes = {}
    for number, (path, _, text) in enumerate(pages):
        old_number = last_number.get(path)
        if old_number is None:
            for term, weight in _decoded(text).items():
                added.setdefault(term, {})[number] = (None, weight)
        elif text != before[path]:
            _compare(edited, old_number, _decoded(before[path]), _decoded(text))
    for path, old_number in last_number.items():
        if old_number not in kept:  # removed
            _compare(edited, old_number, _decoded(before[path]), {})
    return edited, added


def _compare(changes: Changes, number: int, old: Mapping[str, int], new: Mapping[str, int]) -> None:
    for term in old.keys() | new.keys():
        if old.get(term) != new.get(term):
            changes.setdefault(term, {})[number] = (old.get(term), new.get(term))


def _rewritten(
    touched: set[str],
    old_keys: Mapping[str, str],
    new_keys: Mapping[str, str],
    moves: tuple[Changes, Mapping[int, int] | None, Changes],
    counts: Mapping[str, int],
    digests: Mapping[str, Any],
    read_last: Callable[[str, str], str | None],
) -> dict[str, str] | None:
    """The shards of TOUCHED (under NEW_KEYS), from the last build's shards with MOVES applied:
    the weights changed in the last build's numbers, the numbers moved (None: none moved), the
    articles added in this build's numbers. Each of the last build's shards is read once, and let
    go once the last shard that takes a term from it is written."""
    edited, renumber, added = moves
    members: dict[str, list[str]] = {}
    for term, key in new_keys.items():
        if key in touched:
            members.setdefault(key, []).append(term)
    order = sorted(members)
    last_use = {old_keys[t]: at for at, key in enumerate(order) for t in members[key] if t in old_keys}
    done_after: dict[int, list[str]] = {}  # the last build's shards no later shard takes from
    for old_key, at in last_use.items():
        done_after.setdefault(at, []).append(old_key)
    last: dict[str, Any] = {}
    files = {}
    for at, key in enumerate(order):
        shard = {}
        for term in sorted(members[key]):
            entry: list[int] = []
            if term in old_keys:
                found = _last_shard(old_keys[term], last, digests, read_last).get(term)
                if not isinstance(found, list):
                    return None
                entry = list(found)
            if term in edited and not _patch(entry, edited[term]):
                return None
            if renumber is not None and entry:
                try:
                    entry[0::2] = [renumber[number] for number in entry[0::2]]
                except (KeyError, TypeError):  # a number no article of this build had
                    return None
            if term in added and not _patch(entry, added[term]):
                return None
            if len(entry) != 2 * counts[term]:
                return None  # the state and the shard disagree: build the index anew
            shard[term] = entry
        files[_shard_file(key)] = _shard_json(shard)
        for old_key in done_after.get(at, ()):
            last.pop(old_key, None)
    return files


def _last_shard(
    key: str, last: dict[str, Any], digests: Mapping[str, Any], read_last: Callable[[str, str], str | None]
) -> dict[str, Any]:
    """The last build's shard KEY, read once (empty if it cannot be read)."""
    if key not in last:
        path = _shard_file(key)
        text = read_last(path, str(digests.get(path)))
        try:
            last[key] = json.loads(text) if text is not None else {}
        except ValueError:
            last[key] = {}
        if not isinstance(last[key], dict):
            last[key] = {}
    found: dict[str, Any] = last[key]
    return found


def _patch(entry: list[int], articles: Mapping[int, tuple[int | None, int | None]]) -> bool:
    """Apply one term's changes to its postings ENTRY (in article order); False if ENTRY does not
    hold what the last build's terms say it held."""
    numbers = entry[0::2]
    for number in sorted(articles, reverse=True):  # from the end: earlier positions stay put
        old, new = articles[number]
        at = bisect.bisect_left(numbers, number)
        present = at < len(numbers) and numbers[at] == number
        if present != (old is not None) or (present and entry[2 * at + 1] != old):
            return False
        if new is None:
            del entry[2 * at : 2 * at + 2]
        elif present:
            entry[2 * at + 1] = new
        else:
            entry[2 * at : 2 * at] = [number, new]
    return True


def _decoded(text: str) -> dict[str, int]:
    """An article's terms from their text (`terms_text`, which orjson wrote), by orjson: the
    same dict as `json.loads` makes, a third of the time."""
    try:
        found = orjson.loads(text) if text else {}
    except ValueError:  # orjson's JSONDecodeError is one
        return {}
    return found if isinstance(found, dict) else {}


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
