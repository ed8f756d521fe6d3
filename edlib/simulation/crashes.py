"""Injected crashes and the world's fault switches (what :mod:`edlib.simulation.faults` turns on).

Kept apart from the injection functions so that the service, the consumer and the world
can raise and read them without importing the functions that take those very objects.
"""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

CRASH_POINTS = ("during", "after_commit")
"""Where a crash can hit a handler: ``during`` its work (the transaction rolls back) or
``after_commit`` (its changes are saved, but what came next, an ack or a publish, never
happens)."""


class Crash(BaseException):
    """An injected process crash. A BaseException, so a handler's ``except Exception`` cannot hide it."""

    def __init__(self, service: str, point: str, restart_ms: float) -> None:
        super().__init__(f"{service} crashed ({point.replace('_', ' ')}, injected)")
        self.service, self.point, self.restart_ms = service, point, restart_ms


@dataclass
class FaultState:
    """The faults switched on in a world, and the count of each kind injected so far.

    ``lost_ack``: (probability, rng) of losing a consumer's ack; ``publish_delay``:
    (probability, max ms, rng) of holding a publish back.
    """

    counts: Counter[str] = field(default_factory=Counter)
    lost_ack: tuple[float, random.Random] | None = None
    publish_delay: tuple[float, float, random.Random] | None = None
