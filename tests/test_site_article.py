"""The article page as a reader and a search engine see it (issue 13): the short answer once,
typed references with back-links, a contents list, dates in words, the overdue notice first,
the length of its title and description, Open Graph tags and the JSON-LD graph around it."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import escape

from reviewflow.content.article import Reference
from reviewflow.publish.article_body import back_labels, fold_short_answer, page_body
from reviewflow.publish.article_page import (
    DESCRIPTION_MAX,
    TITLE_MAX,
    cut_at_word,
    cut_title,
    escaped,
    escaped_in_python,
    in_words,
    member_anchors,
    meta_description,
)
from reviewflow.publish.pages import Reviewer
from reviewflow.publish.schemaorg import identifier_links
from reviewflow.publish.site import SiteRenderer
from tests.browser.html import Element, json_ld, parse
from tests.test_publish_site import BASE, CONFIG, approved_info, article, page

SHORT_ANSWER = """## The short answer

It is treatable [1]. Many people reach a long remission [4].

## What causes it

Plasma cells [2].
"""
RITA = Reviewer("Dr. Rita Reviewer", "MD, Hematology", "none", "City Hospital", email="rita@board.example")


@pytest.fixture(scope="module")
def renderer() -> SiteRenderer:
    return SiteRenderer(CONFIG, BASE)


def tree_of(renderer: SiteRenderer, body: str, **kw: Any) -> Element:
    return parse(page(renderer, body, **kw))


# --- 1. the short answer, once -------------------------------------------------------------


def test_a_cited_short_answer_section_replaces_the_plain_summary_and_leaves_the_body(
    renderer: SiteRenderer,
) -> None:
    tree = tree_of(renderer, SHORT_ANSWER)
    summary = tree.with_class("summary")[0]
    assert "It is treatable" in summary.words and "Many people reach a long remission" in summary.words
    assert [a.attrs["href"] for a in summary.find_all("a")] == ["#ref-1", "#ref-4"]  # its sources kept
    assert "long remission." not in summary.words.replace("remission [Reference 4].", "")
    body = tree.with_class("body")[0]
    assert "short answer" not in body.words.casefold() and "It is treatable" not in body.words
    assert body.find("h2").words == "What causes it"
    assert tree.find("article").words.count("It is treatable") == 1


def test_a_section_repeating_the_summary_without_new_sources_is_folded_into_the_summary(
    renderer: SiteRenderer,
) -> None:
    body = "## Overview\n\nIt is treatable; many people reach long remission.\n\n## Next\n\nMore [1].\n"
    tree = tree_of(renderer, body)
    assert (
        tree.with_class("summary")[0].find("p").words == "It is treatable; many people reach long remission."
    )
    assert tree.with_class("body")[0].find("h2").words == "Next"
    assert tree.find("article").words.count("many people reach long remission") == 1


def test_a_short_answer_section_that_says_more_than_the_summary_is_shown_whole(
    renderer: SiteRenderer,
) -> None:
    body = "## In short\n\nIt is treatable.\n\nTreatment takes months, and check-ups go on for years.\n\n## Next\n\nMore [1].\n"
    tree = tree_of(renderer, body)
    summary = tree.with_class("summary")[0].words
    assert "It is treatable." in summary and "check-ups go on for years" in summary  # nothing dropped
    assert "check-ups" not in tree.with_class("body")[0].words


def test_a_longer_section_sharing_the_summarys_words_is_no_repeat(renderer: SiteRenderer) -> None:
    body = (
        "## Overview\n\nIt is treatable; many people reach long remission. "
        + "Treatment aims at the plasma cells that drive the disease, over many months. " * 3
        + "\n\n## Next\n\nMore [1].\n"
    )
    tree = tree_of(renderer, body)
    assert [h.words for h in tree.with_class("body")[0].find_all("h2")] == ["Overview", "Next"]


def test_a_first_section_that_is_not_the_short_answer_stays(renderer: SiteRenderer) -> None:
    body = "## What causes it\n\nPlasma cells grow [2].\n\n## The short answer\n\nLater [1].\n"
    tree = tree_of(renderer, body)
    assert [h.words for h in tree.with_class("body")[0].find_all("h2")] == [
        "What causes it",
        "The short answer",
    ]
    assert (
        tree.with_class("summary")[0].find("p").words == "It is treatable; many people reach long remission."
    )


def test_a_short_answer_citing_only_what_the_summary_cites_shows_the_summary() -> None:
    html = '<h2>The short answer</h2>\n<p>Yes <sup class="cite">[<a href="#ref-1"><span class="visually-hidden">Reference </span>1</a>]</sup>.</p>\n'
    shown = page_body(html, "Yes, it is [1].")
    assert shown.short_answer is None and shown.html.strip() == ""
    assert fold_short_answer("<p>No heading first.</p>", "No heading first.") == (
        "<p>No heading first.</p>",
        None,
    )


# --- 2. references: types, identifiers, back-links -------------------------------------------


def test_every_citation_marker_has_an_id_its_reference_links_back_to(renderer: SiteRenderer) -> None:
    tree = tree_of(renderer, "One [1]. Two [1, 4].\n\nThree [1] and [2-3].\n")
    markers = [a.attrs["id"] for a in tree.find_all("a") if a.attrs.get("href", "").startswith("#ref-")]
    assert markers == ["cite-1-1", "cite-1-2", "cite-4-1", "cite-1-3", "cite-2-1", "cite-3-1"]
    back = tree.by_id("ref-1").with_class("ref-back")[0]
    assert [(a.words, a.attrs["href"]) for a in back.find_all("a")] == [
        ("citation a", "#cite-1-1"), ("citation b", "#cite-1-2"), ("citation c", "#cite-1-3"),
    ]  # fmt: skip
    assert back.words.startswith("↩ Cited in the text:")
    for anchor in markers:  # every back-link lands on a marker
        assert tree.by_id(anchor).attrs["href"].startswith("#ref-")


def test_references_show_their_type_and_identifier_links(renderer: SiteRenderer) -> None:
    tree = tree_of(renderer, "Cited [1] [2] [3].\n")
    assert [tree.by_id(f"ref-{n}").with_class("ref-type")[0].words for n in (1, 2, 3)] == [
        "Review", "Guideline", "Research",
    ]  # fmt: skip
    links = tree.by_id("ref-1").with_class("ref-links")[0].words
    assert "DOI 10.1182/blood-2012-03-378992" in links and "PubMed 22547581" in links
    assert tree.by_id("ref-4").with_class("ref-back") == []  # never cited: no back-link to offer


def test_back_link_labels_run_past_z() -> None:
    assert back_labels(3) == ("a", "b", "c")
    assert back_labels(28)[25:] == ("z", "aa", "ab")


def test_json_ld_citations_carry_their_identifiers(renderer: SiteRenderer) -> None:
    cited = json_ld(page(renderer))["citation"]
    first = cited[0]
    assert first["identifier"] == [
        {"@type": "PropertyValue", "propertyID": "DOI", "value": "10.1182/blood-2012-03-378992"},
        {"@type": "PropertyValue", "propertyID": "PMID", "value": "22547581"},
        {"@type": "PropertyValue", "propertyID": "PMCID", "value": "PMC3425020"},
    ]
    assert first["url"] == "https://doi.org/10.1182/blood-2012-03-378992"
    assert first["sameAs"] == [
        "https://pubmed.ncbi.nlm.nih.gov/22547581/", "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC3425020/",
    ]  # fmt: skip
    assert "identifier" not in cited[1]  # no identifier given: none invented


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://www.nice.org.uk/guidance/ng1?x=1#part", "www.nice.org.uk"),
        ("http://example.org:8080/a", "example.org:8080"),
        ("https://user@example.org/a", "user@example.org"),  # not the plain form: read by urlsplit
        ("HTTPS://Example.org/a b", "Example.org"),
        ("ftp://example.org/file", None),  # only web links are offered
        ("javascript:alert(1)", None),
    ],
)
def test_a_reference_url_is_linked_by_its_host_as_urlsplit_reads_it(url: str, shown: str | None) -> None:
    reference = Reference(id=1, type="other", title="T", source="S", year=2020, url=url)
    links = [link for link in identifier_links(reference) if link[0] == "Link"]
    assert links == ([("Link", shown, url)] if shown else [])


# --- 3. the byline and the board -----------------------------------------------------------------


def test_the_byline_links_to_the_reviewers_entry_on_the_board_page(renderer: SiteRenderer) -> None:
    tree = parse(renderer.article(approved_info(reviewers=(RITA,)), article(), "Text [1].\n"))
    link = tree.with_class("byline")[0].find("a")
    assert link.attrs["href"] == "../../board/index.html#member-dr-rita-reviewer"
    board = parse(renderer.board())
    entry = board.by_id("member-dr-rita-reviewer")
    assert entry.tag == "li" and entry.find("h2").words == "Dr. Rita Reviewer"
    data = json_ld(renderer.article(approved_info(reviewers=(RITA,)), article(), "Text [1].\n"))
    assert data["reviewedBy"][0]["url"] == f"{BASE}/board/#member-dr-rita-reviewer"
    assert data["reviewedBy"][0]["affiliation"] == {"@type": "Organization", "name": "City Hospital"}


def test_a_former_member_is_named_without_a_link(renderer: SiteRenderer) -> None:
    gone = Reviewer("A former member of the advisory board", None, on_board=False)
    tree = parse(renderer.article(approved_info(reviewers=(gone,)), article(), "Text [1].\n"))
    assert tree.with_class("byline")[0].find_all("a") == []


def test_member_anchors_are_unique_and_follow_the_name() -> None:
    from reviewflow.config import BoardMember

    board = [
        BoardMember(name="Dr. Ann Lee", email="ann@x.example", credentials="MD"),
        BoardMember(name="Dr Ann Lee", email="Ann2@x.example", credentials="PhD"),
        BoardMember(name="Ωμέγα", email="o@x.example", credentials="MD"),
    ]
    assert member_anchors(board) == {
        "ann@x.example": "member-dr-ann-lee", "ann2@x.example": "member-dr-ann-lee-2", "o@x.example": "member-member",
    }  # fmt: skip


# --- 5. dates in words, the overdue notice first ------------------------------------------------


def test_dates_are_in_words_with_iso_in_time_elements(renderer: SiteRenderer) -> None:
    html = page(renderer)
    tree = parse(html)
    times = tree.find_all("time")
    assert times and all(t.words == in_words(date.fromisoformat(t.attrs["datetime"])) for t in times)
    # No date is shown outside a <time>, nor in its ISO form (a DOI may look like one).
    shown = tree.find("article").words.replace(tree.with_class("references")[0].words, "")
    assert re.search(r"\b\d{4}-\d{2}-\d{2}\b", shown) is None
    assert in_words(date(2026, 12, 2)) == "2 December 2026"


def test_the_overdue_notice_comes_first_and_cards_flag_it(renderer: SiteRenderer) -> None:
    info = approved_info(overdue=True)
    tree = parse(renderer.article(info, article(), "Text [1].\n"))
    first = tree.find("article").find_all()[1]  # the article's first child element
    assert first.has_class("review-due") and "Review due." in first.words
    card = parse(renderer.card_html(info, "T", "patient", "S"))
    assert card.with_class("overdue")[0].words == "Review due"
    fresh = parse(renderer.card_html(approved_info(), "T", "patient", "S"))
    assert fresh.with_class("overdue") == []


# --- 6. contents -----------------------------------------------------------------------------------


def test_three_sections_get_a_contents_list_with_stable_unique_ids(renderer: SiteRenderer) -> None:
    body = "## Causes [1]\n\nA.\n\n## Causes\n\nB.\n\n### Detail\n\nC.\n\n## *What* next?\n\nD.\n"
    tree = tree_of(renderer, body)
    contents = tree.with_class("contents")[0]
    entries = [(a.attrs["href"], a.words) for a in contents.find_all("a")]
    assert entries == [("#s-causes", "Causes"), ("#s-causes-2", "Causes"), ("#s-what-next", "What next?")]
    for href, _ in entries:
        assert tree.by_id(href[1:]).tag == "h2"
    assert tree.by_id("s-detail").tag == "h3"
    assert tree_of(renderer, body).find("main").words == tree.find("main").words  # the same every time


def test_two_sections_get_no_contents_list(renderer: SiteRenderer) -> None:
    tree = tree_of(renderer, "## One\n\nA [1].\n\n## Two\n\nB.\n")
    assert tree.with_class("contents") == []
    assert tree.by_id("s-one").tag == "h2"


# --- 7. title, description, Open Graph -------------------------------------------------------------


def test_a_long_summary_is_cut_at_a_word_for_the_meta_description(renderer: SiteRenderer) -> None:
    summary = "Radiation treats one or a few bone lesions well. " * 6
    tree = tree_of(renderer, "Text [1].\n", summary=summary)
    description = tree.find("meta", name="description").attrs["content"]
    assert len(description) <= DESCRIPTION_MAX and description.endswith("…")
    assert summary.startswith(description[:-1]) and summary[len(description) - 1] == " "  # a whole word
    assert tree.find("meta", property="og:description").attrs["content"] == description


def test_a_long_title_is_cut_at_a_word_and_keeps_the_site_name(renderer: SiteRenderer) -> None:
    title = "Can POEMS syndrome be cured, and what does treatment of its many symptoms involve for you?"
    tree = tree_of(renderer, "Text [1].\n", title=title)
    shown = tree.find("title").words
    assert len(shown) <= TITLE_MAX and shown.endswith("… · Example Health")
    assert title.startswith(shown.removesuffix("… · Example Health"))
    assert tree.find("h1").words == title  # the page itself shows it whole
    assert tree.find("meta", property="og:title").attrs["content"] == title
    assert cut_title("Short", "Example Health") == "Short"


def test_cut_at_word_edges() -> None:
    assert cut_at_word("short enough", 20) == "short enough"
    assert cut_at_word("one two three four", 12) == "one two…"
    assert cut_at_word("Supercalifragilistic", 10) == "Supercali…"  # one long word: cut inside it
    assert meta_description("  spaced\n  out  ") == "spaced out"


def test_open_graph_tags_and_og_url_only_with_a_base_url(renderer: SiteRenderer) -> None:
    tree = tree_of(renderer, "Text [1].\n")
    og = {m.attrs["property"]: m.attrs["content"] for m in tree.find_all("meta") if "property" in m.attrs}
    assert og == {
        "og:type": "article", "og:title": "Can POEMS syndrome be cured?",
        "og:description": "It is treatable; many people reach long remission.", "og:site_name": "Example Health",
        "og:url": f"{BASE}/articles/can-it-be-cured/",
    }  # fmt: skip
    local = parse(SiteRenderer(CONFIG).article(approved_info(), article(), "Text [1].\n"))
    assert "og:url" not in [m.attrs.get("property") for m in local.find_all("meta")]


# --- 8. JSON-LD ----------------------------------------------------------------------------------


def test_json_ld_names_the_publisher_site_page_and_breadcrumb(renderer: SiteRenderer) -> None:
    data = json_ld(page(renderer))
    organisation = {"@type": "Organization", "name": "Example Health", "@id": f"{BASE}/#organization",
                    "url": f"{BASE}/"}  # fmt: skip
    assert data["publisher"] == organisation
    assert data["isPartOf"] == {"@type": "WebSite", "name": "Example Health", "inLanguage": "en",
        "@id": f"{BASE}/#website", "url": f"{BASE}/", "publisher": {"@id": f"{BASE}/#organization"}}  # fmt: skip
    assert data["mainEntityOfPage"] == {"@type": "WebPage", "@id": f"{BASE}/articles/can-it-be-cured/"}
    crumbs = data["breadcrumb"]["itemListElement"]
    assert [(c["position"], c["name"], c["item"]) for c in crumbs] == [
        (1, "Example Health", f"{BASE}/"), (2, "Patients and caregivers", f"{BASE}/for-patients/"),
        (3, "Can POEMS syndrome be cured?", f"{BASE}/articles/can-it-be-cured/"),
    ]  # fmt: skip


def test_an_organisation_author_is_an_organization_and_a_person_a_person(renderer: SiteRenderer) -> None:
    authors = [
        {"name": "Reviewflow Editorial Team", "email": "editors@x.example"},
        {"name": "Alice Author", "email": "alice@x.example", "credentials": "RN"},
        {"name": "Sam Team", "email": "sam@x.example", "credentials": "MD"},  # credentials: a person
    ]
    data = json_ld(renderer.article(approved_info(), article(authors=authors), "Text [1].\n"))
    assert [(a["@type"], a["name"]) for a in data["author"]] == [
        ("Organization", "Reviewflow Editorial Team"), ("Person", "Alice Author"), ("Person", "Sam Team"),
    ]  # fmt: skip


def test_hostile_titles_stay_inside_the_json_ld_and_the_meta_tags(renderer: SiteRenderer) -> None:
    title = 'Evil</script><script>alert(1)</script> "quoted" & <b>bold</b>'
    html = renderer.article(approved_info(), article(title=title, summary=title), "Text [1].\n")
    assert html.count("<script") == 1  # only the JSON-LD block
    data = json_ld(html)
    assert data["name"] == title and data["breadcrumb"]["itemListElement"][2]["name"] == title
    tree = parse(html)
    assert tree.find("meta", property="og:title").attrs["content"] == title
    assert tree.find("meta", name="description").attrs["content"] == title


@given(st.text())
def test_values_are_escaped_as_markupsafe_escapes_them(text: str) -> None:
    # The page escapes its values with markupsafe's C code where it has it, else in Python:
    # both write what `escape` (and so the templates) would, as a plain string.
    assert escaped(text) == escaped_in_python(text) == str(escape(text))
    assert type(escaped(text)) is str
