"""Exercises of notebook 17, the capstone: the legacy order flow refactored to events."""
from __future__ import annotations

from edlib import World
from edlib.course.coupling import service_edges
from edlib.course.legacy import legacy_shop
from edlib.course.refactored import HANDLERS, event_shop, outcomes
from edlib.course.shopdata import load_customers, load_products, load_requests
from edlib.exercises import (
    FunctionExercise,
    Incorrect,
    Outcome,
    PredictExercise,
    SystemExercise,
    WrongAnswer,
    handler_failures,
)
from edlib.exercises.system import memory_bus
from edlib.patterns.sensitive import search_log

NOTEBOOK = "17"
EMAIL_DOWN = (1000, 3000)
"""The e-mail outage of the availability experiment (virtual ms)."""


def _bodies() -> list:
    return [r["body"] for r in load_requests()]


# -- q1: payments' handler -----------------------------------------------------------------------
def _trial_charge(charge) -> str:
    customers, products = load_customers(), load_products()
    legacy = legacy_shop(customers, products)
    legacy.send_many("POST /orders", _bodies(), every_ms=100)
    world = event_shop(customers, products, replace={"charge": charge})
    world.send_many("POST /orders", _bodies(), every_ms=100)
    if world.dead_letters:
        raise Incorrect(f"your handler failed: {handler_failures(world)[0]}.")
    leaks = search_log(memory_bus(world), {c["customer_id"]: c["card_number"] for c in customers})
    if leaks:
        raise Incorrect(f"the card number of {leaks[0].secret} is in {leaks[0].event_type} {leaks[0].event_id}: "
                        "publish the order's data, never the card.")
    orders = {row["order_id"]: row for row in world.service("orders").db.all("orders")}
    pending = sorted((o for o in orders.values() if o["status"] == "pending"), key=lambda o: int(o["order_id"][6:]))
    if pending:
        o = pending[0]
        raise Incorrect(f"{o['order_id']} ({o['customer_id']}, {o['sku']}) stays pending: orders settles an order "
                        "on PaymentTaken or PaymentDeclined, so publish one of them for every StockReserved.")
    before, after = outcomes(legacy), outcomes(world)
    extra = sorted(set(after["confirmed"]) - set(before["confirmed"]), key=lambda i: int(i[6:]))
    if extra:
        o = orders[extra[0]]
        raise Incorrect(f"{o['order_id']} ({o['customer_id']}) is confirmed, but the legacy flow declined its card: "
                        "compare the card on file with DECLINED_CARDS.")
    missing = sorted(set(before["confirmed"]) - set(after["confirmed"]), key=lambda i: int(i[6:]))
    if missing:
        raise Incorrect(f"{missing[0]} was confirmed by the legacy flow but is rejected by yours.")
    if after != before:
        differs = [k for k in before if before[k] != after[k]]
        raise Incorrect(f"the orders match the legacy flow's, but not the {differs[0]}: store one charge per paid "
                        "order, with its amount_cents.")
    return (f"the same {len(after['confirmed'])} orders confirmed as by the legacy flow, the same stock, "
            "e-mails and money; no card number in the log.")


q1 = FunctionExercise(
    notebook=NOTEBOOK, name="q1", title="payments reacts to StockReserved",
    variable="charge", handler=True, trial=_trial_charge,
    hints=["The card on file is in payments' own table: `db.get(\"cards\", order[\"customer_id\"])[\"card_number\"]`.",
           "Declined card (`in DECLINED_CARDS`): publish `PaymentDeclined`; otherwise store a charge and "
           "publish `PaymentTaken`.",
           "Publish the order's data (`event.data`) with `key=order[\"order_id\"]`; store "
           "`{\"amount_cents\": ..., \"card_last4\": card[-4:]}` in `charges` under the order id."],
    solution='def charge(event, db, publish):\n'
             '    order = event.data\n'
             '    card = db.get("cards", order["customer_id"])["card_number"]\n'
             '    if card in DECLINED_CARDS:\n'
             '        publish("PaymentDeclined", order, key=order["order_id"])\n'
             '        return\n'
             '    db.put("charges", order["order_id"], {"amount_cents": order["amount_cents"],\n'
             '                                          "card_last4": card[-4:]})\n'
             '    publish("PaymentTaken", order, key=order["order_id"])',
    explanation="payments needs nobody: its own cards, the event's data, and the bus for its answer.",
    wrong=[WrongAnswer('def charge(event, db, publish):\n'
                       '    order = event.data\n'
                       '    card = db.get("cards", order["customer_id"])["card_number"]\n'
                       '    db.put("charges", order["order_id"], {"amount_cents": order["amount_cents"],\n'
                       '                                          "card_last4": card[-4:]})\n'
                       '    publish("PaymentTaken", order, key=order["order_id"])', "declined its card"),
           WrongAnswer('def charge(event, db, publish):\n'
                       '    order = event.data\n'
                       '    card = db.get("cards", order["customer_id"])["card_number"]\n'
                       '    if card in DECLINED_CARDS:\n'
                       '        return\n'
                       '    db.put("charges", order["order_id"], {"amount_cents": order["amount_cents"],\n'
                       '                                          "card_last4": card[-4:]})\n'
                       '    publish("PaymentTaken", order, key=order["order_id"])', "stays pending"),
           WrongAnswer('def charge(event, db, publish):\n'
                       '    order = event.data\n'
                       '    card = db.get("cards", order["customer_id"])["card_number"]\n'
                       '    if card in DECLINED_CARDS:\n'
                       '        publish("PaymentDeclined", order, key=order["order_id"])\n'
                       '        return\n'
                       '    db.put("charges", order["order_id"], {"amount_cents": order["amount_cents"]})\n'
                       '    publish("PaymentTaken", {**order, "card": card}, key=order["order_id"])',
                       "the card number of"),
           WrongAnswer('def charge(event, db, publish):\n'
                       '    if event.data["card_number"] in DECLINED_CARDS:\n'
                       '        publish("PaymentDeclined", event.data)',
                       "KeyError: 'card_number'", Outcome.RAISED)],
)


