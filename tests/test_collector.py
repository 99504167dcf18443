"""The cycle collector paused while a whole history is read and judged (collector.py)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from reviewflow.cli.views import status_data, status_json
from reviewflow.collector import collection_paused, keep_out_of_reach
from reviewflow.desk.pages import Memo, queue_page
from reviewflow.gitstore import GitStore
from reviewflow.publish.build import publish
from reviewflow.repo import ContentRepo
from reviewflow.review.board import committed_config
from reviewflow.review.history import read_history
from reviewflow.review.kept import Later, LaterList
from reviewflow.review.model import Event, History
from reviewflow.review.queries import StatusReport
from reviewflow.review.snapshot import Judged, judged_history
from reviewflow.review.snapshot import _save as save
from reviewflow.review.snapshot_file import kept_file
from reviewflow.review.workflow import MANY_EVENTS, Replay
from reviewflow.review.writers import wait_for_writers
from reviewflow.workers import worker_pool
from tests.gitrepo import SLUG
from tests.test_history import approved  # noqa: F401 - the fixture


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    """Each test starts with nothing frozen and the collector on, and leaves it so."""
    gc.unfreeze()
    gc.enable()
    yield
    gc.unfreeze()
    gc.enable()


def test_no_collection_while_paused_and_what_was_made_is_frozen() -> None:
    collected: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collected.append(info["generation"])

    gc.callbacks.append(count)
    try:
        with collection_paused():
            assert not gc.isenabled()
            made = [[index] for index in range(3 * gc.get_threshold()[0])]  # enough for collections
        assert gc.isenabled()
        assert collected == []
        assert gc.get_freeze_count() >= len(made)
    finally:
        gc.callbacks.remove(count)


def test_a_pause_within_a_pause_and_a_failure_leave_the_collector_as_it_was() -> None:
    with collection_paused():
        with collection_paused():
            pass
        assert not gc.isenabled()  # the outer pause still holds
    assert gc.isenabled()
    with pytest.raises(ValueError), collection_paused():
        raise ValueError
    assert gc.isenabled()
    gc.unfreeze()
    gc.disable()
    with collection_paused():
        pass
    assert not gc.isenabled()  # off before, off after: nothing frozen by it
    assert gc.get_freeze_count() == 0


def test_a_whole_read_is_paused_and_a_read_of_a_few_articles_is_not(approved: Path) -> None:  # noqa: F811
    store = GitStore.open(approved)
    before = gc.get_freeze_count()  # the fixture's actions judged a kept whole history: paused
    read_history(store, scope={"none-such"}, use_cache=False)
    assert gc.get_freeze_count() == before
    read_history(store, use_cache=False)
    assert gc.get_freeze_count() > before


def test_judging_a_whole_history_is_paused_and_a_few_events_are_not(approved: Path) -> None:  # noqa: F811
    store = GitStore.open(approved)
    config = committed_config(store)
    few = read_history(store, scope={"none-such"}, use_cache=False).history
    before = gc.get_freeze_count()  # the fixture's actions judged a kept whole history: paused
    Replay(few, config).run()
    assert gc.get_freeze_count() == before
    # Events without trailers, each judged invalid: a whole history's count of them.
    nothing = Event("c" * 40, (), "Nobody", "nobody@example.org", datetime(2026, 1, 1), None, "", "", "")
    many = History(order=[], parents={}, events=[nothing] * MANY_EVENTS, changes={}, authors={}, heads={})
    judged = Replay(many, config).run().events
    assert gc.get_freeze_count() > before
    assert len(judged) == MANY_EVENTS and not any(event.valid for event in judged)


class _Node:
    def __init__(self) -> None:
        self.other: object = self


def test_keeping_out_of_reach_collects_the_cycles_first_and_freezes_the_rest() -> None:
    garbage = _Node()  # a cycle no one refers to: collected, not frozen forever
    dead = weakref.ref(garbage)
    del garbage
    kept = [[index] for index in range(100)]
    keep_out_of_reach()
    assert dead() is None
    walked = {id(thing) for thing in gc.get_objects()}  # the frozen are in no generation
    assert not walked & {id(kept), *map(id, kept)}
    assert gc.get_freeze_count() >= len(kept)


def test_the_desks_kept_rows_are_out_of_the_collectors_reach(approved: Path) -> None:  # noqa: F811
    memo, repo = Memo(), ContentRepo(approved)
    page = queue_page(repo, memo, mine=False)
    rows = memo.review_state(repo, mine=False)
    assert rows.approved and page.waiting.total == 0
    walked = {id(thing) for thing in gc.get_objects()}
    assert id(rows) not in walked and not walked & set(map(id, rows.approved))
    frozen = gc.get_freeze_count()
    assert memo.review_state(repo, mine=False) is rows  # kept: nothing made, nothing frozen again
    assert gc.get_freeze_count() == frozen


def collections_in(call: Callable[[], object]) -> int:
    """How many collections CALL made with the collector set to collect at every 50 objects."""
    collected: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collected.append(info["generation"])

    threshold = gc.get_threshold()
    gc.collect()  # the count starts from nothing: CALL's first few objects make no collection
    gc.set_threshold(50)
    gc.callbacks.append(count)
    try:
        call()
        return len(collected)
    finally:
        gc.callbacks.remove(count)
        gc.set_threshold(*threshold)


def test_a_whole_save_and_the_status_report_are_not_walked_by_the_collector(approved: Path) -> None:  # noqa: F811
    store = GitStore.open(approved)
    log = read_history(store, use_cache=False)
    replay = Replay(log.history, committed_config(store), store.article_file)
    outcome = replay.run()
    file = kept_file(store)
    assert file is not None
    assert collections_in(lambda: save(file, store.head, log, replay)) == 0
    report = StatusReport(list(outcome.statuses.values()) * 100, [])  # objects for many collections
    assert collections_in(lambda: status_json(report, date.today())) == 0
    assert collections_in(lambda: [status_data(s, date.today()) for s in report.statuses]) > 0  # unpaused


def test_the_kept_state_resumed_is_not_walked_by_the_collector(approved: Path) -> None:  # noqa: F811
    """A run that resumes the kept state makes a whole history's events, tracks and statuses, as
    a whole read does: at 100,000 articles the collections during it were a tenth of a build
    after one change."""
    store = GitStore.open(approved)
    config = committed_config(store)
    whole = judged_history(store, config)
    wait_for_writers()  # the kept state is written
    resumed: list[Judged] = []
    assert collections_in(lambda: resumed.append(judged_history(store, config))) == 0
    assert resumed[0].outcome.statuses == whole.outcome.statuses  # resumed, the same
    assert gc.get_freeze_count() > 0


def test_a_kept_section_is_made_out_of_the_collectors_reach() -> None:
    rows = Later(lambda: {index: [index] for index in range(1000)})
    order = LaterList(lambda: [[index] for index in range(1000)])
    assert collections_in(lambda: (rows.data, order.data)) == 0
    assert len(rows) == len(order) == 1000
    assert collections_in(lambda: {index: [index] for index in range(1000)}) > 0  # unpaused


def test_a_build_is_not_walked_by_the_collector(approved: Path) -> None:  # noqa: F811
    """A build's pages' facts, keys and records live to its end, beside the judged history: at
    100,000 articles the collections that walked them cost ~0.8 s of a build's CPU after one change."""
    out = approved.parent / "site"
    assert collections_in(lambda: publish(approved, out)) == 0
    assert "Approved" in (out / "articles" / SLUG / "index.html").read_text(encoding="utf-8")
    assert gc.isenabled()


def _collector_in_worker() -> tuple[bool, int]:
    return gc.isenabled(), gc.get_freeze_count()


def test_a_worker_forked_while_the_collector_is_paused_collects_its_own_cycles() -> None:
    with collection_paused(), worker_pool(1) as pool:
        made = [[index] for index in range(1000)]
        enabled, frozen = pool.submit(_collector_in_worker).result()
    assert enabled  # its own garbage is collected
    assert frozen >= len(made)  # what it inherited is never walked (nor its pages copied)
