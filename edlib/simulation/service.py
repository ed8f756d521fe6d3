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

import math
from collections import Counter
from collections.abc import Callable
from typing import Any

from edlib.core.database import Database
from edlib.core.events import Event, check_event_type
from edlib.core.handlers import Handler
from edlib.core.outages import Outages
from edlib.core.retry import RetryPolicy
from edlib.runtime.rights import Rights
from edlib.runtime.runner import DUPLICATE, HandlerRunner
from edlib.simulation.crashes import Crash
from edlib.simulation.env import Env

__all__ = ["ACK_MODES", "Service", "ServiceUnavailable"]

ACK_MODES = ("after", "before")


class ServiceUnavailable(RuntimeError):
    """The service is down: a synchronous call to it fails at once."""


class Service:
    """One microservice inside a :class:`~edlib.simulation.world.World` (made by ``world.add_service``).

    ``latency_ms`` is how long it takes to handle one call or event; ``down(t1, t2)``
    makes it unavailable between two virtual times. How it consumes events:
    ``ack_mode`` (``"after"`` processing, the default, or ``"before"``), ``idempotent``
    (record processed event ids in its own database, in the handler's transaction, and
    skip repeats) and ``retry`` (a :class:`~edlib.core.retry.RetryPolicy`; None: the world's).
    Its handlers run through the same :class:`~edlib.runtime.runner.HandlerRunner` as a
    real process's; ``env`` (:class:`~edlib.simulation.env.Env`) is all it knows of its world.
    """

    def __init__(self, env: Env, name: str, latency_ms: float = 1.0, db_path: str = ":memory:", *,
                 publishes: frozenset[str] | None = None) -> None:
        self.env = env
        self.name = name
        self.latency_ms = latency_ms
        self.endpoints: dict[str, Handler] = {}
        self.handlers: dict[str, Handler] = {}
        self.topics: dict[str, str] = {}          # event type -> topic it is consumed from
        self.calls: set[str] = set()              # services it has called synchronously
        self.outages = Outages()
        self.ack_mode = "after"
        self.idempotent = False
        self.retry: RetryPolicy | None = None
        self.relay_delay_ms = 10.0
        self.messages = 0                         # calls and events handled (counted from 1)
        self.crash_plan: dict[int, tuple[str, float]] = {}
        self.relay_crash_plan: dict[int, float] = {}
        self.db: Database = env.databases.create(name, db_path, self._traced_write)
        self.runner = HandlerRunner(name, self.db, events=env.events, send=env.send,
                                    rights=Rights(name, publishes, env.owners), service=self,
                                    on_outbox=self._schedule_relay, checkpoint=self._checkpoint)
        self._crash: tuple[str, float] | None = None
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
        return self.retry if self.retry is not None else self.env.default_retry()

    @property
    def allowed_events(self) -> frozenset[str] | None:
        """Least privilege: the only event types it may publish (None: any type no other service owns)."""
        return self.runner.rights.allowed

    @property
    def publishes(self) -> set[str]:
        """Event types it has published or written to its outbox."""
        return self.runner.publishes

    @property
    def now(self) -> float:
        """The virtual time in ms."""
        return self.env.clock.now()

    def ids(self, prefix: str) -> str:
        """A new id from the world's id factory, such as ``order-1``."""
        return self.env.ids(prefix)

    @property
    def fault_counts(self) -> Counter[str]:
        """The world's count of injected faults (crashes, restarts...)."""
        return self.env.faults.counts

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
            self.env.subscribe(self, topic or event_type)
            return fn
        return register

    def down(self, start_ms: float, end_ms: float = math.inf) -> None:
        """Be unavailable from ``start_ms`` until ``end_ms`` (virtual time)."""
        start, end = self.outages.add(start_ms, end_ms)
        self.env.outage_scheduled(self.name, start, end)

    def is_up(self, t_ms: float | None = None) -> bool:
        """Is the service available at ``t_ms`` (default: now)?"""
        return self.outages.is_up(self.now if t_ms is None else t_ms)

    def up_again_at(self, t_ms: float) -> float:
        """The first time >= ``t_ms`` at which the service is up (inf if never)."""
        return self.outages.up_again_at(t_ms)

    # -- doing work ----------------------------------------------------------------
    def publish(self, event_type: str, data: dict | None = None, *, key: str | None = None,
                topic: str | None = None) -> None:
        """Publish an event from this service.

        Inside a handler the event leaves after the handler's transaction commits (and is
        dropped if the handler fails); outside a handler it leaves at once.
        """
        self.runner.publish(event_type, data, key=key, topic=topic)

    def outbox(self, event_type: str, data: dict | None = None, *, key: str | None = None,
               topic: str | None = None) -> Event:
        """Write an event to this service's outbox table, in the current transaction.

        The relay publishes it after the transaction commits: the change and the event
        are saved together or not at all.
        """
        return self.runner.outbox(event_type, data, key=key, topic=topic)

    def may_publish(self, event_type: str) -> None:
        """Raise PermissionError unless this service may publish ``event_type`` (least privilege)."""
        self.runner.rights.check(event_type)

    def call(self, service: str, endpoint: str, data: Any) -> Any:
        """Call another service's endpoint synchronously (this service waits for it)."""
        self.calls.add(service)
        return self.env.peer(service).handle_call(endpoint, data, caller=self.name)

    def handle_call(self, endpoint: str, data: Any, caller: str) -> Any:
        """Run endpoint ``endpoint`` for ``caller``, taking ``latency_ms`` of virtual time."""
        trace, clock = self.env.trace, self.env.clock
        trace.record(self.now, "call", caller, self.name, endpoint)
        if endpoint not in self.endpoints:
            trace.record(self.now, "reply", self.name, caller, endpoint, ok=False, detail="no such endpoint")
            raise KeyError(f"{self.name!r} has no endpoint {endpoint!r}; it has {sorted(self.endpoints)}")
        if not self.is_up():
            trace.record(self.now, "reply", self.name, caller, endpoint, ok=False, detail="unavailable")
            raise ServiceUnavailable(f"{self.name} is unavailable")
        clock.advance(self.latency_ms)
        try:
            result = self.runner.run(self.endpoints[endpoint], data)
        except Crash as crash:
            self.crashed(crash)
            trace.record(self.now, "reply", self.name, caller, endpoint, ok=False, detail=str(crash))
            raise ServiceUnavailable(f"{self.name} is unavailable") from None
        except Exception as exc:
            trace.record(self.now, "reply", self.name, caller, endpoint, ok=False,
                         detail=f"{type(exc).__name__}: {exc}")
            raise
        trace.record(self.now, "reply", self.name, caller, endpoint)
        return result

    def handle_event(self, event: Event) -> bool:
        """Run the handler for ``event`` in one transaction; False if it was skipped as a duplicate.

        With no handler for its type there is nothing to do (True). May raise
        :class:`~edlib.simulation.faults.Crash` when a crash was injected here.
        """
        handler = self.handlers.get(event.type)
        if handler is None:
            return True
        return self.runner.run(handler, event, idempotent=self.idempotent) is not DUPLICATE

    def _checkpoint(self, point: str) -> None:
        """Where the runner lets a planned crash happen (see :func:`edlib.simulation.faults.crash`)."""
        if point == "accepted":
            self.messages += 1
            self._crash = self.crash_plan.pop(self.messages, None)
        elif self._crash is not None and self._crash[0] == point:
            _, restart_ms = self._crash
            self._crash = None
            raise Crash(self.name, point, restart_ms)

    def crashed(self, crash: Crash) -> None:
        """The process died: down for ``crash.restart_ms``; unacked work comes back after restart."""
        now = self.now
        self.env.faults.counts["crashes"] += 1
        self.env.trace.record(now, "fail", self.name, self.name, "crash", ok=False, detail=str(crash))
        self.down(now, now + crash.restart_ms)
        self._schedule_relay(at=now + crash.restart_ms)

    # -- the outbox relay ----------------------------------------------------------
    def _schedule_relay(self, at: float | None = None) -> None:
        if self._relay_scheduled:
            return
        self._relay_scheduled = True
        when = (self.now if at is None else at) + self.relay_delay_ms
        self.env.scheduler.at(when, self._relay)

    def _relay(self) -> None:
        """Publish unsent outbox rows in order (a planned crash may hit between a publish and its mark)."""
        self._relay_scheduled = False
        if "outbox" not in self.db.tables():
            return
        if not self.is_up():
            self._schedule_relay(at=self.up_again_at(self.now))
            return
        try:
            self.runner.relay(after_publish=self._relay_checkpoint)
        except Crash as crash:
            self.crashed(crash)

    def _relay_checkpoint(self, seq: int) -> None:
        restart_ms = self.relay_crash_plan.pop(seq, None)
        if restart_ms is not None:                 # crash between publish and "mark sent"
            raise Crash(self.name, "after_publish", restart_ms)

    def _traced_write(self, verb: str, rows: int) -> None:
        self.env.trace.record(self.now, "write", self.name, f"{self.name}.db", verb,
                              detail=f"{rows} row{'s' if rows != 1 else ''}")

    # -- inspection ----------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """Up or down now, backlog per topic, rows in its database."""
        return {"service": self.name, "up": self.is_up(),
                "backlog": sum(self.env.bus.backlog(t, self.name) for t in sorted(set(self.topics.values()))),
                "rows": self.db.rows()}

    def __repr__(self) -> str:
        return (f"Service({self.name!r}, latency_ms={self._latency_ms:g}, endpoints={sorted(self.endpoints)}, "
                f"handles={sorted(self.handlers)})")
