"""`check` over its pool of forked workers: the same findings, in the same order, as one
process checking every file, however the files are split among the workers."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from reviewflow.checks.workspace import PARALLEL_THRESHOLD, Workspace
from reviewflow.workers import tapering_chunks
from tests.conftest import article_text, git, write


def test_chunks_taper_and_hold_every_item_once_in_order() -> None:
    items = list(range(10_000))
    chunks = tapering_chunks(items, 2, 16, 250)
    assert [item for chunk in chunks for item in chunk] == items
    sizes = [len(chunk) for chunk in chunks]
    assert max(sizes) == 250 and min(sizes[:-1]) == 16  # the last one holds what is left
    assert sizes == sorted(sizes, reverse=True)  # large first, small at the end
    assert tapering_chunks([], 2, 16, 250) == []
    assert [len(chunk) for chunk in tapering_chunks(list(range(20)), 4, 16, 250)] == [16, 4]


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="check runs in one process on one CPU")
def test_pooled_check_reports_what_one_process_reports(
    content_repo: Path, run: Callable[..., Result]
) -> None:
    count = PARALLEL_THRESHOLD + 40
    for number in range(count):
        body = "POEMS syndrome is rare [1].\n"
        if number % 60 == 7:  # a finding here and there, the last near the end
            body = "POEMS syndrome is rare [2].\n"
        write(
            content_repo / "articles" / f"topic-{number:04d}.md", article_text(body, title=f"Topic {number}")
        )
    write(content_repo / "articles" / "topic-0239.md", "not an article\n")
    git(content_repo, "add", "-A")
    git(content_repo, "commit", "-q", "-m", "many articles")

    result = run(content_repo, "check", "--format", "json", "--no-cache")

    assert result.exit_code == 1, result.output
    pooled = [(f["path"], f["line"], f["column"], f["rule"]) for f in json.loads(result.output)["findings"]]
    workspace = Workspace.open(content_repo)
    alone = workspace.check(workspace.article_files(), jobs=1)
    assert pooled == [(f.path, f.line, f.column, f.rule) for f in alone.findings]
    assert ("articles/topic-0187.md", 19, 24, "citation-unknown") in pooled
    assert pooled[-1][0] == "articles/topic-0239.md"
