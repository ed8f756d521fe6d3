"""Fault injection: crashes, restarts, lost acks, delayed publishes and random outages.

Every fault is seeded or placed exactly ("crash at the 3rd event"), so an experiment that
injects faults gives the same result on every run. ``world.fault_counts`` counts what
was injected, for reports that compare injected faults with observed effects.
"""
from __future__ import annotations

import random
from typing import TYPE_CHECKING

from edlib.simulation.crashes import CRASH_POINTS, Crash

__all__ = ["CRASH_POINTS", "Crash", "crash", "crash_relay", "delay_publishes", "lose_acks", "random_outages",
           "restart"]

if TYPE_CHECKING:  # pragma: no cover
    from edlib.simulation.service import Service
    from edlib.simulation.world import World

def crash(service: "Service", at: int, point: str = "during", restart_ms: float = 1000.0) -> None:
    """Crash ``service`` while it handles its ``at``-th message (event or call, counted from 1).

    The service is down for ``restart_ms``, then restarts; whatever it had not acked is
    delivered again.
    """
    if point not in CRASH_POINTS:
        raise ValueError(f"point must be one of {CRASH_POINTS}, got {point!r}")
    if not isinstance(at, int) or at < 1:
        raise ValueError(f"at counts messages from 1, got {at!r}")
    if not restart_ms > 0:
        raise ValueError(f"restart_ms must be > 0, got {restart_ms!r}")
    service.crash_plan[at] = (point, float(restart_ms))


def crash_relay(service: "Service", at_row: int, restart_ms: float = 1000.0) -> None:
    """Crash ``service``'s outbox relay after it published outbox row ``at_row`` but before it
    marked the row sent: after the restart the row is published again (a duplicate)."""
    if not isinstance(at_row, int) or at_row < 1:
        raise ValueError(f"at_row counts outbox rows from 1, got {at_row!r}")
    if not restart_ms > 0:
        raise ValueError(f"restart_ms must be > 0, got {restart_ms!r}")
    service.relay_crash_plan[at_row] = float(restart_ms)


def restart(service: "Service", at_ms: float, down_ms: float = 200.0) -> None:
    """Restart ``service`` at virtual time ``at_ms``: down for ``down_ms``, in-flight work redelivered."""
    service.down(at_ms, at_ms + down_ms)
    service.fault_counts["restarts"] += 1


def lose_acks(world: "World", probability: float, seed: int = 0) -> None:
    """Lose each consumer's ack with ``probability``: the event is delivered again (a duplicate)."""
    _check_probability(probability)
    world.lost_ack = (probability, random.Random(seed))


def delay_publishes(world: "World", probability: float, max_delay_ms: float, seed: int = 0) -> None:
    """Delay each publish with ``probability`` by up to ``max_delay_ms``: events reach the log out of order."""
    _check_probability(probability)
    if not max_delay_ms > 0:
        raise ValueError(f"max_delay_ms must be > 0, got {max_delay_ms!r}")
    world.publish_delay = (probability, float(max_delay_ms), random.Random(seed))


def random_outages(service: "Service", availability: float, horizon_ms: float,
                   mean_outage_ms: float = 500.0, seed: int = 0) -> list[tuple[float, float]]:
    """Give ``service`` random outages so that it is up about ``availability`` of the time.

    Up and down periods alternate with exponentially distributed lengths: down periods
    average ``mean_outage_ms``, up periods ``mean_outage_ms * A / (1 - A)``. Returns the
    outage windows added (up to ``horizon_ms``).
    """
    if not 0 < availability < 1:
        raise ValueError(f"availability must be between 0 and 1 (exclusive), got {availability!r}")
    if not mean_outage_ms > 0 or not horizon_ms > 0:
        raise ValueError("mean_outage_ms and horizon_ms must be > 0")
    rng = random.Random(seed)
    mean_up = mean_outage_ms * availability / (1 - availability)
    windows: list[tuple[float, float]] = []
    t = rng.expovariate(1 / mean_up)
    while t < horizon_ms:
        end = t + rng.expovariate(1 / mean_outage_ms)
        windows.append((t, min(end, horizon_ms)))
        t = end + rng.expovariate(1 / mean_up)
    for start, end in windows:
        service.down(start, end)
    return windows


def _check_probability(p: float) -> None:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ValueError(f"a probability is a number between 0 and 1, got {p!r}")
