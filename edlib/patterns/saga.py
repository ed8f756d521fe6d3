"""Sagas by orchestration: a declarative definition, and a coordinator that remembers where each saga is.

A **saga** is one business transaction spread over several services, each step a local
transaction of its own. When a step fails, the steps already done are undone by
**compensations** (refund a payment, release reserved stock), newest first. There is no
rollback across services: a compensation is a new action that cancels an old one's effect.

With **orchestration** one coordinator drives the flow: it sends a command to each
participant in turn and waits for its reply event. The flow is written down in one
place, as data::

    ORDER = SagaDefinition(
        name="order", starts_on="OrderPlaced", key="order_id",
        steps=[Step("payment", action="TakePayment", done="PaymentTaken", failed="PaymentDeclined",
                    compensation="RefundPayment", compensated="PaymentRefunded"),
               Step("inventory", action="ReserveStock", done="StockReserved", failed="StockUnavailable",
                    compensation="ReleaseStock", compensated="StockReleased")],
        completed="ApproveOrder", aborted="CancelOrder")
    orchestrator = orchestrate(world, ORDER)      # a service that runs it, state in its own SQLite

:class:`SagaCoordinator` is the state machine. It keeps every saga's state (status, current
step, data) in the orchestrator's own database, so a restarted orchestrator carries on
where it was; a reply that does not fit the saga's state (a duplicate, or a late one) is
recorded and ignored, so nothing is compensated twice. :func:`orchestrate` wires it into a
:class:`~edlib.World`: its commands leave through the outbox, in the same transaction as
the state change (notebook 08).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from edlib.core.database import Database
from edlib.core.events import check_event_type
from edlib.core.payloads import thaw

if TYPE_CHECKING:  # pragma: no cover
    from edlib.simulation.service import Service
    from edlib.simulation.world import World

RUNNING, COMPENSATING, COMPLETED, ABORTED = "running", "compensating", "completed", "aborted"
STATUSES = (RUNNING, COMPENSATING, COMPLETED, ABORTED)
"""Where a saga can be: running its steps, undoing them, finished well, or finished undone."""


@dataclass(frozen=True)
class Step:
    """One step: the command that asks a participant to act, and the replies it can send.

    ``action``: the command (``"TakePayment"``); ``done`` / ``failed``: its success and
    failure replies; ``compensation``: the command that undoes it (None: nothing to undo);
    ``compensated``: the reply confirming the undo (None: the coordinator does not wait).
    """

    name: str
    action: str
    done: str
    failed: str | None = None
    compensation: str | None = None
    compensated: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"a step needs a name such as 'payment', got {self.name!r}")
        for what in ("action", "done", "failed", "compensation", "compensated"):
            value = getattr(self, what)
            if value is not None:
                check_event_type(value)
            elif what in ("action", "done"):
                raise ValueError(f"step {self.name!r} needs {what}=...")
        if self.compensated is not None and self.compensation is None:
            raise ValueError(f"step {self.name!r}: compensated={self.compensated!r} without a compensation")


@dataclass(frozen=True)
class SagaDefinition:
    """A whole saga: the event that starts it, its steps in order, and what to send at the end.

    ``key``: the data field that names one saga (``"order_id"``); ``completed`` / ``aborted``:
    the command sent when every step succeeded / after the compensations ran (None: nothing).
    """

    name: str
    starts_on: str
    steps: Sequence[Step]
    key: str = "order_id"
    completed: str | None = None
    aborted: str | None = None

    def __post_init__(self) -> None:
        steps = tuple(self.steps)
        object.__setattr__(self, "steps", steps)
        if not steps or not all(isinstance(s, Step) for s in steps):
            raise ValueError("a saga needs at least one Step")
        check_event_type(self.starts_on)
        for end in (self.completed, self.aborted):
            if end is not None:
                check_event_type(end)
        for kind, names in (("reply", self.replies()), ("command", self.commands())):
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                raise ValueError(f"saga {self.name!r}: each {kind} type may appear once, {repeated} repeat")
        if len({s.name for s in steps}) != len(steps):
            raise ValueError(f"saga {self.name!r}: step names must differ")

    def commands(self) -> list[str]:
        """Every command type the coordinator sends, in the order of the definition."""
        out = [t for s in self.steps for t in (s.action, s.compensation) if t is not None]
        return out + [t for t in (self.completed, self.aborted) if t is not None]

    def replies(self) -> list[str]:
        """Every event type the coordinator listens to: the start, then each step's replies."""
        return [self.starts_on] + [t for s in self.steps for t in (s.done, s.failed, s.compensated) if t is not None]


@dataclass(frozen=True)
class SagaState:
    """One saga as stored: ``status`` (see :data:`STATUSES`), ``step`` (index of the step being
    run or undone), ``failed_step`` (the name of the step that failed, if any), ``data``."""

    saga_id: str
    status: str
    step: int
    failed_step: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


