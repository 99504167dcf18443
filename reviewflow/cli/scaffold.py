"""`init` and `new`: create a content repo and new articles from the bundled templates."""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
from importlib import resources
from pathlib import Path

from reviewflow import gitprocess
from reviewflow.cli.integration import github_workflow, install_requirement
from reviewflow.config import Audience, Config
from reviewflow.content.article import SLUG_PATTERN
from reviewflow.content.schema import bundled_schema_text
from reviewflow.errors import ConfigError, Refused
from reviewflow.files import NotRegularFile, checked_path
from reviewflow.layout import ARTICLES_DIR, CONFIG_FILE, SCHEMA_FILE, article_slug, work_tree_articles

MAX_SLUG_LENGTH = 80
EXAMPLE_ARTICLE = "what-is-poems-syndrome.md"
GITHUB_WORKFLOW = ".github/workflows/reviewflow.yml"


def template(name: str) -> str:
    return resources.files("reviewflow").joinpath(f"templates/{name}").read_text("utf-8")


def init_repo(directory: Path, install: str | None = None) -> list[tuple[str, bool]]:
    """Write the starter files into DIRECTORY; existing files are kept. Returns (path, written),
    each path relative to DIRECTORY, the GitHub workflow last.

    INSTALL is the pip requirement the GitHub workflow installs reviewflow from (else the
    workflow reads the repository variable REVIEWFLOW_INSTALL). GitHub reads workflows only at
    the top of a repository: when DIRECTORY is a subdirectory of a git repository, the workflow
    goes to the top, and runs reviewflow in DIRECTORY.
    """
    if install is not None:
        install_requirement(install)  # refused before anything is written
    directory.mkdir(parents=True, exist_ok=True)
    toplevel, prefix, branch = gitprocess.init_layout(directory)
    files = {
        CONFIG_FILE: template("reviewflow.toml"),
        SCHEMA_FILE: bundled_schema_text(),
        f"{ARTICLES_DIR}/{EXAMPLE_ARTICLE}": template(EXAMPLE_ARTICLE),
    }
    workflow = github_workflow(install, branch, prefix)
    results = [(relative, write_new(directory / relative, content)) for relative, content in files.items()]
    if toplevel is not None and prefix:
        shown = os.path.relpath(toplevel / GITHUB_WORKFLOW, directory.resolve())
        results.append((Path(shown).as_posix(), write_new(toplevel / GITHUB_WORKFLOW, workflow)))
    else:
        results.append((GITHUB_WORKFLOW, write_new(directory / GITHUB_WORKFLOW, workflow)))
    return results


def write_new(path: Path, content: str) -> bool:
    """Create PATH with CONTENT unless it exists: never overwrite a publisher's file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(content)
    except FileExistsError:
        return False
    return True


def slugify(title: str) -> str:
    """A safe slug from any title: ASCII letters and digits joined by single hyphens.

    Other scripts are transliterated (text-unidecode: "日本語" becomes "ri-ben-yu"); a title
    whose letters have no transliteration gets a short stable hash ("article-3f9c2a41d0").
    A title with no letter or digit at all ("?!") is refused: it is a mistake, not a name.
    """
    from text_unidecode import unidecode  # only `new` pays for loading its table

    if not any(char.isalnum() for char in title):
        raise ConfigError(f"title {title!r} has no letters or digits to make a file name from")
    ascii_title = unidecode(unicodedata.normalize("NFC", title))
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    slug = slug[:MAX_SLUG_LENGTH].rstrip("-")
    if not SLUG_PATTERN.match(slug):
        digest = hashlib.sha256(title.strip().encode("utf-8")).hexdigest()[:10]
        slug = f"article-{digest}"
    return slug


def new_article(
    root: Path,
    config: Config,
    title: str,
    audience: Audience,
    condition: str,
    author: tuple[str, str] | None,
    directory: str = ARTICLES_DIR,
) -> Path:
    """Write a new article from the template into DIRECTORY (articles/ or a subdirectory of it,
    from the content repo's root)."""
    if not title.strip():
        raise ConfigError("the title is empty")
    if not condition.strip():
        raise ConfigError(
            "the condition is empty: name the condition the article is about, "
            'e.g. --condition "POEMS syndrome"'
        )
    slug = slugify(title)
    relative = f"{_article_directory(directory)}/{slug}.md"
    path = root / relative
    if article_slug(relative) != slug:  # belt and braces: the slug pattern already forbids separators
        raise ConfigError(f"refusing to write outside {ARTICLES_DIR}/: {path}")
    existing = work_tree_articles(root).get(slug)
    if existing is not None and existing != relative:
        raise Refused(f"{existing} already has the slug {slug!r}; edit it, or choose another title")
    try:
        checked_path(root, path)  # a committed link in place of articles/ must not take the file out
    except FileNotFoundError:
        pass  # no articles/ yet: write_new makes it
    except NotRegularFile as exc:
        raise ConfigError(f"refusing to write {relative}: {exc}") from None
    name, email = author or ("Your Name", "you@example.org")
    content = template("new-article.md").format(
        title=_yaml_string(title.strip()),
        audience=audience,
        condition=_yaml_string(condition.strip()),
        author_name=_yaml_string(name),
        author_email=_yaml_string(email),
        disclaimer=_yaml_string(_disclaimer_for(config, audience)),
    )
    if not write_new(path, content):
        raise Refused(f"{relative} already exists; edit it, or choose another title")
    return path


def _article_directory(directory: str) -> str:
    """DIRECTORY as a "/"-separated path from the content repo's root, if it is articles/ or
    one of its subdirectories; a ConfigError otherwise."""
    parts = [part for part in directory.replace("\\", "/").split("/") if part not in ("", ".")]
    if not parts or parts[0] != ARTICLES_DIR or ".." in parts or directory.startswith("/"):
        raise ConfigError(
            f"--dir {directory}: an article lives in {ARTICLES_DIR}/ or a directory under it "
            f"(e.g. --dir {ARTICLES_DIR}/poems), given from the content repo's root"
        )
    return "/".join(parts)


def _disclaimer_for(config: Config, audience: Audience) -> str:
    if audience in config.disclaimers and config.disclaimers[audience].audience == audience:
        return audience
    matching = sorted(key for key, d in config.disclaimers.items() if d.audience == audience)
    return matching[0] if matching else audience


def _yaml_string(value: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar: quotes, colons, newlines and
    # markup in a hostile title stay inert text.
    return json.dumps(value, ensure_ascii=False)
