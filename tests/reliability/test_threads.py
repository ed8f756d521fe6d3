"""8 threads publishing, consuming and writing at once: no lost update, no exception."""
import sys
import threading
from collections import Counter

import pytest

from edlib import EventFactory, InMemoryBus
from edlib.core.database import Database

THREADS = 8
PER_THREAD = 1_000


def _run_all(targets):
    errors = []

    def guarded(fn):
        def run():
            try:
                fn()
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)
        return run

    threads = [threading.Thread(target=guarded(fn)) for fn in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert errors == []


def test_concurrent_publishers_and_consumers_lose_nothing():
    bus = InMemoryBus(partitions=4)
    bus.subscribe("orders", "shipping")
    make = EventFactory()
    events = [[make("OrderPlaced", {"t": t, "i": i}, key=f"k{i % 13}") for i in range(PER_THREAD)]
              for t in range(THREADS)]
    consumed: list[tuple[int, int]] = []
    lock = threading.Lock()
    done_publishing = threading.Event()

    def publisher(batch):
        return lambda: [bus.publish("orders", e) for e in batch]

    def consumer():
        while True:
            got = bus.deliver("orders", "shipping", max_count=4)
            for d in got:
                with lock:
                    consumed.append((d.event.data["t"], d.event.data["i"]))
                bus.ack(d)
            if not got and done_publishing.is_set() and bus.backlog("orders", "shipping") == 0:
                return

    consumers = [threading.Thread(target=consumer) for _ in range(2)]
    for c in consumers:
        c.start()
    _run_all([publisher(batch) for batch in events])
    done_publishing.set()
    for c in consumers:
        c.join(timeout=60)
    assert len(consumed) == THREADS * PER_THREAD
    assert sorted(consumed) == sorted((t, i) for t in range(THREADS) for i in range(PER_THREAD))


def test_concurrent_subscribe_during_publish_is_safe():
    bus = InMemoryBus()
    make = EventFactory()
    _run_all([lambda n=n: [bus.subscribe("t", f"g{n}-{i}") or bus.publish("t", make("E")) for i in range(200)]
              for n in range(THREADS)])
    assert len(bus.groups("t")) == THREADS * 200
    assert len(bus.log("t")) == THREADS * 200


@pytest.fixture
def switch_often():
    """Make the interpreter switch threads every microsecond, so narrow races are really hit."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def test_groups_subscribed_while_others_publish_get_each_event_once(switch_often):
    bus = InMemoryBus()
    make = EventFactory()
    counts: dict[str, Counter] = {}
    lock = threading.Lock()

    def recorder(name):
        counts[name] = Counter()

        def handle(event):
            with lock:
                counts[name][event.id] += 1
        return handle

    bus.subscribe("t", "first", handler=recorder("first"))
    events = [[make("E", {"t": t, "i": i}) for i in range(PER_THREAD)] for t in range(THREADS - 1)]
    publishers = [lambda batch=batch: [bus.publish("t", e) for e in batch] for batch in events]
    joiner = lambda: [bus.subscribe("t", f"late{i}", handler=recorder(f"late{i}")) for i in range(40)]  # noqa: E731
    _run_all(publishers + [joiner])
    everything = Counter(e.id for batch in events for e in batch)
    assert len(counts) == 41
    for name, got in counts.items():
        assert got == everything, f"{name} lost or repeated events"
    assert [bus.log("t")[off] for off in range(len(bus.log("t")))] == bus.log("t")


def test_a_failing_pushed_group_under_concurrent_publishers_loses_nothing(switch_often):
    bus = InMemoryBus()
    make = EventFactory()
    handled: Counter = Counter()
    lock = threading.Lock()
    failed_once: set[str] = set()

    def flaky(event):
        with lock:
            if event.data["i"] % 97 == 0 and event.id not in failed_once:
                failed_once.add(event.id)
                raise RuntimeError("transient")
            handled[event.id] += 1

    bus.subscribe("t", "g", handler=flaky)
    events = [[make("E", {"t": t, "i": i}) for i in range(PER_THREAD)] for t in range(THREADS)]

    def consumer():                          # pulls whatever the group has waiting after a failure
        while not publishing_done.is_set() or bus.backlog("t", "g"):
            for d in bus.deliver("t", "g"):
                try:
                    flaky(d.event)
                except RuntimeError:
                    bus.nack(d)
                else:
                    bus.ack(d)

    publishing_done = threading.Event()
    pull = threading.Thread(target=consumer)
    pull.start()
    _run_all([lambda batch=batch: [bus.publish("t", e) for e in batch] for batch in events])
    publishing_done.set()
    pull.join(timeout=60)
    assert not pull.is_alive()
    assert len(bus.failures) > 0
    assert set(handled) == {e.id for batch in events for e in batch}      # at least once: none lost


def test_concurrent_read_modify_write_in_transactions_loses_no_update():
    db = Database("inventory")
    db.put("stock", "book", {"n": 0})

    def buyer():
        for _ in range(PER_THREAD // 4):
            with db.transaction():
                db.put("stock", "book", {"n": db.get("stock", "book")["n"] + 1})

    _run_all([buyer] * THREADS)
    assert db.get("stock", "book") == {"n": THREADS * PER_THREAD // 4}
