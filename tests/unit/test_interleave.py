"""Forced interleavings (edlib.simulation.interleave): schedules, locks, every interleaving, deadlocks."""
import pytest

from edlib.simulation.interleave import Lock, explore, run


def increment(store):
    value = store["count"]
    yield f"read {value}"
    store["count"] = value + 1
    return f"wrote {value + 1}"


def locked_increment(store, lock):
    yield from lock.acquire()
    value = store["count"]
    yield f"read {value}"
    store["count"] = value + 1
    lock.release()
    return f"wrote {value + 1}"


def two(task, with_lock=False):
    def make():
        store, lock = {"count": 0}, Lock()
        args = (store, lock) if with_lock else (store,)
        return {"A": task(*args), "B": task(*args)}, lambda: store["count"]
    return make


def test_a_schedule_is_followed_step_by_step():
    store = {"count": 0}
    result = run({"A": increment(store), "B": increment(store)}, "ABAB", lambda: store["count"])
    assert result.schedule == "ABAB"
    assert [(s.task, s.text) for s in result.steps] == [("A", "read 0"), ("B", "read 0"),
                                                          ("A", "wrote 1"), ("B", "wrote 1")]
    assert result.result == 1 and result.error is None and not result.deadlock


def test_unfinished_tasks_are_finished_in_name_order():
    store = {"count": 0}
    result = run({"B": increment(store), "A": increment(store)}, "B", lambda: store["count"])
    assert result.schedule == "BAAB" and result.result == 1


def test_every_interleaving_of_two_increments_four_of_six_lose_an_update():
    runs = explore(two(increment))
    assert [r.schedule for r in runs] == ["AABB", "ABAB", "ABBA", "BAAB", "BABA", "BBAA"]
    assert [r.result for r in runs] == [2, 1, 1, 1, 1, 2]


def test_the_lock_makes_every_interleaving_correct_and_waits_are_steps():
    runs = explore(two(locked_increment, with_lock=True))
    assert runs and all(r.result == 2 and not r.deadlock and r.error is None for r in runs)
    store, lock = {"count": 0}, Lock()
    result = run({"A": locked_increment(store, lock), "B": locked_increment(store, lock)}, "ABAB")
    assert [s.text for s in result.steps] == ["read 0", "waits for lock (held by A)", "wrote 1", "read 1", "wrote 2"]
    assert lock.acquisitions == 2 and not lock.locked


def test_an_exception_in_a_task_is_recorded_not_raised():
    subscribers = {"a": [], "b": []}

    def publish(event):
        for name in subscribers:
            subscribers[name].append(event)
            yield f"delivered to {name}"

    def subscribe():
        subscribers["c"] = []
        return "c subscribed"

    result = run({"P": publish("e"), "S": subscribe}, "PSP")
    assert result.error == "RuntimeError: dictionary changed size during iteration"
    assert result.steps[-1].text.startswith("raised RuntimeError")


def test_a_lock_never_released_is_a_deadlock():
    def forgetful(store, lock):
        yield from lock.acquire()
        value = store["count"]
        yield "read"
        store["count"] = value + 1

    runs = explore(two(forgetful, with_lock=True))
    assert runs and all(r.deadlock for r in runs)
    store, lock = {"count": 0}, Lock()
    result = run({"A": forgetful(store, lock), "B": forgetful(store, lock)}, "AB")
    assert result.stuck == ("B",) and "B waits forever" in result.table()


def test_two_locks_in_opposite_order_can_deadlock():
    def make():
        first, second = Lock("first"), Lock("second")

        def worker(a, b):
            yield from a.acquire()
            yield "took one"
            yield from b.acquire()
            b.release()
            a.release()
            return "done"

        return {"A": worker(first, second), "B": worker(second, first)}, lambda: None

    runs = explore(make)
    assert any(r.stuck == ("A", "B") for r in runs) and any(not r.deadlock for r in runs)


def test_plain_callables_are_one_step_tasks():
    result = run({"A": lambda: "hello", "B": lambda: None}, "BA")
    assert [(s.task, s.text) for s in result.steps] == [("B", "finished"), ("A", "hello")]


@pytest.mark.parametrize("tasks, schedule, error, match", [
    ({"A": 1}, "", TypeError, "a task is a generator"),
    ({"AB": lambda: 1}, "", ValueError, "single letters"),
    ({}, "", TypeError, "tasks must be a dict"),
    ({"A": lambda: 1}, "AX", ValueError, "the tasks are A"),
    ({"A": lambda: 1}, "AA", ValueError, "finished after 1 step"),
    ({"A": lambda: 1}, ["A"], TypeError, "a schedule is a string"),
])
def test_bad_tasks_and_schedules_are_refused_clearly(tasks, schedule, error, match):
    with pytest.raises(error, match=match):
        run(tasks, schedule)


def test_release_of_a_free_lock_is_an_error():
    with pytest.raises(RuntimeError, match="nobody holds"):
        Lock().release()
