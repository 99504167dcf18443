"""The site-wide parts of the published site, read from the files a build writes: the search
index, the search page, the header and its menu, the preview bar, the 404 page under a sub-path,
page titles, and builds that are byte-identical wherever and however often they run."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import escape

from reviewflow.configfile import load_config
from reviewflow.publish import search
from reviewflow.publish.build import publish
from reviewflow.publish.search import article_terms, shard_keys, terms, updated_search_files
from reviewflow.publish.site import TITLE_CHARS, page_title
from reviewflow.review.actions import act
from reviewflow.review.model import Action
from tests.browser.html import Element, parse, read
from tests.conftest import as_author, git, make_content_repo, write

BASE = "https://example.org/health/"
CSP = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">')
BUILT_AT = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)  # what the "review due" notices are judged against
RITA = ("Dr. Rita Reviewer", "rita@board.example")


def article(title: str, body: str, *, audience: str = "patient", condition: str = "POEMS syndrome") -> str:
    return f"""---
title: "{title}"
summary: "What {title.lower()} means for you."
audience: {audience}
condition: {condition}
tags: [neuropathy]
authors:
  - {{name: "Alice Author", email: "alice@authors.example", competing_interests: "none"}}
disclaimer: {audience}
references:
  - id: 1
    type: review
    title: "Update on the POEMS syndrome"
    source: "Blood Research"
    year: 2022
    doi: "10.5045/br.2022.2022001"
---

