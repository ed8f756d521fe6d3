"""Delivery guarantees, crashes, retries, dead letters, outbox and replay on the in-memory world."""
import pytest

from edlib import World
from edlib.core.retry import RetryPolicy
from edlib.messaging.protocol import BacklogFull
from edlib.simulation.faults import crash, crash_relay, delay_publishes, lose_acks, restart


def ledger_world(ack_mode="after", idempotent=False, latency_ms=10):
    """A consumer whose handler is NOT naturally idempotent: each event appends a new row."""
    world = World(seed=5)
    ledger = world.add_service("ledger", latency_ms=latency_ms)
    ledger.ack_mode = ack_mode
    ledger.idempotent = idempotent

    @ledger.handles("Paid")
    def record(event, db):
        db.execute("CREATE TABLE IF NOT EXISTS entries (n INTEGER, event TEXT)")
        db.execute("INSERT INTO entries VALUES (?, ?)", (event.data["n"], event.id))

    return world, ledger


def applied(ledger):
    rows = ledger.db.query("SELECT n FROM entries ORDER BY rowid") if "entries" in ledger.db.tables() else []
    return [r["n"] for r in rows]


def publish_n(world, n):
    for i in range(1, n + 1):
        world.publish("Paid", {"n": i}, key="acct-1")
    world.run()


def test_ack_before_processing_loses_the_event_a_crash_interrupts():
    world, ledger = ledger_world(ack_mode="before")
    crash(ledger, at=3, point="during")
    publish_n(world, 5)
    assert applied(ledger) == [1, 2, 4, 5]
    assert world.fault_counts["crashes"] == 1


def test_ack_after_processing_redelivers_after_a_crash_during_the_work():
    world, ledger = ledger_world(ack_mode="after")
    crash(ledger, at=3, point="during")
    publish_n(world, 5)
    assert applied(ledger) == [1, 2, 3, 4, 5]


def test_ack_after_processing_duplicates_when_the_crash_comes_after_commit():
    world, ledger = ledger_world(ack_mode="after")
    crash(ledger, at=3, point="after_commit")
    publish_n(world, 5)
    assert applied(ledger) == [1, 2, 3, 3, 4, 5]


def test_idempotent_consumer_absorbs_the_duplicate():
    world, ledger = ledger_world(ack_mode="after", idempotent=True)
    crash(ledger, at=3, point="after_commit")
    publish_n(world, 5)
    assert applied(ledger) == [1, 2, 3, 4, 5]
    acks = world.trace.where("ack", source="ledger")
    assert len(acks) == 5                                  # event 3's first ack died with the crash
    assert [r.detail for r in acks].count("duplicate: skipped") == 1


def test_lost_acks_duplicate_and_idempotency_holds():
    for idempotent, expect_dupes in [(False, True), (True, False)]:
        world, ledger = ledger_world(idempotent=idempotent)
        lose_acks(world, 0.3, seed=1)
        publish_n(world, 50)
        rows = applied(ledger)
        assert set(rows) == set(range(1, 51))
        assert (len(rows) > 50) == expect_dupes
        assert world.fault_counts["lost_acks"] > 0


def test_restart_mid_processing_redelivers():
    world, ledger = ledger_world(latency_ms=100)
    restart(ledger, at_ms=150, down_ms=300)
    publish_n(world, 4)
    assert applied(ledger) == [1, 2, 3, 4]
    assert world.trace.count("fail", source="ledger") == 1


def poison_world(policy):
    world = World(seed=1)
    svc = world.add_service("svc", latency_ms=1)
    svc.retry = policy

    @svc.handles("Job")
    def work(event, db):
        if event.data.get("poison"):
            raise ValueError("cannot parse this job")
        db.put("done", event.id, event.data)

    return world, svc


def test_poison_event_goes_to_the_dead_letter_queue_with_reason_and_count():
    world, svc = poison_world(RetryPolicy(max_attempts=3, base_ms=10))
    world.publish("Job", {"n": 1})
    world.publish("Job", {"n": 2, "poison": True})
    world.publish("Job", {"n": 3})
    world.run()
    [dead] = world.dead_letters
    assert dead["attempts"] == 3 and dead["reason"] == "ValueError: cannot parse this job"
    assert dead["event"].data["n"] == 2
    assert svc.db.count("done") == 2


def test_poison_event_without_a_limit_blocks_its_partition():
    world, svc = poison_world(RetryPolicy(max_attempts=None, base_ms=10, max_ms=50))
    world.publish("Job", {"n": 1, "poison": True})
    world.publish("Job", {"n": 2})
    world.run(until=5_000)
    assert svc.db.count("done") == 0 and world.backlog("svc") == 2 and not world.dead_letters


def test_backoff_is_exponential_and_jitter_is_seeded():
    plain = RetryPolicy(max_attempts=5, base_ms=100, factor=2)
    assert [plain.backoff_ms(a) for a in range(1, 5)] == [100, 200, 400, 800]
    world, _ = poison_world(plain)
    world.publish("Job", {"poison": True})
    world.run()
    times = [r.time for r in world.trace.where("deliver")]
    gaps = [round(b - a) for a, b in zip(times, times[1:])]
    assert gaps == [101, 201, 401, 801]                  # backoff + 1 ms of handling
    import random
    jittered = RetryPolicy(jitter="full")
    a = [jittered.delay_ms(3, random.Random(7)) for _ in range(3)]
    assert a == [jittered.delay_ms(3, random.Random(7)) for _ in range(3)] and all(0 <= x <= 400 for x in a)


