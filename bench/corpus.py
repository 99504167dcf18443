"""Generate a deterministic content repo with N articles and a realistic review history.

    python bench/corpus.py DIR --articles 10000 [--quorum 1] [--seed 7] [--flat]

Articles are ~5 KB: front-matter with 4-12 references, a body of headings, lists and
paragraphs with citation markers and numbers. Each article gets about five review events
(submit, review, request changes, edit, resubmit, approve; some are re-approved after a later
edit, some are still waiting), by several reviewers, written as reviewflow's own trailer
commits; first drafts come in batches of DRAFT_BATCH per commit. The whole history is streamed
into one `git fast-import`, where one `git commit` per event would take hours. Articles live in
SHARDS subdirectories, articles/<2 hex digits of their slug's hash>/<slug>.md, as a publisher
of 100,000 articles would keep them: git then writes a ~3 KB shard and a small articles/ tree for
each commit that changes a file, where one flat articles/ directory (--flat) makes it write a
whole new ~650 KB tree at 10,000 articles (that, not Python, was the time: minutes at 10,000,
more than half an hour at 30,000).
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import os
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from reviewflow.configfile import parse_config
from reviewflow.content.schema import load_schema
from reviewflow.review.acknowledge import check_content

START = 1_577_836_800  # 2020-01-01T00:00:00Z: dates come from the seed, never from the clock
DRAFT_BATCH = 20  # first drafts committed together

AUTHORS = [(f"Author {n}", f"author{n}@writers.example") for n in range(1, 21)]
REVIEWERS = [
    (f"Dr. Reviewer {n}", f"reviewer{n}@board.example", c)
    for n, c in enumerate(
        ["MD, Hematology", "MD, Neurology", "MD, Endocrinology", "MD, Oncology", "MD, Cardiology", "PharmD"],
        start=1,
    )
]
CONDITIONS = [
    "POEMS syndrome",
    "Multiple myeloma",
    "Castleman disease",
    "Amyloidosis",
    "CIDP",
    "Waldenström macroglobulinemia",
    "MGUS",
    "Peripheral neuropathy",
    "Hypothyroidism",
    "Anemia",
]
WORDS = (
    "treatment patients disease nerve blood test doctor care team therapy response symptoms "
    "remission marrow cells protein level months years follow-up scan dose option risk benefit "
    "plan recovery body signs early diagnosis hospital specialist change improve monitor"
).split()


@dataclass
class Article:
    slug: str
    audience: str
    condition: str
    author: tuple[str, str]
    references: int
    seed: int
    version: int = 0
    ops: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, actor_email, message)
    path: str = ""  # articles/[<shard>/]<slug>.md


SHARDS = 256  # articles/00/ .. articles/ff/


def article_path(slug: str, shards: int) -> str:
    """Where the corpus keeps the article SLUG: in one of SHARDS subdirectories (0: articles/)."""
    if not shards:
        return f"articles/{slug}.md"
    shard = int.from_bytes(hashlib.sha256(slug.encode()).digest()[:4], "big") % shards
    return f"articles/{shard:02x}/{slug}.md"


def blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\x00" % len(data) + data).hexdigest()


def _sentence_pool(seed: int, size: int = 4096) -> list[str]:
    """Sentences drawn once; articles pick from them, which keeps generation fast."""
    rng = random.Random(seed)
    pool = []
    for _ in range(size):
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 12)))
        if rng.random() < 0.3:
            words += f" in {rng.randint(10, 90)}% of patients"
        pool.append(words.capitalize())
    return pool


SENTENCES = _sentence_pool(11)


def render(article: Article) -> bytes:
    rng = random.Random(article.seed * 1000 + article.version)
    refs = []
    for i in range(1, article.references + 1):
        kind = rng.choice(["review", "research", "guideline", "other"])
        ident = rng.choice(
            [
                f'    doi: "10.{rng.randint(1000, 99999)}/bench.{article.seed}.{i}"\n',
                f'    pmid: "{rng.randint(1, 39_999_999)}"\n',
                f'    url: "https://example.org/{article.slug}/{i}"\n',
            ]
        )
        refs.append(
            f'  - id: {i}\n    type: {kind}\n    title: "Study {i} of {article.condition}"\n'
            f'    source: "Journal of Examples"\n    year: {rng.randint(2016, 2025)}\n{ident}'
        )
    body: list[str] = []
    size = 0
    cite = 1
    while size < 4200:
        heading = f"## {rng.choice(WORDS).capitalize()} and {rng.choice(WORDS)}\n"
        paragraphs = []
        for _ in range(2):
            sentences = []
            for sentence in rng.sample(SENTENCES, rng.randint(3, 5)):
                sentences.append(f"{sentence} [{cite}].")
                cite = cite % article.references + 1
            paragraphs.append(" ".join(sentences) + "\n")
        items = "".join(
            f"- {rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} [{cite}].\n" for _ in range(3)
        )
        for part in (heading, *paragraphs, items):
            body.append(part)
            size += len(part)
    # Every reference is cited at least once.
    body.append(" ".join(f"Also see [{i}]." for i in range(1, article.references + 1)) + "\n")
    front = (
        f'---\ntitle: "{article.condition}: {article.slug.replace("-", " ")}"\n'
        f'summary: "What to know about {article.condition.lower()} ({article.version})."\n'
        f'audience: {article.audience}\ncondition: "{article.condition}"\n'
        f'authors:\n  - name: "{article.author[0]}"\n    email: "{article.author[1]}"\n'
        '    competing_interests: "none"\n'
        f"disclaimer: {article.audience}\nreferences:\n{''.join(refs)}tags: [bench]\n---\n\n"
    )
    return (front + "\n".join(body)).encode()


def plan(article: Article, rng: random.Random, quorum: int) -> None:
    """The review story of one article, as a list of commits."""
    reviewers = [r[1] for r in rng.sample(REVIEWERS, 3)]
    author = article.author[1]
    ops = article.ops
    ops.append(("edit", author, "Write the first draft"))
    ops.append(("submit", author, "Ready for review"))
    ops.append(("review", reviewers[0], ""))
    story = rng.random()
    if story < 0.10:
        return  # still under review
    if story < 0.60:
        ops.append(("request-changes", reviewers[0], "Please cite the dose recommendation"))
        ops.append(("edit", author, "Address review comments"))
        ops.append(("submit", author, "Revised"))
        ops.append(("review", reviewers[0], ""))
    ops.append(("approve", reviewers[0], "Accurate and clear"))
    if quorum > 1:
        ops.append(("approve", reviewers[1], ""))
    if story > 0.75:  # re-approved after a later edit
        ops.append(("edit", author, "Update after new guidance"))
        ops.append(("submit", author, "Update"))
        ops.append(("review", reviewers[2], ""))
        ops.append(("approve", reviewers[2], "Update checked"))
        if quorum > 1:
            ops.append(("approve", reviewers[0], ""))


def config_toml(quorum: int) -> str:
    board = "".join(
        f'[[board]]\nname = "{name}"\nemail = "{email}"\ncredentials = "{cred}"\n'
        'competing_interests = "none"\n\n'
        for name, email, cred in REVIEWERS
    )
    return (
        f"[policy]\napprovals_required = {quorum}\nreview_cycle_days = 365\n\n{board}"
        '[disclaimers.patient]\naudience = "patient"\ntext = "General information, not a diagnosis."\n\n'
        '[disclaimers.professional]\naudience = "professional"\ntext = "For healthcare professionals."\n\n'
        "[checks]\nmax_reference_age_years = 15\n"
    )


class Acknowledger:
    """The Reviewflow-Accept trailers `approve --accept-warnings` would write for a text on a day."""

    def __init__(self, quorum: int, schema: bytes) -> None:
        self.config = parse_config(config_toml(quorum))
        self.schema = load_schema(schema)
        self.known: dict[tuple[bytes, int], str] = {}

    def trailers(self, path: str, text: bytes, when: int) -> str:
        day = datetime.fromtimestamp(when, UTC).date()
        key = (text, day.toordinal())
        if key not in self.known:
            checked = check_content(path, text, self.config, self.schema, day)
            self.known[key] = "".join(
                f"Reviewflow-Accept: {checked.acknowledgement(f).trailer_value()}\n" for f in checked.warnings
            )
        return self.known[key]


def stream(articles: list[Article], quorum: int, schema: bytes) -> Iterator[bytes]:
    def data(payload: bytes) -> bytes:
        return b"data %d\n" % len(payload) + payload + b"\n"

    def commit(name: str, email: str, when: int, message: str, files: dict[str, bytes]) -> bytes:
        who = f"{name} <{email}> {when} +0000\n".encode()
        out = b"commit refs/heads/main\n" + b"author " + who + b"committer " + who + data(message.encode())
        for path, content in files.items():
            out += f"M 100644 inline {path}\n".encode() + data(content)
        return out

    names = {email: name for name, email in AUTHORS} | {email: name for name, email, _ in REVIEWERS}
    accepted = Acknowledger(quorum, schema)
    yield commit(
        "Editor",
        "editor@writers.example",
        START,
        "Start the library",
        {"reviewflow.toml": config_toml(quorum).encode(), "schemas/article.schema.json": schema},
    )
    # Interleave every article's story on one timeline, as a real team's history would be. First
    # drafts arrive DRAFT_BATCH at a time (an author adding a batch of articles in one commit):
    # with one flat articles/ directory, every commit that changes a file makes git write a whole
    # new ~650 KB tree, which is what makes generating a big corpus slow.
    queue = [(START + 60 + (i // DRAFT_BATCH) * 37 * DRAFT_BATCH, i, 0) for i in range(len(articles))]
    heapq.heapify(queue)
    blobs: dict[str, str] = {}
    texts: dict[str, bytes] = {}
    while queue:
        when, index, step = heapq.heappop(queue)
        article = articles[index]
        kind, actor, message = article.ops[step]
        path = article.path
        if step == 0:  # a batch of first drafts, by one author
            batch = [index]
            while queue and queue[0][0] == when and queue[0][2] == 0:
                batch.append(heapq.heappop(queue)[1])
            files = {}
            for drafted in batch:
                articles[drafted].version += 1
                content = render(articles[drafted])
                blobs[articles[drafted].slug] = blob_id(content)
                texts[articles[drafted].slug] = content
                files[articles[drafted].path] = content
            yield commit(names[actor], actor, when, f"{message}s: {len(batch)} articles", files)
            for drafted in batch:
                heapq.heappush(queue, (when + 3600 * (1 + drafted % 48), drafted, 1))
            continue
        if kind == "edit":
            article.version += 1
            content = render(article)
            blobs[article.slug] = blob_id(content)
            texts[article.slug] = content
            yield commit(names[actor], actor, when, f"{message}: {article.slug}", {path: content})
        else:
            text = (
                f"reviewflow: {kind} {article.slug}\n\n"
                + (f"{message}\n\n" if message else "")
                + f"Reviewflow-Article: {article.slug}\nReviewflow-Action: {kind}\n"
                f"Reviewflow-Content: {blobs[article.slug]}\n"
            )
            if kind == "approve":  # the reviewer acknowledges the text's warnings, as approve asks
                text += accepted.trailers(path, texts[article.slug], when)
            yield commit(names[actor], actor, when, text, {})
        if step + 1 < len(article.ops):
            heapq.heappush(queue, (when + 3600 * (1 + (index + step) % 48), index, step + 1))


def generate(
    directory: Path, count: int, quorum: int = 1, seed: int = 7, shards: int = SHARDS
) -> dict[str, int]:
    rng = random.Random(seed)
    articles = []
    for i in range(count):
        condition = CONDITIONS[i % len(CONDITIONS)]
        slug = f"{condition.lower().replace(' ', '-').replace('ö', 'o')}-topic-{i:05d}"
        article = Article(
            slug=slug,
            audience="patient" if rng.random() < 0.7 else "professional",
            condition=condition,
            author=AUTHORS[(i // DRAFT_BATCH) % len(AUTHORS)],  # one author for each batch of drafts
            references=rng.randint(4, 12),
            seed=seed * 100_000 + i,
            path=article_path(slug, shards),
        )
        plan(article, rng, quorum)
        articles.append(article)
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(directory)], check=True)
    schema = (Path(__file__).resolve().parent.parent / "schemas" / "article.schema.json").read_bytes()
    importer = subprocess.Popen(
        ["git", "fast-import", "--quiet", "--done"], cwd=directory, stdin=subprocess.PIPE
    )
    assert importer.stdin is not None
    commits = 0
    for chunk in stream(articles, quorum, schema):
        importer.stdin.write(chunk)
        commits += 1
    importer.stdin.write(b"done\n")
    importer.stdin.close()
    if importer.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=directory, check=True)
    events = sum(1 for a in articles for kind, _, _ in a.ops if kind != "edit")
    locked = lock_references(directory)
    return {"articles": count, "commits": commits + 1, "events": events, "locked_identifiers": locked}


# --- the reference lockfile (reviewflow refs fetch), as a fetch would write it for the corpus ---
_REFERENCE = re.compile(
    r'  - id: \d+\n    type: \w+\n    title: "(?P<title>[^"]+)"\n    source: "(?P<source>[^"]+)"\n'
    r'    year: (?P<year>\d+)\n    (?P<kind>doi|pmid): "(?P<value>[^"]+)"\n'
)


def lock_references(directory: Path) -> int:
    """Write and commit articles/references.lock.json for the articles at HEAD: an entry for
    every DOI and PMID they cite, matching the reference (so `check` rows include the identity
    rules at their real cost); returns how many identifiers it holds."""
    from reviewflow.references.lockfile import Work, dumps, key_of

    works: dict[str, Work | None] = {}
    for path in sorted((directory / "articles").rglob("*.md")):
        for ref in _REFERENCE.finditer(path.read_text(encoding="utf-8")):
            key = key_of(ref["kind"], ref["value"])
            work = Work(key, "crossref" if ref["kind"] == "doi" else "pubmed", "2026-01-01",
                        title=ref["title"], journal=ref["source"], year=int(ref["year"]))  # fmt: skip
            # A PMID drawn at random twice names two works: a registry would resolve it to one
            # of them, and check would call the other a mismatch. Left out, both are unverified.
            works[key] = work if works.get(key, work) == work else None
    locked = [work for work in works.values() if work is not None]
    (directory / "articles" / "references.lock.json").write_bytes(dumps(locked))
    subprocess.run(["git", "add", "articles/references.lock.json"], cwd=directory, check=True)
    last = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=directory, check=True,
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    when = f"@{int(last) + 60} +0000"  # after the last commit: dates come from the seed, not the clock
    who = {"GIT_AUTHOR_NAME": "Editor", "GIT_AUTHOR_EMAIL": "editor@writers.example", "GIT_AUTHOR_DATE": when}
    env = {**os.environ, **who, **{k.replace("AUTHOR", "COMMITTER"): v for k, v in who.items()}}
    subprocess.run(["git", "commit", "-q", "-m", "Lock the references (refs fetch)"], cwd=directory, env=env,
                   check=True)  # fmt: skip
    return len(locked)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--quorum", type=int, default=1, choices=[1, 2])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--flat", action="store_true", help="every article directly in articles/")
    args = parser.parse_args()
    if args.directory.exists() and any(args.directory.iterdir()):
        sys.exit(f"{args.directory} is not empty")
    print(generate(args.directory, args.articles, args.quorum, args.seed, 0 if args.flat else SHARDS))


if __name__ == "__main__":
    main()
