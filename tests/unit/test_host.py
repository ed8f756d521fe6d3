"""ServiceHost: the World's handler functions, run outside a World on any bus (here in memory)."""
from __future__ import annotations

import pytest

from edlib.core.events import EventFactory
from edlib.core.handlers import NotFound
from edlib.core.retry import RetryPolicy
from edlib.course import shop
from edlib.course.scenarios import event_shop
from edlib.messaging.memory import InMemoryBus
from edlib.runtime.host import ServiceHost


@pytest.fixture
def bus() -> InMemoryBus:
    return InMemoryBus()


@pytest.fixture
def events() -> EventFactory:
    return EventFactory()


def placed(bus: InMemoryBus, events: EventFactory, n: int) -> None:
    for i in range(1, n + 1):
        bus.publish("OrderPlaced", events("OrderPlaced", {"order_id": f"order-{i}", "item": "book", "qty": 1}))


def run(*hosts: ServiceHost) -> None:
    while sum(h.poll() for h in hosts):
        pass


def kinds(host: ServiceHost) -> list[str]:
    return [r["kind"] for r in host.db.query("SELECT kind FROM trace ORDER BY seq")]


def test_the_world_and_the_host_run_the_same_functions(bus, events):
    world = event_shop()
    host = ServiceHost("orders", bus)
    shop.orders(host)
    assert host.handlers["OrderPlaced"].fn is world.service("orders").handlers["OrderPlaced"].fn
    placed(bus, events, 3)
    run(host)
    assert [d["order_id"] for d in host.db.all("orders")] == ["order-1", "order-2", "order-3"]
    assert kinds(host)[:3] == ["deliver", "write", "ack"]


def test_a_repeated_event_is_skipped_in_the_handlers_transaction(bus, events):
    host = ServiceHost("orders", bus)
    calls = []
    host.handles("OrderPlaced")(lambda event, db: calls.append(event.id))
    event = events("OrderPlaced", {"order_id": "order-1"})
    assert host.handle_event(event) is True
    assert host.handle_event(event) is False          # delivered again (at least once): skipped
    assert calls == [event.id]


def test_a_failing_handler_is_retried_then_dead_lettered_with_reason_and_count(bus, events):
    host = ServiceHost("orders", bus, retry=RetryPolicy(max_attempts=3))

    @host.handles("OrderPlaced")
    def broken(event, db):
        raise RuntimeError("no stock table")

    placed(bus, events, 1)
    run(host)
    [dead] = bus.dead_letters()
    assert (dead.deliveries, dead.reason) == (3, "RuntimeError: no stock table")
    assert kinds(host).count("retry") == 2 and kinds(host)[-1] == "dead_letter"
    assert bus.backlog("OrderPlaced", "orders") == 0


def test_an_event_breaking_the_handlers_schema_is_dead_lettered_at_once(bus, events):
    host = ServiceHost("orders", bus)
    host.handles("OrderPlaced", schema={"type": "object", "required": ["qty"]})(shop.record_order)
    placed(bus, events, 1)
    bus.publish("OrderPlaced", events("OrderPlaced", {"order_id": "order-2"}))
    run(host)
    assert host.db.count("orders") == 1
    [dead] = bus.dead_letters()
    assert dead.deliveries == 1 and "'qty' is a required property" in dead.reason


def test_publish_leaves_after_commit_and_not_at_all_if_the_handler_fails(bus, events):
    host = ServiceHost("shipping", bus, retry=RetryPolicy(max_attempts=1))
    bus.subscribe("ShipmentScheduled", "audit")

    @host.handles("OrderPlaced")
    def ship(event, db, publish):
        publish("ShipmentScheduled", {"order_id": event.data["order_id"]})
        if event.data["order_id"] == "order-2":
            raise ValueError("no address")

    placed(bus, events, 2)
    run(host)
    [sent] = bus.log("ShipmentScheduled")
    assert sent.data["order_id"] == "order-1" and sent.source == "shipping"
    assert sent.causation_id == bus.log("OrderPlaced")[0].id


def test_outbox_rows_are_relayed_after_commit(bus, events):
    host = ServiceHost("billing", bus)

    @host.handles("OrderPlaced")
    def invoice(event, db, outbox):
        db.put("invoices", event.data["order_id"], {"total": 3})
        outbox("InvoiceIssued", {"order_id": event.data["order_id"]})

    placed(bus, events, 2)
    run(host)
    assert [e.data["order_id"] for e in bus.log("InvoiceIssued")] == ["order-1", "order-2"]
    assert host.db.query("SELECT COUNT(*) AS n FROM outbox WHERE sent = 0") == [{"n": 0}]


def test_endpoints_answer_from_the_services_own_database(bus, events):
    view = ServiceHost("orders_view", bus)
    shop.orders_view(view)
    placed(bus, events, 1)
    run(view)
    assert view.call("get", {"id": "order-1"})["status"] == "placed"
    with pytest.raises(NotFound):
        view.call("get", {"id": "order-9"})


def test_instances_sharing_a_database_file_take_turns(tmp_path, bus, events):
    a = ServiceHost("orders", bus, str(tmp_path / "orders.db"), consumer="orders-a")
    b = ServiceHost("orders", bus, str(tmp_path / "orders.db"), consumer="orders-b")
    for host in (a, b):
        shop.orders(host)
    placed(bus, events, 10)
    run(a, b)
    assert a.handled + b.handled == 10 and a.handled and b.handled
    assert a.db.count("orders") == 10
    a.close()
    b.close()
