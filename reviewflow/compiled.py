"""The modules mypyc compiles to C extensions, the extensions written in C, and the guard
against a stale compiled build.

setup.py compiles the modules listed here (unless REVIEWFLOW_PURE=1, or without a C compiler)
and records each one's source hash in compiled.json beside this file. Python prefers an
extension to the source beside it, so an edited source whose extension was not rebuilt would
run the old code: `use_fresh_code` (called by the package's `__init__`, before any listed module
is imported) then has every listed module read from its source instead, and says so on stderr.
An extension written in C has no Python source: its importer holds the Python reference, which
runs where the extension is not built, is stale or is not to be used (its import then fails).
It reads and hashes the listed sources on every command (~0.3 ms).
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

# The hot modules of the check, review and publish paths, each group measured to pay (README,
# "Compiled modules": instructions with and without it). A module stays pure Python unless
# compiling it pays: the list holds what does. They are compiled together (calls between them are
# C calls), so they are loaded all compiled or all from source, never mixed. Not listed, though
# hot: references/lockindex (a compiled subclass of an ABC answers isinstance as the ABC does: a
# dict passed for its IndexedEntries) and references/lockwalk (its tests set WINDOW, which compiled
# code never reads again); checks/workspace (functools.cached_property); content/yamlloader (it
# patches libyaml's resolver onto a class: mypyc fails on it); review/snapshot_file (a
# weakref.finalize holds its Source: a compiled class takes no weak reference); publish/pages
# (its objects are pickled to the workers and fill a __dict__).
COMPILED_MODULES: tuple[str, ...] = (
    "reviewflow.checks.evidence",
    "reviewflow.checks.intended",
    "reviewflow.checks.jargon",
    "reviewflow.checks.language",
    "reviewflow.checks.prose_fields",
    "reviewflow.checks.readability",
    "reviewflow.checks.reference_identity",
    "reviewflow.checks.rules",
    "reviewflow.checks.sourcing",
    "reviewflow.checks.structure",
    "reviewflow.checks.testimonial",
    "reviewflow.checks.vocabulary",
    "reviewflow.content.citations",
    "reviewflow.content.facts",
    "reviewflow.content.frontmatter",
    "reviewflow.content.markup",
    "reviewflow.content.plainmarkdown",
    "reviewflow.content.plainyaml",
    "reviewflow.content.prose",
    "reviewflow.content.yamlcore",
    "reviewflow.gitbatch",
    "reviewflow.gitlog",
    "reviewflow.publish.article_body",
    "reviewflow.publish.article_html",
    "reviewflow.publish.article_page",
    "reviewflow.publish.build",
    "reviewflow.publish.collect",
    "reviewflow.publish.leftovers",
    "reviewflow.publish.neighbours",
    "reviewflow.publish.notes",
    "reviewflow.publish.output",
    "reviewflow.publish.pagefiles",
    "reviewflow.publish.records",
    "reviewflow.publish.render",
    "reviewflow.publish.schemaorg",
    "reviewflow.publish.search",
    "reviewflow.publish.site",
    "reviewflow.publish.target",
    "reviewflow.references.lockfile",
    "reviewflow.references.matching",
    "reviewflow.review.authors",
    "reviewflow.review.board",
    "reviewflow.review.changes",
    "reviewflow.review.event_files",
    "reviewflow.review.history",
    "reviewflow.review.kept",
    "reviewflow.review.model",
    "reviewflow.review.tracks",
    "reviewflow.review.trailers",
    "reviewflow.review.workflow",
)
# Extensions written in C, each with its source (a path in the package). Each function's Python
# reference is in the module that imports it, which falls back to it on ImportError:
# content/textscan.c's are content/prose.py's `_python_word_counts` and `_python_sentence_starts`
# and checks/prose_fields.py's `_python_uncited`; content/yamlscan.c's is content/plainyaml.py's
# `_python_plain_data`; content/bodyscan.c's is content/markdown.py's `_python_read_plain`.
C_EXTENSIONS: dict[str, str] = {
    "reviewflow.content._bodyscan": "content/bodyscan.c",
    "reviewflow.content._textscan": "content/textscan.c",
    "reviewflow.content._yamlscan": "content/yamlscan.c",
}
# Every extension the build makes, and compiled.json records.
BUILT_MODULES: tuple[str, ...] = (*COMPILED_MODULES, *C_EXTENSIONS)

PACKAGE = Path(__file__).resolve().parent
RECORD = PACKAGE / "compiled.json"
PURE_VARIABLE = "REVIEWFLOW_PURE"
# Plain strings and os.path below, not pathlib: the check runs on every command.
_PACKAGE = str(PACKAGE)


def _stem(module: str) -> str:
    return os.path.join(_PACKAGE, *module.split(".")[1:])


def source_path(module: str) -> str:
    """The source file of a listed module (a module of this package, not a package): its C
    source for an extension written in C."""
    c_source = C_EXTENSIONS.get(module)
    if c_source is not None:
        return os.path.join(_PACKAGE, *c_source.split("/"))
    return _stem(module) + ".py"


def source_hash(path: str) -> str:
    with open(path, "rb") as source:
        return hashlib.sha256(source.read()).hexdigest()


def extension_paths(module: str) -> list[str]:
    """The compiled extensions that sit beside a listed module's source (none in a pure build)."""
    stem = _stem(module)
    return [
        stem + suffix for suffix in importlib.machinery.EXTENSION_SUFFIXES if os.path.exists(stem + suffix)
    ]


def stale_modules(modules: Sequence[str] = BUILT_MODULES) -> list[str]:
    """The listed modules whose extension was built from a source other than the one beside it.

    A module with no extension beside it is not stale (it is read from its source). Compiled.json
    is written by every build; an extension it does not vouch for (left by an earlier build, or
    a record from a pure build) counts as stale."""
    present = [module for module in modules if extension_paths(module)]
    if not present:
        return []
    try:
        with open(RECORD, encoding="utf-8") as record:
            recorded = json.load(record)
    except (OSError, ValueError):
        recorded = {}
    if not isinstance(recorded, dict):
        recorded = {}
    return [module for module in present if recorded.get(module) != source_hash(source_path(module))]


class SourceFinder:
    """Finds the listed modules' sources, ahead of the extensions Python would otherwise prefer."""

    def __init__(self, modules: Sequence[str]) -> None:
        self.modules = frozenset(modules)

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name not in self.modules:
            return None
        source = source_path(name)
        loader = importlib.machinery.SourceFileLoader(name, source)
        return importlib.util.spec_from_file_location(name, source, loader=loader)


def use_fresh_code() -> None:
    """Read every listed module from its source when asked to (REVIEWFLOW_PURE=1) or when a
    compiled one is stale; otherwise leave Python to load the extensions."""
    if os.environ.get(PURE_VARIABLE) == "1":
        read_from_sources()
        return
    stale = stale_modules()
    if stale:
        named = stale[0] if len(stale) == 1 else f"{stale[0]} and {len(stale) - 1} more"
        print(
            f"reviewflow: warning: the compiled {named} was built from another version of the source; "
            "every compiled module runs from its source instead (slower). Rebuild: make, or pip install -e .",
            file=sys.stderr,
        )
        read_from_sources()


def read_from_sources() -> None:
    if not any(isinstance(finder, SourceFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, SourceFinder(COMPILED_MODULES))  # type: ignore[arg-type]
    for module in C_EXTENSIONS:
        # None in sys.modules makes its import fail (ModuleNotFoundError): the Python reference runs.
        sys.modules.setdefault(module, None)  # type: ignore[arg-type]
