"""An article page's own content, the `<article>` and its JSON-LD, written as one string, and
the frame around it (article.html in base.html), rendered once per build.

Not a Jinja template: a site renders thousands of article pages, and the template's work was a
fifth of each page (an escape, a Markup and an attribute lookup for each of some ninety values,
a generator step for each of two hundred pieces). Here every value that comes from an article,
its review or the config goes through `escaped` (markupsafe's five characters) exactly where
article.html wrote `{{ value }}`; what is inserted whole is HTML made safe before it arrives:
the body and its short answer (sanitised, markup.py), the references (article_page.py), dates
(`when`) and the JSON-LD (escaped for a script element, schemaorg.py).

What surrounds it is the same on every article page of a build but for a few slots (the
title, the description, the canonical URL, the Open Graph tags, the `<article>`): `PageFrame`
renders article.html once with a mark in each slot, and each page fills the slots;
`CardFrames` does the same for each page's index entry (_card.html), once per review line.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from types import SimpleNamespace
from typing import Any

from markupsafe import Markup

from reviewflow.config import Config, Disclaimer
from reviewflow.content.article import Article, Author
from reviewflow.publish.article_body import PageBody
from reviewflow.publish.article_page import escaped, when
from reviewflow.publish.pages import PageInfo, Reviewer, declaration

# Marks a slot in the rendered frame. Article text cannot hold it (a file with a NUL byte is
# refused before it is parsed); a config that does makes every page be rendered whole.
MARK = "\0"
SWITCH_LABELS = {
    "patient": "I am a patient, family member or caregiver",
    "professional": "I am a healthcare professional",
}


class PageFrame:
    """article.html rendered once, its slots filled per page: RENDER(**slots) renders the
    template with every other value of the build's article pages fixed; each slot's value is
    HTML, escaped by whoever makes it."""

    def __init__(self, render: Callable[..., str], slots: Sequence[str]) -> None:
        self.render = render
        self.slots = tuple(slots)
        marked = render(**{slot: Markup(f"{MARK}{slot}{MARK}") for slot in self.slots})
        if MARK in render(**dict.fromkeys(self.slots, Markup(""))):
            self.pieces: list[str] | None = None  # a mark of the config's own, not a slot
        else:
            self.pieces = marked.split(MARK)

    def fill(self, values: Mapping[str, str]) -> str:
        """The page with each slot's HTML in place (as rendering the template with it would give)."""
        if self.pieces is None:
            return self.render(**{slot: Markup(values[slot]) for slot in self.slots})
        pieces = self.pieces.copy()
        for index in range(1, len(pieces), 2):
            pieces[index] = values[pieces[index]]
        return "".join(pieces)

    def filled(self, values: Mapping[str, Sequence[str]]) -> list[str]:
        """`fill` in pieces, each slot's HTML given as pieces: the page is their concatenation.
        Kept apart, a page's pieces are encoded one by one (pool.page_bytes): most are ASCII,
        which is copied, where the whole page as one string would be encoded a character at a
        time (one character beyond Latin-1 anywhere in it makes every character two bytes)."""
        if self.pieces is None:
            return [self.render(**{slot: Markup("".join(values[slot])) for slot in self.slots})]
        pieces: list[str] = []
        for index, piece in enumerate(self.pieces):
            if index % 2:
                pieces += values[piece]
            else:
                pieces.append(piece)
        return pieces


class CardFrames:
    """_card.html (RENDER: the template's render) rendered once per audience and review line,
    its slots (the root's path, the slug, title and summary) filled per article, escaped as the
    template escapes them: an index entry is made with every page."""

    SLOTS = ("root", "slug", "title", "summary")
    KEPT = 4096  # frames kept (one per audience, review date, state and notice)

    def __init__(self, render: Callable[..., str]) -> None:
        self.render = render
        self.frames: dict[tuple[str, bool, date | None, bool, str], PageFrame] = {}

    def fill(self, info: PageInfo, title: str, audience: str, summary: str, root: str) -> str:
        key = (audience, info.approved, info.reviewed, info.overdue, info.state)
        frame = self.frames.get(key)
        if frame is None:
            if len(self.frames) >= self.KEPT:
                self.frames.clear()
            frame = self.frames[key] = PageFrame(functools.partial(self._card, *key), self.SLOTS)
        values = {
            "root": root,
            "slug": escaped(info.slug),
            "title": escaped(title),
            "summary": escaped(summary),
        }
        return frame.fill(values).rstrip("\n")

    def _card(
        self, audience: str, approved: bool, reviewed: date | None, overdue: bool, state: str, **slots: Any
    ) -> str:
        info = SimpleNamespace(slug=slots.pop("slug"), approved=approved, reviewed=reviewed)
        info.overdue, info.state = overdue, state
        return self.render(info=info, audience=audience, **slots)


