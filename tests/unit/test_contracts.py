"""Contract tests between a publisher's events and a consumer's expectations."""
import pytest

from edlib.core.events import EventFactory
from edlib.course.fakes import FakePublish
from edlib.patterns.contracts import Contract, ContractBroken, compare

INVENTORY = Contract("inventory", "OrderPlaced", {
    "type": "object", "required": ["order_id", "sku", "qty"],
    "properties": {"order_id": {"type": "string"}, "sku": {"type": "string"},
                   "qty": {"type": "integer", "minimum": 1}}})
PUBLISHER_V1 = {"type": "object", "required": ["order_id", "sku", "qty", "amount_cents"],
                "properties": {"order_id": {"type": "string"}, "sku": {"type": "string"},
                               "qty": {"type": "integer"}, "amount_cents": {"type": "integer"}}}


def test_events_that_keep_the_contract_pass_extra_fields_included():
    events = [{"order_id": "o1", "sku": "mug", "qty": 1, "gift_wrap": True}]
    assert INVENTORY.verify(events) == []
    INVENTORY.check(events)


def test_a_renamed_field_breaks_the_contract_with_a_clear_message():
    publish = FakePublish()
    publish("OrderPlaced", {"order_id": "o1", "sku": "mug", "quantity": 1})
    with pytest.raises(ContractBroken, match=r"event 1: inventory relies on OrderPlaced data: "
                                             r"'qty' is a required property"):
        INVENTORY.check(publish.events)
    assert isinstance(ContractBroken("x"), AssertionError)


def test_every_problem_is_listed_with_its_field_and_event():
    event = EventFactory()("OrderPlaced", {"order_id": 7, "sku": "mug", "qty": 0})
    assert INVENTORY.verify([event]) == [
        "evt-1: inventory relies on OrderPlaced data.order_id: 7 is not of type 'string'",
        "evt-1: inventory relies on OrderPlaced data.qty: 0 is less than the minimum of 1"]


def test_only_events_of_the_contract_type_are_verified_and_none_is_a_problem():
    publish = FakePublish()
    publish("OrderCancelled", {"order_id": "o1"})
    assert INVENTORY.verify(publish.events) == [
        "no OrderPlaced event was published, so inventory's contract was not verified"]
    with pytest.raises(TypeError):
        INVENTORY.verify([42])


def test_a_contract_is_checked_when_it_is_written():
    with pytest.raises(ValueError, match="invalid schema"):
        Contract("inventory", "OrderPlaced", {"type": "nope"})
    with pytest.raises(ValueError):
        Contract("", "OrderPlaced", {})


def test_compare_finds_missing_optional_and_retyped_fields():
    assert compare(PUBLISHER_V1, INVENTORY) == []
    renamed = {**PUBLISHER_V1, "required": ["order_id", "sku", "quantity"],
               "properties": {**PUBLISHER_V1["properties"], "quantity": {"type": "integer"}}}
    del renamed["properties"]["qty"]
    [problem] = compare(renamed, INVENTORY)
    assert problem.startswith("inventory requires OrderPlaced.qty, which the publisher's schema does not "
                              "promise (absent;")
    optional = {**PUBLISHER_V1, "required": ["order_id", "sku"]}
    assert "(optional;" in compare(optional, INVENTORY)[0]
    retyped = {**PUBLISHER_V1, "properties": {**PUBLISHER_V1["properties"], "qty": {"type": "string"}}}
    assert compare(retyped, INVENTORY) == ["inventory reads OrderPlaced.qty as integer, but the publisher "
                                           "sends string"]
