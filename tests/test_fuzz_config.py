"""Property-based fuzzing of reviewflow.toml: any text is a Config or every problem, one line each.

Strategies and profiles: tests/fuzzing.py.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

from reviewflow.cli.commands import cli
from reviewflow.cli.scaffold import init_repo
from reviewflow.config import Config
from reviewflow.configfile import parse_config
from reviewflow.errors import InvalidFile
from tests.conftest import BOARD_TOML
from tests.fuzzing import FEW, PROFILE, PROFILES, TEXT, config_text

TEMPLATE = (
    Path(__file__).resolve().parent.parent / "reviewflow" / "templates" / "reviewflow.toml"
).read_text(encoding="utf-8") + BOARD_TOML
CONFIGS = st.one_of(config_text(TEMPLATE), TEXT, st.binary(max_size=200).map(lambda b: b.decode("latin-1")))


@example(text=TEMPLATE.replace("[checks]\n", "[checks]\nrules.readability = 5\n"))  # once "... instance of
@example(text=TEMPLATE.replace("[policy]\n", "policy = 5\n[x]\n"))  # RuleSettings", a Python class name
@given(text=CONFIGS)
def test_any_config_text_is_a_config_or_every_problem_one_line_each(text: str) -> None:
    try:
        config = parse_config(text)
    except InvalidFile as error:
        lines = str(error).split("\n")
        assert lines and len(lines) == len(error.problems), str(error)
        for line in lines:
            assert line.startswith("reviewflow.toml"), line
            assert line.removeprefix("reviewflow.toml").strip(": 0123456789"), line  # says what
            assert "instance of" not in line, line  # in the file's words, not pydantic's
        return
    assert isinstance(config, Config)
    assert 1 <= config.policy.approvals_required <= len(config.board) or not config.board


@given(raw=st.binary(max_size=300))
def test_any_bytes_as_config_are_a_config_or_a_clear_error(raw: bytes) -> None:
    try:
        parse_config(raw)
    except InvalidFile as error:
        assert all(line.startswith("reviewflow.toml") for line in str(error).split("\n")), str(error)


@FEW
@given(text=config_text(TEMPLATE))
def test_check_with_any_config_exits_0_1_or_2_with_one_line_per_problem(text: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory) / "lib"
        init_repo(root)
        (root / "reviewflow.toml").write_text(text, encoding="utf-8")
        result = CliRunner().invoke(cli, ["-C", str(root), "check", "--no-cache"])
    assert result.exit_code in (0, 1, 2), result.output
    if result.exit_code == 2:
        assert result.stdout == "", result.stdout
        assert all(line.startswith("reviewflow: ") for line in result.stderr.splitlines()), result.stderr
        assert "Traceback" not in result.stderr


def test_the_profile_bounds_every_property() -> None:
    """The examples the README quotes are the ones each property runs."""
    assert settings().max_examples == PROFILES[PROFILE]
