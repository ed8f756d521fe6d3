"""What only a real broker has: pending entries of dead consumers, the delivery limit,
JSON-only entries, batching, partitions, and a clear error when the broker is not there."""
from __future__ import annotations

import time

import pytest

from edlib.core.events import EventFactory
from edlib.core.retry import RetryPolicy
from edlib.messaging.redis_server import free_port
from edlib.messaging.redis_streams import BrokerUnavailable, RedisBus
from edlib.runtime.host import ServiceHost

pytestmark = pytest.mark.redis
TOPIC = "OrderPlaced"


@pytest.fixture
def events() -> EventFactory:
    return EventFactory()


def publish_orders(bus: RedisBus, events: EventFactory, n: int) -> list:
    return [bus.publish(TOPIC, events("OrderPlaced", {"order_id": f"order-{i}"}, key=f"order-{i}"))
            for i in range(1, n + 1)]


def test_a_dead_consumers_pending_entries_are_claimed_and_delivered_again(redis_bus, events):
    dead = redis_bus(consumer="orders-1", claim_idle_ms=100)
    alive = redis_bus(consumer="orders-2", claim_idle_ms=100)
    dead.subscribe(TOPIC, "orders")
    publish_orders(dead, events, 5)
    taken = dead.deliver(TOPIC, "orders", 3)          # ... and orders-1 dies before acking them
    pending = alive.pending(TOPIC, "orders")
    assert [(p.consumer, p.deliveries) for p in pending] == [("orders-1", 1)] * 3
    time.sleep(0.15)
    got = alive.deliver(TOPIC, "orders", 10)
    assert [d.offset for d in got[:3]] == [d.offset for d in taken]   # the claimed ones first (XAUTOCLAIM)
    assert [d.attempt for d in got] == [2, 2, 2, 1, 1]
    alive.ack_many(got)
    assert alive.backlog(TOPIC, "orders") == 0 and alive.pending(TOPIC, "orders") == []


def test_a_live_consumers_entries_are_not_taken_before_claim_idle_ms(redis_bus, events):
    busy = redis_bus(consumer="orders-1", claim_idle_ms=60_000)
    other = redis_bus(consumer="orders-2", claim_idle_ms=60_000)
    busy.subscribe(TOPIC, "orders")
    publish_orders(busy, events, 2)
    busy.deliver(TOPIC, "orders", 1)
    assert [d.attempt for d in other.deliver(TOPIC, "orders", 10)] == [1]   # only the unread one


def test_after_the_delivery_limit_an_event_is_a_dead_letter_with_reason_and_count(redis_bus, events):
    bus = redis_bus(consumer="orders-1", max_deliveries=3)
    bus.subscribe(TOPIC, "orders")
    publish_orders(bus, events, 1)
    for attempt in (1, 2, 3):
        [d] = bus.deliver(TOPIC, "orders")
        assert d.attempt == attempt
        bus.nack(d, reason="ValueError: the warehouse is on fire")
    assert bus.deliver(TOPIC, "orders") == [] and bus.backlog(TOPIC, "orders") == 0
    [dead] = bus.dead_letters()
    assert (dead.topic, dead.group, dead.deliveries) == (TOPIC, "orders", 3)
    assert dead.reason == "ValueError: the warehouse is on fire"
    assert dead.event is not None and dead.event.data["order_id"] == "order-1"


def test_a_nacked_event_waits_out_its_backoff_while_others_go_first(redis_bus, events):
    bus = redis_bus(consumer="orders-1")
    bus.subscribe(TOPIC, "orders")
    publish_orders(bus, events, 2)
    [first] = bus.deliver(TOPIC, "orders")
    bus.nack(first, reason="TimeoutError: payments is slow", delay_ms=300)
    [second] = bus.deliver(TOPIC, "orders")                 # the backoff is not over: the next one goes first
    assert second.offset != first.offset and second.attempt == 1
    bus.ack(second)
    assert bus.deliver(TOPIC, "orders") == []
    time.sleep(0.35)
    [again] = bus.deliver(TOPIC, "orders")
    assert (again.offset, again.attempt) == (first.offset, 2)
    with pytest.raises(ValueError, match="delay_ms"):
        bus.nack(again, delay_ms=-1)


def test_a_service_host_waits_its_retry_policys_backoff_between_deliveries(redis_bus, events):
    bus = redis_bus(consumer="orders-1")
    host = ServiceHost("orders", bus, retry=RetryPolicy(max_attempts=3, base_ms=200, factor=1))
    seen: list[float] = []

    @host.handles("OrderPlaced")
    def record(event, db):
        seen.append(time.monotonic())
        if len(seen) < 3:
            raise TimeoutError("payments is slow")
        db.put("orders", event.data["order_id"], {"ok": True})

    publish_orders(bus, events, 1)
    deadline = time.monotonic() + 10
    while len(seen) < 3 and time.monotonic() < deadline:
        host.poll()
        time.sleep(0.01)
    assert len(seen) == 3 and host.db.count("orders") == 1
    assert all(b - a >= 0.19 for a, b in zip(seen, seen[1:])), "delivered again before the backoff was over"


