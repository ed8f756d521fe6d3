"""Exercises of notebook 04, database per service."""
from __future__ import annotations

from edlib import World
from edlib.exercises import FunctionExercise, Incorrect, Outcome, PredictExercise, WrongAnswer, handler_failures

NOTEBOOK = "04"
TOPIC = "customers"


def _customer_world(shipping_ms: float = 20.0) -> World:
    """notebook 04's shop: customers publishes facts about customers; shipping keeps a view of them."""
    world = World(seed=4)
    customers = world.add_service("customers", latency_ms=5)
    shipping = world.add_service("shipping", latency_ms=shipping_ms)

    @customers.endpoint("register")
    def register(data, db, publish):
        customer_id = f"cust-{db.count('customers') + 1}"
        db.put("customers", customer_id, data)
        publish("CustomerRegistered", {"customer_id": customer_id, **data}, key=customer_id, topic=TOPIC)
        return {"customer_id": customer_id}

    @customers.endpoint("move")
    def change_address(data, db, publish):
        db.put("customers", data["id"], {**db.get("customers", data["id"]), "address": data["address"]})
        publish("AddressChanged", {"customer_id": data["id"], "address": data["address"]}, key=data["id"],
                topic=TOPIC)
        return {"customer_id": data["id"]}

    @shipping.handles("CustomerRegistered", topic=TOPIC)
    def remember_customer(event, db):
        db.put("addresses", event.data["customer_id"], {"name": event.data["name"],
                                                        "address": event.data["address"]})

    @shipping.handles("AddressChanged", topic=TOPIC)
    def update_address(event, db):
        row = db.get("addresses", event.data["customer_id"])
        db.put("addresses", event.data["customer_id"], {**row, "address": event.data["address"]})

    world.gateway.route("POST /customers", call="customers.register")
    world.gateway.route("PUT /customers/{id}/address", call="customers.move")
    return world


# -- q1: a handler that keeps the view up to date ----------------------------------------
def _trial_rename(rename) -> str:
    world = World(seed=1)
    shipping = world.add_service("shipping")

    @shipping.handles("CustomerRegistered", topic=TOPIC)
    def remember_customer(event, db):
        db.put("addresses", event.data["customer_id"], {"name": event.data["name"],
                                                        "address": event.data["address"]})

    shipping.handles("CustomerRenamed", topic=TOPIC)(rename)
    people = {"cust-1": ("Ada", "1 Loop Lane"), "cust-2": ("Grace", "9 Stack Street")}
    for cid, (name, address) in people.items():
        world.publish("CustomerRegistered", {"customer_id": cid, "name": name, "address": address},
                      key=cid, topic=TOPIC)
    world.publish("CustomerRenamed", {"customer_id": "cust-1", "name": "Ada L."}, key="cust-1", topic=TOPIC)
    world.run()
    if world.dead_letters:
        raise Incorrect(f"your handler failed: {handler_failures(world)[0]}.")
    expected = {"cust-1": {"name": "Ada L.", "address": "1 Loop Lane"},
                "cust-2": {"name": "Grace", "address": "9 Stack Street"}}
    for cid, want in expected.items():
        got = shipping.db.get("addresses", cid)
        if got is None:
            raise Incorrect(f"shipping's `addresses` view has no row for {cid!r} any more.")
        if got.get("address") != want["address"]:
            raise Incorrect(f"after the rename, the row of {cid!r} is {got!r}: the address was lost. "
                            "Keep the rest of the row and change only the name.")
        if got.get("name") != want["name"]:
            raise Incorrect(f"after CustomerRenamed for cust-1 the row of {cid!r} holds the name "
                            f"{got.get('name')!r}, not {want['name']!r}.")
    if shipping.db.count("addresses") != 2:
        raise Incorrect(f"the view should still hold 2 customers, but it holds {shipping.db.count('addresses')}.")
    return "the view has the new name and still knows where to ship."


q1 = FunctionExercise(
    notebook=NOTEBOOK, name="q1", title="Keep shipping's view up to date when a customer is renamed",
    variable="rename", handler=True, trial=_trial_rename,
    hints=["Read the row shipping already has: `db.get(\"addresses\", event.data[\"customer_id\"])`.",
           "Store it again with only the name changed: `{**row, \"name\": ...}` copies the rest.",
           "`db.put(\"addresses\", cid, {**row, \"name\": event.data[\"name\"]})`"],
    solution='def rename(event, db):\n'
             '    cid = event.data["customer_id"]\n'
             '    row = db.get("addresses", cid)\n'
             '    db.put("addresses", cid, {**row, "name": event.data["name"]})',
    explanation="A view is updated field by field from facts; the event carries only what changed.",
    wrong=[WrongAnswer('def rename(event, db):\n'
                       '    db.put("addresses", event.data["customer_id"], {"name": event.data["name"]})',
                       "the address was lost"),
           WrongAnswer('def rename(event, db):\n'
                       '    row = db.get("addresses", event.data["id"])\n'
                       '    db.put("addresses", event.data["id"], {**row, "name": event.data["name"]})',
                       "KeyError: 'id'", Outcome.RAISED)],
)


