"""The shop as separate processes on this machine: a broker, a gateway, services, and their trace.

:class:`LocalShop` starts ``python -m edlib.runtime.process`` children against one Redis broker,
each with its own SQLite file in one folder, and gives a notebook or a test what it
needs to experiment: HTTP requests to the gateway, SIGKILL and restart of a consumer,
waiting until the broker has nothing left for anyone, counts read from each service's
database, and the run as a :class:`~edlib.core.trace.Trace` for the live view::

    with LocalShop(broker_url, folder) as shop:
        shop.start_gateway()
        shop.start_service("orders", "orders-1")
        status, body = shop.post("/orders", {"item": "book", "qty": 1})
        shop.wait_until_idle()
        LiveView.replay(shop.trace(), shop.topology())

The trace is put together from the ``trace`` table each process writes (see
:class:`~edlib.runtime.host.ServiceHost`) and from the starts and kills done here; records are
ordered by wall-clock time and then placed :data:`STEP_MS` apart, so a replay shows the
order things happened in, the same on every run, rather than this machine's timings.
"""
from __future__ import annotations

import http.client
import json
import sqlite3
import tempfile
import time
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import networkx as nx

from edlib.core.trace import Trace
from edlib.messaging.redis_streams import RedisBus
from edlib.runtime.host import TRACE_TABLE
from edlib.runtime.processes import Processes

STEP_MS = 10.0
"""Virtual ms between two consecutive records of a replayed multi-process trace."""

CONSUMED = {"orders": ["OrderPlaced"], "shipping": ["OrderPlaced"], "orders_view": ["OrderPlaced"]}
"""What each service of the shop consumes (topics are named after event types)."""


