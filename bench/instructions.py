"""Instructions per article of a cold `check` and of its parsing parts, by valgrind's cachegrind.

    .venv/bin/python bench/instructions.py CORPUS [PART ...]

CORPUS is a content repository (a copy: a run keeps the lockfile's index in its
.reviewflow-cache/; keep the shared corpora clean), such as one `make bench` generates. For each
PART (default: all) the script runs itself twice under `valgrind --tool=cachegrind
--cache-sim=no` with `PYTHONHASHSEED=0` (after one run uncounted, which makes that index),
once doing PART for 300 of the corpus's articles and once for none, and prints the difference
divided by 300: the instructions one article costs, which the machine's load does not move
(CPU time on a shared machine moves by a third). Parts:

- check: `Workspace.check_files` (read, parse, every rule; no findings cache)
- frontmatter: the file split and the front-matter read (`read_article_bytes`)
- model: the schema check and the Article model
- body: the body read into prose (`read_prose`: the plain reading, or Comrak's tree and the walk)
- sentences: `Prose.sentence_starts`
- words: `Prose.word_set` (the lowered text, the word counts and their set)
- totals: `Prose.word_set` and `readability.prose_totals` (every table of the words: the
  vocabularies' and the reading grade's)

README.md ("What bounds the rows that miss") quotes the results.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ARTICLES = 300
PARTS = ("check", "frontmatter", "model", "body", "sentences", "words", "totals")


def run_part(corpus: Path, part: str, count: int) -> None:
    """Do PART for the first COUNT of 300 articles, after everything it needs is ready."""
    from reviewflow.checks.readability import prose_totals
    from reviewflow.checks.rules import warm_up
    from reviewflow.checks.workspace import Workspace
    from reviewflow.content.article import Article
    from reviewflow.content.frontmatter import read_article_bytes
    from reviewflow.content.prose import read_prose

    workspace = Workspace.open(corpus)
    files = workspace.article_files()[:ARTICLES]
    context = workspace.context()
    warm_up(context.config.checks)
    raws = [path.read_bytes() for path in files]
    splits = [read_article_bytes(raw, 10**7) for raw in raws]
    proses = [read_prose(split.body, split.body_line) for split in splits]
    workspace.check_files(files[:3], context, None)  # every table a rule loads on first use
    if part == "check":
        workspace.check_files(files[:count], context, None)
    for raw, split, prose in list(zip(raws, splits, proses, strict=True))[:count]:
        if part == "frontmatter":
            read_article_bytes(raw, 10**7)
        elif part == "model":
            assert split.data is not None
            workspace.schema.errors(split.data)
            Article.model_validate(split.data)
        elif part == "body":
            read_prose(split.body, split.body_line)
        elif part == "sentences":
            _ = prose.sentence_starts
        elif part == "words":
            _ = prose.word_set
        elif part == "totals":
            _ = prose.word_set, prose_totals(prose)


def instructions(corpus: Path, part: str, count: int) -> int:
    return cachegrind([__file__, "--run", str(corpus), part, str(count)], part)


def cachegrind(arguments: list[str], what: str) -> int:
    """The instructions `python ARGUMENTS` runs, by cachegrind, with PYTHONHASHSEED=0 (WHAT names
    it if valgrind fails). bench/page_instructions.py counts with it too."""
    command = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
    command += [sys.executable, *arguments]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if done.returncode != 0 or found is None:
        sys.exit(f"{what}: valgrind failed\n{done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def main() -> None:
    if sys.argv[1:2] == ["--run"]:
        run_part(Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
        return
    corpus = Path(sys.argv[1])
    # Once uncounted first: the first run of a code on a corpus makes and keeps the lockfile's
    # index (.reviewflow-cache/), which would be counted in the first count only (12.59 M an
    # article for 2.85 M).
    subprocess.run([sys.executable, __file__, "--run", str(corpus), "check", "0"], check=True)
    for part in sys.argv[2:] or PARTS:
        per_article = (instructions(corpus, part, ARTICLES) - instructions(corpus, part, 0)) / ARTICLES
        print(f"{part:12s} {per_article / 1e6:.2f} M instructions an article", flush=True)


if __name__ == "__main__":
    main()
