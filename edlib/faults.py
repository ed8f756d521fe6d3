"""Fault injection: outages that follow a seeded random process.

Use it to turn "each service is up 99% of the time" into an experiment: the outages are
random but repeatable, because the random generator is seeded.
"""
from __future__ import annotations

import random

from .service import Service


def random_outages(service: Service, availability: float, horizon_ms: float,
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
