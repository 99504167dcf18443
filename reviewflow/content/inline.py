"""The inline rules the prose needs: code spans and raw inline HTML, blanked out of a text.

CommonMark 0.31 (https://spec.commonmark.org/0.31.2/) sections 6.1 (code spans), 6.5
(autolinks) and 6.6 (raw HTML); commonmark.py finds the blocks, and its HTML blocks of kind 7
share the tag patterns here.
"""

from __future__ import annotations

import re
from functools import lru_cache

_TAG_NAME = r"[A-Za-z][A-Za-z0-9-]*"
_ATTRIBUTE = r"""(?:\s+[A-Za-z_:][A-Za-z0-9_.:-]*(?:\s*=\s*(?:[^"'=<>`\x00-\x20]+|'[^']*'|"[^"]*"))?)"""
OPEN_TAG = rf"<{_TAG_NAME}{_ATTRIBUTE}*\s*/?>"
CLOSE_TAG = rf"</{_TAG_NAME}\s*>"
# Raw inline HTML (spec 6.6): tags, comments, processing instructions, declarations, CDATA.
_INLINE_HTML = re.compile(
    rf"{OPEN_TAG}|{CLOSE_TAG}|<!---?>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<![A-Za-z][^>]*>"
    r"|<!\[CDATA\[[\s\S]*?\]\]>"
)
_AUTOLINK = re.compile(
    r"<[A-Za-z][A-Za-z0-9.+-]{1,31}:[^\x00-\x20<>]*>"
    r"|<[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*>"
)
_INLINE_SPECIAL = re.compile(r"\\[\s\S]|`+|<")


def blank_inline(text: str, html: list[int] | None = None) -> str:
    """TEXT with its code spans and raw inline HTML replaced by spaces (same length).

    TEXT holds one block per line: nothing is matched across a newline. HTML, when given,
    collects the offset of each piece of raw inline HTML."""
    if "`" not in text and "<" not in text:
        return text
    pieces: list[str] = []
    done = 0
    position = 0
    while (special := _INLINE_SPECIAL.search(text, position)) is not None:
        begin = special.start()
        token = special.group()
        end = special.end()
        if token[0] == "\\":
            position = end
            continue
        block_end = text.find("\n", begin)
        if block_end < 0:
            block_end = len(text)
        if token[0] == "`":
            closer = _closing_run(len(token)).search(text, end, block_end)
            if closer is None:
                position = end  # no closing run: the backticks are literal text
                continue
            end = closer.end()
        elif (autolink := _AUTOLINK.match(text, begin, block_end)) is not None:
            position = autolink.end()  # a link, not markup: its text stays
            continue
        elif (tag := _INLINE_HTML.match(text, begin, block_end)) is not None:
            end = tag.end()
            if html is not None:
                html.append(begin)
        else:
            position = end
            continue
        pieces.append(text[done:begin])
        pieces.append(" " * (end - begin))
        done = position = end
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


@lru_cache(maxsize=32)
def _closing_run(length: int) -> re.Pattern[str]:
    return re.compile(rf"(?<!`)`{{{length}}}(?!`)")
