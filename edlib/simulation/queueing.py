"""Services as queues on the virtual clock: what a synchronous chain costs, measured.

Each service is a :class:`Station`: a FIFO queue in front of ``servers`` identical
servers whose service times are random (exponential by default, seeded). Requests arrive
at random (a Poisson process) and go through the stations in one of two ways:

- :func:`simulate_sync`: the synchronous chain. The client waits while its request
  queues and is served at the first station, then at the next, and so on. A request
  that reaches a station while it is down fails (and so do those queued there when it
  goes down).
- :func:`simulate_events`: the event-driven version. The client is answered as soon as
  the gateway station has published the event; every consumer station takes the event
  from its own backlog when it can. A consumer that is down lets its backlog grow and
  works through it when it returns.

Everything runs on :class:`~edlib.simulation.scheduler.Scheduler` with seeded
:class:`random.Random` generators: the same arguments give the same run, instantly.
Theory says what to expect (:func:`mm1_time_in_system_ms`, :func:`mm1_percentile_ms`,
:func:`mmc_time_in_system_ms`, :func:`drain_time_ms`, :func:`chain_availability`); the
``*_check`` functions compare it with the simulation, and :func:`standard_error` says how
precise a simulated mean is.
"""
from __future__ import annotations

import bisect
import functools
import math
import random
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from edlib.simulation.scheduler import Scheduler

Draw = Callable[[random.Random], float]
"""A service-time distribution: a function of a seeded generator, returning ms."""

MAX_STEPS = 100_000_000


# -- the model -----------------------------------------------------------------------------
@dataclass
class Station:
    """One service as a queue: ``servers`` servers taking ``service_ms`` on average each.

    ``dist``: ``"exp"`` (exponential, the M in M/M/1), ``"const"`` (always
    ``service_ms``) or a function of a ``random.Random`` returning ms. ``outages``:
    ``(start_ms, end_ms)`` windows when the station is down (see :meth:`down`).
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
        for start, end in self.outages:
            _check_window(start, end)

    def down(self, start_ms: float, end_ms: float = math.inf) -> "Station":
        """Add an outage from ``start_ms`` until ``end_ms``; returns the station."""
        _check_window(start_ms, end_ms)
        self.outages.append((float(start_ms), float(end_ms)))
        return self

    def is_up(self, t_ms: float) -> bool:
        """Is the station up at ``t_ms`` (outage windows are ``[start, end)``)?"""
        return not any(start <= t_ms < end for start, end in self.outages)

    def availability(self, horizon_ms: float) -> float:
        """Fraction of ``[0, horizon_ms)`` during which the station is up."""
        down = sum(max(0.0, min(end, horizon_ms) - start) for start, end in self.outages if start < horizon_ms)
        return 1.0 - down / horizon_ms

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


def _check_window(start: float, end: float) -> None:
    if not (isinstance(start, (int, float)) and isinstance(end, (int, float)) and 0 <= start < end):
        raise ValueError(f"an outage is (start_ms, end_ms) with 0 <= start < end, got ({start!r}, {end!r})")


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


# -- the results ---------------------------------------------------------------------------
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

    def percentiles(self, ps: Sequence[float] = (50, 95, 99), values: Sequence[float] | None = None) -> dict[float, float]:
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


def percentile(values: Sequence[float], p: float, presorted: bool = False) -> float:
    """The ``p``-th percentile (0-100) by linear interpolation between order statistics."""
    if not 0 <= p <= 100:
        raise ValueError(f"p is between 0 and 100, got {p!r}")
    data = list(values) if presorted else sorted(values)
    if not data:
        return math.nan
    k = (len(data) - 1) * p / 100.0
    lo = math.floor(k)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def standard_error(values: Sequence[float], batches: int | None = None) -> float:
    """Standard error of the mean of ``values``.

    Without ``batches`` the values are taken as independent (one per seeded run, say).
    Successive requests in one run are not independent (a long queue delays many in a
    row), so pass ``batches``: the values are cut, in order, into that many consecutive
    batches, and the spread of the batch means gives the error (the batch-means method).
    """
    data = list(values)
    if batches is not None:
        if not isinstance(batches, int) or batches < 2:
            raise ValueError(f"batches must be an int >= 2, got {batches!r}")
        size = len(data) // batches
        if size < 1:
            return math.nan
        data = [sum(data[i * size:(i + 1) * size]) / size for i in range(batches)]
    if len(data) < 2:
        return math.nan
    mean = sum(data) / len(data)
    return math.sqrt(sum((x - mean) ** 2 for x in data) / (len(data) - 1) / len(data))


# -- the engine ----------------------------------------------------------------------------
class _Desk:
    """A station while a simulation runs: its queue, busy servers and backlog log."""

    __slots__ = ("station", "name", "sim", "waiting", "busy", "draw", "log", "starts", "ends", "fails_when_down")

    def __init__(self, station: Station, sim: "_Sim", seed: Any, track: bool, fails_when_down: bool) -> None:
        self.station = station
        self.name = station.name
        self.sim = sim
        self.waiting: deque[Request] = deque()
        self.busy = 0
        self.draw = station.sampler(random.Random(f"{seed}:{station.name}"))
        self.log: list[tuple[float, int]] | None = [(0.0, 0)] if track else None
        windows = sorted(station.outages)
        self.starts = [s for s, _ in windows]
        self.ends = [e for _, e in windows]
        self.fails_when_down = fails_when_down
        for start, end in windows:
            if fails_when_down:
                sim.sched.at(start, self._outage_begins)
            if end < math.inf:
                sim.sched.at(end, self._start)

    def up(self, t: float) -> bool:
        if not self.starts:
            return True
        i = bisect.bisect_right(self.starts, t) - 1
        return i < 0 or t >= self.ends[i]

    def _logged(self) -> None:
        self.log.append((self.sim.clock.now(), len(self.waiting) + self.busy))

    def arrive(self, req: Request) -> None:
        if self.fails_when_down and self.starts and not self.up(self.sim.clock.now()):
            self.sim.fail(req, self.name)
            return
        self.waiting.append(req)
        if self.log is not None:
            self._logged()
        self._start()

    def _outage_begins(self) -> None:
        """A synchronous caller's connection breaks: every request waiting here fails."""
        failed = list(self.waiting)
        self.waiting.clear()
        if self.log is not None:
            self._logged()
        for req in failed:
            self.sim.fail(req, self.name)

    def _start(self) -> None:
        waiting, servers = self.waiting, self.station.servers
        if not waiting or self.busy >= servers:
            return
        now = self.sim.clock.now()
        if self.starts and not self.up(now):
            return
        at, draw, finish = self.sim.sched.at, self.draw, self._finish
        while waiting and self.busy < servers:
            self.busy += 1
            at(now + draw(), functools.partial(finish, waiting.popleft()))
        if self.log is not None:
            self._logged()

    def _finish(self, req: Request) -> None:
        self.busy -= 1
        req.done_ms[self.name] = self.sim.clock.now()
        if self.log is not None:
            self._logged()
        self.sim.served(req, self)
        self._start()


