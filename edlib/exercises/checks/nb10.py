"""Exercises of notebook 10, event sourcing."""
from __future__ import annotations

import json

from edlib import Database
from edlib.course.shopdata import DATA_DIR
from edlib.exercises import Case, FunctionExercise, Incorrect, PredictExercise, WrongAnswer
from edlib.patterns.eventstore import ConcurrencyError, EventStore, NewEvent, StoredEvent
from edlib.patterns.fold import fold
from edlib.patterns.upcasting import Upcasters

NOTEBOOK = "10"
HISTORY = DATA_DIR / "inventory_events.jsonl"


def _upcasters(reserved_v1_to_v2=None) -> Upcasters:
    upcasters = Upcasters()
    upcasters.register("StockReceived", 1)(lambda data: {"qty": data["amount"], "warehouse": "main"})
    upcasters.register("StockReserved", 1)(reserved_v1_to_v2 or (lambda data: {"order_id": data["order"],
                                                                               "qty": data["qty"]}))
    return upcasters


def _history(upcasters: Upcasters, stream: str = "stock-lamp") -> list[StoredEvent]:
    """The ``stream`` of the exported event store (data/inventory_events.jsonl), loaded through ``upcasters``."""
    store = EventStore(Database("inventory"), upcasters)
    with open(HISTORY, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    store.append(stream, [NewEvent(r["type"], r["data"], r["schema"]) for r in rows if r["stream"] == stream],
                 expected_version=0)
    return store.load(stream)


def _event(version: int, event_type: str, **data) -> StoredEvent:
    return StoredEvent(version, "stock-desk", version, event_type, 2 if event_type == "StockReserved" else 1, data)


def _case(state: dict, event: StoredEvent, expected: dict) -> Case:
    """A call of apply_open, named in messages by the event's type and data (not its whole repr)."""
    return Case((state, event), expected, label=f"apply_open({state}, {event.type} {dict(event.data)})")


def _reference_open(state: dict, event: StoredEvent) -> dict:
    if event.type == "StockReserved":
        return {**state, event.data["order_id"]: event.data["qty"]}
    if event.type in ("StockShipped", "ReservationReleased"):
        return {k: v for k, v in state.items() if k != event.data["order_id"]}
    return state


def _trial_open(apply_open) -> str:
    start = {"o-1": 2}
    before = dict(start)
    apply_open(start, _event(3, "StockReserved", order_id="o-2", qty=1))
    if start != before:
        raise Incorrect(f"apply_open changed the state it was given ({before} became {start}): return a new "
                        "dict instead, so that older states (and snapshots) stay as they were.")
    events = _history(_upcasters())
    got: dict = fold(events, apply_open, {})
    expected: dict = fold(events, _reference_open, {})
    if got != expected:
        wrong = sorted(set(got) ^ set(expected))
        raise Incorrect(f"folding the {len(events)} events of stock-lamp gives {len(got)} open reservations, "
                        f"not {len(expected)}; {wrong[0]!r} is one that differs. Which events close a reservation?")
    return f"stock-lamp has {len(got)} open reservations after {len(events)} events."


q1 = FunctionExercise(
    notebook=NOTEBOOK, name="q1", title="A fold: open reservations", variable="apply_open", trial=_trial_open,
    cases=[_case({}, _event(2, "StockReserved", order_id="o-1", qty=2), {"o-1": 2}),
           _case({"o-1": 2}, _event(3, "StockShipped", order_id="o-1", qty=2), {}),
           _case({"o-1": 2, "o-2": 1}, _event(4, "ReservationReleased", order_id="o-2", qty=1), {"o-1": 2}),
           _case({"o-1": 2}, _event(5, "StockReceived", qty=10, warehouse="main"), {"o-1": 2})],
    returns=(dict,), expects="a dict (order id -> reserved quantity)",
    hints=["`event.type` says what happened; `event.data[\"order_id\"]` and `event.data[\"qty\"]` say to whom.",
           "StockReserved opens a reservation; StockShipped and ReservationReleased close one; StockReceived "
           "changes none.",
           "`{**state, order_id: qty}` adds one; `{k: v for k, v in state.items() if k != order_id}` removes one."],
    solution='def apply_open(state, event):\n'
             '    if event.type == "StockReserved":\n'
             '        return {**state, event.data["order_id"]: event.data["qty"]}\n'
             '    if event.type in ("StockShipped", "ReservationReleased"):\n'
             '        return {k: v for k, v in state.items() if k != event.data["order_id"]}\n'
             '    return state',
    explanation="A fold's step is a pure function of (state, event): the same events always give the same state.",
    wrong=[WrongAnswer('def apply_open(state, event):\n'
                       '    if event.type == "StockReserved":\n'
                       '        return {**state, event.data["order_id"]: event.data["qty"]}\n'
                       '    if event.type == "ReservationReleased":\n'
                       '        return {k: v for k, v in state.items() if k != event.data["order_id"]}\n'
                       '    return state', "should return a dict {}"),
           WrongAnswer('def apply_open(state, event):\n'
                       '    if event.type == "StockReserved":\n'
                       '        state[event.data["order_id"]] = event.data["qty"]\n'
                       '    if event.type in ("StockShipped", "ReservationReleased"):\n'
                       '        state.pop(event.data["order_id"], None)\n'
                       '    return state', "changed the state it was given")],
)


def _two_clerks() -> int:
    store = EventStore(Database("inventory"))
    store.append("stock-desk", [NewEvent("StockReceived", {"qty": 2, "warehouse": "main"}, schema=2),
                                NewEvent("StockReserved", {"order_id": "o-1", "qty": 1}, schema=2)],
                 expected_version=0)
    clerks = [EventStore(store.db), EventStore(store.db)]
    seen = [clerk.version("stock-desk") for clerk in clerks]
    appended = 0
    for clerk, version, order_id in zip(clerks, seen, ("o-2", "o-3")):
        try:
            clerk.append("stock-desk", [NewEvent("StockReserved", {"order_id": order_id, "qty": 1}, schema=2)],
                         expected_version=version)
            appended += 1
        except ConcurrencyError:
            pass
    return appended


q2 = PredictExercise(
    notebook=NOTEBOOK, name="q2", variable="clerks_answer", title="Two clerks, one last desk",
    choices={"a": 2, "b": 1, "c": 0}, experiment=_two_clerks,
    why={"a": "Then two orders would hold the last desk. What does the second append's expected_version say?",
         "c": "The first clerk's append finds the stream exactly at the version it expects."},
    hints=["Both clerks loaded the stream at the same version, and both pass that version to append().",
           "The first append moves the stream to the next version."],
    explanation="The second append expected a version the stream has already left: it is rejected with a "
                "ConcurrencyError and writes nothing.",
)


def _trial_upcaster(reserved_v1_to_v2) -> str:
    events = _history(_upcasters(reserved_v1_to_v2))
    reserved = [e for e in events if e.type == "StockReserved"]
    broken = [e for e in reserved if set(e.data) != {"order_id", "qty"}]
    if broken:
        raise Incorrect(f"after upcasting, event {broken[0].version} of stock-lamp has the fields "
                        f"{sorted(broken[0].data)}, not ['order_id', 'qty'].")
    return f"all {len(reserved)} StockReserved events of stock-lamp now load as version 2."


q3 = FunctionExercise(
    notebook=NOTEBOOK, name="q3", title="An upcaster for StockReserved", variable="reserved_v1_to_v2",
    trial=_trial_upcaster,
    cases=[Case(({"order": "so-la0001", "qty": 1},), {"order_id": "so-la0001", "qty": 1}),
           Case(({"order": "so-mu0042", "qty": 3},), {"order_id": "so-mu0042", "qty": 3})],
    returns=(dict,), expects="a dict (the event's data in version 2)",
    hints=["The function gets a v1 event's data, such as {\"order\": \"so-la0001\", \"qty\": 1}.",
           "Return a new dict in the v2 shape: the same values, with `order` renamed to `order_id`.",
           "`return {\"order_id\": data[\"order\"], \"qty\": data[\"qty\"]}`"],
    solution='def reserved_v1_to_v2(data):\n'
             '    return {"order_id": data["order"], "qty": data["qty"]}',
    explanation="Old events stay as they were written; the upcaster translates them each time they are read.",
    wrong=[WrongAnswer('def reserved_v1_to_v2(data):\n'
                       '    return {**data, "order_id": data["order"]}', "should return"),
           WrongAnswer('def reserved_v1_to_v2(data):\n'
                       '    data["order_id"] = data.pop("order")', "did you forget `return`")],
)
