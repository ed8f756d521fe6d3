"""A service outside a World: the same handler functions, consuming any bus, in real time.

Inside a :class:`~edlib.simulation.world.World` a service's handlers are run by the world's consumer
on a virtual clock. A :class:`ServiceHost` runs the *same* plain functions (registered with
the same ``handles``/``endpoint`` decorators, asking for the same ``db``, ``publish``,
``outbox``, ``service``, ``now``) against any bus with the interface of
:class:`~edlib.messaging.protocol.EventBus`: the in-memory one or :class:`~edlib.messaging.redis_streams.RedisBus`::

    host = ServiceHost("orders", RedisBus(url, consumer="orders-1"), "orders.db")
    shop.orders(host)                  # registers record_order, exactly as event_shop() does
    host.run(stop)                     # deliver -> handle in one transaction -> ack, until stop is set

What it does around each handler is what the world's consumer does: ack only after the
handler's transaction committed; with ``idempotent`` (the default here: a real broker
delivers at least once) the event id is recorded in the same transaction and a repeat
is skipped; a handler that raises is given back (nack) and delivered again, and after
``retry.max_attempts`` deliveries (or at once for an event that breaks the handler's
schema) it becomes a dead letter with the reason and delivery count.

The host records what it does (deliver, write, ack, fail, dead letter, publish) in a
``trace`` table of its own database, with wall-clock times, so the live view can replay
a run of several processes (:mod:`edlib.runtime.cluster`).
"""
from __future__ import annotations

import contextlib
import random
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from edlib.core.clock import EpochClock
from edlib.core.database import Database
from edlib.core.events import Event, EventFactory, check_event_type
from edlib.core.handlers import Handler, InvalidEvent
from edlib.core.ids import RandomUuids
from edlib.core.retry import RetryPolicy
from edlib.messaging.protocol import Delivery, EventBus
from edlib.runtime.rights import Rights
from edlib.runtime.runner import DUPLICATE, HandlerRunner

try:
    import fcntl
except ImportError:  # pragma: no cover (Windows: instances of one service cannot share a file there)
    fcntl = None  # type: ignore[assignment]

TRACE_TABLE = "trace"
"""The table each process writes its part of the trace to."""


class Stopper(Protocol):
    """What :meth:`ServiceHost.run` checks to know when to stop (``threading.Event`` is one)."""

    def is_set(self) -> bool: ...
    def wait(self, timeout: float | None = None) -> bool: ...


