"""The HTTP gateway of the shop as a process: the one door clients knock on, over real HTTP.

Routes (JSON in, JSON out, on a loopback port):

- ``POST /orders`` with ``{"item": "book", "qty": 1}``: validated at the edge
  (:func:`~edlib.core.payloads.validate_payload`, then the order schema it is given, the shop's
  :data:`~edlib.course.shop.ORDER_SCHEMA`), given an
  id (``order-1``, ``order-2`` ... counted in the gateway's own database), published as
  ``OrderPlaced`` and answered ``202 Accepted`` with the order id;
- ``GET /orders/{id}``: the order from the read model (the ``orders_view`` service, fed
  by the same events), ``404`` until it has seen it;
- ``GET /health``: ``200`` if the broker answers, ``503`` if not.

Bad requests get a 4xx and a short JSON ``{"error": ...}`` saying what to fix, never a
traceback, a path or SQL; nothing is stored and nothing is published for them.
:class:`GatewayApp` is the logic without sockets (tested directly); :func:`serve` puts
it behind :class:`http.server.ThreadingHTTPServer`.
"""
from __future__ import annotations

import json
import re
import sys
import threading
import traceback
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from edlib.core.handlers import NotFound
from edlib.core.ids import RandomUuids
from edlib.core.payloads import MAX_PAYLOAD_BYTES, thaw, validate_payload
from edlib.core.schemas import check
from edlib.messaging.protocol import EventBus
from edlib.messaging.redis_streams import BrokerUnavailable
from edlib.runtime.host import ServiceHost

MAX_BODY_BYTES = MAX_PAYLOAD_BYTES
"""Largest request body read; a longer one is refused with 413 before it is read."""

ROUTES = "POST /orders, GET /orders/{id}, GET /health"
_ORDER_PATH = re.compile(r"^/orders/([^/]*)$")
_ORDER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
EXAMPLE = '{"item": "book", "qty": 1}'

Answer = tuple[int, dict[str, Any], dict[str, str]]


