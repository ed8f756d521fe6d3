"""The event store: append and load, optimistic concurrency (also from two threads), snapshots, upcasting."""
from __future__ import annotations

import threading

import pytest

from edlib import Database
from edlib.patterns.eventstore import ConcurrencyError, EventStore, NewEvent, StoredEvent
from edlib.patterns.fold import fold, rebuild
from edlib.patterns.upcasting import Upcasters


def received(qty: int) -> NewEvent:
    return NewEvent("StockReceived", {"qty": qty, "warehouse": "main"}, schema=2)


def reserved(order_id: str, qty: int = 1) -> NewEvent:
    return NewEvent("StockReserved", {"order_id": order_id, "qty": qty})


def apply(state: dict, event: StoredEvent) -> dict:
    """Stock levels: on hand and reserved."""
    on_hand, held = state["on_hand"], state["reserved"]
    if event.type == "StockReceived":
        on_hand += event.data["qty"]
    elif event.type == "StockReserved":
        held += event.data["qty"]
    return {"on_hand": on_hand, "reserved": held}


EMPTY = {"on_hand": 0, "reserved": 0}


@pytest.fixture
def store() -> EventStore:
    return EventStore(Database("inventory"))


# -- append and load ---------------------------------------------------------------------------
def test_append_then_load_gives_the_events_back_in_order(store):
    assert store.version("stock-lamp") == 0
    assert store.append("stock-lamp", [received(10), reserved("o-1")], expected_version=0) == 2
    assert store.append("stock-lamp", [reserved("o-2", 3)], expected_version=2) == 3
    events = store.load("stock-lamp")
    assert [(e.version, e.type) for e in events] == [(1, "StockReceived"), (2, "StockReserved"), (3, "StockReserved")]
    assert events[2].data == {"order_id": "o-2", "qty": 3} and events[0].schema == 2
    assert [e.version for e in store.load("stock-lamp", after=2)] == [3]
    assert fold(events, apply, EMPTY) == {"on_hand": 10, "reserved": 4}


def test_a_long_batch_is_appended_whole(store):
    events = [received(1) for _ in range(1234)]
    assert store.append("s", events, expected_version=0) == 1234
    assert [e.version for e in store.load("s")] == list(range(1, 1235))


def test_streams_are_separate_and_read_all_keeps_the_global_order(store):
    store.append("stock-lamp", [received(1)], expected_version=0)
    store.append("stock-mug", [received(2)], expected_version=0)
    store.append("stock-lamp", [received(3)], expected_version=1)
    assert store.streams() == ["stock-lamp", "stock-mug"]
    assert store.version("stock-mug") == 1
    assert [(e.stream, e.data["qty"]) for e in store.read_all()] == [("stock-lamp", 1), ("stock-mug", 2),
                                                                     ("stock-lamp", 3)]
    assert [e.position for e in store.read_all(after=2)] == [3]


@pytest.mark.parametrize("stream, events, expected, error", [
    ("", [received(1)], 0, ValueError),
    ("s", [], 0, ValueError),
    ("s", [received(1)], -1, ValueError),
    ("s", [received(1)], True, ValueError),
    ("s", [("StockReceived", {"qty": 1})], 0, TypeError),
    ("s", [NewEvent("stock received", {})], 0, ValueError),
    ("s", [NewEvent("StockReceived", {"qty": object()})], 0, TypeError),
    ("s", [NewEvent("StockReceived", {}, schema=0)], 0, ValueError),
])
def test_bad_appends_are_refused_and_write_nothing(store, stream, events, expected, error):
    with pytest.raises(error):
        store.append(stream, events, expected_version=expected)
    assert store.read_all() == []


# -- optimistic concurrency ----------------------------------------------------------------------
def test_the_second_writer_with_the_same_expected_version_is_rejected(store):
    store.append("stock-lamp", [received(5)], expected_version=0)
    first, second = EventStore(store.db), EventStore(store.db)         # two writers, one database
    v1, v2 = first.version("stock-lamp"), second.version("stock-lamp")
    first.append("stock-lamp", [reserved("o-1", 5)], expected_version=v1)
    with pytest.raises(ConcurrencyError, match="at version 2, not 1") as caught:
        second.append("stock-lamp", [reserved("o-2", 5)], expected_version=v2)
    assert (caught.value.expected, caught.value.actual) == (1, 2)
    assert [e.data.get("order_id") for e in store.load("stock-lamp")] == [None, "o-1"]


@pytest.mark.parametrize("before, ahead", [(0, 1), (2, 3), (2, 5)])
def test_an_expected_version_ahead_of_the_stream_is_rejected(store, before, ahead):
    if before:
        store.append("s", [received(i) for i in range(before)], expected_version=0)
    with pytest.raises(ConcurrencyError, match=f"at version {before}, not {ahead}") as caught:
        store.append("s", [received(9)], expected_version=ahead)       # a version nobody has loaded
    assert (caught.value.expected, caught.value.actual) == (ahead, before)
    assert store.version("s") == before and len(store.load("s")) == before


def test_a_rejected_batch_writes_none_of_its_events(store):
    store.append("s", [received(1), received(2)], expected_version=0)
    with pytest.raises(ConcurrencyError):
        store.append("s", [received(3), received(4)], expected_version=1)
    assert store.version("s") == 2


