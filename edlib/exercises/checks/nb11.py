"""Exercises of notebook 11, CQRS."""
from __future__ import annotations

import csv
from collections import Counter

from edlib import World
from edlib.course.shopdata import DATA_DIR
from edlib.exercises import FunctionExercise, Incorrect, PredictExercise, SystemExercise, WrongAnswer, handler_failures
from edlib.patterns.projections import Projection

NOTEBOOK = "11"
DATA = DATA_DIR


def _orders(n: int) -> list[dict]:
    with open(DATA / "orders.csv", newline="", encoding="utf-8") as f:
        return [{**r, "qty": int(r["qty"]), "amount_cents": int(r["amount_cents"])} for r in csv.DictReader(f)][:n]


def _shop(n_orders: int, read_ms: float = 3.0) -> World:
    """A write side (`orders`, outbox on topic "orders") and the read model `my_orders`, after n orders."""
    world = World(seed=11)
    orders = world.add_service("orders", latency_ms=3, publishes=["OrderPlaced"])

    @orders.endpoint("place")
    def place(data, db, outbox):
        db.put("orders", data["order_id"], data)
        outbox("OrderPlaced", data, key=data["order_id"], topic="orders")
        return {"order_id": data["order_id"]}

    view = Projection("my_orders", tables={"my_orders": "order_id TEXT PRIMARY KEY, customer_id TEXT"})

    @view.on("OrderPlaced", topic="orders")
    def add(event, db):
        db.execute("INSERT OR REPLACE INTO my_orders VALUES (?, ?)",
                   (event.data["order_id"], event.data["customer_id"]))

    service = view.install(world, latency_ms=read_ms)

    @service.endpoint("by_customer")
    def by_customer(data, db):
        rows = db.query("SELECT order_id FROM my_orders WHERE customer_id = ? ORDER BY order_id", (data["id"],))
        return {"orders": [r["order_id"] for r in rows]}

    world.gateway.route("POST /orders", call="orders.place")
    world.gateway.route("GET /customers/{id}/orders", call="my_orders.by_customer")
    world.send_many("POST /orders", _orders(n_orders), every_ms=20)
    return world


def _read_right_after_write() -> str:
    world = _shop(30)
    new = {"order_id": "order-new", "customer_id": "cust-013", "item": "lamp", "qty": 1, "amount_cents": 3400,
           "ship_to": "DE"}
    if not world.request("POST /orders", new).ok:
        return "the write failed"
    answer = world.request("GET /customers/cust-013/orders")
    if not answer.ok:
        return "an error"
    return "it lists the new order" if "order-new" in answer.body["orders"] else "it does not list it yet"


q1 = PredictExercise(
    notebook=NOTEBOOK, name="q1", variable="stale_answer", title="Read your own write?",
    choices={"a": "it lists the new order", "b": "it does not list it yet", "c": "an error"},
    experiment=_read_right_after_write,
    why={"a": "The write side has the order. Has its event reached the read model yet?",
         "c": "The read model is there and answers; the question is what it knows."},
    hints=["The GET is answered by the read model, not by the write side.",
           "The read model learns about the order from an event, which leaves through the outbox and then waits "
           "for the read model's consumer."],
    explanation="The read model is eventually consistent: right after the write it still answers from the past.",
)


def _reference_max_lag(world: World, service: str) -> float:
    published: dict[str, float] = {}
    for r in world.trace.where("publish"):
        published.setdefault(r.ref, r.time)
    return max(r.time - published[r.ref] for r in world.trace.where("ack", source=service))


def _trial_max_lag(max_lag) -> str:
    notes = []
    for read_ms in (3.0, 30.0):
        world = _shop(25, read_ms=read_ms)
        got = max_lag(world, "my_orders")
        want = _reference_max_lag(world, "my_orders")
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            raise Incorrect(f"max_lag should return a number of ms, but it returned {got!r}.")
        if abs(got - want) > 1e-9:
            raise Incorrect(f"with a read model taking {read_ms:g} ms per event, max_lag(...) returned {got:g}; "
                            "measure from each event's publish to the read model's ack of that event, "
                            "and take the largest.")
        notes.append(f"{got:g} ms at {read_ms:g} ms per event")
    return "largest lag " + ", ".join(notes) + "."


q2 = FunctionExercise(
    notebook=NOTEBOOK, name="q2", title="The largest lag, from the trace", variable="max_lag",
    trial=_trial_max_lag,
    hints=["`world.trace.where(\"publish\")` gives publish records, `world.trace.where(\"ack\", source=service)` "
           "the read model's acks; `r.ref` is the event id in both, `r.time` the time.",
           "Make a dict event id -> publish time, then for each ack compute ack time - publish time.",
           "`return max(r.time - published[r.ref] for r in world.trace.where(\"ack\", source=service))`"],
    solution='def max_lag(world, service):\n'
             '    published = {r.ref: r.time for r in world.trace.where("publish")}\n'
             '    return max(r.time - published[r.ref] for r in world.trace.where("ack", source=service))',
    explanation="Lag is measured per event, from the trace: the read model's ack minus the event's publish.",
    wrong=[WrongAnswer('def max_lag(world, service):\n'
                       '    published = {r.ref: r.time for r in world.trace.where("publish")}\n'
                       '    return max(r.time - published[r.ref] for r in world.trace.where("deliver", target=service))',
                       "take the largest"),
           WrongAnswer('def max_lag(world, service):\n'
                       '    published = {r.ref: r.time for r in world.trace.where("publish")}\n'
                       '    return min(r.time - published[r.ref] for r in world.trace.where("ack", source=service))',
                       "take the largest")],
)


