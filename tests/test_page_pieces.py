"""An article page made in pieces and encoded piece by piece (pool.page_bytes): the same bytes as
the page made whole and encoded, and the one character beyond Latin-1 (the references' "↩") in
pieces of its own, so that the rest of an ASCII article's page is encoded by copying."""

from __future__ import annotations

from typing import Any

from reviewflow.config import Config
from reviewflow.publish.article_page import BACK_ARROW, reference_pieces
from reviewflow.publish.pool import page_bytes, render_article, render_page
from reviewflow.publish.site import SiteRenderer
from tests.test_publish_site import BASE, CONFIG, XSS_BODY, approved_info, article, pending_info

BODY = "## Why\n\nRadiation helps [1]. See also [1, 4] and [2-4].\n\n## How\n\nMore [3] text.\n"


def pieces_and_page(renderer: SiteRenderer, body: str = BODY, **kw: Any) -> tuple[list[str], str]:
    info = kw.pop("info", approved_info())
    made = article(**kw)
    return renderer.article_pieces(info, made, body), renderer.article(info, made, body)


def test_the_pieces_are_the_page_and_encode_to_its_bytes() -> None:
    renderer = SiteRenderer(CONFIG, BASE)
    evil = "<script>x</script> & \"q\" 'a' é – ↩ 😀"
    variants: list[dict[str, Any]] = [
        {},
        {"body": XSS_BODY},
        {"title": evil, "summary": evil, "condition": evil, "tags": [evil]},
        {"info": pending_info()},
        {"references": []},
        {"body": "No citation at all.\n"},
        {"body": "Café [1] — ↩ naïve [2].\n", "sponsor": evil, "funding": evil},
    ]
    for variant in variants:
        pieces, html = pieces_and_page(renderer, **variant)
        assert "".join(pieces) == html
        assert page_bytes(pieces) == html.encode("utf-8")


def test_only_the_arrows_and_short_pieces_are_beyond_ascii() -> None:
    renderer = SiteRenderer(CONFIG, BASE)
    pieces, html = pieces_and_page(renderer)
    arrows = [piece for piece in pieces if BACK_ARROW in piece]
    assert arrows == [BACK_ARROW] * html.count(BACK_ARROW) and len(arrows) == 4
    # The rest beyond ASCII hold the " · " between a title and the site's name, or between links.
    others = [piece for piece in pieces if not piece.isascii() and piece != BACK_ARROW]
    assert all("·" in piece and len(piece) < 800 for piece in others), others
    assert sum(map(len, others)) < len(html) // 5


def test_the_references_in_pieces_are_the_list_one_an_entry_a_line() -> None:
    references = sorted(article().references, key=lambda reference: reference.id)
    pieces = reference_pieces(references, {1: 2, 3: 1})
    text = "".join(pieces)
    assert text.count(BACK_ARROW) == 2 and pieces.count(BACK_ARROW) == 2
    assert text.startswith('<li id="ref-1" value="1">') and text.endswith("</li>")
    assert text.count("</li>\n<li ") == 3 and "\n\n" not in text
    assert reference_pieces([], {}) == []


def test_a_page_whose_frame_cannot_be_filled_is_one_piece() -> None:
    text = CONFIG.model_dump()
    text["site"]["ownership"] = "Owned by \0main\0 and \0page_title\0."
    odd = SiteRenderer(Config.model_validate(text), BASE)
    pieces, html = pieces_and_page(odd)
    assert pieces == [html] and "Owned by \0main\0 and \0page_title\0." in html


def test_render_article_is_render_page_decoded(tmp_path: Any) -> None:
    from tests.test_publish import read_schema  # a schema as a repository holds it

    renderer = SiteRenderer(CONFIG, BASE)
    raw = (
        "---\ntitle: Café ↩ test\nsummary: It is treatable; many people reach long remission.\n"
        "audience: patient\ncondition: POEMS syndrome\nauthors:\n  - name: Alice Author\n"
        "    email: alice@authors.example\ndisclaimer: patient\nreferences:\n  - id: 1\n"
        "    type: review\n    title: How I treat POEMS syndrome\n    source: Blood\n    year: 2012\n"
        "---\n\nRadiation helps [1].\n"
    ).encode()
    schema = read_schema(tmp_path)
    info = approved_info(path="articles/can-it-be-cured.md")
    as_bytes = render_page(renderer, schema, 10_000, info, raw)
    as_text = render_article(renderer, schema, 10_000, info, raw)
    assert not isinstance(as_bytes, str) and not isinstance(as_text, str), (as_bytes, as_text)
    assert as_bytes[0] == as_text[0].encode("utf-8") and as_bytes[1] == as_text[1]
    assert as_text[0].count(f'<span aria-hidden="true">{BACK_ARROW}</span>') == 1
    assert '<h1 id="title">Café ↩ test</h1>' in as_text[0]
    assert render_page(renderer, schema, 10_000, info, None) == render_article(
        renderer, schema, 10_000, info, None
    )
