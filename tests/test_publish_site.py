"""The site's pages as rendered from plain data: what a reader sees, and what can never get in."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from typing import Any

import pytest

from reviewflow.config import Config
from reviewflow.configfile import parse_config
from reviewflow.content.article import Article
from reviewflow.content.citations import expand
from reviewflow.publish.pages import Listing, Neighbour, PageInfo, Reviewer
from reviewflow.publish.schemaorg import json_script
from reviewflow.publish.site import SiteRenderer, tracker
from tests.browser.html import Element, json_ld, parse

CONFIG = parse_config("""
[policy]
approvals_required = 1
review_cycle_days = 365

[[board]]
name = "Dr. Rita Reviewer"
email = "rita@board.example"
credentials = "MD, Hematology"

[disclaimers.patient]
audience = "patient"
text = "Not medical advice: talk to your doctor about <your> care & \\"options\\"."

[disclaimers.professional]
audience = "professional"
text = "For healthcare professionals. Verify against current guidelines."

[site]
name = "Example Health"
contact = "editors@health.example"
ownership = "Owned by the Example Foundation, funded by donations."
advertising = "No advertising."
""")
BASE = "https://health.example.org"
REVIEWED = datetime(2025, 3, 4, 10, 30, tzinfo=UTC)
PUBLISHED = datetime(2025, 1, 2, 9, 0, tzinfo=UTC)
CHANGED = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)

XSS_BODY = """Intro [1].

<script>window.pwned = 1; document.title = "pwned"</script>

<img src=x onerror="window.pwned=1">

<iframe src="https://evil.example/"></iframe>

