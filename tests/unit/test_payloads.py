import pytest

from edlib import MAX_PAYLOAD_BYTES, validate_payload
from edlib.core.payloads import thaw


@pytest.mark.parametrize("bad, error, msg", [
    (None, TypeError, "is None"),
    ("text", TypeError, "must be a dict"),
    ([1, 2], TypeError, "must be a dict"),
    ({}, ValueError, "is empty"),
    ({"x": float("nan")}, ValueError, "not a number JSON can hold"),
    ({"x": float("inf")}, ValueError, "not a number JSON can hold"),
    ({"x": {1, 2}}, TypeError, "cannot be sent as JSON"),
    ({"x": object()}, TypeError, "cannot be sent as JSON"),
    ({1: "a"}, TypeError, "keys must be strings"),
    ({"x": "\ud800"}, ValueError, "not valid Unicode"),
    ({"x": "a" * (MAX_PAYLOAD_BYTES + 1)}, ValueError, "the limit is"),
])
def test_bad_payloads_get_a_clear_error(bad, error, msg):
    with pytest.raises(error, match=msg):
        validate_payload(bad)


def test_error_names_where_the_problem_is():
    with pytest.raises(ValueError, match=r"data\.order\.items\[1\]"):
        validate_payload({"order": {"items": [1, float("nan")]}})


def test_too_deep_nesting():
    deep: dict = {"x": 1}
    for _ in range(40):
        deep = {"x": deep}
    with pytest.raises(ValueError, match="nested deeper"):
        validate_payload(deep)


def test_valid_payload_is_a_frozen_copy():
    original = {"name": "Ann", "tags": ["a"], "n": 1.5, "ok": True, "none": None}
    frozen = validate_payload(original)
    original["name"] = "changed"
    assert frozen["name"] == "Ann"
    assert thaw(frozen) == {"name": "Ann", "tags": ["a"], "n": 1.5, "ok": True, "none": None}


def test_empty_allowed_when_asked():
    assert validate_payload({}, allow_empty=True) == {}
