"""Hypothesis strategies for what authors and publishers write, and the fuzz profiles.

Three inputs come from people reviewflow does not control: an article's front-matter, its
Markdown body, and `reviewflow.toml`. Each strategy mixes what a careful author writes (valid),
what a hurried one writes (near-valid: one character dropped, a line doubled, tabs, a newline
style changed) and what an attacker writes (hostile: YAML aliases and tags, deep nesting, huge
scalars, control characters, raw HTML, script URLs hidden behind entities).

Profiles (`REVIEWFLOW_FUZZ`): `ci` (the default, in `make test`: bounded, derandomised so a
failure reproduces, nothing written to disk) and `long` (`make fuzz`: many more examples,
random, failures kept in `.hypothesis/` to replay).
"""

from __future__ import annotations

import json
import os
import re

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

# Examples per property in each profile; the README's "Reliability" section quotes them.
PROFILES = {"ci": 200, "long": 3000}
_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile(
    "ci", max_examples=PROFILES["ci"], deadline=None, derandomize=True, database=None,
    suppress_health_check=_QUIET,
)  # fmt: skip
settings.register_profile("long", max_examples=PROFILES["long"], deadline=None, suppress_health_check=_QUIET)
PROFILE = os.environ.get("REVIEWFLOW_FUZZ", "ci")
settings.load_profile(PROFILE)
# The properties that cost a process or a git repository per example run a twentieth of the
# profile's examples, and do not shrink a failure (each step would be another process).
FEW = settings(max_examples=max(2, settings().max_examples // 20), phases=[Phase.explicit, Phase.generate])
# A real process per example: fewer still.
PROCESSES = settings(FEW, max_examples=max(2, settings().max_examples // 40))

# --- text pieces ------------------------------------------------------------------------------

WORDS = st.sampled_from(
    "POEMS syndrome is a rare disorder of plasma cells nerves skin patients treatment "
    "always never cures studies show percent median survival years".split()
)
# Characters that break naive readers: controls, bidi, line and paragraph separators, a BOM,
# surrogate-free astral characters, private-use characters (the renderer's placeholders).
NASTY_CHARS = st.sampled_from(
    ["\x00", "\x07", "\x1b[31m", "\x7f", "\x85", "\u2028", "\u2029", "\u202e", "\ufeff", "\t", "\r",
     "\ue000", "\ue001", "\U0001f600", "а", "ǅ", "ﬁ", "\u0301", "\\", '"', "'", "&", "<", ">", "#", ":"]
)  # fmt: skip
TEXT = st.lists(st.one_of(WORDS, NASTY_CHARS, st.text(max_size=8)), max_size=12).map(" ".join)
PLAIN = st.lists(WORDS, min_size=1, max_size=10).map(" ".join)

# --- Markdown bodies --------------------------------------------------------------------------

URLS = st.sampled_from(
    [
        "https://doi.org/10.5045/br.2022.2022001", "https://pubmed.ncbi.nlm.nih.gov/", "#ref-1",
        "mailto:editors@example.org", "/relative/page", "",
        "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
        "java&#115;cript:alert(1)", "&#106;avascript:alert(1)", "&#x6A;avascript:alert(1)",
        "javascript&colon;alert(1)", "\x01javascript:alert(1)", "jav&#x09;ascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "DATA:text/html,<script>x</script>",
        "vbscript:msgbox(1)", "VBScript:msgbox(1)", "file:///etc/passwd", "//evil.example/x",
        "<javascript:alert(1)>", "javascript:alert(1) \"title\"",
    ]
)  # fmt: skip
RAW_HTML = st.sampled_from(
    [
        "<script>window.pwned=1</script>", "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        "<iframe src=javascript:alert(1)></iframe>", "<svg onload=alert(1)>", "<svg><script>x</script></svg>",
        "<img src=x onerror=alert(1)>", '<a href="javascript:alert(1)">x</a>', "<math><mi xlink:href=x>",
        "<style>body{display:none}</style>", "<!-- comment -->", "<![CDATA[ x ]]>", "<details open ontoggle=x>",
        '<div style="background:url(javascript:x)">', "<object data=x></object>", "<embed src=x>",
        "<form action=javascript:x><button>", '<meta http-equiv="refresh" content="0;url=javascript:x">',
        "<base href=javascript:x>", "<p onclick='x'>", "</p><script>", "<scr<script>ipt>",
        "&lt;script&gt;", "<x onmouseover=alert(1)>", "<a href=&#106;avascript:x>y</a>",
    ]
)  # fmt: skip
CITATIONS = st.sampled_from(
    [
        "[1]", "[1, 2]", "[1,2]", "[2][3]", "[3–5]", "[3-5]", "[3—5]", "[3&ndash;5]", "[1, 3-5]",
        "[1, @21@]", "[1,,2]", "[1;2]", "[5-3]", "[1-500]", "[99999999999999999999]", "[0]", "[01]",
        "\\[3]", "\\[3\\]", "[[3]](https://doi.org/x)", "[3](javascript:x)", "![x [1]](y.png)",
        "`[1]`", "[ 1 ]", "[1 ]", "[１]", "[1]\u0301", "[\ue0001\ue001]",
    ]
)  # fmt: skip


def _inline(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(st.sampled_from(["*", "_", "**", "__", "***", "~~", "~", "`"]), children).map(
            lambda t: f"{t[0]}{t[1]}{t[0]}"
        ),
        st.tuples(children, URLS).map(lambda t: f"[{t[0]}]({t[1]})"),
        st.tuples(children, URLS).map(lambda t: f"![{t[0]}]({t[1]})"),
        st.tuples(children, children).map(lambda t: t[0] + t[1]),
    )


INLINE = st.recursive(
    st.one_of(PLAIN, TEXT, CITATIONS, RAW_HTML, URLS.map(lambda u: f"<{u}>")), _inline, max_leaves=12
)
LINE = st.lists(INLINE, min_size=1, max_size=6).map(" ".join)
BLOCK = st.one_of(
    LINE,
    LINE.map(lambda s: s + "."),
    st.tuples(st.integers(1, 7), LINE).map(lambda t: "#" * t[0] + " " + t[1]),
    st.tuples(LINE, st.sampled_from(["===", "---"])).map(lambda t: f"{t[0]}\n{t[1]}"),
    st.lists(LINE, min_size=1, max_size=3).map(lambda items: "\n".join(f"- {i}" for i in items)),
    st.lists(LINE, min_size=1, max_size=3).map(
        lambda items: "\n".join(f"{n}. {i}" for n, i in enumerate(items, 1))
    ),
    LINE.map(lambda s: "> " + s),
    st.tuples(LINE, LINE).map(lambda t: f"| {t[0]} | {t[1]} |\n|:--|--:|\n| [1] | {t[1]} |"),
    LINE.map(lambda s: f"| {s}"),
    LINE.map(lambda s: f"```\n{s}\n```"),
    LINE.map(lambda s: f"    {s}"),
    RAW_HTML.map(lambda h: f"{h}\n"),
    st.tuples(st.integers(1, 9), URLS).map(lambda t: f"[{t[0]}]: {t[1]}"),
    st.just("---"),
)
BODIES = st.lists(BLOCK, max_size=8).map("\n\n".join)

# --- front-matter -----------------------------------------------------------------------------


def _quoted(text: str) -> str:
    return json.dumps(text)  # JSON strings are YAML double-quoted scalars


VALID_FIELDS = st.fixed_dictionaries(
    {
        "title": PLAIN.map(_quoted),
        "summary": PLAIN.map(_quoted),
        "audience": st.sampled_from(["patient", "professional"]),
        "condition": PLAIN,
        "year": st.integers(1900, 2026),
        "id": st.integers(1, 12),
        "doi": st.sampled_from(['"10.5045/br.2022.2022001"', "10.5045/br.2022.2022001", "null"]),
        "tags": st.lists(WORDS, max_size=3).map(lambda ws: "[" + ", ".join(ws) + "]"),
    }
)


def front_matter(fields: dict[str, object]) -> str:
    return f"""---
title: {fields["title"]}
summary: {fields["summary"]}
audience: {fields["audience"]}
condition: {fields["condition"]}
tags: {fields["tags"]}
authors:
  - {{name: "Alice Author", email: "alice@authors.example", competing_interests: "none"}}
disclaimer: {fields["audience"]}
references:
  - id: {fields["id"]}
    type: review
    title: "Update on the POEMS syndrome"
    source: "Blood Research"
    year: {fields["year"]}
    doi: {fields["doi"]}
---
"""


VALID_FRONT_MATTER = VALID_FIELDS.map(front_matter)


@st.composite
def _near_valid(draw: st.DrawFn) -> str:
    """A valid front-matter with one slip of the kind people make."""
    lines = draw(VALID_FRONT_MATTER).split("\n")
    at = draw(st.integers(0, len(lines) - 1))
    slip = draw(st.sampled_from(["drop-char", "double", "drop", "tab", "dedent", "indent", "insert"]))
    line = lines[at]
    if slip == "drop-char" and line:
        cut = draw(st.integers(0, len(line) - 1))
        lines[at] = line[:cut] + line[cut + 1 :]
    elif slip == "double":
        lines.insert(at, line)
    elif slip == "drop":
        del lines[at]
    elif slip == "tab":
        lines[at] = "\t" + line
    elif slip == "dedent":
        lines[at] = line.lstrip()
    elif slip == "indent":
        lines[at] = "   " + line
    else:
        lines.insert(at, draw(st.one_of(TEXT, HOSTILE_LINES)))
    return "\n".join(lines)


HOSTILE_LINES = st.sampled_from(
    [
        "a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b]",
        "title: &t x\nsummary: *t", "<<: {title: merged}", "title: !!python/object/apply:os.system ['touch pwned']",
        "title: !custom x", "title: !!binary aGVsbG8=", "title: !!timestamp 2001-12-14", "? [complex, key]\n: v",
        "tags:\n  - \n  -", "authors:\n- ", "id: 010", "id: 0x1F", "year: 3:1", "year: 1e400", "year: .inf",
        "title: yes", "title: ~", "title: |\n  block\n  text", "title: >-\n  folded", "title: 'it''s'",
        "%YAML 1.1", "--- !tag", "...", "title: \"\\x00\\ud800\"", "title: \"unterminated",
        '{"title": "flow", "summary": [1, {2: 3}]}', "a: b: c", ":", "- item", "\ttitle: tab",
        "title: " + "[" * 200 + "]" * 200, "title: " + "{a: " * 120 + "b" + "}" * 120,
        "\n".join(" " * i + f"k{i}:" for i in range(1200)) + " deep",  # past libyaml's block depth
        "title: " + "x" * 300_000, "summary: " + "é" * 20_000, "title: a\x00b", "title: a\x1bb\x85c",
        "year: " + "9" * 5000, "id: -" + "1" * 4301, "tags:\n  - " + "7" * 6000,  # past int()'s 4,300 digits
    ]
)  # fmt: skip


@st.composite
def _hostile(draw: st.DrawFn) -> str:
    lines = draw(VALID_FRONT_MATTER).split("\n")
    at = draw(st.integers(1, len(lines) - 2))
    lines.insert(at, draw(HOSTILE_LINES))
    return "\n".join(lines)


FRONT_MATTER = st.one_of(VALID_FRONT_MATTER, _near_valid(), _hostile())


@st.composite
def article_bytes(draw: st.DrawFn) -> bytes:
    """A whole article file: front-matter and body, in some newline style, maybe with a BOM,
    maybe not UTF-8 at all."""
    text = draw(FRONT_MATTER) + "\n" + draw(BODIES) + "\n"
    newline = draw(st.sampled_from(["\n", "\r\n", "\r", "mixed"]))
    if newline == "mixed":
        parts = text.split("\n")
        text = "".join(p + draw(st.sampled_from(["\n", "\r\n", "\r"])) for p in parts[:-1]) + parts[-1]
    elif newline != "\n":
        text = text.replace("\n", newline)
    raw = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        raw = b"\xef\xbb\xbf" + raw
    if draw(st.integers(0, 9)) == 0:  # now and then a byte that is not UTF-8
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\x00", b"\xed\xa0\x80"])) + raw[at:]
    return raw


# --- reviewflow.toml --------------------------------------------------------------------------

TOML_VALUES = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda f: {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(str(f), repr(f))),
    st.sampled_from(["true", "false", "1979-05-27", "07:32:00", "[]", "[1, 2]", "{}", '{ a = 1 }',
                     '"error"', '"off"', '"warning"', '"patient"', "'''multi\nline'''",
                     "9" * 5000, "1_" * 4400 + "1", "[" * 1000 + "]" * 1000, "{ a = " * 1000 + "1" + " }" * 1000]),
    TEXT.map(lambda s: toml_string(s)),
)  # fmt: skip
TOML_KEYS = st.sampled_from(
    [
        ("policy", "approvals_required"), ("policy", "review_cycle_days"), ("policy", "quorum"),
        ("checks", "max_file_bytes"), ("checks", "max_reference_age_years"), ("checks", "patient_max_grade"),
        ("checks", "retractions"), ("checks", "rules.readability"), ("checks", 'rules."reference-old"'),
        ("checks", "rules.unknown-rule"), ("checks", "min_references.patient"), ("checks", "vocabulary.absolute"),
        ("site", "name"), ("site", "url"), ("site", "contact"), ("site", "ownership"),
        ("disclaimers.patient", "audience"), ("disclaimers.other", "audience"), ("disclaimers.other", "text"),
        ("unknown", "key"),
    ]
)  # fmt: skip
BOARD_ENTRIES = st.lists(
    st.fixed_dictionaries(
        {"name": TEXT, "email": st.sampled_from(["rita@board.example", "RITA@board.example", "rita@bоard.example",
                                                  "", "not an email", "sam@board.example"])},
        optional={"credentials": TEXT, "signing_key": st.sampled_from(["ssh-ed25519 AAAA", "garbage", ""]),
                  "competing_interests": TEXT},
    ),
    max_size=3,
)  # fmt: skip


def toml_string(text: str) -> str:
    """TEXT as a TOML basic string (JSON's escapes, but astral characters as themselves: TOML
    has no surrogate pairs; and DEL escaped, which TOML does not allow raw)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def set_key(text: str, section: str, key: str, value: str) -> str:
    """TEXT with KEY of [SECTION] set to VALUE: its one-line setting replaced, or a line added
    under the section's header, or the section added."""
    header = f"[{section}]\n"
    if header not in text:
        return f"{text}\n{header}{key} = {value}\n"
    before, after = text.split(header, 1)
    setting = re.compile(rf"^{re.escape(key)} = [^\n\"']*$", re.M)
    if setting.search(after.split("\n[", 1)[0]):
        return before + header + setting.sub(lambda _: f"{key} = {value}", after, count=1)
    return f"{before}{header}{key} = {value}\n{after}"


PLAUSIBLE_SETTINGS = st.sampled_from(
    [
        ("policy", "approvals_required", "2"), ("policy", "review_cycle_days", "30"),
        ("checks", "max_reference_age_years", "5"), ("checks", "patient_max_grade", "9.5"),
        ("checks", "max_file_bytes", "65536"), ("checks", "rules.readability", '"error"'),
        ("checks", 'rules."reference-old"', '"off"'), ("checks", "rules.readability", '{ patient = "warning" }'),
        ("site", "url", '"https://health.example.org"'), ("site", "contact", '"editors@example.org"'),
    ]
)  # fmt: skip
PLAUSIBLE_MEMBERS = st.lists(
    st.tuples(PLAIN, st.sampled_from(["tom@board.example", "uma@board.example", "vic@board.example"])),
    max_size=3, unique_by=lambda member: member[1],
)  # fmt: skip


@st.composite
def config_text(draw: st.DrawFn, template: str) -> str:
    """TEMPLATE (a working reviewflow.toml) with settings a publisher would make, or values of
    any type, members with any name and email, and now and then a line of garbage."""
    text = template
    if draw(st.booleans()):
        for section, key, value in draw(st.lists(PLAUSIBLE_SETTINGS, max_size=3, unique=True)):
            text = set_key(text, section, key, value)
        for name, email in draw(PLAUSIBLE_MEMBERS):
            text += f'\n[[board]]\nname = {toml_string(name)}\nemail = "{email}"\ncredentials = "MD"\n'
        return text
    for (section, key), value in draw(st.lists(st.tuples(TOML_KEYS, TOML_VALUES), max_size=4)):
        text = set_key(text, section, key, value)
    for member in draw(BOARD_ENTRIES):
        text += "\n[[board]]\n" + "".join(f"{k} = {toml_string(v)}\n" for k, v in member.items())
    if draw(st.integers(0, 4)) == 0:
        lines = text.split("\n")
        junk = st.one_of(TEXT, st.sampled_from(["[policy]", "[[board]]", "= 1", "a = ", "[", 'x = "\\q"']))
        lines.insert(draw(st.integers(0, len(lines))), draw(junk))
        text = "\n".join(lines)
    return text
