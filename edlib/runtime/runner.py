"""The one handler runner: what happens around a handler, in the simulated world and in a real process.

Both kinds of service, :class:`~edlib.simulation.service.Service` on a virtual clock and
:class:`~edlib.runtime.host.ServiceHost` on a real bus, run their handlers through a
:class:`HandlerRunner`, so they cannot drift apart. Around each handler it:

1. checks the input against the handler's schema (an event that breaks it raises
   :class:`~edlib.core.handlers.InvalidEvent`: retrying cannot help);
2. injects what the handler asks for by parameter name (``db``, ``publish``,
   ``outbox``, ``service``, ``now``);
3. runs it in one transaction on the service's own database, recording the event id in
   ``processed_events`` in that same transaction when it is an idempotent consumer (a
   repeat is skipped: :data:`DUPLICATE`);
4. writes ``outbox(...)`` events into the ``outbox`` table in that transaction, and
   sends ``publish(...)`` events only *after* the commit (none if the handler fails);
5. refuses any event type the service may not publish (:class:`~edlib.runtime.rights.Rights`).

A *checkpoint* callback lets the simulation inject crashes at named points:
``"accepted"`` (the input passed its schema), ``"during"`` (inside the transaction,
before the handler) and ``"after_commit"`` (saved, nothing sent yet); the relay calls
``after_publish(seq)`` between publishing an outbox row and marking it sent.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from edlib.core.database import Database
from edlib.core.events import Event, EventFactory, check_event_type
from edlib.core.handlers import Handler, InvalidEvent
from edlib.core.payloads import validate_payload
from edlib.core.schemas import check
from edlib.runtime.rights import Rights

DUPLICATE = object()
"""What :meth:`HandlerRunner.run` returns for an event it had processed already (skipped)."""

OUTBOX_TABLE = ('CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, topic TEXT NOT NULL, '
                'event TEXT NOT NULL, sent INTEGER NOT NULL DEFAULT 0)')
PROCESSED_TABLE = "CREATE TABLE IF NOT EXISTS processed_events (id TEXT PRIMARY KEY)"

Send = Callable[[Event, "str | None"], object]
Checkpoint = Callable[[str], None]


class HandlerRunner:
    """Runs service ``name``'s handlers on ``db``; makes events with ``events`` and sends them with ``send``.

    ``send(event, topic)`` puts an event on the bus (topic None: its type); ``rights``
    says what may be published; ``exclusive`` holds whatever makes this service's
    database its own while it writes (a file lock shared by the instances of a process;
    nothing in the simulation); ``service`` is what a handler asking for ``service``
    gets; ``on_outbox`` is called after each outbox write (the simulation schedules its
    relay there); ``checkpoint`` see the module docstring.
    """

    def __init__(self, name: str, db: Database, *, events: EventFactory, send: Send, rights: Rights,
                 service: object = None, exclusive: Callable[[], AbstractContextManager[Any]] | None = None,
                 on_outbox: Callable[[], None] | None = None, checkpoint: Checkpoint | None = None) -> None:
        self.name = name
        self.db = db
        self.events = events
        self.rights = rights
        self.service = service
        self.publishes: set[str] = set()          # event types it has published (or written to its outbox)
        self._send = send
        self._exclusive = exclusive or contextlib.nullcontext
        self._on_outbox = on_outbox
        self._checkpoint = checkpoint
        self._current: Event | None = None
        self._pending: list[tuple[str, Any, str | None, str | None]] | None = None

    # -- what handlers may ask for ------------------------------------------------------
    def now(self) -> float:
        """The service's clock, in ms (virtual in the simulation, wall clock in a process)."""
        return self.events.clock.now()

    def publish(self, event_type: str, data: dict | None = None, *, key: str | None = None,
                topic: str | None = None) -> None:
        """Publish an event: after the running handler's transaction commits (never if it fails), or at once."""
        self.rights.check(event_type)
        self.publishes.add(event_type)
        if self._pending is not None:
            check_event_type(event_type)              # validate now, where the mistake is
            validate_payload({} if data is None else data, f"{event_type} data", allow_empty=True)
            self._pending.append((event_type, data, key, topic))
            return
        self._send(self._make(event_type, data, key), topic)

    def outbox(self, event_type: str, data: dict | None = None, *, key: str | None = None,
               topic: str | None = None) -> Event:
        """Write an event into the ``outbox`` table, in the running transaction; :meth:`relay` sends it later."""
        self.rights.check(event_type)
        self.publishes.add(event_type)
        event = self._make(event_type, data, key)
        self.db.execute(OUTBOX_TABLE)
        self.db.execute("INSERT INTO outbox (topic, event) VALUES (?, ?)", (topic or event_type, event.to_json()))
        if self._on_outbox is not None:
            self._on_outbox()
        return event

    # -- running a handler ---------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[Database]:
        """A transaction on the service's database, held exclusively: all or nothing."""
        with self._exclusive(), self.db.transaction() as db:
            yield db

    def run(self, handler: Handler, message: Any, *, idempotent: bool = False) -> Any:
        """Run ``handler`` on ``message`` (request data or an :class:`Event`) as the module docstring says.

        Returns the handler's result, or :data:`DUPLICATE` when ``idempotent`` and the
        event was processed before.
        """
        event = message if isinstance(message, Event) else None
        if handler.schema is not None:
            if event is not None:
                try:
                    check(event.data, handler.schema, f"{event.type} data")
                except ValueError as exc:
                    raise InvalidEvent(str(exc)) from None
            else:
                check(message, handler.schema, "request body")
        self._point("accepted")
        deps = {"db": self.db, "publish": self.publish, "outbox": self.outbox, "service": self.service,
                "now": self.now()}
        kwargs = {name: deps[name] for name in handler.wants}
        outer = self._current, self._pending
        self._current, self._pending = event or self._current, []
        try:
            with self.transaction():
                self._point("during")
                if idempotent and event is not None and self._seen(event.id):
                    result = DUPLICATE
                else:
                    result = handler.fn(message, **kwargs)
            self._point("after_commit")
            pending, self._pending = self._pending, None
            for event_type, data, key, topic in pending:
                self._send(self._make(event_type, data, key), topic)
            return result
        finally:
            self._current, self._pending = outer

    def relay(self, after_publish: Callable[[int], None] | None = None) -> int:
        """Send unsent outbox rows in order, marking each sent after its publish; return how many were sent.

        ``after_publish(seq)`` runs between the publish and the mark (a crash injected
        there makes the row go out again after the restart: a duplicate).
        """
        if "outbox" not in self.db.tables():
            return 0
        sent = 0
        for row in self.db.query("SELECT seq, topic, event FROM outbox WHERE sent = 0 ORDER BY seq"):
            self._send(Event.from_json(row["event"]), row["topic"])
            sent += 1
            if after_publish is not None:
                after_publish(row["seq"])
            with self._exclusive():
                self.db.execute("UPDATE outbox SET sent = 1 WHERE seq = ?", (row["seq"],))
        return sent

    # -- internals -------------------------------------------------------------------------
    def _make(self, event_type: str, data: Any, key: str | None) -> Event:
        return self.events(event_type, data, key=key, source=self.name, causation=self._current)

    def _seen(self, event_id: str) -> bool:
        """Record ``event_id`` as processed (in the running transaction); True if it already was."""
        self.db.execute(PROCESSED_TABLE)
        return self.db.execute("INSERT OR IGNORE INTO processed_events (id) VALUES (?)", (event_id,)) == 0

    def _point(self, name: str) -> None:
        if self._checkpoint is not None:
            self._checkpoint(name)