class _Sim:
    """One run: the arrivals, the desks, and where a request goes after each desk."""

    def __init__(self, chain: Sequence[Station], consumers: Sequence[Station], rate_per_s: float, n: int,
                 seed: Any, arrivals: str, track: Iterable[str]) -> None:
        if not (isinstance(rate_per_s, (int, float)) and rate_per_s > 0 and math.isfinite(rate_per_s)):
            raise ValueError(f"rate_per_s must be a number > 0, got {rate_per_s!r}")
        if arrivals not in ("poisson", "even"):
            raise ValueError(f"arrivals are 'poisson' (random) or 'even' (evenly spaced), got {arrivals!r}")
        names = [s.name for s in (*chain, *consumers)]
        if len(set(names)) != len(names):
            raise ValueError(f"station names must differ, got {names}")
        unknown = set(track) - set(names)
        if unknown:
            raise ValueError(f"cannot track unknown stations {sorted(unknown)}; stations: {names}")
        self.sched = Scheduler()
        self.clock = self.sched.clock
        self.chain = [_Desk(s, self, seed, s.name in track, True) for s in chain]
        self.next = {desk: later for desk, later in zip(self.chain, self.chain[1:])}
        self.consumers = [_Desk(s, self, seed, s.name in track, False) for s in consumers]
        self.n = n
        self.requests: list[Request] = []
        mean_gap = 1000.0 / rate_per_s
        if arrivals == "even":
            self.gap: Callable[[], float] = lambda: mean_gap
        else:
            expo, rate = random.Random(f"{seed}:arrivals").expovariate, 1.0 / mean_gap
            self.gap = lambda: expo(rate)

    def run(self) -> list[Request]:
        self.sched.at(self.gap(), self._arrive)
        self.sched.run(max_steps=MAX_STEPS)
        return self.requests

    def _arrive(self) -> None:
        now = self.clock.now()
        req = Request(len(self.requests), now, None, False, None, {})
        self.requests.append(req)
        if len(self.requests) < self.n:
            self.sched.at(now + self.gap(), self._arrive)
        if self.chain:
            self.chain[0].arrive(req)
        else:
            self._published(req)

    def served(self, req: Request, desk: _Desk) -> None:
        if req.answered_ms is not None:          # a consumer finished an event: nobody waits for it
            return
        later = self.next.get(desk)
        if later is not None:
            later.arrive(req)
        else:
            self._published(req)

    def _published(self, req: Request) -> None:
        """The end of the chain: the client gets its answer; with events, every consumer gets the event."""
        req.answered_ms = self.clock.now()
        req.ok = True
        for consumer in self.consumers:
            consumer.arrive(req)

    def fail(self, req: Request, where: str) -> None:
        req.answered_ms = self.clock.now()
        req.failed_at = where


