"""The bus contract: what services may rely on, written once, run against every bus.

Every method of :class:`~edlib.messaging.protocol.EventBus` is here: publish, groups,
deliver/ack/nack (with a reason and a delay), dead letters, replay (seek), the log, the
publish hook, ping and the declared capabilities. What only a real broker has (pending
entries of dead consumers, the delivery limit, connection errors) is in ``test_redis_bus.py``.
"""
from __future__ import annotations

import pytest

from edlib.core.events import Event, EventFactory
from edlib.course import shop
from edlib.messaging.protocol import Capabilities, EventBus
from edlib.runtime.host import ServiceHost

TOPIC = "OrderPlaced"


@pytest.fixture
def events() -> EventFactory:
    return EventFactory()


def order(events: EventFactory, n: int, **extra) -> Event:
    return events("OrderPlaced", {"order_id": f"order-{n}", "item": f"book-{n}", "qty": 1, **extra},
                  key=f"order-{n}", source="gateway")


def drain(bus, group: str, max_count: int = 10) -> list[Event]:
    """Deliver and ack until nothing comes; the events in the order they came."""
    seen = []
    while True:
        batch = bus.deliver(TOPIC, group, max_count)
        if not batch:
            return seen
        for d in batch:
            seen.append(d.event)
            bus.ack(d)


def test_a_published_event_reaches_a_group_unchanged(bus, events):
    sent = events("OrderPlaced", {"order_id": "order-1", "lines": [{"sku": "é-1", "qty": 2}], "note": None},
                  key="order-1", source="gateway", correlation_id="req-1")
    bus.subscribe(TOPIC, "orders")
    partition, offset = bus.publish(TOPIC, sent)
    [d] = bus.deliver(TOPIC, "orders")
    assert d.event == sent and d.event.to_json() == sent.to_json()
    assert (d.topic, d.group, d.partition, d.offset, d.attempt) == (TOPIC, "orders", partition, offset, 1)


def test_earliest_reads_the_history_latest_only_what_comes_next(bus, events):
    bus.publish(TOPIC, order(events, 1))
    bus.subscribe(TOPIC, "from_start", start="earliest")
    bus.subscribe(TOPIC, "from_now", start="latest")
    bus.publish(TOPIC, order(events, 2))
    assert [e.data["order_id"] for e in drain(bus, "from_start")] == ["order-1", "order-2"]
    assert [e.data["order_id"] for e in drain(bus, "from_now")] == ["order-2"]


def test_acked_events_leave_the_backlog(bus, events):
    bus.subscribe(TOPIC, "orders")
    for n in range(1, 4):
        bus.publish(TOPIC, order(events, n))
    assert bus.backlog(TOPIC, "orders") == 3
    [d] = bus.deliver(TOPIC, "orders")
    assert bus.backlog(TOPIC, "orders") == 3      # delivered is not done: still waiting for the ack
    bus.ack(d)
    assert bus.backlog(TOPIC, "orders") == 2
    drain(bus, "orders")
    assert bus.backlog(TOPIC, "orders") == 0
    assert bus.deliver(TOPIC, "orders") == []


def test_every_event_is_delivered_once_in_order_to_one_consumer_that_acks(bus, events):
    bus.subscribe(TOPIC, "orders")
    sent = [order(events, n) for n in range(1, 51)]
    for e in sent:
        bus.publish(TOPIC, e)
    assert [e.id for e in drain(bus, "orders", max_count=7)] == [e.id for e in sent]


def test_a_nacked_event_comes_again_with_the_next_attempt(bus, events):
    bus.subscribe(TOPIC, "orders")
    bus.publish(TOPIC, order(events, 1))
    [first] = bus.deliver(TOPIC, "orders")
    bus.nack(first)
    [again] = bus.deliver(TOPIC, "orders")
    assert (again.event, again.offset, again.attempt) == (first.event, first.offset, 2)
    bus.ack(again)
    assert bus.backlog(TOPIC, "orders") == 0


def test_groups_are_independent_and_a_new_group_replays_from_the_start(bus, events):
    bus.subscribe(TOPIC, "orders")
    bus.subscribe(TOPIC, "shipping")
    for n in range(1, 4):
        bus.publish(TOPIC, order(events, n))
    assert len(drain(bus, "orders")) == 3
    assert bus.backlog(TOPIC, "shipping") == 3     # orders' acks move only orders
    bus.subscribe(TOPIC, "rebuild", start="earliest")
    assert [e.data["order_id"] for e in drain(bus, "rebuild")] == ["order-1", "order-2", "order-3"]


