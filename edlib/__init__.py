"""edlib: the helper package of the Event-Driven Microservices course.

Build a small system on a virtual clock, send requests, watch events flow::

    from edlib import World
    world = World(seed=1)
    orders = world.add_service("orders", latency_ms=5)

The package is laid out by layer, each layer using only the ones above it in this list:

- ``edlib.core``: events and payloads, schemas, ids, clocks, databases, retry, outages, the trace;
- ``edlib.messaging``: the bus contract, the in-memory bus, the Redis Streams bus;
- ``edlib.runtime``: the one handler runner, and the real-process side (service host,
  HTTP gateway, process launcher, cluster);
- ``edlib.simulation``: the world on a virtual clock, its services, gateway, consumers,
  faults, chaos, interleavings and the queueing model;
- ``edlib.patterns``: sagas, event store, upcasting, fold, projections, contracts, sensitive fields;
- ``edlib.course``: the shop, its data and scenarios, the legacy flow, measures, test helpers;
- ``edlib.viz``, ``edlib.exercises``, ``edlib.bench``: pictures, exercises, benchmarks.

The names below are the ones notebooks use most; each is imported on first use (PEP 562),
so ``import edlib`` stays cheap.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_PUBLIC = {
    "Database": "edlib.core.database",
    "Delivery": "edlib.messaging.protocol",
    "Event": "edlib.core.events",
    "EventBus": "edlib.messaging.protocol",
    "EventFactory": "edlib.core.events",
    "Gateway": "edlib.simulation.gateway",
    "InMemoryBus": "edlib.messaging.memory",
    "MAX_PAYLOAD_BYTES": "edlib.core.payloads",
    "NotFound": "edlib.core.handlers",
    "RandomUuids": "edlib.core.ids",
    "Response": "edlib.simulation.gateway",
    "SeededUuids": "edlib.core.ids",
    "SequentialIds": "edlib.core.ids",
    "Service": "edlib.simulation.service",
    "ServiceUnavailable": "edlib.simulation.service",
    "Trace": "edlib.core.trace",
    "TraceRecord": "edlib.core.trace",
    "VirtualClock": "edlib.core.clock",
    "WallClock": "edlib.core.clock",
    "World": "edlib.simulation.world",
    "validate_payload": "edlib.core.payloads",
}

__all__ = [
    "Database",
    "Delivery",
    "Event",
    "EventBus",
    "EventFactory",
    "Gateway",
    "InMemoryBus",
    "MAX_PAYLOAD_BYTES",
    "NotFound",
    "RandomUuids",
    "Response",
    "SeededUuids",
    "SequentialIds",
    "Service",
    "ServiceUnavailable",
    "Trace",
    "TraceRecord",
    "VirtualClock",
    "WallClock",
    "World",
    "validate_payload",
    "__version__",
]

if TYPE_CHECKING:  # pragma: no cover
    from edlib.core.clock import VirtualClock, WallClock
    from edlib.core.database import Database
    from edlib.core.events import Event, EventFactory
    from edlib.core.handlers import NotFound
    from edlib.core.ids import RandomUuids, SeededUuids, SequentialIds
    from edlib.core.payloads import MAX_PAYLOAD_BYTES, validate_payload
    from edlib.core.trace import Trace, TraceRecord
    from edlib.messaging.memory import InMemoryBus
    from edlib.messaging.protocol import Delivery, EventBus
    from edlib.simulation.gateway import Gateway, Response
    from edlib.simulation.service import Service, ServiceUnavailable
    from edlib.simulation.world import World


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'edlib' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
