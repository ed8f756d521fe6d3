"""The saga coordinator: happy path, compensation in reverse order, crash recovery, duplicates."""
from __future__ import annotations

import pytest

from edlib import Database, World
from edlib.patterns.saga import (
    ABORTED,
    COMPENSATING,
    COMPLETED,
    RUNNING,
    SagaCoordinator,
    SagaDefinition,
    Step,
    effects,
    orchestrate,
    stand_ins,
)
from edlib.simulation.faults import crash, lose_acks

PAYMENT = Step("payment", action="TakePayment", done="PaymentTaken", failed="PaymentDeclined",
               compensation="RefundPayment", compensated="PaymentRefunded")
INVENTORY = Step("inventory", action="ReserveStock", done="StockReserved", failed="StockUnavailable",
                 compensation="ReleaseStock", compensated="StockReleased")
SHIPPING = Step("shipping", action="ScheduleShipment", done="ShipmentScheduled", failed="ShipmentRefused")
ORDER = SagaDefinition(name="order", starts_on="OrderPlaced", steps=[PAYMENT, INVENTORY, SHIPPING],
                       completed="ApproveOrder", aborted="CancelOrder")
FAILS = {"payment": [], "inventory": ["RefundPayment"], "shipping": ["ReleaseStock", "RefundPayment"]}
"""The compensations each failing step must cause, in the order they must be sent."""


def coordinator() -> SagaCoordinator:
    return SagaCoordinator(ORDER, Database("orchestrator"))


def types(commands) -> list[str]:
    return [t for t, _ in commands]


# -- the definition ---------------------------------------------------------------------------
def test_definition_lists_its_commands_and_replies():
    assert ORDER.commands() == ["TakePayment", "RefundPayment", "ReserveStock", "ReleaseStock",
                                "ScheduleShipment", "ApproveOrder", "CancelOrder"]
    assert ORDER.replies() == ["OrderPlaced", "PaymentTaken", "PaymentDeclined", "PaymentRefunded",
                               "StockReserved", "StockUnavailable", "StockReleased", "ShipmentScheduled",
                               "ShipmentRefused"]


@pytest.mark.parametrize("build, message", [
    (lambda: SagaDefinition("x", "OrderPlaced", []), "at least one Step"),
    (lambda: SagaDefinition("x", "OrderPlaced", [PAYMENT, PAYMENT]), "repeat"),
    (lambda: SagaDefinition("x", "PaymentTaken", [PAYMENT]), "repeat"),
    (lambda: Step("s", action="Do", done="Done", compensated="Undone"), "without a compensation"),
    (lambda: Step("s", action="Do", done=None), "needs done"),
    (lambda: Step("s", action="do it", done="Done"), "not a valid name"),
])
def test_a_broken_definition_fails_where_it_is_written(build, message):
    with pytest.raises(ValueError, match=message):
        build()


# -- the state machine, without a world --------------------------------------------------------------
def test_happy_path_sends_each_action_then_completes():
    c = coordinator()
    order = {"order_id": "o-1", "amount": 10}
    assert types(c.handle("OrderPlaced", order)) == ["TakePayment"]
    assert types(c.handle("PaymentTaken", {"order_id": "o-1", "payment_id": "p-1"})) == ["ReserveStock"]
    assert types(c.handle("StockReserved", {"order_id": "o-1"})) == ["ScheduleShipment"]
    sent = c.handle("ShipmentScheduled", {"order_id": "o-1"})
    assert types(sent) == ["ApproveOrder"]
    assert sent[0][1] == {"order_id": "o-1", "amount": 10, "payment_id": "p-1"}   # replies add to the data
    state = c.state("o-1")
    assert (state.status, state.failed_step) == (COMPLETED, None)


@pytest.mark.parametrize("failing", ["payment", "inventory", "shipping"])
def test_a_failed_step_compensates_the_earlier_ones_newest_first(failing):
    c = coordinator()
    c.handle("OrderPlaced", {"order_id": "o-1"})
    sent = []
    for step in ORDER.steps:
        if step.name == failing:
            sent += c.handle(step.failed, {"order_id": "o-1", "reason": "no"})
            break
        c.handle(step.done, {"order_id": "o-1"})
    undo = {s.compensation: s.compensated for s in ORDER.steps}
    while sent and sent[-1][0] in undo:           # confirm each compensation as it is asked for
        sent += c.handle(undo[sent[-1][0]], {"order_id": "o-1"})
    assert types(sent) == FAILS[failing] + ["CancelOrder"]
    state = c.state("o-1")
    assert (state.status, state.failed_step) == (ABORTED, failing)
    assert sent[-1][1]["reason"] == "no"


def test_compensation_waits_for_each_confirmation_in_turn():
    c = coordinator()
    c.handle("OrderPlaced", {"order_id": "o-1"})
    c.handle("PaymentTaken", {"order_id": "o-1"})
    c.handle("StockReserved", {"order_id": "o-1"})
    assert types(c.handle("ShipmentRefused", {"order_id": "o-1"})) == ["ReleaseStock"]
    assert c.state("o-1").status == COMPENSATING
    assert c.handle("PaymentRefunded", {"order_id": "o-1"}) == []      # not the one it waits for
    assert types(c.handle("StockReleased", {"order_id": "o-1"})) == ["RefundPayment"]


