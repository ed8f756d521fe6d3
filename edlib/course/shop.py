"""The shop's service code, written once: the same plain functions run in a World and in processes.

:func:`edlib.course.scenarios.event_shop` registers these handlers on services inside a
:class:`~edlib.simulation.world.World`; ``python -m edlib.runtime.process service orders`` registers the very
same functions on a :class:`~edlib.runtime.host.ServiceHost` that consumes a real broker. Nothing
here knows which bus carries the events.

``SERVICES`` maps each service name to an *installer*: a function that registers the
service's handlers on anything with the ``handles``/``endpoint`` decorators.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edlib.core.handlers import NotFound

ORDER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "item": {"type": "string", "minLength": 1, "maxLength": 100},
        "qty": {"type": "integer", "minimum": 1, "maximum": 1000},
    },
    "required": ["item", "qty"],
    "additionalProperties": False,
}
"""What ``POST /orders`` accepts: an item name and a quantity, nothing else."""


# -- the handlers (plain functions: the event or request first, then what they need) ------
def record_order(event, db):
    """orders: keep each placed order, under its id."""
    db.put("orders", event.data["order_id"], event.data)


def schedule_shipment(event, db):
    """shipping: schedule one shipment per order, under the order's id."""
    db.put("shipments", event.data["order_id"], event.data)


def project_order(event, db):
    """orders_view: the read model the gateway answers ``GET /orders/{id}`` from."""
    db.put("orders", event.data["order_id"], {**event.data, "status": "placed"})


def get_order(data, db):
    """orders_view's endpoint: one order by id, or NotFound."""
    order = db.get("orders", data["id"])
    if order is None:
        raise NotFound(f"no order {data['id']!r}")
    return order


# -- installers: which service runs which functions ----------------------------------------
def orders(svc: Any) -> None:
    """Register the orders service's handlers on ``svc`` (a Service or a ServiceHost)."""
    svc.handles("OrderPlaced")(record_order)


def shipping(svc: Any) -> None:
    """Register the shipping service's handlers on ``svc``."""
    svc.handles("OrderPlaced")(schedule_shipment)


def orders_view(svc: Any) -> None:
    """Register the read model's handler and its ``get`` endpoint on ``svc``."""
    svc.handles("OrderPlaced")(project_order)
    svc.endpoint("get")(get_order)


SERVICES: dict[str, Callable[[Any], None]] = {"orders": orders, "shipping": shipping, "orders_view": orders_view}
"""Service name -> installer, for ``python -m edlib.runtime.process service NAME``."""

PUBLISHES: dict[str, list[str]] = {"gateway": ["OrderPlaced"], "orders": [], "shipping": [], "orders_view": []}
"""Least privilege: what each part of the shop may publish (the services here only consume)."""
