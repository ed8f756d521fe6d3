"""Projections: read models fed by events, built late by replay, rebuilt after a fix, and their lag."""
from __future__ import annotations

import pytest

from edlib import World
from edlib.patterns.projections import CHECKPOINT, Projection, lags
from edlib.simulation.faults import lose_acks

ORDERS = [("o-1", "ann", "book", 2), ("o-2", "bob", "mug", 1), ("o-3", "ann", "mug", 3), ("o-4", "cy", "book", 1)]


def sales_projection(count_qty: bool = True) -> Projection:
    sales = Projection("sales", tables={"sales": "item TEXT PRIMARY KEY, orders INTEGER, units INTEGER"})

    @sales.on("OrderPlaced", topic="orders")
    def add(event, db):
        units = event.data["qty"] if count_qty else 1
        db.execute("INSERT INTO sales VALUES (?, 1, ?) ON CONFLICT (item) DO UPDATE SET orders = orders + 1, "
                   "units = units + excluded.units", (event.data["item"], units))

    @sales.on("OrderCancelled", topic="orders")
    def remove(event, db):
        units = event.data["qty"] if count_qty else 1
        db.execute("UPDATE sales SET orders = orders - 1, units = units - ? WHERE item = ?",
                   (units, event.data["item"]))

    return sales


def shop(every_ms: float = 10.0) -> World:
    """Orders are written by `orders` (outbox, one topic for both types); o-2 is cancelled at the end."""
    world = World(seed=11)
    orders = world.add_service("orders", latency_ms=2, publishes=["OrderPlaced", "OrderCancelled"])

    @orders.endpoint("place")
    def place(data, db, outbox):
        db.put("orders", data["order_id"], data)
        outbox("OrderPlaced", data, key=data["order_id"], topic="orders")
        return {"order_id": data["order_id"]}

    @orders.endpoint("cancel")
    def cancel(data, db, outbox):
        order = db.get("orders", data["id"])
        outbox("OrderCancelled", order, key=data["id"], topic="orders")
        return {}

    world.gateway.route("POST /orders", call="orders.place")
    world.gateway.route("POST /orders/{id}/cancel", call="orders.cancel")
    bodies = [{"order_id": o, "customer_id": c, "item": i, "qty": q} for o, c, i, q in ORDERS]
    world.send_many("POST /orders", bodies, every_ms=every_ms)
    assert world.request("POST /orders/o-2/cancel", {"reason": "changed my mind"}).ok
    world.run()
    return world


def table(world: World, name: str = "sales") -> dict[str, tuple[int, int]]:
    rows = world.service(name).db.query("SELECT item, orders, units FROM sales ORDER BY item")
    return {r["item"]: (r["orders"], r["units"]) for r in rows}


EXPECTED = {"book": (2, 3), "mug": (1, 3)}


def test_a_projection_installed_late_catches_up_on_the_whole_history():
    world = shop()
    service = sales_projection().install(world)
    assert world.backlog("sales") == 5              # 4 placed + 1 cancelled, waiting from the earliest offset
    world.run()
    assert table(world) == EXPECTED
    assert Projection.checkpoint(service.db)["events"] == 5


def test_installed_first_it_follows_the_events_as_they_come():
    world = World(seed=11)
    sales_projection().install(world)
    for o, c, i, q in ORDERS:
        world.publish("OrderPlaced", {"order_id": o, "customer_id": c, "item": i, "qty": q}, key=o, topic="orders")
    world.run()
    assert table(world) == {"book": (2, 3), "mug": (2, 4)}


def test_duplicate_deliveries_are_applied_once():
    world = shop()
    lose_acks(world, 0.6, seed=2)
    sales_projection().install(world)
    world.run()
    assert world.fault_counts["lost_acks"] >= 2
    assert table(world) == EXPECTED


