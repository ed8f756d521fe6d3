"""The Redis Streams bus: the in-memory bus's interface, on a real broker.

Each partition of a topic is one stream (``edlib:OrderPlaced:0``); each entry holds one
event as JSON (:meth:`Event.to_json`, read back with :meth:`Event.from_json`: never
pickle). A consumer group is a Redis consumer group, so several processes in one group
share the work, and every group keeps its own position::

    bus = RedisBus("redis://127.0.0.1:6379/0", consumer="orders-1")
    bus.subscribe("OrderPlaced", "orders")             # XGROUP CREATE ... 0 MKSTREAM
    bus.publish("OrderPlaced", event)                  # XADD
    for d in bus.deliver("OrderPlaced", "orders", 10): # XREADGROUP (and XAUTOCLAIM, see below)
        ...handle d.event...
        bus.ack(d)                                     # XACK, after processing

What a real broker adds: **pending entries** (XPENDING; a dead consumer's entries are
taken over after ``claim_idle_ms`` by XAUTOCLAIM, attempt + 1), **a delivery limit**
(after ``max_deliveries`` an entry moves to ``edlib:dead-letters`` with the reason and
count), **delayed redelivery** (``nack(delay_ms=...)``), **replay** (a new group from id 0,
or ``seek``), and **clear errors** (:class:`BrokerUnavailable` names the URL and what to do).

``Delivery.offset`` is the stream entry id (a string) here.
"""
from __future__ import annotations

import math
import os
import socket
import threading
import time
from collections import deque
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Any

import redis

from edlib.core.events import Event
from edlib.messaging.protocol import Capabilities, Delivery, PublishListener, partition_of
from edlib.messaging.redis_inspect import StreamInspection
from edlib.messaging.redis_wire import (
    BrokerUnavailable,
    PendingEntry,
    check_name,
    dead_letter_fields,
    packed_xadds,
    safe_url,
    send_packed,
    talking,
    wire,
)

__all__ = ["DEFAULT_URL", "BrokerUnavailable", "PendingEntry", "RedisBus", "safe_url"]

DEFAULT_URL = "redis://127.0.0.1:6379/0"


