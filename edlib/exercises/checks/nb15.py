"""Exercises of notebook 15, testing event-driven code."""
from __future__ import annotations

from edlib.core.schemas import validator
from edlib.course.refactored import event_shop, place_order, reserve_stock
from edlib.course.shopdata import load_customers, load_products
from edlib.exercises import FunctionExercise, Incorrect, PredictExercise, ValueExercise, WrongAnswer

NOTEBOOK = "15"


# -- q1: a unit test that catches bugs ---------------------------------------------------------
def _publishes_reserved_anyway(event, db, publish):
    order = event.data
    row = db.get("stock", order["sku"]) or {"on_hand": 0}
    db.put("stock", order["sku"], {"on_hand": max(row["on_hand"] - order["qty"], 0)})
    publish("StockReserved", order, key=order["order_id"])


def _takes_stock_anyway(event, db, publish):
    order = event.data
    row = db.get("stock", order["sku"]) or {"on_hand": 0}
    db.put("stock", order["sku"], {"on_hand": row["on_hand"] - order["qty"]})
    publish("StockReserved" if row["on_hand"] >= order["qty"] else "OutOfStock", order, key=order["order_id"])


def _stays_silent(event, db, publish):
    order = event.data
    row = db.get("stock", order["sku"]) or {"on_hand": 0}
    if row["on_hand"] >= order["qty"]:
        db.put("stock", order["sku"], {"on_hand": row["on_hand"] - order["qty"]})
        publish("StockReserved", order, key=order["order_id"])


MUTANTS = [("publishes StockReserved even when there is not enough stock", _publishes_reserved_anyway),
           ("publishes OutOfStock but still takes the items from stock", _takes_stock_anyway),
           ("publishes nothing at all when there is not enough stock", _stays_silent)]
"""Broken versions of ``reserve_stock`` (a bug each) that a good test must catch."""


def _trial_test(out_of_stock_test) -> str:
    try:
        out_of_stock_test(reserve_stock)
    except AssertionError as exc:
        why = f"AssertionError: {exc}" if str(exc) else "an assert failed"
        raise Incorrect(f"your test fails against the correct handler ({why}): a test must pass when the "
                        "code is right.") from None
    except Exception as exc:
        raise Incorrect(f"your test raised {type(exc).__name__}: {exc} against the correct handler: build the "
                        "fakes and the event in the test (FakeDb, FakePublish, make_event).") from None
    for bug, mutant in MUTANTS:
        try:
            out_of_stock_test(mutant)
        except Exception:
            continue                                   # the test failed: it caught this bug
        raise Incorrect(f"your test passes against a handler that {bug}: it would not catch that bug. "
                        "Assert on what was published and on what is left in stock.")
    return f"it passes against the correct handler and fails against all {len(MUTANTS)} broken ones."


q1 = FunctionExercise(
    notebook=NOTEBOOK, name="q1", title="A unit test that catches bugs",
    variable="out_of_stock_test", trial=_trial_test, allow=(Exception,),
    hints=["Arrange: `db = FakeDb({\"stock\": {\"mug\": {\"on_hand\": 1}}})`, `publish = FakePublish()` and an "
           "OrderPlaced event for 2 mugs made with `make_event`.",
           "Act: `reserve_stock(event, db=db, publish=publish)` (the handler is the test's parameter).",
           "Assert both: `publish.types() == [\"OutOfStock\"]` and the stock still holds 1 mug."],
    solution='def out_of_stock_test(reserve_stock):\n'
             '    # arrange\n'
             '    db = FakeDb({"stock": {"mug": {"on_hand": 1}}})\n'
             '    publish = FakePublish()\n'
             '    event = make_event("OrderPlaced", {"order_id": "order-1", "sku": "mug", "qty": 2})\n'
             '    # act\n'
             '    reserve_stock(event, db=db, publish=publish)\n'
             '    # assert\n'
             '    assert publish.types() == ["OutOfStock"]\n'
             '    assert db.get("stock", "mug") == {"on_hand": 1}',
    explanation="A test earns its keep by failing when the code is wrong: check every effect (events and state).",
    wrong=[WrongAnswer('def out_of_stock_test(reserve_stock):\n'
                       '    db = FakeDb({"stock": {"mug": {"on_hand": 1}}})\n'
                       '    publish = FakePublish()\n'
                       '    event = make_event("OrderPlaced", {"order_id": "order-1", "sku": "mug", "qty": 2})\n'
                       '    reserve_stock(event, db=db, publish=publish)\n'
                       '    assert "OutOfStock" in publish.types()', "still takes the items from stock"),
           WrongAnswer('def out_of_stock_test(reserve_stock):\n'
                       '    db = FakeDb({"stock": {"mug": {"on_hand": 1}}})\n'
                       '    publish = FakePublish()\n'
                       '    event = make_event("OrderPlaced", {"order_id": "order-1", "sku": "mug", "qty": 2})\n'
                       '    reserve_stock(event, db=db, publish=publish)', "even when there is not enough stock"),
           WrongAnswer('def out_of_stock_test(reserve_stock):\n'
                       '    db = FakeDb({"stock": {"mug": {"on_hand": 1}}})\n'
                       '    publish = FakePublish()\n'
                       '    event = make_event("OrderPlaced", {"order_id": "order-1", "sku": "mug", "qty": 2})\n'
                       '    reserve_stock(event, db=db, publish=publish)\n'
                       '    assert publish.types() == ["StockReserved"]', "fails against the correct handler")],
)


