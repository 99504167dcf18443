"""An article: `articles/<slug>.md`, YAML front-matter plus a Markdown body.

`parse_document` turns the bytes of one file into a Document: the typed Article when the
front-matter is valid, plus every problem found on the way. It never raises for bad input,
so one broken file never hides the findings of the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from reviewflow.config import Audience
from reviewflow.content.frontmatter import Positions, read_article_bytes
from reviewflow.content.prose import Citation, Prose, Sentence, read_prose
from reviewflow.content.schema import ArticleSchema
from reviewflow.findings import Finding, Severity
from reviewflow.layout import SLUG_PATTERN


class Author(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str
    email: str
    credentials: str | None = None
    # The author's declaration; "none" is one. Missing: the disclosure-missing rule says so.
    competing_interests: str | None = None


class Reference(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: int
    type: str
    title: str
    source: str
    year: int
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    url: str | None = None


class Article(BaseModel):
    """The validated front-matter and body of one article."""

    # Publishers may extend the schema: their extra fields are kept, not rejected here.
    model_config = ConfigDict(extra="allow", frozen=True)

    title: str
    summary: str
    audience: Audience
    condition: str
    authors: list[Author]
    disclaimer: str
    references: list[Reference]
    tags: list[str] = []
    funding: str | None = None  # who paid for the writing
    sponsor: str | None = None  # set: the page is marked "Sponsored by …"
    counterpart: str | None = None  # the slug of the same condition's article for the other audience

    def reference(self, reference_id: int) -> Reference | None:
        return next((r for r in self.references if r.id == reference_id), None)


@dataclass
class Document:
    """One article file as read: where it is, what parsed, and what went wrong."""

    path: str  # relative to the content repo root, with forward slashes
    slug: str
    article: Article | None = None
    body: str = ""
    body_line: int = 1
    positions: Positions = field(default_factory=dict)
    key_positions: Positions = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    positions_later: Callable[[], tuple[Positions, Positions]] | None = None

    @cached_property
    def prose(self) -> Prose:
        return read_prose(self.body, self.body_line)

    @property
    def citations(self) -> list[Citation]:
        return self.prose.citations

    @property
    def sentences(self) -> list[Sentence]:
        return self.prose.sentences

    def load_positions(self) -> None:
        """Fill `positions` and `key_positions` if they were left for later."""
        if self.positions_later is not None:
            self.positions, self.key_positions = self.positions_later()
            self.positions_later = None

    def position(self, *path: str | int) -> tuple[int, int]:
        """Line and column of a front-matter value, falling back to its nearest parent."""
        self.load_positions()
        while path:
            if path in self.positions:
                return self.positions[path]
            path = path[:-1]
        return self.positions.get((), (1, 1))


def slug_of(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name[:-3] if name.endswith(".md") else name


def parse_document(
    path: str, raw: bytes, schema: ArticleSchema, max_bytes: int, size: int | None = None
) -> Document:
    """Read one article file into a Document. Pure: bytes in, data out. SIZE is the file's
    real size when RAW holds only its first bytes (enough to know it is over MAX_BYTES)."""
    doc = Document(path=path, slug=slug_of(path))
    if not SLUG_PATTERN.match(doc.slug):
        doc.findings.append(
            Finding.error(
                "slug",
                path,
                1,
                1,
                f"file name {doc.slug!r} is not a valid slug: "
                "use lowercase letters, digits and single hyphens",
            )
        )
    split = read_article_bytes(raw, max_bytes, size)
    doc.findings.extend(Finding.error(p.rule, path, p.line, p.column, p.message) for p in split.problems)
    doc.body, doc.body_line = split.body, split.body_line
    doc.positions, doc.key_positions = split.positions, split.key_positions
    doc.positions_later = split.positions_later
    if split.data is None:
        return doc
    schema_findings = [
        Finding.error("schema", path, *_locate(doc, error_path, key), message)
        for error_path, key, message in schema.errors(split.data)
    ]
    doc.findings.extend(schema_findings)
    if not schema_findings:
        try:
            doc.article = Article.model_validate(split.data)
        except ValidationError as exc:
            # The publisher's schema is looser than the fields reviewflow itself relies on.
            for error in exc.errors():
                loc = tuple(error["loc"])
                doc.findings.append(
                    Finding.error("schema", path, *doc.position(*loc), f"{_dotted(loc)}: {error['msg']}")
                )
    return doc


def _locate(doc: Document, error_path: tuple[str | int, ...], key: str | None) -> tuple[int, int]:
    doc.load_positions()
    if key is not None and (*error_path, key) in doc.key_positions:
        return doc.key_positions[(*error_path, key)]
    return doc.position(*error_path)


def _dotted(loc: tuple[Any, ...]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")


__all__ = ["Article", "Author", "Document", "Reference", "Severity", "parse_document", "slug_of"]
