"""Exercises of notebook 05, delivery guarantees."""
from __future__ import annotations

from edlib import World
from edlib.exercises import FunctionExercise, Incorrect, PredictExercise, SystemExercise, WrongAnswer
from edlib.simulation.faults import crash, lose_acks

NOTEBOOK = "05"


def _ledger(ack_mode: str = "after", idempotent: bool = False) -> World:
    """notebook 05's ledger: each Deposited event adds a row and adds to the balance (not idempotent)."""
    world = World(seed=5)
    accounts = world.add_service("accounts", latency_ms=10)
    accounts.ack_mode = ack_mode
    accounts.idempotent = idempotent

    @accounts.handles("Deposited")
    def deposit(event, db):
        db.execute("CREATE TABLE IF NOT EXISTS entries (n INTEGER, amount INTEGER)")
        db.execute("INSERT INTO entries VALUES (?, ?)", (event.data["n"], event.data["amount"]))
        balance = db.get("balances", "acct-1") or {"balance": 0}
        db.put("balances", "acct-1", {"balance": balance["balance"] + event.data["amount"]})

    return world


def _applied(world: World) -> list[int]:
    db = world.service("accounts").db
    if "entries" not in db.tables():
        return []
    return [row["n"] for row in db.query("SELECT n FROM entries ORDER BY rowid")]


def _lost_and_twice(world: World) -> tuple[list[int], list[int]]:
    sent = [e.data["n"] for e in world.bus.log("Deposited")]
    applied = _applied(world)
    return sorted(set(sent) - set(applied)), sorted({n for n in applied if applied.count(n) > 1})


# -- q1: ack before processing, crash after the commit ---------------------------------------
def _before_after_commit() -> str:
    world = _ledger(ack_mode="before")
    crash(world.service("accounts"), at=3, point="after_commit", restart_ms=500)
    for n in range(1, 6):
        world.publish("Deposited", {"n": n, "amount": 10}, key="acct-1")
    world.run()
    lost, twice = _lost_and_twice(world)
    if lost:
        return "deposit 3 is lost"
    if twice:
        return "deposit 3 is applied twice"
    return "every deposit is applied once"


q1 = PredictExercise(
    notebook=NOTEBOOK, name="q1", variable="before_commit_answer", title="Ack before, crash after the commit",
    choices={"a": "deposit 3 is lost", "b": "deposit 3 is applied twice", "c": "every deposit is applied once"},
    experiment=_before_after_commit,
    why={"a": "The crash comes after the commit: deposit 3's changes were saved before the process died.",
         "b": "Would the bus deliver deposit 3 again? It was acked before the handler even ran."},
    hints=["Two questions: were deposit 3's changes saved? Will the bus deliver it again?",
           "After the commit the changes are saved; acked on delivery, it is never delivered again."],
    explanation="A crash after the commit loses nothing, and with the ack already sent nothing comes "
                "again: the danger of ack-before is a crash *during* the work.",
)


# -- q2: a handler that is idempotent by design -------------------------------------------------
AMOUNTS = [10, 25, 10, 40, 25, 10, 5, 40, 10, 25, 15, 10, 20, 25, 10, 30, 10, 25, 40, 10]


def _trial_record(record_deposit) -> str:
    world = World(seed=5)
    accounts = world.add_service("accounts", latency_ms=10)
    accounts.handles("Deposited")(record_deposit)
    lose_acks(world, 0.3, seed=2)
    crash(accounts, at=7, point="after_commit", restart_ms=200)
    for n, amount in enumerate(AMOUNTS, 1):
        world.publish("Deposited", {"n": n, "amount": amount}, key="acct-1")
    world.run()
    if world.dead_letters:
        raise Incorrect(f"your handler failed: {world.dead_letters[0]['reason']}.")
    redelivered = world.fault_counts["lost_acks"] + world.fault_counts["crashes"]
    rows = accounts.db.count("deposits")
    sent = len(AMOUNTS)
    if rows > sent:
        raise Incorrect(f"{sent} deposits were sent, with {redelivered} redeliveries; the table `deposits` "
                        f"holds {rows} rows, {rows - sent} more than were sent: redelivered deposits were applied "
                        "twice. A redelivered event must land on the row it wrote the first time.")
    if rows < sent:
        raise Incorrect(f"{sent} deposits were sent, but `deposits` holds only {rows} rows: different deposits "
                        "overwrote each other, so some were lost. Two deposits can have the same amount; "
                        "what is unique to each event?")
    total = sum(float(doc.get("amount", 0)) for doc in accounts.db.all("deposits"))
    if total != sum(AMOUNTS):
        raise Incorrect(f"the deposits in the table add up to {total:g}, not {sum(AMOUNTS)}: store each "
                        "event's amount as `{\"amount\": ...}`.")
    return f"{redelivered} redeliveries, and still one row per deposit."