# -- q2: the window of one event, from the trace -------------------------------------------
def _reference_window(trace, event_id: str) -> float:
    [published] = [r.time for r in trace.where("publish") if r.ref == event_id]
    [applied] = [r.time for r in trace.where("ack", source="shipping") if r.ref == event_id]
    return applied - published


def _trial_window(window_ms) -> str:
    world = _customer_world(shipping_ms=20)
    world.service("shipping").down(200, 500)
    world.request("POST /customers", {"name": "Ada", "address": "1 Loop Lane"})
    for t, address in ((100, "2 Queue Street"), (300, "3 Log Road"), (600, "4 Offset Avenue")):
        def change(a: str = address) -> None:
            world.request("PUT /customers/cust-1/address", {"address": a})
        world.scheduler.at(t, change)
    world.run()
    events = [r.ref for r in world.trace.where("publish", label="AddressChanged")]
    for event_id in events:
        want = _reference_window(world.trace, event_id)
        got = window_ms(world.trace, event_id)
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            raise Incorrect(f"`window_ms(trace, {event_id!r})` returned {got!r}: it should return a number of ms.")
        if got < 0:
            raise Incorrect(f"`window_ms(trace, {event_id!r})` returned {got:g}: a window cannot be negative "
                            "(subtract the earlier time from the later one).")
        [published] = [r.time for r in world.trace.where("publish") if r.ref == event_id]
        delivered = [r.time - published for r in world.trace.where("deliver", target="shipping")
                     if r.ref == event_id]
        if abs(got - want) > 1e-9 and any(abs(got - d) < 1e-9 for d in delivered):
            raise Incorrect(f"for {event_id!r} you measured {got:g} ms, which ends when the event was "
                            "delivered; shipping's view changes only when its handler has committed, "
                            "which is when it acks.")
        if abs(got - want) > 1e-9:
            raise Incorrect(f"for {event_id!r} the window is not {got:g} ms: measure from customers' publish "
                            "of that event to shipping's ack of it.")
    return f"the three windows are {', '.join(f'{_reference_window(world.trace, e):g}' for e in events)} ms."


q2 = FunctionExercise(
    notebook=NOTEBOOK, name="q2", title="How long was shipping's view stale after one event?",
    variable="window_ms", trial=_trial_window,
    hints=["`trace.where(\"publish\")` lists publish records; each has `.ref` (the event id) and `.time`.",
           "shipping's view changed when it acked the event: `trace.where(\"ack\", source=\"shipping\")`.",
           "Find the record of each kind whose `.ref == event_id` and subtract the times."],
    solution='def window_ms(trace, event_id):\n'
             '    published = [r.time for r in trace.where("publish") if r.ref == event_id]\n'
             '    applied = [r.time for r in trace.where("ack", source="shipping") if r.ref == event_id]\n'
             '    return applied[0] - published[0]',
    explanation="The trace records both ends of the window with their virtual times.",
    wrong=[WrongAnswer('def window_ms(trace, event_id):\n'
                       '    published = [r.time for r in trace.where("publish") if r.ref == event_id]\n'
                       '    delivered = [r.time for r in trace.where("deliver") if r.ref == event_id]\n'
                       '    return delivered[-1] - published[0]', "when it acks"),
           WrongAnswer('def window_ms(trace, event_id):\n'
                       '    published = [r.time for r in trace.where("publish") if r.ref == event_id]\n'
                       '    applied = [r.time for r in trace.where("ack", source="shipping") if r.ref == event_id]\n'
                       '    return published[0] - applied[0]', "cannot be negative")],
)


# -- q3: the window during an outage -------------------------------------------------------
def _window_during_outage() -> float:
    world = _customer_world(shipping_ms=20)
    world.request("POST /customers", {"name": "Ada", "address": "1 Loop Lane"})
    world.service("shipping").down(1000, 3000)
    def change() -> None:
        world.request("PUT /customers/cust-1/address", {"address": "2 Queue Street"})
    world.scheduler.at(1494, change)
    world.run()
    [event_id] = [r.ref for r in world.trace.where("publish", label="AddressChanged")]
    return _reference_window(world.trace, event_id)


q3 = PredictExercise(
    notebook=NOTEBOOK, name="q3", variable="outage_window_answer", title="The window during an outage",
    choices={"a": 20.0, "b": 1520.0, "c": 2000.0, "d": 2020.0},
    experiment=_window_during_outage,
    why={"a": "20 ms is how long shipping takes once it has the event; but it is down when the event "
              "is published.",
         "c": "The view was fresh until the address changed in the middle of the outage.",
         "d": "The view only became stale when the address changed, halfway through the outage."},
    hints=["The view is stale from the publish (1500 ms) until shipping has handled the event.",
           "shipping is back at 3000 ms; then it needs its 20 ms."],
    explanation="The window is the time the event waits (here: for shipping to come back) plus handling time.",
)
