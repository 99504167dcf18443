"""Front-matter reading: the plain reader against libyaml, per front-matter and on a cold `check`.

    .venv/bin/python bench/frontmatter.py [ARTICLES] [DIRECTORY]

Prints the median CPU time to read one ~4 KB front-matter (the bench corpus's front-matter
with 26 references) by `plainyaml.read_plain` and by the libyaml path (compose with the YAML
1.2 resolver and the node walk; the event screen, which runs only on front-matter holding
`&`, `*`, `!` or `%`), then times a cold
`reviewflow check --no-cache` of ARTICLES (default 2,000) generated articles with the plain
reader and with it switched off (libyaml for every file), alternately, three times each.
Switching it off replaces `frontmatter.read_plain`, which compiled code would never see, so the
script runs every module from its source (REVIEWFLOW_PURE=1): the times are pure Python's.
README.md ("Front-matter YAML") quotes the results.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["REVIEWFLOW_PURE"] = "1"  # before reviewflow is imported: read_plain is replaced below

import yaml  # noqa: E402

from bench.corpus import AUTHORS, CONDITIONS, Article, render  # noqa: E402
from reviewflow.cli.commands import cli  # noqa: E402
from reviewflow.cli.scaffold import init_repo  # noqa: E402
from reviewflow.content import frontmatter, yamlloader, yamlstrict  # noqa: E402
from reviewflow.content.plainyaml import read_plain  # noqa: E402

PLAIN = frontmatter.read_plain


def front_matter(text: str) -> str:
    return text.split("---\n", 2)[1]


def per_call(function: object, repeat: int = 2000) -> float:
    times = []
    for _ in range(7):
        start = time.process_time()  # CPU time: the machine may be shared
        for _ in range(repeat):
            function()  # type: ignore[operator]
        times.append((time.process_time() - start) / repeat)
    return statistics.median(times)


def one_front_matter() -> None:
    article = Article("poems-syndrome-outlook", "patient", CONDITIONS[0], AUTHORS[0], 26, seed=3)
    source = front_matter(render(article).decode())
    assert read_plain(source, 1) is not None
    print(f"front-matter: {len(source.encode())} bytes, {source.count(chr(10))} lines")
    plain = per_call(lambda: read_plain(source, 1, positions=False))
    plain_positions = per_call(lambda: read_plain(source, 1))

    def libyaml() -> None:
        frontmatter._read_yaml(source, frontmatter.Split(), 1, front_matter=True)

    print(f"read_plain (data only, as check reads most files): {plain * 1e6:.0f} µs")
    print(f"read_plain with positions:                        {plain_positions * 1e6:.0f} µs")

    def screen() -> None:
        yamlstrict.screen(yaml.parse(source, Loader=yamlloader.Loader))

    print(f"libyaml: compose + walk (YAML 1.2 resolver):       {per_call(libyaml, 300) * 1e6:.0f} µs")
    print(f"  + the event screen (only with & * ! or %):       {per_call(screen, 300) * 1e6:.0f} µs")


def cold_check(count: int, directory: Path) -> None:
    repo = directory / "library"
    if not (repo / "articles").is_dir():
        init_repo(repo)
        (repo / "articles" / "what-is-poems-syndrome.md").unlink()
        rng = random.Random(5)
        for n in range(count):
            slug = f"article-{n:05d}"
            article = Article(slug, rng.choice(["patient", "professional"]), rng.choice(CONDITIONS),
                              rng.choice(AUTHORS), rng.randint(4, 12), seed=n)  # fmt: skip
            (repo / "articles" / f"{slug}.md").write_bytes(render(article))
    results: dict[str, list[tuple[float, float]]] = {"plain reader": [], "libyaml only": []}
    for _ in range(3):
        for name, reader in (("plain reader", PLAIN), ("libyaml only", lambda *a, **k: None)):
            frontmatter.read_plain = reader  # type: ignore[assignment]
            before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
                cli.main(["-C", str(repo), "check", "--no-cache", "--format", "json"], standalone_mode=False)
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = sum(
                a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime for a, b in zip(after, before, strict=True)
            )
            results[name].append((wall, cpu))
    frontmatter.read_plain = PLAIN
    for name, runs in results.items():
        walls = ", ".join(f"{wall:.2f}" for wall, _ in runs)
        cpus = ", ".join(f"{cpu:.2f}" for _, cpu in runs)
        print(f"cold check of {count} articles, {name}: wall {walls} s; CPU {cpus} s")


if __name__ == "__main__":
    one_front_matter()
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    if len(sys.argv) > 2:
        cold_check(count, Path(sys.argv[2]))
    else:
        with tempfile.TemporaryDirectory() as temporary:
            cold_check(count, Path(temporary))
