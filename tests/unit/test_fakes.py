"""Fakes for testing handlers in isolation."""
import pytest

from edlib.course.fakes import FakeDb, FakePublish, Published, make_event


def test_fake_db_stores_copies_of_documents():
    db = FakeDb({"stock": {"mug": {"on_hand": 3}}})
    row = db.get("stock", "mug")
    row["on_hand"] = 99
    assert db.get("stock", "mug") == {"on_hand": 3}
    db.put("stock", "pen", {"on_hand": 1})
    assert db.count("stock") == 2 and db.rows() == 2 and db.get("stock", "lamp") is None
    assert db.all("stock") == [{"on_hand": 3}, {"on_hand": 1}] and db.count("missing") == 0


def test_fake_db_checks_like_the_real_one_and_rolls_back():
    db = FakeDb()
    with pytest.raises(ValueError):
        db.put("t", "", {"a": 1})
    with pytest.raises(TypeError):
        db.put("t", "x", {"a": {1, 2}})
    with pytest.raises(RuntimeError), db.transaction():
        db.put("t", "x", {"a": 1})
        raise RuntimeError("boom")
    assert db.rows() == 0
    with pytest.raises(NotImplementedError, match="edlib.Database"):
        db.execute("SELECT 1")


def test_fake_publish_records_what_a_handler_published():
    publish = FakePublish()
    publish("StockReserved", {"sku": "mug"}, key="order-1")
    publish("OutOfStock")
    assert publish.types() == ["StockReserved", "OutOfStock"] and len(publish) == 2
    assert publish.events[0] == Published("StockReserved", {"sku": "mug"}, "order-1", None)
    assert publish.of_type("OutOfStock") == [{}]
    with pytest.raises(TypeError):
        publish("Bad", {"x": object()})


def test_make_event_is_deterministic_and_validated():
    event = make_event("OrderPlaced", {"sku": "mug"}, key="order-1")
    assert (event.type, event.id, event.key, event.data) == ("OrderPlaced", "evt-1", "order-1", {"sku": "mug"})
    assert make_event("OrderPlaced", {"sku": "mug"}) == make_event("OrderPlaced", {"sku": "mug"})
    with pytest.raises(ValueError):
        make_event("not a type!", {})


def test_a_handler_runs_on_fakes_without_a_world():
    def reserve(event, db, publish):
        row = db.get("stock", event.data["sku"])
        if row["on_hand"] < event.data["qty"]:
            publish("OutOfStock", dict(event.data))
            return
        db.put("stock", event.data["sku"], {"on_hand": row["on_hand"] - event.data["qty"]})
        publish("StockReserved", dict(event.data))

    db, publish = FakeDb({"stock": {"mug": {"on_hand": 1}}}), FakePublish()
    reserve(make_event("OrderPlaced", {"sku": "mug", "qty": 1}), db=db, publish=publish)
    reserve(make_event("OrderPlaced", {"sku": "mug", "qty": 1}), db=db, publish=publish)
    assert publish.types() == ["StockReserved", "OutOfStock"] and db.get("stock", "mug") == {"on_hand": 0}
