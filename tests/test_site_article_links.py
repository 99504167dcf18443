"""Links between article pages (issue 13): the audience switch to a declared counterpart, and
related articles on the same condition; published articles only, in a deterministic order,
known before any page is rendered (so an incremental build renders the pages they change)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reviewflow.content.facts import Facts, read_facts
from reviewflow.gitstore import GitStore
from reviewflow.publish import neighbours
from reviewflow.publish.neighbours import RELATED_MAX, with_neighbours
from reviewflow.publish.pages import Neighbour, PageInfo
from reviewflow.publish.records import BuildCache
from tests.browser.html import Element, read
from tests.conftest import PROJECT, article_text, git, write
from tests.test_publish import Library, tree


def info(slug: str, approved: bool = True) -> PageInfo:
    return PageInfo(slug, f"articles/{slug}.md", slug, "approved" if approved else "draft", approved)


def facts(
    title: str, audience: str = "patient", condition: str = "POEMS syndrome", pair: str | None = None
) -> Facts:
    return Facts(title, audience, condition, pair)


def linked(pages: dict[str, tuple[Facts, bool]]) -> dict[str, PageInfo]:
    infos = [info(slug, approved) for slug, (_, approved) in pages.items()]
    return {i.slug: i for i in with_neighbours(infos, {slug: f for slug, (f, _) in pages.items()})}


# --- pure: which pages link where ---------------------------------------------------------------


def test_a_declared_counterpart_links_both_pages() -> None:
    pages = linked({
        "cure": (facts("Can it be cured?", pair="cure-pro"), True),
        "cure-pro": (facts("Treatment outcomes", "professional"), True),
    })  # fmt: skip
    assert pages["cure"].counterpart == Neighbour("cure-pro", "Treatment outcomes", "professional")
    assert pages["cure-pro"].counterpart == Neighbour("cure", "Can it be cured?", "patient")
    assert pages["cure"].related == () and not pages["cure"].more_on_condition  # the switch links it


@pytest.mark.parametrize(
    ("target", "why"),
    [
        (("Same audience", "patient", "POEMS syndrome", True), "not the other audience"),
        (("Other condition", "professional", "Amyloidosis", True), "another condition"),
        (("Not yet approved", "professional", "POEMS syndrome", False), "not published"),
    ],
)
def test_a_counterpart_that_does_not_fit_is_not_linked(target: tuple[str, str, str, bool], why: str) -> None:
    title, audience, condition, approved = target
    pages = linked({
        "cure": (facts("Can it be cured?", pair="other"), True),
        "other": (facts(title, audience, condition), approved),
    })  # fmt: skip
    assert pages["cure"].counterpart is None, why
    assert pages["other"].counterpart is None, why
    assert linked({"cure": (facts("Can it be cured?", pair="cure"), True)})["cure"].counterpart is None
    assert linked({"cure": (facts("Can it be cured?", pair="gone"), True)})["cure"].counterpart is None


def test_related_articles_are_the_next_titles_on_the_condition_own_audience_first() -> None:
    pages: dict[str, tuple[Facts, bool]] = {f"p{n}": (facts(f"Patient topic {n}"), True) for n in range(1, 8)}
    pages["clinician"] = (facts("Clinician topic", "professional"), True)
    pages["draft"] = (facts("Patient topic 0 (draft)"), False)
    pages["other"] = (facts("Another condition", condition="Amyloidosis"), True)
    result = linked(pages)
    assert [n.slug for n in result["p6"].related] == ["p7", "p1", "p2", "p3", "p4"]  # wraps round
    assert len(result["p1"].related) == RELATED_MAX
    # The draft links to published articles, and is never linked itself.
    assert [n.slug for n in result["draft"].related] == ["p1", "p2", "p3", "p4", "p5"]
    assert all("draft" not in [n.slug for n in p.related] for p in result.values())
    assert result["other"].related == ()
    # Each patient page is listed on exactly RELATED_MAX others: no page hogs the links.
    listed = [n.slug for slug, p in result.items() if slug.startswith("p") and p.approved for n in p.related]
    assert {listed.count(f"p{n}") for n in range(1, 8)} == {RELATED_MAX}
    small = linked(
        {"a": (facts("A"), True), "b": (facts("B"), True), "c": (facts("C", "professional"), True)}
    )
    assert [(n.slug, n.audience) for n in small["a"].related] == [("b", "patient"), ("c", "professional")]


def test_conditions_match_whatever_their_case() -> None:
    pages = linked({"a": (facts("A"), True), "b": (facts("B", condition="poems SYNDROME"), True)})
    assert [n.slug for n in pages["a"].related] == ["b"]


def test_facts_come_from_the_front_matter_only() -> None:
    text = article_text(extra="counterpart: cure-pro\n", title="A: title").encode()
    assert read_facts(text, 100_000) == Facts("A: title", "patient", "POEMS syndrome", "cure-pro")
    assert read_facts(b"no front-matter", 100_000) is None
    spaced = article_text().replace("condition: POEMS syndrome", "condition: POEMS   syndrome").encode()
    assert read_facts(spaced, 100_000).condition == "POEMS syndrome"  # type: ignore[union-attr]
    bad_slug = article_text(extra="counterpart: ../x\n").encode()
    assert read_facts(bad_slug, 100_000) is not None and read_facts(bad_slug, 100_000).counterpart is None  # type: ignore[union-attr]


# --- on a real repository ------------------------------------------------------------------------


@pytest.fixture
def library(content_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Library:
    lib = Library(content_repo, monkeypatch)
    git(content_repo, "rm", "-q", "articles/what-is-poems-syndrome.md")
    git(content_repo, "commit", "-q", "-m", "Start empty")
    lib.write("cure", article_text("Text [1].\n", title="Can it be cured?", extra="counterpart: cure-pro\n"),
              "2025-01-10T08:00:00Z")  # fmt: skip
    lib.write("cure-pro", article_text("Text [1].\n", title="Treatment outcomes", audience="professional"),
              "2025-01-10T08:00:00Z")  # fmt: skip
    lib.write("outlook", article_text("Text [1].\n", title="What is the outlook?"), "2025-01-10T08:00:00Z")
    lib.write("unapproved", article_text("Text [1].\n", title="Not yet"), "2025-01-10T08:00:00Z")
    for slug in ("cure", "cure-pro", "outlook"):
        lib.approve(slug, "2025-02-01")
    return lib


def article_page(site: Path, slug: str) -> Element:
    return read(site / "articles" / slug / "index.html")


def test_published_pages_link_their_counterpart_and_related_articles(library: Library) -> None:
    site = library.publish().out
    cure = article_page(site, "cure")
    switch = cure.with_class("switch")[0]
    assert switch.find("h2").words == "Which best describes you?"
    assert switch.find("span", aria_current="page").words == "I am a patient, family member or caregiver"
    link = switch.find("a")
    assert link.attrs["href"] == "../cure-pro/index.html" and link.words.startswith(
        "I am a healthcare professional"
    )
    assert (site / "articles/cure-pro/index.html").is_file()
    back = article_page(site, "cure-pro").with_class("switch")[0].find("a")
    assert back.attrs["href"] == "../cure/index.html"
    related = cure.with_class("related")[0]
    assert [a.attrs["href"] for a in related.find("ul").find_all("a")] == ["../outlook/index.html"]
    outlook = article_page(site, "outlook")
    assert outlook.with_class("switch") == []  # no counterpart declared either way
    items = outlook.with_class("related")[0].find("ul").find_all("li")
    assert [li.words for li in items] == [
        "Can it be cured?",
        "Treatment outcomes (for healthcare professionals)",
    ]
    assert "Not yet" not in outlook.words  # never linked before it is approved


@pytest.mark.parametrize("unkept", [0, 32])
def test_a_newly_approved_article_joins_its_neighbours_pages_in_an_incremental_build(
    library: Library, monkeypatch: pytest.MonkeyPatch, unkept: int
) -> None:
    """The facts read from git are kept for the next build when more than FACTS_UNKEPT were read;
    fewer are read again with the next build's changed text. The links are the same either way."""
    monkeypatch.setattr(neighbours, "FACTS_UNKEPT", unkept)
    first = library.publish()
    assert first.rendered == 3
    library.write("living", article_text("Text [1].\n", title="Living with it"), "2025-03-01T08:00:00Z")
    library.approve("living", "2025-03-02")
    second = library.publish()
    outlook = article_page(second.out, "outlook").with_class("related")[0]
    assert "Living with it" in outlook.words
    # cure-pro lists patient articles too, and so changes as well: every page on the condition.
    assert second.rendered == 4
    facts_kept = BuildCache(library.repo).facts()
    # The unapproved text at HEAD ("Not yet") too: see the next test.
    titles = {"Can it be cured?", "Treatment outcomes", "What is the outlook?", "Not yet"}
    assert {f.title for f in facts_kept.values()} == (titles | {"Living with it"} if unkept == 0 else titles)
    third = library.publish()
    assert third.rendered == 0  # nothing changed: the kept facts give the same links


