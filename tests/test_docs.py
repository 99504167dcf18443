"""The documentation cannot drift from the CLI or the rules."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from reviewflow.checks import ALL_RULE_IDS
from reviewflow.cli import cli
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
    "module", sorted(p.name for p in (PROJECT / "reviewflow").glob("*.py") if not p.name.startswith("__"))
)
def test_every_module_is_in_the_readme(module: str) -> None:
    assert f"`{module}`" in README, f"reviewflow/{module} is missing from the module table in README.md"


def test_the_format_options_name_every_reporter() -> None:
    from reviewflow.ci_report import REPORTERS as CI_REPORTERS
    from reviewflow.cli import CHECK_FORMATS, CI_FORMATS
    from reviewflow.reporters import REPORTERS

    assert list(CHECK_FORMATS) == list(REPORTERS)
    assert list(CI_FORMATS) == list(CI_REPORTERS)


def test_status_loads_neither_the_checks_nor_the_site() -> None:
    """Start-up is paid on every command: `status` must not import what only check or publish need."""
    import subprocess
    import sys

    probe = (
        "import sys; from reviewflow import cli, review, views; "
        "print(' '.join(m for m in ('reviewflow.checks', 'reviewflow.ci', 'reviewflow.site', 'jsonschema', 'jinja2') "
        "if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == ""
