"""The benchmark's report (bench/run.py): what `make bench` writes into bench/results.md.

The timings are the bench's; what is tested here is how they are read: the full build judged
against Hugo on runs side by side, the size-step flags, Hugo never flagged."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import run  # noqa: E402  (the benchmark's runner; importing it runs nothing)


def _result(name: str, articles: int, *seconds: float) -> run.Result:
    return run.Result(name, articles, list(seconds), peak_mb=100.0)


def test_the_full_build_is_judged_against_hugo_pair_by_pair() -> None:
    # Hugo's median (14 s) against the full build's (11 s) would read 0.79 and "met"; pair by
    # pair the build took 0.90, 0.92 and 0.75 of Hugo's time beside it: 0.90, missed.
    results = [
        _result(run.PAIRED, 10_000, 9.0, 11.0, 12.0),
        _result(run.HUGO, 10_000, 10.0, 12.0, 16.0),
    ]
    sentence = run.against_hugo(results)
    assert (
        "Full publish at 10,000 articles, both writing into a fresh directory on a tmpfs: 0.90 × " in sentence
    )
    assert (
        "Hugo's time (≤ 0.8 × MISSED; the median of 3 pairs run back to back: 0.75, 0.90, 0.92)" in sentence
    )


def test_the_pairs_on_disk_are_shown_beside_the_judged_ones_and_judged_without_a_tmpfs() -> None:
    on_disk = [
        _result(run.PAIRED_ON_DISK, 10_000, 11.0, 12.0, 14.0),
        _result(run.HUGO_ON_DISK, 10_000, 10.0, 12.0, 10.0),
    ]
    in_memory = [_result(run.PAIRED, 10_000, 6.0, 6.0, 7.0), _result(run.HUGO, 10_000, 10.0, 10.0, 10.0)]
    both = run.against_hugo(in_memory + on_disk)
    assert (
        "on a tmpfs: 0.60 × Hugo's time (≤ 0.8 × met; the median of 3 pairs run back to back: 0.60, 0.60, 0.70)"
        in both
    )
    assert both.endswith(" Both writing into a fresh directory on disk: 1.10 × (pairs: 1.00, 1.10, 1.40).")
    alone = run.against_hugo(on_disk)
    assert "Full publish at 10,000 articles, both writing into a fresh directory on disk: 1.10 × " in alone
    assert "(≤ 0.8 × MISSED; the median of 3 pairs run back to back: 1.00, 1.10, 1.40)." in alone


def test_the_comparison_is_at_the_largest_size_both_ran_and_absent_without_hugo() -> None:
    small = [_result(run.PAIRED, 1_000, 1.0, 1.0), _result(run.HUGO, 1_000, 2.0, 2.0)]
    big = [_result(run.PAIRED, 10_000, 7.0, 8.0), _result(run.HUGO, 10_000, 10.0, 10.0)]
    assert (
        "at 10,000 articles, both writing into a fresh directory on a tmpfs: 0.75 × Hugo's time (≤ 0.8 × met"
        in (run.against_hugo(small + big))
    )
    assert run.against_hugo([_result(run.PAIRED, 10_000, 7.0)]) == ""
    failed = _result(run.HUGO, 10_000)
    failed.failed = "exit 2"
    assert run.against_hugo([_result(run.PAIRED, 10_000, 7.0), failed]) == ""


def test_the_table_flags_a_slow_step_of_ours_and_never_hugos() -> None:
    results = [
        _result("check", 1_000, 0.5),
        _result("check", 10_000, 6.0),  # 12x the time for 10x the articles
        _result(run.HUGO, 1_000, 1.0),
        _result(run.HUGO, 10_000, 12.0),
        _result(run.HUGO_ON_DISK, 1_000, 1.0),
        _result(run.HUGO_ON_DISK, 10_000, 12.0),
    ]
    rows = {
        line.split(" | ")[0].lstrip("| "): line for line in run.table(results, [1_000, 10_000]).splitlines()
    }
    assert rows["check"].endswith("| 12.0x MISSED |")
    assert "≤ 2 s MISSED" in rows["check"]
    for hugo in (run.HUGO, run.HUGO_ON_DISK):
        assert rows[hugo].endswith("| 12.0x |")
        assert "| reference |" in rows[hugo]


def _peaks_in_a_spawned_process() -> tuple[float, float]:
    import resource

    return run.own_peak_mb(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_a_spawned_rows_peak_is_its_own_not_the_bench_process_peak() -> None:
    # The desk's row runs in a process spawned by the bench, which may have grown by hundreds of
    # MB generating corpora; Linux keeps ru_maxrss across exec, so that row read the bench's peak.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    grown = bytearray(b"x" * (400 << 20))  # touched, so resident
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        own, inherited = pool.submit(_peaks_in_a_spawned_process).result()
    del grown
    assert inherited > 400  # what the row used to report: at least the parent's 400 MB
    assert own < 200  # an interpreter that imported the bench's runner
