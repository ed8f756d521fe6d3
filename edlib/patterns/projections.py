"""Read models fed by events (projections), and how far behind they are (lag).

With **CQRS** (command query responsibility segregation) the side that changes data (the
write side: commands, validation, its own tables) is separate from the side that answers
queries. Each query gets a **read model**: tables shaped for that one query, kept up to
date by a **projection**, a set of event handlers that write nothing but those tables::

    by_customer = Projection("customer_orders", tables={
        "customer_orders": "order_id TEXT PRIMARY KEY, customer_id TEXT, item TEXT, status TEXT"})

    @by_customer.on("OrderPlaced")
    def add(event, db):
        db.execute("INSERT OR REPLACE INTO customer_orders VALUES (?, ?, ?, 'placed')", (...))

    service = by_customer.install(world)      # a service of its own, reading from the earliest event

A projection installed late reads the whole history first (its consumer group starts at
the earliest offset), so a **new read model is built by replaying** the log;
:meth:`Projection.rebuild` empties one and replays it (after a fix). Its service is an
idempotent consumer, so a repeated event is applied once. :func:`lags` measures, from the
trace and the events, how long each event took to reach the read model.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from edlib.core.database import Database
from edlib.core.events import Event, check_event_type

if TYPE_CHECKING:  # pragma: no cover
    from edlib.simulation.service import Service
    from edlib.simulation.world import World

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
CHECKPOINT = "projection_checkpoint"
"""The table where a projection notes how many events it applied and the last one's time."""

ProjectionHandler = Callable[[Event, Database], None]


class Projection:
    """A read model: its tables (name -> column definitions) and one handler per event type."""

    def __init__(self, name: str, tables: Mapping[str, str]) -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"a projection is named like a service, e.g. 'customer_orders', got {name!r}")
        if not tables:
            raise ValueError("a read model needs at least one table")
        for table in tables:
            if not isinstance(table, str) or not _NAME.match(table) or table == CHECKPOINT:
                raise ValueError(f"table name {table!r} is not allowed")
        self.name = name
        self.tables = dict(tables)
        self.handlers: dict[str, ProjectionHandler] = {}
        self.topics: dict[str, str] = {}

    def on(self, event_type: str, topic: str | None = None) -> Callable[[ProjectionHandler], ProjectionHandler]:
        """Decorator: ``fn(event, db)`` updates the read model's tables for one event type.

        ``topic``: where that type is consumed from (default: the type's own topic). Events of
        one entity that must be applied in order belong on one topic (notebook 07).
        """
        check_event_type(event_type)

        def register(fn: ProjectionHandler) -> ProjectionHandler:
            if not callable(fn):
                raise TypeError(f"a projection handler is a function (event, db), got {type(fn).__name__}")
            self.handlers[event_type] = fn
            self.topics[event_type] = topic or event_type
            return fn
        return register

    # -- in a world ------------------------------------------------------------------------
    def install(self, world: "World", latency_ms: float = 2.0) -> "Service":
        """Add the service ``name`` (publishing nothing) that keeps this read model; it starts at the
        earliest event of each topic, so it first catches up on the history.

        If the read model's service exists already, its handlers are replaced by these (a new
        version deployed): call :meth:`rebuild` to recompute what the old version wrote.
        """
        if not self.handlers:
            raise ValueError(f"projection {self.name!r} handles no event type: add one with @projection.on(...)")
        if self.name in world.services:
            service = world.service(self.name)
            if service.allowed_events != frozenset() or not service.idempotent:
                raise ValueError(f"{self.name!r} is a service, not a read model installed by a Projection")
        else:
            service = world.add_service(self.name, latency_ms=latency_ms, publishes=[])
            service.idempotent = True
        self.create(service.db)
        for event_type, fn in self.handlers.items():
            service.handles(event_type, topic=self.topics[event_type])(_applier(fn))
        return service

    def create(self, db: Database) -> None:
        """Create the read model's tables (and its checkpoint) if they do not exist."""
        for table, columns in self.tables.items():
            db.execute(f'CREATE TABLE IF NOT EXISTS "{table}" ({columns})')
        db.execute(f"CREATE TABLE IF NOT EXISTS {CHECKPOINT} (id INTEGER PRIMARY KEY CHECK (id = 1), "
                   "events INTEGER NOT NULL, last_event_ms REAL NOT NULL)")

    def reset(self, db: Database) -> None:
        """Empty the read model: drop its tables, its checkpoint and its record of processed events."""
        with db.transaction():
            for table in [*self.tables, CHECKPOINT, "processed_events"]:
                db.execute(f'DROP TABLE IF EXISTS "{table}"')
            self.create(db)

    def rebuild(self, world: "World") -> None:
        """Empty the read model and replay every topic it reads from the start (run the world to let it)."""
        service = world.service(self.name)
        self.reset(service.db)
        for topic in sorted(set(service.topics.values())):
            world.replay(self.name, topic, 0)

    @staticmethod
    def checkpoint(db: Database) -> dict[str, float]:
        """How many events the read model applied, and the time of the last one (0 if none)."""
        rows = db.query(f"SELECT events, last_event_ms FROM {CHECKPOINT} WHERE id = 1") \
            if CHECKPOINT in db.tables() else []
        return rows[0] if rows else {"events": 0, "last_event_ms": 0.0}

    def __repr__(self) -> str:
        return f"Projection({self.name!r}, tables={sorted(self.tables)}, on={sorted(self.handlers)})"


def _applier(fn: ProjectionHandler) -> Callable[..., None]:
    def apply(event: Event, db: Database) -> None:
        fn(event, db)
        db.execute(f"INSERT INTO {CHECKPOINT} (id, events, last_event_ms) VALUES (1, 1, ?) ON CONFLICT (id) "
                   "DO UPDATE SET events = events + 1, last_event_ms = excluded.last_event_ms", (event.time,))

    apply.__name__ = apply.__qualname__ = getattr(fn, "__name__", "apply")
    return apply


@dataclass(frozen=True)
class Lag:
    """One event reaching one read model: when it was created (the write), published, and applied."""

    event_id: str
    event_type: str
    written_ms: float
    published_ms: float
    applied_ms: float

    @property
    def lag_ms(self) -> float:
        """From the write that created the event to the read model's commit."""
        return self.applied_ms - self.written_ms


def lags(world: "World", service: str) -> list[Lag]:
    """Every event ``service`` applied, with its lag, in the order applied (from the trace and the bus).

    An event applied twice (a replay) appears twice; a skipped duplicate does not.
    """
    events = {e.id: e for topic in world.bus.topics() for e in world.bus.log(topic)}
    published: dict[str, float] = {}
    for r in world.trace.where("publish"):
        published.setdefault(r.ref, r.time)
    out = []
    for r in world.trace.where("ack", source=service):
        event = events.get(r.ref)
        if event is None or r.detail.startswith("duplicate"):
            continue
        out.append(Lag(event.id, event.type, event.time, published.get(event.id, event.time), r.time))
    return out