def article_head(title: str, description: str, site_name: str, canonical: str | None) -> str:
    """The page's Open Graph tags (base.html's head block)."""
    url = f'<meta property="og:url" content="{escaped(canonical)}">\n' if canonical else ""
    return (
        '<meta property="og:type" content="article">\n'
        f'<meta property="og:title" content="{escaped(title)}">\n'
        f'<meta property="og:description" content="{escaped(description)}">\n'
        f'<meta property="og:site_name" content="{escaped(site_name)}">\n{url}'
    )


def article_main(
    info: PageInfo,
    article: Article,
    shown: PageBody,
    *,
    config: Config,
    anchors: Mapping[str, str],
    audiences: Mapping[str, tuple[str, str]],
    condition_anchor: str,
    state_label: str,
    steps: Sequence[tuple[str, str]],
    references: Sequence[str],
    disclaimer: Disclaimer,
    json_ld: str,
) -> list[str]:
    """The page's `<article>` and JSON-LD (base.html's main block), in pieces (see
    `PageFrame.filled`). AUDIENCES: each audience's (who, directory); ANCHORS: board members'
    anchors on the board page, by email; STEPS: the review-status steps as (label,
    done|current|todo); REFERENCES: the references' list in pieces (article_page.reference_pieces)."""
    who, directory = audiences[article.audience]
    condition = escaped(article.condition)
    parts = ['<article class="article" aria-labelledby="title">\n']
    parts += _notices(info, config.policy.review_cycle_days, state_label)
    parts += _heading(info, article, who, directory, condition_anchor)
    if info.counterpart:
        parts += _switch(info, article.audience, audiences)
    summary = shown.short_answer or f"<p>{escaped(article.summary)}</p>"
    parts.append(
        '<section class="summary" aria-labelledby="summary-title">\n'
        f'<h2 id="summary-title">Short answer</h2>\n{summary}\n</section>\n'
    )
    parts += _review(info, article.authors, anchors)
    parts.append(tracker_html(info.state, tuple(steps)))
    parts += _contents(shown.contents)
    parts.append(f'<div class="body">\n{shown.html}\n</div>\n')
    if info.related:
        parts += _related(info, article.audience, audiences, condition_anchor, condition)
    if references:
        parts.append(
            '<section class="references" aria-labelledby="references-title">\n'
            '<h2 id="references-title">References</h2>\n<ol>\n'
        )
        parts += references
        parts.append("\n</ol>\n</section>\n")
    parts += _declarations(info, article)
    parts.append(disclaimer_html(disclaimer.audience, disclaimer.text))
    if article.tags:
        tags = " ".join(f'<span class="tag">{escaped(tag)}</span>' for tag in article.tags)
        parts.append(f'<p class="tags"><span class="visually-hidden">Topics: </span>{tags}</p>\n')
    parts += ('</article>\n<script type="application/ld+json">\n', json_ld, "\n</script>\n")
    return parts


def _heading(info: PageInfo, article: Article, who: str, directory: str, condition_anchor: str) -> list[str]:
    """The kicker (condition and audience), the title, the sponsor's notice and the standfirst."""
    parts = [
        f'<p class="kicker"><a href="../../index.html#{escaped(condition_anchor)}">'
        f"{escaped(article.condition)}</a> · "
        f'<a href="../../{escaped(directory)}/index.html">For {escaped(who.lower())}</a></p>\n'
        f'<h1 id="title">{escaped(article.title)}</h1>\n'
    ]
    if article.sponsor:
        parts.append(
            '<p class="notice sponsored" role="note"><strong>Sponsored by'
            f" {escaped(article.sponsor)}.</strong> The sponsor paid for this article. It was written and"
            " reviewed under our"
            ' <a href="../../editorial-policy/index.html">editorial policy</a>; see the declarations'
            " below.</p>\n"
        )
    standfirst = "Medically reviewed summary" if info.approved else "Summary, not yet reviewed"
    if info.updated:
        standfirst += f" · Last updated: {when(info.updated)}"
    parts.append(f'<p class="standfirst">{standfirst}</p>\n')
    return parts