q2 = FunctionExercise(
    notebook=NOTEBOOK, name="q2", title="A handler that is idempotent by design",
    variable="record_deposit", handler=True, trial=_trial_record,
    hints=["`db.put(table, id, doc)` replaces the row stored under `id`: storing the same id twice "
           "leaves one row.",
           "Which id is the same for a redelivery, and different for two deposits of the same amount?",
           "`db.put(\"deposits\", event.id, {\"amount\": event.data[\"amount\"]})`"],
    solution='def record_deposit(event, db):\n'
             '    db.put("deposits", event.id, {"amount": event.data["amount"]})',
    explanation="Keyed by the event id, a redelivery overwrites the row with the same values: a no-op.",
    wrong=[WrongAnswer('def record_deposit(event, db):\n'
                       '    row_id = f"deposit-{db.count(\'deposits\') + 1}"\n'
                       '    db.put("deposits", row_id, {"amount": event.data["amount"]})', "applied twice"),
           WrongAnswer('def record_deposit(event, db):\n'
                       '    db.put("deposits", str(event.data["amount"]), {"amount": event.data["amount"]})',
                       "some were lost")],
)


# -- q3: make the ledger effectively-once -----------------------------------------------------------
def _faulty_ledger() -> World:
    world = _ledger()
    crash(world.service("accounts"), at=5, point="during", restart_ms=300)
    lose_acks(world, 0.2, seed=3)
    return world


def _inspect_ledger(world: World) -> str:
    if "accounts" not in world.services:
        raise Incorrect("the service `accounts` is gone: start again from `world = q3.world()`.")
    sent = world.bus.log("Deposited")
    if len(sent) < 20:
        raise Incorrect(f"publish at least 20 `Deposited` events (you published {len(sent)}) and run the world.")
    if world.backlog("accounts"):
        raise Incorrect(f"{world.backlog('accounts')} deposits still wait for accounts: call `world.run()`.")
    if world.dead_letters:
        raise Incorrect(f"the handler failed: {world.dead_letters[0]['reason']}. Publish deposits like "
                        "`{\"n\": k, \"amount\": 10}` with a distinct `n` each.")
    lost, twice = _lost_and_twice(world)
    if lost:
        raise Incorrect(f"deposit{'s' if len(lost) > 1 else ''} {', '.join(map(str, lost))} "
                        f"{'were' if len(lost) > 1 else 'was'} lost: the crash hit while it was being "
                        "processed. Which ack mode never gives up an event before it is processed?")
    if twice:
        raise Incorrect(f"deposit{'s' if len(twice) > 1 else ''} {', '.join(map(str, twice))} "
                        f"{'were' if len(twice) > 1 else 'was'} applied twice: the lost acks made the bus "
                        "deliver them again. Make the consumer skip events it has already processed.")
    if not world.fault_counts["lost_acks"] or not world.fault_counts["crashes"]:
        raise Incorrect("keep the faults of `q3.world()` (a crash and lost acks): they are the point.")
    return (f"{len(sent)} deposits, {world.fault_counts['lost_acks']} lost acks and a crash: each deposit "
            "applied exactly once.")


q3 = SystemExercise(
    notebook=NOTEBOOK, name="q3", title="A ledger that survives crashes and lost acks",
    build=_faulty_ledger, inspect=_inspect_ledger,
    hints=["Two faults, two dangers: the crash can lose an event, the lost acks duplicate events.",
           "Ack after processing (the default) loses nothing; `world.service(\"accounts\").idempotent = True` "
           "makes duplicates harmless.",
           "Then publish: `for k in range(1, 31): world.publish(\"Deposited\", {\"n\": k, \"amount\": 10}, "
           "key=\"acct-1\")`, and `world.run()`."],
    solution='world = q3.world()\n'
             'world.service("accounts").idempotent = True\n'
             'for k in range(1, 31):\n'
             '    world.publish("Deposited", {"n": k, "amount": 10}, key="acct-1")\n'
             'world.run()',
    explanation="At-least-once delivery plus an idempotent consumer: effectively-once processing.",
    wrong=[WrongAnswer('world = q3.world()\n'
                       'for k in range(1, 31):\n'
                       '    world.publish("Deposited", {"n": k, "amount": 10}, key="acct-1")\n'
                       'world.run()', "applied twice"),
           WrongAnswer('world = q3.world()\n'
                       'world.service("accounts").ack_mode = "before"\n'
                       'for k in range(1, 31):\n'
                       '    world.publish("Deposited", {"n": k, "amount": 10}, key="acct-1")\n'
                       'world.run()', "lost")],
)
