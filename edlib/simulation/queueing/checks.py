"""Simulation against theory: each ``*_check`` runs seeded simulations and sets the
measured figure next to the one queueing theory predicts, with its standard error and
the relative error between the two.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from edlib.simulation.queueing.engine import simulate_events, simulate_sync
from edlib.simulation.queueing.model import Station, random_outages
from edlib.simulation.queueing.statistics import relative_error, standard_error
from edlib.simulation.queueing.theory import chain_availability, drain_time_ms, mm1_time_in_system_ms


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
