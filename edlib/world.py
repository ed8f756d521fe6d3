"""The world: one small event-driven system on a virtual clock.

A :class:`World` holds everything an experiment needs: the clock and scheduler, the id
factory, the bus, the services with their databases, the API gateway and the trace.
Build it in a few cells, send requests, ``run()`` it, then look at the trace, the
topology drawing and each service's state. The same seed gives the same run.
"""
from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from typing import Any

from .bus import Delivery, InMemoryBus
from .clock import VirtualClock
from .database import Databases
from .events import Event, EventFactory
from .gateway import Gateway, Response
from .ids import make_ids
from .scheduler import Scheduler
from .service import Service
from .trace import Trace

MAX_ATTEMPTS = 5
"""Deliveries of one event before it is set aside as a dead letter."""

RETRY_DELAY_MS = 100.0
"""Virtual ms before a failed event is delivered again."""


class _Consumer:
    """Pulls one service's events from one topic, one at a time, while the service is up."""

    def __init__(self, world: "World", service: Service, topic: str) -> None:
        self.world, self.service, self.topic = world, service, topic
        self.busy = False
        self.wake_times: set[float] = set()

    def wake(self, at: float | None = None) -> None:
        t = self.world.now if at is None else at
        if t not in self.wake_times:
            self.wake_times.add(t)
            self.world.scheduler.at(t, lambda: self._pump(t))

    def _pump(self, t: float) -> None:
        self.wake_times.discard(t)
        world, svc = self.world, self.service
        if self.busy:
            return
        if not svc.is_up():
            back = svc.up_again_at(world.now)
            if back < math.inf:
                self.wake(back)
            return
        deliveries = world.bus.deliver(self.topic, svc.name)
        if not deliveries:
            return
        d = deliveries[0]
        world.trace.record(world.now, "deliver", "bus", svc.name, d.event.type, d.event.id,
                           detail=f"attempt {d.attempt}" if d.attempt > 1 else "")
        self.busy = True
        world.scheduler.after(svc.latency_ms, lambda: self._finish(d))

    def _finish(self, d: Delivery) -> None:
        world, svc, trace = self.world, self.service, self.world.trace
        self.busy = False
        if not svc.is_up():
            world.bus.nack(d)
            trace.record(world.now, "fail", svc.name, "bus", d.event.type, d.event.id, ok=False,
                         detail="went down while processing; not acked")
            self.wake(svc.up_again_at(world.now))
            return
        try:
            svc.handle_event(d.event)
        except Exception as exc:
            self._failed(d, exc)
            return
        world.bus.ack(d)
        trace.record(world.now, "ack", svc.name, "bus", d.event.type, d.event.id)
        self.wake()

    def _failed(self, d: Delivery, exc: Exception) -> None:
        world, svc, trace = self.world, self.service, self.world.trace
        reason = f"{type(exc).__name__}: {exc}"
        trace.record(world.now, "fail", svc.name, "bus", d.event.type, d.event.id, ok=False, detail=reason)
        if d.attempt >= world.max_attempts:
            world.bus.ack(d)
            world.dead_letters.append({"service": svc.name, "event": d.event, "reason": reason,
                                       "attempts": d.attempt})
            trace.record(world.now, "dead_letter", "bus", "dead letters", d.event.type, d.event.id,
                         ok=False, detail=f"after {d.attempt} attempts: {reason}")
            self.wake()
            return
        world.bus.nack(d)
        trace.record(world.now, "retry", "bus", svc.name, d.event.type, d.event.id,
                     detail=f"again in {world.retry_delay_ms:g} ms")
        self.wake(world.now + world.retry_delay_ms)