def _country_truth(world: World) -> dict[str, int]:
    return dict(Counter(e.data["ship_to"] for e in world.bus.log("orders")))


def _inspect_countries(world: World) -> str:
    if "orders_by_country" not in world.services:
        raise Incorrect("install a read model called 'orders_by_country': "
                        "`Projection(\"orders_by_country\", tables={...})`, then `.install(world)`.")
    service = world.service("orders_by_country")
    if "OrderPlaced" not in service.handlers or service.topics.get("OrderPlaced") != "orders":
        raise Incorrect("the read model should handle OrderPlaced from the topic \"orders\": "
                        "`@view.on(\"OrderPlaced\", topic=\"orders\")`.")
    problems = handler_failures(world)
    if problems:
        raise Incorrect(f"the read model's handler failed: {problems[0]}.")
    if world.backlog("orders_by_country"):
        raise Incorrect(f"{world.backlog('orders_by_country')} events still wait for the read model: "
                        "run the world (`country_world.run()`) to let it catch up.")
    if "countries" not in service.db.tables():
        raise Incorrect("the read model has no table 'countries' (columns ship_to and orders).")
    got = {r["ship_to"]: r["orders"] for r in service.db.query("SELECT ship_to, orders FROM countries")}
    truth = _country_truth(world)
    if got != truth:
        wrong = sorted(k for k in set(got) | set(truth) if got.get(k) != truth.get(k))
        raise Incorrect(f"countries says {got.get(wrong[0])} orders to {wrong[0]}, but the history holds "
                        f"{truth.get(wrong[0], 0)}: add 1 to the country's row for each OrderPlaced.")
    top = max(truth, key=lambda c: (truth[c], c))
    return (f"built from {sum(truth.values())} past events: {len(truth)} countries, the most orders to "
            f"{top} ({truth[top]}).")


q3 = SystemExercise(
    notebook=NOTEBOOK, name="q3", title="A new read model, built from history", variable="country_world",
    build=lambda: _shop(60), inspect=_inspect_countries,
    hints=["`view = Projection(\"orders_by_country\", tables={\"countries\": \"ship_to TEXT PRIMARY KEY, "
           "orders INTEGER\"})`",
           "Decorate a handler with `@view.on(\"OrderPlaced\", topic=\"orders\")`; an upsert adds one: "
           "`INSERT INTO countries VALUES (?, 1) ON CONFLICT (ship_to) DO UPDATE SET orders = orders + 1`.",
           "`view.install(country_world)`, then `country_world.run()`."],
    solution='country_world = q3.world()\n'
             'view = Projection("orders_by_country", tables={"countries": "ship_to TEXT PRIMARY KEY, orders INTEGER"})\n\n\n'
             '@view.on("OrderPlaced", topic="orders")\n'
             'def count(event, db):\n'
             '    db.execute("INSERT INTO countries VALUES (?, 1) ON CONFLICT (ship_to) DO UPDATE SET orders = orders + 1",\n'
             '               (event.data["ship_to"],))\n\n\n'
             'view.install(country_world)\n'
             '_ = country_world.run()',
    explanation="A new read model starts at the earliest event: the history already in the log builds it.",
    wrong=[WrongAnswer('country_world = q3.world()\n'
                       'view = Projection("orders_by_country", tables={"countries": "ship_to TEXT PRIMARY KEY, orders INTEGER"})\n\n\n'
                       '@view.on("OrderPlaced", topic="orders")\n'
                       'def count(event, db):\n'
                       '    db.execute("INSERT INTO countries VALUES (?, 1) ON CONFLICT (ship_to) DO UPDATE SET orders = orders + 1",\n'
                       '               (event.data["ship_to"],))\n\n\n'
                       'view.install(country_world)', "run the world"),
           WrongAnswer('country_world = q3.world()\n'
                       'view = Projection("orders_by_country", tables={"countries": "ship_to TEXT PRIMARY KEY, orders INTEGER"})\n\n\n'
                       '@view.on("OrderPlaced", topic="orders")\n'
                       'def count(event, db):\n'
                       '    db.execute("INSERT OR REPLACE INTO countries VALUES (?, 1)", (event.data["ship_to"],))\n\n\n'
                       'view.install(country_world)\n'
                       '_ = country_world.run()', "add 1 to the country's row")],
)
