import threading

import pytest

from edlib import EventFactory, InMemoryBus


@pytest.fixture
def make():
    return EventFactory()


def test_publish_deliver_ack(make):
    bus = InMemoryBus()
    bus.subscribe("orders", "shipping")
    bus.publish("orders", make("OrderPlaced", {"n": 1}))
    assert bus.backlog("orders", "shipping") == 1
    [d] = bus.deliver("orders", "shipping")
    assert d.event.data["n"] == 1 and d.attempt == 1
    assert bus.deliver("orders", "shipping") == []        # one in flight per partition
    bus.ack(d)
    assert bus.backlog("orders", "shipping") == 0
    assert bus.log("orders")[0].data["n"] == 1           # the log keeps history


def test_nack_redelivers_the_same_event(make):
    bus = InMemoryBus()
    bus.subscribe("t", "g")
    bus.publish("t", make("E", {"n": 1}))
    bus.publish("t", make("E", {"n": 2}))
    [d] = bus.deliver("t", "g")
    bus.nack(d)
    [again] = bus.deliver("t", "g")
    assert again.offset == d.offset and again.attempt == 2


def test_double_ack_is_refused(make):
    bus = InMemoryBus()
    bus.subscribe("t", "g")
    bus.publish("t", make("E"))
    [d] = bus.deliver("t", "g")
    bus.ack(d)
    with pytest.raises(ValueError, match="not in flight"):
        bus.ack(d)


def test_groups_have_their_own_offsets(make):
    bus = InMemoryBus()
    bus.subscribe("t", "a")
    bus.subscribe("t", "b")
    for i in range(3):
        bus.publish("t", make("E", {"i": i}))
    for _ in range(3):
        [d] = bus.deliver("t", "a")
        bus.ack(d)
    assert bus.backlog("t", "a") == 0 and bus.backlog("t", "b") == 3
    assert bus.offsets("t", "a") == [3]


def test_keys_keep_their_partition_and_order(make):
    bus = InMemoryBus(partitions=4)
    bus.subscribe("t", "g")
    where = [bus.publish("t", make("E", {"i": i}, key=f"k{i % 3}"))[0] for i in range(30)]
    for i in range(3, 30):
        assert where[i] == where[i - 3]
    seen: dict[str, list[int]] = {}
    while True:
        ds = bus.deliver("t", "g", max_count=4)
        if not ds:
            break
        for d in ds:
            seen.setdefault(d.event.key, []).append(d.event.data["i"])
            bus.ack(d)
    assert all(v == sorted(v) for v in seen.values()) and sum(map(len, seen.values())) == 30


def test_unknown_group_and_bad_input(make):
    bus = InMemoryBus()
    with pytest.raises(KeyError, match="subscribe first"):
        bus.deliver("t", "nobody")
    with pytest.raises(TypeError, match="needs an Event"):
        bus.publish("t", {"type": "E"})
    with pytest.raises(ValueError):
        bus.subscribe("t", "")
    with pytest.raises(ValueError):
        InMemoryBus(partitions=0)


def test_concurrent_publishers_lose_nothing(make):
    bus = InMemoryBus(partitions=2)
    bus.subscribe("t", "g")
    events = [make("E", {"i": i}, key=str(i)) for i in range(8 * 500)]

    def publish(chunk):
        for e in chunk:
            bus.publish("t", e)

    threads = [threading.Thread(target=publish, args=(events[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert bus.backlog("t", "g") == len(events)
    assert sorted(e.data["i"] for e in bus.log("t")) == list(range(len(events)))
