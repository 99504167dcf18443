"""Instructions per article page of a full `publish`, by valgrind's cachegrind.

    .venv/bin/python bench/page_instructions.py CORPUS

CORPUS is a content repository (a copy, such as one `make bench` generates; nothing in it is
written). The script works out the first 303 pages' facts and texts once, outside valgrind
(the history's judging would take minutes under it), then runs itself twice under
`valgrind --tool=cachegrind --cache-sim=no` with `PYTHONHASHSEED=0`: once rendering 300 of the
pages as a worker does (the parse, the page's HTML, its listing, its search terms and their
JSON, the encoding; not the writing) and once none, after three pages that warm every table up.
The difference divided by 300 is what one page costs, which the machine's load does not move.
README.md ("What bounds the rows that miss") quotes the results.
"""

from __future__ import annotations

import pickle
import sys
import tempfile
from pathlib import Path

from instructions import cachegrind  # bench/instructions.py, beside this script

PAGES = 300
BASE_URL = "https://bench.example.org"


def prepare(corpus: Path, into: Path) -> None:
    """The first PAGES + 3 pages' infos (with their neighbours) and texts, pickled INTO."""
    from reviewflow.gitstore import GitStore
    from reviewflow.publish.collect import ContentHistory, page_infos
    from reviewflow.publish.neighbours import link_neighbours
    from reviewflow.publish.notes import build_time
    from reviewflow.review.board import committed_config
    from reviewflow.review.queries import judge_history

    store = GitStore.open(corpus)
    config = committed_config(store)
    judged = judge_history(store, config, use_cache=False)
    history = ContentHistory(build_time(), judged.appeared)
    infos = page_infos(judged.outcome.statuses, config, history, store.article_path, False, build_time())
    linked, _ = link_neighbours(store, infos, None, config.checks.max_file_bytes)
    chosen = linked[: PAGES + 3]
    texts = [(corpus / info.path).read_bytes() for info in chosen]
    into.write_bytes(pickle.dumps((chosen, texts)))


def run(corpus: Path, pages: Path, count: int) -> None:
    """Render COUNT of the pickled pages, after the last three."""
    from reviewflow.gitstore import GitStore
    from reviewflow.publish.pool import render_page, site_renderer
    from reviewflow.publish.search import terms_text
    from reviewflow.review.board import committed_config
    from reviewflow.review.history import committed_schema

    store = GitStore.open(corpus)
    config = committed_config(store)
    renderer = site_renderer(config, BASE_URL, False)
    schema = committed_schema(store)
    infos, texts = pickle.loads(pages.read_bytes())
    work = list(zip(infos, texts, strict=True))
    for info, raw in work[PAGES:] + work[:count]:
        outcome = render_page(renderer, schema, config.checks.max_file_bytes, info, raw)
        assert not isinstance(outcome, str), outcome
        _, meta = outcome
        terms_text(meta.pop("search"))


def instructions(corpus: Path, pages: Path, count: int) -> int:
    return cachegrind([__file__, "--run", str(corpus), str(pages), str(count)], "pages")


def main() -> None:
    if sys.argv[1:2] == ["--run"]:
        run(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
        return
    corpus = Path(sys.argv[1]).resolve()
    with tempfile.TemporaryDirectory() as scratch:
        pages = Path(scratch) / "pages.pickle"
        prepare(corpus, pages)
        per_page = (instructions(corpus, pages, PAGES) - instructions(corpus, pages, 0)) / PAGES
    print(f"{per_page / 1e6:.2f} M instructions a page", flush=True)


if __name__ == "__main__":
    main()
