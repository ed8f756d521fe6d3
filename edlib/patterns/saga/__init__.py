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

The modules: :mod:`~edlib.patterns.saga.definition` (:class:`Step`, :class:`SagaDefinition`),
:mod:`~edlib.patterns.saga.machine` (:class:`SagaCoordinator`, :class:`SagaState` and the
``saga_state`` / ``saga_log`` tables), :mod:`~edlib.patterns.saga.wiring` (:func:`orchestrate`, :func:`stand_ins`,
:func:`effects`) and :mod:`~edlib.patterns.saga.printing` (:func:`show_log`).
"""
from __future__ import annotations

from edlib.patterns.saga.definition import SagaDefinition, Step
from edlib.patterns.saga.machine import (
    ABORTED,
    COMPENSATING,
    COMPLETED,
    RUNNING,
    STATUSES,
    Command,
    SagaCoordinator,
    SagaState,
)
from edlib.patterns.saga.printing import show_log
from edlib.patterns.saga.wiring import effects, orchestrate, stand_ins

__all__ = [
    "ABORTED", "COMPENSATING", "COMPLETED", "RUNNING", "STATUSES",
    "Command", "SagaCoordinator", "SagaDefinition", "SagaState", "Step",
    "effects", "orchestrate", "show_log", "stand_ins",
]
