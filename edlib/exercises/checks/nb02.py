"""Exercises of notebook 02, synchronous microservices."""
from __future__ import annotations

from edlib.course.scenarios import order_bodies, sync_shop
from edlib.exercises import Incorrect, PredictExercise, ValueExercise, WrongAnswer

NOTEBOOK = "02"
TIERS = {"gateway": 0.999, "orders": 0.99, "shipping": 0.95}


def _failed_during(outage: tuple[float, float], n: int = 20) -> int:
    world = sync_shop(seed=2)
    world.service("shipping").down(*outage)
    responses = world.send_many("POST /orders", order_bodies(n), every_ms=100)
    return sum(not r.ok for r in responses)


q1 = PredictExercise(
    notebook=NOTEBOOK, name="q1", variable="outage_answer", title="How many of 20 orders fail?",
    choices={"a": 0, "b": 5, "c": 10, "d": 20},
    experiment=lambda: _failed_during((500, 1500)),
    why={"a": "The gateway calls shipping for every order: while shipping is down it cannot answer.",
         "b": "Count again: orders leave at 0, 100, 200, ... ms; which fall in [500, 1500)?",
         "d": "Orders sent before 500 ms or after 1500 ms find shipping up."},
    hints=["20 orders leave at 0, 100, ..., 1900 ms; shipping is down from 500 ms until 1500 ms.",
           "An order fails exactly when shipping is down at the moment the gateway calls it."],
    explanation="Temporal coupling: a synchronous request fails whenever a service it calls is down.",
)


def _check_availability(value: float) -> str:
    expected = TIERS["gateway"] * TIERS["orders"] * TIERS["shipping"]
    if not 0 <= value <= 1:
        raise Incorrect(f"an availability is a probability, between 0 and 1, but yours is {value:g}.")
    if abs(value - min(TIERS.values())) < 1e-9:
        raise Incorrect("that is the weakest tier alone; a request needs every tier up at the same time.")
    if abs(value - expected) > 1e-9:
        raise Incorrect(f"{value:g} is not the chance that all three tiers are up at once.")
    return f"{value:.4f}: the chain is less available than its weakest tier."


q3 = ValueExercise(
    notebook=NOTEBOOK, name="q3", title="Availability of gateway -> orders -> shipping",
    variable="availability", types=(int, float), expects="a number", check=_check_availability,
    hints=["A request succeeds only when the gateway, orders AND shipping are all up.",
           "For independent parts, the chance that all are up is the product of their availabilities.",
           "`availability = 0.999 * 0.99 * ...`"],
    solution="availability = 0.999 * 0.99 * 0.95",
    explanation="Every synchronous hop multiplies in its own downtime.",
    wrong=[WrongAnswer("availability = 0.999 + 0.99 + 0.95", "between 0 and 1"),
           WrongAnswer("availability = min(0.999, 0.99, 0.95)", "weakest tier alone"),
           WrongAnswer('availability = "94%"', "should be a number")],
)


def _slow_latency() -> float:
    world = sync_shop(seed=2, shipping_ms=220)
    return world.send_many("POST /orders", order_bodies(1))[0].latency_ms


q2 = PredictExercise(
    notebook=NOTEBOOK, name="q2", variable="latency_answer", title="The client's latency with a slow shipping",
    choices={"a": 6.0, "b": 220.0, "c": 226.0, "d": 246.0},
    experiment=_slow_latency,
    why={"a": "The gateway waits for shipping's answer before it answers the client.",
         "b": "shipping's 220 ms is not the only hop: the gateway and orders take time too.",
         "d": "Add the hops once each: gateway 1 ms, orders 5 ms, shipping 220 ms."},
    hints=["The client waits for the sum of every hop.", "gateway 1 ms + orders 5 ms + shipping ..."],
    explanation="Synchronous latency adds up hop by hop: a slow dependency slows every request.",
)
