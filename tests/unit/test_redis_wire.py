"""The Redis bus's wire format is exactly Event.to_json (checked without a server)."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from edlib.core.events import Event, EventFactory
from edlib.messaging.redis_streams import safe_url, wire

_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                     | st.text(), lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner,
                                                                                          max_size=3), max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(data=st.dictionaries(st.text(), _json, max_size=4), key=st.none() | st.text(min_size=1),
       source=st.none() | st.text(min_size=1))
def test_wire_is_to_json(data, key, source):
    try:
        event = EventFactory()("OrderPlaced", data, key=key, source=source, correlation_id="req-1")
    except (TypeError, ValueError):       # data the event itself refuses (lone surrogates, too deep)
        return
    assert wire(event) == event.to_json().encode("utf-8")
    assert Event.from_json(wire(event)) == event


def test_passwords_are_hidden():
    assert safe_url("redis://:pw@127.0.0.1:6379/0") == "redis://:***@127.0.0.1:6379/0"
    assert safe_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
