"""A word-level diff of two versions of an article: its front-matter field by field, its prose
paragraph by paragraph, each change marked word by word.

The two texts come from the library's own diff (`ContentRepo.diff`, taken with all of the file
as context), so what counts as "the last approved version" is decided in one place only.
Pure: text in, plain data out; the desk's templates render it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["same", "added", "removed"]
# A word, a run of spaces, or one other character: changes are marked on whole words.
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)
_FIELD = re.compile(r"^([A-Za-z_][\w-]*)\s*:")  # a top-level front-matter key
WHOLE_FILE = 10**9  # as unified-diff context: every line of both versions


@dataclass(frozen=True)
class Piece:
    kind: Kind
    text: str


@dataclass(frozen=True)
class Block:
    """One front-matter field or one stretch of prose: what it says now, changes marked."""

    name: str  # the field's key ("" for prose)
    pieces: tuple[Piece, ...]

    @property
    def changed(self) -> bool:
        return any(p.kind != "same" for p in self.pieces)


@dataclass(frozen=True)
class WordDiff:
    fields: list[Block] = field(default_factory=list)
    prose: list[Block] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(b.changed for b in (*self.fields, *self.prose))


def texts_of_unified(lines: list[str]) -> tuple[str, str]:
    """The old and new texts of a unified diff taken with WHOLE_FILE context (one hunk)."""
    old: list[str] = []
    new: list[str] = []
    body = lines[2:] if len(lines) >= 2 and lines[0].startswith("---") else lines
    for line in body:
        if line.startswith("@@"):
            continue
        mark, text = line[:1], line[1:]
        if mark in (" ", "-"):
            old.append(text)
        if mark in (" ", "+"):
            new.append(text)
    return "\n".join(old), "\n".join(new)


def word_diff(old: str, new: str) -> WordDiff:
    """OLD against NEW: each front-matter field and the prose, changes marked word by word."""
    old_fields, old_body = _split(old)
    new_fields, new_body = _split(new)
    fields = [
        Block(name, _pieces(old_fields.get(name, ""), new_fields.get(name, "")))
        for name in [*new_fields, *(k for k in old_fields if k not in new_fields)]
    ]
    return WordDiff(fields, _prose(old_body, new_body))


def _split(text: str) -> tuple[dict[str, str], str]:
    """Front-matter fields (key -> its lines, as written) and the body after it."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() in ("---", "..."))
    except StopIteration:
        return {}, text
    fields: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lines[1:end]:
        match = _FIELD.match(line)
        if match and not line[:1].isspace():
            current = fields.setdefault(match.group(1), [])
        if current is not None:
            current.append(line)
    return {key: "\n".join(value) for key, value in fields.items()}, "\n".join(lines[end + 1 :])


def _paragraphs(body: str) -> list[str]:
    return [p.strip("\n") for p in re.split(r"\n\s*\n", body) if p.strip()]


def _prose(old: str, new: str) -> list[Block]:
    """Paragraphs aligned first (cheap, and a moved paragraph stays whole), then words."""
    before, after = _paragraphs(old), _paragraphs(new)
    blocks: list[Block] = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            blocks += [Block("", (Piece("same", p),)) for p in after[j1:j2]]
        elif op == "replace" and i2 - i1 == j2 - j1:
            blocks += [Block("", _pieces(a, b)) for a, b in zip(before[i1:i2], after[j1:j2], strict=True)]
        elif op == "replace":
            blocks.append(Block("", _pieces("\n\n".join(before[i1:i2]), "\n\n".join(after[j1:j2]))))
        elif op == "delete":
            blocks += [Block("", (Piece("removed", p),)) for p in before[i1:i2]]
        else:
            blocks += [Block("", (Piece("added", p),)) for p in after[j1:j2]]
    return blocks


def _pieces(old: str, new: str) -> tuple[Piece, ...]:
    if old == new:
        return (Piece("same", new),) if new else ()
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    pieces: list[Piece] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            _add(pieces, "same", "".join(b[j1:j2]))
            continue
        if op in ("delete", "replace"):
            _add(pieces, "removed", "".join(a[i1:i2]))
        if op in ("insert", "replace"):
            _add(pieces, "added", "".join(b[j1:j2]))
    return tuple(pieces)


def _add(pieces: list[Piece], kind: Kind, text: str) -> None:
    """Append, merging with the previous piece of the same kind (fewer, longer marks)."""
    if not text:
        return
    if pieces and pieces[-1].kind == kind:
        pieces[-1] = Piece(kind, pieces[-1].text + text)
    else:
        pieces.append(Piece(kind, text))
