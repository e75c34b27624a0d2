"""Curation pauses the cycle collector and leaves what it made in the oldest generation."""

import gc
from collections.abc import Iterator

import pytest

from curation.dataset.gc_pause import collector_paused


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


@pytest.mark.usefixtures("collector_on")
def test_the_collector_is_off_inside_and_back_on_after() -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    was = gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()


@pytest.mark.usefixtures("collector_on")
def test_what_was_made_meanwhile_is_not_left_young() -> None:
    with collector_paused():
        made = [(i, str(i)) for i in range(100_000)]
        assert gc.get_count()[0] > 50_000
    assert gc.get_count()[0] < 1_000
    assert gc.get_freeze_count() == 0
    assert len(made) == 100_000


@pytest.mark.usefixtures("collector_on")
def test_objects_someone_froze_stay_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with collector_paused():
            pass
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