def test_the_facts_of_a_text_no_page_shows_are_kept_and_not_read_again(library: Library) -> None:
    """A text at HEAD that no page shows (a draft, an edit not yet approved) is read ahead with
    the others for its facts: they are kept too, so that the next build reads from git only the
    texts that are new (at 100,000 articles, ~10,000 such texts were read again by every build)."""
    library.publish()
    cache = BuildCache(library.repo)
    assert "Not yet" in {f.title for f in cache.facts().values()}
    ahead = neighbours.read_ahead(GitStore.open(library.repo), cache, 1 << 20)
    assert ahead.read == {}  # every text at HEAD is known
    library.write("unapproved", article_text("Text [1].\n", title="Not yet, again"), "2025-03-01T08:00:00Z")
    again = neighbours.read_ahead(GitStore.open(library.repo), cache, 1 << 20)
    assert [f.title for f in again.read.values() if f] == ["Not yet, again"]  # the new text alone


def test_a_build_without_the_cache_links_the_same(library: Library) -> None:
    cached = library.publish("a")
    fresh = library.publish("b", use_cache=False)
    for slug in ("cure", "cure-pro", "outlook"):
        assert (cached.out / f"articles/{slug}/index.html").read_bytes() == (
            fresh.out / f"articles/{slug}/index.html"
        ).read_bytes()


