"""Outage windows: when something (a service, a queueing station) is down.

One type for every part that can be down, so "is it up at t?" has one answer::

    outages = Outages([(0, 1000), (100, 200)])
    outages.is_up(500)          # False: inside (0, 1000), whatever the nested window says
    outages.up_again_at(150)    # 1000.0
    outages.downtime(2000)      # 1000.0 (overlaps counted once)

A window ``(start, end)`` is half open, ``[start, end)``: down at ``start``, up again at
``end``. Windows may overlap or nest; ``end`` may be ``math.inf`` (down for good).
"""
from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable, Iterator

Window = tuple[float, float]


def check_window(start: float, end: float) -> Window:
    """``(start, end)`` as floats; ValueError unless ``0 <= start < end`` (numbers, not bools)."""
    for value in (start, end):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            raise ValueError(f"an outage is (start_ms, end_ms) with 0 <= start < end, got ({start!r}, {end!r})")
    if not 0 <= start < end:
        raise ValueError(f"an outage is (start_ms, end_ms) with 0 <= start < end, got ({start!r}, {end!r})")
    return float(start), float(end)


class Outages:
    """A set of outage windows, asked ``is_up(t)``, ``up_again_at(t)`` and ``downtime(horizon)``."""

    def __init__(self, windows: Iterable[Window] = ()) -> None:
        self._windows: list[Window] = []
        self._index: tuple[list[float], list[float]] | None = None
        for start, end in windows:
            self.add(start, end)

    def add(self, start: float, end: float = math.inf) -> Window:
        """Add the window ``[start, end)``; returns it as floats."""
        window = check_window(start, end)
        self._windows.append(window)
        self._index = None
        return window

    def is_up(self, t: float) -> bool:
        """Up at ``t``: inside no window."""
        if not self._windows:
            return True
        starts, ends = self._sorted()
        i = bisect.bisect_right(starts, t) - 1
        return i < 0 or ends[i] <= t          # ends[i]: the latest end of any window starting by t

    def up_again_at(self, t: float) -> float:
        """The first time ``>= t`` at which it is up (``inf`` if never)."""
        starts, ends = self._sorted()
        while not self.is_up(t):
            t = ends[bisect.bisect_right(starts, t) - 1]
        return t

    def downtime(self, horizon: float, start: float = 0.0) -> float:
        """Time down within ``[start, horizon)``, overlapping windows counted once."""
        down, reach = 0.0, start
        for a, b in sorted(self._windows):
            a, b = max(a, reach), min(b, horizon)
            if b > a:
                down += b - a
                reach = b
        return down

    def availability(self, horizon: float) -> float:
        """The fraction of ``[0, horizon)`` spent up."""
        if not horizon > 0:
            raise ValueError(f"horizon must be > 0, got {horizon!r}")
        return 1.0 - self.downtime(horizon) / horizon

    def _sorted(self) -> tuple[list[float], list[float]]:
        if self._index is None:    # windows by start, with the running maximum of their ends
            ordered = sorted(self._windows)
            self._index = ([a for a, _ in ordered], list(itertools.accumulate((b for _, b in ordered), max)))
        return self._index

    def __iter__(self) -> Iterator[Window]:
        return iter(list(self._windows))

    def __len__(self) -> int:
        return len(self._windows)

    def __bool__(self) -> bool:
        return bool(self._windows)

    def __repr__(self) -> str:
        return f"Outages({self._windows!r})"
