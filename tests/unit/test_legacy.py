"""The capstone's legacy flow, its data, and the coupling and testability measurements."""
from collections import Counter

import pytest

from edlib import World
from edlib.course.coupling import coupling_summary, dependencies, fan_out, needed_up, publishers, service_edges
from edlib.course.legacy import DECLINED_CARDS, OutOfStock, PaymentDeclined, legacy_shop, place_order
from edlib.course.shopdata import load_customers, load_products, load_requests
from edlib.course.testability import collaborators, setup_lines

CUSTOMERS = [{"customer_id": "cust-001", "name": "Ada Example", "email": "ada@example.com", "country": "GB",
              "card_number": "4242424242424242"},
             {"customer_id": "cust-002", "name": "Bo Example", "email": "bo@example.com", "country": "DE",
              "card_number": sorted(DECLINED_CARDS)[0]}]
PRODUCTS = [{"sku": "mug", "name": "Mug", "price_cents": 900, "stock": 2}]


def order(customer="cust-001", qty=1, sku="mug"):
    return {"customer_id": customer, "sku": sku, "qty": qty}


def test_the_data_sets_load_and_are_small_and_fake():
    customers, products, requests = load_customers(), load_products(), load_requests()
    assert len(customers) >= 20 and all(c["email"].endswith("@example.com") for c in customers)
    assert len({c["customer_id"] for c in customers}) == len(customers)
    assert all(isinstance(p["stock"], int) and p["price_cents"] > 0 for p in products)
    assert [r["request_id"] for r in requests] == [f"lr-{i:03d}" for i in range(1, len(requests) + 1)]
    assert any(not isinstance(r["body"], dict) for r in requests)   # the bad ones are there


def test_a_good_order_is_charged_reserved_mailed_and_confirmed():
    world = legacy_shop(CUSTOMERS, PRODUCTS)
    response = world.request("POST /orders", order(qty=2))
    assert (response.status, response.body) == (201, {"order_id": "order-1", "status": "confirmed"})
    assert world.service("payments").db.get("charges", "order-1")["amount_cents"] == 1800
    assert world.service("inventory").db.get("stock", "mug") == {"on_hand": 0}
    assert world.service("email").db.all("sent") == [{"to": "ada@example.com",
                                                      "subject": "Your order order-1 is confirmed"}]
    assert response.latency_ms == 1 + 5 + 30 + 10 + 50           # the client waits for the whole chain


def test_failures_half_way_and_their_answers():
    world = legacy_shop(CUSTOMERS, PRODUCTS)
    assert world.request("POST /orders", order("cust-002")).body == {"error": "orders: card declined"}
    response = world.request("POST /orders", order(qty=3))
    assert response.body == {"error": "orders: out of stock: mug (2 left, 3 wanted)"}
    [refunded] = world.service("payments").db.all("charges")
    assert refunded["refunded"] is True                               # charged, then refunded
    assert world.request("POST /orders", order("cust-404")).status == 404
    assert world.request("POST /orders", order(sku="lamp")).status == 404
    assert world.request("POST /orders", {**order(), "price_cents": 1}).status == 400
    assert world.service("orders").db.count("orders") == 0


def test_an_email_outage_fails_the_order_after_the_money_was_taken():
    world = legacy_shop(CUSTOMERS, PRODUCTS)
    world.service("email").down(0, 1000)
    response = world.request("POST /orders", order())
    assert (response.status, response.body) == (503, {"error": "email is unavailable"})
    assert world.service("payments").db.count("charges") == 1 and world.service("orders").db.count("orders") == 0


def test_the_whole_data_set_runs_and_bad_requests_are_refused():
    world = legacy_shop(load_customers(), load_products())
    responses = world.send_many("POST /orders", [r["body"] for r in load_requests()], every_ms=100)
    statuses = Counter(r.status for r in responses)
    assert set(statuses) == {201, 400, 404} and statuses[201] == world.service("orders").db.count("orders")
    assert world.service("email").db.count("sent") == statuses[201]


def test_exceptions_are_client_errors():
    assert issubclass(PaymentDeclined, ValueError) and issubclass(OutOfStock, ValueError)


