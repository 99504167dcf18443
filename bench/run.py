"""The reviewflow benchmark: time whole commands on generated corpora (`make bench`).

    python bench/run.py [--sizes 1000 10000] [--runs 3] [--no-hugo]

Builds each corpus once (cached in bench/cache/, keyed on the generator's source), then runs
every scenario as a separate process several times and reports the median wall time and the
peak memory (the child's max RSS from wait4). Writes a Markdown table to stdout and
bench/results.md, and the raw numbers to bench/results.json. A benchmark, not a test:
nothing in `make test` depends on timings.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
CACHE = HERE / "cache"
REVIEWFLOW = [sys.executable, "-m", "reviewflow"]
BASE_URL = "https://bench.example.org"

sys.path.insert(0, str(HERE))
import corpus  # noqa: E402  (the generator beside this file)

# scenario -> target median seconds at 10,000 articles (None: no target of its own)
TARGETS: dict[str, float | None] = {
    "check": 5.0,
    "status --format json": 3.0,
    "verify": 5.0,
    "publish (full build)": 15.0,
    "publish (one article changed)": 2.0,
    "ci --base main (3 articles changed)": 2.0,
    "hugo (same corpus)": None,
}
MEMORY_TARGET_MB = 400


@dataclass
class Result:
    scenario: str
    articles: int
    seconds: list[float] = field(default_factory=list)
    peak_mb: float = 0.0
    failed: str | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("nan")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def identity(name: str, email: str) -> dict[str, str]:
    env = dict(os.environ, GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1", CI="true")
    for role in ("AUTHOR", "COMMITTER"):
        env[f"GIT_{role}_NAME"], env[f"GIT_{role}_EMAIL"] = name, email
    return env


AUTHOR = identity(*corpus.AUTHORS[0])
REVIEWER = identity(*corpus.REVIEWERS[0][:2])


def timed(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """Run COMMAND once; wall seconds, peak RSS in MB and exit code of that one process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env=env or AUTHOR, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024, process.returncode