# -- q2: the e-mail outage, after the refactoring -------------------------------------------------
def outage_failures(world: World) -> int:
    """Send the legacy requests with e-mail down during :data:`EMAIL_DOWN`; count 5xx answers."""
    world.service("email").down(*EMAIL_DOWN)
    responses = world.send_many("POST /orders", _bodies(), every_ms=100)
    return sum(r.status >= 500 for r in responses)


def _sent_during_outage() -> int:
    return sum(1 for i in range(len(load_requests())) if EMAIL_DOWN[0] <= i * 100 < EMAIL_DOWN[1])


q2 = PredictExercise(
    notebook=NOTEBOOK, name="q2", variable="outage_answer", title="E-mail is down: how many orders fail now?",
    choices={"a": 0, "b": outage_failures(legacy_shop(load_customers(), load_products())),
             "c": _sent_during_outage()},
    experiment=lambda: outage_failures(event_shop(load_customers(), load_products())),
    why={"b": "That is the legacy flow, where orders waits for email. Whom does orders wait for now?",
         "c": "The gateway waits only for orders.place, which writes to orders' own database."},
    hints=["Which services does one request need up now (the coupling table above)?",
           "email reads PaymentTaken events from the log when it is back."],
    explanation="Only orders answers the client; email's outage delays the confirmations, it fails no order.",
)


# -- q3: a new service, and nothing else changes ---------------------------------------------------
def _inspect_loyalty(world: World) -> str:
    if "loyalty" not in world.services:
        raise Incorrect("add a service called 'loyalty': `loyalty = world.add_service(\"loyalty\", publishes=[])`.")
    for name in ("orders", "payments", "inventory", "email"):
        svc = world.service(name)
        fns = [h.fn for h in svc.endpoints.values()] + [h.fn for h in svc.handlers.values()]
        if any(fn not in HANDLERS.values() for fn in fns):
            raise Incorrect(f"leave {name} as it is: a new consumer needs no change to the others.")
    loyalty = world.service("loyalty")
    if set(loyalty.handlers) != {"PaymentTaken"}:
        raise Incorrect(f"loyalty should handle PaymentTaken (points for paid orders only); it handles "
                        f"{sorted(loyalty.handlers) or 'nothing'}.")
    if service_edges(world):
        raise Incorrect(f"loyalty calls {service_edges(world)[0][1]} directly: take what it needs from the event.")
    paid = len(world.bus.log("PaymentTaken"))
    if paid < 5:
        raise Incorrect(f"send orders through the gateway (`world.send_many(...)`) until at least 5 are paid; "
                        f"{paid} so far.")
    problems = handler_failures(world)
    if problems:
        raise Incorrect(f"a handler failed: {problems[0]}.")
    if loyalty.db.rows() != paid:
        raise Incorrect(f"loyalty wrote {loyalty.db.rows()} rows for {paid} paid orders: one row per paid order.")
    return f"loyalty recorded points for all {paid} paid orders; no other service changed, no new direct call."


q3 = SystemExercise(
    notebook=NOTEBOOK, name="q3", title="Add loyalty points without touching the others",
    build=lambda: event_shop(load_customers(), load_products()), inspect=_inspect_loyalty,
    hints=["`loyalty = world.add_service(\"loyalty\", publishes=[])` (it publishes nothing).",
           "`@loyalty.handles(\"PaymentTaken\")` and store one row per order: "
           "`db.put(\"points\", order_id, {\"customer_id\": ..., \"points\": amount_cents // 100})`.",
           "Then `world.send_many(\"POST /orders\", bodies[:20], every_ms=100)`."],
    solution='world = q3.world()\n'
             'loyalty = world.add_service("loyalty", publishes=[])\n\n\n'
             '@loyalty.handles("PaymentTaken")\n'
             'def award_points(event, db):\n'
             '    db.put("points", event.data["order_id"], {"customer_id": event.data["customer_id"],\n'
             '                                              "points": event.data["amount_cents"] // 100})\n\n\n'
             '_ = world.send_many("POST /orders", bodies[:20], every_ms=100)',
    explanation="A new consumer of an existing event: no publisher changes, no new direct dependency.",
    wrong=[WrongAnswer('world = q3.world()\n'
                       'loyalty = world.add_service("loyalty", publishes=[])\n\n\n'
                       '@loyalty.handles("OrderPlaced")\n'
                       'def award_points(event, db):\n'
                       '    db.put("points", event.data["order_id"], {"points": event.data["amount_cents"] // 100})\n\n\n'
                       '_ = world.send_many("POST /orders", bodies[:20], every_ms=100)', "paid orders only"),
           WrongAnswer('world = q3.world()\n'
                       'loyalty = world.add_service("loyalty", publishes=[])\n\n\n'
                       '@loyalty.handles("PaymentTaken")\n'
                       'def award_points(event, db):\n'
                       '    db.put("points", event.data["customer_id"], {"points": event.data["amount_cents"] // 100})\n\n\n'
                       '_ = world.send_many("POST /orders", bodies[:20], every_ms=100)', "one row per paid order"),
           WrongAnswer('world = q3.world()\n'
                       'loyalty = world.add_service("loyalty", publishes=[])\n\n\n'
                       '@loyalty.handles("PaymentTaken")\n'
                       'def award_points(event, db):\n'
                       '    db.put("points", event.data["order_id"], {"points": event.data["amount_cents"] // 100})',
                       "at least 5 are paid")],
)