def test_a_retitled_neighbour_changes_its_neighbours_pages_as_a_full_build_would(library: Library) -> None:
    """A title is shown on every page that links to the article: an incremental build after it
    changed writes the same site, byte for byte, as a build without the cache."""
    library.publish()
    library.write("outlook", article_text("Text [1].\n", title="Outlook, retitled"), "2025-03-01T08:00:00Z")
    library.approve("outlook", "2025-03-02")
    incremental = library.publish()
    assert incremental.rendered == 3  # the page itself and the two that list it
    assert "Outlook, retitled" in article_page(incremental.out, "cure").with_class("related")[0].words
    assert tree(incremental.out) == tree(library.publish("fresh", use_cache=False).out)


def test_an_article_published_on_a_busy_condition_renders_only_the_pages_it_changes(library: Library) -> None:
    """Each page lists a few related articles and, where the condition has more, links to the
    index's list of all of them. A newly published article changes the lists of a few pages
    only; the other pages on its condition show the same bytes, so they are kept, not rendered
    again (with the count of the condition's articles in their key, every page on it was)."""
    titles = [f"Question {n:02d}" for n in range(12)]
    for n, title in enumerate(titles):
        library.write(f"question-{n:02d}", article_text("Text [1].\n", title=title), "2025-01-10T08:00:00Z")
        library.approve(f"question-{n:02d}", "2025-02-01")
    before = library.publish()
    library.write("question-new", article_text("Text [1].\n", title="Question 05b"), "2025-03-01T08:00:00Z")
    library.approve("question-new", "2025-03-02")
    incremental = library.publish()
    on_condition = len(titles) + 3  # and cure, cure-pro, outlook
    # The new page, and the pages that list it now (each lists the next RELATED_MAX after its own
    # title, and so it is listed by as many): one in three of the condition's pages here.
    assert 1 < incremental.rendered <= RELATED_MAX + 2 < on_condition
    listing_it = [
        slug for slug in (*(f"question-{n:02d}" for n in range(12)), "cure", "outlook")
        if "Question 05b" in article_page(incremental.out, slug).with_class("related")[0].words
    ]  # fmt: skip
    assert len(listing_it) == RELATED_MAX
    assert "All articles on POEMS syndrome" in article_page(before.out, "question-11").words
    assert tree(incremental.out) == tree(library.publish("fresh", use_cache=False).out)


def test_a_page_links_by_its_approved_text_when_head_holds_another(library: Library) -> None:
    # A neighbour's title comes from its approved text, not from a newer draft at HEAD.
    library.write("outlook", article_text("Text [1].\n", title="A retitled draft"), "2025-03-01T08:00:00Z")
    site = library.publish().out
    related = article_page(site, "cure").with_class("related")[0]
    assert "What is the outlook?" in related.words and "A retitled draft" not in related.words
    assert "A retitled draft" not in article_page(site, "outlook").words


# --- check: counterpart-unknown --------------------------------------------------------------------


def counterpart_findings(run: Any, repo: Path, counterpart: str) -> list[dict[str, Any]]:
    text = article_text("Text [1].\n", extra=f"counterpart: {counterpart}\n")
    write(repo / "articles" / "cure.md", text)
    result = run(repo, "check", "articles/cure.md", "--format", "json")
    assert result.exit_code in (0, 1), result.output
    return [f for f in json.loads(result.output)["findings"] if f["rule"] == "counterpart-unknown"]


