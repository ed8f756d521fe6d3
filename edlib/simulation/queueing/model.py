"""The model of the queueing simulation: stations, requests, and what a run measured.

A :class:`Station` is one service as a queue; its outage windows are held by one
:class:`~edlib.core.outages.Outages` (:attr:`Station.outage_windows`), which answers every
"is it up at t?" question, for the station and for the engine alike. A :class:`Request`
records one client request; a :class:`Run` holds every request of one simulation with
the statistics drawn from them. :func:`random_outages` makes outage windows at random.
"""
from __future__ import annotations

import bisect
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from edlib.core.outages import Outages, Window, check_window
from edlib.simulation.queueing.statistics import percentile, standard_error

Draw = Callable[[random.Random], float]
"""A service-time distribution: a function of a seeded generator, returning ms."""


@dataclass
class Station:
    """One service as a queue: ``servers`` servers taking ``service_ms`` on average each.

    ``dist``: ``"exp"`` (exponential, the M in M/M/1), ``"const"`` (always
    ``service_ms``) or a function of a ``random.Random`` returning ms. ``outages``:
    ``(start_ms, end_ms)`` windows when the station is down, ``[start, end)``; they may
    overlap or nest (see :meth:`down` and :attr:`outage_windows`).
    """

    name: str
    service_ms: float
    servers: int = 1
    dist: str | Draw = "exp"
    outages: list[tuple[float, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"a station name is a word such as 'shipping', got {self.name!r}")
        if not (isinstance(self.service_ms, (int, float)) and self.service_ms > 0 and math.isfinite(self.service_ms)):
            raise ValueError(f"service_ms must be a number > 0, got {self.service_ms!r}")
        if not isinstance(self.servers, int) or isinstance(self.servers, bool) or self.servers < 1:
            raise ValueError(f"servers must be an int >= 1, got {self.servers!r}")
        if not callable(self.dist) and self.dist not in ("exp", "const"):
            raise ValueError(f"dist is 'exp', 'const' or a function of a random.Random, got {self.dist!r}")
        if not isinstance(self.outages, list):
            self.outages = list(self.outages)
        windows = tuple(self.outages)           # Outages checks every window: ValueError if bad
        self._index: tuple[tuple[Window, ...], Outages] = (windows, Outages(windows))   # not a field: no eq, repr

    @property
    def outage_windows(self) -> Outages:
        """The outages as one :class:`~edlib.core.outages.Outages`, the single answer to "up at t?",
        "up again when?" and "how long down?" (rebuilt when ``outages`` has changed)."""
        key = tuple(self.outages)
        if self._index[0] != key:
            self._index = (key, Outages(key))
        return self._index[1]

    def down(self, start_ms: float, end_ms: float = math.inf) -> Station:
        """Add an outage from ``start_ms`` until ``end_ms``; returns the station."""
        self.outages.append(check_window(start_ms, end_ms))
        return self

    def is_up(self, t_ms: float) -> bool:
        """Is the station up at ``t_ms`` (outage windows are ``[start, end)``)?"""
        return self.outage_windows.is_up(t_ms)

    def availability(self, horizon_ms: float) -> float:
        """Fraction of ``[0, horizon_ms)`` during which the station is up (overlaps counted once)."""
        return self.outage_windows.availability(horizon_ms)

    @property
    def capacity_per_s(self) -> float:
        """The most requests per second it can serve: ``servers * 1000 / service_ms``."""
        return self.servers * 1000.0 / self.service_ms

    def utilisation(self, rate_per_s: float) -> float:
        """rho: the fraction of its capacity that ``rate_per_s`` arrivals use."""
        return rate_per_s / self.capacity_per_s

    def sampler(self, rng: random.Random) -> Callable[[], float]:
        """A function drawing one service time (ms) from ``rng``."""
        if callable(self.dist):
            draw = self.dist
            return lambda: float(draw(rng))
        if self.dist == "const":
            ms = float(self.service_ms)
            return lambda: ms
        rate = 1.0 / self.service_ms
        expo = rng.expovariate
        return lambda: expo(rate)


@dataclass(slots=True, eq=False)
class Request:
    """One client request: when it was sent, when (and how) the client was answered,
    and when each station finished its work on it (``done_ms``)."""

    index: int
    sent_ms: float
    answered_ms: float | None = None
    ok: bool = False
    failed_at: str | None = None
    done_ms: dict[str, float] = field(default_factory=dict)

    @property
    def latency_ms(self) -> float:
        """What the client waited (ms); NaN if it was never answered."""
        return math.nan if self.answered_ms is None else self.answered_ms - self.sent_ms


@dataclass
class Run:
    """What one simulation measured. Statistics skip the first ``warmup`` requests."""

    mode: str
    stations: list[Station]
    rate_per_s: float
    requests: list[Request]
    warmup: int
    backlogs: dict[str, list[tuple[float, int]]]
    end_ms: float

    @property
    def measured(self) -> list[Request]:
        """The requests after the warm-up."""
        return self.requests[self.warmup:]

    def latencies(self, ok_only: bool = True) -> list[float]:
        """Client latencies (ms) of the measured requests (only the successful ones by default)."""
        return [r.answered_ms - r.sent_ms for r in self.measured
                if r.answered_ms is not None and (r.ok or not ok_only)]

    def lags(self, station: str) -> list[float]:
        """Time (ms) from sending each measured request until ``station`` finished its work on it."""
        return [r.done_ms[station] - r.sent_ms for r in self.measured if station in r.done_ms]

    def percentiles(self, ps: Sequence[float] = (50, 95, 99),
                    values: Sequence[float] | None = None) -> dict[float, float]:
        """Percentiles of ``values`` (default: the client latencies), ``{50: ..., 95: ..., 99: ...}``."""
        data = sorted(self.latencies() if values is None else values)
        return {p: percentile(data, p, presorted=True) for p in ps}

    def mean_latency_ms(self) -> float:
        """Mean client latency of the successful measured requests."""
        values = self.latencies()
        return sum(values) / len(values) if values else math.nan

    def mean_stderr_ms(self, batches: int = 20) -> float:
        """Standard error of :meth:`mean_latency_ms` by batch means (see :func:`standard_error`)."""
        return standard_error(self.latencies(), batches)

    def success_rate(self, start_ms: float = 0.0, end_ms: float = math.inf) -> float:
        """Fraction of the measured requests sent in ``[start_ms, end_ms)`` that succeeded."""
        sent = [r for r in self.measured if start_ms <= r.sent_ms < end_ms]
        return sum(r.ok for r in sent) / len(sent) if sent else math.nan

    def throughput_per_s(self, station: str | None = None, start_ms: float = 0.0,
                         end_ms: float | None = None) -> float:
        """Completions per second in ``[start_ms, end_ms)``: successful client answers, or
        the work ``station`` finished (default window: from 0 to the last request sent)."""
        end = self.requests[-1].sent_ms if end_ms is None else end_ms
        if end <= start_ms:
            return math.nan
        if station is None:
            times = [r.answered_ms for r in self.requests if r.ok]
        else:
            times = [r.done_ms[station] for r in self.requests if station in r.done_ms]
        done = sum(start_ms <= t < end for t in times if t is not None)
        return done * 1000.0 / (end - start_ms)

    def backlog_series(self, station: str) -> list[tuple[float, int]]:
        """``(time, requests queued or in service)`` at every change at ``station``."""
        try:
            return self.backlogs[station]
        except KeyError:
            raise KeyError(f"the backlog of {station!r} was not tracked; tracked: {sorted(self.backlogs)}") from None

    def backlog_at(self, station: str, t_ms: float) -> int:
        """Requests queued or in service at ``station`` at ``t_ms``."""
        series = self.backlog_series(station)
        i = bisect.bisect_right(series, (t_ms, math.inf)) - 1
        return series[i][1] if i >= 0 else 0

    def peak_backlog(self, station: str, start_ms: float = 0.0, end_ms: float = math.inf) -> tuple[float, int]:
        """``(time, backlog)`` of the largest backlog at ``station`` in the window."""
        inside = [(t, n) for t, n in self.backlog_series(station) if start_ms <= t < end_ms]
        return max(inside, key=lambda s: (s[1], -s[0])) if inside else (start_ms, 0)

    def drain_ms(self, station: str, after_ms: float) -> float:
        """How long after ``after_ms`` the backlog of ``station`` first reached zero (inf: never)."""
        if self.backlog_at(station, after_ms) == 0:
            return 0.0
        for t, n in self.backlog_series(station):
            if t >= after_ms and n == 0:
                return t - after_ms
        return math.inf

    def __repr__(self) -> str:
        ok = sum(r.ok for r in self.requests)
        return (f"Run({self.mode}, {len(self.requests)} requests at {self.rate_per_s:g}/s, {ok} ok, "
                f"stations={[s.name for s in self.stations]})")


def random_outages(availability: float, mean_outage_ms: float, horizon_ms: float,
                   seed: Any = 0) -> list[tuple[float, float]]:
    """Alternating up and down periods (both exponential) until ``horizon_ms``, up a
    fraction ``availability`` of the time in the long run; returns the down windows
    (in order, never overlapping), ready for ``Station(..., outages=...)``."""
    if not 0 < availability <= 1:
        raise ValueError(f"availability is in (0, 1], got {availability!r}")
    if availability == 1:
        return []
    rng = random.Random(f"{seed}:outages")
    mean_up = mean_outage_ms * availability / (1 - availability)
    t = 0.0 if rng.random() >= availability else None   # start in the stationary state
    windows: list[tuple[float, float]] = []
    if t is None:
        end = rng.expovariate(1 / mean_outage_ms)
        windows.append((0.0, end))
        t = end
    while True:
        t += rng.expovariate(1 / mean_up)
        if t >= horizon_ms:
            return windows
        end = t + rng.expovariate(1 / mean_outage_ms)
        windows.append((t, end))
        t = end
