"""One contract for the handler runner, run against both kinds of service.

A simulated :class:`~edlib.simulation.service.Service` (virtual clock, in a World) and a
real :class:`~edlib.runtime.host.ServiceHost` (a bus, real time) must treat handlers
alike: injection by parameter name, the idempotent consumer, the outbox written in the
handler's transaction, publish only after commit, least privilege, and a crash between
commit and ack that ends in a redelivery which is skipped. Both must do it through the
one :class:`~edlib.runtime.runner.HandlerRunner` (the last test fails if either gets its
own copy back).
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from edlib.core.clock import VirtualClock
from edlib.core.database import Database
from edlib.core.events import Event, EventFactory
from edlib.core.ids import SequentialIds
from edlib.messaging.memory import InMemoryBus
from edlib.runtime.host import ServiceHost
from edlib.runtime.runner import HandlerRunner
from edlib.simulation.faults import crash
from edlib.simulation.world import World


class Simulated:
    """A Service in a World: events published by a client, consumed as the world runs."""

    kind = "simulated"

    def __init__(self) -> None:
        self.world = World(seed=1)

    def service(self, name: str, publishes: list[str] | None = None) -> Any:
        svc = self.world.add_service(name, publishes=publishes)
        svc.idempotent = True
        return svc

    def send(self, event_type: str, data: dict) -> Event:
        event = self.world.publish(event_type, data)
        self.world.run()
        return event

    def again(self, event: Event) -> None:
        self.world.publish_event(event)
        self.world.run()

    def crash_after_commit(self, svc: Any, event_type: str, data: dict) -> None:
        crash(svc, at=1, point="after_commit", restart_ms=50)
        self.send(event_type, data)

    def log(self, topic: str) -> list[Event]:
        return self.world.bus.log(topic)

    def dead(self) -> list[str]:
        return [d["reason"] for d in self.world.dead_letters]


class Process:
    """A ServiceHost on an in-memory bus: events published to the bus, consumed by polling."""

    kind = "process"

    def __init__(self) -> None:
        self.bus = InMemoryBus()
        self.events = EventFactory(SequentialIds(), VirtualClock())
        self.hosts: list[ServiceHost] = []

    def service(self, name: str, publishes: list[str] | None = None) -> Any:
        host = ServiceHost(name, self.bus, publishes=publishes, trace=False)
        self.hosts.append(host)
        return host

    def _drain(self) -> None:
        for host in self.hosts:
            host.subscribe_all()
        while sum(host.poll() for host in self.hosts):
            pass

    def send(self, event_type: str, data: dict) -> Event:
        event = self.events(event_type, data, source="client")
        self.bus.publish(event_type, event)
        self._drain()
        return event

    def again(self, event: Event) -> None:
        self.bus.publish(event.type, event)
        self._drain()

    def crash_after_commit(self, host: Any, event_type: str, data: dict) -> None:
        host.subscribe_all()
        event = self.events(event_type, data, source="client")
        self.bus.publish(event_type, event)
        [d] = self.bus.deliver(event_type, host.name)
        host.handle_event(d.event)         # committed ...
        self.bus.nack(d)                   # ... and the process died before its ack: the broker gives it back
        self._drain()

    def log(self, topic: str) -> list[Event]:
        return self.bus.log(topic)

    def dead(self) -> list[str]:
        return [d.reason for d in self.bus.dead_letters()]


@pytest.fixture(params=[Simulated, Process], ids=["simulated", "process"])
def system(request: pytest.FixtureRequest) -> Iterator[Simulated | Process]:
    yield request.param()


def test_dependencies_are_injected_by_parameter_name_in_any_order(system):
    svc = system.service("orders")
    seen: dict[str, Any] = {}

    @svc.handles("OrderPlaced")
    def record(event, now, service, db, publish, outbox):
        seen.update(event=event, db=db, service=service, now=now, publish=publish, outbox=outbox)

    sent = system.send("OrderPlaced", {"order_id": "o-1"})
    assert seen["event"] == sent and seen["db"] is svc.db and seen["service"] is svc
    assert isinstance(seen["now"], float) and callable(seen["publish"]) and callable(seen["outbox"])


def test_an_unknown_parameter_is_refused_where_the_handler_is_registered(system):
    svc = system.service("orders")
    with pytest.raises(TypeError, match=r"asks for \['database'\]"):
        svc.handles("OrderPlaced")(lambda event, database: None)


def test_an_event_delivered_twice_is_handled_once(system):
    svc = system.service("orders")
    calls = []

    @svc.handles("OrderPlaced")
    def record(event, db):
        calls.append(event.id)
        db.put("orders", event.data["order_id"], {"n": len(calls)})

    sent = system.send("OrderPlaced", {"order_id": "o-1"})
    system.again(sent)
    assert calls == [sent.id]
    assert svc.db.query("SELECT id FROM processed_events") == [{"id": sent.id}]


def test_the_outbox_row_is_written_in_the_handlers_transaction(system):
    svc = system.service("orders")

    @svc.handles("OrderPlaced")
    def place(event, db, outbox):
        db.put("orders", event.data["order_id"], {"status": "placed"})
        outbox("OrderAccepted", {"order_id": event.data["order_id"]})
        if event.data.get("fail"):
            raise RuntimeError("after the writes")

    system.send("OrderPlaced", {"order_id": "o-1", "fail": True})
    assert svc.db.get("orders", "o-1") is None
    assert "outbox" not in svc.db.tables() or svc.db.query("SELECT * FROM outbox") == []
    system.send("OrderPlaced", {"order_id": "o-2"})
    assert svc.db.get("orders", "o-2") == {"status": "placed"}
    assert [e.data["order_id"] for e in system.log("OrderAccepted")] == ["o-2"]
    assert [r["sent"] for r in svc.db.query("SELECT sent FROM outbox")] == [1]


def test_publish_leaves_only_after_the_commit_and_never_if_the_handler_fails(system):
    svc = system.service("orders")
    on_the_bus_inside: list[int] = []

    @svc.handles("OrderPlaced")
    def place(event, publish):
        publish("OrderAccepted", {"order_id": event.data["order_id"]})
        on_the_bus_inside.append(len(system.log("OrderAccepted")))
        if event.data.get("fail"):
            raise RuntimeError("after publish")

    system.send("OrderPlaced", {"order_id": "o-1"})
    assert on_the_bus_inside == [0] and len(system.log("OrderAccepted")) == 1
    accepted = system.log("OrderAccepted")[0]
    assert accepted.source == "orders" and accepted.causation_id == system.log("OrderPlaced")[0].id
    system.send("OrderPlaced", {"order_id": "o-2", "fail": True})
    assert [e.data["order_id"] for e in system.log("OrderAccepted")] == ["o-1"]


def test_a_service_may_publish_only_the_types_it_was_given(system):
    svc = system.service("orders", publishes=["OrderAccepted"])

    @svc.handles("OrderPlaced")
    def place(event, publish, outbox):
        publish("OrderAccepted", {})
        (outbox if event.data.get("via") == "outbox" else publish)("PaymentTaken", {"amount": 1})

    system.send("OrderPlaced", {"via": "publish"})
    system.send("OrderPlaced", {"via": "outbox"})
    assert system.log("PaymentTaken") == [] and system.log("OrderAccepted") == []
    assert system.dead() and all("may not publish 'PaymentTaken'" in reason for reason in system.dead())
    with pytest.raises(PermissionError, match="may publish only"):
        svc.publish("PaymentTaken", {})


def test_a_crash_between_commit_and_ack_redelivers_and_the_repeat_is_skipped(system):
    svc = system.service("orders")
    calls = []

    @svc.handles("OrderPlaced")
    def record(event, db, publish):
        calls.append(event.id)
        db.put("orders", event.data["order_id"], {"status": "placed"})
        publish("OrderAccepted", {"order_id": event.data["order_id"]})

    system.crash_after_commit(svc, "OrderPlaced", {"order_id": "o-1"})
    assert len(calls) == 1 and svc.db.count("orders") == 1
    assert svc.db.count("processed_events") == 1


def test_both_kinds_of_service_run_their_handlers_through_the_one_runner(system, monkeypatch):
    ran: list[str] = []
    original = HandlerRunner.run

    def counting(self: HandlerRunner, handler: Any, message: Any, **options: Any) -> Any:
        ran.append(self.name)
        return original(self, handler, message, **options)

    monkeypatch.setattr(HandlerRunner, "run", counting)
    svc = system.service("orders")
    svc.handles("OrderPlaced")(lambda event, db: None)
    svc.endpoint("get")(lambda data, db: {"ok": True})
    system.send("OrderPlaced", {})
    assert ran == ["orders"]
    assert isinstance(svc.runner, HandlerRunner) and isinstance(svc.db, Database)
