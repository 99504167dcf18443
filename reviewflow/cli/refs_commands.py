"""`reviewflow refs`: the reference lockfile fetched from the registries, and one entry shown."""

from __future__ import annotations

import json
from pathlib import Path

import click

from reviewflow.cli.app import State, cli, finish
from reviewflow.cli.reporters import inert_lines, visible
from reviewflow.errors import ExitCode

_NAMES = {"crossref": "Crossref", "ncbi": "NCBI"}


@cli.group(name="refs")
def refs_group() -> None:
    """Verify references: resolve their DOIs, PMIDs and PMCIDs into articles/references.lock.json.

    `check` then compares every reference with what its identifiers resolved to, offline.

    Example: reviewflow refs fetch articles/poems-syndrome-prognosis.md
    """


@refs_group.command(name="fetch")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--max-age",
    "max_age",
    type=click.IntRange(0, 36500),
    metavar="DAYS",
    help="Fetch again the entries fetched more than DAYS days ago.",
)
@click.option("--refresh", is_flag=True, help="Fetch every identifier again.")
@click.option(
    "--dry-run", is_flag=True, help="Say what would be fetched and in how many requests; send none."
)
@click.pass_obj
def fetch_command(
    state: State, paths: tuple[Path, ...], max_age: int | None, refresh: bool, dry_run: bool
) -> None:
    """Resolve the identifiers of the articles' references (the only command that uses the network).

    DOIs go to Crossref, PMIDs to NCBI E-utilities (200 a request), PMCIDs to the PMC ID
    converter. Only identifiers missing from articles/references.lock.json are fetched, unless
    --max-age or --refresh says otherwise. With no PATHS, every article, and entries no article
    cites are dropped. Needs `[references] contact` in reviewflow.toml; NCBI_API_KEY is sent if
    set. Exit 2, the lockfile untouched, when a registry cannot be reached.

    Example: reviewflow refs fetch --max-age 180
    """
    report = state.repo(paths).refs_fetch(paths, max_age_days=max_age, refresh=refresh, dry_run=dry_run)
    plan = report.plan
    counts = ", ".join(
        f"{n} {label}"
        for n, label in (
            (len(plan.dois), "DOI(s)"),
            (len(plan.pmids), "PMID(s)"),
            (len(plan.pmcids), "PMCID(s)"),
        )
        if n
    )
    if dry_run:
        least = ", ".join(f"{_NAMES[s]} {n}" for s, n in plan.requests.items())
        click.echo(
            f"would fetch {len(plan)} identifier(s){f' ({counts})' if counts else ''} in at least "
            f"{sum(plan.requests.values())} request(s) ({least}); {plan.kept} already in the lockfile"
        )
        finish(ExitCode.OK)
    made = ", ".join(f"{_NAMES.get(s, s)} {n}" for s, n in sorted(report.requests.items()))
    click.echo(
        f"fetched {len(plan)} identifier(s){f' ({counts})' if counts else ''} in "
        f"{sum(report.requests.values())} request(s){f' ({made})' if made else ''}; "
        f"{plan.kept} already in the lockfile"
    )
    for work in report.not_found:
        click.echo(inert_lines(f"not found: {work.kind.upper()} {visible(work.value)}"))
    click.echo(
        "wrote articles/references.lock.json" if report.written else "articles/references.lock.json unchanged"
    )
    finish(ExitCode.OK)


@refs_group.command(name="show")
@click.argument("identifier")
@click.pass_obj
def show_command(state: State, identifier: str) -> None:
    """Show what a DOI, PMID or PMCID resolved to, as the lockfile records it.

    Example: reviewflow refs show 10.1002/ajh.27081
    """
    work = state.repo().refs_show(identifier)
    text = json.dumps({work.key: work.to_json()}, indent=2, ensure_ascii=False)
    click.echo(inert_lines("\n".join(visible(line) for line in text.split("\n"))))
    finish(ExitCode.OK)
