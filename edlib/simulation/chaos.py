"""A chaos run: thousands of events through consumers while faults are injected.

:func:`run_chaos` sends ``events`` orders through the gateway to two idempotent
consumers, injects process crashes (during handling and after commit), transient handler
failures, lost acks (duplicate deliveries), consumer restarts and poison events, runs the
world to the end, and then **audits each service's database against what was sent**:
an event is lost if no row records it, applied twice if more than one does. Counters
kept by the system are not trusted for the verdict.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from edlib.core.retry import RetryPolicy
from edlib.simulation.faults import crash, lose_acks, restart
from edlib.simulation.world import World

CONSUMERS = ("ledger", "notifier")


@dataclass(frozen=True)
class ChaosReport:
    """What a chaos run sent, injected and found in the databases afterwards."""

    events: int
    lost: int
    applied_twice: int
    dead_lettered: int
    poison_sent: int
    poison_dead_lettered_with_reason: int
    crashes_injected: int
    duplicates_injected: int
    restarts_injected: int
    transient_failures_injected: int

    def as_dict(self) -> dict[str, int]:
        """The report as a plain dict (the benchmark prints it as JSON)."""
        return asdict(self)


def _build(seed: int, poison_every: int, fail_every: int, idempotent: bool, ack_mode: str) -> World:
    world = World(seed=seed)
    world.trace.enabled = False
    world.retry = RetryPolicy(max_attempts=4, base_ms=20, factor=2, jitter="full")
    for name in CONSUMERS:
        svc = world.add_service(name, latency_ms=1)
        svc.idempotent = idempotent
        svc.ack_mode = ack_mode
        attempts: dict[str, int] = {}

        @svc.handles("OrderPlaced")
        def apply(event, db, name=name, attempts=attempts):
            n = event.data["n"]
            if n % poison_every == 0:
                raise ValueError(f"poison order {n}: amount is not a number")
            attempts[event.id] = attempts.get(event.id, 0) + 1
            if n % fail_every == 0 and attempts[event.id] == 1:
                world.fault_counts["transient_failures"] += 1
                raise ConnectionError("dependency timed out (transient, injected)")
            db.execute("CREATE TABLE IF NOT EXISTS applied (event_id TEXT, n INTEGER)")
            db.execute("INSERT INTO applied VALUES (?, ?)", (event.id, n))

    world.gateway.route("POST /orders", publish="OrderPlaced")
    return world


def run_chaos(events: int = 10_000, seed: int = 7, crashes: int = 40, lost_ack_rate: float = 0.02,
              restarts: int = 10, poison_every: int = 997, fail_every: int = 101,
              every_ms: float = 2.0, idempotent: bool = True, ack_mode: str = "after") -> ChaosReport:
    """Run the chaos experiment and audit the databases; see the module docstring.

    ``idempotent=False`` or ``ack_mode="before"`` switch the protections off, to show
    that the audit does find applied-twice and lost events when they happen.
    """
    world = _build(seed, poison_every, fail_every, idempotent, ack_mode)
    rng = world.random
    horizon = events * every_ms
    for name in CONSUMERS:
        svc = world.service(name)
        for k in rng.sample(range(1, events), crashes // len(CONSUMERS)):
            crash(svc, at=k, point=rng.choice(["during", "after_commit"]), restart_ms=rng.uniform(5, 50))
        for _ in range(restarts // len(CONSUMERS)):
            restart(svc, at_ms=rng.uniform(0, horizon), down_ms=rng.uniform(5, 100))
    lose_acks(world, lost_ack_rate, seed=seed)

    responses = world.send_many("POST /orders", ({"n": n} for n in range(1, events + 1)), every_ms=every_ms)
    sent = {r.body["event_id"]: n for n, r in enumerate(responses, 1) if r.status == 202}
    poison = {eid for eid, n in sent.items() if n % poison_every == 0}

    lost = twice = 0
    for name in CONSUMERS:
        rows = world.service(name).db.query("SELECT event_id, COUNT(*) AS c FROM applied GROUP BY event_id")
        seen = {r["event_id"]: r["c"] for r in rows}
        lost += sum(1 for eid in sent if eid not in poison and eid not in seen)
        twice += sum(1 for c in seen.values() if c > 1)
    dead = world.dead_letters
    explained = sum(1 for d in dead if d["event"].id in poison and "poison" in d["reason"]
                    and d["attempts"] == world.retry.max_attempts)
    return ChaosReport(events=len(sent), lost=lost, applied_twice=twice, dead_lettered=len(dead),
                       poison_sent=len(poison) * len(CONSUMERS), poison_dead_lettered_with_reason=explained,
                       crashes_injected=world.fault_counts["crashes"],
                       duplicates_injected=world.fault_counts["lost_acks"],
                       restarts_injected=world.fault_counts["restarts"],
                       transient_failures_injected=world.fault_counts["transient_failures"])
