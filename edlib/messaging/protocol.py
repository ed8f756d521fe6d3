"""The bus contract: what services, the simulated world and the real service host need from a bus.

Every bus (in memory, Redis Streams, and the brokers to come) implements all of
:class:`EventBus`: publishing, consumer groups, deliver/ack/nack, dead letters, replay,
the log and a publish hook. What differs between brokers is *declared* in
:class:`Capabilities` (``bus.capabilities``), so callers ask the bus what it can do
instead of sniffing its methods' signatures:

- ``delayed_redelivery``: ``nack(delay_ms=...)`` holds the event back for that long
  (a bus without it hands the event out again at once);
- ``blocking``: ``deliver`` waits at the broker when there is nothing (a poll loop
  need not sleep);
- ``shared_groups``: several processes can consume one group and share its work;
- ``max_deliveries``: the bus itself dead-letters an event given back this many times
  (None: it never does; the consumer decides).

:func:`partition_of` is the one partitioning rule (``crc32(key) % partitions``), so an
event's partition is the same on every bus.
"""
from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from edlib.core.events import Event


@dataclass(frozen=True)
class Delivery:
    """One event handed to a consumer: where it sits in the log and which attempt this is.

    ``offset`` is the event's position in its partition's log: an int in memory, the
    stream entry id (a string such as ``"1712345678901-0"``) on Redis Streams.
    """

    topic: str
    group: str
    partition: int
    offset: int | str
    event: Event
    attempt: int = 1


@dataclass(frozen=True)
class DeadLetter:
    """An event set aside after its last failed delivery, with why and after how many deliveries.

    ``event`` is None when what was stored could not be read back as an event (``raw``
    then holds it).
    """

    topic: str
    group: str
    offset: str
    reason: str
    deliveries: int
    event: Event | None
    raw: str = ""


@dataclass(frozen=True)
class Capabilities:
    """What a bus can do beyond the contract every bus keeps (see the module docstring)."""

    delayed_redelivery: bool = False
    blocking: bool = False
    shared_groups: bool = False
    max_deliveries: int | None = None


class BacklogFull(RuntimeError):
    """The bus refuses a publish: a consumer group of the topic already has too many events waiting."""


PublishListener = Callable[[str, Event], None]


@runtime_checkable
class EventBus(Protocol):
    """The whole contract of a bus (tests/unit/test_bus_contract.py runs it against every bus)."""

    capabilities: Capabilities

    def publish(self, topic: str, event: Event) -> tuple[int, int | str]:
        """Append ``event`` to ``topic`` (its partition chosen by :func:`partition_of`); return where it landed."""
        ...

    def subscribe(self, topic: str, group: str, start: str = "earliest") -> None:
        """Create consumer group ``group`` on ``topic`` from ``"earliest"`` or ``"latest"`` (idempotent)."""
        ...

    def deliver(self, topic: str, group: str, max_count: int = 1) -> list[Delivery]:
        """Hand out up to ``max_count`` of the group's next events."""
        ...

    def ack(self, delivery: Delivery) -> None:
        """The consumer processed ``delivery``: the group moves past it."""
        ...

    def nack(self, delivery: Delivery, reason: str | None = None, delay_ms: float = 0.0) -> None:
        """Give ``delivery`` back: it comes again (attempt + 1), after ``delay_ms`` on a bus with delayed redelivery."""
        ...

    def dead_letter(self, delivery: Delivery, reason: str) -> None:
        """Set ``delivery`` aside for good with ``reason``; the group moves past it."""
        ...

    def dead_letters(self) -> list[DeadLetter]:
        """Every dead letter, oldest first."""
        ...

    def seek(self, topic: str, group: str, offset: int | list[int] = 0) -> None:
        """Move ``group`` to position ``offset`` in each partition of ``topic`` (or one offset each; 0: the start)."""
        ...

    def topics(self) -> list[str]:
        """Names of the topics that exist, sorted."""
        ...

    def log(self, topic: str) -> list[Event]:
        """Every event of ``topic``, partition after partition, oldest first."""
        ...

    def backlog(self, topic: str, group: str) -> int:
        """Events of ``topic`` that ``group`` has not acked yet."""
        ...

    def on_publish(self, listener: PublishListener) -> None:
        """Call ``listener(topic, event)`` after each publish through this bus object."""
        ...

    def ping(self) -> None:
        """Return if the broker answers; raise ConnectionError (a subclass naming where) if not."""
        ...


def partition_of(key: str, partitions: int) -> int:
    """The partition of an event with ``key`` among ``partitions``: ``crc32(key) % partitions``."""
    return zlib.crc32(key.encode("utf-8")) % partitions
