"""The event bus: a small interface and an in-memory, log-based implementation.

The interface is what a real broker offers (Kafka, Redis Streams), so that a broker can
replace the in-memory bus without changing service code:

- ``publish(topic, event)`` appends the event to the topic's log (one of its partitions,
  chosen by the event's key) and returns where it landed;
- ``subscribe(topic, group)`` creates a consumer group with its own position in the log;
- ``deliver(topic, group)`` hands the group's next events to a consumer;
- ``ack(delivery)`` says the consumer processed it, ``nack(delivery)`` gives it back.

Events stay in the log after they are acked: the log is the history, and each group
only moves its own offset. Within a partition a group has at most one event in flight,
so per-key order holds (and a poison event blocks its partition, as in Kafka).
"""
from __future__ import annotations

import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from .events import Event


@dataclass(frozen=True)
class Delivery:
    """One event handed to a consumer: where it sits in the log and which attempt this is."""

    topic: str
    group: str
    partition: int
    offset: int
    event: Event
    attempt: int = 1


class BacklogFull(RuntimeError):
    """The bus refuses a publish: a consumer group of the topic already has ``max_backlog`` events waiting."""


class EventBus(Protocol):
    """What services need from a bus; both the in-memory and the Redis bus provide it."""

    def publish(self, topic: str, event: Event) -> tuple[int, int]: ...
    def subscribe(self, topic: str, group: str) -> None: ...
    def deliver(self, topic: str, group: str, max_count: int = 1) -> list[Delivery]: ...
    def ack(self, delivery: Delivery) -> None: ...
    def nack(self, delivery: Delivery) -> None: ...
    def backlog(self, topic: str, group: str) -> int: ...


@dataclass
class _Cursor:
    """A group's position in one partition."""

    committed: int = 0          # every offset below this is acked
    in_flight: bool = False     # the event at `committed` is out with a consumer
    attempts: int = 0           # deliveries so far of the event at `committed`


@dataclass
class _Group:
    cursors: list[_Cursor]
    next_partition: int = 0


@dataclass
class _Topic:
    partitions: list[list[Event]]
    groups: dict[str, _Group] = field(default_factory=dict)
    round_robin: int = 0


