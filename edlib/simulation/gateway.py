"""The API gateway: the one door clients knock on.

Each route either **calls** services synchronously, one after another (the client waits
for all of them, and fails if any is down), or **publishes** an event and answers at once
(``202 Accepted``: services react when they can).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from edlib.core.events import check_event_type
from edlib.core.handlers import NotFound
from edlib.core.payloads import thaw, validate_payload
from edlib.core.schemas import check, validator
from edlib.messaging.protocol import BacklogFull
from edlib.simulation.env import Env
from edlib.simulation.service import ServiceUnavailable

_METHODS = ("GET", "POST", "PUT", "DELETE")


@dataclass(frozen=True)
class Response:
    """What the client gets back: an HTTP-like status and a JSON body, with virtual times."""

    status: int
    body: dict
    request_id: str
    sent_ms: float
    received_ms: float

    @property
    def ok(self) -> bool:
        """True for 2xx statuses."""
        return 200 <= self.status < 300

    @property
    def latency_ms(self) -> float:
        """Virtual ms between sending and receiving."""
        return self.received_ms - self.sent_ms

    def __repr__(self) -> str:
        return f"Response({self.status}, {self.body!r}, latency={self.latency_ms:g}ms)"


@dataclass(frozen=True)
class Route:
    """``METHOD /path/{param}`` and what it does: ``calls`` (sync) or ``publish`` (an event)."""

    method: str
    pattern: str
    calls: tuple[tuple[str, str], ...] = ()
    publish: str | None = None
    topic: str | None = None
    id_prefix: str | None = None
    regex: re.Pattern = field(compare=False, default=re.compile(""))
    schema: Any = field(compare=False, default=None)

    def __repr__(self) -> str:
        does = f"publish {self.publish}" if self.publish else ", ".join(f"{s}.{e}" for s, e in self.calls)
        return f"Route({self.method} {self.pattern} -> {does})"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        m = self.regex.fullmatch(path)
        return None if m is None else m.groupdict()


def _compile(pattern: str) -> re.Pattern:
    if not pattern.startswith("/"):
        raise ValueError(f"a route path starts with '/', got {pattern!r}")
    parts = re.split(r"(\{[A-Za-z_]\w*\})", pattern)
    return re.compile("".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts))


class Gateway:
    """Routes client requests to services (sync) or to the bus (events)."""

    def __init__(self, env: Env, latency_ms: float = 1.0, responses: list[Response] | None = None) -> None:
        self.env = env
        self.latency_ms = latency_ms
        self.routes: list[Route] = []
        self.responses: list[Response] = [] if responses is None else responses

    def route(self, spec: str, *, call: str | list[str] | None = None, publish: str | None = None,
              topic: str | None = None, id_prefix: str | None = None, schema: dict | None = None) -> Route:
        """Add a route such as ``gateway.route("POST /orders", call=["orders.create"])``.

        ``call``: ``"service.endpoint"`` names called in order; ``publish``: an event type
        the request becomes. ``id_prefix`` makes the gateway assign an id (``order-1``)
        that is added to the data as ``<prefix>_id`` and used as the event key.
        ``schema``: a JSON Schema the request body must satisfy (else 400).
        """
        try:
            method, pattern = spec.split()
        except (AttributeError, ValueError):
            raise ValueError(f"a route looks like 'POST /orders', got {spec!r}") from None
        if method not in _METHODS:
            raise ValueError(f"unknown method {method!r}; use one of {_METHODS}")
        if (call is None) == (publish is None):
            raise ValueError("a route either calls services (call=...) or publishes an event (publish=...)")
        calls: list[tuple[str, str]] = []
        for target in [call] if isinstance(call, str) else (call or []):
            service, _, endpoint = target.partition(".")
            if not endpoint:
                raise ValueError(f"name calls as 'service.endpoint', got {target!r}")
            self.env.peer(service)  # must exist
            calls.append((service, endpoint))
        if publish is not None:
            check_event_type(publish)
        if schema is not None:
            validator(schema)
        route = Route(method, pattern, tuple(calls), publish, topic, id_prefix, _compile(pattern), schema)
        self.routes = [r for r in self.routes if (r.method, r.pattern) != (method, pattern)] + [route]
        return route

    def handle(self, spec: str, body: Any = None) -> Response:
        """Serve one client request now; never raises for bad input (4xx) or outages (503)."""
        env = self.env
        request_id = env.ids("req")
        sent = env.now
        try:
            method, path = spec.split()
        except (AttributeError, ValueError):
            return self._respond(request_id, sent, 400, {"error": f"a request looks like 'POST /orders', got {spec!r}"})
        env.trace.record(sent, "request", "client", "gateway", f"{method} {path}", request_id)
        for route in self.routes:
            params = route.match(method, path)
            if params is not None:
                break
        else:
            return self._respond(request_id, sent, 404, {"error": f"no route for {method} {path}"})
        try:
            data = self._input(route, body, params)
        except (TypeError, ValueError) as exc:
            env.clock.advance(self.latency_ms)
            return self._respond(request_id, sent, 400, {"error": str(exc)})
        if route.publish is not None:
            return self._publish(route, data, request_id, sent)
        env.clock.advance(self.latency_ms)
        return self._call(route, data, request_id, sent)

    def _input(self, route: Route, body: Any, params: dict[str, str]) -> dict:
        if route.method in ("GET", "DELETE") and body is None:
            return dict(params)
        data = thaw(validate_payload(body, "request body"))
        if route.schema is not None:
            check(data, route.schema, "request body")
        return {**data, **params}

    def _publish(self, route: Route, data: dict, request_id: str, sent: float) -> Response:
        assert route.publish is not None            # handle() sends only publishing routes here
        key = None
        if route.id_prefix:
            key = self.env.ids(route.id_prefix)
            data = {f"{route.id_prefix}_id": key, **data}
        try:
            event = self.env.send(self.env.events(route.publish, data, key=key, source="gateway",
                                                  correlation_id=request_id), route.topic)
        except BacklogFull as exc:
            self.env.clock.advance(self.latency_ms)
            return self._respond(request_id, sent, 429, {"error": f"busy, try again later ({exc})"})
        self.env.clock.advance(self.latency_ms)
        body = {"status": "accepted", "event_id": event.id}
        if key:
            body[f"{route.id_prefix}_id"] = key
        return self._respond(request_id, sent, 202, body)

    def _call(self, route: Route, data: dict, request_id: str, sent: float) -> Response:
        result: dict = {}
        for service, endpoint in route.calls:
            try:
                answer = self.env.peer(service).handle_call(endpoint, data, caller="gateway")
            except ServiceUnavailable as exc:
                return self._respond(request_id, sent, 503, {"error": str(exc)})
            except NotFound as exc:
                return self._respond(request_id, sent, 404, {"error": str(exc)})
            except (TypeError, ValueError) as exc:
                return self._respond(request_id, sent, 400, {"error": f"{service}: {exc}"})
            except Exception as exc:  # a bug in a handler: say which, leak nothing else
                return self._respond(request_id, sent, 500,
                                     {"error": f"{service}.{endpoint} failed ({type(exc).__name__})"})
            if isinstance(answer, dict):
                result.update(answer)
            elif answer is not None:
                return self._respond(request_id, sent, 500, {"error": f"{service}.{endpoint} returned "
                                                             f"{type(answer).__name__}, not a dict"})
        return self._respond(request_id, sent, 201 if route.method == "POST" else 200, result)

    def _respond(self, request_id: str, sent: float, status: int, body: dict) -> Response:
        now = self.env.now
        self.env.trace.record(now, "response", "gateway", "client", str(status), request_id,
                                ok=200 <= status < 300, detail=body.get("error", ""))
        response = Response(status, body, request_id, sent, now)
        self.responses.append(response)
        return response
