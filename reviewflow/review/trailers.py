"""What a review commit's message says: its Reviewflow-* trailers, read and checked, and the event.

Pure: the commit comes in as a `gitlog.LogEntry`, the event goes out (history.py reads the log).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from sys import intern
from typing import NamedTuple

from reviewflow.gitlog import LogEntry, is_object_id
from reviewflow.layout import SLUG_PATTERN
from reviewflow.review.model import Action, Event

TRAILER_ARTICLE = "Reviewflow-Article"
TRAILER_ACTION = "Reviewflow-Action"
TRAILER_CONTENT = "Reviewflow-Content"
# On an approval: one warning of the approved text that the reviewer acknowledged (acknowledge.py).
TRAILER_ACCEPT = "Reviewflow-Accept"
_TRAILER_LINE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*:\s")
# One paragraph of trailer lines, split at "\n" only: no blank line, no other line break.
_ONLY_TRAILERS = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9-]*:[ \t][^\n\r\v\f\x1c-\x1e\x85\u2028\u2029]*"
    r"(?:\n[A-Za-z0-9][A-Za-z0-9-]*:[ \t][^\n\r\v\f\x1c-\x1e\x85\u2028\u2029]*)*"
)

_ACTIONS = {a.value: a for a in Action}
_KEYS = {k.lower(): k for k in (TRAILER_ARTICLE, TRAILER_ACTION, TRAILER_CONTENT)}
# A trailer block exactly as reviewflow writes it (git's %(trailers:only,unfold)): the three
# trailers with sound values, then any Reviewflow-Accept lines. What `read_trailers` makes of
# such a block is known without its general loop; any other block goes that way.
_PLAIN_BLOCK = re.compile(
    rf"{TRAILER_ARTICLE}: ([a-z0-9]+(?:-[a-z0-9]+)*)\n"
    rf"{TRAILER_ACTION}: ({'|'.join(re.escape(a) for a in _ACTIONS)})\n"
    rf"{TRAILER_CONTENT}: ([0-9a-f]{{40}}(?:[0-9a-f]{{24}})?)\n"
    rf"((?:{TRAILER_ACCEPT}:[^\n]*\n)*)"
)


class Trailers(NamedTuple):
    """What a commit's Reviewflow-* trailers say, and what is wrong with them."""

    action: Action | None
    slug: str
    content: str
    problem: str | None
    accepted: tuple[str, ...] = ()  # the values of its Reviewflow-Accept trailers, as written
    message: str | None = None  # the message without its trailers, where read already


def read_block(block: str) -> Trailers | None:
    """What a trailer block as reviewflow writes it says (`read_trailers` of its trailers), or
    None for any other block: one regular expression, where most of 50,000 events took the
    trailers apart one by one."""
    plain = plain_block(block)
    return None if plain is None else Trailers(*plain[:3], None, plain[3])


def plain_block(block: str) -> tuple[Action, str, str, tuple[str, ...]] | None:
    """The action, slug, content and accepted warnings of a trailer block as reviewflow writes
    it (`read_block`), or None for any other block."""
    plain = _PLAIN_BLOCK.fullmatch(block)
    if plain is None:
        return None
    slug, action, content, accept = plain.groups()
    accepted = tuple(line.partition(":")[2].strip() for line in accept.split("\n")[:-1]) if accept else ()
    return _ACTIONS[action], slug, content, accepted


# Reviewflow-Accept lines that `_ONLY_TRAILERS` takes as they are, and that `strip` leaves whole:
# a value of printable ASCII that begins and ends with a character other than a space.
_PLAIN_ACCEPTS = re.compile(rf"(?:{TRAILER_ACCEPT}: [!-~](?:[ -~]*[!-~])?\n)*")


