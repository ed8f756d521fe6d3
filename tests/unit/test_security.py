"""Least privilege and schema validation: every rule has a test that tries to break it."""
import pytest

from edlib import World

ORDER = {"type": "object", "properties": {"item": {"type": "string", "minLength": 1, "maxLength": 40},
                                          "qty": {"type": "integer", "minimum": 1, "maximum": 100}},
         "required": ["item", "qty"], "additionalProperties": False}


def test_a_service_may_publish_only_its_own_event_types():
    world = World()
    orders = world.add_service("orders", publishes=["OrderPlaced"])
    orders.publish("OrderPlaced", {"n": 1})
    with pytest.raises(PermissionError, match="'orders' may not publish 'PaymentTaken'"):
        orders.publish("PaymentTaken", {"n": 1})


def test_nobody_else_may_publish_an_owned_event_type():
    world = World()
    world.add_service("orders", publishes=["OrderPlaced"])
    intruder = world.add_service("intruder")
    with pytest.raises(PermissionError, match="only 'orders' publishes it"):
        intruder.publish("OrderPlaced", {"forged": True})
    with pytest.raises(PermissionError):
        intruder.outbox("OrderPlaced", {"forged": True})
    assert world.bus.log("OrderPlaced") == []


def test_an_event_type_has_one_owner():
    world = World()
    world.add_service("orders", publishes=["OrderPlaced"])
    with pytest.raises(ValueError, match="already published by"):
        world.add_service("copycat", publishes=["OrderPlaced"])


def test_a_handler_publishing_what_it_may_not_is_refused_and_nothing_leaves():
    world = World()
    world.add_service("payments", publishes=["PaymentTaken"])
    shipping = world.add_service("shipping", publishes=["Shipped"])

    @shipping.handles("OrderPlaced")
    def sneaky(event, publish):
        publish("PaymentTaken", {"free": True})

    world.publish("OrderPlaced", {"n": 1})
    world.run()
    assert world.bus.log("PaymentTaken") == []
    assert "PermissionError" in world.dead_letters[0]["reason"]


def test_a_service_opens_only_its_own_database():
    world = World()
    world.add_service("orders")
    world.add_service("shipping")
    with pytest.raises(PermissionError):
        world.databases.open("orders", by="shipping")


def test_gateway_schema_rejects_with_the_field_and_rule_and_stores_nothing():
    world = World()
    orders = world.add_service("orders")

    @orders.endpoint("create")
    def create(data, db):
        db.put("orders", "o", data)
        return {"ok": True}

    world.gateway.route("POST /orders", call="orders.create", schema=ORDER)
    for body, message in [({"item": "book", "qty": 0}, "request body.qty: 0 is less than the minimum of 1"),
                          ({"item": "book"}, "'qty' is a required property"),
                          ({"item": "book", "qty": 1, "admin": True}, "'admin' was unexpected"),
                          ({"item": "b" * 41, "qty": 1}, "is too long")]:
        response = world.request("POST /orders", body)
        assert response.status == 400 and message in response.body["error"]
    assert orders.db.rows() == 0
    assert world.request("POST /orders", {"item": "book", "qty": 2}).status == 201


def test_handler_schema_sends_malformed_events_straight_to_dead_letters():
    world = World()
    shipping = world.add_service("shipping")

    @shipping.handles("OrderPlaced", schema=ORDER)
    def ship(event, db):
        db.put("shipments", event.id, event.data)

    world.publish("OrderPlaced", {"item": "book", "qty": "many"})
    world.publish("OrderPlaced", {"item": "book", "qty": 1})
    world.run()
    [dead] = world.dead_letters
    assert dead["attempts"] == 1 and "OrderPlaced data.qty: 'many' is not of type 'integer'" in dead["reason"]
    assert shipping.db.count("shipments") == 1


def test_a_long_offending_value_is_cut_not_echoed_back():
    world = World()
    world.add_service("orders").handles("OrderPlaced")(lambda event: None)
    world.gateway.route("POST /orders", publish="OrderPlaced", schema=ORDER)
    answer = world.request("POST /orders", {"item": "book", "qty": "9" * 5000})
    error = answer.body["error"]
    assert answer.status == 400 and error.startswith("request body.qty: '999")
    assert "(5,002 characters) is not of type 'integer'" in error and len(error) < 120
    short = world.request("POST /orders", {"item": "book", "qty": "two"}).body["error"]
    assert short == "request body.qty: 'two' is not of type 'integer'"      # short values are shown whole


