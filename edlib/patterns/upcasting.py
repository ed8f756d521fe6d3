"""Upcasting: old versions of an event, turned into the current version as they are read.

An event store never rewrites history, but the code that reads it moves on: a field is
renamed, a new one appears. Each event carries the **schema version** of its data; an
:class:`Upcasters` registry holds one small function per change (version n -> n + 1) and
applies them in a chain when an old event is loaded, so the code that folds events only
ever sees the current version::

    upcasters = Upcasters()

    @upcasters.register("StockReceived", from_version=1)
    def received_v1_to_v2(data):
        return {"qty": data["amount"], "warehouse": "main"}
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from edlib.core.events import check_event_type
from edlib.core.payloads import thaw

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
"""Turns the data of version n into the data of version n + 1."""


class Upcasters:
    """A registry of upcasters, one per (event type, version it upgrades from)."""

    def __init__(self) -> None:
        self._steps: dict[tuple[str, int], Upcaster] = {}

    def register(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: ``fn(data) -> data`` upgrades ``event_type`` from ``from_version`` to the next."""
        check_event_type(event_type)
        if isinstance(from_version, bool) or not isinstance(from_version, int) or from_version < 1:
            raise ValueError(f"from_version is a schema version >= 1, got {from_version!r}")
        if (event_type, from_version) in self._steps:
            raise ValueError(f"{event_type} v{from_version} already has an upcaster")

        def add(fn: Upcaster) -> Upcaster:
            if not callable(fn):
                raise TypeError(f"an upcaster is a function of the event's data, got {type(fn).__name__}")
            self._steps[(event_type, from_version)] = fn
            return fn
        return add

    def upcast(self, event_type: str, version: int, data: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """``(latest version, data)`` for an event read at ``version`` (unchanged if none applies)."""
        current = thaw(dict(data))
        while (event_type, version) in self._steps:
            step = self._steps[(event_type, version)]
            upgraded = step(dict(current))
            if not isinstance(upgraded, dict):
                raise TypeError(f"the upcaster of {event_type} v{version} returned {type(upgraded).__name__}, "
                                "not a dict")
            current, version = upgraded, version + 1
        return version, current

    def latest(self, event_type: str, version: int = 1) -> int:
        """The version an event of ``event_type`` at ``version`` is upcast to."""
        while (event_type, version) in self._steps:
            version += 1
        return version

    def __len__(self) -> int:
        return len(self._steps)

    def __repr__(self) -> str:
        steps = ", ".join(f"{t} v{v}->v{v + 1}" for t, v in sorted(self._steps))
        return f"Upcasters({steps})"
