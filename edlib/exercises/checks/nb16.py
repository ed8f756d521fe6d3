"""Exercises of notebook 16, a real broker.

Both are checked on the in-memory bus through :class:`~edlib.runtime.host.ServiceHost` (the
adapter the processes use), so they need no Redis: the bus contract says the two buses
behave alike here, and ``tests/broker`` checks that it holds.
"""
from __future__ import annotations

from typing import Any

from edlib import World
from edlib.core.events import EventFactory
from edlib.course import shop
from edlib.exercises import FunctionExercise, Incorrect, PredictExercise, WrongAnswer, handler_failures
from edlib.messaging.memory import InMemoryBus
from edlib.runtime.host import ServiceHost

NOTEBOOK = "16"
ORDERS: list[dict[str, Any]] = [{"order_id": f"order-{i}", "item": item, "qty": i}
                                for i, item in enumerate(["book", "lamp", "mug"], 1)]


def _drain(*hosts: ServiceHost) -> None:
    while sum(h.poll() for h in hosts):
        pass


# -- q1: what two instances in one group do ------------------------------------------------------
def _handled_by_two_orders_instances() -> int:
    bus, events = InMemoryBus(), EventFactory()
    first = ServiceHost("orders", bus, consumer="orders-1", trace=False)
    second = ServiceHost("orders", bus, consumer="orders-2", trace=False)
    shipping = ServiceHost("shipping", bus, consumer="shipping-1", trace=False)
    for host, install in ((first, shop.orders), (second, shop.orders), (shipping, shop.shipping)):
        install(host)
        host.subscribe_all()
    for n in range(1, 41):
        bus.publish("OrderPlaced", events("OrderPlaced", {"order_id": f"order-{n}", "item": "pen", "qty": 1}))
    _drain(first, second, shipping)
    if not (first.handled and second.handled and shipping.handled == 40):
        raise RuntimeError("the experiment did not run as designed")
    return first.handled + second.handled


q1 = PredictExercise(
    notebook=NOTEBOOK, name="q1", variable="instances_answer", title="Two instances in one consumer group",
    choices={"a": 80, "b": 40, "c": 20},
    experiment=_handled_by_two_orders_instances,
    why={"a": "That is what two *groups* would do. Both instances consume as the group `orders`.",
         "c": "Groups do not compete: shipping is a group of its own and gets its own copy of every event."},
    hints=["A consumer group is one reader of the stream, however many processes it has.",
           "Which events does `shipping` receive, and does that take any away from `orders`?"],
    explanation="Instances of one group split its events between them; every group gets every event.",
)


# -- q2: a handler that runs unchanged on any bus --------------------------------------------------
def _in_a_world(reserve) -> tuple[list, int, list[str]]:
    world = World(seed=16)
    stock = world.add_service("stock")
    stock.handles("OrderPlaced")(reserve)
    for order in ORDERS:
        world.publish("OrderPlaced", order, key=order["order_id"])
    world.run()
    return world.bus.log("StockReserved"), stock.db.count("reservations"), handler_failures(world)


def _on_a_host(reserve) -> tuple[list, int, list[str]]:
    bus, events = InMemoryBus(), EventFactory()
    stock = ServiceHost("stock", bus, trace=False)
    stock.handles("OrderPlaced")(reserve)
    stock.subscribe_all()
    for order in ORDERS:
        bus.publish("OrderPlaced", events("OrderPlaced", order, key=order["order_id"]))
    _drain(stock)
    return bus.log("StockReserved"), stock.db.count("reservations"), [d.reason for d in bus.dead_letters()]


def _trial_reserve(reserve) -> str:
    for where, run in (("in a World", _in_a_world), ("in a process (a ServiceHost on a bus)", _on_a_host)):
        published, rows, failures = run(reserve)
        if failures:
            raise Incorrect(f"{where} your handler failed: {failures[0]}.")
        if rows != len(ORDERS):
            raise Incorrect(f"{where}, after {len(ORDERS)} OrderPlaced events `reservations` holds {rows} "
                            f"row{'s' if rows != 1 else ''}, not {len(ORDERS)}: store one row per order, "
                            "under its order id.")
        if len(published) != len(ORDERS):
            raise Incorrect(f"{where}, {len(published)} StockReserved events reached the bus the handler runs "
                            f"on, not {len(ORDERS)}: publish with the `publish` parameter the handler asks for "
                            "(it is the World's bus in a World and the broker in a process), not through an "
                            "object you happen to have in the notebook.")
        got = sorted(e.data.get("order_id", "") for e in published)
        if got != [o["order_id"] for o in ORDERS]:
            raise Incorrect(f"{where} the StockReserved events carry order ids {got}: put each order's "
                            "`order_id` in the event's data.")
    return "the same function worked in a World and on a ServiceHost: nothing in it knows the bus."


q2 = FunctionExercise(
    notebook=NOTEBOOK, name="q2", title="A handler that runs unchanged on any bus",
    variable="reserve", handler=True, trial=_trial_reserve,
    hints=["A handler asks for what it needs by parameter name: `def reserve(event, db, publish):`.",
           "`db.put(\"reservations\", order_id, {...})` stores the row; `publish(\"StockReserved\", {...}, "
           "key=order_id)` emits the event after the transaction commits.",
           "Use `event.data[\"order_id\"]` for both the row id and the new event's data."],
    solution='def reserve(event, db, publish):\n'
             '    order_id = event.data["order_id"]\n'
             '    db.put("reservations", order_id, {"item": event.data["item"], "qty": event.data["qty"]})\n'
             '    publish("StockReserved", {"order_id": order_id, "item": event.data["item"]}, key=order_id)',
    explanation="Its dependencies arrive as parameters, so the host decides what `db` and `publish` are: "
                "the code moves between a World and a process without a change.",
    wrong=[WrongAnswer('def reserve(event, db):\n'
                       '    order_id = event.data["order_id"]\n'
                       '    db.put("reservations", order_id, {"item": event.data["item"]})\n'
                       '    world.publish("StockReserved", {"order_id": order_id}, key=order_id)',
                       "publish with the `publish` parameter"),
           WrongAnswer('def reserve(event, db, publish):\n'
                       '    publish("StockReserved", {"order_id": event.data["order_id"]})',
                       "holds 0 rows, not 3")],
)
