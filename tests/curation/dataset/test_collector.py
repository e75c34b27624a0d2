"""A dataset build pauses the cycle collector and leaves what it made in the oldest generation."""

import gc
from collections.abc import Iterator

import pytest

from curation.dataset.collector import cycle_collector_paused
from curation.dataset.source import labeled_replies
from storage import Reply, Store


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


@pytest.mark.usefixtures("collector_on")
def test_the_collector_is_off_inside_and_back_on_after() -> None:
    with cycle_collector_paused():
        assert not gc.isenabled()
        with cycle_collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_on")
def test_the_collector_is_back_on_after_a_failure() -> None:
    with pytest.raises(RuntimeError), cycle_collector_paused():
        raise RuntimeError("the build failed")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    was = gc.isenabled()
    gc.disable()
    try:
        with cycle_collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()


@pytest.mark.usefixtures("collector_on")
def test_what_was_made_meanwhile_is_not_left_young() -> None:
    with cycle_collector_paused():
        made = [[i, str(i)] for i in range(100_000)]
        assert gc.get_count()[0] > 50_000
    assert gc.get_count()[0] < 1_000
    assert gc.get_freeze_count() == 0
    assert len(made) == 100_000


@pytest.fixture
def objects_frozen() -> Iterator[None]:
    """Objects frozen on purpose, as the dry run's fork server does. The tests
    count them just before pausing: frozen objects freed meanwhile (pytest's
    own, between here and the test) lower the count."""
    gc.freeze()
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("collector_on", "objects_frozen")
def test_objects_someone_froze_stay_frozen() -> None:
    frozen = gc.get_freeze_count()
    with cycle_collector_paused():
        pass
    assert gc.get_freeze_count() >= frozen


@pytest.mark.usefixtures("collector_on", "objects_frozen")
def test_what_was_made_beside_frozen_objects_is_not_left_young() -> None:
    frozen = gc.get_freeze_count()
    with cycle_collector_paused():
        made = [[i, str(i)] for i in range(100_000)]
        assert gc.get_count()[0] > 50_000
    assert gc.get_count()[0] < 1_000
    assert gc.get_freeze_count() >= frozen + 100_000
    assert len(made) == 100_000


@pytest.mark.usefixtures("collector_on")
def test_reading_labeled_replies_leaves_the_collector_on() -> None:
    store = Store(":memory:")
    store.save_reply(Reply(channel="C1", ts="1.1", text="First.", created_at="2024-01-01"))
    assert [r.reply.text for r in labeled_replies(store)] == ["First."]
    assert gc.isenabled()
