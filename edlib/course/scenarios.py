"""The course's standard systems, packaged: the shop that notebooks 02 and 03 build by hand.

Later notebooks, the tests and the benchmarks start from these so that "the system you
built in notebook 02" is one call away: :func:`sync_shop` and :func:`event_shop`.
"""
from __future__ import annotations

from edlib.core.handlers import NotFound
from edlib.course import shop
from edlib.simulation.world import World


def sync_shop(seed: int = 0, orders_ms: float = 5.0, shipping_ms: float = 20.0) -> World:
    """Notebook 02: the gateway calls ``orders`` then ``shipping``, synchronously."""
    world = World(seed=seed)
    orders = world.add_service("orders", latency_ms=orders_ms)
    shipping = world.add_service("shipping", latency_ms=shipping_ms)

    @orders.endpoint("create")
    def create_order(data, db):
        order_id = f"order-{db.count('orders') + 1}"
        db.put("orders", order_id, data)
        return {"order_id": order_id}

    @orders.endpoint("get")
    def get_order(data, db):
        order = db.get("orders", data["id"])
        if order is None:
            raise NotFound(f"no order {data['id']!r}")
        return order

    @shipping.endpoint("schedule")
    def schedule_shipment(data, db):
        db.put("shipments", f"shipment-{db.count('shipments') + 1}", data)
        return {"shipping": "scheduled"}

    world.gateway.route("POST /orders", call=["orders.create", "shipping.schedule"])
    world.gateway.route("GET /orders/{id}", call="orders.get")
    return world


def event_shop(seed: int = 0, orders_ms: float = 5.0, shipping_ms: float = 20.0) -> World:
    """Notebook 03: the gateway publishes ``OrderPlaced``; both services react to it."""
    world = World(seed=seed)
    orders = world.add_service("orders", latency_ms=orders_ms)
    shipping = world.add_service("shipping", latency_ms=shipping_ms)

    shop.orders(orders)            # the same handler functions the processes run (edlib/shop.py)
    shop.shipping(shipping)
    world.gateway.route("POST /orders", publish="OrderPlaced", id_prefix="order")
    return world


def order_bodies(n: int) -> list[dict]:
    """``n`` small, distinct order requests: ``{"item": "book-1", "qty": 1}`` ..."""
    items = ("book", "lamp", "mug", "pen")
    return [{"item": f"{items[i % len(items)]}-{i + 1}", "qty": 1 + i % 3} for i in range(n)]
