"""Exercises of notebook 09, sagas."""
from __future__ import annotations

from collections import Counter
from typing import Any

from edlib import World
from edlib.exercises import (
    FunctionExercise,
    Incorrect,
    Outcome,
    PredictExercise,
    ValueExercise,
    WrongAnswer,
    handler_failures,
)
from edlib.patterns.saga import SagaDefinition, Step, effects, orchestrate, stand_ins

NOTEBOOK = "09"

PAYMENT = Step("payment", action="TakePayment", done="PaymentTaken", failed="PaymentDeclined",
               compensation="RefundPayment", compensated="PaymentRefunded")
INVENTORY = Step("inventory", action="ReserveStock", done="StockReserved", failed="StockUnavailable",
                 compensation="ReleaseStock", compensated="StockReleased")
SHIPPING = Step("shipping", action="ScheduleShipment", done="ShipmentScheduled", failed="ShipmentRefused")
COMPENSATIONS = ("RefundPayment", "ReleaseStock")


def _compensations_after_shipping_fails() -> list[str]:
    saga = SagaDefinition(name="order", starts_on="OrderPlaced", steps=[PAYMENT, INVENTORY, SHIPPING],
                          completed="ApproveOrder", aborted="CancelOrder")
    world = World(seed=9)
    orchestrate(world, saga)
    stand_ins(world, saga, {"order-010": "shipping"})
    world.publish("OrderPlaced", {"order_id": "order-010"}, key="order-010")
    world.run()
    return [r.label for r in world.trace.where("publish", source="orchestrator") if r.label in COMPENSATIONS]


q1 = PredictExercise(
    notebook=NOTEBOOK, name="q1", variable="undo_answer", title="Which compensations, in which order?",
    choices={"a": ["RefundPayment", "ReleaseStock"], "b": ["ReleaseStock", "RefundPayment"], "c": ["ReleaseStock"]},
    experiment=_compensations_after_shipping_fails,
    why={"a": "Both run, but think of undoing a stack of changes: which one was done last?",
         "c": "Payment succeeded too, before inventory: who gives the money back?"},
    hints=["Every step that succeeded before shipping failed has to be undone.",
           "Undo runs newest first, like unwinding a stack."],
    explanation="Stock was reserved after the payment was taken, so it is released first, then the payment refunded.",
)


def _trial_refund(refund) -> str:
    world = World(seed=9)
    payments = world.add_service("payments", latency_ms=8)
    payments.handles("StockUnavailable")(refund)
    for order_id, amount in (("order-005", 8900), ("order-008", 24900)):
        payments.db.put("payments", order_id, {"amount_cents": amount, "status": "taken"})
    for order_id in ("order-005", "order-005", "order-008"):       # order-005's event comes twice
        world.publish("StockUnavailable", {"order_id": order_id, "item": "chair"}, key=order_id, source="inventory")
    world.run()
    if world.dead_letters:
        raise Incorrect(f"your handler failed: {handler_failures(world)[0]}.")
    for order_id in ("order-005", "order-008"):
        status = (payments.db.get("payments", order_id) or {}).get("status")
        if status != "refunded":
            raise Incorrect(f"the payment of {order_id} has status {status!r} after StockUnavailable: set it to "
                            "'refunded' (keep its amount).")
    refunds: Counter[Any] = Counter(e.data.get("order_id") for e in world.bus.log("PaymentRefunded"))
    if not refunds:
        raise Incorrect("no PaymentRefunded event was published: `publish(\"PaymentRefunded\", {...})` tells "
                        "orders that the money went back.")
    twice = sorted(o for o, n in refunds.items() if n > 1)
    if twice:
        raise Incorrect(f"PaymentRefunded was published {refunds[twice[0]]} times for {twice[0]}: its "
                        "StockUnavailable came twice, and the money went back twice. Refund only a payment "
                        "whose status is still 'taken'.")
    if sorted(refunds) != ["order-005", "order-008"]:
        raise Incorrect(f"PaymentRefunded was published for {sorted(refunds)}, not for order-005 and order-008.")
    amounts = {e.data.get("order_id"): e.data.get("amount_cents") for e in world.bus.log("PaymentRefunded")}
    if amounts != {"order-005": 8900, "order-008": 24900}:
        raise Incorrect(f"PaymentRefunded should carry the refunded amount_cents, but the events carry {amounts}.")
    return "order-005's event came twice and its payment was refunded once."


