"""Services: a name, handlers, and a database of their own.

A service answers synchronous calls at its *endpoints* and reacts to events with its
*handlers*. Both are plain functions; their parameters say what they need::

    @orders.endpoint("create")
    def create_order(data, db):           # data: the request body; db: orders' own database
        ...

    @shipping.handles("OrderPlaced")
    def ship(event, db, publish):         # publish: emit a new event caused by this one
        ...

Names a function may ask for: ``db``, ``publish``, ``outbox``, ``service``, ``now``
(virtual ms). The first parameter always receives the request data or the event.

``publish`` sends its events *after* the handler's transaction commits (and not at all
if it fails); ``outbox`` writes them into the service's own database in the same
transaction, and a relay publishes them afterwards (notebook 08).
"""
from __future__ import annotations

import bisect
import inspect
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from edlib.core.database import Database
from edlib.core.events import Event, check_event_type
from edlib.simulation.faults import Crash
from edlib.core.payloads import validate_payload
from edlib.core.retry import RetryPolicy
from edlib.core.schemas import check, validator

if TYPE_CHECKING:  # pragma: no cover
    from edlib.simulation.world import World

INJECTABLE = ("db", "publish", "outbox", "service", "now")
ACK_MODES = ("after", "before")


class ServiceUnavailable(RuntimeError):
    """The service is down: a synchronous call to it fails at once."""


class InvalidEvent(ValueError):
    """An event that breaks its handler's schema: retrying cannot help, so it is dead-lettered at once."""


class NotFound(LookupError):
    """Raise from an endpoint when the thing asked for does not exist (the gateway answers 404)."""


@dataclass(frozen=True)
class Handler:
    """A registered function and the dependencies it asked for."""

    fn: Callable[..., Any]
    wants: tuple[str, ...]
    schema: Any = None

    @classmethod
    def wrap(cls, fn: Callable[..., Any], schema: Any = None) -> "Handler":
        if not callable(fn):
            raise TypeError(f"a handler must be a function, got {type(fn).__name__}")
        params = list(inspect.signature(fn).parameters.values())
        if not params:
            raise TypeError(f"{fn.__name__}() must take at least one parameter (the data or event)")
        wanted = [p.name for p in params[1:] if p.name in INJECTABLE]
        unknown = [p.name for p in params[1:] if p.name not in INJECTABLE and p.default is inspect.Parameter.empty]
        if unknown:
            raise TypeError(f"{fn.__name__}() asks for {unknown}; a handler may ask for {list(INJECTABLE)}")
        if schema is not None:
            validator(schema)                         # a broken schema fails here, where it is written
        return cls(fn, tuple(wanted), schema)