@pytest.fixture
def checked_repo(tmp_path: Path, run: Any) -> Path:
    run(tmp_path, "init", "lib")
    repo = tmp_path / "lib"
    write(repo / "articles/cure-pro.md", article_text("Text [1].\n", audience="professional"))
    write(repo / "articles/cure-too.md", article_text("Text [1].\n"))
    other = article_text("Text [1].\n", audience="professional").replace("POEMS syndrome", "Amyloidosis")
    write(repo / "articles/amyloid-pro.md", other)
    return repo


def test_a_counterpart_for_the_other_audience_on_the_condition_passes(checked_repo: Path, run: Any) -> None:
    assert counterpart_findings(run, checked_repo, "cure-pro") == []


@pytest.mark.parametrize(
    ("counterpart", "message"),
    [
        ("missing", "counterpart 'missing': no readable article under articles/ has this slug"),
        ("cure-too", "counterpart 'cure-too' is written for patients too: name the other audience's article"),
        ("amyloid-pro", "counterpart 'amyloid-pro' is about 'Amyloidosis', not 'POEMS syndrome'"),
        ("cure", "counterpart 'cure' is this article itself: name the article for the other audience"),
    ],
)
def test_a_counterpart_that_does_not_fit_is_a_check_warning_at_its_line(
    checked_repo: Path, run: Any, counterpart: str, message: str
) -> None:
    [finding] = counterpart_findings(run, checked_repo, counterpart)
    lines = (checked_repo / "articles/cure.md").read_text().splitlines()
    assert lines[finding["line"] - 1] == f"counterpart: {counterpart}"
    assert (finding["column"], finding["severity"], finding["message"]) == (14, "warning", message)


def test_the_counterpart_is_judged_again_when_only_the_other_file_changed(
    checked_repo: Path, run: Any
) -> None:
    assert counterpart_findings(run, checked_repo, "cure-pro") == []  # kept in the findings cache, if at all
    write(checked_repo / "articles/cure-pro.md", article_text("Text [1].\n"))  # now for patients
    [finding] = counterpart_findings(run, checked_repo, "cure-pro")
    assert "is written for patients too" in finding["message"]


TRICKY_FRONT_MATTER = [
    'title: "Plain: quoted"\naudience: patient\ncondition: POEMS syndrome\n',
    "title: 'It''s here'\naudience: patient\ncondition: POEMS   syndrome\ncounterpart: cure-pro\n",
    "title: >-\n  Folded over\n  two lines\naudience: professional\ncondition: MGUS\n",
    'title: A title\nsummary: "opens here\ntitle: not the title"\naudience: patient\ncondition: X\n',
    "title: A title\ntags: [one,\ntitle: not the title]\naudience: patient\ncondition: X\n",
    "title: A title\nsummary: a plain line\ncontinued at the margin\naudience: patient\ncondition: X\n",
    "title: A title # a comment\naudience: patient\ncondition: X\n",
    "title: First\ntitle: Second\naudience: patient\ncondition: X\n",
    "title: |\n  One\n\n  Two\naudience: patient\ncondition: X\n",
    'title: "Escaped \\" quote"\naudience: patient\ncondition: X\n',
]


@pytest.mark.parametrize("front", TRICKY_FRONT_MATTER)
def test_facts_read_quickly_are_the_facts_of_the_whole_front_matter(front: str) -> None:
    """The quick path reads the four fields' lines alone; it must agree with a whole read, or
    step aside (then the whole front-matter is read)."""
    from reviewflow.content.facts import FIELDS, _quick_fields
    from reviewflow.content.frontmatter import read_article_bytes

    raw = f"---\n{front}---\n\nBody.\n".encode()
    whole = read_article_bytes(raw, 100_000).data
    quick = _quick_fields(raw, 100_000)
    if quick is not None:
        assert quick == {k: whole[k] for k in FIELDS if k in whole}
    expected = None
    if isinstance(whole, dict) and isinstance(whole.get("title"), str):
        expected = (whole["title"], whole["audience"], " ".join(whole["condition"].split()))
    found = read_facts(raw, 100_000)
    assert (found[:3] if found else None) == expected


def test_plain_front_matter_takes_the_quick_path() -> None:
    from reviewflow.content.facts import _quick_fields

    raw = (PROJECT / "articles/poems-syndrome-can-it-be-cured.md").read_bytes()
    raw = raw.replace(
        b"\ncondition: POEMS syndrome\n", b"\ncondition: POEMS syndrome\ncounterpart: cure-pro\n"
    )
    assert _quick_fields(raw, 100_000) == {
        "title": "Can POEMS syndrome be cured?", "audience": "patient", "condition": "POEMS syndrome",
        "counterpart": "cure-pro",
    }  # fmt: skip