{body}"""


@pytest.fixture
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Three articles: two approved (one about Waldenström's disease), one whose changes were requested."""
    repo = make_content_repo(tmp_path / "content")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_DATE", "2025-04-01T10:00:00Z")
    git(repo, "rm", "-q", "articles/what-is-poems-syndrome.md")
    write(
        repo / "articles/nerves.md", article("Nerve damage", "## Tingling feet\n\nNerves heal slowly [1].\n")
    )
    write(
        repo / "articles/waldenstrom.md",
        article("Waldenström macroglobulinemia", "Bone marrow biopsies show it [1].\n", condition="WM"),
    )
    write(repo / "articles/pending.md", article("Pending plasma tests", "Not yet reviewed [1].\n"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Write three articles")
    config = load_config(repo)
    for slug in ("nerves", "waldenstrom", "pending"):
        act(repo, config, Action.SUBMIT, slug)
    as_author(monkeypatch, *RITA)
    for slug in ("nerves", "waldenstrom"):
        act(repo, config, Action.REVIEW, slug)
        act(repo, config, Action.APPROVE, slug)
    act(repo, config, Action.REVIEW, "pending")
    act(repo, config, Action.REQUEST_CHANGES, "pending", message="Cite the trial")
    return repo


def build(repo: Path, out: str, **options: object) -> Path:
    return publish(repo, repo.parent / out, **options).out  # type: ignore[arg-type]


def tree(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def shard_of(site: Path, term: str) -> dict[str, list[int]]:
    """The shard that holds TERM, found as search.js finds it: the longest key that prefixes it."""
    keys = json.loads((site / "search/index.json").read_text())["shards"]
    prefixes = [k for k in keys if term.startswith(k)]
    if not prefixes:
        return {}  # no term of the site starts as this one does
    key = max(prefixes, key=len)
    shard: dict[str, list[int]] = json.loads((site / f"search/terms/{key.encode().hex()}.json").read_text())
    return shard


def found(site: Path, term: str) -> list[str]:
    """The pages whose articles hold TERM, as the index says."""
    postings = shard_of(site, term).get(term, [])
    docs = json.loads((site / "search/docs/0.json").read_text())
    return sorted(docs[n][0] for n in postings[::2])


# --- the search index -----------------------------------------------------------------------


def test_terms_are_lower_case_without_accents_stop_words_or_plurals() -> None:
    assert terms("The Waldenström biopsies of nerves, 2024: IgM & a CIDP-like") == [
        "waldenstrom", "biopsy", "nerve", "igm", "cidp", "like",
    ]  # fmt: skip
    assert terms("is was the 12 x") == []


def test_a_word_in_the_title_weighs_more_than_the_same_word_in_the_body() -> None:
    from tests.test_publish_site import article as make_article

    weights = article_terms(
        make_article(title="Marrow care"), "## Tests\n\nMarrow and blood tests. Blood again.\n"
    )
    assert weights["marrow"] > weights["blood"] > weights.get("again", 0) > 0
    assert weights["test"] == 3 + 1  # once in a heading, once in the body's text
    assert "example" not in article_terms(make_article(), "A [link](https://example.org/page).\n")


def test_a_terms_weight_stops_at_the_most_an_index_entry_holds() -> None:
    from tests.test_publish_site import article as make_article

    made, body = make_article(title="Nerve " * 30), "Blood " * 300 + "marrow nerve\n"
    weights = article_terms(made, body)
    assert (weights["nerve"], weights["blood"], weights["marrow"]) == (255, 255, 1)
    expected = reference_weights(made.title, made.summary, list(made.tags), made.condition, body)
    assert list(weights.items()) == list(expected.items())  # in the order first met


def reference_weights(title: str, summary: str, tags: list[str], condition: str, body: str) -> dict[str, int]:
    """article_terms as its docstring says it, slowly: each part's terms (as a query splits
    them) counted and weighed in turn, in the order first met."""
    body = re.sub(r"\]\([^)\s]*\)|<https?://[^>\s]*>", "]", body)
    headings = "\n".join(re.findall(r"\n#{1,6}[ \t]+([^\n]*)", "\n" + body))
    weights: dict[str, int] = {}
    parts = ((title, 10), (condition, 6), (" ".join(tags), 4), (summary, 3), (headings, 2), (body, 1))
    for text, weight in parts:
        for found in terms(text):
            weights[found] = weights.get(found, 0) + weight
    return {found: min(weight, 255) for found, weight in weights.items()}


WORDY = st.lists(
    st.sampled_from(["nerve", "nerves", "Waldenström", "IgM", "the", "biopsies", "x", "12", " ", "\n"])
).map("".join)


@given(title=WORDY, summary=WORDY, tag=WORDY, body=st.lists(st.sampled_from(
    ["Blood tests", " nerves ", "\n## Nerve care\n", "[link](https://x.org/nerve)", "ÅSA", "\n# Heading", " ś "]
)))  # fmt: skip
def test_each_terms_weight_is_its_count_in_each_part_times_the_parts_weight(
    title: str, summary: str, tag: str, body: list[str]
) -> None:
    from tests.test_publish_site import article as make_article

    tags = [tag] if tag.strip() else []
    made = make_article(title=title or "T", summary=summary or "S", tags=tags, condition="Nerve care")
    text = "".join(body)
    found = article_terms(made, text)
    expected = reference_weights(made.title, made.summary, list(made.tags), made.condition, text)
    assert list(found.items()) == list(expected.items())  # the same weights, in the same order
    assert search.terms_text(found) == json.dumps(expected, ensure_ascii=False, separators=(",", ":"))


def test_shards_split_by_one_more_letter_where_a_prefix_holds_too_much() -> None:
    sizes = {"cat": 10, "cable": 10, "car": 10, "ca": 10, "dog": 5}
    keys = shard_keys(sizes, limit=25)
    assert keys == {"ca": "ca", "cable": "cab", "car": "car", "cat": "cat", "dog": "d"}
    everything = shard_keys(sizes, limit=1000)
    assert set(everything.values()) == {"c", "d"}
    for term, key in keys.items():  # the longest key that prefixes a term is its own
        assert max((k for k in set(keys.values()) if term.startswith(k)), key=len) == key


def test_the_index_lists_each_published_article_under_its_words(library: Path) -> None:
    site = build(library, "site", base_url=BASE)
    manifest = json.loads((site / "search/index.json").read_text())
    assert manifest["articles"] == 2
    assert found(site, "waldenstrom") == ["articles/waldenstrom/index.html"]
    assert found(site, "nerve") == ["articles/nerves/index.html"]
    assert found(site, "plasma") == []  # the article waiting for changes is not on the public site
    assert found(site, "neuropathy") == ["articles/nerves/index.html", "articles/waldenstrom/index.html"]
    docs = json.loads((site / "search/docs/0.json").read_text())
    assert ["articles/nerves/index.html", "Nerve damage", "What nerve damage means for you.",
            "Patients and caregivers"] in docs  # fmt: skip
    preview = build(library, "preview", preview=True)
    assert found(preview, "plasma") == ["articles/pending/index.html"]


def test_a_rebuild_indexes_kept_pages_from_their_records_and_the_changed_one_anew(library: Path) -> None:
    first = publish(library, library.parent / "site", base_url=BASE, preview=True)
    assert first.rendered == 3
    text = (library / "articles/pending.md").read_text().replace("Not yet reviewed", "Zebrafish studies")
    write(library / "articles/pending.md", text)
    git(library, "commit", "-q", "-am", "Edit the pending article")
    second = publish(library, library.parent / "site", base_url=BASE, preview=True)
    assert second.rendered == 1  # the other two pages, and their words, come from the cache
    site = second.out
    assert found(site, "zebrafish") == ["articles/pending/index.html"]
    assert found(site, "waldenstrom") == ["articles/waldenstrom/index.html"]
    assert found(site, "reviewed") == []


@pytest.mark.interpreted
def test_an_index_patched_from_the_last_build_is_the_index_built_anew(
    library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Words added, reweighed and dropped, shards split by it, an article added and removed, a
    shard edited in the served site: after each, the site built from the last one is the one built
    from nothing."""
    split = search.shard_keys
    monkeypatch.setattr(search, "shard_keys", lambda sizes: split(sizes, 40))  # tiny shards: they split
    built_anew = []
    postings = search._postings
    monkeypatch.setattr(search, "_postings", lambda pages: built_anew.append(1) or postings(pages))
    site = build(library, "site", base_url=BASE, preview=True, now=BUILT_AT)
    pending = library / "articles/pending.md"
    edits = [
        ("Not yet reviewed [1].", "Zebrafish nerves, zebrafish tests and more zebrafish [1]."),
        ("Zebrafish nerves,", "Nerves"),  # a word reweighed, another gone
        ("more zebrafish", " ".join(f"zeta{n}" for n in range(30))),  # the z shard splits
    ]
    for old, new in edits:
        write(pending, pending.read_text().replace(old, new))
        git(library, "commit", "-q", "-am", "Edit the pending article")
        built_anew.clear()
        assert publish(library, site, base_url=BASE, preview=True, now=BUILT_AT).rendered == 1
        assert not built_anew  # patched
        assert tree(site) == tree(
            build(library, "anew", base_url=BASE, preview=True, now=BUILT_AT, use_cache=False)
        )
    assert found(site, "zeta7") == ["articles/pending/index.html"]
    # An article added among the others, then removed: every later number moves, still patched.
    middle = library / "articles/middle.md"
    for change in ("add", "remove"):
        if change == "add":
            write(middle, article("Middle article", "Zebrafish in the middle [1].\n"))
        else:
            middle.unlink()
        git(library, "add", "-A")
        git(library, "commit", "-q", "-m", f"{change} an article")
        built_anew.clear()
        build(library, "site", base_url=BASE, preview=True, now=BUILT_AT)
        assert not built_anew  # patched
        assert tree(site) == tree(
            build(library, "anew", base_url=BASE, preview=True, now=BUILT_AT, use_cache=False)
        )
    shard = next((site / "search/terms").iterdir())
    shard.write_text(shard.read_text().replace("1", "2"))  # in the served site: never patched from
    write(library / "articles/added.md", article("Added article", "Zebrafish again [1].\n"))
    git(library, "add", "-A")
    git(library, "commit", "-q", "-m", "Add an article")
    for _ in range(2):
        build(library, "site", base_url=BASE, preview=True, now=BUILT_AT)
        assert tree(site) == tree(
            build(library, "anew", base_url=BASE, preview=True, now=BUILT_AT, use_cache=False)
        )


_WORDS = ["amyloid", "biopsy", "edema", "fatigue", "myeloma", "nerve", "pain", "skin", "zebra"]


def _page(name: str, words: dict[str, int]) -> tuple[str, dict[str, str], str]:
    return (
        f"articles/{name}/index.html",
        {"title": name, "summary": "S", "audience": "patient"},
        json.dumps(words),
    )


@given(
    st.lists(
        st.dictionaries(st.sampled_from(_WORDS), st.integers(1, 9), max_size=5), min_size=1, max_size=12
    ),
    st.lists(st.tuples(st.sampled_from(["add", "remove", "edit"]), st.integers(0, 40), st.integers(0, 40))),
)
def test_an_index_patched_for_articles_added_removed_or_edited_is_the_index_built_anew(
    words: list[dict[str, int]], steps: list[tuple[str, int, int]]
) -> None:
    """An article added or removed moves every later article's number: the last build's shards
    are renumbered, not the index built anew, and the files are the ones a build anew makes."""
    pages = {f"p{n:02d}": found for n, found in enumerate(words)}
    for action, at, other in steps:
        names = sorted(pages)
        if action == "add":
            pages[f"p{at:02d}x"] = dict(words[other % len(words)])
        elif action == "remove" and len(pages) > 1:
            del pages[names[at % len(names)]]
        elif action == "edit":
            pages[names[at % len(names)]] = dict(words[other % len(words)], extra=other % 3 + 1)
    first = [_page(f"p{n:02d}", found) for n, found in enumerate(words)]
    files, state = updated_search_files(first, "a build", None, lambda path, digest: None)
    later = [_page(name, found) for name, found in sorted(pages.items())]
    before = {path: text for path, _, text in first}

    def read_last(path: str, digest: str) -> str | None:
        return files.get(path)

    patched = search._patched(later, "a build", (before, state), read_last)
    anew, anew_state = updated_search_files(later, "a build", None, lambda path, digest: None)
    assert patched is not None  # the same order of the articles kept: always patched
    shards = {path: text for path, text in anew.items() if path.startswith("search/terms/")}
    assert patched == (shards, anew_state["counts"])


def test_a_page_record_without_words_is_listed_but_not_searchable() -> None:
    page = ("articles/a/index.html", {"title": "A", "summary": "S", "audience": "patient"}, "")
    files, _ = updated_search_files([page], "a build", None, lambda path, digest: None)
    assert json.loads(files["search/index.json"])["shards"] == []
    assert json.loads(files["search/docs/0.json"]) == [
        ["articles/a/index.html", "A", "S", "Patients and caregivers"]
    ]


class _Counted(dict[str, int]):
    """A page's decoded terms that count how many of their kind are alive."""

    alive = 0
    most = 0

    def __init__(self, terms: dict[str, int]) -> None:
        super().__init__(terms)
        _Counted.alive += 1
        _Counted.most = max(_Counted.most, _Counted.alive)

    def __del__(self) -> None:
        _Counted.alive -= 1


@pytest.mark.interpreted
def test_an_index_built_anew_holds_a_pages_decoded_terms_only_while_it_is_taken_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Decoded all at once, 90,000 pages' terms held ~490 MB at the top of a build after a code
    # change; the files must be the same either way.
    pages = [
        (
            f"articles/{n}/index.html",
            {"title": f"T{n}"},
            json.dumps({f"word{n % 7}": 2, f"term{n}": 1, "shared": 3}),
        )
        for n in range(50)
    ]
    expected, _ = updated_search_files(pages, "a build", None, lambda path, digest: None)
    decoded = search._decoded
    monkeypatch.setattr(search, "_decoded", lambda text: _Counted(decoded(text)))
    files, state = updated_search_files(pages, "a build", None, lambda path, digest: None)
    assert _Counted.most <= 2 and _Counted.alive == 0  # the one taken in and the one before it
    assert files == expected and state["counts"]["shared"] == 50


# --- the search page and the scripts ----------------------------------------------------------


def test_only_the_search_page_runs_a_script_and_only_its_own(library: Path) -> None:
    site = build(library, "site", base_url=BASE)
    for page in sorted(site.rglob("*.html")):
        html = page.read_text()
        policy = CSP.search(html)
        assert policy, page
        if page == site / "search/index.html":
            assert "script-src 'self'; connect-src 'self'" in policy[1] and "'unsafe-inline'" not in policy[1]
            assert re.findall(r"<script[^>]*>", html) == ['<script src="../search.js" defer>']
        else:
            assert "script-src" not in policy[1] and "form-action 'none'" in policy[1], page
            assert "<script" not in html.replace('<script type="application/ld+json">', ""), page
    assert "innerHTML" not in (site / "search.js").read_text()  # results are text, never markup


def test_the_search_page_says_what_to_do_without_javascript(library: Path) -> None:
    page = read(build(library, "site", base_url=BASE) / "search/index.html")
    message = page.find("noscript")
    assert "Search needs JavaScript" in message.words
    assert message.find("a").attrs["href"] == "../index.html"
    form = page.find("form", role="search")
    assert "hidden" in form.attrs  # shown by the script, which alone can use it
    assert page.find("label", for_="search-query").words == "Words to look for"


# --- the header, the menu, the preview ------------------------------------------------------------


def nav_links(page: Element) -> list[str]:
    return [a.words for a in page.find("nav", aria_label="Site").find_all("a")]


def test_every_page_has_the_menu_with_search_in_it(library: Path) -> None:
    site = build(library, "site", base_url=BASE)
    for name in (
        "index.html",
        "articles/nerves/index.html",
        "board/index.html",
        "search/index.html",
        "404.html",
    ):
        page = read(site / name)
        menu = page.find("nav", aria_label="Site").find("details")
        assert menu.find("summary").words == "Menu", name
        assert nav_links(page)[-1] == "Search", name
    assert read(site / "search/index.html").find("a", aria_current="page").words == "Search"


def test_the_preview_bar_is_in_the_header_and_states_are_words(library: Path) -> None:
    site = build(library, "preview", preview=True)
    index = read(site / "index.html")
    header = index.find("header")
    assert "Preview for reviewers." in header.with_class("preview-bar")[0].words
    badges = [b.words for b in index.with_class("pending")]
    assert badges == ["Pending medical review: Changes requested"]
    html = (site / "index.html").read_text() + (site / "articles/pending/index.html").read_text()
    assert "changes-requested" not in html and "under-review" not in html
    assert read(build(library, "public").joinpath("index.html")).with_class("preview-bar") == []


# --- the 404 page, titles, determinism ----------------------------------------------------------


def test_the_404_page_links_to_the_site_under_its_sub_path(library: Path) -> None:
    page = read(build(library, "site", base_url=BASE) / "404.html")
    assert page.find("link", rel="stylesheet").attrs["href"] == "/health/style.css"
    links = [a.attrs["href"] for a in page.find_all("a") if not a.attrs["href"].startswith(("#", "mailto:"))]
    assert links and all(link.startswith("/health/") for link in links), links
    assert "/health/search/index.html" in links


def test_page_titles_fit_in_seventy_characters() -> None:
    assert page_title("Nerve damage", "Health library") == "Nerve damage · Health library"
    long = "Treatment of POEMS syndrome by the extent of the disease at diagnosis"
    assert page_title(long, "Health library") == long  # the site's name gives way first
    cut = page_title(long + " and afterwards, in adults and children", "Health library")
    assert len(cut) <= TITLE_CHARS and cut.endswith("…") and not cut.endswith(" …")
    hostile = page_title("Tests & <results> of 'the' \"blood\" " * 3, "Health library")
    assert len(escape(hostile)) <= TITLE_CHARS and hostile.startswith("Tests & <results>")


def test_two_builds_of_one_commit_are_byte_identical_wherever_they_run(library: Path, tmp_path: Path) -> None:
    clone = tmp_path / "elsewhere" / "clone"
    git(tmp_path, "clone", "-q", str(library), str(clone))
    for options in ({"base_url": BASE, "now": BUILT_AT}, {"preview": True, "now": BUILT_AT}):
        first = tree(build(library, f"one-{'preview' in options}", use_cache=False, **options))
        second = tree(build(clone, "two", workers=2, **options))
        assert first == second, sorted(
            k for k in first.keys() | second.keys() if first.get(k) != second.get(k)
        )
        assert {"search/index.json", "search.js", "search/index.html"} <= first.keys()
        assert tree(build(clone, "two", **options)) == second  # again, from its cache
        parse(first["index.html"].decode())  # and it is a page
