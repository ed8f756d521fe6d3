"""The HTTP gateway's logic without sockets, on the in-memory bus: valid orders are published,
bad ones get a clear 4xx and leave nothing behind."""
from __future__ import annotations

import json

import pytest

from edlib.course import shop
from edlib.course.shop import ORDER_SCHEMA
from edlib.messaging.memory import InMemoryBus
from edlib.runtime.host import ServiceHost
from edlib.runtime.http_gateway import GatewayApp

JSON = "application/json"


@pytest.fixture
def app() -> GatewayApp:
    bus = InMemoryBus()
    view = ServiceHost("orders_view", bus)
    shop.orders_view(view)
    view.subscribe_all()
    return GatewayApp(bus, view=view, order_schema=ORDER_SCHEMA)


def post(app: GatewayApp, body, content_type=JSON):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return app.handle("POST", "/orders", content_type, raw)[:2]


def test_an_order_is_published_and_then_readable(app):
    assert post(app, {"item": "book", "qty": 2}) == (202, {"status": "accepted", "order_id": "order-1"})
    [event] = app.bus.log("OrderPlaced")
    assert (event.type, event.key, event.source) == ("OrderPlaced", "order-1", "gateway")
    assert dict(event.data) == {"order_id": "order-1", "item": "book", "qty": 2}
    assert app.handle("GET", "/orders/order-1", None, b"")[0] == 404      # the read model has not seen it yet
    app.view.poll()
    assert app.handle("GET", "/orders/order-1", None, b"")[:2] == (
        200, {"item": "book", "order_id": "order-1", "qty": 2, "status": "placed"})


@pytest.mark.parametrize("body, status", [
    (b"", 400), (b"[]", 400), (b"{}", 400), (b'{"item": 1, "qty": 1}', 400), (b'{"item": "a", "qty": true}', 400),
    (b'{"item": "a", "qty": 1e999}', 400), (b'{"item": "a", "qty": Infinity}', 400), (b"\xfe\xff", 400),
])
def test_bad_orders_are_refused_and_nothing_is_published(app, body, status):
    got, answer = post(app, body)
    assert got == status and list(answer) == ["error"]
    assert app.bus.log("OrderPlaced") == [] and app.host.db.count("counters") == 0


def test_routes_and_methods(app):
    assert app.handle("GET", "/orders", None, b"")[0] == 405
    assert app.handle("DELETE", "/orders/order-1", None, b"")[2] == {"Allow": "GET"}
    assert app.handle("GET", "/health", None, b"")[:2] == (200, {"broker": "reachable", "status": "ok"})
    assert app.handle("GET", "/admin?x=1", None, b"")[0] == 404
    assert post(app, {"item": "book", "qty": 1}, content_type="text/plain")[0] == 415


def test_the_gateway_trace_names_routes_not_raw_paths(app):
    app.handle("GET", "/../../etc/passwd", None, b"")
    labels = [r["label"] for r in app.host.db.query("SELECT label FROM trace WHERE kind = 'request'")]
    assert labels == ["GET (no such route)"]
