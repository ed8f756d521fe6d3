"""The world: one small event-driven system on a virtual clock.

A :class:`World` holds everything an experiment needs: the clock and scheduler, the id
factory, the bus, the services with their databases, the API gateway and the trace.
Build it in a few cells, send requests, ``run()`` it, then look at the trace, the
topology drawing and each service's state. The same seed gives the same run.
"""
from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Iterable
from types import MappingProxyType
from typing import Any

from edlib.core.clock import VirtualClock
from edlib.core.database import Databases
from edlib.core.events import Event, EventFactory, check_event_type
from edlib.core.ids import make_ids
from edlib.core.retry import RetryPolicy
from edlib.core.trace import Trace
from edlib.messaging.memory import InMemoryBus
from edlib.messaging.protocol import BacklogFull, Delivery, EventBus
from edlib.simulation.consumer import Consumer
from edlib.simulation.crashes import FaultState
from edlib.simulation.env import Env
from edlib.simulation.gateway import Gateway, Response
from edlib.simulation.scheduler import Scheduler
from edlib.simulation.service import Service


class World:
    """A whole system on one virtual clock: services, databases, gateway, bus and trace.

    ``seed`` seeds everything random in the world (``world.random``, seeded uuids), so
    the same seed gives the same run; ``ids="uuid"`` gives real random uuids instead.
    ``bus``: any :class:`~edlib.messaging.protocol.EventBus` (default: an
    :class:`~edlib.messaging.memory.InMemoryBus` with ``partitions`` and ``max_backlog``).
    """

    def __init__(self, seed: int = 0, *, ids: str = "sequential", partitions: int = 1,
                 max_backlog: int | None = None, gateway_latency_ms: float = 1.0, trace: bool = True,
                 bus: EventBus | None = None) -> None:
        if bus is not None and (partitions != 1 or max_backlog is not None):
            raise ValueError("give partitions and max_backlog to the bus you pass, not to the World")
        self.seed = seed
        self.random = random.Random(seed)
        self.clock = VirtualClock()
        self.scheduler = Scheduler(self.clock)
        self.ids = make_ids(ids, seed)
        self.events = EventFactory(self.ids, self.clock)
        self.bus: EventBus = bus if bus is not None else InMemoryBus(partitions, max_backlog)
        self.databases = Databases()
        self.trace = Trace(enabled=trace)
        self.services: dict[str, Service] = {}
        self.responses: list[Response] = []
        self.dead_letters: list[dict[str, Any]] = []
        self.retry = RetryPolicy()
        self.faults = FaultState()
        self.event_owners: dict[str, str] = {}
        self._consumers: dict[tuple[str, str], Consumer] = {}
        self.env = Env(clock=self.clock, scheduler=self.scheduler, trace=self.trace, events=self.events,
                       ids=self.ids, databases=self.databases, bus=self.bus, faults=self.faults,
                       random=self.random, owners=MappingProxyType(self.event_owners), send=self.publish_event,
                       peer=self.service, default_retry=self._retry_policy, subscribe=self._subscribe,
                       outage_scheduled=self._outage_scheduled, dead_letter=self.dead_letter)
        self.gateway = Gateway(self.env, gateway_latency_ms, self.responses)
        self.bus.on_publish(self._published)

    @property
    def fault_counts(self) -> Counter[str]:
        """How many faults of each kind were injected so far (crashes, lost_acks, restarts...)."""
        return self.faults.counts

    @property
    def lost_ack(self) -> tuple[float, random.Random] | None:
        """(probability, rng) of losing a consumer's ack (see :func:`edlib.simulation.faults.lose_acks`)."""
        return self.faults.lost_ack

    @lost_ack.setter
    def lost_ack(self, value: tuple[float, random.Random] | None) -> None:
        self.faults.lost_ack = value

    @property
    def publish_delay(self) -> tuple[float, float, random.Random] | None:
        """(probability, max ms, rng) of delaying a publish (see :func:`edlib.simulation.faults.delay_publishes`)."""
        return self.faults.publish_delay

    @publish_delay.setter
    def publish_delay(self, value: tuple[float, float, random.Random] | None) -> None:
        self.faults.publish_delay = value

    # -- building -----------------------------------------------------------------
    @property
    def now(self) -> float:
        """The virtual time in ms."""
        return self.clock.now()

    def add_service(self, name: str, latency_ms: float = 1.0, *,
                    publishes: Iterable[str] | None = None) -> Service:
        """Create a service with its own (in-memory SQLite) database.

        ``publishes`` (least privilege): the only event types it may publish; it becomes
        their sole publisher, and any other service that tries gets a PermissionError.
        """
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"a service name is a word such as 'orders', got {name!r}")
        if name in self.services or name in ("client", "gateway", "bus"):
            raise ValueError(f"the name {name!r} is taken")
        owned = [] if publishes is None else [check_event_type(t) for t in publishes]
        taken = {t: self.event_owners[t] for t in owned if t in self.event_owners}
        if taken:
            raise ValueError(f"{name!r} cannot own {sorted(taken)}: already published by "
                             f"{sorted(set(taken.values()))}")
        svc = self.services[name] = Service(self.env, name, latency_ms,
                                            publishes=None if publishes is None else frozenset(owned))
        self.event_owners.update({t: name for t in owned})
        return svc

    def service(self, name: str) -> Service:
        """The service called ``name``."""
        try:
            return self.services[name]
        except KeyError:
            raise KeyError(f"no service {name!r}; services: {sorted(self.services)}") from None

    # -- doing things ---------------------------------------------------------------
    def request(self, spec: str, body: Any = None) -> Response:
        """Send one client request through the gateway now, e.g. ``request("POST /orders", {...})``.

        Called from a cell (outside :meth:`run`), it first runs whatever was scheduled up to
        now, so the request sees the system as it is at this virtual time.
        """
        if self.scheduler.activity_start is not None:
            return self.gateway.handle(spec, body)
        self.run(until=self.now)
        self.scheduler.activity_start = self.now
        try:
            return self.gateway.handle(spec, body)
        finally:
            self.scheduler.activity_start = None

    def send_many(self, spec: str, bodies: Iterable[Any], every_ms: float = 100.0,
                  start_ms: float | None = None) -> list[Response]:
        """Send one request per body, ``every_ms`` apart, run the world, return the responses in order."""
        if not every_ms >= 0:
            raise ValueError(f"every_ms must be >= 0, got {every_ms}")
        start = self.now if start_ms is None else start_ms
        bodies = list(bodies)
        slots: list[Response | None] = [None] * len(bodies)

        def sender(i: int, body: Any):
            def send() -> None:
                slots[i] = self.request(spec, body)
            return send

        for i, body in enumerate(bodies):
            self.scheduler.at(start + i * every_ms, sender(i, body))
        self.run()
        return [r for r in slots if r is not None]

    def publish(self, event_type: str, data: Any = None, *, key: str | None = None, topic: str | None = None,
                source: str = "client", causation: Event | None = None,
                correlation_id: str | None = None) -> Event:
        """Create an event and append it to the bus (topic defaults to the event type)."""
        event = self.events(event_type, data, key=key, source=source, causation=causation,
                            correlation_id=correlation_id)
        return self.publish_event(event, topic=topic)

    def publish_event(self, event: Event, topic: str | None = None) -> Event:
        """Append an existing event (one read back from an outbox, say) to the bus."""
        source = event.source or "client"

        def append() -> None:
            self.bus.publish(topic or event.type, event)
            self.trace.record(self.now, "publish", source, "bus", event.type, event.id)

        def append_later() -> None:
            try:
                append()
            except BacklogFull as exc:
                self.trace.record(self.now, "fail", source, "bus", event.type, event.id, ok=False,
                                  detail=f"not published: {exc}")

        delay = self._injected_delay()
        if delay or self.scheduler.advanced():   # late, or at the end of a blocking call: not earlier
            self.scheduler.at(self.now + delay, append_later)
        else:
            append()
        return event

    def dead_letter(self, service: str, topic: str, delivery: Delivery, reason: str) -> None:
        """Set an event aside after its last failed delivery, with the reason and the delivery count."""
        self.dead_letters.append({"service": service, "topic": topic, "event": delivery.event,
                                  "reason": reason, "attempts": delivery.attempt, "time": self.now})
        self.trace.record(self.now, "dead_letter", "bus", "dead letters", delivery.event.type, delivery.event.id,
                          ok=False, detail=f"{service}, after {delivery.attempt} deliveries: {reason}")

    def _injected_delay(self) -> float:
        if self.publish_delay is None:
            return 0.0
        probability, max_ms, rng = self.publish_delay
        if rng.random() >= probability:
            return 0.0
        self.fault_counts["delayed_publishes"] += 1
        return rng.uniform(0, max_ms)

    def sample(self, fn: Callable[[], Any], every_ms: float, until_ms: float,
               start_ms: float | None = None) -> list[tuple[float, Any]]:
        """Measure ``fn()`` every ``every_ms`` of virtual time until ``until_ms``.

        Returns a list that fills with ``(time, value)`` pairs as the world runs.
        """
        if not every_ms > 0:
            raise ValueError(f"every_ms must be > 0, got {every_ms}")
        samples: list[tuple[float, Any]] = []
        t = self.now if start_ms is None else start_ms

        def measure(at: float) -> Callable[[], None]:
            return lambda: samples.append((at, fn()))

        while t <= until_ms:
            self.scheduler.at(t, measure(t))
            t += every_ms
        return samples

    def replay(self, service: str, topic: str, offset: int | list[int] = 0) -> None:
        """Move ``service``'s consumer group on ``topic`` back to ``offset`` and let it consume again.

        Its handlers see those events once more (run the world to let them): this is how a
        view is rebuilt from the log.
        """
        consumer = self._consumers.get((service, topic))
        if consumer is None:
            raise KeyError(f"{service!r} does not consume {topic!r}; it consumes "
                           f"{sorted(t for s, t in self._consumers if s == service)}")
        self.bus.seek(topic, service, offset)
        consumer.wake()

    def run(self, until: float | None = None) -> int:
        """Run everything scheduled (up to virtual time ``until``); return the steps taken."""
        return self.scheduler.run(until)

    # -- looking at it ------------------------------------------------------------
    def backlog(self, service: str | None = None) -> int:
        """Events waiting for ``service`` (or for every service)."""
        names = [service] if service else sorted(self.services)
        return sum(self.service(n).status()["backlog"] for n in names)

    def status(self) -> list[dict[str, Any]]:
        """One row per service: up or down, backlog, rows in its database."""
        return [self.services[n].status() for n in sorted(self.services)]

    def show_status(self) -> None:
        """Print :meth:`status` as a small table."""
        print(f"{'service':<12}{'up':<6}{'backlog':>8}{'rows':>6}")
        for row in self.status():
            print(f"{row['service']:<12}{'yes' if row['up'] else 'NO':<6}{row['backlog']:>8}{row['rows']:>6}")

    def topology(self):
        """The system as a networkx DiGraph, built from what exists now.

        Nodes carry ``role`` (client, gateway, service, database, bus); edges carry
        ``kind`` (request, call, publish, deliver, write).
        """
        import networkx as nx

        g = nx.DiGraph()
        g.add_node("client", role="client")
        g.add_node("gateway", role="gateway")
        g.add_edge("client", "gateway", kind="request")
        uses_bus = any(r.publish for r in self.gateway.routes) or any(
            s.handlers or s.publishes or s.allowed_events for s in self.services.values())
        if uses_bus:
            g.add_node("bus", role="bus")
        for name in sorted(self.services):
            svc = self.services[name]
            g.add_node(name, role="service")
            g.add_node(f"{name}.db", role="database")
            g.add_edge(name, f"{name}.db", kind="write")
            if svc.handlers:
                g.add_edge("bus", name, kind="deliver")
            if svc.publishes or svc.allowed_events:
                g.add_edge(name, "bus", kind="publish")
            for other in sorted(svc.calls):
                g.add_edge(name, other, kind="call")
        for route in self.gateway.routes:
            for service, _ in route.calls:
                g.add_edge("gateway", service, kind="call")
            if route.publish:
                g.add_edge("gateway", "bus", kind="publish")
        return g

    def draw(self, ax=None, title: str | None = None):
        """Draw the topology (see :func:`edlib.viz.draw_topology`)."""
        from edlib.viz import draw_topology
        return draw_topology(self, ax=ax, title=title)

    def timeline(self, ax=None, title: str | None = None, **kwargs):
        """Draw the trace as a sequence diagram (see :func:`edlib.viz.draw_timeline`)."""
        from edlib.viz import draw_timeline
        return draw_timeline(self.trace, ax=ax, title=title, **kwargs)

    # -- internals ------------------------------------------------------------------
    def _retry_policy(self) -> RetryPolicy:
        return self.retry

    def _subscribe(self, service: Service, topic: str) -> None:
        self.bus.subscribe(topic, service.name)
        if (service.name, topic) not in self._consumers:
            consumer = self._consumers[(service.name, topic)] = Consumer(self.env, service, topic)
            consumer.wake()

    def _published(self, topic: str, event: Event) -> None:
        for (_, t), consumer in self._consumers.items():
            if t == topic:
                consumer.wake()

    def _outage_scheduled(self, name: str, start: float, end: float) -> None:
        self.scheduler.at(start, lambda: self.trace.record(start, "state", name, name, "down",
                                                           ok=False, detail=f"until {end:g} ms"))
        if end < math.inf:
            self.scheduler.at(end, lambda: self.trace.record(end, "state", name, name, "up"))

    def __repr__(self) -> str:
        return f"World(seed={self.seed}, now={self.now:g} ms, services={sorted(self.services)})"