def test_duplicate_and_late_events_change_nothing():
    c = coordinator()
    c.handle("OrderPlaced", {"order_id": "o-1"})
    c.handle("PaymentTaken", {"order_id": "o-1"})
    assert types(c.handle("StockUnavailable", {"order_id": "o-1"})) == ["RefundPayment"]
    for again in ("StockUnavailable", "PaymentTaken", "OrderPlaced"):
        assert c.handle(again, {"order_id": "o-1"}) == []
    assert types(c.handle("PaymentRefunded", {"order_id": "o-1"})) == ["CancelOrder"]
    assert c.handle("PaymentRefunded", {"order_id": "o-1"}) == []
    assert c.handle("PaymentTaken", {"order_id": "o-unknown"}) == []
    notes = [row["note"] for row in c.log("o-1")]
    assert notes[-1] == "ignored: aborted"
    assert sum(note.startswith("ignored") for note in notes) == 4


def test_a_new_coordinator_on_the_same_database_carries_on():
    db = Database("orchestrator")
    SagaCoordinator(ORDER, db).handle("OrderPlaced", {"order_id": "o-1", "amount": 5})
    SagaCoordinator(ORDER, db).handle("PaymentTaken", {"order_id": "o-1"})
    restarted = SagaCoordinator(ORDER, db)              # "after a restart": only the database remains
    assert restarted.state("o-1").status == RUNNING and restarted.state("o-1").step == 1
    assert types(restarted.handle("StockUnavailable", {"order_id": "o-1"})) == ["RefundPayment"]


def test_steps_without_compensation_or_confirmation_are_not_waited_for():
    notify = Step("notify", action="SendEmail", done="EmailSent")
    hold = Step("hold", action="PlaceHold", done="HoldPlaced", compensation="LiftHold")
    risky = Step("risky", action="TryIt", done="ItWorked", failed="ItFailed")
    saga = SagaDefinition("s", "Started", [hold, notify, risky], key="id", aborted="GiveUp")
    c = SagaCoordinator(saga, Database("orchestrator"))
    c.handle("Started", {"id": "x"})
    c.handle("HoldPlaced", {"id": "x"})
    c.handle("EmailSent", {"id": "x"})
    assert types(c.handle("ItFailed", {"id": "x"})) == ["LiftHold", "GiveUp"]
    assert c.state("x").status == ABORTED


BOOK = Step("book", action="BookRoom", done="RoomBooked", compensation="CancelRoom")
CHARGE = Step("charge", action="ChargeCard", done="CardCharged", compensation="VoidCharge")
NOTIFY = Step("notify", action="SendEmail", done="EmailSent")
TICKET = Step("ticket", action="IssueTicket", done="TicketIssued", failed="TicketRefused")
UNCONFIRMED = SagaDefinition("trip", "TripRequested", [BOOK, CHARGE, NOTIFY, TICKET], key="trip_id",
                             aborted="CancelTrip")
"""Two steps whose compensations are not confirmed (no ``compensated`` reply), then one that can fail."""


def test_unconfirmed_compensations_are_all_sent_at_once_newest_first():
    c = SagaCoordinator(UNCONFIRMED, Database("orchestrator"))
    c.handle("TripRequested", {"trip_id": "t-1"})
    for done in ("RoomBooked", "CardCharged", "EmailSent"):
        c.handle(done, {"trip_id": "t-1"})
    assert types(c.handle("TicketRefused", {"trip_id": "t-1"})) == ["VoidCharge", "CancelRoom", "CancelTrip"]
    assert (c.state("t-1").status, c.state("t-1").failed_step) == (ABORTED, "ticket")


def test_in_a_world_unconfirmed_compensations_leave_newest_first():
    world = World(seed=4)
    orchestrate(world, UNCONFIRMED)
    stand_ins(world, UNCONFIRMED, {"t-1": "ticket"})
    world.publish("TripRequested", {"trip_id": "t-1"}, key="t-1")
    world.run()
    sent = [r.label for r in world.trace.where("publish", source="orchestrator")]
    assert sent[-3:] == ["VoidCharge", "CancelRoom", "CancelTrip"]
    assert effects(world, UNCONFIRMED, "undone") == {"book": ["t-1"], "charge": ["t-1"], "notify": [], "ticket": []}


def test_an_event_without_the_saga_key_is_refused():
    with pytest.raises(ValueError, match="order_id"):
        coordinator().handle("OrderPlaced", {"id": "o-1"})


def test_sagas_lists_them_in_start_order():
    c = coordinator()
    for oid in ("o-2", "o-1"):
        c.handle("OrderPlaced", {"order_id": oid})
    assert [s.saga_id for s in c.sagas()] == ["o-2", "o-1"]


