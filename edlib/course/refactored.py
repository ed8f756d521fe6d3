"""The capstone's reference refactoring: the legacy order flow (:mod:`edlib.course.legacy`) as events.

Notebook 17 builds this step by step; the exercises and tests use this copy. The
gateway still calls ``orders.place`` (the client learns at once whether the order is
well formed and known), but ``orders`` no longer calls anybody: it stores the order
and announces it through its outbox, and the others react::

    OrderPlaced     -> inventory reserves stock  -> StockReserved | OutOfStock
    StockReserved   -> payments charges the card -> PaymentTaken  | PaymentDeclined
    PaymentDeclined -> inventory releases the stock (compensation)
    PaymentTaken, PaymentDeclined, OutOfStock -> orders settles the order's status
    PaymentTaken    -> email sends the confirmation

Each service keeps only the data it needs: orders the customers' countries and the
prices, payments the cards on file, email the addresses, inventory the stock.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from edlib.core.handlers import NotFound
from edlib.course.legacy import DECLINED_CARDS, LATENCY_MS, REQUEST_SCHEMA, load_stock
from edlib.simulation.world import World

OWNS = {"orders": ["OrderPlaced"], "inventory": ["StockReserved", "OutOfStock"],
        "payments": ["PaymentTaken", "PaymentDeclined"], "email": []}
"""Least privilege: the event types each service may publish."""

SETTLING = ("PaymentTaken", "PaymentDeclined", "OutOfStock")
"""The events that decide an order's final status."""


def place_order(data: dict, db, outbox) -> dict:
    """orders.place: check the order against orders' own data, store it, announce it."""
    if db.get("customers", data["customer_id"]) is None:
        raise NotFound(f"no customer {data['customer_id']!r}")
    product = db.get("catalog", data["sku"])
    if product is None:
        raise NotFound(f"no product {data['sku']!r}")
    order_id = f"order-{db.count('orders') + 1}"
    order = {"order_id": order_id, **data, "amount_cents": product["price_cents"] * data["qty"]}
    db.put("orders", order_id, {**order, "status": "pending"})
    outbox("OrderPlaced", order, key=order_id)
    return {"order_id": order_id, "status": "pending"}


def reserve_stock(event, db, publish) -> None:
    """inventory, on OrderPlaced: take the items from stock, or say there are not enough."""
    order = event.data
    row = db.get("stock", order["sku"]) or {"on_hand": 0}
    if row["on_hand"] < order["qty"]:
        publish("OutOfStock", order, key=order["order_id"])
        return
    db.put("stock", order["sku"], {"on_hand": row["on_hand"] - order["qty"]})
    db.put("reservations", order["order_id"], {"sku": order["sku"], "qty": order["qty"]})
    publish("StockReserved", order, key=order["order_id"])


def release_stock(event, db) -> None:
    """inventory, on PaymentDeclined: put the reserved items back (the compensation)."""
    reservation = db.get("reservations", event.data["order_id"])
    row = db.get("stock", reservation["sku"])
    db.put("stock", reservation["sku"], {"on_hand": row["on_hand"] + reservation["qty"]})


def charge(event, db, publish) -> None:
    """payments, on StockReserved: charge the card on file; only its last four digits leave."""
    order = event.data
    card = db.get("cards", order["customer_id"])["card_number"]
    if card in DECLINED_CARDS:
        publish("PaymentDeclined", order, key=order["order_id"])
        return
    db.put("charges", order["order_id"], {"amount_cents": order["amount_cents"], "card_last4": card[-4:]})
    publish("PaymentTaken", order, key=order["order_id"])


def settle(event, db) -> None:
    """orders, on PaymentTaken, PaymentDeclined or OutOfStock: the order is confirmed or rejected."""
    status = "confirmed" if event.type == "PaymentTaken" else "rejected"
    order = db.get("orders", event.data["order_id"])
    db.put("orders", event.data["order_id"], {**order, "status": status})


def confirm_by_email(event, db) -> None:
    """email, on PaymentTaken: send the confirmation to the address email keeps."""
    to = db.get("contacts", event.data["customer_id"])["email"]
    db.put("sent", f"mail-{db.count('sent') + 1}",
           {"to": to, "subject": f"Your order {event.data['order_id']} is confirmed"})


HANDLERS: dict[str, Callable[..., Any]] = {"place_order": place_order, "reserve_stock": reserve_stock,
                                           "release_stock": release_stock, "charge": charge,
                                           "settle": settle, "confirm_by_email": confirm_by_email}
"""The reference functions by name (an exercise swaps one for the learner's)."""


def event_shop(customers: Iterable[Mapping[str, Any]], products: Iterable[Mapping[str, Any]],
               seed: int = 17, replace: Mapping[str, Callable[..., Any]] | None = None) -> World:
    """The refactored flow in a world, with each service's slice of the data.

    ``replace``: functions to use instead of the reference ones, by name (see :data:`HANDLERS`).
    """
    fns = {**HANDLERS, **dict(replace or {})}
    unknown = sorted(set(fns) - set(HANDLERS))
    if unknown:
        raise KeyError(f"no function {unknown} in the refactored flow; it has {sorted(HANDLERS)}")
    world = World(seed=seed)
    svc = {name: world.add_service(name, LATENCY_MS[name], publishes=OWNS[name]) for name in OWNS}
    for c in customers:
        svc["orders"].db.put("customers", c["customer_id"], {"country": c["country"]})
        svc["payments"].db.put("cards", c["customer_id"], {"card_number": c["card_number"]})
        svc["email"].db.put("contacts", c["customer_id"], {"email": c["email"]})
    products = list(products)
    for p in products:
        svc["orders"].db.put("catalog", p["sku"], {"price_cents": int(p["price_cents"])})
    load_stock(svc["inventory"].db, products)
    svc["orders"].endpoint("place")(fns["place_order"])
    svc["inventory"].handles("OrderPlaced")(fns["reserve_stock"])
    svc["inventory"].handles("PaymentDeclined")(fns["release_stock"])
    svc["payments"].handles("StockReserved")(fns["charge"])
    for event_type in SETTLING:
        svc["orders"].handles(event_type)(fns["settle"])
    svc["email"].handles("PaymentTaken")(fns["confirm_by_email"])
    world.gateway.route("POST /orders", call="orders.place", schema=REQUEST_SCHEMA)
    return world


def outcomes(world: World) -> dict[str, Any]:
    """What a run of either flow left behind, comparably: confirmed orders (sorted ids),
    stock on hand per sku, e-mails sent (sorted), and money kept (charges not refunded)."""
    orders = _rows(world.service("orders").db, "orders")
    charges = _rows(world.service("payments").db, "charges")
    return {"confirmed": sorted(i for i, o in orders.items() if o["status"] == "confirmed"),
            "stock": {sku: row["on_hand"] for sku, row in sorted(_rows(world.service("inventory").db,
                                                                       "stock").items())},
            "emails": sorted((m["to"], m["subject"]) for m in world.service("email").db.all("sent")),
            "money kept (cents)": sum(c["amount_cents"] for c in charges.values() if not c.get("refunded"))}


def _rows(db, table: str) -> dict[str, dict]:
    """id -> document of a document table (empty if the table does not exist)."""
    if table not in db.tables():
        return {}
    return {row["id"]: json.loads(row["doc"]) for row in db.query(f'SELECT id, doc FROM "{table}" ORDER BY rowid')}
