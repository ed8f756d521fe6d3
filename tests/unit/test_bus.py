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


def test_push_subscriber_gets_history_then_each_new_event(make):
    bus = InMemoryBus()
    bus.publish("t", make("E", {"i": 0}))
    seen = []
    bus.subscribe("t", "g", handler=lambda e: seen.append(e.data["i"]))
    for i in range(1, 4):
        assert bus.publish("t", make("E", {"i": i})) == (0, i)
    assert seen == [0, 1, 2, 3]
    assert bus.backlog("t", "g") == 0 and bus.offsets("t", "g") == [4]


def test_push_failure_stops_the_group_until_it_catches_up(make):
    bus = InMemoryBus()
    seen = []

    def handler(e):
        if e.data["i"] == 2:
            raise ValueError("bad event")
        seen.append(e.data["i"])

    bus.subscribe("t", "g", handler=handler)
    for i in range(5):
        bus.publish("t", make("E", {"i": i}))
    assert seen == [0, 1]
    [failure] = bus.failures
    assert (failure.group, failure.offset, failure.error) == ("g", 2, "ValueError: bad event")
    assert bus.backlog("t", "g") == 3
    for d in iter(lambda: bus.deliver("t", "g"), []):      # drain by hand (skipping the bad one)
        if d[0].event.data["i"] != 2:
            seen.append(d[0].event.data["i"])
        bus.ack(d[0])
    bus.publish("t", make("E", {"i": 5}))                   # caught up: pushing resumes
    assert seen == [0, 1, 3, 4, 5]


def test_push_and_pull_groups_share_one_log(make):
    bus = InMemoryBus()
    pushed = []
    bus.subscribe("t", "push", handler=pushed.append)
    bus.subscribe("t", "pull")
    for i in range(3):
        bus.publish("t", make("E", {"i": i}))
    assert len(pushed) == 3 and bus.backlog("t", "pull") == 3 and bus.backlog("t", "push") == 0


def test_push_handler_must_be_callable():
    with pytest.raises(TypeError, match="callable"):
        InMemoryBus().subscribe("t", "g", handler="not a function")
