"""Exercises of notebook 07, ordering and replay."""
from __future__ import annotations

from edlib import World
from edlib.exercises import FunctionExercise, Incorrect, Outcome, PredictExercise, SystemExercise, WrongAnswer

NOTEBOOK = "07"
TOPIC = "accounts"

# (account, seq, amount): each account's changes in the order they happened.
CHANGES = [("acct-1", 1, 50), ("acct-2", 1, 20), ("acct-1", 2, -30), ("acct-3", 1, 10),
           ("acct-2", 2, 50), ("acct-1", 3, 20), ("acct-3", 2, -10), ("acct-2", 3, -30),
           ("acct-4", 1, 50), ("acct-4", 2, -10), ("acct-3", 3, 50), ("acct-4", 3, 20)]


def _with_balances(changes: list[tuple[str, int, int]]) -> list[dict]:
    """Each change as event data, with the account's balance after it."""
    balance: dict[str, int] = {}
    out = []
    for account, seq, amount in changes:
        balance[account] = balance.get(account, 0) + amount
        out.append({"account": account, "seq": seq, "amount": amount, "balance": balance[account]})
    return out


def bank(partitions: int = 4) -> World:
    """A world whose ``balances`` service sums each account's changes; the changes are in the log."""
    world = World(seed=7, partitions=partitions)
    balances = world.add_service("balances", latency_ms=2)

    @balances.handles("BalanceChanged", topic=TOPIC)
    def add(event, db):
        row = db.get("balances", event.data["account"]) or {"balance": 0}
        db.put("balances", event.data["account"], {"balance": row["balance"] + event.data["amount"]})

    for data in _with_balances(CHANGES):
        world.publish("BalanceChanged", data, key=data["account"], topic=TOPIC)
    world.run()
    return world


def _trial_latest(apply_latest) -> str:
    world = World(seed=1)
    latest = world.add_service("latest", latency_ms=1)
    latest.handles("BalanceChanged", topic=TOPIC)(apply_latest)
    events = _with_balances(CHANGES)
    # acct-2's last two changes and acct-4's first two reach the log swapped (a delayed publish)
    arrival = [events[i] for i in (0, 1, 2, 3, 7, 5, 6, 4, 9, 8, 10, 11)]
    for data in arrival:
        world.publish("BalanceChanged", data, key=data["account"], topic=TOPIC)
    world.run()
    if world.dead_letters:
        raise Incorrect(f"your handler failed: {world.dead_letters[0]['reason']}.")
    final = {e["account"]: e["balance"] for e in events}
    db = latest.db
    for account, balance in sorted(final.items()):
        row = db.get("balances", account)
        if row is None:
            raise Incorrect(f"the table `balances` has no row for {account!r}: store one row per account, "
                            "under the account's id.")
        if row.get("balance") != balance:
            raise Incorrect(f"{account} shows balance {row.get('balance')!r}, but its last change (the one with "
                            f"the highest seq) left it at {balance}. Some changes arrived out of order: "
                            "keep a change only if its seq is higher than the one stored.")
    return "every account shows the balance of its latest change, although two pairs arrived swapped."


q1 = FunctionExercise(
    notebook=NOTEBOOK, name="q1", title="A view that ignores stale changes",
    variable="apply_latest", handler=True, trial=_trial_latest,
    hints=["Store the seq next to the balance: `db.put(\"balances\", account, {\"balance\": ..., \"seq\": ...})`.",
           "Before storing, read the row (`db.get(\"balances\", account)`); if it exists and its seq is "
           "higher than the event's, the event is stale: do nothing.",
           "`row = db.get(\"balances\", account)` then `if row is None or event.data[\"seq\"] > row[\"seq\"]: ...`"],
    solution='def apply_latest(event, db):\n'
             '    account, seq = event.data["account"], event.data["seq"]\n'
             '    row = db.get("balances", account)\n'
             '    if row is None or seq > row["seq"]:\n'
             '        db.put("balances", account, {"balance": event.data["balance"], "seq": seq})',
    explanation="A per-key sequence number lets a consumer spot a stale event whatever order the log has.",
    wrong=[WrongAnswer('def apply_latest(event, db):\n'
                       '    db.put("balances", event.data["account"], {"balance": event.data["balance"]})',
                       "left it at"),
           WrongAnswer('def apply_latest(event, db):\n'
                       '    row = db.get("balances", event.data["account"])\n'
                       '    if event.data["seq"] > row["seq"]:\n'
                       '        db.put("balances", event.data["account"],\n'
                       '               {"balance": event.data["balance"], "seq": event.data["seq"]})',
                       "TypeError", Outcome.RAISED)],
)


