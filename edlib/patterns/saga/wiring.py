"""The saga in a simulated :class:`~edlib.World`: an orchestrator service and stand-in participants.

:func:`orchestrate` adds a service that runs a :class:`~edlib.patterns.saga.SagaCoordinator`
on every start and reply event, its commands leaving through the outbox in the same
transaction as the state change (notebook 08). :func:`stand_ins` adds one simple participant
per step, for experiments and tests, and :func:`effects` reads what they did and undid.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from edlib.patterns.saga.definition import SagaDefinition, Step
from edlib.patterns.saga.machine import SagaCoordinator

if TYPE_CHECKING:  # pragma: no cover
    from edlib.simulation.service import Service
    from edlib.simulation.world import World


def orchestrate(world: World, definition: SagaDefinition, name: str = "orchestrator",
                latency_ms: float = 2.0) -> Service:
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


def stand_ins(world: World, definition: SagaDefinition, fail: Mapping[str, str],
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


def effects(world: World, definition: SagaDefinition, table: str) -> dict[str, list[str]]:
    """Saga ids in each stand-in's ``done`` or ``undone`` table (one entry per row), by step name."""
    if table not in ("done", "undone"):
        raise ValueError(f"table is 'done' or 'undone', got {table!r}")
    out = {}
    for step in definition.steps:
        db = world.service(step.name).db
        rows = db.query(f"SELECT saga_id FROM {table} ORDER BY rowid") if table in db.tables() else []
        out[step.name] = [r["saga_id"] for r in rows]
    return out