def _contents(contents: Sequence[tuple[str, str]]) -> list[str]:
    """The contents list of an article with enough sections: (anchor, heading text) each."""
    if not contents:
        return []
    items = [f'<li><a href="#{escaped(anchor)}">{escaped(text)}</a></li>\n' for anchor, text in contents]
    return [
        '<nav class="contents" aria-labelledby="contents-title">\n'
        '<h2 id="contents-title">Contents</h2>\n<ol>\n',
        *items,
        "</ol>\n</nav>\n",
    ]


def _notices(info: PageInfo, cycle_days: int, state_label: str) -> list[str]:
    """The pending-review banner and the review-due notice, which head the article."""
    parts = []
    if not info.approved:
        parts.append(
            '<div class="banner pending" role="note">\n<p><strong>Pending medical review.</strong> This'
            " content has not been approved by our medical advisory board. It may be incomplete or wrong"
            f" and must not be relied on. Review status: {escaped(state_label)}.</p>\n"
        )
        if info.approved_elsewhere:
            parts.append(
                f"<p>The version approved on {when(info.approved_elsewhere)} stays on the public site"
                " until this one is approved.</p>\n"
            )
        parts.append("</div>\n")
    if info.overdue:
        parts.append(
            '<div class="notice review-due" role="note">\n<p><strong>Review due.</strong> This article'
            f" was last reviewed on {when(info.reviewed)}. Our board re-reviews every article at least"
            f" every {escaped(str(cycle_days))} days, and the review due on {when(info.review_due)} has"
            " not happened yet. Some information may be out of date.</p>\n</div>\n"
        )
    return parts


def _switch(info: PageInfo, audience: str, audiences: Mapping[str, tuple[str, str]]) -> list[str]:
    """The audience switch ("Which best describes you?"): this page, and its counterpart's link."""
    counterpart = info.counterpart
    assert counterpart is not None
    parts = [
        '<nav class="switch" aria-labelledby="switch-title">\n'
        '<h2 id="switch-title">Which best describes you?</h2>\n<ul>\n'
    ]
    for key in audiences:
        label = SWITCH_LABELS[key]
        if key == audience:
            parts.append(f'<li><span class="here" aria-current="page">{label}</span></li>\n')
        elif key == counterpart.audience:
            parts.append(
                f'<li><a href="../{escaped(counterpart.slug)}/index.html">{label}'
                f'<span class="visually-hidden">: {escaped(counterpart.title)}</span></a></li>\n'
            )
    parts.append("</ul>\n</nav>\n")
    return parts


def _review(info: PageInfo, authors: Sequence[Author], anchors: Mapping[str, str]) -> list[str]:
    """The bylines (approved text only), the authors and the dates."""
    parts = [
        '<section class="review" aria-labelledby="review-title">\n'
        '<h2 id="review-title" class="visually-hidden">Review</h2>\n'
    ]
    if info.approved:
        for reviewer in info.reviewers:
            name = f"<strong>{escaped(reviewer.name)}</strong>"
            if reviewer.email in anchors:
                name = f'<a href="../../board/index.html#{escaped(anchors[reviewer.email])}">{name}</a>'
            credentials = f", {escaped(reviewer.credentials)}" if reviewer.credentials else ""
            parts.append(f'<p class="byline">Medically reviewed by {name}{credentials}</p>\n')
    written = ", ".join(
        escaped(a.name) + (f" ({escaped(a.credentials)})" if a.credentials else "") for a in authors
    )
    parts.append(
        f'<p class="authors">Written by {written} · <a href="#declarations-title">Declarations</a> ·'
        ' <a href="../../board/index.html">Medical advisory board</a> ·'
        ' <a href="../../editorial-policy/index.html">Editorial policy</a></p>\n<dl class="dates">\n'
    )
    reviewed, updated = info.reviewed, info.updated
    if info.approved and reviewed:
        parts.append(f"<div><dt>Reviewed</dt><dd>{when(reviewed)}</dd></div>\n")
    if updated:
        parts.append(f"<div><dt>Last updated</dt><dd>{when(updated)}</dd></div>\n")
    if info.approved and info.review_due:
        parts.append(f"<div><dt>Next review due</dt><dd>{when(info.review_due)}</dd></div>\n")
    parts.append("</dl>\n</section>\n")
    return parts


