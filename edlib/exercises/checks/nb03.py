"""Exercises of notebook 03, events and the bus."""
from __future__ import annotations

from edlib import World
from edlib.course.scenarios import event_shop, order_bodies
from edlib.exercises import (
    FunctionExercise,
    Incorrect,
    Outcome,
    PredictExercise,
    SystemExercise,
    WrongAnswer,
    handler_failures,
)

NOTEBOOK = "03"


def _failed_with_events() -> int:
    world = event_shop(seed=3)
    world.service("shipping").down(500, 1500)
    return sum(not r.ok for r in world.send_many("POST /orders", order_bodies(20), every_ms=100))


q2 = PredictExercise(
    notebook=NOTEBOOK, name="q2", variable="outage_answer", title="The same outage, with events",
    choices={"a": 0, "b": 10, "c": 20},
    experiment=_failed_with_events,
    why={"b": "That is the synchronous answer. Does the gateway still wait for shipping?",
         "c": "The gateway only needs the bus to accept the event."},
    hints=["What does the gateway do with a request now?", "Who needs shipping to be up, and when?"],
    explanation="The gateway only publishes; the event waits in the log until shipping is back.",
)


def _trial_ship(ship) -> str:
    world = World(seed=1)
    shipping = world.add_service("shipping")
    shipping.handles("OrderPlaced")(ship)
    orders = [{"order_id": f"order-{i}", "item": item} for i, item in enumerate(["book", "pen", "lamp"], 1)]
    for order in orders:
        world.publish("OrderPlaced", order, key=order["order_id"])
    world.run()
    if world.dead_letters:
        raise Incorrect(f"your handler failed: {handler_failures(world)[0]}.")
    rows = shipping.db.count("shipments")
    if rows != len(orders):
        raise Incorrect(f"after {len(orders)} OrderPlaced events the shipments table holds {rows} "
                        f"row{'s' if rows != 1 else ''}, not {len(orders)}: one row per order, "
                        "stored under the order's id.")
    for order in orders:
        row = shipping.db.get("shipments", order["order_id"])
        if row is None or row.get("item") != order["item"]:
            raise Incorrect(f"the shipment stored under {order['order_id']!r} should hold "
                            f"'item': {order['item']!r}, but it is {row!r}.")
    return "one shipment per order, keyed by the order's id."


q1 = FunctionExercise(
    notebook=NOTEBOOK, name="q1", title="A handler that schedules each shipment",
    variable="schedule", handler=True, trial=_trial_ship,
    hints=["The event's data is `event.data`: a dict with `order_id` and `item`.",
           "`db.put(table, id, doc)` stores one row; use the order's id as the row's id.",
           "`db.put(\"shipments\", event.data[\"order_id\"], {\"item\": event.data[\"item\"]})`"],
    solution='def schedule(event, db):\n'
             '    db.put("shipments", event.data["order_id"], {"item": event.data["item"]})',
    explanation="Keying the row by the order id also makes the handler safe to run twice for one event.",
    wrong=[WrongAnswer('def schedule(event, db):\n'
                       '    db.put("shipments", "order", {"item": event.data["item"]})', "holds 1 row, not 3"),
           WrongAnswer('def schedule(event, db):\n'
                       '    db.put("shipments", event.data["id"], {"item": event.data["item"]})',
                       "KeyError: 'id'", Outcome.RAISED)],
)


def _inspect_billing(world: World) -> str:
    if "billing" not in world.services:
        raise Incorrect("add a service called 'billing': `billing = world.add_service(\"billing\")`.")
    routes = [(r.method, r.pattern, r.publish) for r in world.gateway.routes]
    if routes != [("POST", "/orders", "OrderPlaced")]:
        raise Incorrect("leave the gateway as it is: it should still only publish OrderPlaced. "
                        "A new subscriber needs no change to the publisher.")
    billing = world.service("billing")
    if "OrderPlaced" not in billing.handlers:
        raise Incorrect("billing should handle OrderPlaced: decorate a function with "
                        "`@billing.handles(\"OrderPlaced\")`.")
    accepted = sum(r.status == 202 for r in world.responses)
    if accepted < 5:
        raise Incorrect(f"send at least 5 orders through the gateway and run the world; "
                        f"{accepted} were accepted so far.")
    problems = handler_failures(world)
    if problems:
        raise Incorrect(f"billing's handler failed: {problems[0]}.")
    if world.backlog("billing"):
        raise Incorrect(f"{world.backlog('billing')} events still wait for billing: call `world.run()`.")
    if billing.db.rows() < accepted:
        raise Incorrect(f"billing wrote {billing.db.rows()} rows for {accepted} orders: store one row per order.")
    return f"billing recorded all {accepted} orders; the gateway and the other services did not change."


q3 = SystemExercise(
    notebook=NOTEBOOK, name="q3", title="Add billing without touching the gateway",
    build=lambda: event_shop(seed=3), inspect=_inspect_billing,
    hints=["`billing = world.add_service(\"billing\")` adds the service (and its database).",
           "Decorate a handler with `@billing.handles(\"OrderPlaced\")`; store one row per order with "
           "`db.put(\"invoices\", event.data[\"order_id\"], {...})`.",
           "Then `world.send_many(\"POST /orders\", order_bodies(5))` sends and runs."],
    solution='world = q3.world()\n'
             'billing = world.add_service("billing")\n\n\n'
             '@billing.handles("OrderPlaced")\n'
             'def invoice(event, db):\n'
             '    db.put("invoices", event.data["order_id"], {"item": event.data["item"]})\n\n\n'
             '_ = world.send_many("POST /orders", order_bodies(5))',
    explanation="Publishers do not know their subscribers: adding one changes nothing upstream.",
    wrong=[WrongAnswer('world = q3.world()\n'
                       'billing = world.add_service("billing")\n'
                       '_ = world.send_many("POST /orders", order_bodies(5))', "should handle OrderPlaced"),
           WrongAnswer('world = q3.world()\n'
                       'billing = world.add_service("billing")\n\n\n'
                       '@billing.handles("OrderPlaced")\n'
                       'def invoice(event, db):\n'
                       '    db.put("invoices", "same-id", {"item": event.data["item"]})\n\n\n'
                       '_ = world.send_many("POST /orders", order_bodies(5))', "store one row per order")],
)