def plain_message(body: str, block: str) -> str | None:
    """`message_of(BODY)` where BODY is BLOCK, a trailer block as reviewflow writes it
    (`plain_block`) whose Reviewflow-Accept lines are plain, alone or after one line and a
    blank line: that line, stripped (""). None for any other body (then `message_of` reads it).

    The same answer without stripping and splitting the body and matching its trailers again:
    a fifth of the log's parse on the main thread at 100,000 articles."""
    if not body.endswith(block):
        return None
    head = body[: len(body) - len(block)]
    if head and (not head.endswith("\n\n") or "\n" in head[:-2]):
        return None
    accepts = block.find(TRAILER_ACCEPT)
    if accepts >= 0 and not _PLAIN_ACCEPTS.fullmatch(block, accepts):
        return None
    return head[:-2].strip()


def read_trailers(trailers: Sequence[tuple[str, str]]) -> Trailers:
    if len(trailers) == 3:  # the three trailers as reviewflow writes them: no questions
        (article_key, slug), (action_key, action_name), (content_key, content) = trailers
        action = _ACTIONS.get(action_name)
        if (
            article_key == TRAILER_ARTICLE
            and action_key == TRAILER_ACTION
            and content_key == TRAILER_CONTENT
            and action is not None
            and SLUG_PATTERN.match(slug)
            and is_object_id(content)
        ):
            return Trailers(action, slug, content, None)
    problems: list[str] = []
    found = {key.lower(): value for key, value in trailers}
    if len(trailers) != 3 or len(found) != 3 or not found.keys() <= _KEYS.keys():
        # Not simply the three trailers, once each (as reviewflow writes them): look closer.
        values: dict[str, set[str]] = {}
        for key, value in trailers:
            values.setdefault(key.lower(), set()).add(value)
        found = {}
        for lower, key in _KEYS.items():
            given = values.get(lower, set())
            if len(given) == 1:
                found[lower] = next(iter(given))
            elif given:
                problems.append(f"the commit has {len(given)} different {key} trailers")
            else:
                problems.append(f"the {key} trailer is missing")
    slug = found.get(TRAILER_ARTICLE.lower(), "")
    action_name = found.get(TRAILER_ACTION.lower(), "")
    content = found.get(TRAILER_CONTENT.lower(), "")
    if slug and not SLUG_PATTERN.match(slug):
        problems.append(f"{slug!r} in the {TRAILER_ARTICLE} trailer is not an article slug")
        slug = ""
    action = _ACTIONS.get(action_name)
    if action_name and action is None:
        expected = ", ".join(_ACTIONS)
        problems.append(f"unknown action {action_name!r} (expected one of {expected})")
    if content and not is_object_id(content):
        problems.append(f"{content!r} in the {TRAILER_CONTENT} trailer is not a blob id")
    accept = TRAILER_ACCEPT.lower()
    accepted = tuple(value for key, value in trailers if key.lower() == accept)
    return Trailers(action, slug, content, "; ".join(problems) or None, accepted)


def event_from(
    entry: LogEntry,
    committed_blob: str | None = None,
    signature: tuple[str, str] = ("N", ""),
    trailers: Trailers | None = None,
) -> Event | None:
    """The review event a commit records, or None if it has no Reviewflow-* trailer.

    TRAILERS: what the caller read of them already (then they are not parsed again)."""
    said = trailers
    if said is None:
        found = entry.trailers
        if not found:
            return None
        said = read_trailers(found)
    message = said.message if said.message is not None else intern(message_of(entry.body))
    # Positional, in the order Event declares its fields (valid, reason and superseded are
    # replay's to set): a third of the cost of keywords, for every event of a cold read.
    return Event._make(
        (
            entry.commit, entry.parents, entry.author_name, entry.author_email, entry.committed_at,
            said.action, said.slug, said.content, message, signature[0], signature[1], committed_blob,
            said.problem, False, None, False, said.accepted,
        )
    )  # fmt: skip


def message_of(body: str) -> str:
    """The body of a commit message without its trailer paragraph."""
    text = body.strip()
    head, _, last = text.rpartition("\n\n")
    if "\n" not in head and _ONLY_TRAILERS.fullmatch(last):
        # The common cases, trailers alone or after a one-line message: what the general way finds.
        return head.strip()
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    if paragraphs and all(_TRAILER_LINE.match(line) for line in paragraphs[-1].splitlines()):
        paragraphs.pop()
    return "\n\n".join(paragraphs).strip()
