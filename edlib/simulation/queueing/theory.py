"""What queueing theory predicts, to compare with the simulation.

M/M/1 and M/M/c (Erlang C) mean times in system, the M/M/1 percentiles, the time a
backlog takes to drain after an outage, and the availability of a synchronous chain.
Times are in ms, rates in requests per second.
"""
from __future__ import annotations

import math
from collections.abc import Iterable


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
