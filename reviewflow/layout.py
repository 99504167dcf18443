"""Where things are in a content repo: reviewflow.toml, the schema, the reference lockfile, and
the article-path rule (which files are articles, and their slugs), in the work tree or in git's
listings; and the content repo that holds a directory or a file."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from reviewflow.errors import ConfigError

CONFIG_FILE = "reviewflow.toml"
ARTICLES_DIR = "articles"
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")  # articles/<slug>.md
SCHEMA_FILE = "schemas/article.schema.json"
LOCKFILE = f"{ARTICLES_DIR}/references.lock.json"  # what `reviewflow refs fetch` resolved


# The article-path rule, in one place: an article is articles/<slug>.md or articles/<dirs>/<slug>.md
# (subdirectories keep each git tree small at 100,000 articles), paths taken from the content
# repo's root, with "/" as git writes them. The slug, the file's stem, is the article's identity
# everywhere, so it must be unique under articles/ whatever the directory.
def article_path(slug: str) -> str:
    """The article SLUG's name in the review record, and its file when it lives directly in
    articles/: articles/<slug>.md. Where the file is, a tree's listing says (`article_paths`)."""
    return f"{ARTICLES_DIR}/{slug}.md"


def is_article_path(path: str) -> bool:
    """Whether PATH is a Markdown file in articles/ or a subdirectory of it, as `check` finds
    them (its name may yet be no valid slug: `check` reports that)."""
    directory, _, name = path.rpartition("/")
    if not name.endswith(".md") or not (directory + "/").startswith(f"{ARTICLES_DIR}/"):
        return False
    return "" not in directory.split("/") and not any(part in (".", "..") for part in directory.split("/"))


def article_slug(path: str) -> str | None:
    """The slug of PATH if it is an article file (articles/[<dirs>/]<slug>.md) with a valid slug."""
    if not is_article_path(path):
        return None
    slug = path.rpartition("/")[2][:-3]
    return slug if SLUG_PATTERN.match(slug) else None


def article_files_under(directory: Path) -> Iterator[Path]:
    """The *.md entries of DIRECTORY and its subdirectories, never entering a linked directory
    (like git, reviewflow follows no link the repository brings). A link or a directory named
    *.md is listed, not entered: `check` names it."""
    for parent, subdirectories, names in os.walk(directory):
        base = Path(parent)
        for name in (*names, *subdirectories):
            if name.endswith(".md"):
                yield base / name
        subdirectories[:] = sorted(name for name in subdirectories if not name.endswith(".md"))


def work_tree_articles(root: Path) -> dict[str, str]:
    """slug -> path (from ROOT, "/"-separated) of every article file in the work tree of the
    content repo ROOT (where two share a slug, the first found: `check` reports it)."""
    return {slug: paths[0] for slug, paths in work_tree_listing(root).items()}


def work_tree_listing(root: Path) -> dict[str, list[str]]:
    """slug -> every path (from ROOT, "/"-separated) of an article file with that name in the
    work tree of the content repo ROOT. Plain strings, no Path objects: `status` lists 100,000
    files with it."""
    found: dict[str, list[str]] = {}
    top = os.path.join(root, ARTICLES_DIR)
    for parent, subdirectories, names in os.walk(top):
        subdirectories[:] = sorted(name for name in subdirectories if not name.endswith(".md"))
        directory = ARTICLES_DIR + parent[len(top) :].replace(os.sep, "/")
        for name in sorted(names):
            if name.endswith(".md") and SLUG_PATTERN.match(name[:-3]):
                found.setdefault(name[:-3], []).append(f"{directory}/{name}")
    return found


def duplicate_slug_message(slug: str, paths: Sequence[str]) -> str:
    """The one line that names every file sharing the slug SLUG."""
    return (
        f"two articles have the slug {slug!r}: {' and '.join(sorted(paths))}; a slug names one "
        "article wherever it lives under articles/, rename or remove one"
    )


def find_root(start: Path) -> Path:
    """The content repo root: the nearest directory at or above `start` with reviewflow.toml."""
    start = start.resolve()
    for directory in (start, *start.parents):
        if (directory / CONFIG_FILE).is_file():
            return directory
    raise ConfigError(
        f"{CONFIG_FILE} not found in {start} or any parent directory; "
        "run `reviewflow init` to create a content repository"
    )


def locate_root(start: Path, paths: Sequence[Path] = ()) -> Path:
    """The content repo at or above START, else the one that holds PATHS.

    pre-commit runs hooks at the top of the git work tree, which may hold the content repo
    in a subdirectory: the files then say where it is.
    """
    try:
        return find_root(start)
    except ConfigError:
        if not paths:
            raise
    roots = sorted({find_root(path if path.is_dir() else path.parent) for path in paths})
    if len(roots) > 1:
        listed = ", ".join(str(r) for r in roots)
        raise ConfigError(
            f"the files belong to different content repositories ({listed}): "
            "check each from its own directory"
        )
    return roots[0]
