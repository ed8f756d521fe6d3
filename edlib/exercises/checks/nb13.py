"""Exercises of notebook 13, performance: synchronous calls vs events."""
from __future__ import annotations

import math

from edlib.exercises import FunctionExercise, Incorrect, Outcome, PredictExercise, ValueExercise, WrongAnswer
from edlib.exercises.describe import described
from edlib.simulation.queueing import Station, drain_check, mm1_time_in_system_ms, simulate_sync

NOTEBOOK = "13"


# -- q1: the M/M/1 formula -----------------------------------------------------------------
def _number(got, call: str) -> float:
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        raise Incorrect(f"`{call}` returned {described(got)}; return a number of ms.")
    return float(got)


def _trial_mm1(fn) -> str:
    for rate, service in [(25, 20), (40, 20), (10, 50), (90, 10)]:
        call = f"time_in_system_ms({rate}, {service})"
        got = _number(fn(rate, service), call)
        expected = mm1_time_in_system_ms(rate, service)
        if math.isclose(got, expected, rel_tol=1e-6):
            continue
        if math.isclose(got, expected / 1000, rel_tol=1e-6):
            raise Incorrect(f"`{call}` returned {got:g}: that is in seconds; return milliseconds.")
        if math.isclose(got, service, rel_tol=1e-6):
            raise Incorrect(f"`{call}` returned {got:g}, the service time alone: requests also wait in the queue.")
        raise Incorrect(f"`{call}` returned {got:g}, but a station serving mu = {1000 / service:g} requests/s "
                        f"with lambda = {rate} arriving per second keeps each one {expected:g} ms on average.")
    for rate, service in [(60, 20), (50, 20)]:
        call = f"time_in_system_ms({rate}, {service})"
        got = _number(fn(rate, service), call)
        if got != math.inf:
            raise Incorrect(f"`{call}` returned {got:g}, but a station that serves at most {1000 / service:g} "
                            f"requests/s never catches up with {rate}/s: its queue grows for ever. "
                            "Return `math.inf` when rate_per_s >= mu.")
    return "1 / (mu - lambda): the closer the load to capacity, the longer the wait, without bound."


q1 = FunctionExercise(
    notebook=NOTEBOOK, name="q1", title="Mean time in an M/M/1 station",
    variable="time_in_system_ms", trial=_trial_mm1,
    hints=["mu, the most the station can serve per second, is `1000 / service_ms`.",
           "The mean time in system is `1 / (mu - lambda)` seconds: multiply by 1000 for ms.",
           "When `rate_per_s >= mu` the queue never empties: return `math.inf`."],
    solution="import math\n\n\n"
             "def time_in_system_ms(rate_per_s, service_ms):\n"
             "    mu = 1000 / service_ms            # requests per second the station can serve\n"
             "    if rate_per_s >= mu:\n"
             "        return math.inf\n"
             "    return 1000 / (mu - rate_per_s)",
    explanation="The wait grows like 1 / (1 - rho): at 80% load a request spends five times its service time.",
    wrong=[WrongAnswer("def time_in_system_ms(rate_per_s, service_ms):\n    return service_ms",
                       "the service time alone"),
           WrongAnswer("def time_in_system_ms(rate_per_s, service_ms):\n"
                       "    return 1 / (1000 / service_ms - rate_per_s)", "in seconds"),
           WrongAnswer("def time_in_system_ms(rate_per_s, service_ms):\n"
                       "    return 1000 / (1000 / service_ms - rate_per_s)", "never catches up"),
           WrongAnswer("def time_in_system_ms(rate_per_s, service_ms):\n"
                       "    if rate_per_s > 1000 / service_ms:\n"
                       "        return float('inf')\n"
                       "    return 1000 / (1000 / service_ms - rate_per_s)",
                       "ZeroDivisionError", Outcome.RAISED)],
)


# -- q2: capacity for a latency target ------------------------------------------------------
TARGET_RATE, TARGET_SERVICE_MS, TARGET_P99_MS = 90, 20, 150


def shipping_p99_ms(servers: int) -> float:
    """Simulated p99 time in system of shipping with ``servers`` servers at the target load."""
    if servers * 1000 / TARGET_SERVICE_MS <= TARGET_RATE:
        return math.inf
    run = simulate_sync([Station("shipping", TARGET_SERVICE_MS, servers=servers)], TARGET_RATE, 4000,
                        seed=13, warmup=400)
    return run.percentiles([99])[99]


