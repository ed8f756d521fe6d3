"""Events: immutable, validated, JSON-only facts about something that happened.

An event is created through an :class:`EventFactory`, which stamps it with an id and a
time from injectable factories (deterministic by default). Events never travel as
pickles: :meth:`Event.to_json` and :meth:`Event.from_json` are the only wire format,
and ``from_json`` validates exactly as creation does.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from edlib.core.clock import Clock, VirtualClock
from edlib.core.ids import SequentialIds
from edlib.core.payloads import FrozenDict, thaw, validate_payload

EVENT_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_.]{0,63}$")


def check_event_type(event_type: Any) -> str:
    """Return ``event_type`` if it is a valid name such as ``OrderPlaced``; raise otherwise."""
    if not isinstance(event_type, str):
        raise TypeError(f"event type must be a string, got {type(event_type).__name__}")
    if not EVENT_TYPE.match(event_type):
        raise ValueError(
            f"event type {event_type!r} is not a valid name: use letters, digits, '_' or '.', "
            "starting with a letter (for example 'OrderPlaced')")
    return event_type


@dataclass(frozen=True)
class Event:
    """One immutable event. Create it with :class:`EventFactory`, not by hand.

    Fields: ``type`` (past tense: ``OrderPlaced``), ``data`` (read-only JSON object),
    ``id``, ``time`` (ms on the factory's clock), ``key`` (orders events of one entity),
    ``correlation_id`` (the request that started it all), ``causation_id`` (the event
    that caused this one), ``version`` (schema version of ``data``), ``source``.
    """

    type: str
    data: FrozenDict
    id: str
    time: float
    key: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    version: int = 1
    source: str | None = None

    def __post_init__(self) -> None:
        check_event_type(self.type)
        object.__setattr__(self, "data", validate_payload(self.data, f"{self.type} data", allow_empty=True))
        for name in ("id", "key", "correlation_id", "causation_id", "source"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise TypeError(f"event {name} must be a string, got {type(value).__name__}")
        if not self.id:
            raise ValueError("event id is empty")
        if not isinstance(self.version, int) or isinstance(self.version, bool) or self.version < 1:
            raise ValueError(f"event version must be a positive int, got {self.version!r}")
        if isinstance(self.time, bool) or not isinstance(self.time, (int, float)):
            raise TypeError(f"event time must be a number of ms, got {type(self.time).__name__}")

    def to_dict(self) -> dict[str, Any]:
        """A plain dict of every field (data thawed into ordinary dicts/lists)."""
        return {
            "type": self.type, "data": thaw(self.data), "id": self.id,
            "time": self.time, "key": self.key, "correlation_id": self.correlation_id,
            "causation_id": self.causation_id, "version": self.version, "source": self.source,
        }

    def to_json(self) -> str:
        """The wire format: compact JSON with sorted keys."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> "Event":
        """Parse and validate an event from its JSON form (never pickle, never eval)."""
        try:
            raw = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"not an event: invalid JSON ({exc})") from None
        if not isinstance(raw, dict):
            raise ValueError("not an event: JSON must be an object")
        unknown = set(raw) - set(cls.__dataclass_fields__)
        missing = {"type", "data", "id", "time"} - set(raw)
        if unknown or missing:
            raise ValueError(f"not an event: unknown fields {sorted(unknown)}, missing {sorted(missing)}")
        return cls(**raw)

    def __repr__(self) -> str:
        key = f", key={self.key!r}" if self.key is not None else ""
        return f"Event({self.type}, {thaw(self.data)!r}, id={self.id!r}, t={self.time:g}ms{key})"


@dataclass
class EventFactory:
    """Makes events stamped with ids and times from injectable factories.

    Deterministic by default (counted ids, a virtual clock at 0). For production-like
    runs pass ``ids=RandomUuids()`` and ``clock=WallClock()``.
    """

    ids: Callable[[str], str] = field(default_factory=SequentialIds)
    clock: Clock = field(default_factory=VirtualClock)

    def __call__(self, type: str, data: Any = None, *, key: str | None = None,
                 correlation_id: str | None = None, causation: Event | None = None,
                 version: int = 1, source: str | None = None) -> Event:
        """Create an event. ``data`` defaults to ``{}``; ``causation`` links to the cause."""
        check_event_type(type)
        payload = validate_payload({} if data is None else data, f"{type} data", allow_empty=True)
        if causation is not None and correlation_id is None:
            correlation_id = causation.correlation_id or causation.id
        return Event(type=type, data=payload, id=self.ids("evt"), time=self.clock.now(), key=key,
                     correlation_id=correlation_id,
                     causation_id=causation.id if causation is not None else None,
                     version=version, source=source)
