"""The GitHub Actions workflow `reviewflow init` writes, and the install source it pins.

reviewflow is not on PyPI. A workflow that ran `pip install reviewflow==…` would fail, or,
once somebody registered that name, run their code with the repository's token: so the
workflow installs from an explicit pip requirement (a git URL pinned to a tag or commit, a
wheel), given to `init --install` or set later as the repository variable REVIEWFLOW_INSTALL,
and fails with a clear message while there is none.
"""

from __future__ import annotations

import json
import re
from importlib import resources

from reviewflow.errors import ConfigError

INSTALL_VARIABLE = "REVIEWFLOW_INSTALL"
EXAMPLE_INSTALL = "reviewflow @ git+https://github.com/ORG/reviewflow@COMMIT"

# "name[extras] @ url", PEP 508's direct reference.
_DIRECT = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?(\[[^\]]*\])?\s*@\s*(?P<url>\S+)$")
_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>.*)$")
_SECURE_SCHEMES = {"https", "git+https", "git+ssh", "file"}
_ARCHIVE = re.compile(r"\.(whl|tar\.gz|zip)$")


def install_requirement(spec: str) -> str:
    """SPEC, checked to say explicitly where pip gets reviewflow from; ConfigError if not."""
    spec = spec.strip()
    where = f"--install {spec!r}"
    if not spec or re.search(r"[\x00-\x1f\x7f]", spec):
        raise ConfigError(f"{where}: give one pip requirement on one line, e.g. {EXAMPLE_INSTALL!r}")
    if spec.startswith("-"):
        raise ConfigError(f"{where}: pip would read it as an option; give a requirement, not a pip flag")
    if "${{" in spec:
        raise ConfigError(f"{where}: '${{{{' would be read by GitHub as an expression")
    direct = _DIRECT.match(spec)
    url = direct.group("url") if direct else spec
    scheme = _SCHEME.match(url)
    if scheme is None:
        if _ARCHIVE.search(url) and " " not in url:
            return spec  # a wheel or sdist committed to the repository
        raise ConfigError(
            f"{where}: that is a name for a package index, and reviewflow is not on PyPI: pip "
            "would install whatever package someone registered under that name. Give a URL "
            f"pinned to a tag or commit, e.g. {EXAMPLE_INSTALL!r}"
        )
    kind = scheme.group("scheme").lower()
    if kind not in _SECURE_SCHEMES:
        raise ConfigError(f"{where}: {kind}:// is not a safe source; use https:// or git+https://")
    if kind.startswith("git+") and not _names_a_revision(scheme.group("rest")):
        raise ConfigError(
            f"{where}: a git URL without @TAG or @COMMIT installs whatever the default branch "
            f"holds at each run; pin it, e.g. {EXAMPLE_INSTALL!r}"
        )
    return spec


def _names_a_revision(rest: str) -> bool:
    """Whether a git URL (after `scheme://`) ends its path with @REVISION."""
    _, _, path = rest.partition("/")  # the host part may hold a user@ of its own
    path = path.split("#", 1)[0]
    repository, at, revision = path.rpartition("@")
    return bool(at and repository and revision and "/" not in revision)


def github_workflow(install: str | None, branch: str = "main", content_dir: str = "") -> str:
    """The text of .github/workflows/reviewflow.yml, installing from INSTALL if given.

    Without INSTALL the workflow reads the repository variable REVIEWFLOW_INSTALL. BRANCH is
    the default branch pushes publish from; CONTENT_DIR the content repository's directory
    relative to the top of the git repository ("" or "sub/dir/"), where the workflow lives.
    """
    text = resources.files("reviewflow").joinpath("templates/github-workflow.yml").read_text("utf-8")
    if install is None:
        value = "${{ vars." + INSTALL_VARIABLE + " }}"
    else:
        # A JSON string is a valid YAML double-quoted scalar: nothing in it is YAML syntax.
        value = json.dumps(install_requirement(install), ensure_ascii=False)
    directory = content_dir.strip("/")
    for what, name in (("the default branch", branch), ("the content directory", directory)):
        if "${{" in name or re.search(r"[\x00-\x1f\x7f]", name):
            raise ConfigError(f"{what} {name!r} cannot be written into a GitHub workflow safely")
    replacements = {
        "@REVIEWFLOW_INSTALL@": value,
        # In a branch filter these characters are patterns; a backslash makes them literal.
        "@DEFAULT_BRANCH@": json.dumps(re.sub(r"([*?+!\[\]])", r"\\\1", branch), ensure_ascii=False),
        "@CONTENT_DIR@": json.dumps(directory or ".", ensure_ascii=False),
        "@SITE_DIR@": json.dumps(f"{directory}/site" if directory else "site", ensure_ascii=False),
    }
    # One pass: a value is never searched for another placeholder.
    return re.sub(r"@[A-Z_]+@", lambda m: replacements.get(m[0], m[0]), text)
