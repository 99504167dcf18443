"""The editorial corpus measured: every page in tests/data/editorial/ checked in one run, each
finding compared with what the editor expected, precision and recall per rule.

`python -m tests.editorial_table` prints the per-rule table as Markdown, for the README.
"""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from reviewflow.cli.commands import cli
from tests.conftest import git, make_content_repo

CORPUS = Path(__file__).resolve().parent / "data" / "editorial"
VERDICTS = ("send back", "pass")
# reference-old depends on the calendar (a 2016 trial turns "old" in 2027): measured here, the
# corpus would drift year by year. Its own tests cover it.
CORPUS_RULES = 'rules = { "reference-old" = "off" }\n'


@dataclass(frozen=True)
class Mark:
    """One line of a page that the editor judged for one rule (column only where unambiguous)."""

    page: str
    rule: str
    line: int
    column: int | None
    quote: str
    why: str

    def covers(self, finding: Finding) -> bool:
        return (
            finding.page == self.page
            and finding.rule == self.rule
            and finding.line == self.line
            and self.column in (None, finding.column)
        )


@dataclass(frozen=True)
class Finding:
    page: str
    rule: str
    severity: str
    line: int
    column: int
    message: str


@dataclass
class Page:
    """A corpus page and its sidecar: the findings the editor expects, and the verdict."""

    slug: str
    text: str = field(repr=False)
    verdict: str
    expect: list[Mark] = field(repr=False)
    must_not_flag: list[Mark] = field(repr=False)
    acceptable: list[Mark] = field(repr=False)


def load_corpus(directory: Path = CORPUS) -> list[Page]:
    pages = []
    for article in sorted(directory.glob("*.md")):
        slug = article.stem
        sidecar = tomllib.loads((directory / f"{slug}.expected.toml").read_text(encoding="utf-8"))
        pages.append(
            Page(
                slug,
                article.read_text(encoding="utf-8"),
                sidecar["editor_verdict"],
                *(_marks(slug, sidecar.get(kind, [])) for kind in ("expect", "must_not_flag", "acceptable")),
            )
        )
    return pages


def _marks(slug: str, entries: list[dict[str, Any]]) -> list[Mark]:
    return [Mark(slug, e["rule"], e["line"], e.get("column"), e["quote"], e["why"]) for e in entries]


def check_corpus(pages: list[Page], workdir: Path) -> tuple[int, list[Finding]]:
    """Every page in one content repo, one `reviewflow check --format json`: (exit code, findings)."""
    repo = make_content_repo(workdir / "corpus")
    config = repo / "reviewflow.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("[checks]\n", "[checks]\n" + CORPUS_RULES))
    for example in (repo / "articles").glob("*.md"):
        example.unlink()
    for page in pages:
        (repo / "articles" / f"{page.slug}.md").write_text(page.text, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "The editorial corpus")
    previous = Path.cwd()
    os.chdir(repo)
    try:
        result = CliRunner().invoke(cli, ["check", "--format", "json"], catch_exceptions=False)
    finally:
        os.chdir(previous)
    assert result.exit_code in (0, 1), result.output
    payload = json.loads(result.stdout)
    return result.exit_code, [
        Finding(Path(f["path"]).stem, f["rule"], f["severity"], f["line"], f["column"], f["message"])
        for f in payload["findings"]
    ]


@dataclass
class Score:
    """One rule's counts over the corpus, and the misses and false alarms behind them."""

    rule: str
    expected: int = 0
    found: int = 0
    hits: int = 0
    misses: list[Mark] = field(default_factory=list)
    false_alarms: list[Finding] = field(default_factory=list)
    defended: list[Finding] = field(default_factory=list)  # false alarms on a must-not-flag line

    @property
    def precision(self) -> float | None:
        judged = self.hits + len(self.false_alarms)
        return self.hits / judged if judged else None

    @property
    def recall(self) -> float | None:
        return self.hits / self.expected if self.expected else None


def score(pages: list[Page], findings: list[Finding]) -> dict[str, Score]:
    """Per rule: a finding matches an expected one with the same page, rule and line (and column
    when the expectation gives one), each used once; a finding on an `acceptable` line counts
    neither way, unless a must-not-flag mark covers it too; any other finding is a false alarm."""
    scores: dict[str, Score] = {}
    by_page: dict[str, list[Finding]] = {}
    for finding in findings:
        by_page.setdefault(finding.page, []).append(finding)
    for page in pages:
        left = list(by_page.get(page.slug, []))
        # Expectations with a column first, so that a line-only one cannot take their finding.
        for mark in sorted(page.expect, key=lambda m: m.column is None):
            entry = scores.setdefault(mark.rule, Score(mark.rule))
            entry.expected += 1
            match = next((f for f in left if mark.covers(f)), None)
            if match is None:
                entry.misses.append(mark)
            else:
                entry.hits += 1
                left.remove(match)
        for finding in left:
            entry = scores.setdefault(finding.rule, Score(finding.rule))
            defended = any(mark.covers(finding) for mark in page.must_not_flag)
            if defended or not any(mark.covers(finding) for mark in page.acceptable):
                entry.false_alarms.append(finding)
            if defended:
                entry.defended.append(finding)
    for finding in findings:
        scores.setdefault(finding.rule, Score(finding.rule)).found += 1
    return dict(sorted(scores.items()))


def failing_rules(scores: dict[str, Score], precision: float = 0.9, recall: float = 0.8) -> list[str]:
    """The rules below the bar: recall for every rule with expectations, precision for every rule
    with findings (a rule the editor expects nothing of still must not raise false alarms)."""
    return [
        s.rule
        for s in scores.values()
        if (s.expected and (s.recall or 0.0) < recall)
        or (s.precision is not None and s.precision < precision)
    ]


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def markdown_table(scores: dict[str, Score]) -> str:
    rows = [
        "| rule | expected | found | matched | precision | recall | flagged on a defended line |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for s in scores.values():
        rows.append(
            f"| `{s.rule}` | {s.expected} | {s.found} | {s.hits} | {_percent(s.precision)} | "
            f"{_percent(s.recall)} | {len(s.defended)} |"
        )
    return "\n".join(rows)


def explain(scores: dict[str, Score], rules: Iterable[str]) -> str:
    """The misses and false alarms of RULES, one line each, for a failure message."""
    lines = []
    for rule in rules:
        s = scores[rule]
        lines += [f"  missed {m.page}.md:{m.line}: {rule} ({m.why})" for m in s.misses]
        lines += [
            f"  false alarm {f.page}.md:{f.line}:{f.column}: {rule} {f.message}"
            + (" [on a must-not-flag line]" if f in s.defended else "")
            for f in s.false_alarms
        ]
    return "\n".join(lines)


def main() -> None:
    os.environ.setdefault("GIT_AUTHOR_NAME", "Editorial Corpus")
    os.environ.setdefault("GIT_AUTHOR_EMAIL", "corpus@editorial.example")
    os.environ.setdefault("GIT_COMMITTER_NAME", os.environ["GIT_AUTHOR_NAME"])
    os.environ.setdefault("GIT_COMMITTER_EMAIL", os.environ["GIT_AUTHOR_EMAIL"])
    os.environ["GIT_CONFIG_GLOBAL"] = os.devnull  # no signing or hooks from the user's own config
    os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
    pages = load_corpus()
    with tempfile.TemporaryDirectory() as workdir:
        _, findings = check_corpus(pages, Path(workdir))
    print(markdown_table(score(pages, findings)))


if __name__ == "__main__":
    main()
