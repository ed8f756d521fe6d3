"""The in-memory bus: the whole :class:`~edlib.messaging.protocol.EventBus` contract, log based, in one process.

It offers what a real broker offers (Kafka, Redis Streams), so that a broker can
replace it without changing service code:

- ``publish(topic, event)`` appends the event to the topic's log (one of its partitions,
  chosen by the event's key) and returns where it landed;
- ``subscribe(topic, group)`` creates a consumer group with its own position in the log;
- ``deliver(topic, group)`` hands the group's next events to a consumer;
- ``ack(delivery)`` says the consumer processed it, ``nack(delivery)`` gives it back.

A group can also be subscribed with a ``handler``: the bus then *pushes* each event to it
as it is published (in process, synchronously) and moves the group's offset itself. If
the handler raises, the group stops at that event (it shows in its backlog and in
``bus.failures``) and is consumed by ``deliver``/``ack`` until it has caught up.

Events stay in the log after they are acked: the log is the history, and each group
only moves its own offset. Within a partition a group has at most one event in flight,
so per-key order holds (and a poison event blocks its partition, as in Kafka).

Threads: a topic with one partition and only pushed groups publishes without taking the
lock (``list.append`` is atomic; the publish then checks that the topic's groups did not
change meanwhile, and settles under the lock when they did). A group subscribed while
other threads publish gets each event once, from its catch-up or from a push. Handlers
run in the publishing threads, so with several publishers a pushed group sees events in
no fixed order; if its handler fails meanwhile, a concurrent event can reach it twice
(pushed, then pulled again): at-least-once, never lost.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from edlib.core.events import Event
from edlib.messaging.memory_state import Cursor, Group, Route, Topic, position
from edlib.messaging.protocol import BacklogFull, Capabilities, DeadLetter, Delivery, PublishListener, partition_of

__all__ = ["InMemoryBus", "PushFailure"]

if TYPE_CHECKING:  # pragma: no cover
    from edlib.core.trace import Trace


@dataclass(frozen=True)
class PushFailure:
    """A pushed event whose handler raised: its group waits at ``offset``."""

    topic: str
    group: str
    offset: int
    event: Event
    error: str


class InMemoryBus:
    """A log-based bus in memory: topics, partitions by key, consumer groups with offsets.

    Thread-safe: one lock guards the offsets and the groups (pushed handlers run outside
    it, so a handler may publish); the module docstring tells the publish short way.
    ``partitions`` is the number of partitions each new topic gets; ``max_backlog`` bounds
    what any group may have waiting (publish then raises :class:`BacklogFull`); ``trace``
    records pushes.
    """

    def __init__(self, partitions: int = 1, max_backlog: int | None = None, trace: "Trace | None" = None) -> None:
        if not isinstance(partitions, int) or partitions < 1:
            raise ValueError(f"partitions must be a positive int, got {partitions!r}")
        if max_backlog is not None and (not isinstance(max_backlog, int) or max_backlog < 1):
            raise ValueError(f"max_backlog must be a positive int or None, got {max_backlog!r}")
        self.partitions = partitions
        self.max_backlog = max_backlog
        self.trace = trace
        self.failures: list[PushFailure] = []
        self.capabilities = Capabilities()      # no delayed redelivery, no blocking, one process
        self._dead: list[DeadLetter] = []
        self._topics: dict[str, Topic] = {}
        self._lock = threading.RLock()
        self._listeners: list[Callable[[str, Event], None]] = []
        self._routes: dict[str, Route] = {}

    # -- the interface -------------------------------------------------------------
    def publish(self, topic: str, event: Event) -> tuple[int, int]:
        """Append ``event`` to ``topic``, push it to handler groups; return ``(partition, offset)``."""
        route = self._routes.get(topic)
        if route is not None and event.__class__ is Event:   # one partition, only pushed groups: the short way
            log = route.log
            log.append(event)
            offset = len(log) - 1
            if route.live and log[offset] is event:          # no other thread changed the topic meanwhile
                for group, handler in route.handlers:
                    try:
                        handler(event)
                    except Exception as exc:
                        self._push_failed(topic, group, 0, offset, event, exc)
                return 0, offset
            return self._settle(topic, event, offset)
        return self._publish(topic, event)

    def _publish(self, topic: str, event: Event) -> tuple[int, int]:
        if not isinstance(event, Event):
            raise TypeError(f"publish needs an Event, got {type(event).__name__}")
        with self._lock:
            t = self._topic(topic)
            if self.max_backlog is not None:
                for name in t.groups:
                    waiting = self._waiting(t, name)
                    if waiting >= self.max_backlog:
                        raise BacklogFull(f"{topic!r} is full: {name!r} has {waiting} events waiting "
                                          f"(max_backlog={self.max_backlog}); slow down and retry later")
            if event.key is None:
                p = t.round_robin % len(t.partitions)
                t.round_robin += 1
            else:
                p = partition_of(event.key, len(t.partitions))
            log = t.partitions[p]
            log.append(event)
            offset = position(log, event, len(log) - 1)
            pushed = [(name, g.handler) for name, g in t.groups.items() if g.pushed]
        if self.trace is not None:
            self.trace.record(event.time, "publish", event.source or "client", "bus", event.type, event.id)
        self._push_all(topic, p, offset, event, pushed, self._listeners)  # type: ignore[arg-type]
        return p, offset

    def _push_all(self, topic: str, partition: int, offset: int, event: Event,
                  pushed: list[tuple[str, Callable[[Event], object]]],
                  listeners: list[Callable[[str, Event], None]]) -> None:
        """Call each pushed group's handler (a failure stops that group), then the publish listeners."""
        trace = self.trace
        for name, handler in pushed:
            if trace is not None:
                trace.record(event.time, "deliver", "bus", name, event.type, event.id)
            try:
                handler(event)
            except Exception as exc:
                self._push_failed(topic, name, partition, offset, event, exc)
            else:
                if trace is not None:
                    trace.record(event.time, "ack", name, "bus", event.type, event.id)
        for listener in listeners:
            listener(topic, event)

    def subscribe(self, topic: str, group: str, start: str = "earliest",
                  handler: Callable[[Event], object] | None = None) -> None:
        """Create consumer group ``group`` on ``topic`` (idempotent).

        ``start="earliest"``: the group reads the whole history; ``"latest"``: only what
        is published from now on. With ``handler`` the bus pushes events to it: first the
        history (from ``start``), then each new event as it is published.
        """
        if not isinstance(group, str) or not group:
            raise ValueError("a consumer group needs a non-empty name")
        if start not in ("earliest", "latest"):
            raise ValueError(f"start must be 'earliest' or 'latest', got {start!r}")
        if handler is not None and not callable(handler):
            raise TypeError(f"handler must be callable, got {type(handler).__name__}")
        with self._lock:
            t = self._topic(topic)
            if group in t.groups:
                return
            g = t.groups[group] = Group([Cursor(len(log) if start == "latest" else 0) for log in t.partitions],
                                         handler=handler, paused=handler is not None)
            self._refresh(topic)                  # before reading the logs: racing publishes settle
            if handler is not None:               # catch up on the history, then follow the log's end
                self._catch_up(topic, t, group, g)

    def _settle(self, topic: str, event: Event, guess: int) -> tuple[int, int]:
        """Finish a short-way publish that raced a change of the topic's groups, under the lock."""
        with self._lock:
            t = self._topics[topic]
            offset = position(t.partitions[0], event, guess)
            pushed: list[tuple[str, Callable[[Event], object]]] = []
            for name, g in t.groups.items():
                if g.live_from is None or offset < g.live_from[0]:
                    continue                      # pulled, or its catch-up read this event
                if g.pushed:
                    pushed.append((name, g.handler))  # type: ignore[arg-type]
                else:                             # it stopped on a failure meanwhile: pull this one too
                    g.cursors[0].go_back(offset)
            listeners = list(self._listeners)
        self._push_all(topic, 0, offset, event, pushed, listeners)
        return 0, offset

    def _catch_up(self, topic: str, t: Topic, group: str, g: Group) -> None:
        """Push the history to a new group (holding the lock); it goes live once it reaches the end."""
        for p, log in enumerate(t.partitions):
            cur = g.cursors[p]
            while cur.committed < len(log):       # read afresh: the handler may publish here
                offset = cur.committed
                try:
                    g.handler(log[offset])  # type: ignore[misc]
                except Exception as exc:
                    self._push_failed(topic, group, p, offset, log[offset], exc)
                    return                        # stays paused: deliver/ack takes it from here
                cur.committed = offset + 1
        self._go_live(topic, g)

    def _go_live(self, topic: str, g: Group) -> None:
        """A pushed group has caught up: the bus pushes to it again."""
        g.paused = False
        if g.live_from is None:
            g.live_from = [cur.committed for cur in g.cursors]
        self._refresh(topic)

    def seek(self, topic: str, group: str, offset: int | list[int] = 0) -> None:
        """Move ``group`` back (or forward) to ``offset`` in every partition (or one offset each): replay."""
        with self._lock:
            g, t = self._group(topic, group)
            offsets = offset if isinstance(offset, list) else [offset] * len(t.partitions)
            if len(offsets) != len(t.partitions):
                raise ValueError(f"{topic!r} has {len(t.partitions)} partitions; got {len(offsets)} offsets")
            if g.pushed:
                raise ValueError(f"{group!r} is pushed to by the bus; replay it with a pulled group")
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
            if g.pushed:
                return []
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
            cur.attempts = 0
            cur.settled()
            g, t = self._group(delivery.topic, delivery.group)
            if g.paused and self._waiting(t, delivery.group) == 0:
                self._go_live(delivery.topic, g)     # caught up: the bus pushes to it again

    def nack(self, delivery: Delivery, reason: str | None = None, delay_ms: float = 0.0) -> None:
        """Give ``delivery`` back: the same event will be delivered again (attempt + 1).

        This bus has no delayed redelivery: the event can be delivered again at once
        (``delay_ms`` is for the consumer to wait; ``reason`` is not kept).
        """
        with self._lock:
            self._cursor_for(delivery).settled()

    def dead_letter(self, delivery: Delivery, reason: str) -> None:
        """Set ``delivery`` aside with ``reason``: the group moves past it, :meth:`dead_letters` keeps it."""
        with self._lock:
            self.ack(delivery)
            self._dead.append(DeadLetter(delivery.topic, delivery.group, str(delivery.offset), reason,
                                         delivery.attempt, delivery.event))

    def ping(self) -> None:
        """The bus is in this process: it always answers."""

    def dead_letters(self) -> list[DeadLetter]:
        """Every dead letter, oldest first."""
        with self._lock:
            return list(self._dead)

    def backlog(self, topic: str, group: str) -> int:
        """Events in ``topic`` that ``group`` has not acked yet."""
        with self._lock:
            _, t = self._group(topic, group)
            return self._waiting(t, group)

    # -- inspection and hooks ----------------------------------------------------
    def on_publish(self, listener: PublishListener) -> None:
        """Call ``listener(topic, event)`` after every publish."""
        with self._lock:
            self._listeners.append(listener)
            for topic in self._topics:
                self._refresh(topic)

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
            g, t = self._group(topic, group)
            return [len(log) if g.pushed else cur.committed for log, cur in zip(t.partitions, g.cursors)]

    # -- internals ---------------------------------------------------------------
    def _topic(self, topic: str) -> Topic:
        t = self._topics.get(topic)
        if t is None:
            if not isinstance(topic, str) or not topic:
                raise ValueError(f"a topic needs a non-empty string name, got {topic!r}")
            t = self._topics[topic] = Topic([[] for _ in range(self.partitions)])
            self._refresh(topic)
        return t

    def _group(self, topic: str, group: str) -> tuple[Group, Topic]:
        t = self._topics.get(topic)
        if t is None or group not in t.groups:
            raise KeyError(f"no consumer group {group!r} on topic {topic!r}: subscribe first")
        return t.groups[group], t

    def _waiting(self, t: Topic, group: str) -> int:
        g = t.groups[group]
        return 0 if g.pushed else sum(len(log) - cur.committed for log, cur in zip(t.partitions, g.cursors))

    def _cursor_for(self, d: Delivery) -> Cursor:
        g, _ = self._group(d.topic, d.group)
        cur = g.cursors[d.partition]
        if not cur.in_flight or cur.committed != d.offset:
            raise ValueError(f"delivery {d.topic}[{d.partition}]@{d.offset} for {d.group!r} "
                             "is not in flight (acked twice, or never delivered)")
        return cur

    def _push_failed(self, topic: str, group: str, partition: int, offset: int, event: Event,
                     exc: Exception) -> None:
        """A pushed handler raised: the group stops at ``offset`` and is pulled from now on."""
        with self._lock:
            g = self._topics[topic].groups[group]
            if not g.paused:
                log_ends = [len(log) for log in self._topics[topic].partitions]
                for p, cur in enumerate(g.cursors):
                    cur.committed = offset if p == partition else log_ends[p]
                g.paused = True
                self._refresh(topic)
            else:                                 # already stopped (a racing push failed too)
                g.cursors[partition].go_back(offset)
            self.failures.append(PushFailure(topic, group, offset, event, f"{type(exc).__name__}: {exc}"))

    def _refresh(self, topic: str) -> None:
        """Let ``topic`` take the short way when it has one partition and only pushed groups."""
        old = self._routes.pop(topic, None)
        if old is not None:
            old.live = False                      # publishes that read it settle under the lock
        t = self._topics[topic]
        if (len(t.partitions) == 1 and self.max_backlog is None and self.trace is None
                and not self._listeners and all(g.pushed for g in t.groups.values())):
            self._routes[topic] = Route(t.partitions[0], tuple((n, g.handler) for n, g in t.groups.items()))  # type: ignore[misc]
