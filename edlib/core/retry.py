"""Retry policies: how often and how soon a failed event is delivered again.

Backoff grows the wait after each failure (``base_ms * factor ** (attempt - 1)``, capped
at ``max_ms``); jitter spreads consumers' retries apart so that they do not all hit a
recovering service at the same instant. After ``max_attempts`` deliveries the event is
set aside as a **dead letter**; with ``max_attempts=None`` it is retried forever, and
a poison event blocks its partition.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass

JITTERS = ("none", "full", "equal")


@dataclass(frozen=True)
class RetryPolicy:
    """When to deliver a failed event again, and when to give up on it."""

    max_attempts: int | None = 5
    base_ms: float = 100.0
    factor: float = 2.0
    max_ms: float = 10_000.0
    jitter: str = "none"

    def __post_init__(self) -> None:
        if self.max_attempts is not None and (not isinstance(self.max_attempts, int) or self.max_attempts < 1):
            raise ValueError(f"max_attempts must be a positive int or None, got {self.max_attempts!r}")
        for name in ("base_ms", "factor", "max_ms"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if self.factor < 1:
            raise ValueError(f"factor must be >= 1 (waits never shrink), got {self.factor}")
        if self.jitter not in JITTERS:
            raise ValueError(f"jitter must be one of {JITTERS}, got {self.jitter!r}")

    def backoff_ms(self, attempt: int) -> float:
        """The wait after failed delivery number ``attempt`` (1, 2, ...), before jitter."""
        return min(self.max_ms, self.base_ms * self.factor ** (attempt - 1))

    def delay_ms(self, attempt: int, rng: random.Random) -> float:
        """The wait after failed delivery ``attempt``, with jitter drawn from ``rng``."""
        backoff = self.backoff_ms(attempt)
        if self.jitter == "full":
            return rng.uniform(0, backoff)
        if self.jitter == "equal":
            return backoff / 2 + rng.uniform(0, backoff / 2)
        return backoff

    def gives_up(self, attempt: int) -> bool:
        """True when delivery number ``attempt`` was the last one allowed."""
        return self.max_attempts is not None and attempt >= self.max_attempts
