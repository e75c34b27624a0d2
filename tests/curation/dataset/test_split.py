"""Train/validation by thread: stable, never splitting a thread."""

from hypothesis import given
from hypothesis import strategies as st

from curation.dataset.examples import ChatMessage, Example
from curation.dataset.split import split_by_thread, thread_position


def example(key: str, thread: str) -> Example:
    messages = (ChatMessage("user", "q"), ChatMessage("assistant", "a"))
    return Example(key=key, thread=thread, source="votes", messages=messages)


def many(threads: int, per_thread: int = 3) -> list[Example]:
    return [example(f"C/{t}.{i}", f"C/{t}") for t in range(threads) for i in range(per_thread)]


def test_a_thread_lands_wholly_on_one_side() -> None:
    train, validation = split_by_thread(many(200), 0.2)
    assert {e.thread for e in train}.isdisjoint({e.thread for e in validation})
    assert 20 <= len({e.thread for e in validation}) <= 60


@given(st.integers(min_value=2, max_value=60), st.integers(min_value=1, max_value=40))
def test_threads_keep_their_side_as_the_dataset_grows(before: int, added: int) -> None:
    _, small = split_by_thread(many(before), 0.25)
    _, large = split_by_thread(many(before + added), 0.25)
    # Only the small-dataset fallback (one thread forced into validation) may move.
    moved = {e.thread for e in small} - {e.thread for e in large}
    assert all(thread_position(t) >= 0.25 for t in moved)


def test_small_datasets_still_get_one_validation_thread_and_keep_training() -> None:
    train, validation = split_by_thread(many(2), 0.01)
    assert len({e.thread for e in validation}) == 1
    assert train
    train, validation = split_by_thread(many(3), 0.99)
    assert train and validation
    train, validation = split_by_thread(many(1), 0.5)
    assert (len(train), len(validation)) == (3, 0)


def test_no_validation_share_means_no_validation() -> None:
    assert split_by_thread(many(50), 0.0)[1] == []
    assert split_by_thread([], 0.1) == ([], [])


def test_linked_threads_land_together_on_the_side_of_the_first() -> None:
    examples = many(200, per_thread=1)
    threads = sorted({e.thread for e in examples}, key=thread_position)
    held, trained = threads[0], threads[-1]  # nearest the start, furthest from it
    assert thread_position(held) < 0.2 <= thread_position(trained)
    _, validation = split_by_thread(examples, 0.2, linked=[(trained, held)])
    assert trained in {e.thread for e in validation}
    # Links chain: a third thread linked to the second joins them.
    other = threads[-2]
    _, validation = split_by_thread(examples, 0.2, linked=[(trained, held), (other, trained)])
    assert {trained, other} <= {e.thread for e in validation}


@given(st.lists(st.tuples(st.integers(0, 39), st.integers(0, 39)), max_size=30))
def test_no_link_crosses_the_split(pairs: list[tuple[int, int]]) -> None:
    examples = many(40, per_thread=1)
    linked = [(f"C/{a}", f"C/{b}") for a, b in pairs]
    train, validation = split_by_thread(examples, 0.3, linked=linked)
    held = {e.thread for e in validation}
    assert all((a in held) == (b in held) for a, b in linked)
    assert {e.thread for e in train}.isdisjoint(held)
    assert len(train) + len(validation) == 40
    if linked:
        assert train  # training always keeps a group