def corpus_repo(articles: int) -> Path:
    """The cached corpus of this size, generated anew when the generator changes."""
    digest = hashlib.sha256((HERE / "corpus.py").read_bytes()).hexdigest()[:12]
    repo = CACHE / f"corpus-{articles}-{digest}"
    if not (repo / ".git").exists():
        shutil.rmtree(repo, ignore_errors=True)
        started = time.perf_counter()
        stats = corpus.generate(repo, articles)
        print(f"generated {repo.name}: {stats} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    else:
        git(repo, "checkout", "-q", "-f", "main")
        git(repo, "reset", "-q", "--hard", "main")
    return repo


def edit(repo: Path, path: str, note: str) -> None:
    file = repo / path
    file.write_text(
        file.read_text(encoding="utf-8") + f"\nUpdated for the benchmark: {note} [1].\n", encoding="utf-8"
    )


def reapprove(repo: Path, slug: str, note: str) -> None:
    """Change one article and take it through review again (setup, not timed)."""
    edit(repo, f"articles/{slug}.md", note)
    git(repo, "commit", "-q", "-am", f"Edit {slug}")
    for action, env in (("submit", AUTHOR), ("review", REVIEWER), ("approve", REVIEWER)):
        subprocess.run([*REVIEWFLOW, action, slug], cwd=repo, env=env, check=True, capture_output=True)


def run_scenario(
    name: str,
    articles: int,
    runs: int,
    command: list[str],
    cwd: Path,
    before: Callable[[int], None] | None = None,
) -> Result:
    result = Result(name, articles)
    for attempt in range(runs):
        if before:
            before(attempt)
        seconds, peak, code = timed(command, cwd)
        if code not in (0, 1):  # 1 is "findings", a normal outcome for check and ci
            result.failed = f"exit {code}"
            break
        result.seconds.append(seconds)
        result.peak_mb = max(result.peak_mb, peak)
    return result


def hugo_site(repo: Path) -> Path | None:
    """The corpus as a minimal Hugo site (same Markdown, a one-template theme)."""
    if shutil.which("hugo") is None:
        return None
    site = repo.parent / f"{repo.name}-hugo"
    if not site.exists():
        (site / "layouts" / "_default").mkdir(parents=True)
        (site / "hugo.toml").write_text(f'baseURL = "{BASE_URL}/"\ntitle = "bench"\n', encoding="utf-8")
        page = "<!doctype html><title>{{ .Title }}</title><h1>{{ .Title }}</h1>{{ .Content }}"
        (site / "layouts" / "_default" / "single.html").write_text(page, encoding="utf-8")
        listing = (
            "<!doctype html><ul>{{ range .Pages }}"
            "<li><a href='{{ .RelPermalink }}'>{{ .Title }}</a>{{ end }}</ul>"
        )
        (site / "layouts" / "_default" / "list.html").write_text(listing, encoding="utf-8")
        shutil.copytree(repo / "articles", site / "content" / "articles")
    return site


def bench_size(articles: int, runs: int, with_hugo: bool) -> list[Result]:
    repo = corpus_repo(articles)
    out = repo.parent / f"{repo.name}-site"
    results = [
        run_scenario("check", articles, runs, [*REVIEWFLOW, "check", "--format", "json"], repo),
        run_scenario(
            "status --format json", articles, runs, [*REVIEWFLOW, "status", "--format", "json"], repo
        ),
        run_scenario("verify", articles, runs, [*REVIEWFLOW, "verify"], repo),
    ]

    def cold(_: int) -> None:
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(repo / ".reviewflow-cache", ignore_errors=True)

    publish = [*REVIEWFLOW, "publish", "--out", str(out), "--base-url", BASE_URL]
    results.append(run_scenario("publish (full build)", articles, runs, publish, repo, cold))
    slugs = sorted(p.stem for p in (repo / "articles").glob("*.md"))
    results.append(
        run_scenario(
            "publish (one article changed)",
            articles,
            runs,
            publish,
            repo,
            lambda attempt: reapprove(repo, slugs[attempt], f"run {attempt}"),
        )
    )
    git(repo, "checkout", "-q", "-B", "bench-change", "main")
    for index, slug in enumerate(slugs[100:103]):
        edit(repo, f"articles/{slug}.md", f"change {index}")
    git(repo, "commit", "-q", "-am", "Change three articles")
    results.append(
        run_scenario(
            "ci --base main (3 articles changed)", articles, runs, [*REVIEWFLOW, "ci", "--base", "main"], repo
        )
    )
    git(repo, "checkout", "-q", "-f", "main")
    git(repo, "reset", "-q", "--hard", "main")
    site = hugo_site(repo) if with_hugo else None
    if site is not None:

        def clean_hugo(_: int) -> None:
            shutil.rmtree(site / "public", ignore_errors=True)
            shutil.rmtree(site / "resources", ignore_errors=True)

        results.append(
            run_scenario("hugo (same corpus)", articles, runs, ["hugo", "--quiet"], site, clean_hugo)
        )
    return results


def table(results: list[Result], sizes: list[int]) -> str:
    largest, smallest = max(sizes), min(sizes)
    by_key = {(r.scenario, r.articles): r for r in results}
    head = ["scenario", *(f"{n:,} articles" for n in sizes), "peak memory", f"target ({largest:,})"]
    if len(sizes) > 1:
        head.append(f"{largest // smallest}x articles costs")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for scenario, target in TARGETS.items():
        row_results = [by_key.get((scenario, n)) for n in sizes]
        if not any(row_results):
            continue
        cells = [scenario]
        for r in row_results:
            cells.append("—" if r is None else (r.failed or f"{r.median:.2f} s"))
        peak = max((r.peak_mb for r in row_results if r), default=0)
        cells.append(f"{peak:.0f} MB")
        big = by_key.get((scenario, largest))
        if target is None:
            cells.append("reference")
        elif big is None or big.failed:
            cells.append(f"≤ {target:g} s")
        else:
            cells.append(f"≤ {target:g} s {'met' if big.median <= target else 'MISSED'}")
        small = by_key.get((scenario, smallest))
        if len(sizes) > 1:
            ok = small and big and small.seconds and big.seconds
            cells.append(f"{big.median / small.median:.1f}x" if ok else "—")  # type: ignore[union-attr]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {platform.system()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-hugo", action="store_true", help="Skip the Hugo comparison.")
    args = parser.parse_args()
    CACHE.mkdir(exist_ok=True)
    results: list[Result] = []
    for size in args.sizes:
        results.extend(bench_size(size, args.runs, not args.no_hugo))
    report = (
        f"Machine: {machine()}. Median of {args.runs} runs, each a separate process.\n\n"
        + table(results, args.sizes)
        + f"\n\nPeak memory target: ≤ {MEMORY_TARGET_MB} MB per command.\n"
    )
    print(report)
    (HERE / "results.md").write_text(report, encoding="utf-8")
    payload = {
        "machine": machine(),
        "runs": args.runs,
        "results": [
            {
                "scenario": r.scenario,
                "articles": r.articles,
                "median_s": r.median,
                "seconds": r.seconds,
                "peak_mb": round(r.peak_mb, 1),
                "failed": r.failed,
            }
            for r in results
        ],
    }
    (HERE / "results.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
