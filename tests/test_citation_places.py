"""Citation links numbered where the markers are linked (markup.BodyRenderer.render_cited):
the page's body is the very HTML that numbering the rendered body's links afterwards gave
(article_body.page_body without counts), for every body and summary, the short answer folded
or not, whatever the fold drops."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewflow.content.markup import BodyRenderer
from reviewflow.publish.article_body import PageBody, _marker_ids, page_body
from tests.fuzzing import BODIES
from tests.test_markup_plain import PIECES, REFERENCES

SHORT, LONG = BodyRenderer(), BodyRenderer(plain=False)
SUMMARIES = ["Yes, it is treatable [1].", "Yes, it is treatable.", "It is [1, 2] and [3].", ""]
# Sections that fold as a short answer (by their heading, or by repeating a summary), with and
# without citations in the heading and the text.
SECTIONS = [
    "## The short answer\n\n", "## Short answer [2]\n\n", "## In brief [1]\n\nYes, it is treatable [1].\n\n",
    "## Overview\n\nYes, it is treatable [1].\n\n", "## Overview\n\nYes, it is treatable.\n\n",
    "## Next\n\nMore [1] and [3].\n\n", "## Causes [12]\n\n",
]  # fmt: skip
BODY = st.lists(st.sampled_from(SECTIONS + PIECES), min_size=1, max_size=30).map("".join)


def numbered_after(renderer: BodyRenderer, body: str, summary: str) -> PageBody:
    """The page's body as it was made before: rendered, then its links numbered."""
    return page_body(renderer.render(body, REFERENCES), summary)


def numbered_as_linked(renderer: BodyRenderer, body: str, summary: str) -> PageBody:
    html, cited = renderer.render_cited(body, REFERENCES)
    return page_body(html, summary, cited)


@given(body=st.one_of(BODY, BODIES), summary=st.sampled_from(SUMMARIES))
def test_numbered_as_linked_is_numbered_after(body: str, summary: str) -> None:
    for renderer in (SHORT, LONG):
        assert numbered_as_linked(renderer, body, summary) == numbered_after(renderer, body, summary), body


@given(body=st.one_of(BODY, BODIES))
def test_render_cited_is_render_with_each_link_numbered_in_the_body_order(body: str) -> None:
    for renderer in (SHORT, LONG):
        places: dict[str, int] = {}
        html, cited = renderer.render_cited(body, REFERENCES)
        assert html == _marker_ids(renderer.render(body, REFERENCES), places)
        assert cited == {int(ref): count for ref, count in places.items()}


@pytest.mark.parametrize(
    ("body", "summary", "markers"),
    [
        # The short answer's heading cites, and is dropped by the fold: the rest numbered again.
        ("## Short answer [2]\n\nMore [2] and [1].\n\n## Next\n\nAgain [2].\n", "Other words.", ["2-1", "1-1", "2-2"]),
        # The short answer says no more than the summary: dropped whole, with its citation.
        ("## Overview\n\nYes, it is treatable [1].\n\n## Next\n\nThen [1] [3].\n", SUMMARIES[0], ["1-1", "3-1"]),
        # Nothing cited is dropped: the places stay as they were numbered.
        ("## The short answer\n\nIt is [3] and more words.\n\n## Next\n\n[3] [1]\n", "Other.", ["3-1", "3-2", "1-1"]),
    ],
)  # fmt: skip
def test_a_fold_numbers_the_places_that_are_shown(body: str, summary: str, markers: list[str]) -> None:
    shown = numbered_as_linked(SHORT, body, summary)
    html = (shown.short_answer or "") + shown.html
    assert [place.split('"')[0] for place in html.split(' id="cite-')[1:]] == markers
    assert shown.cited_from == {
        int(ref): sum(1 for m in markers if m.split("-")[0] == ref)
        for ref in {m.split("-")[0] for m in markers}
    }
    assert shown == numbered_after(SHORT, body, summary)