class GatewayApp:
    """What the gateway does with one request, without sockets: ``handle(...) -> (status, body, headers)``.

    ``bus``: where orders are published; ``db_path``: the gateway's own database (order
    counter and trace); ``view``: the read model host answering ``GET /orders/{id}``;
    ``order_schema``: the JSON Schema an order must satisfy.
    """

    def __init__(self, bus: EventBus, db_path: str = ":memory:", view: ServiceHost | None = None, *,
                 order_schema: Mapping[str, Any]) -> None:
        self.bus = bus
        self.order_schema = order_schema
        self.host = ServiceHost("gateway", bus, db_path, consumer="gateway")
        self.view = view
        self._ids = RandomUuids()

    def handle(self, method: str, target: str, content_type: str | None, body: bytes) -> Answer:
        """Answer one request; never raises (500 with no details if something unexpected breaks)."""
        path = target.split("?", 1)[0]
        request_id = self._ids("req")
        self.host.record("request", "client", "gateway", f"{method} {_label(path)}", request_id)
        try:
            status, answer, headers = self._route(method, path, content_type, body, request_id)
        except BrokerUnavailable:
            status, answer, headers = 503, {"error": "the broker is unavailable: try again in a moment"}, {}
        except Exception:  # a bug: the details go to this process's log, not to the client
            traceback.print_exc(file=sys.stderr)
            status, answer, headers = 500, {"error": "internal error"}, {}
        self.host.record("response", "gateway", "client", str(status), request_id, ok=status < 400,
                         detail=str(answer.get("error", "")))
        return status, answer, headers

    # -- routes ----------------------------------------------------------------------
    def _route(self, method: str, path: str, content_type: str | None, body: bytes, request_id: str) -> Answer:
        if path == "/orders":
            if method != "POST":
                return 405, {"error": "use POST /orders to place an order"}, {"Allow": "POST"}
            return self._create(content_type, body, request_id)
        m = _ORDER_PATH.match(path)
        if m:
            if method != "GET":
                return 405, {"error": "use GET /orders/{id} to read an order"}, {"Allow": "GET"}
            return self._read(m.group(1))
        if path == "/health":
            if method != "GET":
                return 405, {"error": "use GET /health"}, {"Allow": "GET"}
            return self._health()
        return 404, {"error": f"no such route; the routes are {ROUTES}"}, {}

    def _create(self, content_type: str | None, body: bytes, request_id: str) -> Answer:
        try:
            data = parse_order(content_type, body, self.order_schema)
        except _Refused as refused:
            return refused.status, {"error": refused.message}, {}
        with self.host.transaction() as db:         # the id is used only if the event is published
            row = db.get("counters", "order") or {"last": 0}
            order_id = f"order-{row['last'] + 1}"
            db.put("counters", "order", {"last": row["last"] + 1})
            event = self.host.events("OrderPlaced", {"order_id": order_id, **data}, key=order_id,
                                     source="gateway", correlation_id=request_id)
            self.host.send(event)
        return 202, {"status": "accepted", "order_id": order_id}, {}

    def _read(self, order_id: str) -> Answer:
        if not _ORDER_ID.match(order_id):
            return 400, {"error": "an order id is 1-64 letters, digits, '-' or '_', such as order-1"}, {}
        if self.view is None:
            return 404, {"error": "this gateway has no read model"}, {}
        try:
            return 200, self.view.call("get", {"id": order_id}), {}
        except NotFound as exc:
            return 404, {"error": f"{exc} (yet: a new order shows up once the read model has seen it)"}, {}

    def _health(self) -> Answer:
        try:
            self.bus.ping()
        except BrokerUnavailable:
            return 503, {"status": "unavailable", "broker": "unreachable"}, {}
        return 200, {"status": "ok", "broker": "reachable"}, {}


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def parse_order(content_type: str | None, body: bytes, schema: Mapping[str, Any]) -> dict[str, Any]:
    """The order in a POST body, checked at the edge; raises _Refused(status, message) otherwise."""
    if not body.strip():
        raise _Refused(400, f"request body is empty: send a JSON object such as {EXAMPLE}")
    if (content_type or "").split(";", 1)[0].strip().lower() != "application/json":
        raise _Refused(415, "send the order as JSON, with the header Content-Type: application/json")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _Refused(400, "request body is not valid UTF-8 text") from None
    try:
        raw = json.loads(text, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise _Refused(400, f"request body is not valid JSON (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise _Refused(400, "request body is nested too deeply") from None
    except ValueError as exc:  # NaN/Infinity, or an integer with thousands of digits
        raise _Refused(400, f"request body is not valid JSON ({exc})") from None
    try:
        data = thaw(validate_payload(raw, "request body"))
        check(data, schema, "request body")
    except (TypeError, ValueError) as exc:
        raise _Refused(400, str(exc)) from None
    return data


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _label(path: str) -> str:
    """The route a path asks for, for the trace (never the raw path a client typed)."""
    if path in ("/orders", "/health"):
        return path
    return "/orders/{id}" if _ORDER_PATH.match(path) else "(no such route)"


class _Handler(BaseHTTPRequestHandler):
    """Turns HTTP into :meth:`GatewayApp.handle` calls; every answer is JSON."""

    server_version = "edlib-gateway"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    server: "GatewayServer"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._serve()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET  # noqa: N815

    def _serve(self) -> None:
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            return self._reply(411, {"error": "send the body with a Content-Length header, not chunked"})
        length = self.headers.get("Content-Length", "0")
        if not length.isdigit():
            self.close_connection = True
            return self._reply(400, {"error": "Content-Length must be a number of bytes"})
        if int(length) > MAX_BODY_BYTES:
            self.close_connection = True
            return self._reply(413, {"error": f"request body is {int(length):,} bytes; the limit is "
                                              f"{MAX_BODY_BYTES:,}"})
        body = self.rfile.read(int(length))
        status, answer, headers = self.server.app.handle(self.command, self.path, self.headers.get("Content-Type"),
                                                         body)
        self._reply(status, answer, headers)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed requests (bad request line, unknown method, huge headers): JSON too, no details."""
        self.close_connection = True
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "error"
        self._reply(code, {"error": phrase.lower()})

    def _reply(self, status: int, answer: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(answer, sort_keys=True).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if getattr(self, "command", None) != "HEAD":
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
        """Quiet: the trace table records every request."""


class GatewayServer(ThreadingHTTPServer):
    """A threading HTTP server on 127.0.0.1 that serves one :class:`GatewayApp`."""

    daemon_threads = True

    def __init__(self, app: GatewayApp, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.app = app

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.server_address[1]}"


def serve(app: GatewayApp, port: int = 0) -> tuple[GatewayServer, threading.Thread]:
    """Start serving ``app`` on 127.0.0.1:``port`` (0: any free port) in a thread."""
    server = GatewayServer(app, port)
    thread = threading.Thread(target=server.serve_forever, name="edlib-gateway-http", daemon=True)
    thread.start()
    return server, thread