class Service:
    """One microservice inside a :class:`~edlib.simulation.world.World`.

    ``latency_ms`` is how long it takes to handle one call or event; ``down(t1, t2)``
    makes it unavailable between two virtual times. How it consumes events:
    ``ack_mode`` (``"after"`` processing, the default, or ``"before"``), ``idempotent``
    (record processed event ids in its own database, in the handler's transaction, and
    skip repeats) and ``retry`` (a :class:`~edlib.core.retry.RetryPolicy`; None: the world's).
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
        self._down_index: tuple[list[float], list[float]] | None = None
        self.ack_mode = "after"
        self.idempotent = False
        self.retry: RetryPolicy | None = None
        self.relay_delay_ms = 10.0
        self.messages = 0                         # calls and events handled (counted from 1)
        self.allowed_events: frozenset[str] | None = None     # least privilege: what it may publish
        self.crash_plan: dict[int, tuple[str, float]] = {}
        self.relay_crash_plan: dict[int, float] = {}
        self.db: Database = world.databases.create(name, db_path, self._traced_write)
        self._current: Event | None = None
        self._pending: list[tuple[str, Any, str | None, str | None]] | None = None
        self._relay_scheduled = False

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

    @property
    def ack_mode(self) -> str:
        """``"after"``: ack once the handler committed (at-least-once); ``"before"``: ack on delivery (at-most-once)."""
        return self._ack_mode

    @ack_mode.setter
    def ack_mode(self, value: str) -> None:
        if value not in ACK_MODES:
            raise ValueError(f"ack_mode must be one of {ACK_MODES}, got {value!r}")
        self._ack_mode = value

    @property
    def retry_policy(self) -> RetryPolicy:
        """The retry policy in force: the service's own, or the world's."""
        return self.retry if self.retry is not None else self.world.retry

    def endpoint(self, name: str, schema: dict | None = None) -> Callable[[Callable], Callable]:
        """Decorator: register a synchronous endpoint ``name`` (its input checked against ``schema``)."""
        def register(fn: Callable) -> Callable:
            self.endpoints[name] = Handler.wrap(fn, schema)
            return fn
        return register

    def handles(self, event_type: str, topic: str | None = None,
                schema: dict | None = None) -> Callable[[Callable], Callable]:
        """Decorator: handle events of ``event_type`` (consumed from ``topic``, default the type).

        With ``schema``, an event whose data breaks it is not handled: it goes straight to
        the dead letters (retrying a malformed event cannot help).
        """
        check_event_type(event_type)
        def register(fn: Callable) -> Callable:
            self.handlers[event_type] = Handler.wrap(fn, schema)
            self.topics[event_type] = topic or event_type
            self.world._subscribe(self, topic or event_type)
            return fn
        return register

    def down(self, start_ms: float, end_ms: float = math.inf) -> None:
        """Be unavailable from ``start_ms`` until ``end_ms`` (virtual time)."""
        if not (0 <= start_ms < end_ms):
            raise ValueError(f"an outage needs 0 <= start < end, got {start_ms} .. {end_ms}")
        self.outages.append((float(start_ms), float(end_ms)))
        self._down_index = None
        self.world._outage_scheduled(self, float(start_ms), float(end_ms))

    def is_up(self, t_ms: float | None = None) -> bool:
        """Is the service available at ``t_ms`` (default: now)?"""
        t = self.world.now if t_ms is None else t_ms
        if not self.outages:
            return True
        if self._down_index is None:       # outages sorted by start, with the latest end so far
            ordered = sorted(self.outages)
            ends = list(itertools.accumulate((b for _, b in ordered), max))
            self._down_index = ([a for a, _ in ordered], ends)
        starts, ends = self._down_index
        i = bisect.bisect_right(starts, t) - 1
        return i < 0 or ends[i] <= t

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
                topic: str | None = None) -> None:
        """Publish an event from this service.

        Inside a handler the event leaves after the handler's transaction commits (and is
        dropped if the handler fails); outside a handler it leaves at once.
        """
        self.may_publish(event_type)
        self.publishes.add(event_type)
        if self._pending is not None:
            check_event_type(event_type)              # validate now, where the mistake is
            validate_payload({} if data is None else data, f"{event_type} data", allow_empty=True)
            self._pending.append((event_type, data, key, topic))
            return
        self.world.publish(event_type, data, key=key, topic=topic, source=self.name, causation=self._current)

    def outbox(self, event_type: str, data: dict | None = None, *, key: str | None = None,
               topic: str | None = None) -> Event:
        """Write an event to this service's outbox table, in the current transaction.

        The relay publishes it after the transaction commits: the change and the event
        are saved together or not at all.
        """
        self.may_publish(event_type)
        self.publishes.add(event_type)
        event = self.world.events(event_type, data, key=key, source=self.name, causation=self._current)
        self.db.execute('CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, topic TEXT NOT NULL, '
                        'event TEXT NOT NULL, sent INTEGER NOT NULL DEFAULT 0)')
        self.db.execute("INSERT INTO outbox (topic, event) VALUES (?, ?)", (topic or event_type, event.to_json()))
        self._schedule_relay()
        return event

    def may_publish(self, event_type: str) -> None:
        """Raise PermissionError unless this service may publish ``event_type`` (least privilege)."""
        owner = self.world.event_owners.get(event_type)
        if self.allowed_events is not None and event_type not in self.allowed_events:
            raise PermissionError(f"{self.name!r} may not publish {event_type!r}: it may publish only "
                                  f"{sorted(self.allowed_events)}")
        if owner is not None and owner != self.name:
            raise PermissionError(f"{self.name!r} may not publish {event_type!r}: only {owner!r} publishes it")

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
        except Crash as crash:
            self.crashed(crash)
            world.trace.record(world.now, "reply", self.name, caller, endpoint, ok=False, detail=str(crash))
            raise ServiceUnavailable(f"{self.name} is unavailable") from None
        except Exception as exc:
            world.trace.record(world.now, "reply", self.name, caller, endpoint, ok=False,
                               detail=f"{type(exc).__name__}: {exc}")
            raise
        world.trace.record(world.now, "reply", self.name, caller, endpoint)
        return result

    def handle_event(self, event: Event) -> bool:
        """Run the handler for ``event`` in one transaction; False if it was skipped as a duplicate.

        With no handler for its type there is nothing to do (True). May raise
        :class:`~edlib.simulation.faults.Crash` when a crash was injected here.
        """
        handler = self.handlers.get(event.type)
        if handler is None:
            return True
        self._current = event
        try:
            return self._run(handler, event, event_id=event.id if self.idempotent else None) is not _DUPLICATE
        finally:
            self._current = None

    def _run(self, handler: Handler, message: Any, event_id: str | None = None) -> Any:
        if handler.schema is not None:
            if isinstance(message, Event):
                try:
                    check(message.data, handler.schema, f"{message.type} data")
                except ValueError as exc:
                    raise InvalidEvent(str(exc)) from None
            else:
                check(message, handler.schema, "request body")
        self.messages += 1
        point, restart_ms = self.crash_plan.pop(self.messages, (None, 0.0))
        deps = {"db": self.db, "publish": self.publish, "outbox": self.outbox, "service": self,
                "now": self.world.now}
        kwargs = {name: deps[name] for name in handler.wants}
        self._pending = []
        try:
            with self.db.transaction():
                if point == "during":
                    raise Crash(self.name, point, restart_ms)
                if event_id is not None and self._seen(event_id):
                    result = _DUPLICATE
                else:
                    result = handler.fn(message, **kwargs)
            if point == "after_commit":
                raise Crash(self.name, point, restart_ms)
            pending, self._pending = self._pending, None
            for event_type, data, key, topic in pending:
                self.world.publish(event_type, data, key=key, topic=topic, source=self.name,
                                   causation=self._current)
            return result
        finally:
            self._pending = None

    def _seen(self, event_id: str) -> bool:
        """Record ``event_id`` as processed (in the running transaction); True if it already was."""
        self.db.execute("CREATE TABLE IF NOT EXISTS processed_events (id TEXT PRIMARY KEY)")
        if self.db.query("SELECT 1 FROM processed_events WHERE id = ?", (event_id,)):
            return True
        self.db.execute("INSERT INTO processed_events (id) VALUES (?)", (event_id,))
        return False

    def crashed(self, crash: Crash) -> None:
        """The process died: down for ``crash.restart_ms``; unacked work comes back after restart."""
        now = self.world.now
        self.world.fault_counts["crashes"] += 1
        self.world.trace.record(now, "fail", self.name, self.name, "crash", ok=False, detail=str(crash))
        self.down(now, now + crash.restart_ms)
        self._schedule_relay(at=now + crash.restart_ms)

    # -- the outbox relay ----------------------------------------------------------
    def _schedule_relay(self, at: float | None = None) -> None:
        if self._relay_scheduled:
            return
        self._relay_scheduled = True
        when = (self.world.now if at is None else at) + self.relay_delay_ms
        self.world.scheduler.at(when, self._relay)

    def _relay(self) -> None:
        """Publish unsent outbox rows in order, marking each sent after its publish."""
        self._relay_scheduled = False
        if "outbox" not in self.db.tables():
            return
        if not self.is_up():
            self._schedule_relay(at=self.up_again_at(self.world.now))
            return
        for row in self.db.query("SELECT seq, topic, event FROM outbox WHERE sent = 0 ORDER BY seq"):
            self.world.publish_event(Event.from_json(row["event"]), topic=row["topic"])
            restart_ms = self.relay_crash_plan.pop(row["seq"], None)
            if restart_ms is not None:                 # crash between publish and "mark sent"
                self.crashed(Crash(self.name, "after_publish", restart_ms))
                return
            self.db.execute("UPDATE outbox SET sent = 1 WHERE seq = ?", (row["seq"],))

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


_DUPLICATE = object()