def _related(
    info: PageInfo,
    audience: str,
    audiences: Mapping[str, tuple[str, str]],
    condition_anchor: str,
    condition: str,
) -> list[str]:
    """Related articles on the same condition, and a link to all of them when there are more."""
    parts = [
        '<section class="related" aria-labelledby="related-title">\n'
        '<h2 id="related-title">Related articles</h2>\n<ul>\n'
    ]
    for item in info.related:
        who = f' <span class="who">(for {escaped(audiences[item.audience][0].lower())})</span>'
        parts.append(
            f'<li><a href="../{escaped(item.slug)}/index.html">{escaped(item.title)}</a>'
            f"{who if item.audience != audience else ''}</li>\n"
        )
    parts.append("</ul>\n")
    if info.more_on_condition:
        parts.append(
            f'<p><a href="../../index.html#{escaped(condition_anchor)}">All articles on {condition}</a></p>\n'
        )
    parts.append("</section>\n")
    return parts


def _declarations(info: PageInfo, article: Article) -> list[str]:
    """Each author's and approving reviewer's competing interests, the funding and the sponsor."""
    parts = [
        '<section class="declarations" aria-labelledby="declarations-title">\n'
        '<h2 id="declarations-title">Declarations</h2>\n<dl>\n'
    ]
    for author in article.authors:
        credentials = f", {escaped(author.credentials)}" if author.credentials else ""
        parts.append(
            f'<div class="declaration"><dt>{escaped(author.name)}{credentials}'
            ' <span class="role">(author)</span></dt>'
            f"<dd>Competing interests: {escaped(declaration(author.competing_interests))}</dd></div>\n"
        )
    if info.approved:
        parts += [_reviewer_declaration(reviewer) for reviewer in info.reviewers]
    if article.funding:
        parts.append(f'<div class="declaration"><dt>Funding</dt><dd>{escaped(article.funding)}</dd></div>\n')
    if article.sponsor:
        parts.append(f'<div class="declaration"><dt>Sponsor</dt><dd>{escaped(article.sponsor)}</dd></div>\n')
    parts.append("</dl>\n</section>\n")
    return parts


def _reviewer_declaration(reviewer: Reviewer) -> str:
    who = escaped(reviewer.name)
    if reviewer.credentials:
        who += f", {escaped(reviewer.credentials)}"
    if reviewer.affiliation:
        who += f", {escaped(reviewer.affiliation)}"
    said = (
        escaped(declaration(reviewer.competing_interests))
        if reviewer.on_board
        else "not shown: no longer on the board."
    )
    return (
        f'<div class="declaration"><dt>{who} <span class="role">(medical reviewer)</span></dt>'
        f"<dd>Competing interests: {said}</dd></div>\n"
    )


@functools.lru_cache(maxsize=16)  # a few states, each the same on every page in it
def tracker_html(state: str, steps: tuple[tuple[str, str], ...]) -> str:
    """The review-status steps (Submitted → Under review → Approved) of an article in STATE."""
    items = []
    for label, status in steps:
        current = ' aria-current="step"' if status == "current" else ""
        said = {"done": " (done)", "current": " (current step)"}.get(status, " (not reached)")
        items.append(
            f'<li class="step {escaped(status)}"{current}>{escaped(label)}'
            f'<span class="visually-hidden">{said}</span></li>\n'
        )
    draft = "<p>This article has not been submitted for review.</p>\n" if state == "draft" else ""
    return (
        '<section class="tracker" aria-labelledby="tracker-title">\n'
        '<h2 id="tracker-title">Article review status</h2>\n'
        f"<ol>\n{''.join(items)}</ol>\n{draft}</section>\n"
    )


@functools.lru_cache(maxsize=16)  # one per disclaimer in reviewflow.toml
def disclaimer_html(audience: str, text: str) -> str:
    heading = "Professional medical disclaimer" if audience == "professional" else "Medical disclaimer"
    return (
        '<aside class="disclaimer" aria-labelledby="disclaimer-title">\n'
        f'<h2 id="disclaimer-title">{heading}</h2>\n<p>{escaped(text)}</p>\n</aside>\n'
    )
