"""8 threads publishing, consuming and writing at once: no lost update, no exception."""
import threading

from edlib import EventFactory, InMemoryBus
from edlib.database import Database

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


def test_concurrent_read_modify_write_in_transactions_loses_no_update():
    db = Database("inventory")
    db.put("stock", "book", {"n": 0})

    def buyer():
        for _ in range(PER_THREAD // 4):
            with db.transaction():
                db.put("stock", "book", {"n": db.get("stock", "book")["n"] + 1})

    _run_all([buyer] * THREADS)
    assert db.get("stock", "book") == {"n": THREADS * PER_THREAD // 4}