def _run(mode: str, chain: Sequence[Station], consumers: Sequence[Station], rate_per_s: float, n: int,
         seed: Any, warmup: int, arrivals: str, track: Iterable[str]) -> Run:
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    if not isinstance(warmup, int) or isinstance(warmup, bool) or not 0 <= warmup < n:
        raise ValueError(f"warmup must be an int with 0 <= warmup < n, got {warmup!r}")
    track = [track] if isinstance(track, str) else list(track)
    sim = _Sim(chain, consumers, rate_per_s, n, seed, arrivals, track)
    requests = sim.run()
    backlogs = {d.name: d.log for d in (*sim.chain, *sim.consumers) if d.log is not None}
    return Run(mode, [*chain, *consumers], rate_per_s, requests, warmup, backlogs, sim.clock.now())


def simulate_sync(stations: Sequence[Station], rate_per_s: float, n: int, seed: Any = 0, *, warmup: int = 0,
                  arrivals: str = "poisson", track: Iterable[str] = ()) -> Run:
    """The synchronous chain: each of ``n`` requests (arriving at ``rate_per_s``, at random
    or ``arrivals="even"``) visits every station in order while its client waits; it
    fails where a station is down. ``track``: stations whose backlog over time is recorded.
    """
    if not stations:
        raise ValueError("a synchronous chain needs at least one station")
    return _run("sync", stations, (), rate_per_s, n, seed, warmup, arrivals, track)


def simulate_events(gateway: Station | Sequence[Station], consumers: Sequence[Station], rate_per_s: float, n: int,
                    seed: Any = 0, *, warmup: int = 0, arrivals: str = "poisson", track: Iterable[str] = ()) -> Run:
    """The event-driven version: the client waits only for ``gateway`` (which publishes
    the event; ``[]``: the client publishes it itself), then every consumer handles the
    event from its own backlog, whenever it is up."""
    if not consumers:
        raise ValueError("an event-driven system needs at least one consumer")
    chain = [gateway] if isinstance(gateway, Station) else list(gateway)
    return _run("events", chain, consumers, rate_per_s, n, seed, warmup, arrivals, track)


# -- outages ------------------------------------------------------------------------------
def random_outages(availability: float, mean_outage_ms: float, horizon_ms: float,
                   seed: Any = 0) -> list[tuple[float, float]]:
    """Alternating up and down periods (both exponential) until ``horizon_ms``, up a
    fraction ``availability`` of the time in the long run; returns the down windows."""
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


# -- theory --------------------------------------------------------------------------------
def mm1_time_in_system_ms(rate_per_s: float, service_ms: float) -> float:
    """M/M/1 mean time in system, ``1 / (mu - lambda)``, in ms (inf when rho >= 1)."""
    mu = 1000.0 / service_ms
    return math.inf if rate_per_s >= mu else 1000.0 / (mu - rate_per_s)


def mmc_time_in_system_ms(rate_per_s: float, service_ms: float, servers: int) -> float:
    """M/M/c mean time in system (Erlang C), in ms (inf when rho >= 1); c = 1 gives 1 / (mu - lambda)."""
    mu = 1000.0 / service_ms
    a = rate_per_s / mu                       # offered load in erlangs
    if a >= servers:
        return math.inf
    top = a ** servers / math.factorial(servers) / (1 - a / servers)
    waiting = top / (sum(a ** k / math.factorial(k) for k in range(servers)) + top)   # P(a request waits)
    return 1000.0 * (waiting / (servers * mu - rate_per_s) + 1 / mu)


