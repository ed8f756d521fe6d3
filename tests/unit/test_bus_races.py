"""The publish short way against the changes that can race it, made deterministic.

A pushed topic publishes without the lock: append, then check that the topic's groups did
not change. ``RacyLog`` runs another "thread's" step right after the append, inside that
window, so each way of settling a raced publish is taken on purpose.
"""
from collections.abc import Callable

import pytest

from edlib import EventFactory, InMemoryBus
from edlib.messaging.memory_state import Cursor as _Cursor


class RacyLog(list):
    """A topic's log that runs ``step`` once right after the next append (as if another thread ran then)."""

    step: Callable[[], object] | None = None

    def append(self, event) -> None:
        super().append(event)
        step, self.step = self.step, None
        if step is not None:
            step()


@pytest.fixture
def make():
    return EventFactory()


def racy_bus(seen: dict[str, list[int]], fail_on: set[int] = frozenset()) -> tuple[InMemoryBus, RacyLog]:
    """A bus whose topic "t" has a RacyLog and one pushed group "a" recording what it gets."""
    bus = InMemoryBus()
    bus.publish("t", EventFactory()("Start", {"i": -1}))       # creates the topic
    log = RacyLog(bus.log("t"))
    bus._topics["t"].partitions[0] = log
    bus.subscribe("t", "a", handler=recorder(seen, "a", fail_on))
    assert "t" in bus._routes and bus._routes["t"].log is log   # the short way is on
    return bus, log


def recorder(seen: dict[str, list[int]], name: str, fail_on: set[int] = frozenset()):
    def handle(event) -> None:
        if event.data["i"] in fail_on:
            fail_on.discard(event.data["i"])                   # fails once, then works
            raise RuntimeError(f"event {event.data['i']} failed")
        seen.setdefault(name, []).append(event.data["i"])
    return handle


def drain(bus: InMemoryBus, group: str, seen: dict[str, list[int]]) -> None:
    """Consume what a stopped pushed group has waiting, as its consumer would."""
    for _ in range(100):
        got = bus.deliver("t", group)
        if not got:
            return
        seen.setdefault(group, []).append(got[0].event.data["i"])
        bus.ack(got[0])


def test_a_group_subscribed_inside_the_window_gets_each_event_once(make):
    seen: dict[str, list[int]] = {}
    bus, log = racy_bus(seen)
    log.step = lambda: bus.subscribe("t", "b", handler=recorder(seen, "b"))
    for i in range(3):
        bus.publish("t", make("E", {"i": i}))
    assert seen == {"a": [-1, 0, 1, 2], "b": [-1, 0, 1, 2]}      # b's catch-up read event 0: no second push


def test_an_append_inside_the_window_does_not_confuse_offsets(make):
    seen: dict[str, list[int]] = {}
    bus, log = racy_bus(seen)
    mine, theirs = make("E", {"i": 0}), make("E", {"i": 1})
    landed = {}
    log.step = lambda: landed.update(theirs=bus.publish("t", theirs))
    landed["mine"] = bus.publish("t", mine)
    assert landed == {"mine": (0, 1), "theirs": (0, 2)}
    assert bus.log("t")[1] is mine and bus.log("t")[2] is theirs
    assert sorted(seen["a"]) == [-1, 0, 1]


def test_a_failure_inside_the_window_loses_nothing(make):
    seen: dict[str, list[int]] = {}
    bus, log = racy_bus(seen, fail_on={1})
    log.step = lambda: bus.publish("t", make("E", {"i": 1}))    # fails: "a" stops at offset 2
    bus.publish("t", make("E", {"i": 0}))                      # offset 1, settled: "a" goes back to it
    assert bus.offsets("t", "a") == [1] and bus.backlog("t", "a") == 2
    drain(bus, "a", seen)
    assert seen["a"] == [-1, 0, 1]
    bus.publish("t", make("E", {"i": 2}))                      # caught up: pushed again
    assert seen["a"] == [-1, 0, 1, 2]


def test_a_listener_added_inside_the_window_hears_the_event(make):
    seen: dict[str, list[int]] = {}
    bus, log = racy_bus(seen)
    heard = []
    log.step = lambda: bus.on_publish(lambda topic, e: heard.append(e.data["i"]))
    bus.publish("t", make("E", {"i": 0}))
    assert heard == [0] and seen["a"] == [-1, 0]


def test_a_rewind_waits_for_the_event_in_flight():
    cur = _Cursor(committed=5, in_flight=True, attempts=1)
    cur.go_back(3)
    assert cur.committed == 5                                  # the delivery of 5 is still out
    cur.committed += 1
    cur.settled()
    assert (cur.committed, cur.rewind, cur.in_flight) == (3, None, False)
    cur.go_back(4)                                             # already behind: nothing to do
    assert cur.committed == 3


def test_a_failed_catch_up_leaves_the_other_partitions_to_be_pulled(make):
    bus = InMemoryBus(partitions=2)
    for i in range(6):
        bus.publish("t", make("E", {"i": i}, key=f"k{i}"))
    seen: dict[str, list[int]] = {}
    first = bus.log("t", 0)[0].data["i"]
    bus.subscribe("t", "g", handler=recorder(seen, "g", fail_on={first}))
    assert seen.get("g", []) == []                              # stopped at the first event
    drain(bus, "g", seen)
    assert sorted(seen["g"]) == list(range(6))                 # nothing of partition 1 skipped


def test_a_handler_that_publishes_during_catch_up_is_caught_up_in_order(make):
    bus = InMemoryBus()
    bus.publish("t", make("E", {"i": 0}))
    seen = []

    def handle(event):
        seen.append(event.data["i"])
        if event.data["i"] < 3:
            bus.publish("t", make("E", {"i": event.data["i"] + 1}))

    bus.subscribe("t", "g", handler=handle)
    assert seen == [0, 1, 2, 3] and bus.backlog("t", "g") == 0