Command = tuple[str, dict[str, Any]]
"""A command to send: its type and its data."""

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS saga_state (saga TEXT NOT NULL, saga_id TEXT NOT NULL, status TEXT NOT NULL, "
    "step INTEGER NOT NULL, failed_step TEXT, data TEXT NOT NULL, PRIMARY KEY (saga, saga_id))",
    "CREATE TABLE IF NOT EXISTS saga_log (seq INTEGER PRIMARY KEY, saga_id TEXT NOT NULL, received TEXT NOT NULL, "
    "sent TEXT NOT NULL, note TEXT NOT NULL)",
)


class SagaCoordinator:
    """Runs the sagas of ``definition`` with their state in ``db`` (the orchestrator's own database).

    :meth:`handle` takes one incoming event and returns the commands to send. Call it inside
    the transaction that will also write those commands (an outbox), so the new state and
    the commands are saved together; a new coordinator over the same database (after a
    crash) continues every saga where it was.
    """

    def __init__(self, definition: SagaDefinition, db: Database) -> None:
        self.definition = definition
        self.db = db
        for sql in _SCHEMA:
            db.execute(sql)

    # -- the state machine ----------------------------------------------------------------
    def handle(self, event_type: str, data: Mapping[str, Any]) -> list[Command]:
        """React to one event: update the saga it belongs to and return the commands to send.

        An event that does not fit the saga's current state (a duplicate, a late reply, an
        unknown saga) changes nothing and returns no command; it is noted in the log.
        """
        key = self.definition.key
        saga_id = data.get(key) if isinstance(data, Mapping) else None
        if not isinstance(saga_id, str) or not saga_id:
            raise ValueError(f"{event_type} data has no {key!r}: cannot tell which saga it belongs to")
        with self.db.transaction():
            state = self.state(saga_id)
            new, commands, note = self._next(state, saga_id, event_type, thaw(dict(data)))
            if new is not None:
                self._save(new)
            self.db.execute("INSERT INTO saga_log (saga_id, received, sent, note) VALUES (?, ?, ?, ?)",
                            (saga_id, event_type, ", ".join(t for t, _ in commands), note))
        return commands

    def _next(self, state: SagaState | None, saga_id: str, event_type: str,
              data: dict[str, Any]) -> tuple[SagaState | None, list[Command], str]:
        steps = self.definition.steps
        if event_type == self.definition.starts_on:
            if state is not None:
                return None, [], "ignored: already started"
            first = SagaState(saga_id, RUNNING, 0, None, data)
            return first, [(steps[0].action, dict(data))], f"started, step {steps[0].name}"
        if state is None:
            return None, [], "ignored: no such saga"
        merged = {**state.data, **data}
        if state.status == RUNNING and event_type == steps[state.step].done:
            done = steps[state.step].name
            if state.step + 1 == len(steps):
                end = [(self.definition.completed, merged)] if self.definition.completed else []
                return SagaState(saga_id, COMPLETED, state.step + 1, None, merged), end, f"{done} done: completed"
            nxt = steps[state.step + 1]
            return (SagaState(saga_id, RUNNING, state.step + 1, None, merged), [(nxt.action, merged)],
                    f"{done} done, step {nxt.name}")
        if state.status == RUNNING and event_type == steps[state.step].failed:
            failed = steps[state.step].name
            return self._compensate(SagaState(saga_id, COMPENSATING, state.step - 1, failed, merged),
                                    f"{failed} failed")
        if state.status == COMPENSATING and state.step >= 0 and event_type == steps[state.step].compensated:
            undone = steps[state.step].name
            return self._compensate(SagaState(saga_id, COMPENSATING, state.step - 1, state.failed_step, merged),
                                    f"{undone} undone")
        return None, [], f"ignored: {state.status}" + (f" at {steps[state.step].name}"
                                                         if 0 <= state.step < len(steps) else "")

    def _compensate(self, state: SagaState, note: str) -> tuple[SagaState, list[Command], str]:
        """Send the compensation of the newest step still to undo, or end the saga."""
        commands: list[Command] = []
        step = state.step
        while step >= 0:
            s = self.definition.steps[step]
            if s.compensation is not None:
                commands.append((s.compensation, dict(state.data)))
                if s.compensated is not None:          # wait for its reply
                    return (SagaState(state.saga_id, COMPENSATING, step, state.failed_step, state.data),
                            commands, f"{note}, undo {s.name}")
            step -= 1
        if self.definition.aborted:
            commands.append((self.definition.aborted, dict(state.data)))
        return SagaState(state.saga_id, ABORTED, -1, state.failed_step, state.data), commands, f"{note}: aborted"

    # -- the stored state ---------------------------------------------------------------------
    def state(self, saga_id: str) -> SagaState | None:
        """The stored state of saga ``saga_id`` (None if it never started)."""
        rows = self.db.query("SELECT status, step, failed_step, data FROM saga_state WHERE saga_id = ? AND saga = ?",
                             (saga_id, self.definition.name))
        if not rows:
            return None
        r = rows[0]
        return SagaState(saga_id, r["status"], r["step"], r["failed_step"], json.loads(r["data"]))

    def sagas(self) -> list[SagaState]:
        """Every saga of this definition, in the order they started."""
        rows = self.db.query("SELECT saga_id FROM saga_state WHERE saga = ? ORDER BY rowid", (self.definition.name,))
        return [s for s in (self.state(r["saga_id"]) for r in rows) if s is not None]

    def log(self, saga_id: str | None = None) -> list[dict[str, Any]]:
        """What the coordinator received, sent and decided (one row per event), oldest first."""
        if saga_id is None:
            return self.db.query("SELECT saga_id, received, sent, note FROM saga_log ORDER BY seq")
        return self.db.query("SELECT saga_id, received, sent, note FROM saga_log WHERE saga_id = ? ORDER BY seq",
                             (saga_id,))

    def _save(self, state: SagaState) -> None:
        self.db.execute(
            "INSERT INTO saga_state (saga_id, saga, status, step, failed_step, data) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (saga, saga_id) DO UPDATE SET status = excluded.status, step = excluded.step, "
            "failed_step = excluded.failed_step, data = excluded.data",         # keeps the row's place (start order)
            (state.saga_id, self.definition.name, state.status, state.step, state.failed_step,
             json.dumps(dict(state.data), sort_keys=True)))


