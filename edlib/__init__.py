"""edlib: the helper package of the Event-Driven Microservices course.

Build a small system on a virtual clock, send requests, watch events flow::

    from edlib import World
    world = World(seed=1)
    orders = world.add_service("orders", latency_ms=5)
"""
from edlib.messaging.memory import Delivery, EventBus, InMemoryBus
from edlib.core.clock import VirtualClock, WallClock
from edlib.core.database import Database
from edlib.core.events import Event, EventFactory
from edlib.simulation.gateway import Gateway, Response
from edlib.core.ids import RandomUuids, SeededUuids, SequentialIds
from edlib.core.payloads import MAX_PAYLOAD_BYTES, validate_payload
from edlib.simulation.service import NotFound, Service, ServiceUnavailable
from edlib.core.trace import Trace, TraceRecord
from edlib.simulation.world import World

__version__ = "0.1.0"

__all__ = [
    "Database", "Delivery", "Event", "EventBus", "EventFactory", "Gateway", "InMemoryBus",
    "MAX_PAYLOAD_BYTES", "NotFound", "RandomUuids", "Response", "SeededUuids", "SequentialIds",
    "Service", "ServiceUnavailable", "Trace", "TraceRecord", "VirtualClock", "WallClock", "World",
    "validate_payload", "__version__",
]
