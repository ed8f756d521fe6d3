"""A small discrete-event scheduler on a virtual clock.

Activities are plain callables scheduled at a virtual time. ``run()`` takes them in time
order (ties in the order they were scheduled), sets the clock to each one's time and
calls it. Nothing sleeps: a ten-second outage takes microseconds and repeats exactly.
"""
from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

from edlib.core.clock import VirtualClock

MAX_STEPS = 1_000_000
"""Safety limit: a run that schedules more activities than this stops with an error."""


class Scheduler:
    """Runs callables at virtual times (ms)."""

    def __init__(self, clock: VirtualClock | None = None) -> None:
        self.clock = clock or VirtualClock()
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self.activity_start: float | None = None
        """Virtual time at which the activity running now started (None between runs)."""

    def at(self, t_ms: float, fn: Callable[[], None]) -> None:
        """Run ``fn()`` at virtual time ``t_ms`` (not before the current time)."""
        if t_ms != t_ms or t_ms == float("inf"):
            raise ValueError(f"cannot schedule at {t_ms!r}")
        heapq.heappush(self._heap, (max(float(t_ms), self.clock.now()), next(self._seq), fn))

    def after(self, delay_ms: float, fn: Callable[[], None]) -> None:
        """Run ``fn()`` ``delay_ms`` after the current time."""
        if delay_ms < 0:
            raise ValueError(f"delay must be >= 0 ms, got {delay_ms}")
        self.at(self.clock.now() + delay_ms, fn)

    def pending(self) -> int:
        """How many activities wait to run."""
        return len(self._heap)

    def next_time(self) -> float | None:
        """Virtual time of the next activity, or None."""
        return self._heap[0][0] if self._heap else None

    def run(self, until: float | None = None, max_steps: int = MAX_STEPS) -> int:
        """Run activities in time order until none are left (or past ``until``).

        Returns the number run. With ``until`` the clock ends at ``until``.
        """
        steps = 0
        outer = self.activity_start
        try:
            while self._heap and (until is None or self._heap[0][0] <= until):
                t, _, fn = heapq.heappop(self._heap)
                self.clock.set(t)
                self.activity_start = t
                fn()
                steps += 1
                if steps >= max_steps:
                    raise RuntimeError(f"stopped after {max_steps:,} steps: is something rescheduling itself forever?")
        finally:
            self.activity_start = outer
        if outer is None:        # back at the top: the clock shows the latest time reached, never earlier
            self.clock.set(max(self.clock.latest, until if until is not None else self.clock.latest))
        return steps

    def advanced(self) -> bool:
        """Has the running activity moved the clock past its start (a blocking call)?

        Something it does at the later time must not be seen by activities scheduled in
        between, so the world defers such effects through the scheduler.
        """
        return self.activity_start is not None and self.clock.now() > self.activity_start
