"""The build of reviewflow's compiled modules (pyproject.toml holds everything else).

The modules listed in reviewflow/compiled.py are compiled to C extensions by mypyc (the same
code, ~a fifth less CPU on the check path), and the extensions written in C that it lists from
their C sources (reviewflow/content/textscan.c, yamlscan.c and bodyscan.c). REVIEWFLOW_PURE=1
builds pure Python, and so does a machine where the compilation fails (no C compiler, no Python
headers): the build says so and installs the sources alone. Either way it writes
reviewflow/compiled.json, each compiled module's source hash, which the package checks at import
so that an extension older than its source is never run (reviewflow/compiled.py).
"""

from __future__ import annotations

import json
import os
import runpy
import shutil
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
# The list, and how the package's guard hashes a source (so the record and the guard agree).
COMPILED = runpy.run_path(str(ROOT / "reviewflow" / "compiled.py"))
LISTED: tuple[str, ...] = COMPILED["COMPILED_MODULES"]
SOURCES = [str(Path(*module.split(".")).with_suffix(".py")) for module in LISTED]
C_EXTENSIONS: dict[str, str] = COMPILED["C_EXTENSIONS"]
RECORD = ROOT / "reviewflow" / "compiled.json"
PURE = os.environ.get("REVIEWFLOW_PURE") == "1"


def write_record(compiled: bool) -> None:
    """Each compiled module's source hash (nothing when pure): what the extensions were built from."""
    hashes = {}
    if compiled:
        for module in COMPILED["BUILT_MODULES"]:
            hashes[module] = COMPILED["source_hash"](COMPILED["source_path"](module))
    RECORD.write_text(json.dumps(hashes, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def remove_extensions() -> None:
    """Removes the extensions an earlier in-place (editable) build left in the package, before a
    build: a module no longer listed, or a pure build, would otherwise run the old extension."""
    for extension in [*(ROOT / "reviewflow").rglob("*.so"), *ROOT.glob("reviewflow__mypyc.*.so")]:
        extension.unlink()


class BuildOrFallBack(build_ext):
    """Compiles the extensions; where that fails, installs pure Python instead of failing."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as error:  # a compiler's failure reaches setuptools as several types
            print(f"reviewflow: compiling failed ({error}); installing pure Python", file=sys.stderr)
            self.extensions = []
            write_record(compiled=False)
            remove_extensions()
            if not self.inplace:  # a wheel's build: build_py copied the record before this ran
                shutil.copyfile(RECORD, Path(self.build_lib, "reviewflow", RECORD.name))


def compiled_extensions() -> list:
    remove_extensions()
    if PURE:
        write_record(compiled=False)
        return []
    from mypyc.build import mypycify

    # mypy's own settings, not pyproject's [tool.mypy]: its pydantic plugin is not installed in the
    # isolated build environment, and the compiled code must not depend on what else is installed
    # (--no-site-packages: every third-party module is Any, as none is installed).
    extensions = mypycify(
        ["--config-file=", "--no-site-packages", "--ignore-missing-imports", *SOURCES],
        group_name="reviewflow",
    )
    # The extensions written in C, each from its one source.
    for module, source in C_EXTENSIONS.items():
        extensions.append(Extension(module, [str(Path("reviewflow", *source.split("/")))]))
    write_record(compiled=True)
    return extensions


setup(ext_modules=compiled_extensions(), cmdclass={"build_ext": BuildOrFallBack})
