"""``python -m edlib.bench chaos``: 10,000 events with faults injected, audited from the databases."""
from __future__ import annotations

from edlib.bench import benchmark
from edlib.simulation.chaos import run_chaos


@benchmark("chaos")
def chaos() -> dict:
    """One chaos run; lost and applied-twice are counted by checking each service's database."""
    return run_chaos(events=10_000).as_dict()
