"""Exercises of notebook 14, security."""
from __future__ import annotations

from edlib import World
from edlib.core.schemas import validator
from edlib.course.legacy import REQUEST_SCHEMA
from edlib.course.shopdata import load_customers, load_requests
from edlib.exercises import (
    FunctionExercise,
    Incorrect,
    Outcome,
    PredictExercise,
    ValueExercise,
    WrongAnswer,
    handler_failures,
)
from edlib.exercises.system import memory_bus
from edlib.patterns.sensitive import mask_card, search_log

NOTEBOOK = "14"


# -- q1: a schema for POST /orders ---------------------------------------------------------
def _verdict(schema: dict, body: dict) -> str:
    """'' if ``body`` passes ``schema``, else the first problem."""
    errors = sorted(validator(schema).iter_errors(body), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if not errors:
        return ""
    where = "".join(f".{p}" for p in errors[0].absolute_path)
    return f"request body{where}: {errors[0].message}"


def _check_schema(schema: dict) -> str:
    try:
        validator(schema)
    except ValueError as exc:
        raise Incorrect(f"that is not a valid JSON Schema: {exc}.") from None
    requests = [r for r in load_requests() if isinstance(r["body"], dict) and r["body"]]
    expected = {r["request_id"]: _verdict(REQUEST_SCHEMA, r["body"]) for r in requests}
    for r in requests:                                  # first: every good order must get through
        if not expected[r["request_id"]] and _verdict(schema, r["body"]):
            raise Incorrect(f"your schema refuses {r['request_id']}, {r['body']}, a good order "
                            f"({_verdict(schema, r['body'])}). A schema checks the shape of a request; "
                            "whether that customer or product exists is for the service to say.")
    for r in requests:                                  # then: every malformed one must be refused
        if expected[r["request_id"]] and not _verdict(schema, r["body"]):
            raise Incorrect(f"your schema lets {r['request_id']} through: {str(r['body'])[:70]}, "
                            f"which it should refuse ({expected[r['request_id']][:90]}).")
    bad = sum(1 for v in expected.values() if v)
    return f"it accepts the {len(requests) - bad} well-formed orders and refuses the {bad} malformed ones."


q1 = ValueExercise(
    notebook=NOTEBOOK, name="q1", title="A schema for POST /orders",
    variable="order_schema", types=(dict,), expects="a dict (a JSON Schema)", check=_check_schema,
    hints=["Start from `{\"type\": \"object\", \"properties\": {...}, \"required\": [...]}`.",
           "`customer_id` and `sku` are strings with a `pattern`; `qty` is an integer with `minimum` and "
           "`maximum`. Which fields may a client NOT send?",
           "`\"additionalProperties\": False` refuses fields you did not list, such as `price_cents`."],
    solution='order_schema = {\n'
             '    "type": "object",\n'
             '    "properties": {"customer_id": {"type": "string", "pattern": "^cust-[0-9]{3}$"},\n'
             '                   "sku": {"type": "string", "pattern": "^[a-z]{2,20}$"},\n'
             '                   "qty": {"type": "integer", "minimum": 1, "maximum": 10}},\n'
             '    "required": ["customer_id", "sku", "qty"],\n'
             '    "additionalProperties": False,\n'
             '}',
    explanation="Allow-list what a request may hold (fields, types, ranges, patterns); refuse everything else.",
    wrong=[WrongAnswer('order_schema = {\n'
                       '    "type": "object",\n'
                       '    "properties": {"customer_id": {"type": "string", "pattern": "^cust-[0-9]{3}$"},\n'
                       '                   "sku": {"type": "string", "pattern": "^[a-z]{2,20}$"},\n'
                       '                   "qty": {"type": "integer", "minimum": 1, "maximum": 10}},\n'
                       '    "required": ["customer_id", "sku", "qty"],\n'
                       '}', "price_cents"),
           WrongAnswer('order_schema = {\n'
                       '    "type": "object",\n'
                       '    "properties": {"customer_id": {"type": "string"}, "sku": {"type": "string"},\n'
                       '                   "qty": {"type": "integer", "minimum": 0}},\n'
                       '    "required": ["customer_id", "sku", "qty"],\n'
                       '    "additionalProperties": False,\n'
                       '}', "which it should refuse"),
           WrongAnswer('order_schema = {\n'
                       '    "type": "object",\n'
                       '    "properties": {"customer_id": {"type": "string", "pattern": "^cust-[0-9]{3}$"},\n'
                       '                   "sku": {"enum": ["book", "lamp", "mug", "pen"]},\n'
                       '                   "qty": {"type": "integer", "minimum": 1, "maximum": 10}},\n'
                       '    "required": ["customer_id", "sku", "qty"],\n'
                       '    "additionalProperties": False,\n'
                       '}', "a good order"),
           WrongAnswer('order_schema = "qty must be positive"', "should be a dict")],
)


# -- q2: a breach attempt inside a handler, retried? -------------------------------------------
def _deliveries_of_a_breach() -> int | None:
    world = World(seed=14)
    world.add_service("payments", publishes=["PaymentTaken"])
    shipping = world.add_service("shipping", publishes=["Shipped"])

    @shipping.handles("OrderPlaced")
    def ship(event, publish):
        publish("PaymentTaken", {"order_id": event.data["order_id"], "amount_cents": 0})

    world.publish("OrderPlaced", {"order_id": "order-1"})
    world.run()
    return world.dead_letters[0]["attempts"] if world.dead_letters else None


q2 = PredictExercise(
    notebook=NOTEBOOK, name="q2", variable="breach_answer", title="How often is a refused handler retried?",
    choices={"a": 1, "b": 5, "c": None},
    experiment=_deliveries_of_a_breach,
    why={"a": "Only a malformed event (one that breaks the handler's schema) is set aside at once. "
              "What does the consumer do with any other exception?",
         "c": "The retry policy has a maximum number of attempts: after that the event is set aside."},
    hints=["The PermissionError is raised inside the handler: to the consumer it is a failing handler.",
           "Failing handlers are retried (notebook 06); the default policy's `max_attempts` is 5."],
    explanation="Each retry is refused again: a permission error is permanent, so retrying only delays the "
                "dead letter (and an alert should go out on the first one).",
)


# -- q3: a payment handler that leaks nothing -------------------------------------------------
def _payment_world() -> tuple[World, list[dict]]:
    world = World(seed=14)
    payments = world.add_service("payments", latency_ms=30, publishes=["PaymentTaken"])
    customers = [c for c in load_customers() if c["card_number"] == "4242424242424242"][:2] + \
                [c for c in load_customers() if c["card_number"] == "5555555555554444"][:2]
    for c in customers:
        payments.db.put("customers", c["customer_id"], {"card_number": c["card_number"], "email": c["email"]})
    return world, customers


def _trial_payment(take_payment) -> str:
    world, customers = _payment_world()
    world.service("payments").handles("OrderPlaced")(take_payment)
    orders = [{"order_id": f"order-{i}", "customer_id": c["customer_id"], "sku": "book", "qty": i}
              for i, c in enumerate(customers, 1)]
    for order in orders:
        world.publish("OrderPlaced", order, key=order["order_id"], source="gateway")
    world.run()
    if world.dead_letters:
        raise Incorrect(f"your handler failed: {handler_failures(world)[0]}.")
    secrets = {f"the card number of {c['customer_id']}": c["card_number"] for c in customers}
    secrets.update({f"the e-mail address of {c['customer_id']}": c["email"] for c in customers})
    leaks = search_log(memory_bus(world), secrets)
    if leaks:
        leak = leaks[0]
        raise Incorrect(f"{leak.secret} is in the log, in {leak.event_type} {leak.event_id}: every subscriber "
                        f"reads it, and the log keeps it. Publish the card masked (`mask_card(...)`) and no "
                        f"e-mail address.")
    taken = {e.data.get("order_id"): e.data for e in world.bus.log("PaymentTaken")}
    for order, c in zip(orders, customers):
        data = taken.get(order["order_id"])
        if data is None:
            raise Incorrect(f"no PaymentTaken for {order['order_id']}: publish one per OrderPlaced, with its "
                            "`order_id`.")
        if data.get("card") != mask_card(c["card_number"]):
            raise Incorrect(f"the PaymentTaken of {order['order_id']} should carry the masked card, "
                            f"card={mask_card(c['card_number'])!r}, not {data.get('card')!r}.")
    return f"{len(orders)} payments announced; no card number or e-mail address in the log."


q3 = FunctionExercise(
    notebook=NOTEBOOK, name="q3", title="A payment event that leaks nothing",
    variable="take_payment", handler=True, trial=_trial_payment,
    hints=["Look the customer up in payments' own table: `db.get(\"customers\", event.data[\"customer_id\"])`.",
           "Publish only what subscribers need: the order id and the card's last four digits.",
           "`publish(\"PaymentTaken\", {\"order_id\": event.data[\"order_id\"], "
           "\"card\": mask_card(customer[\"card_number\"])})`"],
    solution='def take_payment(event, db, publish):\n'
             '    customer = db.get("customers", event.data["customer_id"])\n'
             '    publish("PaymentTaken", {"order_id": event.data["order_id"],\n'
             '                             "card": mask_card(customer["card_number"])})',
    explanation="An event is copied to every subscriber and kept in the log: publish the least that is needed.",
    wrong=[WrongAnswer('def take_payment(event, db, publish):\n'
                       '    customer = db.get("customers", event.data["customer_id"])\n'
                       '    publish("PaymentTaken", {**event.data, **customer})', "the card number of"),
           WrongAnswer('def take_payment(event, db, publish):\n'
                       '    customer = db.get("customers", event.data["customer_id"])\n'
                       '    publish("PaymentTaken", {"order_id": event.data["order_id"],\n'
                       '                             "card": mask_card(customer["card_number"]),\n'
                       '                             "email": customer["email"]})', "the e-mail address of"),
           WrongAnswer('def take_payment(event, db, publish):\n'
                       '    publish("PaymentTaken", {"order_id": event.data["order_id"],\n'
                       '                             "card": mask_card(event.data["card_number"])})',
                       "KeyError: 'card_number'", Outcome.RAISED)],
)