class InMemoryBus:
    """A log-based bus in memory: topics, partitions by key, consumer groups with offsets.

    Thread-safe: one lock guards every change. ``partitions`` is the number of
    partitions each new topic gets.
    """

    def __init__(self, partitions: int = 1, max_backlog: int | None = None) -> None:
        if not isinstance(partitions, int) or partitions < 1:
            raise ValueError(f"partitions must be a positive int, got {partitions!r}")
        if max_backlog is not None and (not isinstance(max_backlog, int) or max_backlog < 1):
            raise ValueError(f"max_backlog must be a positive int or None, got {max_backlog!r}")
        self.partitions = partitions
        self.max_backlog = max_backlog
        self._topics: dict[str, _Topic] = {}
        self._lock = threading.RLock()
        self._listeners: list[Callable[[str, Event], None]] = []

    # -- the interface -------------------------------------------------------------
    def publish(self, topic: str, event: Event) -> tuple[int, int]:
        """Append ``event`` to ``topic``; return ``(partition, offset)``."""
        if not isinstance(event, Event):
            raise TypeError(f"publish needs an Event, got {type(event).__name__}")
        with self._lock:
            t = self._topic(topic)
            if self.max_backlog is not None:
                for name, g in t.groups.items():
                    waiting = sum(len(log) - cur.committed for log, cur in zip(t.partitions, g.cursors))
                    if waiting >= self.max_backlog:
                        raise BacklogFull(f"{topic!r} is full: {name!r} has {waiting} events waiting "
                                          f"(max_backlog={self.max_backlog}); slow down and retry later")
            if event.key is None:
                p = t.round_robin % len(t.partitions)
                t.round_robin += 1
            else:
                p = zlib.crc32(event.key.encode("utf-8")) % len(t.partitions)
            log = t.partitions[p]
            log.append(event)
            where = (p, len(log) - 1)
        for listener in self._listeners:
            listener(topic, event)
        return where

    def subscribe(self, topic: str, group: str, start: str = "earliest") -> None:
        """Create consumer group ``group`` on ``topic`` (idempotent).

        ``start="earliest"``: the group reads the whole history; ``"latest"``: only what
        is published from now on.
        """
        if not isinstance(group, str) or not group:
            raise ValueError("a consumer group needs a non-empty name")
        if start not in ("earliest", "latest"):
            raise ValueError(f"start must be 'earliest' or 'latest', got {start!r}")
        with self._lock:
            t = self._topic(topic)
            if group not in t.groups:
                t.groups[group] = _Group([_Cursor(len(log) if start == "latest" else 0) for log in t.partitions])

    def seek(self, topic: str, group: str, offset: int | list[int] = 0) -> None:
        """Move ``group`` back (or forward) to ``offset`` in every partition (or one offset each): replay."""
        with self._lock:
            g, t = self._group(topic, group)
            offsets = offset if isinstance(offset, list) else [offset] * len(t.partitions)
            if len(offsets) != len(t.partitions):
                raise ValueError(f"{topic!r} has {len(t.partitions)} partitions; got {len(offsets)} offsets")
            for cur, log, off in zip(g.cursors, t.partitions, offsets):
                if not isinstance(off, int) or not 0 <= off <= len(log):
                    raise ValueError(f"offset {off!r} is outside the log (0..{len(log)})")
                if cur.in_flight:
                    raise ValueError(f"{group!r} has an event in flight on {topic!r}: seek when it is idle")
                cur.committed, cur.attempts = off, 0

    def deliver(self, topic: str, group: str, max_count: int = 1) -> list[Delivery]:
        """Hand out up to ``max_count`` events, at most one per partition in flight."""
        with self._lock:
            g, t = self._group(topic, group)
            out: list[Delivery] = []
            n = len(t.partitions)
            for i in range(n):
                if len(out) >= max_count:
                    break
                p = (g.next_partition + i) % n
                cur = g.cursors[p]
                if cur.in_flight or cur.committed >= len(t.partitions[p]):
                    continue
                cur.in_flight = True
                cur.attempts += 1
                out.append(Delivery(topic, group, p, cur.committed, t.partitions[p][cur.committed],
                                    cur.attempts))
            g.next_partition = (g.next_partition + 1) % n
            return out

    def ack(self, delivery: Delivery) -> None:
        """Mark ``delivery`` processed: the group's offset moves past it."""
        with self._lock:
            cur = self._cursor_for(delivery)
            cur.committed += 1
            cur.in_flight = False
            cur.attempts = 0

    def nack(self, delivery: Delivery) -> None:
        """Give ``delivery`` back: the same event will be delivered again (attempt + 1)."""
        with self._lock:
            self._cursor_for(delivery).in_flight = False

    def backlog(self, topic: str, group: str) -> int:
        """Events in ``topic`` that ``group`` has not acked yet."""
        with self._lock:
            g, t = self._group(topic, group)
            return sum(len(log) - cur.committed for log, cur in zip(t.partitions, g.cursors))

    # -- inspection and hooks ----------------------------------------------------
    def on_publish(self, listener: Callable[[str, Event], None]) -> None:
        """Call ``listener(topic, event)`` after every publish."""
        self._listeners.append(listener)

    def topics(self) -> list[str]:
        """Names of the topics that exist, sorted."""
        with self._lock:
            return sorted(self._topics)

    def groups(self, topic: str) -> list[str]:
        """Consumer groups of ``topic``, sorted."""
        with self._lock:
            return sorted(self._topics[topic].groups) if topic in self._topics else []

    def log(self, topic: str, partition: int | None = None) -> list[Event]:
        """The events of a topic (one partition, or all partitions one after another)."""
        with self._lock:
            if topic not in self._topics:
                return []
            parts = self._topics[topic].partitions
            if partition is not None:
                return list(parts[partition])
            return [e for log in parts for e in log]

    def offsets(self, topic: str, group: str) -> list[int]:
        """The committed offset of ``group`` in each partition of ``topic``."""
        with self._lock:
            g, _ = self._group(topic, group)
            return [cur.committed for cur in g.cursors]

    # -- internals ---------------------------------------------------------------
    def _topic(self, topic: str) -> _Topic:
        t = self._topics.get(topic)
        if t is None:
            if not isinstance(topic, str) or not topic:
                raise ValueError(f"a topic needs a non-empty string name, got {topic!r}")
            t = self._topics[topic] = _Topic([[] for _ in range(self.partitions)])
        return t

    def _group(self, topic: str, group: str) -> tuple[_Group, _Topic]:
        t = self._topics.get(topic)
        if t is None or group not in t.groups:
            raise KeyError(f"no consumer group {group!r} on topic {topic!r}: subscribe first")
        return t.groups[group], t

    def _cursor_for(self, d: Delivery) -> _Cursor:
        g, _ = self._group(d.topic, d.group)
        cur = g.cursors[d.partition]
        if not cur.in_flight or cur.committed != d.offset:
            raise ValueError(f"delivery {d.topic}[{d.partition}]@{d.offset} for {d.group!r} "
                             "is not in flight (acked twice, or never delivered)")
        return cur
