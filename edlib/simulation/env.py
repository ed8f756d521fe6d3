"""What the world hands the parts it builds (services, their consumers, the gateway): capabilities.

A part holds an :class:`Env`, never the world itself, so it can reach only what it was
given, and no module of the simulation needs to import the world that builds it.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from edlib.core.clock import VirtualClock
from edlib.core.database import Databases
from edlib.core.events import Event, EventFactory
from edlib.core.retry import RetryPolicy
from edlib.core.trace import Trace
from edlib.messaging.protocol import Delivery, EventBus
from edlib.simulation.crashes import FaultState
from edlib.simulation.scheduler import Scheduler


class Peer(Protocol):
    """A service another part may call synchronously."""

    def handle_call(self, endpoint: str, data: Any, caller: str) -> Any:
        """Run ``endpoint`` for ``caller`` and return its answer."""
        ...


@dataclass(frozen=True)
class Env:
    """The capabilities of one world.

    ``send(event, topic)`` appends an event to the bus (with any injected delay);
    ``peer(name)`` is a service to call; ``owners`` maps an event type to its sole
    publisher (read only); ``default_retry()`` is the world's retry policy at that
    moment; ``subscribe(service, topic)`` starts a consumer for a service;
    ``outage_scheduled(name, start, end)`` records an outage in the trace;
    ``dead_letter(service, topic, delivery, reason)`` sets an event aside for good.
    """

    clock: VirtualClock
    scheduler: Scheduler
    trace: Trace
    events: EventFactory
    ids: Callable[[str], str]
    databases: Databases
    bus: EventBus
    faults: FaultState
    random: random.Random
    owners: Mapping[str, str]
    send: Callable[[Event, "str | None"], Event]
    peer: Callable[[str], Peer]
    default_retry: Callable[[], RetryPolicy]
    subscribe: Callable[[Any, str], None]
    outage_scheduled: Callable[[str, float, float], None]
    dead_letter: Callable[[str, str, Delivery, str], None]

    @property
    def now(self) -> float:
        """The virtual time in ms."""
        return self.clock.now()