[click](javascript:window.pwned=1) [case](JaVaScRiPt:alert(1)) [entity](&#106;avascript:alert(1))
[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==) ![img](data:image/svg+xml,<svg onload=alert(1)>)

<svg><script>alert(1)</script></svg> <a href="#" onclick="alert(1)">x</a> <style>body{display:none}</style>

<form><button formaction="javascript:alert(1)">go</button></form>

`[1]` in code is not a citation. [1](https://example.org) is a link.
"""


def article(**changes: Any) -> Article:
    data: dict[str, Any] = {
        "title": "Can POEMS syndrome be cured?",
        "summary": "It is treatable; many people reach long remission.",
        "audience": "patient",
        "condition": "POEMS syndrome",
        "authors": [{"name": "Alice Author", "email": "alice@authors.example"}],
        "disclaimer": "patient",
        "references": [
            {"id": 1, "type": "review", "title": "How I treat POEMS syndrome", "source": "Blood", "year": 2012,
             "doi": "10.1182/blood-2012-03-378992", "pmid": "22547581", "pmcid": "PMC3425020"},
            {"id": 2, "type": "guideline", "title": "A guideline", "source": "Some Society", "year": 2023},
            {"id": 3, "type": "research", "title": "A trial", "source": "A Journal", "year": 2021,
             "url": "https://trials.example/abc"},
            {"id": 4, "type": "review", "title": "Update on the POEMS syndrome", "source": "Blood Research",
             "year": 2022, "doi": "10.5045/br.2022.2022001"},
        ],
        "tags": ["treatment"],
    }  # fmt: skip
    data.update(changes)
    return Article.model_validate(data)


def approved_info(**changes: Any) -> PageInfo:
    values: dict[str, Any] = {
        "slug": "can-it-be-cured",
        "path": "articles/can-it-be-cured.md",
        "blob": "a" * 40,
        "state": "approved",
        "approved": True,
        "reviewers": (Reviewer("Dr. Rita Reviewer", "MD, Hematology"),),
        "reviewed_at": REVIEWED,
        "published_at": PUBLISHED,
        "updated_at": CHANGED,
        "review_due": date(2026, 3, 4),
    }
    values.update(changes)
    return PageInfo(**values)


def pending_info(state: str = "under-review", **changes: Any) -> PageInfo:
    values: dict[str, Any] = {
        "slug": "can-it-be-cured", "path": "articles/can-it-be-cured.md", "blob": "b" * 40, "state": state,
        "approved": False, "updated_at": CHANGED,
    }  # fmt: skip
    values.update(changes)
    return PageInfo(**values)


@pytest.fixture(scope="module")
def renderer() -> SiteRenderer:
    return SiteRenderer(CONFIG, BASE)


def page(
    renderer: SiteRenderer, body: str = "Radiation helps [1]. See also [1, 4] and [2-4].\n", **kw: Any
) -> str:
    return renderer.article(kw.pop("info", approved_info()), article(**kw), body)


# --- the article page ---------------------------------------------------------------------


def test_citation_markers_link_to_their_references_accessibly(renderer: SiteRenderer) -> None:
    tree = parse(page(renderer))
    body = tree.with_class("body")[0]
    links = [a.attrs["href"] for a in body.find_all("a")]
    assert links == ["#ref-1", "#ref-1", "#ref-4", "#ref-2", "#ref-3", "#ref-4"]
    first = body.find("a", href="#ref-1")
    assert first.words == "Reference 1"  # a screen reader hears what the link is
    assert first.find("span").has_class("visually-hidden")
    sups = body.find_all("sup")
    assert [s.words for s in sups] == ["[Reference 1]", "[Reference 1, Reference 4]",
                                       "[Reference 2, Reference 3, Reference 4]"]  # fmt: skip
    for target in ("ref-1", "ref-2", "ref-3", "ref-4"):
        assert tree.by_id(target).tag == "li"


def test_unknown_ids_code_spans_and_real_links_are_not_citations(renderer: SiteRenderer) -> None:
    body = parse(page(renderer, "Cited [9]. In code `[1]`. A link [1](https://example.org).\n")).with_class(
        "body"
    )[0]
    assert "#ref-9" not in str([a.attrs for a in body.find_all("a")])
    assert "[9]" in body.words
    assert body.find("code").text == "[1]"
    assert body.find("a", href="https://example.org").words == "1"


def body_of(renderer: SiteRenderer, markdown: str) -> Element:
    return parse(page(renderer, markdown)).with_class("body")[0]


def test_markers_are_never_linked_inside_links_code_images_or_when_escaped(renderer: SiteRenderer) -> None:
    body = body_of(renderer, (
        "See [the review [1]](https://example.org/review) and `[2]`.\n\n"
        "```\ncode [3]\n```\n\n"
        "![scan [4]](https://images.example/scan.png) Escaped \\[1\\] is text.\n"
    ))  # fmt: skip
    assert [a.attrs["href"] for a in body.find_all("a")] == ["https://example.org/review"]
    assert body.find("a").words == "the review [1]"
    assert [c.text for c in body.find_all("code")] == ["[2]", "code [3]\n"]
    assert body.find_all("sup") == []
    assert "[Image: scan [4]]" in body.words and "Escaped [1] is text." in body.words


def test_markers_inside_emphasis_and_tables_are_linked(renderer: SiteRenderer) -> None:
    body = body_of(
        renderer, "**Strong [1]** and *emphasis [2, 3]* and ***both [4]***.\n\n| A |\n|---|\n| x [1-2] |\n"
    )
    sups = body.find_all("sup")
    assert [s.words for s in sups] == [
        "[Reference 1]", "[Reference 2, Reference 3]", "[Reference 4]", "[Reference 1, Reference 2]"
    ]  # fmt: skip
    assert body.find("strong").find("sup") is not None and body.find("em").find("sup") is not None
    assert body.find("td").find("a").attrs["href"] == "#ref-1"


def test_links_without_a_safe_target_become_their_text(renderer: SiteRenderer) -> None:
    body = body_of(renderer, "[click](javascript:alert(1)) [empty]() [fine](https://example.org/x).\n")
    assert [a.attrs["href"] for a in body.find_all("a")] == ["https://example.org/x"]
    assert body.words == "click empty fine."


def test_strikethrough_needs_a_closing_tilde_so_approximations_stay_text(renderer: SiteRenderer) -> None:
    body = body_of(renderer, "Take ~5 mg to ~10 mg. ~~Old advice~~ new advice.\n")
    assert body.find("del").words == "Old advice"
    assert "Take ~5 mg to ~10 mg." in body.words


def test_raw_html_is_shown_as_text_in_its_place(renderer: SiteRenderer) -> None:
    body = body_of(renderer, 'Before.\n\n<div onclick="x()">inside</div>\n\nAfter <b>bold</b> [1].\n')
    assert [e.tag for e in body.iter() if e.tag not in ("#document", "div", "p")] == ["sup", "a", "span"]
    assert '<div onclick="x()">inside</div>' in body.words and "After <b>bold</b>" in body.words


def test_reference_list_is_typed_numbered_and_linked(renderer: SiteRenderer) -> None:
    tree = parse(page(renderer))
    first = tree.by_id("ref-1")
    assert first.attrs["value"] == "1"
    assert first.with_class("ref-type")[0].words == "Review"
    assert "How I treat POEMS syndrome" in first.words and "Blood, 2012" in first.words
    hrefs = [a.attrs["href"] for a in first.with_class("ref-links")[0].find_all("a")]
    assert hrefs == [
        "https://doi.org/10.1182/blood-2012-03-378992",
        "https://pubmed.ncbi.nlm.nih.gov/22547581/",
        "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC3425020/",
    ]
    assert tree.by_id("ref-2").with_class("ref-type")[0].words == "Guideline"
    assert tree.by_id("ref-2").with_class("ref-links") == []  # no identifier: honest, no invented link
    assert tree.by_id("ref-3").with_class("ref-type")[0].words == "Research"
    assert tree.by_id("ref-3").find("a").attrs["href"] == "https://trials.example/abc"


def test_byline_dates_summary_and_audience(renderer: SiteRenderer) -> None:
    tree = parse(page(renderer))
    assert tree.find("h1").words == "Can POEMS syndrome be cured?"
    assert [b.words for b in tree.with_class("byline")] == [
        "Medically reviewed by Dr. Rita Reviewer, MD, Hematology"
    ]
    dates = {
        div.find("dt").words: div.find("dd").words for div in tree.with_class("dates")[0].find_all("div")
    }
    assert dates == {
        "Reviewed": "4 March 2025",
        "Last updated": "1 March 2025",
        "Next review due": "4 March 2026",
    }
    assert "It is treatable" in tree.with_class("summary")[0].words
    assert "For patients and caregivers" in tree.with_class("kicker")[0].words
    assert tree.with_class("review-due") == []
    assert tree.find_all("meta", name="robots") == []
    assert tree.find("link", rel="canonical").attrs["href"] == f"{BASE}/articles/can-it-be-cured/"


def test_review_due_notice_once_the_cycle_has_passed(renderer: SiteRenderer) -> None:
    tree = parse(page(renderer, info=approved_info(overdue=True)))
    notice = tree.with_class("review-due")[0]
    assert "Review due" in notice.words and "4 March 2026" in notice.words and "365 days" in notice.words


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("draft", ["todo", "todo", "todo"]),
        ("submitted", ["current", "todo", "todo"]),
        ("under-review", ["done", "current", "todo"]),
        ("changes-requested", ["done", "current", "todo"]),
        ("approved", ["done", "done", "current"]),
    ],
)
def test_status_tracker_marks_the_current_step(
    renderer: SiteRenderer, state: str, expected: list[str]
) -> None:
    assert [status for _, status in tracker(state)] == expected
    info = approved_info() if state == "approved" else pending_info(state)
    steps = parse(page(renderer, info=info)).with_class("tracker")[0].find_all("li")
    assert [s.words.split(" (")[0] for s in steps][::2] == ["Submitted", "Approved"]
    current = [s for s in steps if s.attrs.get("aria-current") == "step"]
    assert len(current) == expected.count("current")
    if state == "changes-requested":
        assert "changes requested" in current[0].words


def test_disclaimer_is_the_registry_text_verbatim(renderer: SiteRenderer) -> None:
    tree = parse(page(renderer))
    disclaimer = tree.find("aside")
    assert disclaimer.find("h2").words == "Medical disclaimer"
    assert disclaimer.find("p").text == CONFIG.disclaimers["patient"].text
    professional = parse(page(renderer, audience="professional", disclaimer="professional")).find("aside")
    assert professional.find("h2").words == "Professional medical disclaimer"
    assert professional.find("p").text == CONFIG.disclaimers["professional"].text


def test_json_ld_is_a_medical_web_page_with_review_fields(renderer: SiteRenderer) -> None:
    data = json_ld(page(renderer))
    assert data["@context"] == "https://schema.org" and data["@type"] == "MedicalWebPage"
    assert data["name"] == "Can POEMS syndrome be cured?"
    assert data["description"].startswith("It is treatable")
    assert data["url"] == f"{BASE}/articles/can-it-be-cured/"
    assert (data["datePublished"], data["dateModified"], data["lastReviewed"]) == (
        "2025-01-02",
        "2025-03-01",
        "2025-03-04",
    )
    assert data["reviewedBy"] == [{"@type": "Person", "name": "Dr. Rita Reviewer",
        "hasCredential": {"@type": "EducationalOccupationalCredential", "name": "MD, Hematology"},
        "url": f"{BASE}/board/"}]  # fmt: skip
    assert data["author"] == [{"@type": "Person", "name": "Alice Author"}]
    assert (
        data["audience"] == data["medicalAudience"] == {"@type": "MedicalAudience", "audienceType": "Patient"}
    )
    assert data["about"] == {"@type": "MedicalCondition", "name": "POEMS syndrome"}
    first = data["citation"][0]
    assert first["@type"] == "ScholarlyArticle" and first["name"] == "How I treat POEMS syndrome"
    assert {i["propertyID"]: i["value"] for i in first["identifier"]} == {
        "DOI": "10.1182/blood-2012-03-378992", "PMID": "22547581", "PMCID": "PMC3425020"}  # fmt: skip
    assert data["citation"][1]["@type"] == "CreativeWork" and "identifier" not in data["citation"][1]
    professional = json_ld(page(renderer, audience="professional", disclaimer="professional"))
    assert professional["audience"]["audienceType"] == "Clinician"


def test_preview_page_has_banner_noindex_and_no_review_claims() -> None:
    renderer = SiteRenderer(CONFIG, BASE, preview=True)
    html = page(renderer, info=pending_info("submitted", approved_elsewhere=date(2025, 1, 2)))
    tree = parse(html)
    banner = tree.with_class("pending")[0]
    assert "Pending medical review" in banner.words and "Submitted" in banner.words
    assert "2 January 2025" in banner.words  # the approved version is what the public site shows
    assert tree.find("meta", name="robots").attrs["content"] == "noindex"
    assert "Medically reviewed by" not in tree.words
    assert tree.with_class("byline") == []
    data = json_ld(html)
    assert "reviewedBy" not in data and "lastReviewed" not in data and "datePublished" not in data


def test_text_from_front_matter_is_escaped_everywhere(renderer: SiteRenderer) -> None:
    evil = "</script><script>window.pwned=1</script><img src=x onerror=alert(1)>"
    html = renderer.article(approved_info(), article(title=evil, summary=evil, condition=evil, tags=[evil],
                            authors=[{"name": evil, "email": "a@b.example"}]), "Body.\n")  # fmt: skip
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts == ['<script type="application/ld+json">']
    assert "<img" not in html
    tree = parse(html)
    assert [e.tag for e in tree.iter() if e.tag in ("img", "script")] == ["script"]
    assert not [k for e in tree.iter() for k in e.attrs if k.startswith("on")]
    assert tree.find("h1").text == evil
    assert json_ld(html)["name"] == evil  # the JSON-LD still says exactly what the title says


def test_every_text_an_article_page_writes_is_escaped(renderer: SiteRenderer) -> None:
    # article_html.py writes the page without a template: each field it takes from the article,
    # the review or the neighbours must come out as text, in elements and in attributes.
    evil = '"><img src=x onerror=alert(1)>'
    reviewer = Reviewer(evil, evil, evil, evil, True, "rita@board.example")
    neighbour = Neighbour("other-article", evil, "professional")
    info = approved_info(
        reviewers=(reviewer,), counterpart=neighbour, related=(neighbour,), more_on_condition=True
    )
    author = {"name": evil, "email": "a@b.example", "credentials": evil, "competing_interests": evil}
    html = renderer.article(info, article(sponsor=evil, funding=evil, authors=[author]), "Body.\n")
    assert "<img" not in html
    tree = parse(html)
    assert not [k for e in tree.iter() for k in e.attrs if k.startswith("on")]
    assert tree.find("meta", property="og:title").attrs["content"] == "Can POEMS syndrome be cured?"
    assert tree.with_class("byline")[0].words == f"Medically reviewed by {evil}, {evil}"
    assert tree.with_class("authors")[0].words.startswith(f"Written by {evil} ({evil})")
    assert tree.with_class("switch")[0].find("a").words == f"I am a healthcare professional: {evil}"
    assert tree.with_class("related")[0].find("a").words == evil
    assert f"Sponsored by {evil}." in tree.with_class("sponsored")[0].words
    declared = [(d.find("dt").words, d.find("dd").words) for d in tree.with_class("declaration")]
    assert declared == [
        (f"{evil}, {evil} (author)", f"Competing interests: {evil}"),
        (f"{evil}, {evil}, {evil} (medical reviewer)", f"Competing interests: {evil}"),
        ("Funding", evil),
        ("Sponsor", evil),
    ]


def test_a_config_holding_the_frames_mark_still_gives_whole_pages() -> None:
    # The frame of the article pages is rendered once with a NUL in each slot; text from the
    # config (TOML may hold "\u0000") that holds one too makes each page be rendered whole.
    text = CONFIG.model_dump()
    text["site"]["ownership"] = "Owned by \0main\0 and \0page_title\0."
    odd = SiteRenderer(Config.model_validate(text), BASE)
    html = page(odd)
    assert html.count("<article") == 1 and html.count('<h1 id="title">') == 1
    assert "Owned by \0main\0 and \0page_title\0." in html
    assert parse(html).find("title").text == "Can POEMS syndrome be cured? · Example Health"


def test_json_script_escapes_everything_that_could_close_the_element() -> None:
    text = json_script({"a": "</script><!-- & -->"})
    assert "<" not in text and ">" not in text and "&" not in text


def test_article_bodies_cannot_inject_markup(renderer: SiteRenderer) -> None:
    html = page(renderer, XSS_BODY)
    body = parse(html).with_class("body")[0]
    tags = {e.tag for e in body.iter()} - {"#document"}
    assert tags <= {"div", "p", "a", "sup", "span", "code", "em"}, tags
    for element in body.iter():
        assert not [k for k in element.attrs if k.startswith("on") or k in ("style", "src", "formaction")]
        href = element.attrs.get("href", "")
        assert not href.lower().startswith(("javascript:", "data:", "vbscript:")), href
    lowered = html.lower()
    for needle in ("<script>", "<iframe", "<img", "<svg", "<style", "<form", "<button"):
        assert needle not in lowered
    assert "window.pwned = 1" in body.words  # shown as text, never run


def test_images_are_not_loaded_but_described(renderer: SiteRenderer) -> None:
    body = parse(page(renderer, "![A bone scan](https://images.example/scan.png)\n")).with_class("body")[0]
    assert body.find_all("img") == []
    assert body.words == "[Image: A bone scan]"


def test_tables_keep_alignment_without_inline_styles(renderer: SiteRenderer) -> None:
    body = parse(page(renderer, "| Drug | Dose |\n|:--|--:|\n| Melphalan | 1 [1] |\n")).with_class("body")[0]
    assert [td.attrs.get("class") for td in body.find_all("td")] == ["align-left", "align-right"]
    assert "style" not in str([e.attrs for e in body.iter()])


def test_a_body_h1_becomes_h2_so_the_title_stays_the_only_h1(renderer: SiteRenderer) -> None:
    tree = parse(page(renderer, "# Heading\n\n## Sub\n"))
    assert len(tree.find_all("h1")) == 1
    assert [h.tag for h in tree.with_class("body")[0].iter() if h.tag.startswith("h")] == ["h2", "h3"]


def test_cited_ids_expand_ranges_and_reject_nonsense() -> None:
    assert expand("1, 3-5") == ((1, 3, 4, 5), None)
    assert expand("2–3") == ((2, 3), None)
    assert expand("5-2") == ((), "range 5-2 runs backwards")
    assert expand("1-500") == ((), "range 1-500 spans more than 100 references")


def test_missing_disclaimer_is_a_problem_not_a_silent_page(renderer: SiteRenderer) -> None:
    from reviewflow.publish.site import PageProblem

    with pytest.raises(PageProblem, match="'nope' is not defined"):
        page(renderer, disclaimer="nope")


# --- site-wide pages ----------------------------------------------------------------------


def listings() -> list[Listing]:
    def make(slug: str, condition: str, audience: str, title: str, info: PageInfo | None = None) -> Listing:
        meta = {"title": title, "summary": f"About {title}.", "audience": audience, "condition": condition,
                "authors": ["Alice Author"], "tags": []}  # fmt: skip
        return Listing.from_meta(info or approved_info(slug=slug), meta)

    return [
        make("b-treatment", "POEMS syndrome", "patient", "Treatment"),
        make("a-prognosis", "POEMS syndrome", "professional", "Prognosis"),
        make("castleman", "Castleman disease", "patient", "What is Castleman disease?"),
        make("draft-one", "POEMS syndrome", "patient", "A draft", pending_info(slug="draft-one")),
    ]


def test_index_groups_by_condition_and_lets_readers_choose_without_javascript(renderer: SiteRenderer) -> None:
    tree = parse(renderer.index(listings()))
    groups = tree.with_class("condition")
    assert [g.find("h2").words for g in groups] == ["Castleman disease", "POEMS syndrome"]
    poems = [h3.words for h3 in groups[1].find_all("h3")]
    assert poems == ["A draft", "Prognosis", "Treatment"]
    assert (
        "For healthcare professionals" in groups[1].words and "For patients and caregivers" in groups[1].words
    )
    chooser = tree.with_class("chooser")[0]
    assert chooser.find("h2").words == "Which best describes you?"
    targets = [a.attrs["href"] for a in chooser.find_all("a")]
    assert targets == ["for-patients/index.html", "for-professionals/index.html", "index.html"]
    assert tree.find_all("script") == []
    patients = parse(renderer.index(listings(), "patient"))
    titles = [h3.words for h3 in patients.find_all("h3")]
    assert titles == ["What is Castleman disease?", "A draft", "Treatment"]
    assert (
        patients.with_class("chooser")[0].find("a", href="../for-patients/index.html").attrs["aria-current"]
        == "page"
    )


def test_every_page_carries_the_publisher_identity(renderer: SiteRenderer) -> None:
    for html in (renderer.index(listings()), page(renderer), renderer.board(), renderer.policy()):
        footer = parse(html).find("footer")
        assert "Example Health" in footer.words
        assert footer.find("a", href="mailto:editors@health.example").words == "editors@health.example"
        assert "Owned by the Example Foundation" in footer.words and "No advertising." in footer.words
        hrefs = [a.attrs["href"] for a in footer.find_all("a")]
        assert any(h.endswith("board/index.html") for h in hrefs)
        assert any(h.endswith("editorial-policy/index.html") for h in hrefs)


def test_board_and_policy_pages_come_from_the_config(renderer: SiteRenderer) -> None:
    board = parse(renderer.board())
    assert "Dr. Rita Reviewer" in board.find("main").words and "MD, Hematology" in board.find("main").words
    assert "rita@board.example" not in renderer.board()  # reviewers' addresses stay private
    policy = parse(renderer.policy()).find("main")
    assert "365 days" in policy.words
    assert "after a member of the board has approved it" in policy.words
    assert CONFIG.disclaimers["professional"].text in policy.words
    for state in ("Draft", "Submitted", "Under review", "Approved"):
        assert state in policy.words


def test_sitemap_lists_only_approved_articles_with_absolute_urls(renderer: SiteRenderer) -> None:
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    root = ET.fromstring(renderer.sitemap(listings()))
    urls = {u.findtext("s:loc", namespaces=ns): u.findtext("s:lastmod", namespaces=ns) for u in root}
    assert f"{BASE}/articles/b-treatment/" in urls and urls[f"{BASE}/articles/b-treatment/"] == "2025-03-01"
    assert f"{BASE}/articles/draft-one/" not in urls
    assert all(u.startswith(BASE + "/") for u in urls)
    assert f"{BASE}/" in urls and f"{BASE}/board/" in urls


def test_feed_is_atom_with_only_approved_articles(renderer: SiteRenderer) -> None:
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ET.fromstring(renderer.feed(listings(), REVIEWED))
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
    assert feed.findtext("a:title", namespaces=ns) == "Example Health"
    ids = [e.findtext("a:id", namespaces=ns) for e in feed.findall("a:entry", ns)]
    assert sorted(ids) == sorted(f"{BASE}/articles/{s}/" for s in ("b-treatment", "a-prognosis", "castleman"))
    entry = feed.find("a:entry", ns)
    assert entry is not None
    assert entry.findtext("a:updated", namespaces=ns) == "2025-03-04T10:30:00Z"
    assert entry.findtext("a:published", namespaces=ns) == "2025-01-02T09:00:00Z"
    assert feed.findtext("a:updated", namespaces=ns) == "2025-03-04T10:30:00Z"


def test_an_index_of_listings_sorted_once_is_the_index_of_the_listings(renderer: SiteRenderer) -> None:
    """A build sorts its listings once for its three indexes (`ordered`): each index is the
    same page as one that sorts them itself."""
    from reviewflow.publish.site import condition_order

    ordered = condition_order(reversed(listings()))
    assert [item.info.slug for item in ordered] == ["castleman", "draft-one", "a-prognosis", "b-treatment"]
    for audience in (None, "patient", "professional"):
        assert renderer.index(ordered, audience, ordered=True) == renderer.index(listings(), audience)


def test_rendering_is_deterministic(renderer: SiteRenderer) -> None:
    again = SiteRenderer(CONFIG, BASE)
    assert page(renderer) == page(again)
    assert renderer.index(listings()) == again.index(list(reversed(listings())))
    assert renderer.fingerprint() == again.fingerprint()
    assert renderer.fingerprint() != SiteRenderer(CONFIG, BASE, preview=True).fingerprint()


def test_no_page_asks_for_anything_outside_the_site(renderer: SiteRenderer) -> None:
    for html in (page(renderer, XSS_BODY), renderer.index(listings()), renderer.board(), renderer.policy()):
        tree: Element = parse(html)
        for element in tree.iter():
            for attribute in ("src", "srcset", "poster", "data"):
                assert attribute not in element.attrs
            if element.tag == "link":
                assert element.attrs["rel"] in ("stylesheet", "icon", "canonical", "alternate")
                if element.attrs["rel"] == "stylesheet":
                    assert not element.attrs["href"].startswith(("http:", "https:", "//"))
        assert "@import" not in renderer.stylesheet() and "url(" not in renderer.stylesheet()


@pytest.mark.parametrize("approved", [True, False])
@pytest.mark.parametrize("overdue", [True, False])
def test_an_index_entry_is_what_its_template_renders(
    renderer: SiteRenderer, approved: bool, overdue: bool
) -> None:
    # card_html fills a frame rendered once per review line; the template is what it must equal.
    info = approved_info(overdue=overdue) if approved else pending_info("submitted")
    template = renderer.env.get_template("_card.html")
    for audience in ("patient", "professional"):
        for title, summary in (("Plain", ""), ("A & <b>\"q\" 'q'</b>", "x > y\0z")):
            entry = renderer.card_html(info, title, audience, summary)
            same = template.render(root="\0", info=info, title=title, audience=audience, summary=summary)
            assert entry == same.rstrip("\n")
            assert "&lt;b&gt;" in entry or title == "Plain"