# -- q2: the consumer's contract ---------------------------------------------------------------
V1 = {"order_id": "order-1", "customer_id": "cust-007", "sku": "lamp", "qty": 1, "amount_cents": 3400}
KEEP = [("an OrderPlaced event as orders publishes it today", V1),
        ("the publisher adds a field, gift_wrap, that inventory never reads", {**V1, "gift_wrap": True}),
        ("the publisher stops sending customer_id and amount_cents, which inventory never reads",
         {"order_id": "order-1", "sku": "lamp", "qty": 1})]
BREAK = [("the publisher renames qty to quantity",
          {k if k != "qty" else "quantity": v for k, v in V1.items()}),
         ("the publisher sends qty as text", {**V1, "qty": "1"}),
         ("the publisher stops sending sku", {k: v for k, v in V1.items() if k != "sku"})]


def _check_contract(schema: dict) -> str:
    try:
        checker = validator(schema)
    except ValueError as exc:
        raise Incorrect(f"that is not a valid JSON Schema: {exc}.") from None
    for change, data in KEEP:
        errors = list(checker.iter_errors(data))
        if errors:
            raise Incorrect(f"your contract breaks when {change} ({errors[0].message}): require only what "
                            "inventory reads, so that harmless changes pass.")
    for change, data in BREAK:
        if checker.is_valid(data):
            raise Incorrect(f"your contract still passes when {change}, which breaks inventory's handler: "
                            "require the fields it reads, with their types.")
    return "it lets harmless changes through and catches the three breaking ones."


q2 = ValueExercise(
    notebook=NOTEBOOK, name="q2", title="Inventory's contract for OrderPlaced",
    variable="inventory_contract", types=(dict,), expects="a dict (a JSON Schema)", check=_check_contract,
    hints=["Which fields of `event.data` does `reserve_stock` read? Only those belong in the contract.",
           "Require them (`\"required\": [...]`) and give each its type under `\"properties\"`.",
           "Do not forbid other fields (no `additionalProperties: False`): a tolerant reader ignores them."],
    solution='inventory_contract = {\n'
             '    "type": "object",\n'
             '    "required": ["order_id", "sku", "qty"],\n'
             '    "properties": {"order_id": {"type": "string"}, "sku": {"type": "string"},\n'
             '                   "qty": {"type": "integer", "minimum": 1}},\n'
             '}',
    explanation="A consumer's contract names what it relies on and nothing more: then only real breaks fail.",
    wrong=[WrongAnswer('inventory_contract = {\n'
                       '    "type": "object",\n'
                       '    "required": ["order_id", "sku", "qty"],\n'
                       '    "properties": {"order_id": {"type": "string"}, "sku": {"type": "string"},\n'
                       '                   "qty": {"type": "integer"}},\n'
                       '    "additionalProperties": False,\n'
                       '}', "as orders publishes it today"),
           WrongAnswer('inventory_contract = {\n'
                       '    "type": "object",\n'
                       '    "required": ["order_id", "customer_id", "sku", "qty", "amount_cents"],\n'
                       '}', "stops sending customer_id"),
           WrongAnswer('inventory_contract = {"type": "object", "required": ["order_id", "sku"]}',
                       "renames qty to quantity"),
           WrongAnswer('inventory_contract = {"type": "object", "required": ["order_id", "sku", "qty"]}',
                       "sends qty as text")],
)


# -- q3: the rename, deployed without a contract test ----------------------------------------------
def place_order_renamed(data: dict, db, outbox) -> dict:
    """orders.place after a well-meant rename: the event says ``quantity`` instead of ``qty``."""
    def renamed(event_type: str, order: dict, **options) -> None:
        outbox(event_type, {("quantity" if k == "qty" else k): v for k, v in order.items()}, **options)

    return place_order(data, db, renamed)


RENAME_ORDERS = [{"customer_id": "cust-001", "sku": "book", "qty": 1},
                 {"customer_id": "cust-002", "sku": "mug", "qty": 2},
                 {"customer_id": "cust-004", "sku": "pen", "qty": 1},
                 {"customer_id": "cust-006", "sku": "lamp", "qty": 1},
                 {"customer_id": "cust-009", "sku": "clock", "qty": 3}]


def _dead_letters_after_rename() -> int:
    world = event_shop(load_customers(), load_products(), replace={"place_order": place_order_renamed})
    world.send_many("POST /orders", RENAME_ORDERS, every_ms=100)
    return len(world.dead_letters)


q3 = PredictExercise(
    notebook=NOTEBOOK, name="q3", variable="rename_answer", title="A rename reaches production",
    choices={"a": 0, "b": 1, "c": len(RENAME_ORDERS)},
    experiment=_dead_letters_after_rename,
    why={"a": "inventory's handler reads `order[\"qty\"]`: what does Python do when the key is not there?",
         "b": "After the first event is set aside, the next ones meet the same handler and the same missing key."},
    hints=["`reserve_stock` reads `order[\"qty\"]`; the new events only have `quantity`.",
           "A handler that raises is retried, then its event goes to the dead letters; every event is renamed."],
    explanation="Every order's event fails in inventory, after its retries: nothing is reserved or charged, and "
                "no test told the publisher before it shipped.",
)
