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

The modules, each importing only those before it:

- :mod:`~edlib.simulation.queueing.statistics`: percentiles, standard and relative errors;
- :mod:`~edlib.simulation.queueing.theory`: the formulas;
- :mod:`~edlib.simulation.queueing.model`: :class:`Station` (its outage windows one
  :class:`~edlib.core.outages.Outages`), :class:`Request`, :class:`Run`, :func:`random_outages`;
- :mod:`~edlib.simulation.queueing.engine`: :func:`simulate_sync`, :func:`simulate_events`;
- :mod:`~edlib.simulation.queueing.checks`: simulation against theory.
"""
from __future__ import annotations

from edlib.simulation.queueing.checks import availability_check, drain_check, mm1_check
from edlib.simulation.queueing.engine import MAX_STEPS, simulate_events, simulate_sync
from edlib.simulation.queueing.model import Draw, Request, Run, Station, random_outages
from edlib.simulation.queueing.statistics import percentile, relative_error, standard_error
from edlib.simulation.queueing.theory import (
    chain_availability,
    drain_time_ms,
    mm1_percentile_ms,
    mm1_time_in_system_ms,
    mmc_time_in_system_ms,
)

__all__ = [
    "MAX_STEPS", "Draw", "Request", "Run", "Station",
    "availability_check", "chain_availability", "drain_check", "drain_time_ms", "mm1_check",
    "mm1_percentile_ms", "mm1_time_in_system_ms", "mmc_time_in_system_ms", "percentile",
    "random_outages", "relative_error", "simulate_events", "simulate_sync", "standard_error",
]
