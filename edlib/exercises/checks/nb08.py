"""Exercises of notebook 08, the transactional outbox."""
from __future__ import annotations

from collections import Counter

from edlib import World
from edlib.course.scenarios import order_bodies
from edlib.exercises import FunctionExercise, Incorrect, Outcome, PredictExercise, SystemExercise, WrongAnswer
from edlib.simulation.faults import crash, crash_relay

NOTEBOOK = "08"


def shop(outbox: bool) -> World:
    """orders (endpoint ``create``, dual write or outbox) and shipping (one row per OrderPlaced delivered)."""
    world = World(seed=8)
    orders = world.add_service("orders", latency_ms=5)
    shipping = world.add_service("shipping", latency_ms=10)

    @orders.endpoint("create")
    def create_order(data, db, publish, service):
        order_id = f"order-{db.count('orders') + 1}"
        db.put("orders", order_id, data)
        emit = service.outbox if outbox else publish      # outbox: same transaction; publish: after commit
        emit("OrderPlaced", {"order_id": order_id, **data}, key=order_id)
        return {"order_id": order_id}

    @shipping.handles("OrderPlaced")
    def schedule(event, db):
        db.execute("CREATE TABLE IF NOT EXISTS shipments (order_id TEXT, item TEXT)")
        db.execute("INSERT INTO shipments VALUES (?, ?)", (event.data["order_id"], event.data["item"]))

    world.gateway.route("POST /orders", call="orders.create")
    return world


def shipped(world: World) -> list[str]:
    """Order ids in shipping's shipments table, one per row, in the order written."""
    db = world.service("shipping").db
    if "shipments" not in db.tables():
        return []
    return [row["order_id"] for row in db.query("SELECT order_id FROM shipments ORDER BY rowid")]


def _dual_write_shipments() -> int:
    world = shop(outbox=False)
    crash(world.service("orders"), at=3, point="after_commit", restart_ms=500)
    world.send_many("POST /orders", order_bodies(5), every_ms=1000)
    return len(shipped(world))


q1 = PredictExercise(
    notebook=NOTEBOOK, name="q1", variable="dual_write_answer", title="Crash between commit and publish",
    choices={"a": 5, "b": 4, "c": 3},
    experiment=_dual_write_shipments,
    why={"a": "The event of the 3rd order was still waiting in the process when it died: who sends it?",
         "c": "Only the 3rd order is hit: `orders` restarts after 500 ms and the 4th and 5th go through."},
    hints=["The 3rd order's row is committed; its event would leave right after the commit.",
           "A crashed process forgets what it held in memory, and nothing in the database says an event is owed."],
    explanation="The dual write loses the event of the crashed order: orders has 5 rows, shipping 4 shipments.",
)


def _cancel_world() -> World:
    world = World(seed=8)
    orders = world.add_service("orders", latency_ms=5)
    shipping = world.add_service("shipping", latency_ms=10)
    for i, body in enumerate(order_bodies(3), 1):
        orders.db.put("orders", f"order-{i}", {**body, "status": "placed"})

    @shipping.handles("OrderCancelled")
    def stop(event, db):
        db.put("stopped", event.data["order_id"], {"order_id": event.data["order_id"]})

    return world


def _trial_cancel(cancel_order) -> str:
    world = _cancel_world()
    orders, shipping = world.service("orders"), world.service("shipping")
    orders.endpoint("cancel")(cancel_order)
    world.gateway.route("POST /orders/{id}/cancel", call="orders.cancel")
    crash(orders, at=2, point="after_commit", restart_ms=500)
    ids = [f"order-{i}" for i in (1, 2, 3)]
    for i, order_id in enumerate(ids):
        def cancel(order_id: str = order_id) -> None:
            world.request(f"POST /orders/{order_id}/cancel", {"reason": "changed my mind"})
        world.scheduler.at(i * 1000, cancel)
    world.run()
    for order_id in ids:
        row = orders.db.get("orders", order_id) or {}
        if row.get("status") != "cancelled":
            raise Incorrect(f"orders' row for {order_id} has status {row.get('status')!r}: the endpoint should "
                            "store the order again with \"status\": \"cancelled\".")
    told = {row["id"] for row in shipping.db.query("SELECT id FROM stopped")} if "stopped" in shipping.db.tables() \
        else set()
    missing = [order_id for order_id in ids if order_id not in told]
    if missing:
        raise Incorrect(f"{missing[0]} is cancelled in orders' database, but shipping never heard of it: "
                        "its OrderCancelled event was lost in the crash after the commit. Write the event "
                        "with `outbox(...)`, in the same transaction as the row.")
    return "all 3 cancellations reached shipping, including the one whose process crashed after the commit."


