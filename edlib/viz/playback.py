"""A trace indexed for replay: what moves, who is up, what waits, at any virtual time.

Each record that goes from one node to another becomes a *hop*: a marker that leaves
its source at the record's time and reaches its target ``travel_ms`` later. The state
of each service at time ``t`` is computed from the records up to ``t`` only, so the
live view can scrub back and forth:

- up or down: the latest ``state`` record (up until told otherwise);
- backlog: events of the types it consumes published so far, minus its acks and its
  dead letters;
- rows: rows inserted minus rows deleted by its ``write`` records (``Database.put``
  writes an UPDATE for an existing id and an INSERT for a new one, so this is exact;
  hand-written ``INSERT OR REPLACE`` statements count as inserts).
"""
from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from edlib.core.trace import TraceRecord

_ROWS = re.compile(r"^(\d+) row")


@dataclass(frozen=True)
class ServiceState:
    """One service at one moment."""

    service: str
    up: bool
    backlog: int
    rows: int


class _Counter:
    """A step function of time: the sum of the deltas recorded at or before ``t``."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.totals: list[int] = []

    def add(self, time: float, delta: int) -> None:
        self.times.append(time)
        self.totals.append((self.totals[-1] if self.totals else 0) + delta)

    def at(self, t: float) -> int:
        i = bisect.bisect_right(self.times, t)
        return self.totals[i - 1] if i else 0


class Playback:
    """``records`` (any order) indexed by time, for a system with the given ``services``.

    ``consumers`` maps a service to the event types it handles (its deliveries in the
    trace are added); ``travel_ms`` is how long a marker takes along an edge.
    """

    def __init__(self, records: Iterable[TraceRecord], services: Iterable[str], travel_ms: float,
                 consumers: Mapping[str, Iterable[str]] | None = None) -> None:
        if not travel_ms > 0:
            raise ValueError(f"travel_ms must be > 0, got {travel_ms!r}")
        self.travel_ms = float(travel_ms)
        self.records = sorted(records, key=lambda r: (r.time, r.seq))
        self.times = [r.time for r in self.records]
        self.hops = [r for r in self.records if r.source != r.target and r.kind != "state"]
        self.hop_starts = [r.time for r in self.hops]
        self.services = sorted(services)
        self._index_state(consumers or {})

    def _index_state(self, consumers: Mapping[str, Iterable[str]]) -> None:
        eats = {s: set(consumers.get(s, ())) for s in self.services}
        for r in self.records:
            if r.kind == "deliver" and r.target in eats:
                eats[r.target].add(r.label)
        self._state: dict[str, list[tuple[float, bool]]] = {s: [] for s in self.services}
        self._backlog = {s: _Counter() for s in self.services}
        self._rows = {s: _Counter() for s in self.services}
        self._dead = _Counter()
        failed_by: dict[str, str] = {}
        for r in self.records:
            if r.kind == "state" and r.source in self._state:
                self._state[r.source].append((r.time, r.label != "down"))
            elif r.kind == "publish":
                for s in self.services:
                    if r.label in eats[s]:
                        self._backlog[s].add(r.time, +1)
            elif r.kind == "ack" and r.source in self._backlog:
                self._backlog[r.source].add(r.time, -1)
            elif r.kind == "fail":
                failed_by[r.ref] = r.source
            elif r.kind == "dead_letter":  # detail "shipping, after 5 deliveries: ..." names the consumer
                self._dead.add(r.time, +1)
                named = r.detail.split(",", 1)[0]
                consumer = named if named in self._backlog else failed_by.get(r.ref)
                if consumer in self._backlog:
                    self._backlog[consumer].add(r.time, -1)
            elif r.kind == "write" and r.source in self._rows:
                m = _ROWS.match(r.detail)
                sign = {"INSERT": 1, "DELETE": -1}.get(r.label, 0)
                if m and sign:
                    self._rows[r.source].add(r.time, sign * int(m.group(1)))

    # -- time ----------------------------------------------------------------------
    @property
    def start(self) -> float:
        """The first record's time (0 when there is none)."""
        return self.times[0] if self.times else 0.0

    @property
    def end(self) -> float:
        """When the last marker arrives."""
        return self.times[-1] + self.travel_ms if self.times else 0.0

    def in_flight(self, t: float) -> tuple[int, int]:
        """The slice ``hops[a:b]`` of markers on their way at time ``t``."""
        return bisect.bisect_right(self.hop_starts, t - self.travel_ms), bisect.bisect_right(self.hop_starts, t)

    def next_stop(self, t: float) -> float:
        """The next moment after ``t`` at which a new record's marker is halfway (or the end)."""
        half = self.travel_ms / 2
        i = bisect.bisect_right(self.times, t - half + 1e-9)
        return self.times[i] + half if i < len(self.times) else self.end

    # -- state ---------------------------------------------------------------------
    def services_at(self, t: float) -> list[ServiceState]:
        """Each service's state at time ``t``."""
        out = []
        for s in self.services:
            changes = self._state[s]
            i = bisect.bisect_right(changes, (t, True))
            up = changes[i - 1][1] if i else True
            out.append(ServiceState(s, up, max(0, self._backlog[s].at(t)), max(0, self._rows[s].at(t))))
        return out

    def dead_letters_at(self, t: float) -> int:
        """Events set aside as dead letters by time ``t``."""
        return self._dead.at(t)

    def log_at(self, t: float, last: int) -> tuple[list[TraceRecord], int]:
        """The ``last`` records at or before ``t``, and how many there are in all."""
        k = bisect.bisect_right(self.times, t)
        return self.records[max(0, k - last):k], k

    def _recoveries(self) -> list[float]:
        """Times a service came up again after being down (a process starting is not a recovery)."""
        times = []
        for s in self.services:
            was_up = True
            for time, up in self._state[s]:
                if up and not was_up:
                    times.append(time)
                was_up = up
        return times

    def key_times(self, n: int = 4) -> list[float]:
        """``n`` moments worth a still: the first flow, the end, just before each recovery, the biggest backlog."""
        if not self.records:
            return [0.0]
        half = self.travel_ms / 2
        first = (self.hop_starts[0] if self.hops else self.start) + half
        ups = self._recoveries()
        picks = [first, self.end] + [time - half for time in ups]
        publishes = [r.time for r in self.records if r.kind == "publish"] or [self.start]
        peak = max(publishes, key=lambda t: (sum(s.backlog for s in self.services_at(t)), -t))
        if sum(s.backlog for s in self.services_at(peak)):
            picks.append(peak + half)
        picks += [time + 2 * self.travel_ms for time in ups]
        picks += [time + half for s in self.services for time, up in self._state[s] if not up]
        chosen: list[float] = []
        for p in picks:
            p = min(max(p, self.start), self.end)
            if len(chosen) < n and all(abs(p - c) > half for c in chosen):
                chosen.append(p)
        while len(chosen) < n:
            edges = sorted(chosen + [self.start])
            gap, mid = max((b - a, (a + b) / 2) for a, b in zip(edges, edges[1:])) if len(edges) > 1 else (0, 0)
            if gap <= self.travel_ms:
                break
            chosen.append(mid)
        return sorted(chosen)
