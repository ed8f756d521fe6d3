"""What one can ask a Redis Streams bus about its streams: the log, pending lists, dead letters, groups.

A mixin of :class:`~edlib.messaging.redis_streams.RedisBus` (the reading side, kept apart
from publishing and consuming); it uses only the bus's connection and key names.
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import redis

from edlib.core.events import Event
from edlib.messaging.protocol import DeadLetter
from edlib.messaging.redis_wire import PendingEntry, dead_letter_of


class StreamInspection:
    """Read-only questions about the bus's streams (and deleting them all, for tests)."""

    _redis: Any
    partitions: int
    prefix: str

    def stream(self, topic: str, partition: int = 0) -> str:  # pragma: no cover (RedisBus has it)
        raise NotImplementedError

    @property
    def dead_letter_stream(self) -> str:
        """The key of the dead-letter stream."""
        return f"{self.prefix}:dead-letters"

    def _talking(self) -> AbstractContextManager[None]:  # pragma: no cover (RedisBus has it)
        raise NotImplementedError

    def _check_group(self, topic: str, group: str) -> None:  # pragma: no cover (RedisBus has it)
        raise NotImplementedError

    def dead_letters(self) -> list[DeadLetter]:
        """Every entry of the dead-letter stream, oldest first."""
        with self._talking():
            entries = self._redis.xrange(self.dead_letter_stream)
        return [dead_letter_of(fields) for _, fields in entries]

    def pending(self, topic: str, group: str) -> list[PendingEntry]:
        """The group's pending list (XPENDING): who holds which entry, for how long, delivered how often."""
        out = []
        with self._talking():
            self._check_group(topic, group)
            for p in range(self.partitions):
                rows = self._redis.xpending_range(self.stream(topic, p), group, min="-", max="+", count=1_000_000)
                out += [PendingEntry(topic, p, r["message_id"].decode(), r["consumer"].decode(),
                                     int(r["time_since_delivered"]), int(r["times_delivered"])) for r in rows]
        return out

    def log(self, topic: str) -> list[Event]:
        """Every event of ``topic`` (each partition's stream in turn, oldest first)."""
        events = []
        with self._talking():
            for p in range(self.partitions):
                for _, fields in self._redis.xrange(self.stream(topic, p)):
                    events.append(Event.from_json(fields[b"event"]))
        return events

    def stored(self, topic: str, partition: int = 0) -> list[dict[str, str]]:
        """The entries of one partition's stream as Redis holds them (field -> text), oldest first."""
        with self._talking():
            entries = self._redis.xrange(self.stream(topic, partition))
        return [{k.decode(): v.decode("utf-8", "replace") for k, v in fields.items()} for _, fields in entries]

    def length(self, topic: str) -> int:
        """How many entries ``topic``'s streams hold (XLEN)."""
        with self._talking():
            return sum(int(self._redis.xlen(self.stream(topic, p))) for p in range(self.partitions))

    def topics(self) -> list[str]:
        """Names of the topics that have a stream, sorted."""
        with self._talking():
            keys = self._redis.scan_iter(match=f"{self.prefix}:*:0", count=1000)
            return sorted({k.decode()[len(self.prefix) + 1:].rsplit(":", 1)[0] for k in keys})

    def groups(self, topic: str) -> list[str]:
        """Consumer groups of ``topic``, sorted."""
        with self._talking():
            try:
                rows = self._redis.xinfo_groups(self.stream(topic, 0))
            except redis.ResponseError:
                return []
        return sorted(r["name"].decode() for r in rows)

    def delete_everything(self) -> int:
        """Delete every key under this bus's prefix (streams, groups, dead letters); return how many."""
        with self._talking():
            keys = list(self._redis.scan_iter(match=f"{self.prefix}:*", count=1000))
            return int(self._redis.delete(*keys)) if keys else 0
