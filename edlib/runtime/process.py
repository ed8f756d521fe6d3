"""Run one part of the shop as its own process, against a Redis broker.

::

    python -m edlib.runtime.process service orders --broker redis://127.0.0.1:6379/0 --db orders.db
    python -m edlib.runtime.process gateway --broker redis://127.0.0.1:6379/0 --db gateway.db \\
        --view-db orders_view.db --port 8080

``service NAME`` runs the handlers that :data:`edlib.course.shop.SERVICES` (or ``--app MODULE``)
installs for NAME, on a :class:`~edlib.runtime.host.ServiceHost` with its own SQLite file; run it
twice with one ``--db`` and two ``--consumer`` names and the two instances share the work
of the group. ``gateway`` serves HTTP on 127.0.0.1 and hosts the ``orders_view`` read
model. Each prints one line ``ready ...`` when it is ready, stops cleanly on SIGTERM or
Ctrl-C (finishing the events it holds), and exits when the process that started it dies.
If the broker cannot be reached it says so in one line and exits with status 2.
"""
from __future__ import annotations

import argparse
import faulthandler
import importlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from edlib.messaging.redis_streams import DEFAULT_URL, BrokerUnavailable, RedisBus
from edlib.runtime.host import ServiceHost

EXIT_BROKER = 2


class StopFlag:
    """Like ``threading.Event`` (``set``, ``is_set``, ``wait``) but safe to set from a signal handler.

    ``Event.set`` takes a lock; a signal handler that runs while its own thread holds that
    lock (inside ``Event.wait``) would wait for itself forever. This flag takes no lock.
    """

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._set and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.02 if deadline is None else max(0.0, min(0.02, deadline - time.monotonic())))
        return self._set


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m edlib.runtime.process", description=__doc__.split("\n\n")[0])
    parts = parser.add_subparsers(dest="part", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--broker", default=DEFAULT_URL, help="Redis URL (default %(default)s)")
    common.add_argument("--db", required=True, help="this process's SQLite database file")
    common.add_argument("--prefix", default="edlib", help="prefix of the Redis keys (default %(default)s)")
    common.add_argument("--claim-idle-ms", type=int, default=5_000,
                        help="take over a dead consumer's events after they sat this long (default %(default)s)")
    common.add_argument("--max-deliveries", type=int, default=5, help="then dead letter (default %(default)s)")
    common.add_argument("--app", default="edlib.course.shop", help="module with SERVICES (default %(default)s)")
    service = parts.add_parser("service", parents=[common], help="run one service's handlers")
    service.add_argument("name", help="the service, e.g. orders")
    service.add_argument("--consumer", help="this instance's name in the group (default NAME-PID)")
    service.add_argument("--batch", type=int, default=10, help="events asked for at once (default %(default)s)")
    service.add_argument("--slow-ms", type=float, default=0.0,
                         help="each event takes at least this long (waiting between commit and ack)")
    gateway = parts.add_parser("gateway", parents=[common], help="serve HTTP and host the orders_view read model")
    gateway.add_argument("--view-db", required=True, help="the read model's SQLite database file")
    gateway.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free one)")
    return parser.parse_args(list(argv))


def installer(app: str, name: str) -> Callable[[Any], None]:
    """The function that registers service ``name``'s handlers, from module ``app``'s SERVICES."""
    services = vars(importlib.import_module(app)).get("SERVICES", {})
    if name not in services:
        raise SystemExit(f"edlib.runtime.process: {app} has no service {name!r}; it has {sorted(services)}")
    return services[name]


def publishes(app: str, name: str) -> list[str] | None:
    """What ``name`` may publish, from module ``app``'s PUBLISHES (None: it declares nothing)."""
    return vars(importlib.import_module(app)).get("PUBLISHES", {}).get(name)


def make_bus(args: argparse.Namespace, consumer: str) -> RedisBus:
    """A RedisBus for this process (blocking reads, so idle consumers wait at the broker)."""
    return RedisBus(args.broker, consumer=consumer, prefix=args.prefix, max_deliveries=args.max_deliveries,
                    claim_idle_ms=args.claim_idle_ms, block_ms=100)


def run_service(args: argparse.Namespace, stop: StopFlag) -> None:
    """``service NAME``: consume until stopped."""
    consumer = args.consumer or f"{args.name}-{os.getpid()}"
    host = ServiceHost(args.name, make_bus(args, consumer), args.db, consumer=consumer, batch=args.batch,
                       slow_ms=args.slow_ms, publishes=publishes(args.app, args.name))
    installer(args.app, args.name)(host)
    host.subscribe_all()
    print(f"ready service {args.name} consumer {consumer}", flush=True)
    host.run(stop)


def run_gateway(args: argparse.Namespace, stop: StopFlag) -> None:
    """``gateway``: serve HTTP, and feed the read model in a thread, until stopped."""
    from edlib.core.schemas import validator
    from edlib.runtime.http_gateway import GatewayApp, serve

    schema = vars(importlib.import_module(args.app)).get("ORDER_SCHEMA")
    if schema is None:
        raise SystemExit(f"edlib.runtime.process: {args.app} has no ORDER_SCHEMA for the gateway")
    validator(schema)                # load the schema checker now, not during the first request
    view = ServiceHost("orders_view", make_bus(args, "orders_view-1"), args.view_db, consumer="orders_view-1",
                       publishes=publishes(args.app, "orders_view"))
    installer(args.app, "orders_view")(view)
    view.subscribe_all()
    feeder = threading.Thread(target=_keep_running, args=(view, stop), name="orders_view", daemon=True)
    feeder.start()
    server, _ = serve(GatewayApp(make_bus(args, "gateway"), args.db, view, order_schema=schema), args.port)
    print(f"ready gateway {server.url}", flush=True)
    try:
        stop.wait()
    finally:
        server.shutdown()
        feeder.join(timeout=5)


def _keep_running(host: ServiceHost, stop: StopFlag) -> None:
    try:
        host.run(stop)
    except BrokerUnavailable as exc:
        print(f"edlib.runtime.process: {exc}", file=sys.stderr, flush=True)
        stop.set()


def _watch_parent(stop: StopFlag) -> None:
    """Stop when the process that started us is gone (a notebook kernel killed hard, say)."""
    parent = os.getppid()
    while not stop.wait(0.5):
        if os.getppid() != parent:
            stop.set()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run a service or the gateway until SIGTERM/SIGINT; 2 if the broker is unreachable."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    faulthandler.register(signal.SIGUSR1, all_threads=True)    # SIGUSR1: print where each thread is (stderr)
    stop = StopFlag()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    threading.Thread(target=_watch_parent, args=(stop,), name="watch-parent", daemon=True).start()
    try:
        (run_service if args.part == "service" else run_gateway)(args, stop)
    except BrokerUnavailable as exc:
        print(f"edlib.runtime.process: {exc}", file=sys.stderr, flush=True)
        return EXIT_BROKER
    return 0


if __name__ == "__main__":
    sys.exit(main())
