"""The in-memory bus's bookkeeping: a group's cursor per partition, groups, topics, the publish short way.

Internal to :mod:`edlib.messaging.memory` (which holds the lock that guards all of it).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from edlib.core.events import Event


@dataclass
class Cursor:
    """A group's position in one partition."""

    committed: int = 0          # every offset below this is acked (for a live pushed group: the log's end)
    in_flight: bool = False     # the event at `committed` is out with a consumer
    attempts: int = 0           # deliveries so far of the event at `committed`
    rewind: int | None = None   # an earlier offset to go back to once the event in flight is settled

    def go_back(self, offset: int) -> None:
        """Make sure the events from ``offset`` on are delivered (again): a concurrent push failed there."""
        if offset >= self.committed:
            return
        if self.in_flight:
            self.rewind = offset if self.rewind is None else min(self.rewind, offset)
        else:
            self.committed, self.attempts = offset, 0

    def settled(self) -> None:
        """The event in flight was acked or given back: apply a pending rewind."""
        self.in_flight = False
        if self.rewind is not None:
            if self.rewind < self.committed:
                self.committed, self.attempts = self.rewind, 0
            self.rewind = None


@dataclass
class Group:
    cursors: list[Cursor]
    next_partition: int = 0
    handler: Callable[[Event], object] | None = None
    paused: bool = False        # catching up, or a pushed event failed: consumed by deliver/ack until caught up
    live_from: list[int] | None = None  # per partition: the first offset the bus owed a push (None: never pushed)

    @property
    def pushed(self) -> bool:
        """Does the bus push to this group right now (so its offsets follow the log's end)?"""
        return self.handler is not None and not self.paused


@dataclass
class Topic:
    partitions: list[list[Event]]
    groups: dict[str, Group] = field(default_factory=dict)
    round_robin: int = 0


class Route:
    """The short way to publish to a topic with one partition and only pushed groups.

    A route never changes; when the topic's groups change, the bus marks it dead and
    builds a new one, so a publish that raced the change can tell and settle under the lock.
    """

    __slots__ = ("log", "handlers", "live")

    def __init__(self, log: list[Event], handlers: tuple[tuple[str, Callable[[Event], object]], ...]) -> None:
        self.log, self.handlers, self.live = log, handlers, True


def position(log: list[Event], event: Event, guess: int) -> int:
    """Where ``event`` landed in ``log``: at ``guess`` unless another thread appended in between.

    Events are found by identity, so two threads publishing the very same Event object at
    the same moment may both be told the later of its two offsets (the log holds both).
    """
    for offset in range(min(guess, len(log) - 1), -1, -1):
        if log[offset] is event:
            return offset
    raise RuntimeError("a published event is missing from its log")  # pragma: no cover - logs only grow