q2 = FunctionExercise(
    notebook=NOTEBOOK, name="q2", title="Cancel an order through the outbox",
    variable="cancel_order", handler=True, trial=_trial_cancel,
    hints=["The order's id is `data[\"id\"]` (it comes from the path /orders/{id}/cancel).",
           "Read the row with `db.get(\"orders\", ...)`, store it again with `\"status\": \"cancelled\"`, then "
           "write the event with `outbox(\"OrderCancelled\", {\"order_id\": ...}, key=...)`.",
           "`outbox` is a parameter, like `db`: `def cancel_order(data, db, outbox):`"],
    solution='def cancel_order(data, db, outbox):\n'
             '    order = db.get("orders", data["id"])\n'
             '    db.put("orders", data["id"], {**order, "status": "cancelled"})\n'
             '    outbox("OrderCancelled", {"order_id": data["id"]}, key=data["id"])\n'
             '    return {"order_id": data["id"], "status": "cancelled"}',
    explanation="The row and its event commit together, so a crash can delay the event but never lose it.",
    wrong=[WrongAnswer('def cancel_order(data, db, publish):\n'
                       '    order = db.get("orders", data["id"])\n'
                       '    db.put("orders", data["id"], {**order, "status": "cancelled"})\n'
                       '    publish("OrderCancelled", {"order_id": data["id"]}, key=data["id"])\n'
                       '    return {"order_id": data["id"], "status": "cancelled"}', "shipping never heard of it"),
           WrongAnswer('def cancel_order(data, db):\n'
                       '    order = db.get("orders", data["id"])\n'
                       '    db.put("orders", data["id"], {**order, "status": "cancelled"})\n'
                       '    outbox("OrderCancelled", {"order_id": data["id"]}, key=data["id"])\n'
                       '    return {"order_id": data["id"], "status": "cancelled"}',
                       "NameError", Outcome.RAISED)],
)


def _relay_crash_world() -> World:
    world = shop(outbox=True)
    crash_relay(world.service("orders"), at_row=2, restart_ms=500)
    return world


def _inspect_duplicates(world: World) -> str:
    created = sum(r.status == 201 for r in world.responses)
    if created < 3:
        raise Incorrect(f"orders created so far: {created}; send at least 3 (the relay crashes after "
                        "publishing the 2nd), with `send_many`, 1000 ms apart.")
    if not world.fault_counts["crashes"]:
        raise Incorrect("the relay never crashed: use the world from `q3.world()` unchanged apart from your fix.")
    twice = sorted(order_id for order_id, n in Counter(shipped(world)).items() if n > 1)
    if twice:
        raise Incorrect(f"shipping scheduled {twice[0]} twice: the relay published it again after its crash, "
                        "and shipping applied both deliveries. Make shipping an idempotent consumer before "
                        "you send the orders.")
    if len(set(shipped(world))) < created:
        raise Incorrect(f"shipping scheduled {len(set(shipped(world)))} of {created} orders: run the world to the "
                        "end (send_many does) and keep shipping's handler as it is.")
    published = world.trace.count("publish", label="OrderPlaced")
    return (f"{published} OrderPlaced events were published for {created} orders; shipping applied each "
            "order once.")


q3 = SystemExercise(
    notebook=NOTEBOOK, name="q3", title="Absorb the relay's duplicate",
    variable="dup_world", build=_relay_crash_world, inspect=_inspect_duplicates,
    hints=["The relay will publish the 2nd outbox row twice; shipping inserts one row per delivery.",
           "`service.idempotent = True` records each processed event id in the service's own database.",
           "`dup_world.service(\"shipping\").idempotent = True`, then "
           "`dup_world.send_many(\"POST /orders\", order_bodies(3), every_ms=1000)`"],
    solution='dup_world = q3.world()\n'
             'dup_world.service("shipping").idempotent = True\n'
             '_ = dup_world.send_many("POST /orders", order_bodies(3), every_ms=1000)',
    explanation="An outbox gives at-least-once publishing; the idempotent consumer turns it into exactly-once effects.",
    wrong=[WrongAnswer('dup_world = q3.world()\n'
                       '_ = dup_world.send_many("POST /orders", order_bodies(3), every_ms=1000)', "twice"),
           WrongAnswer('dup_world = q3.world()\n'
                       'dup_world.service("shipping").idempotent = True\n'
                       '_ = dup_world.send_many("POST /orders", order_bodies(1), every_ms=1000)',
                       "send at least 3")],
)
