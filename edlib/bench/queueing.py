"""``python -m edlib.bench queueing``: the queueing simulation against M/M/1 theory.

One exponential server (10 ms mean service) at each load rho: the simulated mean time in
system, over several seeded runs each with a warm-up dropped, next to ``1 / (mu - lambda)``.
Queues near saturation remember their past for long, so the higher load gets more runs.
The seeds are fixed: the figures are the same on every machine.
"""
from __future__ import annotations

from edlib.bench import benchmark
from edlib.simulation.queueing import mm1_check

SERVICE_MS = 10.0
CUSTOMERS = 25_000
"""Customers per run."""
WARMUP = 1_000
"""Customers dropped at the start of each run (the queue starts empty)."""
REPS = {0.5: 4, 0.8: 16}
"""Runs per load: the error of a mean grows quickly with rho."""


def measure(reps: dict[float, int] = REPS, customers: int = CUSTOMERS, warmup: int = WARMUP) -> dict:
    """Simulated and theoretical mean time in system for each rho, and the largest relative error."""
    rows = [mm1_check((rho,), SERVICE_MS, customers, warmup, reps=n, seed="bench")[0] for rho, n in reps.items()]
    return {"rho": [r["rho"] for r in rows],
            "sim_mean_ms": [round(r["sim_mean_ms"], 3) for r in rows],
            "theory_mean_ms": [round(r["theory_mean_ms"], 3) for r in rows],
            "sim_stderr_ms": [round(r["sim_stderr_ms"], 3) for r in rows],
            "rel_error": [round(r["rel_error"], 4) for r in rows],
            "customers": [n * customers for n in reps.values()],
            "max_rel_error": round(max(r["rel_error"] for r in rows), 4)}


@benchmark("queueing")
def queueing() -> dict:
    """One JSON line: rho, sim_mean_ms, theory_mean_ms, max_rel_error (plus standard errors, each error, customers)."""
    return measure()
