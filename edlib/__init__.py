"""edlib: the helper package of the Event-Driven Microservices course.

Build a small system on a virtual clock, send requests, watch events flow::

    from edlib import World
    world = World(seed=1)
    orders = world.add_service("orders", latency_ms=5)
"""
from .bus import Delivery, EventBus, InMemoryBus
from .clock import VirtualClock, WallClock
from .database import Database
from .events import Event, EventFactory
from .gateway import Gateway, Response
from .ids import RandomUuids, SeededUuids, SequentialIds
from .payloads import MAX_PAYLOAD_BYTES, validate_payload
from .service import NotFound, Service, ServiceUnavailable
from .trace import Trace, TraceRecord
from .world import World

__version__ = "0.1.0"

__all__ = [
    "Database", "Delivery", "Event", "EventBus", "EventFactory", "Gateway", "InMemoryBus",
    "MAX_PAYLOAD_BYTES", "NotFound", "RandomUuids", "Response", "SeededUuids", "SequentialIds",
    "Service", "ServiceUnavailable", "Trace", "TraceRecord", "VirtualClock", "WallClock", "World",
    "validate_payload", "__version__",
]