def test_a_broken_schema_fails_where_it_is_written():
    world = World()
    svc = world.add_service("s")
    with pytest.raises(ValueError, match="invalid schema"):
        svc.handles("E", schema={"type": "no-such-type"})(lambda event: None)
    with pytest.raises(ValueError, match="invalid schema"):
        world.gateway.route("POST /x", publish="E", schema={"minimum": "zero"})


def test_errors_carry_no_traceback_paths_or_sql():
    world = World()
    svc = world.add_service("orders")

    @svc.endpoint("create")
    def create(data, db):
        db.execute("INSERT INTO missing_table VALUES (1)")

    world.gateway.route("POST /orders", call="orders.create")
    response = world.request("POST /orders", {"a": 1})
    assert response.status == 500
    error = response.body["error"]
    assert error == "orders.create failed (OperationalError)"
    assert "INSERT" not in error and "/" not in error and "Traceback" not in error


# -- least privilege: the rules not tried above ---------------------------------------------
def test_a_service_that_declares_nothing_may_publish_nothing():
    world = World()
    audit = world.add_service("audit", publishes=[])
    with pytest.raises(PermissionError, match=r"it may publish only \[\]"):
        audit.publish("AuditLogged", {"n": 1})
    assert world.bus.log("AuditLogged") == []


def test_the_outbox_obeys_the_same_rule_and_writes_no_row():
    world = World()
    orders = world.add_service("orders", publishes=["OrderPlaced"])

    @orders.endpoint("create")
    def create(data, db, outbox):
        db.put("orders", "o1", data)
        outbox("PaymentTaken", {"free": True})

    world.gateway.route("POST /orders", call="orders.create")
    response = world.request("POST /orders", {"item": "book"})
    world.run()
    assert response.status == 500 and response.body == {"error": "orders.create failed (PermissionError)"}
    assert orders.db.rows() == 0                      # the refused event rolled the whole transaction back
    assert world.bus.log("PaymentTaken") == []


def test_may_publish_names_the_rule_broken():
    world = World()
    world.add_service("payments", publishes=["PaymentTaken"])
    shipping = world.add_service("shipping", publishes=["Shipped"])
    shipping.may_publish("Shipped")                   # allowed: returns quietly
    with pytest.raises(PermissionError, match=r"may publish only \['Shipped'\]"):
        shipping.may_publish("PaymentTaken")
    undeclared = world.add_service("legacy")
    with pytest.raises(PermissionError, match="only 'payments' publishes it"):
        undeclared.may_publish("PaymentTaken")
    undeclared.may_publish("SomethingNobodyOwns")    # undeclared services may publish unowned types


def test_the_owner_opens_its_own_database_and_nobody_opens_a_missing_one():
    world = World()
    orders = world.add_service("orders")
    assert world.databases.open("orders", by="orders") is orders.db
    with pytest.raises(KeyError, match="no database belongs to 'billing'"):
        world.databases.open("billing", by="orders")
    with pytest.raises(PermissionError, match="ask 'orders' through its API or listen to its events"):
        world.databases.open("orders", by="client")


def test_a_handler_that_asks_for_db_gets_only_its_own():
    world = World()
    world.add_service("payments").db.put("cards", "c1", {"number": "4242424242424242"})
    shipping = world.add_service("shipping")
    seen = []

    @shipping.handles("OrderPlaced")
    def ship(event, db):
        seen.append((db.owner, db.tables()))

    world.publish("OrderPlaced", {"n": 1})
    world.run()
    assert seen == [("shipping", [])]


# -- sensitive fields stay out of the log ------------------------------------------------------
def test_masked_events_leave_no_card_or_email_in_the_log():
    from edlib.patterns.sensitive import mask_card, redact, search_log

    world = World()
    payments = world.add_service("payments", publishes=["PaymentTaken"])
    secrets = {"card": "4242424242424242", "email": "ada.mockley@example.com"}

    @payments.handles("OrderPlaced")
    def take(event, publish):
        publish("PaymentTaken", redact({**event.data, "card_number": secrets["card"], "email": secrets["email"]},
                                       drop=["email"], mask={"card_number": mask_card}))

    world.publish("OrderPlaced", {"order_id": "order-1"})
    world.run()
    assert search_log(world.bus, secrets) == []
    [taken] = world.bus.log("PaymentTaken")
    assert taken.data == {"order_id": "order-1", "card_number": "**** 4242"}