def _total(world: World) -> int:
    return sum(row["balance"] for row in world.service("balances").db.all("balances"))


def _replay_without_dropping() -> float:
    world = bank()
    before = _total(world)
    world.replay("balances", TOPIC, 0)
    world.run()
    return _total(world) / before


q2 = PredictExercise(
    notebook=NOTEBOOK, name="q2", variable="replay_answer", title="Replay without dropping the view",
    choices={"a": 1.0, "b": 2.0, "c": 0.0},
    experiment=_replay_without_dropping,
    why={"a": "Replay hands every event to the handler again. What does `add` do with an event it has seen?",
         "c": "Nothing is deleted: replay moves the group's offsets back, the view keeps its rows."},
    hints=["Replay does not touch the view: it only moves the consumer group's offsets back to 0.",
           "The handler adds each event's amount to what the table already holds."],
    explanation="A view rebuilt by replay must start empty (or its handler must skip events it has applied): "
                "an additive handler applies every event a second time.",
)


def _lost_view() -> World:
    world = bank()
    world.service("balances").db.execute("DROP TABLE balances")
    return world


def _inspect_rebuilt(world: World) -> str:
    db = world.service("balances").db
    want = {e["account"]: e["balance"] for e in _with_balances(CHANGES)}
    rows = {a: (db.get("balances", a) or {}).get("balance") for a in sorted(want)}
    if all(v is None for v in rows.values()):
        raise Incorrect("the view is still empty. After `world.replay(...)` the events wait for the "
                        "consumer: call `world.run()` so that it handles them.")
    wrong = [a for a, b in want.items() if rows[a] != b]
    if wrong:
        raise Incorrect(f"{len(wrong)} of {len(want)} accounts have a wrong balance (e.g. {wrong[0]} shows "
                        f"{rows[wrong[0]]}, its changes add up to {want[wrong[0]]}): replay from offset 0, "
                        "the start of every partition, and only once.")
    return f"all {len(want)} balances are back, rebuilt from the log alone."


q3 = SystemExercise(
    notebook=NOTEBOOK, name="q3", title="Rebuild a lost view from the log",
    variable="rebuild_world", build=_lost_view, inspect=_inspect_rebuilt,
    hints=["The events are still in the topic `accounts`; only the `balances` table is gone.",
           "`world.replay(service, topic, offset)` moves that service's consumer group back; then run the world.",
           "`rebuild_world.replay(\"balances\", \"accounts\", 0)` then `rebuild_world.run()`"],
    solution='rebuild_world = q3.world()\n'
             'rebuild_world.replay("balances", "accounts", 0)\n'
             'rebuild_world.run()',
    explanation="The log is the source of truth: a view is a cache of it, and replay refills the cache.",
    wrong=[WrongAnswer('rebuild_world = q3.world()\n'
                       'rebuild_world.replay("balances", "accounts", 0)', "call `world.run()`"),
           WrongAnswer('rebuild_world = q3.world()\n'
                       'for _ in range(2):\n'
                       '    rebuild_world.replay("balances", "accounts", 0)\n'
                       '    rebuild_world.run()', "accounts have a wrong balance")],
)
