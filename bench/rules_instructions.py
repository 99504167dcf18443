"""The instructions `check`'s rules spend per article, under valgrind (a benchmark, not a test).

    cd CORPUS_CHECKOUT
    PYTHONHASHSEED=0 valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
        python /path/to/bench/rules_instructions.py rules 300
    (the same with `none` instead of `rules`; the difference of the two "I refs", over 300)

Both runs read the articles 100-399 of the corpus (after 20 to warm up, in both), parse each
and build its prose with the word and sentence tables of content/prose.py (with
`--tables-in-rules`, those are left for the rules to build, as in a cold `check`, and counted
with them); `rules` then runs `check_document` on each. cachegrind counts instructions, which
the load of other processes does not move.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from reviewflow.checks.readability import warm_up  # noqa: E402
from reviewflow.checks.rules import check_document  # noqa: E402
from reviewflow.checks.workspace import Workspace  # noqa: E402
from reviewflow.content.article import Document  # noqa: E402
from reviewflow.files import read_limited  # noqa: E402


def main() -> None:
    case, count = sys.argv[1], int(sys.argv[2])
    tables_in_rules = "--tables-in-rules" in sys.argv
    gc.set_threshold(100_000, 50, 50)  # as cli/app.py sets it
    workspace = Workspace.open(Path("."))
    files = workspace.article_files()
    context = workspace.context()
    warm_up()

    def parsed(path: Path) -> Document:
        raw, _ = read_limited(workspace.root, path, workspace.config.checks.max_file_bytes)
        document = workspace.parse(workspace.relative(path), raw)
        prose = document.prose
        if not tables_in_rules:
            built = (prose.word_counts, prose.word_set, prose.sentence_starts, prose.lowered)
            assert built
        return document

    for path in files[:20]:
        check_document(parsed(path), context)
    for path in files[100 : 100 + count]:
        document = parsed(path)
        if case == "rules":
            check_document(document, context)


if __name__ == "__main__":
    main()
