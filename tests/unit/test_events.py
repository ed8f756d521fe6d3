import dataclasses
import json

import pytest

from edlib import Event, EventFactory, VirtualClock
from edlib.core.ids import RandomUuids, SeededUuids, SequentialIds, make_ids


def test_ids_are_deterministic_by_default():
    a, b = EventFactory(), EventFactory()
    assert [a("Ping").id for _ in range(3)] == [b("Ping").id for _ in range(3)] == ["evt-1", "evt-2", "evt-3"]


def test_seeded_uuids_repeat_and_real_uuids_do_not():
    assert SeededUuids(7)("x") == SeededUuids(7)("x")
    assert SeededUuids(7)("x") != SeededUuids(8)("x")
    real = RandomUuids()
    assert real("x") != real("x")


def test_make_ids_rejects_unknown_kind():
    with pytest.raises(ValueError, match="unknown id kind"):
        make_ids("dice")


def test_time_comes_from_the_clock():
    clock = VirtualClock()
    make = EventFactory(SequentialIds(), clock)
    clock.advance(42)
    assert make("Ping").time == 42.0


def test_events_are_immutable():
    e = EventFactory()("OrderPlaced", {"items": [1, 2], "who": {"name": "Ann"}})
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.type = "Other"
    with pytest.raises(TypeError, match="read-only"):
        e.data["x"] = 1
    with pytest.raises(TypeError, match="read-only"):
        e.data["who"]["name"] = "Bob"
    with pytest.raises(AttributeError):
        e.data["items"].append(3)


def test_json_round_trip_validates():
    e = EventFactory()("OrderPlaced", {"n": 1, "t": "ü ✓"}, key="o-1")
    back = Event.from_json(e.to_json())
    assert back == e
    assert json.loads(e.to_json())["data"] == {"n": 1, "t": "ü ✓"}


@pytest.mark.parametrize("text, msg", [
    ("not json", "invalid JSON"),
    ("[1, 2]", "must be an object"),
    ('{"type": "X", "data": {}}', "missing"),
    ('{"type": "X", "data": {}, "id": "e", "time": 0, "evil": 1}', "unknown fields"),
    ('{"type": "bad type", "data": {}, "id": "e", "time": 0}', "not a valid name"),
    ('{"type": "X", "data": null, "id": "e", "time": 0}', "is None"),
])
def test_from_json_rejects_bad_input(text, msg):
    with pytest.raises((TypeError, ValueError), match=msg):
        Event.from_json(text)


@pytest.mark.parametrize("etype", ["", None, 3, "has space", "1starts_with_digit", "x" * 65])
def test_event_type_is_checked(etype):
    with pytest.raises((TypeError, ValueError)):
        EventFactory()(etype, {})


def test_causation_and_correlation_are_linked():
    make = EventFactory()
    first = make("OrderPlaced", {"a": 1}, correlation_id="req-1")
    second = make("PaymentTaken", {"a": 1}, causation=first)
    assert second.causation_id == first.id
    assert second.correlation_id == "req-1"