@pytest.mark.parametrize("bad", [dict(max_attempts=0), dict(factor=0.5), dict(jitter="some"), dict(base_ms=-1)])
def test_retry_policy_rejects_nonsense(bad):
    with pytest.raises(ValueError):
        RetryPolicy(**bad)


def outbox_world(use_outbox):
    world = World(seed=2)
    orders = world.add_service("orders", latency_ms=5)
    shipping = world.add_service("shipping", latency_ms=5)
    shipping.idempotent = True

    if use_outbox:
        @orders.endpoint("create")
        def create(data, db, outbox):
            db.put("orders", data["id"], data)
            outbox("OrderPlaced", {"order_id": data["id"]}, key=data["id"])
    else:
        @orders.endpoint("create")
        def create(data, db, publish):
            db.put("orders", data["id"], data)
            publish("OrderPlaced", {"order_id": data["id"]}, key=data["id"])

    @shipping.handles("OrderPlaced")
    def ship(event, db):
        db.execute("CREATE TABLE IF NOT EXISTS log (order_id TEXT)")
        db.execute("INSERT INTO log VALUES (?)", (event.data["order_id"],))

    world.gateway.route("POST /orders", call="orders.create")
    return world, orders, shipping


def shipped(shipping):
    if "log" not in shipping.db.tables():
        return []
    return [r["order_id"] for r in shipping.db.query("SELECT order_id FROM log")]


def test_dual_write_crash_between_commit_and_publish_loses_the_event():
    world, orders, shipping = outbox_world(use_outbox=False)
    crash(orders, at=2, point="after_commit")
    world.send_many("POST /orders", [{"id": f"o{i}"} for i in range(1, 4)], every_ms=2000)
    assert orders.db.count("orders") == 3
    assert shipped(shipping) == ["o1", "o3"]


def test_outbox_publishes_after_the_restart():
    world, orders, shipping = outbox_world(use_outbox=True)
    crash(orders, at=2, point="after_commit")
    world.send_many("POST /orders", [{"id": f"o{i}"} for i in range(1, 4)], every_ms=2000)
    assert sorted(shipped(shipping)) == ["o1", "o2", "o3"]


def test_relay_crash_republishes_and_the_idempotent_consumer_absorbs_it():
    world, orders, shipping = outbox_world(use_outbox=True)
    crash_relay(orders, at_row=2)
    world.send_many("POST /orders", [{"id": f"o{i}"} for i in range(1, 4)], every_ms=2000)
    assert sorted(shipped(shipping)) == ["o1", "o2", "o3"]
    assert world.trace.count("publish", label="OrderPlaced") == 4


def test_handler_publish_is_dropped_when_the_handler_fails():
    world = World()
    a = world.add_service("a")

    @a.handles("In")
    def relay(event, publish):
        publish("Out", {"x": 1})
        raise RuntimeError("after publishing")

    world.publish("In", {"x": 0})
    world.run()
    assert world.bus.log("Out") == []


def test_delayed_publishes_reorder_the_log():
    world = World(seed=1)
    delay_publishes(world, 0.5, max_delay_ms=50, seed=3)
    for i in range(20):
        world.scheduler.at(i * 10, lambda i=i: world.publish("Tick", {"i": i}))
    world.run()
    order = [e.data["i"] for e in world.bus.log("Tick")]
    assert sorted(order) == list(range(20)) and order != list(range(20))


def test_replay_from_offset_rebuilds_a_view():
    world = World()
    view = world.add_service("view")

    @view.handles("Added")
    def add(event, db):
        total = (db.get("totals", "sum") or {"v": 0})["v"]
        db.put("totals", "sum", {"v": total + event.data["n"]})

    for n in range(1, 11):
        world.publish("Added", {"n": n})
    world.run()
    assert view.db.get("totals", "sum") == {"v": 55}
    view.db.execute("DELETE FROM totals")
    with pytest.raises(KeyError, match="does not consume"):
        world.replay("view", "Other")
    world.replay("view", "Added", 0)
    world.run()
    assert view.db.get("totals", "sum") == {"v": 55}


def test_bounded_backlog_pushes_back_with_429():
    world = World(max_backlog=3)
    slow = world.add_service("slow", latency_ms=1000)

    @slow.handles("OrderPlaced")
    def handle(event, db):
        db.put("o", event.id, {"a": 1})

    world.gateway.route("POST /orders", publish="OrderPlaced")
    responses = world.send_many("POST /orders", [{"n": i} for i in range(10)], every_ms=10)
    assert [r.status for r in responses] == [202] * 3 + [429] * 7     # 3 waiting (1 in flight) = full
    with pytest.raises(BacklogFull):
        for _ in range(5):
            world.publish("OrderPlaced", {"n": 0})


def test_new_events_do_not_cut_a_retry_backoff_short():
    world, svc = poison_world(RetryPolicy(max_attempts=4, base_ms=100, factor=2))
    world.publish("Job", {"poison": True})
    for i in range(40):                                  # arrivals every 20 ms wake the consumer up
        world.scheduler.at(5 + 20 * i, lambda i=i: world.publish("Job", {"n": i}))
    world.run()
    poison = world.dead_letters[0]["event"].id
    times = [r.time for r in world.trace.where("deliver") if r.ref == poison]
    assert [round(b - a) for a, b in zip(times, times[1:])] == [101, 201, 401]