def orchestrate(world: "World", definition: SagaDefinition, name: str = "orchestrator",
                latency_ms: float = 2.0) -> "Service":
    """Add a service ``name`` that runs ``definition``: it listens to the start and reply events
    and sends the commands (only those: least privilege) through its outbox."""
    service = world.add_service(name, latency_ms=latency_ms, publishes=definition.commands())

    def coordinate(event, db, outbox) -> None:
        for command, data in SagaCoordinator(definition, db).handle(event.type, event.data):
            outbox(command, data, key=data[definition.key])

    coordinate.__name__ = coordinate.__qualname__ = f"coordinate_{definition.name}_saga"
    for event_type in definition.replies():
        service.handles(event_type)(coordinate)
    return service


def stand_ins(world: "World", definition: SagaDefinition, fail: Mapping[str, str],
              latency_ms: float = 3.0) -> None:
    """Add one stand-in participant per step, for experiments and tests (service = step name).

    Each does its step's action (a row in its ``done`` table) and replies ``done``, or
    ``failed`` when ``fail[saga_id]`` names its step; its compensation adds a row to
    ``undone`` (one per delivery, so a repeat would show) and replies ``compensated``.
    """
    key = definition.key
    for step in definition.steps:
        service = world.add_service(step.name, latency_ms=latency_ms,
                                    publishes=[t for t in (step.done, step.failed, step.compensated) if t])

        def act(event, db, publish, step: Step = step) -> None:
            saga_id = event.data[key]
            if fail.get(saga_id) == step.name and step.failed is not None:
                publish(step.failed, {key: saga_id, "reason": f"{step.name} failed"})
                return
            db.execute("CREATE TABLE IF NOT EXISTS done (saga_id TEXT)")
            db.execute("INSERT INTO done VALUES (?)", (saga_id,))
            publish(step.done, {key: saga_id})

        service.handles(step.action)(act)
        if step.compensation is not None:
            def undo(event, db, publish, step: Step = step) -> None:
                db.execute("CREATE TABLE IF NOT EXISTS undone (saga_id TEXT)")
                db.execute("INSERT INTO undone VALUES (?)", (event.data[key],))
                if step.compensated is not None:
                    publish(step.compensated, {key: event.data[key]})

            service.handles(step.compensation)(undo)


def effects(world: "World", definition: SagaDefinition, table: str) -> dict[str, list[str]]:
    """Saga ids in each stand-in's ``done`` or ``undone`` table (one entry per row), by step name."""
    if table not in ("done", "undone"):
        raise ValueError(f"table is 'done' or 'undone', got {table!r}")
    out = {}
    for step in definition.steps:
        db = world.service(step.name).db
        rows = db.query(f"SELECT saga_id FROM {table} ORDER BY rowid") if table in db.tables() else []
        out[step.name] = [r["saga_id"] for r in rows]
    return out


def show_log(rows: Iterable[Mapping[str, Any]]) -> None:
    """Print saga log rows (from :meth:`SagaCoordinator.log`) as a small table."""
    rows = list(rows)
    width = max([len("received")] + [len(r["received"]) for r in rows]) + 2
    sent = max([len("sent")] + [len(r["sent"]) for r in rows]) + 2
    print(f"{'saga':<11}{'received':<{width}}{'sent':<{sent}}note")
    for r in rows:
        print(f"{r['saga_id']:<11}{r['received']:<{width}}{r['sent']:<{sent}}{r['note']}")
