"""The saga state machine and its persistence: :class:`SagaCoordinator`, :class:`SagaState`.

A **saga** is one business transaction spread over several services, each step a local
transaction of its own. When a step fails, the steps already done are undone by
**compensations** (refund a payment, release reserved stock), newest first. There is no
rollback across services: a compensation is a new action that cancels an old one's effect.

:class:`SagaCoordinator` is the state machine. It keeps every saga's state (status, current
step, data) in the orchestrator's own database, so a restarted orchestrator carries on
where it was; a reply that does not fit the saga's state (a duplicate, or a late one) is
recorded and ignored, so nothing is compensated twice. Its tables: ``saga_state`` (one row
per saga) and ``saga_log`` (one row per event received).

The definition it runs is :mod:`edlib.patterns.saga.definition`; the wiring into a world
(:func:`~edlib.patterns.saga.orchestrate`) is :mod:`edlib.patterns.saga.wiring`.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from edlib.core.database import Database
from edlib.core.payloads import thaw
from edlib.patterns.saga.definition import SagaDefinition

RUNNING, COMPENSATING, COMPLETED, ABORTED = "running", "compensating", "completed", "aborted"
STATUSES = (RUNNING, COMPENSATING, COMPLETED, ABORTED)
"""Where a saga can be: running its steps, undoing them, finished well, or finished undone."""


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