def _fewest_servers() -> int:
    return next(c for c in range(1, 20) if shipping_p99_ms(c) <= TARGET_P99_MS)


def _check_servers(value: int) -> str:
    if value < 1:
        raise Incorrect(f"a service has at least one server; you wrote {value}.")
    needed = _fewest_servers()
    p99 = shipping_p99_ms(value)
    if p99 > TARGET_P99_MS:
        shown = "grows without bound (rho >= 1)" if p99 == math.inf else f"is {p99:.0f} ms"
        raise Incorrect(f"with {value} server{'s' if value != 1 else ''} the simulated p99 {shown}, "
                        f"above {TARGET_P99_MS} ms: add capacity.")
    if value > needed:
        raise Incorrect(f"{value} servers meet the target, but {value - 1} already do "
                        f"(p99 {shipping_p99_ms(value - 1):.0f} ms): every server costs money.")
    return (f"{value} servers: simulated p99 {p99:.0f} ms; with {value - 1} it is "
            f"{shipping_p99_ms(value - 1):.0f} ms.")


class _ServersExercise(ValueExercise):
    @property
    def solution_code(self) -> str:
        """The fewest servers that meet the target, found by simulation (not typed)."""
        return f"shipping_servers = {_fewest_servers()}"


q2 = _ServersExercise(
    notebook=NOTEBOOK, name="q2", title="How many servers for a p99 target?",
    variable="shipping_servers", types=(int,), expects="a whole number of servers", check=_check_servers,
    hints=[f"{TARGET_RATE} orders/s at {TARGET_SERVICE_MS} ms each keep {TARGET_RATE * TARGET_SERVICE_MS / 1000:g} "
           "servers busy on average: fewer can never keep up.",
           "Try it: `simulate_sync([Station(\"shipping\", 20, servers=c)], 90, 4000, seed=13, warmup=400)` "
           "and `.percentiles([99])`, for a few values of c."],
    explanation=f"Capacity for the average load is not enough: {TARGET_RATE} orders/s at {TARGET_SERVICE_MS} ms "
                f"keep {TARGET_RATE * TARGET_SERVICE_MS / 1000:g} servers busy, so with 2 each would be "
                f"{TARGET_RATE * TARGET_SERVICE_MS / 1000 / 2:.0%} busy, where requests queue long and the p99 "
                "with them. A p99 target needs enough servers to keep each well below saturation.",
    wrong=[WrongAnswer("shipping_servers = 2", "add capacity"),
           WrongAnswer("shipping_servers = 1", "grows without bound"),
           WrongAnswer("shipping_servers = 6", "already do"),
           WrongAnswer("shipping_servers = 2.5", "should be a whole number")],
)


# -- q3: how long a backlog takes to drain ------------------------------------------------------
DRAIN_CHOICES_S = {"a": 1, "b": 3, "c": 9, "d": 30}


def _drain_seconds() -> int:
    """The simulated drain time (mean of 10 seeded runs), as the nearest choice in seconds."""
    measured_s = drain_check(0.75, 3000, service_ms=25, reps=10, seed=13)["sim_drain_ms"] / 1000
    return min(DRAIN_CHOICES_S.values(), key=lambda s: abs(math.log(measured_s / s)))


q3 = PredictExercise(
    notebook=NOTEBOOK, name="q3", variable="drain_answer", title="How long does the backlog take to drain?",
    choices=DRAIN_CHOICES_S, experiment=_drain_seconds,
    why={"a": "Shipping works off the backlog only with the capacity left over by the orders still arriving.",
         "b": "That would be true if no new orders arrived while shipping catches up.",
         "d": "Too pessimistic: a quarter of shipping's capacity is free to work off the backlog."},
    hints=["During 3 s down, 30 orders/s pile up: 90 events wait when shipping returns.",
           "Shipping serves 40/s but 30/s keep arriving: the backlog shrinks by only 10 per second."],
    explanation="The drain time is D * rho / (1 - rho): 3 s * 0.75 / 0.25 = 9 s (the choice nearest the simulation).",
)