class World:
    """A whole system on one virtual clock: services, databases, gateway, bus and trace.

    ``seed`` seeds everything random in the world (``world.random``, seeded uuids), so
    the same seed gives the same run; ``ids="uuid"`` gives real random uuids instead.
    """

    def __init__(self, seed: int = 0, *, ids: str = "sequential", partitions: int = 1,
                 gateway_latency_ms: float = 1.0, trace: bool = True) -> None:
        self.seed = seed
        self.random = random.Random(seed)
        self.clock = VirtualClock()
        self.scheduler = Scheduler(self.clock)
        self.ids = make_ids(ids, seed)
        self.events = EventFactory(self.ids, self.clock)
        self.bus = InMemoryBus(partitions)
        self.databases = Databases()
        self.trace = Trace(enabled=trace)
        self.services: dict[str, Service] = {}
        self.gateway = Gateway(self, gateway_latency_ms)
        self.responses: list[Response] = []
        self.dead_letters: list[dict[str, Any]] = []
        self.max_attempts = MAX_ATTEMPTS
        self.retry_delay_ms = RETRY_DELAY_MS
        self._consumers: dict[tuple[str, str], _Consumer] = {}
        self.bus.on_publish(self._published)

    # -- building -----------------------------------------------------------------
    @property
    def now(self) -> float:
        """The virtual time in ms."""
        return self.clock.now()

    def add_service(self, name: str, latency_ms: float = 1.0) -> Service:
        """Create a service with its own (in-memory SQLite) database."""
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"a service name is a word such as 'orders', got {name!r}")
        if name in self.services or name in ("client", "gateway", "bus"):
            raise ValueError(f"the name {name!r} is taken")
        svc = self.services[name] = Service(self, name, latency_ms)
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

        def append() -> None:
            self.trace.record(self.now, "publish", source, "bus", event.type, event.id)
            self.bus.publish(topic or event_type, event)

        if self.scheduler.advanced():      # published at the end of a blocking call: not earlier
            self.scheduler.at(self.now, append)
        else:
            append()
        return event

    def sample(self, fn: Callable[[], Any], every_ms: float, until_ms: float,
               start_ms: float | None = None) -> list[tuple[float, Any]]:
        """Measure ``fn()`` every ``every_ms`` of virtual time until ``until_ms``.

        Returns a list that fills with ``(time, value)`` pairs as the world runs.
        """
        if not every_ms > 0:
            raise ValueError(f"every_ms must be > 0, got {every_ms}")
        samples: list[tuple[float, Any]] = []
        t = self.now if start_ms is None else start_ms
        while t <= until_ms:
            self.scheduler.at(t, lambda t=t: samples.append((t, fn())))
            t += every_ms
        return samples

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
            s.handlers or s.publishes for s in self.services.values())
        if uses_bus:
            g.add_node("bus", role="bus")
        for name in sorted(self.services):
            svc = self.services[name]
            g.add_node(name, role="service")
            g.add_node(f"{name}.db", role="database")
            g.add_edge(name, f"{name}.db", kind="write")
            if svc.handlers:
                g.add_edge("bus", name, kind="deliver")
            if svc.publishes:
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
        from .viz import draw_topology
        return draw_topology(self, ax=ax, title=title)

    def timeline(self, ax=None, title: str | None = None, **kwargs):
        """Draw the trace as a sequence diagram (see :func:`edlib.viz.draw_timeline`)."""
        from .viz import draw_timeline
        return draw_timeline(self.trace, ax=ax, title=title, **kwargs)

    # -- internals ------------------------------------------------------------------
    def _subscribe(self, service: Service, topic: str) -> None:
        self.bus.subscribe(topic, service.name)
        if (service.name, topic) not in self._consumers:
            consumer = self._consumers[(service.name, topic)] = _Consumer(self, service, topic)
            consumer.wake()

    def _published(self, topic: str, event: Event) -> None:
        for (_, t), consumer in self._consumers.items():
            if t == topic:
                consumer.wake()

    def _outage_scheduled(self, service: Service, start: float, end: float) -> None:
        self.scheduler.at(start, lambda: self.trace.record(start, "state", service.name, service.name, "down",
                                                           ok=False, detail=f"until {end:g} ms"))
        if end < math.inf:
            self.scheduler.at(end, lambda: self.trace.record(end, "state", service.name, service.name, "up"))

    def __repr__(self) -> str:
        return f"World(seed={self.seed}, now={self.now:g} ms, services={sorted(self.services)})"
