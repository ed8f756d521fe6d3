"""The engine of the queueing simulation: stations served on the virtual clock.

:func:`simulate_sync` runs a synchronous chain (the client waits for every station in
turn; a station that is down fails the requests that reach it, and those queued there
when it goes down); :func:`simulate_events` runs the event-driven version (the client
waits for the gateway only; each consumer works through its own backlog whenever it is
up). Both run on :class:`~edlib.simulation.scheduler.Scheduler` with seeded
:class:`random.Random` generators: the same arguments give the same run, instantly.

Whether a station is up is asked of its one :class:`~edlib.core.outages.Outages`
(:attr:`~edlib.simulation.queueing.model.Station.outage_windows`), so the engine and
:meth:`~edlib.simulation.queueing.model.Station.is_up` cannot disagree.
"""
from __future__ import annotations

import functools
import math
import random
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from edlib.simulation.queueing.model import Request, Run, Station
from edlib.simulation.scheduler import Scheduler

MAX_STEPS = 100_000_000
"""The most scheduler steps one simulation may take."""


class _Desk:
    """A station while a simulation runs: its queue, busy servers and backlog log."""

    __slots__ = ("station", "name", "sim", "waiting", "busy", "draw", "log", "outages", "fails_when_down")

    def __init__(self, station: Station, sim: _Sim, seed: Any, track: bool, fails_when_down: bool) -> None:
        self.station = station
        self.name = station.name
        self.sim = sim
        self.waiting: deque[Request] = deque()
        self.busy = 0
        self.draw = station.sampler(random.Random(f"{seed}:{station.name}"))
        self.log: list[tuple[float, int]] | None = [(0.0, 0)] if track else None
        outages = station.outage_windows
        self.outages = outages if outages else None
        self.fails_when_down = fails_when_down
        reach = -math.inf                    # the end of the down period scheduled last
        for start, _ in sorted(outages):
            if start < reach:                # inside a down period already scheduled (nested or overlapping)
                continue
            if fails_when_down:
                sim.sched.at(start, self._outage_begins)
            reach = outages.up_again_at(start)
            if reach < math.inf:
                sim.sched.at(reach, self._start)

    def up(self, t: float) -> bool:
        """Is the station up at ``t``? Its :class:`~edlib.core.outages.Outages` answers."""
        return self.outages is None or self.outages.is_up(t)

    def _logged(self) -> None:
        """Record the backlog now (callers check ``self.log`` first: only tracked desks log)."""
        if self.log is not None:
            self.log.append((self.sim.clock.now(), len(self.waiting) + self.busy))

    def arrive(self, req: Request) -> None:
        if self.fails_when_down and self.outages is not None and not self.up(self.sim.clock.now()):
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
        if self.outages is not None and not self.up(now):
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
        self.next = {desk: later for desk, later in zip(self.chain, self.chain[1:], strict=False)}
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
