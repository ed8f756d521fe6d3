"""Services: a name, handlers, and a database of their own.

A service answers synchronous calls at its *endpoints* and reacts to events with its
*handlers*. Both are plain functions; their parameters say what they need::

    @orders.endpoint("create")
    def create_order(data, db):           # data: the request body; db: orders' own database
        ...

    @shipping.handles("OrderPlaced")
    def ship(event, db, publish):         # publish: emit a new event caused by this one
        ...

Names a function may ask for: ``db``, ``publish``, ``service``, ``now`` (virtual ms).
The first parameter always receives the request data or the event.
"""
from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .database import Database
from .events import Event, check_event_type

if TYPE_CHECKING:  # pragma: no cover
    from .world import World

INJECTABLE = ("db", "publish", "service", "now")


class ServiceUnavailable(RuntimeError):
    """The service is down: a synchronous call to it fails at once."""


class NotFound(LookupError):
    """Raise from an endpoint when the thing asked for does not exist (the gateway answers 404)."""


@dataclass(frozen=True)
class Handler:
    """A registered function and the dependencies it asked for."""

    fn: Callable[..., Any]
    wants: tuple[str, ...]

    @classmethod
    def wrap(cls, fn: Callable[..., Any]) -> "Handler":
        if not callable(fn):
            raise TypeError(f"a handler must be a function, got {type(fn).__name__}")
        params = list(inspect.signature(fn).parameters)
        if not params:
            raise TypeError(f"{fn.__name__}() must take at least one parameter (the data or event)")
        unknown = [p for p in params[1:] if p not in INJECTABLE]
        if unknown:
            raise TypeError(f"{fn.__name__}() asks for {unknown}; a handler may ask for {list(INJECTABLE)}")
        return cls(fn, tuple(params[1:]))


class Service:
    """One microservice inside a :class:`~edlib.world.World`.

    ``latency_ms`` is how long it takes to handle one call or event; ``down(t1, t2)``
    makes it unavailable between two virtual times.
    """

    def __init__(self, world: "World", name: str, latency_ms: float = 1.0, db_path: str = ":memory:") -> None:
        self.world = world
        self.name = name
        self.latency_ms = latency_ms
        self.endpoints: dict[str, Handler] = {}
        self.handlers: dict[str, Handler] = {}
        self.topics: dict[str, str] = {}          # event type -> topic it is consumed from
        self.publishes: set[str] = set()          # event types it has published
        self.calls: set[str] = set()              # services it has called synchronously
        self.outages: list[tuple[float, float]] = []
        self.db: Database = world.databases.create(name, db_path, self._traced_write)
        self._current: Event | None = None

    # -- configuration -----------------------------------------------------------
    @property
    def latency_ms(self) -> float:
        """Virtual ms one call or event takes."""
        return self._latency_ms

    @latency_ms.setter
    def latency_ms(self, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise ValueError(f"latency_ms must be a number >= 0, got {value!r}")
        self._latency_ms = float(value)

    def endpoint(self, name: str) -> Callable[[Callable], Callable]:
        """Decorator: register a synchronous endpoint ``name``."""
        def register(fn: Callable) -> Callable:
            self.endpoints[name] = Handler.wrap(fn)
            return fn
        return register

    def handles(self, event_type: str, topic: str | None = None) -> Callable[[Callable], Callable]:
        """Decorator: handle events of ``event_type`` (consumed from ``topic``, default the type)."""
        check_event_type(event_type)
        def register(fn: Callable) -> Callable:
            self.handlers[event_type] = Handler.wrap(fn)
            self.topics[event_type] = topic or event_type
            self.world._subscribe(self, topic or event_type)
            return fn
        return register

    def down(self, start_ms: float, end_ms: float = math.inf) -> None:
        """Be unavailable from ``start_ms`` until ``end_ms`` (virtual time)."""
        if not (0 <= start_ms < end_ms):
            raise ValueError(f"an outage needs 0 <= start < end, got {start_ms} .. {end_ms}")
        self.outages.append((float(start_ms), float(end_ms)))
        self.world._outage_scheduled(self, float(start_ms), float(end_ms))

    def is_up(self, t_ms: float | None = None) -> bool:
        """Is the service available at ``t_ms`` (default: now)?"""
        t = self.world.now if t_ms is None else t_ms
        return not any(a <= t < b for a, b in self.outages)

    def up_again_at(self, t_ms: float) -> float:
        """The first time >= ``t_ms`` at which the service is up (inf if never)."""
        t = t_ms
        moved = True
        while moved:
            moved = False
            for a, b in self.outages:
                if a <= t < b:
                    t, moved = b, True
        return t

    # -- doing work ----------------------------------------------------------------
    def publish(self, event_type: str, data: dict | None = None, *, key: str | None = None,
                topic: str | None = None) -> Event:
        """Publish an event from this service (caused by the event being handled, if any)."""
        self.publishes.add(event_type)
        return self.world.publish(event_type, data, key=key, topic=topic, source=self.name,
                                  causation=self._current)

    def call(self, service: str, endpoint: str, data: Any) -> Any:
        """Call another service's endpoint synchronously (this service waits for it)."""
        self.calls.add(service)
        return self.world.service(service).handle_call(endpoint, data, caller=self.name)

    def handle_call(self, endpoint: str, data: Any, caller: str) -> Any:
        """Run endpoint ``endpoint`` for ``caller``, taking ``latency_ms`` of virtual time."""
        world = self.world
        world.trace.record(world.now, "call", caller, self.name, endpoint)
        if endpoint not in self.endpoints:
            world.trace.record(world.now, "reply", self.name, caller, endpoint, ok=False, detail="no such endpoint")
            raise KeyError(f"{self.name!r} has no endpoint {endpoint!r}; it has {sorted(self.endpoints)}")
        if not self.is_up():
            world.trace.record(world.now, "reply", self.name, caller, endpoint, ok=False, detail="unavailable")
            raise ServiceUnavailable(f"{self.name} is unavailable")
        world.clock.advance(self.latency_ms)
        try:
            result = self._run(self.endpoints[endpoint], data)
        except Exception as exc:
            world.trace.record(world.now, "reply", self.name, caller, endpoint, ok=False,
                               detail=f"{type(exc).__name__}: {exc}")
            raise
        world.trace.record(world.now, "reply", self.name, caller, endpoint)
        return result

    def handle_event(self, event: Event) -> None:
        """Run the handler for ``event`` in one transaction (no handler: nothing to do)."""
        handler = self.handlers.get(event.type)
        if handler is None:
            return
        self._current = event
        try:
            self._run(handler, event)
        finally:
            self._current = None

    def _run(self, handler: Handler, message: Any) -> Any:
        deps = {"db": self.db, "publish": self.publish, "service": self, "now": self.world.now}
        kwargs = {name: deps[name] for name in handler.wants}
        with self.db.transaction():
            return handler.fn(message, **kwargs)

    def _traced_write(self, verb: str, rows: int) -> None:
        self.world.trace.record(self.world.now, "write", self.name, f"{self.name}.db", verb,
                                detail=f"{rows} row{'s' if rows != 1 else ''}")

    # -- inspection ----------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """Up or down now, backlog per topic, rows in its database."""
        return {"service": self.name, "up": self.is_up(),
                "backlog": sum(self.world.bus.backlog(t, self.name) for t in sorted(set(self.topics.values()))),
                "rows": self.db.rows()}

    def __repr__(self) -> str:
        return (f"Service({self.name!r}, latency_ms={self._latency_ms:g}, endpoints={sorted(self.endpoints)}, "
                f"handles={sorted(self.handlers)})")
