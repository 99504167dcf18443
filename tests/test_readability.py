"""Readability: the same syllable counts as textstat, offline, from a cached table."""

from __future__ import annotations

import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import textstat

from reviewflow.checks import readability
from reviewflow.content.prose import MARKER, read_prose

WORDS = ["treatment", "polyneuropathy", "lenalidomide", "organomegaly", "the", "syndrome", "every", "xyzzyq"]


@pytest.mark.parametrize("word", WORDS)
def test_syllables_agree_with_textstat(word: str) -> None:
    assert readability.syllables(word) == max(1, textstat.syllable_count(word))


def test_grade_of_easy_and_hard_text() -> None:
    easy = "The cat sat on the mat. It was a good cat. We fed it."
    hard = (
        "Polyneuropathy accompanied by organomegaly and endocrinopathy necessitates "
        "multidisciplinary haematological evaluation and individualised therapeutic stratification."
    )
    assert readability.flesch_kincaid_grade(easy, 3) < 2
    assert readability.flesch_kincaid_grade(hard, 1) > 16


def test_table_is_built_once_then_loaded_from_the_user_cache(tmp_path: Path) -> None:
    code = (
        "import time; from reviewflow.checks import readability as r; t = time.perf_counter(); "
        "n = len(r.syllable_table()); print(n, r._cache_file().exists(), round(time.perf_counter() - t, 3))"
    )
    env = {"XDG_CACHE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    words, cached, _ = first.stdout.split()
    assert int(words) > 100_000 and cached == "True"
    assert list(tmp_path.glob("reviewflow/syllables-cmudict-*.pickle"))
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert second.stdout.split()[0] == words


def test_corrupt_cache_is_rebuilt(tmp_path: Path) -> None:
    code = "from reviewflow.checks import readability as r; print(r._cache_file()); print(len(r.syllable_table()))"
    env = {"XDG_CACHE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    Path(first.stdout.splitlines()[0]).write_bytes(b"not a pickle")
    again = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert again.stdout.splitlines()[1] == first.stdout.splitlines()[1]


PIECES = [
    "word", "Word", "it's", "it’s", "'quoted'", "’tis", "rock'n'roll", "5's", "x'", "a''b", "café", "naïve",
    "日本", "١٢", "１", "[1]", "[12]", "[1, 2-4]", "[3–5]", "[١]", "[1](url)", "[x]", "2.5", "1,000", "e.g.",
    "-", "—", "(see", "it)", "İstanbul", "K", "ﬁne", "\u00a0", "\t", "\n", "don't[2]", "[2]'s", "a[1]b",
]  # fmt: skip


@pytest.mark.parametrize("seed", range(3))
def test_word_counts_are_the_regular_expressions(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(2000):
        text = "".join(
            rng.choice(PIECES) + rng.choice(["", " ", "  ", ".", ", "]) for _ in range(rng.randint(0, 30))
        )
        expected = Counter(readability._WORD.findall(MARKER.sub(" ", text.lower())))
        assert readability.word_counts(text) == expected, text
        assert readability.word_counts(text, MARKER.findall(text)) == expected, text
        sums = sum(expected.values()), sum(readability.syllables(w) * n for w, n in expected.items())
        assert readability.word_totals(text) == sums, text
        assert readability.word_totals(text, MARKER.findall(text)) == sums, text


@pytest.mark.parametrize("seed", range(2))
def test_prose_totals_are_the_word_totals_of_the_text_without_headings(seed: int) -> None:
    rng = random.Random(seed)
    ascii_pieces = [piece for piece in PIECES if piece.isascii() and "'" not in piece]
    for _ in range(300):
        pieces = rng.choice([PIECES, ascii_pieces])
        blocks = [
            rng.choice(["", "## ", "- "]) + " ".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
            for _ in range(rng.randint(1, 5))
        ]
        prose = read_prose("\n\n".join(blocks) + "\n", 1)
        expected = readability.word_totals(prose.without_headings, prose.marker_insides)
        assert readability.prose_totals(prose) == expected, prose.text


def test_let_go_drops_the_tables_and_a_later_count_loads_them_again() -> None:
    import pyphen

    readability.warm_up()
    assert readability.syllable_table.cache_info().currsize == 1 and pyphen.hdcache
    readability.let_go()
    assert readability.syllable_table.cache_info().currsize == 0
    assert readability._hyphenator.cache_info().currsize == 0 and not pyphen.hdcache
    assert readability.syllables.cache_info().currsize == 0
    # A word the dictionary lacks needs the hyphenation dictionary again.
    assert readability.syllables("zorblaxification") == textstat.syllable_count("zorblaxification")
    assert readability.syllable_table.cache_info().currsize == 1 and pyphen.hdcache


def test_hyphenation_patterns_are_parsed_once_then_loaded_from_the_user_cache(tmp_path: Path) -> None:
    # Words the syllable table lacks are counted by their hyphenation: the same counts whether
    # the patterns were parsed from Pyphen's dictionary (a first run) or loaded as kept.
    words = ["zorblaxification", "lenalidomide", "xyzzyq", "hyperparathyroidism", "qwertyuiopasdf"]
    code = (
        f"from reviewflow.checks import readability as r; print(*(r.syllables(w) for w in {words!r})); "
        "print(*sorted(p.name for p in r._cache_file().parent.glob('hyphenation-*')))"
    )
    env = {"XDG_CACHE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}

    def run() -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        return done.stdout.splitlines()

    counts, name = run()
    assert counts.split() == [str(max(1, textstat.syllable_count(word))) for word in words]
    assert name.startswith("hyphenation-pyphen-") and name.endswith("-hyph_en_US.pickle")
    kept = tmp_path / "reviewflow" / name
    written = kept.stat().st_mtime_ns
    assert run() == [counts, name]
    assert kept.stat().st_mtime_ns == written  # loaded as kept, not parsed and written again
    # A kept file that is not what was written is parsed again, and written anew.
    kept.write_bytes(b"not a pickle")
    assert run() == [counts, name]
    assert kept.read_bytes() != b"not a pickle"


def test_kept_hyphenation_patterns_are_pyphens_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyphen

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    dictionary = pyphen.LANGUAGES["en_US"]
    parsed = readability._hyphenation_patterns(dictionary)  # nothing kept yet: parsed, then kept
    assert list(tmp_path.glob("reviewflow/hyphenation-pyphen-*-hyph_en_US.pickle"))
    loaded = readability._hyphenation_patterns(dictionary)
    fresh = pyphen.HyphDict(dictionary)
    words = [
        "zorblaxification",
        "hyperparathyroidism",
        "lenalidomide",
        "a",
        "ab",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    ]
    for made in (parsed, loaded):
        assert (made.patterns, made.maxlen) == (fresh.patterns, fresh.maxlen)
        assert [made.positions(word) for word in words] == [fresh.positions(word) for word in words]
