"""The documentation cannot drift from the CLI or the rules."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from reviewflow.checks.rules import ALL_RULE_IDS
from reviewflow.cli.commands import cli
from tests.conftest import PROJECT

README = (PROJECT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_has_help_and_is_in_the_readme(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    command = cli.commands[name]
    assert command.help and len(command.help.strip()) > 20, f"{name} has no real --help text"
    assert f"reviewflow {name}" in README, f"`reviewflow {name}` is not documented in README.md"


@pytest.mark.parametrize("rule", ALL_RULE_IDS)
def test_every_rule_is_in_the_readme(rule: str) -> None:
    assert f"`{rule}`" in README, f"rule {rule} is not documented in README.md"


def test_readme_starts_with_the_two_commands() -> None:
    head = README[:1500]
    assert "make demo" in head
    assert "make test" in head


@pytest.mark.parametrize(
    "module",
    sorted(
        p.relative_to(PROJECT / "reviewflow").as_posix()
        for p in (PROJECT / "reviewflow").rglob("*.py")
        if not p.name.startswith("__")
    ),
)
def test_every_module_is_in_the_readme(module: str) -> None:
    assert f"`{module}`" in README, f"reviewflow/{module} is missing from the module table in README.md"


def test_the_format_options_name_every_reporter() -> None:
    from reviewflow.cli.ci_report import REPORTERS as CI_REPORTERS
    from reviewflow.cli.commands import CHECK_FORMATS, CI_FORMATS
    from reviewflow.cli.reporters import REPORTERS

    assert list(CHECK_FORMATS) == list(REPORTERS)
    assert list(CI_FORMATS) == list(CI_REPORTERS)


def test_status_loads_neither_the_checks_nor_the_site() -> None:
    """Start-up is paid on every command: `status` must not import what only check or publish need."""
    import subprocess
    import sys

    probe = (
        "import sys; import reviewflow.cli.commands, reviewflow.review.queries, reviewflow.cli.views; "
        "print(' '.join(m for m in ('reviewflow.checks.rules', 'reviewflow.ci.gate', 'reviewflow.publish.site', 'jsonschema', 'jinja2') "
        "if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == ""