def wait_for(condition: Callable[[], Any], timeout_s: float = 20.0, every_s: float = 0.01, what: str = "") -> Any:
    """Poll ``condition()`` until it is truthy and return it; TimeoutError after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout_s:g} s for {what or 'a condition'}")
        time.sleep(every_s)


def http_json(url: str, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
              content_type: str | None = "application/json", timeout_s: float = 10.0) -> tuple[int, dict[str, Any]]:
    """One HTTP request; returns ``(status, JSON body)`` whatever the status (no exception for 4xx/5xx)."""
    host_port = url.split("://", 1)[1]
    conn = http.client.HTTPConnection(host_port, timeout=timeout_s)
    try:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode("utf-8"))
        headers = {"Content-Type": content_type} if content_type and data is not None else {}
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        text = response.read()
        return response.status, json.loads(text) if text else {}
    finally:
        conn.close()


class LocalShop:
    """The shop's gateway and services as processes over the broker at ``broker_url``.

    ``folder``: where the databases and logs go (a temporary folder by default);
    ``claim_idle_ms``: how long a dead consumer's events wait before another takes them.
    """

    def __init__(self, broker_url: str, folder: str | Path | None = None, *, prefix: str = "edlib",
                 claim_idle_ms: int = 1_000) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="edlib-shop-") if folder is None else None
        self.folder = Path(folder if folder is not None else self._tmp.name).resolve()  # type: ignore[union-attr]
        self.broker_url = broker_url
        self.prefix = prefix
        self.claim_idle_ms = claim_idle_ms
        self.processes = Processes(self.folder / "logs")
        self.bus = RedisBus(broker_url, consumer="observer", prefix=prefix)
        self.gateway_url = ""
        self.instances: dict[str, str] = {}      # consumer name -> service
        self._events: list[tuple[float, str, str, str]] = []   # (wall ms, service, up/down, why)
        self._finalizer = weakref.finalize(self, _close, self.processes, self.bus, self._tmp)

    # -- starting and stopping ---------------------------------------------------------
    def db_path(self, service: str) -> Path:
        """The SQLite file of ``service`` (shared by its instances)."""
        return self.folder / f"{service}.db"

    def _common(self) -> list[str]:
        return ["--broker", self.broker_url, "--prefix", self.prefix, "--claim-idle-ms", str(self.claim_idle_ms)]

    def start(self, *services: str, gateway: bool = True, timeout_s: float = 60.0) -> list[str]:
        """Start the gateway and one instance of each of ``services`` side by side; wait until all are ready."""
        if gateway:
            self.start_gateway(wait=False)
        names = (["gateway"] if gateway else []) + [self.start_service(s, wait=False) for s in services]
        self.processes.wait_ready(names, timeout_s)
        if gateway:
            self.gateway_url = self.processes["gateway"].ready_line.split()[-1]
        return names

    def start_gateway(self, wait: bool = True) -> str:
        """Start the HTTP gateway (and its orders_view read model); return its URL (once ready)."""
        child = self.processes.start("gateway", ["-m", "edlib.runtime.process", "gateway", *self._common(),
                                                 "--db", str(self.db_path("gateway")),
                                                 "--view-db", str(self.db_path("orders_view"))], wait=wait)
        if wait:
            self.gateway_url = child.ready_line.split()[-1]
        return self.gateway_url

    def start_service(self, service: str, consumer: str | None = None, *, slow_ms: float = 0.0,
                      batch: int = 10, wait: bool = True) -> str:
        """Start one instance of ``service`` named ``consumer`` (default ``service-N``); return the name."""
        consumer = consumer or f"{service}-{sum(s == service for s in self.instances.values()) + 1}"
        self.processes.start(consumer, ["-m", "edlib.runtime.process", "service", service, *self._common(),
                                        "--db", str(self.db_path(service)), "--consumer", consumer,
                                        "--batch", str(batch), "--slow-ms", str(slow_ms)], wait=wait)
        self.instances[consumer] = service
        self._events.append((time.time() * 1000, service, "up", f"{consumer} started"))
        return consumer

    def kill(self, consumer: str) -> None:
        """SIGKILL one instance: it gets no chance to finish or ack anything."""
        self._events.append((time.time() * 1000, self.instances[consumer], "down", f"{consumer}: SIGKILL"))
        self.processes.kill(consumer)

    def stop(self, *consumers: str) -> list[int]:
        """Stop instances gently (SIGTERM: each finishes the events it holds), side by side; their exit codes."""
        codes = self.processes.stop(*consumers)
        for consumer in consumers:
            self._events.append((time.time() * 1000, self.instances.get(consumer, consumer), "down",
                                 f"{consumer} stopped"))
        return codes

    def running(self) -> list[str]:
        """Names of the processes alive now."""
        return self.processes.running()

    def close(self) -> None:
        """Stop every process this shop started (idempotent)."""
        self._finalizer()

    def __enter__(self) -> "LocalShop":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- talking to it ------------------------------------------------------------------
    def post(self, path: str, body: Any = None, **options: Any) -> tuple[int, dict[str, Any]]:
        """POST JSON to the gateway; ``(status, body)``."""
        return http_json(self.gateway_url, "POST", path, body, **options)

    def get(self, path: str) -> tuple[int, dict[str, Any]]:
        """GET from the gateway; ``(status, body)``."""
        return http_json(self.gateway_url, "GET", path)

    def backlog(self) -> dict[str, int]:
        """Events each consumer group still has to process (pending + unread), by group."""
        out = {}
        for group, topics in sorted(CONSUMED.items()):
            if all(group in self.bus.groups(t) for t in topics):
                out[group] = sum(self.bus.backlog(t, group) for t in topics)
        return out

    def wait_until_idle(self, groups: Iterable[str] | None = None, timeout_s: float = 20.0) -> None:
        """Wait until ``groups`` (default: every group) have nothing left to process."""
        names = None if groups is None else set(groups)
        wait_for(lambda: not any(n for g, n in self.backlog().items() if names is None or g in names),
                 timeout_s, what="the consumer groups to catch up")

    # -- looking inside (read-only) --------------------------------------------------------
    def query(self, service: str, sql: str, params: tuple = ()) -> list[tuple]:
        """Rows of a read-only query on ``service``'s database (an audit: the services never do this)."""
        path = self.db_path(service)
        if not path.exists():
            return []
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise
        finally:
            conn.close()

    def ids(self, service: str, table: str) -> list[str]:
        """The ids of the documents in ``service``'s ``table``."""
        return [row[0] for row in self.query(service, f'SELECT id FROM "{table}" ORDER BY rowid')]

    def records(self) -> list[tuple]:
        """Every trace row of every process and of this launcher, in wall-clock order."""
        rows: list[tuple] = []
        for service in ("gateway", "orders_view", *sorted(set(self.instances.values()))):
            rows += self.query(service, f"SELECT t, kind, source, target, label, ref, ok, detail FROM {TRACE_TABLE}")
        rows += [(t, "state", s, s, state, "", state == "up", why) for t, s, state, why in self._events]
        return sorted(rows, key=lambda r: r[0])

    def trace(self, step_ms: float = STEP_MS, since: int = 0) -> Trace:
        """The run as a :class:`Trace`: records in the order they happened, ``step_ms`` apart.

        ``since``: skip the first ``since`` records (for the part of a run after a point).
        """
        trace = Trace()
        for i, (_, kind, source, target, label, ref, ok, detail) in enumerate(self.records()[since:]):
            trace.record(i * step_ms, kind, source, target, label or "", ref or "", bool(ok), detail or "")
        return trace

    def topology(self) -> nx.DiGraph:
        """The system as processes: client, gateway, broker, the services and their databases."""
        g = nx.DiGraph()
        g.add_node("client", role="client")
        g.add_node("gateway", role="gateway")
        g.add_node("bus", role="bus")
        g.add_edge("client", "gateway", kind="request")
        g.add_edge("gateway", "bus", kind="publish")
        for service in ("orders_view", *sorted(set(self.instances.values()))):
            g.add_node(service, role="service")
            g.add_node(f"{service}.db", role="database")
            g.add_edge("bus", service, kind="deliver")
            g.add_edge(service, f"{service}.db", kind="write")
        g.add_edge("gateway", "orders_view", kind="call")
        return g


def _close(processes: Processes, bus: RedisBus, tmp: tempfile.TemporaryDirectory[str] | None) -> None:
    processes.close()
    bus.close()
    if tmp is not None:
        tmp.cleanup()


def order_ids(responses: Iterable[tuple[int, dict[str, Any]]]) -> list[str]:
    """The order ids of the accepted (202) responses."""
    return [body["order_id"] for status, body in responses if status == 202]