class ServiceHost:
    """Runs one service's handlers against ``bus``, with its own SQLite database at ``db_path``.

    ``consumer``: this instance's name (recorded in the trace); ``batch``: events asked
    for per delivery; ``retry``: how long to wait before a failed event comes again (on a
    bus that can hold it back, as RedisBus can; the in-memory bus hands it out again at
    once) and when to give up on it; ``idempotent``: skip events already processed;
    ``slow_ms``: make each event take at least this long, waiting after its work is
    committed and before the ack (the window where a crash makes a duplicate; for
    experiments); ``trace``: record what happens in the database's ``trace`` table;
    ``publishes`` (least privilege): the only event types it may publish (None: any).
    Instances of one service may share one database file: a file lock serialises their
    transactions. Its handlers run through the same
    :class:`~edlib.runtime.runner.HandlerRunner` as a simulated service's.
    """

    def __init__(self, name: str, bus: EventBus, db_path: str = ":memory:", *, consumer: str | None = None,
                 batch: int = 10, retry: RetryPolicy | None = None, idempotent: bool = True,
                 slow_ms: float = 0.0, events: EventFactory | None = None, trace: bool = True,
                 publishes: Iterable[str] | None = None) -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"a service name is a word such as 'orders', got {name!r}")
        if not isinstance(batch, int) or batch < 1:
            raise ValueError(f"batch must be a positive int, got {batch!r}")
        self.name = name
        self.bus = bus
        self.consumer = consumer or name
        self.batch = batch
        self.retry = retry or RetryPolicy(max_attempts=bus.capabilities.max_deliveries or 5)
        self.idempotent = idempotent
        self.slow_ms = slow_ms
        self.events = events or EventFactory(RandomUuids(), EpochClock())
        self.tracing = trace
        self.handlers: dict[str, Handler] = {}
        self.endpoints: dict[str, Handler] = {}
        self.topics: dict[str, str] = {}          # event type -> topic it is consumed from
        self.handled = 0
        self.db = Database(name, db_path, self._wrote)
        self._lock_file = open(f"{db_path}.lock", "a") if db_path != ":memory:" and fcntl is not None else None  # noqa: SIM115 (held open for the host's life: closed in close() or by the finalizer)
        self._mutex = threading.RLock()
        self._depth = 0
        self._rng = random.Random(f"{name}/{self.consumer}")      # for the retry policy's jitter
        self._subscribed: set[str] = set()
        self._writes: Counter[str] | None = None
        self.runner = HandlerRunner(name, self.db, events=self.events, send=self.send,
                                    rights=Rights(name, None if publishes is None else
                                                  [check_event_type(t) for t in publishes]),
                                    service=self, exclusive=self._exclusive)
        self._tracing_now = False
        if self._lock_file is not None:
            weakref.finalize(self, self._lock_file.close)
        with self._exclusive():
            if db_path != ":memory:":
                self.db.query("PRAGMA journal_mode=WAL")      # readers never wait for the writer
                self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute(f"CREATE TABLE IF NOT EXISTS {TRACE_TABLE} (seq INTEGER PRIMARY KEY, t REAL NOT NULL, "
                            "kind TEXT, source TEXT, target TEXT, label TEXT, ref TEXT, ok INTEGER, detail TEXT)")

    # -- registering: the same decorators as Service ---------------------------------
    def handles(self, event_type: str, topic: str | None = None,
                schema: dict | None = None) -> Callable[[Callable], Callable]:
        """Decorator: handle events of ``event_type`` (from ``topic``, default the type)."""
        check_event_type(event_type)

        def register(fn: Callable) -> Callable:
            self.handlers[event_type] = Handler.wrap(fn, schema)
            self.topics[event_type] = topic or event_type
            return fn
        return register

    def endpoint(self, name: str, schema: dict | None = None) -> Callable[[Callable], Callable]:
        """Decorator: register a synchronous endpoint ``name`` (see :meth:`call`)."""
        def register(fn: Callable) -> Callable:
            self.endpoints[name] = Handler.wrap(fn, schema)
            return fn
        return register

    # -- what handlers may ask for -----------------------------------------------------
    def now(self) -> float:
        """Wall-clock ms (what ``now`` is in a handler here)."""
        return self.runner.now()

    @property
    def publishes(self) -> set[str]:
        """Event types it has published or written to its outbox."""
        return self.runner.publishes

    def publish(self, event_type: str, data: dict | None = None, *, key: str | None = None,
                topic: str | None = None) -> None:
        """Publish an event from this service: after the handler's transaction commits, or at once outside one."""
        self.runner.publish(event_type, data, key=key, topic=topic)

    def outbox(self, event_type: str, data: dict | None = None, *, key: str | None = None,
               topic: str | None = None) -> Event:
        """Write an event to this service's outbox table in the handler's transaction; it is sent after commit."""
        return self.runner.outbox(event_type, data, key=key, topic=topic)

    # -- doing work -------------------------------------------------------------------
    def transaction(self) -> contextlib.AbstractContextManager[Database]:
        """A transaction on this service's database, holding its file lock: all or nothing."""
        return self.runner.transaction()

    def call(self, endpoint: str, data: Any) -> Any:
        """Run endpoint ``endpoint`` with ``data`` in one transaction; return its answer."""
        if endpoint not in self.endpoints:
            raise KeyError(f"{self.name!r} has no endpoint {endpoint!r}; it has {sorted(self.endpoints)}")
        return self.runner.run(self.endpoints[endpoint], data)

    def handle_event(self, event: Event) -> bool:
        """Run the handler for ``event`` in one transaction; False if it was skipped as a duplicate.

        Then record the writes it committed, and send what its outbox holds.
        """
        handler = self.handlers.get(event.type)
        if handler is None:
            return True
        self._writes = Counter()
        try:
            fresh = self.runner.run(handler, event, idempotent=self.idempotent) is not DUPLICATE
            writes, self._writes = self._writes, None
        finally:
            self._writes = None
        for verb, rows in sorted(writes.items()):
            self.record("write", self.name, f"{self.name}.db", verb, event.id,
                        detail=f"{rows} row{'s' if rows != 1 else ''}")
        self.runner.relay()
        return fresh

    def process(self, d: Delivery) -> None:
        """Handle one delivery and settle it with the bus: ack, nack, or dead letter."""
        event = d.event
        self.record("deliver", "bus", self.name, event.type, event.id,
                    detail=self.consumer + (f", attempt {d.attempt}" if d.attempt > 1 else ""))
        try:
            fresh = self.handle_event(event)
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            self.record("fail", self.name, "bus", event.type, event.id, ok=False, detail=reason)
            if isinstance(exc, InvalidEvent) or self.retry.gives_up(d.attempt):
                self._dead_letter(d, reason)
            else:
                self.record("retry", "bus", self.name, event.type, event.id, detail=f"attempt {d.attempt + 1}")
                self._nack(d, reason)
            return
        if self.slow_ms:                 # committed, not yet acked: a crash now means a redelivery
            time.sleep(self.slow_ms / 1000)
        try:
            self.bus.ack(d)
        except ValueError as exc:   # no longer pending: another consumer took it over and acked it
            self.record("fail", self.name, "bus", event.type, event.id, ok=False, detail=f"ack refused: {exc}")
            return
        self.handled += 1
        self.record("ack", self.name, "bus", event.type, event.id,
                    detail=self.consumer if fresh else f"{self.consumer}, duplicate: skipped")

    def poll(self, stop: Stopper | None = None) -> int:
        """One round: ask for a batch on each topic and process it; return how many events came.

        A batch already taken is finished even if ``stop`` is set meanwhile (a graceful stop
        leaves nothing half done in this consumer's hands).
        """
        got = 0
        for topic in sorted(set(self.topics.values())):
            if topic not in self._subscribed:
                self.bus.subscribe(topic, self.name, start="earliest")
                self._subscribed.add(topic)
            if stop is not None and stop.is_set():
                break
            deliveries = self.bus.deliver(topic, self.name, self.batch)
            got += len(deliveries)
            for d in deliveries:
                self.process(d)
        return got

    def subscribe_all(self) -> None:
        """Create this service's consumer group on each of its topics now (idempotent)."""
        for topic in sorted(set(self.topics.values())):
            self.bus.subscribe(topic, self.name, start="earliest")
            self._subscribed.add(topic)

    def run(self, stop: Stopper, idle_s: float = 0.02) -> None:
        """Poll until ``stop`` is set; sleep ``idle_s`` when there was nothing (a blocking bus waits itself)."""
        blocking = self.bus.capabilities.blocking
        while not stop.is_set():
            if not self.poll(stop) and not blocking:
                stop.wait(idle_s)

    # -- the trace ----------------------------------------------------------------------
    def record(self, kind: str, source: str, target: str, label: str = "", ref: str = "", ok: bool = True,
               detail: str = "") -> None:
        """Append one record (wall-clock ms) to this service's ``trace`` table."""
        if not self.tracing:
            return
        self._tracing_now = True
        try:
            with self._exclusive():
                self.db.execute(f"INSERT INTO {TRACE_TABLE} (t, kind, source, target, label, ref, ok, detail) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                (time.time() * 1000.0, kind, source, target, label, ref, int(ok), detail))
        finally:
            self._tracing_now = False

    # -- internals -------------------------------------------------------------------------
    def send(self, event: Event, topic: str | None = None) -> None:
        """Publish an event made elsewhere (recorded in the trace) to ``topic`` (default: its type)."""
        self.record("publish", event.source or self.name, "bus", event.type, event.id)
        self.bus.publish(topic or event.type, event)

    def _wrote(self, verb: str, rows: int) -> None:
        if self._writes is not None and not self._tracing_now:
            self._writes[verb] += rows

    def _nack(self, d: Delivery, reason: str) -> None:
        """Give ``d`` back, held back for the retry policy's backoff where the bus can (see its capabilities)."""
        self.bus.nack(d, reason=reason, delay_ms=self.retry.delay_ms(d.attempt, self._rng))

    def _dead_letter(self, d: Delivery, reason: str) -> None:
        self.bus.dead_letter(d, reason)
        self.record("dead_letter", "bus", "dead letters", d.event.type, d.event.id, ok=False,
                    detail=f"{self.name}, after {d.attempt} deliveries: {reason}")

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Hold this database's file lock (instances of one service share the file); re-entrant."""
        if self._lock_file is None:
            yield
            return
        with self._mutex:
            if self._depth == 0:
                fcntl.flock(self._lock_file, fcntl.LOCK_EX)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    def close(self) -> None:
        """Close the database and the lock file."""
        self.db.close()
        if self._lock_file is not None:
            self._lock_file.close()

    def __repr__(self) -> str:
        return f"ServiceHost({self.name!r}, consumer={self.consumer!r}, handles={sorted(self.handlers)})"
