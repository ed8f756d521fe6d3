"""Clocks: a virtual clock for experiments, the wall clock for real runs.

Times are milliseconds as floats. The virtual clock only moves when the simulation
moves it, so "B is down for 10 s" takes no real time and gives the same result on
every run.
"""
from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Anything with a ``now()`` in milliseconds."""

    def now(self) -> float: ...


class VirtualClock:
    """Simulated time in milliseconds, moved explicitly by the scheduler."""

    def __init__(self, start_ms: float = 0.0) -> None:
        self._now = float(start_ms)
        self.latest = self._now
        """The latest time any activity has reached (the clock of the world as a whole)."""

    def now(self) -> float:
        """The current virtual time in ms."""
        return self._now

    def set(self, t_ms: float) -> None:
        """Jump to ``t_ms`` (used by the scheduler when it runs the next activity)."""
        self._now = float(t_ms)
        if self._now > self.latest:
            self.latest = self._now

    def advance(self, ms: float) -> float:
        """Move forward by ``ms`` (>= 0) and return the new time."""
        if ms < 0:
            raise ValueError(f"time cannot go backwards (advance by {ms} ms)")
        self._now += ms
        if self._now > self.latest:
            self.latest = self._now
        return self._now

    def __repr__(self) -> str:
        return f"VirtualClock(now={self._now:g} ms)"


class WallClock:
    """Real time in milliseconds since the clock was created."""

    def __init__(self) -> None:
        self._start = time.perf_counter()

    def now(self) -> float:
        return (time.perf_counter() - self._start) * 1000.0

    def __repr__(self) -> str:
        return "WallClock()"


class EpochClock:
    """Wall-clock milliseconds since 1970: comparable between processes on one machine."""

    def now(self) -> float:
        """Milliseconds since 1970-01-01 UTC."""
        return time.time() * 1000.0

    def __repr__(self) -> str:
        return "EpochClock()"
