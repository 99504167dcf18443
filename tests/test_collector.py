"""The cycle collector paused while a whole history is read and judged (collector.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from reviewflow.collector import collection_paused
from reviewflow.gitstore import GitStore
from reviewflow.review.board import committed_config
from reviewflow.review.history import read_history
from reviewflow.review.model import Event, History
from reviewflow.review.workflow import MANY_EVENTS, Replay
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
    read_history(store, scope={"none-such"}, use_cache=False)
    assert gc.get_freeze_count() == 0
    read_history(store, use_cache=False)
    assert gc.get_freeze_count() > 0


def test_judging_a_whole_history_is_paused_and_a_few_events_are_not(approved: Path) -> None:  # noqa: F811
    store = GitStore.open(approved)
    config = committed_config(store)
    few = read_history(store, scope={"none-such"}, use_cache=False).history
    Replay(few, config).run()
    assert gc.get_freeze_count() == 0
    # Events without trailers, each judged invalid: a whole history's count of them.
    nothing = Event("c" * 40, (), "Nobody", "nobody@example.org", datetime(2026, 1, 1), None, "", "", "")
    many = History(order=[], parents={}, events=[nothing] * MANY_EVENTS, changes={}, authors={}, heads={})
    judged = Replay(many, config).run().events
    assert gc.get_freeze_count() > 0
    assert len(judged) == MANY_EVENTS and not any(event.valid for event in judged)