def test_an_entry_whose_consumers_keep_dying_becomes_a_dead_letter(redis_bus, events):
    bus = redis_bus(consumer="orders-1", max_deliveries=2, claim_idle_ms=0)
    bus.subscribe(TOPIC, "orders")
    publish_orders(bus, events, 1)
    for n in range(2):                      # delivered, never acked: the consumer "died" each time
        restarted = redis_bus(consumer=f"orders-{n + 2}", max_deliveries=2, claim_idle_ms=0)
        assert len(restarted.deliver(TOPIC, "orders")) == 1
        time.sleep(0.06)
    last = redis_bus(consumer="orders-9", max_deliveries=2, claim_idle_ms=0)
    assert last.deliver(TOPIC, "orders") == []
    [dead] = bus.dead_letters()
    assert dead.deliveries == 2 and "never acked" in dead.reason


def test_only_json_events_travel_anything_else_is_set_aside(redis_bus, redis_server, events):
    import redis

    bus = redis_bus(consumer="orders-1")
    bus.subscribe(TOPIC, "orders")
    raw = redis.Redis.from_url(redis_server.url)
    raw.xadd(bus.stream(TOPIC), {"event": b"\x80\x04\x95pickle"})
    raw.xadd(bus.stream(TOPIC), {"event": '{"type": "OrderPlaced"}'})
    raw.close()
    publish_orders(bus, events, 1)
    entry = redis.Redis.from_url(redis_server.url).xrange(bus.stream(TOPIC))[-1][1]
    assert set(entry) == {b"event"} and entry[b"event"].startswith(b'{"causation_id"')
    [d] = bus.deliver(TOPIC, "orders", 10)
    assert d.event.data["order_id"] == "order-1"
    reasons = [dl.reason for dl in bus.dead_letters()]
    assert len(reasons) == 2 and all(r.startswith("not an edlib event") for r in reasons)


def test_publish_many_pipelines_and_keeps_order(redis_bus, events):
    bus = redis_bus(consumer="orders-1")
    bus.subscribe(TOPIC, "orders")
    sent = [events("OrderPlaced", {"n": i}) for i in range(1_200)]
    placed = bus.publish_many(TOPIC, sent, batch=500)
    assert len(placed) == 1_200 and [p for p, _ in placed] == [0] * 1_200
    assert [e.id for e in bus.log(TOPIC)] == [e.id for e in sent]
    assert bus.length(TOPIC) == 1_200 and bus.backlog(TOPIC, "orders") == 1_200


def test_keys_choose_partitions_as_in_memory(redis_bus, events):
    import zlib

    bus = redis_bus(consumer="orders-1", partitions=3)
    bus.subscribe(TOPIC, "orders")
    placed = [bus.publish(TOPIC, events("OrderPlaced", {"n": i}, key=f"order-{i % 5}")) for i in range(30)]
    assert [p for p, _ in placed] == [zlib.crc32(f"order-{i % 5}".encode()) % 3 for i in range(30)]
    got = []
    while batch := bus.deliver(TOPIC, "orders", 4):
        assert len(batch) <= 4
        got += batch
        bus.ack_many(batch)
    assert len(got) == 30 and len({d.event.id for d in got}) == 30
    for key in {d.event.key for d in got}:                 # one consumer: per-key order holds
        ns = [d.event.data["n"] for d in got if d.event.key == key]
        assert ns == sorted(ns)


def test_an_unreachable_broker_is_reported_clearly():
    url = f"redis://127.0.0.1:{free_port()}/0"
    with pytest.raises(BrokerUnavailable) as caught:
        RedisBus(url)
    message = str(caught.value)
    assert url in message and "redis-server" in message and "--broker" in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_broker_that_goes_away_is_reported_clearly(redis_server, events):
    from edlib.messaging.redis_server import RedisServer

    server = RedisServer()
    bus = RedisBus(server.url, consumer="orders-1")
    bus.subscribe(TOPIC, "orders")
    server.stop()
    with pytest.raises(BrokerUnavailable, match=r"cannot reach the Redis broker at redis://127\.0\.0\.1"):
        publish_orders(bus, events, 1)
    bus.close()


def test_the_password_never_shows():
    from edlib.messaging.redis_streams import safe_url

    assert safe_url("redis://user:secret@127.0.0.1:6379/0") == "redis://user:***@127.0.0.1:6379/0"
    with pytest.raises(BrokerUnavailable) as caught:
        RedisBus(f"redis://user:secret@127.0.0.1:{free_port()}/0")
    assert "secret" not in str(caught.value)
