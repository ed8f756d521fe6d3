"""Exercises of notebook 06, when handlers fail."""
from __future__ import annotations

from edlib import World
from edlib.core.retry import RetryPolicy
from edlib.exercises import Incorrect, PredictExercise, SystemExercise, ValueExercise, WrongAnswer

NOTEBOOK = "06"


# -- q1: the waits of an exponential backoff ------------------------------------------------
POLICY = RetryPolicy(max_attempts=6, base_ms=100, factor=2, max_ms=1000)


def _check_waits(waits: list) -> str:
    expected = [POLICY.backoff_ms(a) for a in range(1, 6)]
    if len(waits) != 5:
        raise Incorrect(f"list the 5 waits, after failures 1 to 5; your list has {len(waits)} items.")
    if any(isinstance(w, bool) or not isinstance(w, (int, float)) for w in waits):
        raise Incorrect("each wait is a number of ms.")
    if [float(w) for w in waits] == expected:
        return f"{expected}: doubling from 100 ms, capped at 1000 ms."
    if waits[0] != POLICY.base_ms:
        raise Incorrect(f"the first wait is `base_ms` itself ({POLICY.base_ms:g} ms), not {waits[0]!r}.")
    if max(waits) > POLICY.max_ms:
        raise Incorrect(f"a wait of {max(waits):g} ms is longer than `max_ms`: the backoff is capped there.")
    if len(set(waits)) == 1:
        raise Incorrect("your waits do not grow; exponential backoff multiplies each by `factor`.")
    if waits[1] - waits[0] == waits[2] - waits[1]:
        raise Incorrect("your waits grow by the same amount each time; exponential backoff multiplies them "
                        "by `factor` each time.")
    raise Incorrect(f"{waits} are not the waits `base_ms * factor ** (failure - 1)`, capped at `max_ms`.")


q1 = ValueExercise(
    notebook=NOTEBOOK, name="q1", title="The waits of an exponential backoff",
    variable="waits", types=(list, tuple), expects="a list of 5 numbers", check=_check_waits,
    hints=["After failure 1 the wait is `base_ms`; after each further failure it is `factor` times longer.",
           "100, 200, 400, ... and no wait is longer than `max_ms`."],
    solution="waits = [100, 200, 400, 800, 1000]",
    explanation="Backoff gives a struggling dependency more and more room; the cap keeps waits bounded.",
    wrong=[WrongAnswer("waits = [100, 200, 400, 800, 1600]", "capped"),
           WrongAnswer("waits = [100, 200, 300, 400, 500]", "multiplies"),
           WrongAnswer("waits = [200, 400, 800, 1000, 1000]", "the first wait is `base_ms` itself")],
)


# -- q2: a poison message without a limit ---------------------------------------------------
def _billing(policy: RetryPolicy, poison_at: int, n: int = 20) -> World:
    world = World(seed=6)
    billing = world.add_service("billing", latency_ms=5)
    billing.retry = policy

    @billing.handles("OrderPlaced")
    def invoice(event, db):
        db.put("invoices", event.data["order_id"], {"amount": float(event.data["amount"])})

    for k in range(1, n + 1):
        amount = "ten euros" if k == poison_at else 10 * k
        world.publish("OrderPlaced", {"order_id": f"order-{k}", "amount": amount}, key=f"order-{k}")
    return world


def _invoices_behind_poison() -> int:
    world = _billing(RetryPolicy(max_attempts=None, base_ms=50, max_ms=400), poison_at=3)
    world.run(until=5000)
    return world.service("billing").db.count("invoices")


q2 = PredictExercise(
    notebook=NOTEBOOK, name="q2", variable="poison_answer", title="How far does a poison message let billing get?",
    choices={"a": 2, "b": 19, "c": 20},
    experiment=_invoices_behind_poison,
    why={"b": "That would be true if billing could skip the poison message. Can it, with no limit?",
         "c": "The poison message can never be invoiced: its amount is not a number."},
    hints=["One partition: billing takes its events strictly in order, one at a time.",
           "With no limit, the 3rd event is retried forever. What happens to the events behind it?"],
    explanation="Without a limit a poison message blocks its partition: nothing behind it is processed.",
)


# -- q3: a retry policy that tolerates a flaky dependency and drops a poison message ------------
FLAKY_UNTIL = 400.0


def _flaky_billing() -> World:
    world = World(seed=6)
    billing = world.add_service("billing", latency_ms=5)

    @billing.handles("OrderPlaced")
    def invoice(event, db, now):
        if now < FLAKY_UNTIL:
            raise ConnectionError("the tax service is not answering")
        db.put("invoices", event.data["order_id"], {"amount": float(event.data["amount"])})

    for k in range(1, 9):
        amount = "ten euros" if k == 5 else 10 * k
        world.publish("OrderPlaced", {"order_id": f"order-{k}", "amount": amount}, key=f"order-{k}")
    return world