def mm1_percentile_ms(rate_per_s: float, service_ms: float, p: float) -> float:
    """M/M/1 time in system is exponential with rate mu - lambda: its ``p``-th percentile in ms."""
    return -math.log(1 - p / 100.0) * mm1_time_in_system_ms(rate_per_s, service_ms)


def drain_time_ms(outage_ms: float, rho: float) -> float:
    """Time to work off the backlog of an outage of ``outage_ms`` at load ``rho``: ``D * rho / (1 - rho)``."""
    return math.inf if rho >= 1 else outage_ms * rho / (1 - rho)


def chain_availability(parts: Iterable[float]) -> float:
    """A synchronous chain is up when every part is: the product of their availabilities."""
    return math.prod(parts)


def relative_error(measured: float, expected: float) -> float:
    """``|measured - expected| / expected``."""
    return abs(measured - expected) / abs(expected)


# -- simulation against theory ------------------------------------------------------------
def mm1_check(rhos: Sequence[float] = (0.5, 0.8), service_ms: float = 10.0, customers: int = 20_000,
              warmup: int = 1_000, reps: int = 1, seed: Any = 0) -> list[dict[str, float]]:
    """Mean time in system of one exponential station at each load: simulated (``reps``
    runs of ``customers`` each, the first ``warmup`` of each dropped, with its standard
    error by batch means) and by theory."""
    rows = []
    for rho in rhos:
        rate = rho * 1000.0 / service_ms
        values: list[float] = []
        for rep in range(reps):
            run = simulate_sync([Station("server", service_ms)], rate, customers, seed=f"{seed}:{rho}:{rep}",
                                warmup=warmup)
            values += run.latencies()
        sim = sum(values) / len(values)
        theory = mm1_time_in_system_ms(rate, service_ms)
        rows.append({"rho": rho, "sim_mean_ms": sim, "sim_stderr_ms": standard_error(values, 20 * reps),
                     "theory_mean_ms": theory, "rel_error": relative_error(sim, theory)})
    return rows


def drain_check(rho: float, outage_ms: float, service_ms: float = 10.0, reps: int = 20,
                seed: Any = 0) -> dict[str, float]:
    """Mean time for a consumer at load ``rho`` to empty its backlog after an outage of
    ``outage_ms`` (``reps`` runs), against ``D * rho / (1 - rho)``."""
    rate = rho * 1000.0 / service_ms
    start = 20 * mm1_time_in_system_ms(rate, service_ms)           # let the queue reach its steady state
    horizon = start + outage_ms + 1.6 * drain_time_ms(outage_ms, rho) + 50 * service_ms   # drained well before
    drains = []
    for rep in range(reps):
        consumer = Station("consumer", service_ms).down(start, start + outage_ms)
        run = simulate_events([], [consumer], rate,
                              max(2, round(rate * horizon / 1000.0)), seed=f"{seed}:{rho}:{rep}",
                              track=["consumer"])
        drains.append(run.drain_ms("consumer", start + outage_ms))
    sim = sum(drains) / len(drains)
    theory = drain_time_ms(outage_ms, rho)
    return {"rho": rho, "outage_ms": outage_ms, "sim_drain_ms": sim, "sim_stderr_ms": standard_error(drains),
            "theory_drain_ms": theory, "rel_error": relative_error(sim, theory)}


def availability_check(availabilities: dict[str, float], rate_per_s: float = 20.0, horizon_ms: float = 600_000.0,
                       mean_outage_ms: float = 300.0, service_ms: float = 1.0, seed: Any = 0) -> dict[str, float]:
    """Success rate of a synchronous chain whose stations have random outages, against the
    product of their availabilities (service times short next to the outages)."""
    stations = [Station(name, service_ms,
                        outages=random_outages(a, mean_outage_ms, horizon_ms, seed=f"{seed}:{name}"))
                for name, a in availabilities.items()]
    run = simulate_sync(stations, rate_per_s, round(rate_per_s * horizon_ms / 1000.0), seed=seed)
    sim = run.success_rate()
    theory = chain_availability(availabilities.values())
    return {"sim_success": sim, "sim_stderr": standard_error([float(r.ok) for r in run.requests], 20),
            "theory_success": theory, "rel_error": relative_error(sim, theory)}