def test_a_fixed_version_installed_over_the_old_one_then_rebuilt_is_right():
    world = shop()
    sales_projection(count_qty=False).install(world)
    world.run()
    assert table(world) == {"book": (2, 2), "mug": (1, 1)}          # units counted as orders: the bug
    fixed = sales_projection(count_qty=True)
    fixed.install(world)                                             # the new version replaces the handlers
    assert table(world) == {"book": (2, 2), "mug": (1, 1)}          # ... but what the old one wrote stays
    fixed.rebuild(world)
    world.run()
    assert table(world) == EXPECTED


def test_install_refuses_to_take_over_an_ordinary_service():
    world = shop()
    with pytest.raises(ValueError, match="not a read model"):
        _install_named(world, "orders")


def _install_named(world: World, name: str) -> None:
    p = Projection(name, {"t": "x TEXT"})
    p.on("OrderPlaced")(lambda event, db: None)
    p.install(world)


def test_rebuild_empties_the_tables_and_the_processed_ids_then_replays():
    world = shop()
    sales = sales_projection()
    service = sales.install(world)
    world.run()
    service.db.execute("UPDATE sales SET units = 999")                # the read model got damaged
    sales.rebuild(world)
    assert table(world) == {} and Projection.checkpoint(service.db)["events"] == 0
    world.run()
    assert table(world) == EXPECTED
    assert Projection.checkpoint(service.db)["events"] == 5


def test_lags_pair_each_applied_event_with_its_write_and_publish():
    world = shop(every_ms=10)
    world.service("orders").relay_delay_ms = 10
    sales_projection().install(world, latency_ms=15)                 # slower than the writes come
    world.run()
    rows = lags(world, "sales")
    assert [r.event_type for r in rows] == ["OrderPlaced"] * 4 + ["OrderCancelled"]
    for r in rows:
        assert r.written_ms <= r.published_ms <= r.applied_ms
        assert r.lag_ms == r.applied_ms - r.written_ms
    acks = [r.time for r in world.trace.where("ack", source="sales")]
    assert [r.applied_ms for r in rows] == acks


def test_a_replay_shows_as_a_second_application_and_duplicates_do_not_show():
    world = shop()
    sales = sales_projection()
    service = sales.install(world)
    world.run()
    world.replay("sales", "orders", 0)                          # processed ids still there: skipped
    world.run()
    assert len(lags(world, "sales")) == 5
    sales.rebuild(world)
    world.run()
    assert len(lags(world, "sales")) == 10
    assert table(world) == EXPECTED and service.idempotent


@pytest.mark.parametrize("build, error", [
    (lambda: Projection("my view", {"t": "x TEXT"}), ValueError),
    (lambda: Projection("v", {}), ValueError),
    (lambda: Projection("v", {"bad-name": "x TEXT"}), ValueError),
    (lambda: Projection("v", {CHECKPOINT: "x TEXT"}), ValueError),
    (lambda: Projection("v", {"t": "x TEXT"}).on("not a type"), ValueError),
    (lambda: Projection("v", {"t": "x TEXT"}).on("OrderPlaced")(42), TypeError),
    (lambda: Projection("v", {"t": "x TEXT"}).install(World()), ValueError),
])
def test_mistakes_are_refused_where_they_are_made(build, error):
    with pytest.raises(error):
        build()


def test_events_of_one_entity_on_two_topics_can_arrive_out_of_order():
    """Why the shop puts OrderPlaced and OrderCancelled on one topic: a late reader of two topics
    may apply o-2's cancellation before o-2 itself."""
    world = World(seed=11)
    for o, c, i, q in ORDERS:
        world.publish("OrderPlaced", {"order_id": o, "customer_id": c, "item": i, "qty": q}, key=o)
    world.publish("OrderCancelled", {"order_id": "o-2", "item": "mug", "qty": 1}, key="o-2")
    split = Projection("sales", tables={"sales": "item TEXT PRIMARY KEY, orders INTEGER, units INTEGER"})
    for event_type, fn in sales_projection().handlers.items():
        split.on(event_type)(fn)                     # each type on its own topic
    split.install(world)
    world.run()
    assert table(world) != EXPECTED


def test_a_read_model_publishes_nothing():
    world = World()
    service = sales_projection().install(world)
    with pytest.raises(PermissionError):
        service.publish("OrderPlaced", {"item": "x"})