q2 = FunctionExercise(
    notebook=NOTEBOOK, name="q2", title="A refund that happens once",
    variable="refund_once", handler=True, trial=_trial_refund,
    hints=["`db.get(\"payments\", order_id)` gives the payment: `{\"amount_cents\": ..., \"status\": \"taken\"}`.",
           "If its status is already 'refunded', this event is a repeat: do nothing.",
           "Otherwise store it again with `\"status\": \"refunded\"` and "
           "`publish(\"PaymentRefunded\", {\"order_id\": ..., \"amount_cents\": ...})`."],
    solution='def refund_once(event, db, publish):\n'
             '    order_id = event.data["order_id"]\n'
             '    payment = db.get("payments", order_id)\n'
             '    if payment["status"] != "taken":\n'
             '        return                                    # refunded already: a repeat\n'
             '    db.put("payments", order_id, {**payment, "status": "refunded"})\n'
             '    publish("PaymentRefunded", {"order_id": order_id, "amount_cents": payment["amount_cents"]})',
    explanation="A compensation must be idempotent: with at-least-once delivery it can arrive twice.",
    wrong=[WrongAnswer('def refund_once(event, db, publish):\n'
                       '    order_id = event.data["order_id"]\n'
                       '    payment = db.get("payments", order_id)\n'
                       '    db.put("payments", order_id, {**payment, "status": "refunded"})\n'
                       '    publish("PaymentRefunded", {"order_id": order_id, "amount_cents": payment["amount_cents"]})',
                       "published 2 times for order-005"),
           WrongAnswer('def refund_once(event, db, publish):\n'
                       '    order_id = event.data["order_id"]\n'
                       '    payment = db.get("payments", order_id)\n'
                       '    if payment["status"] == "taken":\n'
                       '        db.put("payments", order_id, {**payment, "status": "refunded"})',
                       "no PaymentRefunded event"),
           WrongAnswer('def refund_once(event, db, publish):\n'
                       '    payment = db.get("payments", event.data["id"])',
                       "KeyError: 'id'", Outcome.RAISED)],
)

HOTEL = Step("hotel", action="BookHotel", done="HotelBooked", failed="HotelFull",
             compensation="CancelHotel", compensated="HotelCancelled")
CARD = Step("card", action="ChargeCard", done="CardCharged", failed="CardDeclined",
            compensation="RefundCard", compensated="CardRefunded")
TICKET = Step("ticket", action="IssueTicket", done="TicketIssued", failed="TicketRefused")
TRIP_STEPS = (HOTEL, CARD, TICKET)


def _check_trip(saga: SagaDefinition) -> str:
    if saga.starts_on != "TripRequested":
        raise Incorrect(f"the saga starts on {saga.starts_on!r}: a trip starts with a 'TripRequested' event.")
    if saga.key != "trip_id":
        raise Incorrect(f"the saga's key is {saga.key!r}, but trips are named by 'trip_id': "
                        "pass key=\"trip_id\".")
    if sorted(s.name for s in saga.steps) != sorted(s.name for s in TRIP_STEPS) or set(saga.steps) != set(TRIP_STEPS):
        raise Incorrect(f"use exactly the three steps HOTEL, CARD and TICKET as given; yours are "
                        f"{[s.name for s in saga.steps]}.")
    order = [s.name for s in saga.steps]
    fail = {f"trip-{i}": step.name for i, step in enumerate(saga.steps, 2)}
    world = World(seed=9)
    orchestrate(world, saga)
    stand_ins(world, saga, fail)
    for trip_id in ["trip-1", *fail]:
        world.publish("TripRequested", {"trip_id": trip_id}, key=trip_id)
    world.run()
    done, undone = effects(world, saga, "done"), effects(world, saga, "undone")
    for trip_id, failing in fail.items():
        for step in saga.steps:
            left = done[step.name].count(trip_id) - undone[step.name].count(trip_id)
            if left and step.compensation is None:
                raise Incorrect(f"with the order {order}, {trip_id} was cancelled because the {failing} step "
                                f"failed, but its {step.name} stayed done: nothing can undo {step.action}. "
                                "Put that step where no later step can fail it.")
    return f"{' -> '.join(order)}: every failed trip was undone, and the ticket is only issued once nothing else can fail."


q3 = ValueExercise(
    notebook=NOTEBOOK, name="q3", title="A trip saga with a step that cannot be undone",
    variable="trip_saga", types=(SagaDefinition,), expects="a SagaDefinition", check=_check_trip,
    hints=["`SagaDefinition(name=\"trip\", starts_on=\"TripRequested\", key=\"trip_id\", steps=[...])`.",
           "A ticket, once issued, cannot be taken back (TICKET has no compensation). What if the card is declined "
           "after the ticket was issued?",
           "The step without a compensation goes last: `steps=[HOTEL, CARD, TICKET]`."],
    solution='trip_saga = SagaDefinition(name="trip", starts_on="TripRequested", key="trip_id",\n'
             '                           steps=[HOTEL, CARD, TICKET], completed="ConfirmTrip", aborted="CancelTrip")',
    explanation="A step that cannot be compensated (the pivot) goes after every step that can still fail.",
    wrong=[WrongAnswer('trip_saga = SagaDefinition(name="trip", starts_on="TripRequested", key="trip_id",\n'
                       '                           steps=[TICKET, HOTEL, CARD])', "stayed done"),
           WrongAnswer('trip_saga = SagaDefinition(name="trip", starts_on="TripRequested", steps=[HOTEL, CARD, TICKET])',
                       "key=\"trip_id\""),
           WrongAnswer('trip_saga = [HOTEL, CARD, TICKET]', "should be a SagaDefinition")],
)