class RedisBus(StreamInspection):
    """A bus on Redis Streams, with the same interface as :class:`~edlib.messaging.memory.InMemoryBus`.

    ``url``: where Redis listens; ``partitions``: streams per topic (events with a key
    go to ``crc32(key) % partitions``, as in memory); ``consumer``: this process's name
    in its groups (default ``<host>-<pid>``); ``prefix``: of every key this bus uses;
    ``max_deliveries``: deliveries of one entry before it becomes a dead letter;
    ``claim_idle_ms``: how long a pending entry must sit untouched before another
    consumer takes it over (longer than any handler takes); ``block_ms``: how long
    :meth:`deliver` waits for new entries when there are none (0: not at all).

    Publishing is thread-safe; consume (``deliver``/``ack``/``nack``) from one thread per
    instance, as each process does.
    """

    def __init__(self, url: str = DEFAULT_URL, *, partitions: int = 1, consumer: str | None = None,
                 prefix: str = "edlib", max_deliveries: int = 5, claim_idle_ms: int = 5_000,
                 block_ms: int = 0, check: bool = True) -> None:
        if not isinstance(partitions, int) or isinstance(partitions, bool) or partitions < 1:
            raise ValueError(f"partitions must be a positive int, got {partitions!r}")
        for name, value, low in (("max_deliveries", max_deliveries, 1), ("claim_idle_ms", claim_idle_ms, 0),
                                 ("block_ms", block_ms, 0)):
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
        self.url = url
        self.partitions = partitions
        self.consumer = check_name("consumer", consumer or f"{socket.gethostname()}-{os.getpid()}")
        self.prefix = check_name("prefix", prefix)
        self.max_deliveries = max_deliveries
        self.claim_idle_ms = claim_idle_ms
        self.block_ms = block_ms
        try:   # Any: redis-py types each reply as a union over its decode modes; this bus reads bytes
            self._redis: Any = redis.Redis.from_url(url, socket_connect_timeout=3,
                                               socket_timeout=max(10.0, block_ms / 1000 + 10.0),
                                               health_check_interval=30)
        except ValueError as exc:
            raise ValueError(f"not a Redis URL: {safe_url(url)!r} ({exc}); "
                             "use redis://HOST:PORT/DB, for example redis://127.0.0.1:6379/0") from None
        self._lock = threading.Lock()
        self._buffer: dict[tuple[str, str], deque[Delivery]] = {}
        self._nacked: dict[tuple[str, str], dict[tuple[int, str], tuple[int, float]]] = {}  # -> (attempt, due)
        self._next_claim: dict[tuple[str, str], float] = {}
        self._round_robin = 0
        self._listeners: list[PublishListener] = []
        self.capabilities = Capabilities(delayed_redelivery=True, blocking=block_ms > 0, shared_groups=True,
                                         max_deliveries=max_deliveries)
        if check:
            self.ping()

    # -- keys --------------------------------------------------------------------------
    def stream(self, topic: str, partition: int = 0) -> str:
        """The key of one partition's stream."""
        return f"{self.prefix}:{check_name('topic', topic)}:{partition}"

    # -- the interface -------------------------------------------------------------
    def publish(self, topic: str, event: Event) -> tuple[int, str]:
        """Append ``event`` to its partition's stream (XADD); return ``(partition, stream id)``."""
        return self.publish_many(topic, [event])[0]

    def publish_many(self, topic: str, events: Iterable[Event], batch: int = 500) -> list[tuple[int, str]]:
        """Append ``events`` in order, ``batch`` XADDs per round trip (pipelined); return where each landed."""
        events = list(events) if self._listeners else events
        keys = [self.stream(topic, p).encode() for p in range(self.partitions)]
        placed: list[tuple[int, str]] = []
        chunk: list[tuple[int, bytes]] = []
        for event in events:
            if event.__class__ is not Event:
                raise TypeError(f"publish needs an Event, got {type(event).__name__}")
            chunk.append((0 if self.partitions == 1 else self._partition(event.key), wire(event)))
            if len(chunk) == batch:
                placed += self._xadd(keys, chunk)
                chunk = []
        if chunk:
            placed += self._xadd(keys, chunk)
        if self._listeners:
            for event in events if isinstance(events, list) else []:
                for listener in self._listeners:
                    listener(topic, event)
        return placed

    def on_publish(self, listener: PublishListener) -> None:
        """Call ``listener(topic, event)`` after each publish through this bus object."""
        self._listeners.append(listener)

    def seek(self, topic: str, group: str, offset: int | list[int] = 0) -> None:
        """Move ``group`` to position ``offset`` of each partition's stream (or one offset each): replay.

        (XGROUP SETID to the id of the entry before that position.)
        """
        offsets = offset if isinstance(offset, list) else [offset] * self.partitions
        if len(offsets) != self.partitions:
            raise ValueError(f"{topic!r} has {self.partitions} partitions; got {len(offsets)} offsets")
        with self._talking():
            self._check_group(topic, group)
            for p, off in enumerate(offsets):
                if isinstance(off, bool) or not isinstance(off, int) or off < 0:
                    raise ValueError(f"offset must be an int >= 0, got {off!r}")
                key = self.stream(topic, p)
                before = self._redis.xrange(key, count=off) if off else []
                if off and len(before) < off:
                    raise ValueError(f"offset {off} is outside the log (0..{len(before)})")
                self._redis.xgroup_setid(key, group, before[-1][0] if before else "0")
            self._buffer.pop((topic, group), None)
            self._nacked.pop((topic, group), None)

    def subscribe(self, topic: str, group: str, start: str = "earliest") -> None:
        """Create consumer group ``group`` on every partition of ``topic`` (idempotent).

        ``start="earliest"``: the group reads the whole stream (from id 0: a replay for a
        new group); ``"latest"``: only what is published from now on.
        """
        check_name("consumer group", group)
        if start not in ("earliest", "latest"):
            raise ValueError(f"start must be 'earliest' or 'latest', got {start!r}")
        with self._talking():
            for p in range(self.partitions):
                try:
                    self._redis.xgroup_create(self.stream(topic, p), group, id="0" if start == "earliest" else "$",
                                              mkstream=True)
                except redis.ResponseError as exc:
                    if "BUSYGROUP" not in str(exc):
                        raise

    def deliver(self, topic: str, group: str, max_count: int = 1) -> list[Delivery]:
        """Hand out up to ``max_count`` events: given back ones first, then entries of dead
        consumers (XAUTOCLAIM), then new ones (XREADGROUP, waiting ``block_ms`` if none)."""
        if not isinstance(max_count, int) or max_count < 1:
            raise ValueError(f"max_count must be a positive int, got {max_count!r}")
        with self._talking():
            self._check_group(topic, group)
            buffer = self._buffer.setdefault((topic, group), deque())   # taken from Redis, not handed out yet
            for step in (self._take_nacked, self._claim_stale, self._read_new):
                if len(buffer) >= max_count:
                    break
                held = {(d.partition, d.offset) for d in buffer}      # (a slow batch may look idle: not twice)
                buffer.extend(d for d in step(topic, group, max_count - len(buffer), block=not buffer)
                              if (d.partition, d.offset) not in held)
            return [buffer.popleft() for _ in range(min(max_count, len(buffer)))]

    def ack(self, delivery: Delivery) -> None:
        """Mark ``delivery`` processed (XACK): it leaves the group's pending list."""
        with self._talking():
            done = self._redis.xack(self.stream(delivery.topic, delivery.partition), delivery.group, delivery.offset)
        if not done:
            raise ValueError(f"delivery {delivery.topic}[{delivery.partition}]@{delivery.offset} for "
                             f"{delivery.group!r} is not pending (acked twice, or never delivered)")

    def ack_many(self, deliveries: Iterable[Delivery]) -> None:
        """Ack several deliveries in one round trip."""
        deliveries = list(deliveries)
        with self._talking():
            pipe = self._redis.pipeline(transaction=False)
            for d in deliveries:
                pipe.xack(self.stream(d.topic, d.partition), d.group, d.offset)
            done = pipe.execute()
        missing = [d.offset for d, n in zip(deliveries, done) if not n]
        if missing:
            raise ValueError(f"{len(missing)} deliveries were not pending (acked twice?): {missing[:3]}")

    def nack(self, delivery: Delivery, reason: str | None = None, delay_ms: float = 0.0) -> None:
        """Give ``delivery`` back: :meth:`deliver` hands it out again (attempt + 1) once
        ``delay_ms`` have passed (a retry's backoff; meanwhile other entries go first).

        After ``max_deliveries`` attempts it goes to the dead-letter stream instead, with
        ``reason`` (why the last attempt failed).
        """
        if isinstance(delay_ms, bool) or not isinstance(delay_ms, (int, float)) or not 0 <= delay_ms < math.inf:
            raise ValueError(f"delay_ms must be a finite number >= 0, got {delay_ms!r}")
        if delivery.attempt >= self.max_deliveries:
            self.dead_letter(delivery, reason or f"given back after {delivery.attempt} deliveries")
            return
        with self._lock:
            nacked = self._nacked.setdefault((delivery.topic, delivery.group), {})
            nacked[(delivery.partition, str(delivery.offset))] = (delivery.attempt, time.monotonic() + delay_ms / 1000)

    def backlog(self, topic: str, group: str) -> int:
        """Entries of ``topic`` that ``group`` has not acked yet: pending plus not yet read."""
        total = 0
        with self._talking():
            for p in range(self.partitions):
                key = self.stream(topic, p)
                info = self._group_info(key, group, topic)
                lag = info.get("lag")
                if lag is None:  # Redis could not tell (or is older than 7): count what is after the group
                    last = info["last-delivered-id"].decode()
                    lag = len(self._redis.xrange(key, min=f"({last}", max="+"))
                total += int(info["pending"]) + int(lag)
        return total

    # -- what the broker knows ----------------------------------------------------------
    def ping(self) -> None:
        """Check that the broker answers; raise :class:`BrokerUnavailable` if not."""
        with self._talking():
            self._redis.ping()

    def dead_letter(self, delivery: Delivery, reason: str) -> None:
        """Move ``delivery`` to the dead-letter stream with ``reason`` and ack it, atomically."""
        self._bury(delivery.topic, delivery.group, delivery.partition, str(delivery.offset),
                   delivery.event.to_json(), reason, delivery.attempt)

    def close(self) -> None:
        """Close the connections."""
        self._redis.close()

    def __repr__(self) -> str:
        return f"RedisBus({safe_url(self.url)!r}, consumer={self.consumer!r}, partitions={self.partitions})"

    # -- internals -------------------------------------------------------------------
    def _talking(self) -> AbstractContextManager[None]:
        return talking(self.url)

    def _partition(self, key: str | None) -> int:
        if self.partitions == 1:
            return 0
        if key is None:
            self._round_robin += 1
            return self._round_robin % self.partitions
        return partition_of(key, self.partitions)

    def _group_info(self, key: str, group: str, topic: str) -> dict[str, Any]:
        try:
            rows = self._redis.xinfo_groups(key)
        except redis.ResponseError:
            rows = []
        for row in rows:
            if row["name"].decode() == group:
                return row
        raise KeyError(f"no consumer group {group!r} on topic {topic!r}: subscribe first")

    def _check_group(self, topic: str, group: str) -> None:
        if (topic, group) not in self._buffer:
            self._group_info(self.stream(topic, 0), group, topic)

    def _entries(self, topic: str, group: str, p: int, entries: Iterable[tuple[bytes, Any]],
                 attempts: dict[str, int]) -> list[Delivery]:
        """Deliveries from stream entries; entries that are not events go to the dead letters."""
        out = []
        for raw_id, fields in entries:
            sid = raw_id.decode()
            raw = (fields or {}).get(b"event")
            try:
                event = Event.from_json(raw if raw is not None else b"")
            except (TypeError, ValueError) as exc:
                self._bury(topic, group, p, sid, (raw or b"").decode("utf-8", "replace"),
                           f"not an edlib event: {exc}", attempts.get(sid, 1))
                continue
            out.append(Delivery(topic, group, p, sid, event, attempts.get(sid, 1)))
        return out

    def _take_nacked(self, topic: str, group: str, count: int, block: bool) -> list[Delivery]:
        """Entries this process gave back whose backoff is over: claimed again (XCLAIM), attempt + 1."""
        with self._lock:
            nacked = self._nacked.get((topic, group))
            if not nacked:
                return []
            now = time.monotonic()
            chosen = [(k, attempt) for k, (attempt, due) in nacked.items() if due <= now][:count]
            for k, _ in chosen:
                del nacked[k]
        out = []
        for (p, sid), attempt in chosen:
            entries = self._redis.xclaim(self.stream(topic, p), group, self.consumer, 0, [sid])
            out += self._entries(topic, group, p, entries, {sid: attempt + 1})
        return out

    def _claim_stale(self, topic: str, group: str, count: int, block: bool) -> list[Delivery]:
        """Entries idle for ``claim_idle_ms`` in any consumer's hands (a dead one's): XAUTOCLAIM."""
        now = time.monotonic()
        key = (topic, group)
        if now < self._next_claim.get(key, 0.0):
            return []
        self._next_claim[key] = now + max(self.claim_idle_ms / 4000, 0.05)
        out = []
        for p in range(self.partitions):
            stream = self.stream(topic, p)
            _, entries, *_ = self._redis.xautoclaim(stream, group, self.consumer, self.claim_idle_ms,
                                                    start_id="0-0", count=count)
            if not entries:
                continue
            pipe = self._redis.pipeline(transaction=False)
            for sid, _ in entries:
                pipe.xpending_range(stream, group, min=sid, max=sid, count=1)
            counts = {rows[0]["message_id"].decode(): int(rows[0]["times_delivered"])
                      for rows in pipe.execute() if rows}
            fresh = []
            for sid, fields in entries:
                s = sid.decode()
                n = counts.get(s, 1)
                if n > self.max_deliveries:
                    raw = (fields or {}).get(b"event", b"").decode("utf-8", "replace")
                    self._bury(topic, group, p, s, raw, f"delivered {n - 1} times and never acked (its consumers "
                               f"died or timed out; the limit is {self.max_deliveries})", n - 1)
                else:
                    fresh.append((sid, fields))
            out += self._entries(topic, group, p, fresh, counts)
        return out

    def _read_new(self, topic: str, group: str, count: int, block: bool) -> list[Delivery]:
        """Entries no consumer of the group has seen (XREADGROUP ``>``)."""
        streams = {self.stream(topic, p): ">" for p in range(self.partitions)}
        wait = self.block_ms if block and self.block_ms else None
        try:
            replies = self._redis.xreadgroup(group, self.consumer, streams, count=count, block=wait)
        except redis.ResponseError as exc:
            if "NOGROUP" in str(exc):
                raise KeyError(f"no consumer group {group!r} on topic {topic!r}: subscribe first") from None
            raise
        out = []
        for key, entries in replies or []:
            p = int(key.decode().rsplit(":", 1)[1])
            out += self._entries(topic, group, p, entries, {})
        return out

    def _xadd(self, keys: list[bytes], chunk: list[tuple[int, bytes]]) -> list[tuple[int, str]]:
        """XADD each ``(partition, event JSON)`` of ``chunk``: one write of all commands, then the replies."""
        with self._talking():
            ids = send_packed(self._redis.connection_pool, packed_xadds(keys, chunk), len(chunk))
        return [(p, i.decode()) for (p, _), i in zip(chunk, ids)]

    def _bury(self, topic: str, group: str, partition: int, sid: str, raw: str, reason: str, deliveries: int) -> None:
        with self._talking():
            pipe = self._redis.pipeline(transaction=True)
            pipe.xadd(self.dead_letter_stream, dead_letter_fields(topic, group, sid, raw, reason, deliveries))
            pipe.xack(self.stream(topic, partition), group, sid)
            pipe.execute()
