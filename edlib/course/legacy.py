"""The capstone's starting point: a legacy, synchronous order flow (notebook 17).

One endpoint does everything, calling the other services directly, one after another,
while the client waits::

    client -> gateway -> orders.place -> payments.charge
                                      -> inventory.reserve   (payments.refund if out of stock)
                                      -> email.send

``orders`` owns every customer's details (card number and e-mail address included) and
the catalogue, and hands each service what it needs along the calls. The functions are
plain endpoints; :func:`legacy_shop` wires them into a :class:`~edlib.World` loaded with
the data sets in ``data/``. Typical of code that grew this way: every step is a direct
call, a failure half-way leaves the earlier steps done, and testing ``place_order``
means faking every service it calls.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from edlib.core.handlers import NotFound
from edlib.simulation.world import World

DECLINED_CARDS = frozenset({"4000000000000002"})
"""Test card numbers the payment provider declines."""

REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"customer_id": {"type": "string", "pattern": "^cust-[0-9]{3}$"},
                   "sku": {"type": "string", "pattern": "^[a-z]{2,20}$"},
                   "qty": {"type": "integer", "minimum": 1, "maximum": 10}},
    "required": ["customer_id", "sku", "qty"],
    "additionalProperties": False,
}
"""What a ``POST /orders`` body must look like (checked at the gateway, in both flows)."""

LATENCY_MS = {"orders": 5.0, "payments": 30.0, "inventory": 10.0, "email": 50.0}
"""Virtual ms each service takes per call or event (the payment provider and mail are slow)."""


class PaymentDeclined(ValueError):
    """The card was declined (the client gets a 400)."""


class OutOfStock(ValueError):
    """Not enough stock for the order (the client gets a 400)."""


# -- orders ------------------------------------------------------------------------------
def place_order(data: dict, db, service) -> dict:
    """orders.place: look up customer and product, then charge, reserve and e-mail, by direct calls."""
    customer = db.get("customers", data["customer_id"])
    if customer is None:
        raise NotFound(f"no customer {data['customer_id']!r}")
    product = db.get("catalog", data["sku"])
    if product is None:
        raise NotFound(f"no product {data['sku']!r}")
    order_id = service.ids("order")
    amount = product["price_cents"] * data["qty"]
    service.call("payments", "charge", {"order_id": order_id, "card_number": customer["card_number"],
                                        "amount_cents": amount})
    try:
        service.call("inventory", "reserve", {"order_id": order_id, "sku": data["sku"], "qty": data["qty"]})
    except OutOfStock:
        service.call("payments", "refund", {"order_id": order_id})
        raise
    service.call("email", "send", {"to": customer["email"], "subject": f"Your order {order_id} is confirmed"})
    db.put("orders", order_id, {**data, "amount_cents": amount, "status": "confirmed"})
    return {"order_id": order_id, "status": "confirmed"}


# -- payments ----------------------------------------------------------------------------
def charge(data: dict, db) -> dict:
    """payments.charge: take the money, or raise PaymentDeclined."""
    if data["card_number"] in DECLINED_CARDS:
        raise PaymentDeclined("card declined")
    db.put("charges", data["order_id"], {"amount_cents": data["amount_cents"],
                                         "card_last4": data["card_number"][-4:], "refunded": False})
    return {"charged_cents": data["amount_cents"]}


def refund(data: dict, db) -> dict:
    """payments.refund: give back the money taken for an order."""
    row = db.get("charges", data["order_id"])
    if row is None:
        raise NotFound(f"no charge for {data['order_id']!r}")
    db.put("charges", data["order_id"], {**row, "refunded": True})
    return {"refunded_cents": row["amount_cents"]}


# -- inventory ---------------------------------------------------------------------------
def reserve(data: dict, db) -> dict:
    """inventory.reserve: take ``qty`` items of ``sku`` from stock, or raise OutOfStock."""
    row = db.get("stock", data["sku"]) or {"on_hand": 0}
    if row["on_hand"] < data["qty"]:
        raise OutOfStock(f"out of stock: {data['sku']} ({row['on_hand']} left, {data['qty']} wanted)")
    db.put("stock", data["sku"], {"on_hand": row["on_hand"] - data["qty"]})
    db.put("reservations", data["order_id"], {"sku": data["sku"], "qty": data["qty"]})
    return {"reserved": data["qty"]}


# -- email -------------------------------------------------------------------------------
def send_email(data: dict, db) -> dict:
    """email.send: send (here: record) one message."""
    db.put("sent", f"mail-{db.count('sent') + 1}", {"to": data["to"], "subject": data["subject"]})
    return {}


def load_stock(db, products: Iterable[Mapping[str, Any]]) -> None:
    """Fill ``stock`` (sku -> on_hand) from product rows."""
    for p in products:
        db.put("stock", p["sku"], {"on_hand": int(p["stock"])})


def legacy_shop(customers: Iterable[Mapping[str, Any]], products: Iterable[Mapping[str, Any]],
                seed: int = 17, latency_ms: Mapping[str, float] | None = None) -> World:
    """The legacy flow in a world: gateway ``POST /orders`` -> ``orders.place`` -> the chain above.

    ``customers`` and ``products`` are rows as :mod:`edlib.course.shopdata` loads them; all of
    them go to ``orders`` (it knows everything), the stock levels to ``inventory``.
    """
    products = list(products)
    latency = {**LATENCY_MS, **dict(latency_ms or {})}
    world = World(seed=seed)
    orders, payments, inventory, email = (world.add_service(n, latency_ms=latency[n])
                                          for n in ("orders", "payments", "inventory", "email"))
    for c in customers:
        orders.db.put("customers", c["customer_id"], dict(c))
    for p in products:
        orders.db.put("catalog", p["sku"], {"name": p["name"], "price_cents": int(p["price_cents"])})
    load_stock(inventory.db, products)
    orders.endpoint("place")(place_order)
    payments.endpoint("charge")(charge)
    payments.endpoint("refund")(refund)
    inventory.endpoint("reserve")(reserve)
    email.endpoint("send")(send_email)
    world.gateway.route("POST /orders", call="orders.place", schema=REQUEST_SCHEMA)
    return world