# -- in a world: commands and replies over the bus ---------------------------------------------------
def saga_world(fail: dict[str, str], seed: int = 9) -> World:
    """An orchestrator, stand-in participants (order ``o`` fails at step ``fail[o]``) and orders."""
    world = World(seed=seed)
    orchestrate(world, ORDER)
    stand_ins(world, ORDER, fail)
    orders = world.add_service("orders", latency_ms=2)

    @orders.handles("ApproveOrder")
    def approve(event, db):
        db.put("status", event.data["order_id"], {"status": "approved"})

    @orders.handles("CancelOrder")
    def cancel(event, db):
        db.put("status", event.data["order_id"], {"status": "cancelled"})

    return world


def undone(world: World, step: str) -> list[str]:
    return effects(world, ORDER, "undone")[step]


def commands_sent(world: World) -> list[str]:
    return [r.label for r in world.trace.where("publish", source="orchestrator")]


ORDERS = {"o-1": None, "o-2": "payment", "o-3": "inventory", "o-4": "shipping"}


def run_orders(world: World) -> None:
    for i, order_id in enumerate(ORDERS):
        world.scheduler.at(i * 200, lambda order_id=order_id: world.publish("OrderPlaced", {"order_id": order_id},
                                                                            key=order_id))
    world.run()


def outcome(world: World) -> dict:
    orders = world.service("orders").db
    coord = SagaCoordinator(ORDER, world.service("orchestrator").db)
    return {"status": {o: (orders.get("status", o) or {}).get("status") for o in ORDERS},
            "sagas": [(s.saga_id, s.status, s.failed_step) for s in coord.sagas()],
            "refunded": sorted(undone(world, "payment")), "released": sorted(undone(world, "inventory")),
            "commands": sorted(commands_sent(world))}


def expected_world() -> dict:
    world = saga_world({o: s for o, s in ORDERS.items() if s})
    run_orders(world)
    return outcome(world)


@pytest.mark.parametrize("failing", ["payment", "inventory", "shipping"])
def test_in_a_world_the_compensations_run_in_reverse_order(failing):
    world = saga_world({"o-1": failing})
    world.publish("OrderPlaced", {"order_id": "o-1"}, key="o-1")
    world.run()
    compensations = [c for c in commands_sent(world) if c in ("RefundPayment", "ReleaseStock")]
    assert compensations == FAILS[failing]
    assert commands_sent(world)[-1] == "CancelOrder"
    assert world.service("orders").db.get("status", "o-1") == {"status": "cancelled"}


def test_in_a_world_every_path_ends_as_it_should():
    result = expected_world()
    assert result["status"] == {"o-1": "approved", "o-2": "cancelled", "o-3": "cancelled", "o-4": "cancelled"}
    assert result["sagas"] == [("o-1", COMPLETED, None), ("o-2", ABORTED, "payment"),
                               ("o-3", ABORTED, "inventory"), ("o-4", ABORTED, "shipping")]
    assert result["refunded"] == ["o-3", "o-4"] and result["released"] == ["o-4"]


@pytest.mark.parametrize("point", ["during", "after_commit"])
@pytest.mark.parametrize("at", [1, 3, 6, 9, 12])
def test_an_orchestrator_crash_mid_saga_resumes_from_its_database(at, point):
    world = saga_world({o: s for o, s in ORDERS.items() if s})
    crash(world.service("orchestrator"), at=at, point=point, restart_ms=300)
    run_orders(world)
    assert world.fault_counts["crashes"] == 1
    assert outcome(world) == expected_world()        # same end, every command sent once


def test_duplicate_deliveries_do_not_compensate_twice():
    world = saga_world({o: s for o, s in ORDERS.items() if s})
    lose_acks(world, 0.5, seed=3)                    # about half the deliveries come twice
    run_orders(world)
    assert world.fault_counts["lost_acks"] > 5
    result = outcome(world)
    assert result["commands"] == expected_world()["commands"]    # the coordinator sent each command once
    assert result["sagas"] == expected_world()["sagas"]
    coord = SagaCoordinator(ORDER, world.service("orchestrator").db)
    assert any(row["note"].startswith("ignored") for row in coord.log())


def test_stand_ins_record_what_they_did_and_undid():
    world = saga_world({"o-4": "shipping"})
    world.publish("OrderPlaced", {"order_id": "o-4"}, key="o-4")
    world.run()
    assert effects(world, ORDER, "done") == {"payment": ["o-4"], "inventory": ["o-4"], "shipping": []}
    assert effects(world, ORDER, "undone") == {"payment": ["o-4"], "inventory": ["o-4"], "shipping": []}
    with pytest.raises(ValueError):
        effects(world, ORDER, "saga_state")


def test_the_orchestrator_may_send_only_its_commands():
    world = World(seed=1)
    service = orchestrate(world, ORDER)
    with pytest.raises(PermissionError):
        service.publish("PaymentTaken", {"order_id": "o-1"})