def _inspect_policy(world: World) -> str:
    billing = world.service("billing")
    policy = billing.retry_policy
    if not world.trace.where("deliver"):
        raise Incorrect("run the world (`world.run()`) after setting the policy.")
    if policy.max_attempts is None:
        raise Incorrect("with `max_attempts=None` the poison message (order-5) is retried forever and blocks "
                        "every order behind it: set a limit.")
    if world.backlog("billing"):
        raise Incorrect(f"{world.backlog('billing')} orders still wait for billing: run the world to the end "
                        "(`world.run()` with no limit).")
    dead = [d["event"].data["order_id"] for d in world.dead_letters]
    good = [d for d in dead if d != "order-5"]
    if good:
        raise Incorrect(f"{', '.join(good)} went to the dead letters although nothing is wrong with "
                        f"{'them' if len(good) > 1 else 'it'}: the tax service was down for the first "
                        f"{FLAKY_UNTIL:g} ms. Give transient failures enough attempts, or long enough waits, to "
                        "outlast it.")
    if "order-5" not in dead:
        raise Incorrect("order-5, the poison message, should be in `world.dead_letters`.")
    [letter] = [d for d in world.dead_letters if d["event"].data["order_id"] == "order-5"]
    if letter["attempts"] > 5:
        raise Incorrect(f"order-5 was delivered {letter['attempts']} times before it was set aside: at most 5, "
                        "please; retrying a message that can never succeed only delays the others.")
    invoices = billing.db.count("invoices")
    return (f"{invoices} invoices; order-5 dead-lettered after {letter['attempts']} deliveries "
            f"({letter['reason']}).")


q3 = SystemExercise(
    notebook=NOTEBOOK, name="q3", title="A retry policy for a flaky dependency and a poison message",
    build=_flaky_billing, inspect=_inspect_policy,
    hints=["`world.service(\"billing\").retry = RetryPolicy(max_attempts=..., base_ms=..., factor=2)`, then "
           "`world.run()`.",
           f"The tax service is down for the first {FLAKY_UNTIL:g} ms: the waits before the last attempt must "
           "add up to more than that.",
           "With `base_ms=100` and `factor=2` the waits are 100, 200, 400, ...: how many attempts reach past "
           f"{FLAKY_UNTIL:g} ms without going over 5?"],
    solution='world = q3.world()\n'
             'world.service("billing").retry = RetryPolicy(max_attempts=5, base_ms=100, factor=2)\n'
             'world.run()',
    explanation="Retries with backoff absorb transient failures; a limit sends what can never succeed to the "
                "dead letters, where a person can look at it, and unblocks the partition.",
    wrong=[WrongAnswer('world = q3.world()\n'
                       'world.service("billing").retry = RetryPolicy(max_attempts=None, base_ms=100)\n'
                       'world.run(until=10_000)', "retried forever"),
           WrongAnswer('world = q3.world()\n'
                       'world.service("billing").retry = RetryPolicy(max_attempts=2, base_ms=100)\n'
                       'world.run()', "nothing is wrong with")],
)


# -- q4: Little's law ---------------------------------------------------------------------------
def _check_little(value: float) -> str:
    rate_per_s, wait_ms = 50, 200
    expected = rate_per_s * wait_ms / 1000
    if abs(value - expected) < 1e-9:
        return f"{expected:g} events: L = lambda * W = 50 per s * 0.2 s."
    if abs(value - rate_per_s * wait_ms) < 1e-9:
        raise Incorrect(f"{value:g} mixes units: lambda is per second and W is in ms. Convert W to seconds.")
    if abs(value - rate_per_s / (wait_ms / 1000)) < 1e-9 or abs(value - (wait_ms / 1000) / rate_per_s) < 1e-9:
        raise Incorrect("Little's law multiplies: L = lambda * W.")
    raise Incorrect(f"{value:g} is not lambda times W.")


q4 = ValueExercise(
    notebook=NOTEBOOK, name="q4", title="Little's law",
    variable="events_inside", types=(int, float), expects="a number", check=_check_little,
    hints=["L = lambda * W, with lambda and W in the same time unit.", "200 ms is 0.2 s."],
    solution="events_inside = 50 * 0.2",
    explanation="Little's law needs no assumption about arrivals or service times, only a stable system.",
    wrong=[WrongAnswer("events_inside = 50 * 200", "mixes units"),
           WrongAnswer("events_inside = 50 / 0.2", "multiplies")],
)