def test_coupling_of_the_legacy_flow_after_it_ran():
    world = legacy_shop(CUSTOMERS, PRODUCTS)
    assert service_edges(world) == []                                 # nothing called yet: nothing seen
    world.request("POST /orders", order())
    world.request("POST /orders", order(qty=5))                      # out of stock: refund is a call too
    assert service_edges(world) == [("orders", "email"), ("orders", "inventory"), ("orders", "payments")]
    assert fan_out(world) == {"email": 0, "inventory": 0, "orders": 3, "payments": 0}
    assert dependencies(world)["orders"] == {"calls": ["email", "inventory", "payments"], "reads events of": []}
    assert needed_up(world) == ["email", "inventory", "orders", "payments"]
    assert coupling_summary(world) == {"direct edges": 3, "largest fan-out": 3, "event dependencies": 0,
                                       "services a request needs up": 4}


def test_coupling_through_events():
    world = World()
    orders = world.add_service("orders", publishes=["OrderPlaced"])
    payments = world.add_service("payments", publishes=["PaymentTaken"])

    @orders.endpoint("place")
    def place(data, publish):
        publish("OrderPlaced", data)
        return {}

    @payments.handles("OrderPlaced")
    def take(event, publish):
        publish("PaymentTaken", dict(event.data))

    @orders.handles("PaymentTaken")
    def settle(event):
        pass

    world.gateway.route("POST /orders", call="orders.place")
    world.request("POST /orders", {"n": 1})
    world.run()
    assert service_edges(world) == [] and publishers(world) == {"OrderPlaced": "orders", "PaymentTaken": "payments"}
    assert dependencies(world) == {"orders": {"calls": [], "reads events of": ["payments"]},
                                   "payments": {"calls": [], "reads events of": ["orders"]}}
    assert coupling_summary(world) == {"direct edges": 0, "largest fan-out": 0, "event dependencies": 2,
                                       "services a request needs up": 1}


def test_collaborators_expand_the_services_called():
    world = legacy_shop(CUSTOMERS, PRODUCTS)
    assert collaborators(place_order) == ["db", "service"]
    world.request("POST /orders", order())
    assert collaborators(place_order, world, "orders") == ["db", "email", "inventory", "payments"]

    def handler(event, db, publish, now):
        pass

    assert collaborators(handler) == ["db", "publish"]


def test_setup_lines_count_only_arranging():
    source = '''
import pytest
from app import f


class FakeThing:
    def call(self, x):
        return x


def test_one():
    # arrange
    thing = FakeThing()
    data = {"a": 1}

    # act
    result = f(thing, data)
    # assert
    assert result == 1


def test_two():
    x = 1       # no markers: all of it is arranging
    assert x
'''
    assert setup_lines(source) == 2 + 2 + 1          # the fake's body, test_one's arrange, x = 1
    with pytest.raises(TypeError):
        setup_lines(None)


# -- the reference refactoring -----------------------------------------------------------------
def test_the_refactored_flow_does_what_the_legacy_flow_did():
    from edlib.course.refactored import event_shop, outcomes

    bodies = [r["body"] for r in load_requests()]
    before = legacy_shop(load_customers(), load_products())
    before.send_many("POST /orders", bodies, every_ms=100)
    after = event_shop(load_customers(), load_products())
    responses = after.send_many("POST /orders", bodies, every_ms=100)
    assert outcomes(after) == outcomes(before) and after.dead_letters == []
    assert all(r.body["status"] == "pending" for r in responses if r.status == 201)
    assert service_edges(after) == [] and needed_up(after) == ["orders"]


def test_the_refactored_flow_survives_an_email_outage_and_catches_up():
    from edlib.course.refactored import event_shop, outcomes

    world = event_shop(CUSTOMERS, PRODUCTS)
    world.service("email").down(0, 500)
    assert world.request("POST /orders", order()).status == 201
    world.run()
    assert outcomes(world)["emails"] == [("ada@example.com", "Your order order-1 is confirmed")]
    assert world.request("POST /orders", order("cust-002")).status == 201     # declined later, by event
    world.run()
    assert world.service("orders").db.get("orders", "order-2")["status"] == "rejected"
    assert world.service("inventory").db.get("stock", "mug") == {"on_hand": 1}   # released again


def test_the_refactored_flow_takes_replacements_by_name_only():
    from edlib.course.refactored import event_shop

    with pytest.raises(KeyError, match="no function"):
        event_shop(CUSTOMERS, PRODUCTS, replace={"nope": lambda event: None})