def test_two_threads_appending_at_the_same_version_one_wins(store):
    store.append("stock-lamp", [received(1)], expected_version=0)
    for round_ in range(20):
        version = store.version("stock-lamp")
        start = threading.Barrier(2)
        results: list[str] = []

        def writer(name: str, start: threading.Barrier = start, round_: int = round_, version: int = version,
                   results: list[str] = results) -> None:
            start.wait()
            try:
                EventStore(store.db).append("stock-lamp", [reserved(f"{name}-{round_}")], expected_version=version)
                results.append("appended")
            except ConcurrencyError:
                results.append("rejected")

        threads = [threading.Thread(target=writer, args=(n,)) for n in ("a", "b")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == ["appended", "rejected"]
        assert store.version("stock-lamp") == version + 1


def test_two_connections_to_one_file_cannot_both_take_a_version(tmp_path):
    path = str(tmp_path / "events.db")
    a, b = EventStore(Database("inventory", path)), EventStore(Database("inventory", path))
    a.append("s", [received(1)], expected_version=0)
    with pytest.raises(ConcurrencyError):
        b.append("s", [received(2)], expected_version=0)
    assert [e.data["qty"] for e in b.load("s")] == [1]


def test_the_unique_version_catches_a_writer_that_checked_too_early(store, monkeypatch):
    store.append("s", [received(1)], expected_version=0)
    stale = iter([0])                       # as if another connection appended right after our check
    real = EventStore.version
    monkeypatch.setattr(EventStore, "version", lambda self, stream: next(stale, None) or real(self, stream))
    with pytest.raises(ConcurrencyError, match="at version 1, not 0"):
        store.append("s", [received(2)], expected_version=0)
    monkeypatch.undo()
    assert store.version("s") == 1


# -- snapshots -----------------------------------------------------------------------------------
def fill(store: EventStore, n: int) -> None:
    events = [received(5) if i % 4 == 0 else reserved(f"o-{i}") for i in range(n)]
    store.append("stock-lamp", events, expected_version=store.version("stock-lamp"))


def test_a_rebuild_from_a_snapshot_equals_the_full_rebuild_and_reads_less(store):
    fill(store, 120)
    full = rebuild(store, "stock-lamp", apply, EMPTY, use_snapshot=False)
    assert (full.events_read, full.from_snapshot) == (120, 0)
    first = rebuild(store, "stock-lamp", apply, EMPTY, snapshot_every=50)
    assert first.snapshot_taken and store.snapshot("stock-lamp").version == 120
    fill(store, 7)
    with_snapshot = rebuild(store, "stock-lamp", apply, EMPTY)
    without = rebuild(store, "stock-lamp", apply, EMPTY, use_snapshot=False)
    assert with_snapshot.state == without.state and with_snapshot.version == without.version == 127
    assert (with_snapshot.events_read, with_snapshot.from_snapshot, without.events_read) == (7, 120, 127)


def test_rebuilding_after_each_append_keeps_the_reads_below_the_snapshot_interval(store):
    reads = []
    for _ in range(130):
        fill(store, 1)
        reads.append(rebuild(store, "stock-lamp", apply, EMPTY, snapshot_every=25).events_read)
    assert max(reads) == 25
    assert rebuild(store, "stock-lamp", apply, EMPTY).state == \
        fold(store.load("stock-lamp"), apply, EMPTY)


def test_reads_counts_every_event_loaded(store):
    fill(store, 10)
    store.reads = 0
    store.load("stock-lamp")
    store.load("stock-lamp", after=8)
    assert store.reads == 12


def test_snapshots_are_validated_and_can_be_dropped(store):
    fill(store, 3)
    with pytest.raises(ValueError, match="no event 4"):
        store.save_snapshot("stock-lamp", 4, EMPTY)
    store.save_snapshot("stock-lamp", 3, {"on_hand": 5, "reserved": 2})
    assert store.drop_snapshots() == 1 and store.snapshot("stock-lamp") is None
    with pytest.raises(ValueError):
        rebuild(store, "stock-lamp", apply, EMPTY, snapshot_every=0)


# -- upcasting -----------------------------------------------------------------------------------
def upcasters() -> Upcasters:
    u = Upcasters()

    @u.register("StockReceived", from_version=1)
    def amount_to_qty(data):
        return {"qty": data["amount"]}

    @u.register("StockReceived", from_version=2)
    def add_warehouse(data):
        return {**data, "warehouse": "main"}

    return u


def test_old_events_are_upcast_through_the_chain_as_they_load():
    store = EventStore(Database("inventory"), upcasters())
    store.append("s", [NewEvent("StockReceived", {"amount": 4}, schema=1),
                       NewEvent("StockReceived", {"qty": 2}, schema=2),
                       NewEvent("StockReceived", {"qty": 1, "warehouse": "east"}, schema=3)], expected_version=0)
    loaded = store.load("s")
    assert [(e.schema, dict(e.data)) for e in loaded] == [
        (3, {"qty": 4, "warehouse": "main"}), (3, {"qty": 2, "warehouse": "main"}),
        (3, {"qty": 1, "warehouse": "east"})]
    raw = store.db.query("SELECT schema, data FROM event_store ORDER BY position")
    assert raw[0] == {"schema": 1, "data": '{"amount": 4}'}          # history itself is never rewritten


def test_without_the_upcaster_old_events_break_the_fold():
    store = EventStore(Database("inventory"))
    store.append("s", [NewEvent("StockReceived", {"amount": 4}, schema=1)], expected_version=0)
    with pytest.raises(KeyError, match="qty"):
        fold(store.load("s"), apply, EMPTY)


def test_the_registry_refuses_mistakes():
    u = upcasters()
    assert u.latest("StockReceived") == 3 and u.latest("StockReserved") == 1 and len(u) == 2
    with pytest.raises(ValueError, match="already has"):
        u.register("StockReceived", 1)(lambda d: d)
    with pytest.raises(ValueError):
        u.register("StockReceived", 0)
    bad = Upcasters()
    bad.register("X", 1)(lambda d: None)
    with pytest.raises(TypeError, match="not a dict"):
        bad.upcast("X", 1, {})