def test_subscribing_again_keeps_the_groups_position(bus, events):
    bus.subscribe(TOPIC, "orders")
    for n in range(1, 4):
        bus.publish(TOPIC, order(events, n))
    [d] = bus.deliver(TOPIC, "orders")
    bus.ack(d)
    bus.subscribe(TOPIC, "orders")
    assert bus.backlog(TOPIC, "orders") == 2


def test_misuse_is_refused_clearly(bus, events):
    with pytest.raises(KeyError, match="subscribe first"):
        bus.deliver(TOPIC, "nobody")
    with pytest.raises(KeyError, match="subscribe first"):
        bus.backlog(TOPIC, "nobody")
    with pytest.raises(ValueError, match="start must be"):
        bus.subscribe(TOPIC, "orders", start="middle")
    with pytest.raises(ValueError):
        bus.subscribe(TOPIC, "")
    with pytest.raises(TypeError, match="needs an Event"):
        bus.publish(TOPIC, {"order_id": "order-1"})
    bus.subscribe(TOPIC, "orders")
    bus.publish(TOPIC, order(events, 1))
    [d] = bus.deliver(TOPIC, "orders")
    bus.ack(d)
    with pytest.raises(ValueError, match="acked twice"):
        bus.ack(d)


def test_the_shops_handlers_run_unchanged_on_this_bus(bus, events):
    """The adapter: the same functions event_shop() registers in a World, hosted on this bus."""
    orders, shipping = ServiceHost("orders", bus), ServiceHost("shipping", bus)
    shop.orders(orders)
    shop.shipping(shipping)
    assert orders.handlers["OrderPlaced"].fn is shop.record_order
    for host in (orders, shipping):
        host.subscribe_all()
    for n in range(1, 6):
        bus.publish(TOPIC, order(events, n))
    while orders.poll() + shipping.poll():
        pass
    assert orders.db.count("orders") == shipping.db.count("shipments") == 5
    assert orders.db.get("orders", "order-3")["item"] == "book-3"


def test_the_bus_keeps_the_whole_protocol_and_declares_what_it_can_do(bus):
    assert isinstance(bus, EventBus)
    assert isinstance(bus.capabilities, Capabilities)
    bus.ping()


def test_a_nack_takes_a_reason_and_a_delay_and_the_event_still_comes_again(bus, events):
    bus.subscribe(TOPIC, "orders")
    bus.publish(TOPIC, order(events, 1))
    [first] = bus.deliver(TOPIC, "orders")
    bus.nack(first, reason="RuntimeError: try later", delay_ms=0.0)
    [again] = bus.deliver(TOPIC, "orders")
    assert (again.event, again.attempt) == (first.event, 2)


def test_a_dead_letter_leaves_the_backlog_and_is_kept_with_its_reason(bus, events):
    bus.subscribe(TOPIC, "orders")
    bus.publish(TOPIC, order(events, 1))
    bus.publish(TOPIC, order(events, 2))
    [d] = bus.deliver(TOPIC, "orders")
    bus.dead_letter(d, "InvalidEvent: qty must be a number")
    assert bus.backlog(TOPIC, "orders") == 1
    [dead] = bus.dead_letters()
    assert (dead.topic, dead.group, dead.event, dead.reason, dead.deliveries) == (
        TOPIC, "orders", d.event, "InvalidEvent: qty must be a number", 1)
    assert [e.data["order_id"] for e in drain(bus, "orders")] == ["order-2"]


def test_seek_replays_a_group_from_an_offset(bus, events):
    bus.subscribe(TOPIC, "view")
    sent = [order(events, n) for n in range(1, 4)]
    for e in sent:
        bus.publish(TOPIC, e)
    assert drain(bus, "view") == sent
    bus.seek(TOPIC, "view", 0)
    assert drain(bus, "view") == sent
    bus.seek(TOPIC, "view", 2)
    assert drain(bus, "view") == sent[2:]
    with pytest.raises(ValueError, match="outside the log"):
        bus.seek(TOPIC, "view", 4)


def test_the_log_holds_every_event_in_order_and_the_publish_hook_sees_each(bus, events):
    heard: list[tuple[str, str]] = []
    bus.on_publish(lambda topic, event: heard.append((topic, event.id)))
    sent = [order(events, n) for n in range(1, 4)]
    for e in sent:
        bus.publish(TOPIC, e)
    assert bus.log(TOPIC) == sent
    assert heard == [(TOPIC, e.id) for e in sent]
