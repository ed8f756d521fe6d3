"""Fakes for testing a handler in isolation: no world, no bus, no clock.

A handler is a plain function whose parameters name what it needs, so a unit test can
hand it small stand-ins instead of the real things (the style of *Architecture Patterns
with Python*)::

    db, publish = FakeDb(), FakePublish()
    reserve_stock(make_event("OrderPlaced", {"sku": "mug", "qty": 1}), db=db, publish=publish)
    assert publish.types() == ["StockReserved"]

:class:`FakeDb` keeps documents in dicts (``put``/``get``/``all``/``count``);
:class:`FakePublish` records what the handler published; :func:`make_event` makes an
event without a world.
"""
from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from edlib.core.events import Event, EventFactory
from edlib.core.payloads import thaw, validate_payload


class FakeDb:
    """A service database made of dicts: the document helpers of :class:`~edlib.core.database.Database`.

    ``transaction()`` rolls back on an exception, as the real one does. SQL is not
    faked: a handler that runs SQL is tested with a real (in-memory) ``Database``.
    """

    def __init__(self, tables: dict[str, dict[str, dict]] | None = None) -> None:
        self._tables: dict[str, dict[str, dict]] = {}
        for table, rows in (tables or {}).items():
            for id, doc in rows.items():
                self.put(table, id, doc)

    def put(self, table: str, id: str, doc: dict) -> None:
        """Store ``doc`` under ``id`` (checked as the real database checks it)."""
        if not isinstance(id, str) or not id:
            raise ValueError(f"id must be a non-empty string, got {id!r}")
        self._tables.setdefault(table, {})[id] = thaw(validate_payload(doc, f"{table} row", allow_empty=True))

    def get(self, table: str, id: str) -> dict | None:
        """A copy of the document under ``id``, or None."""
        doc = self._tables.get(table, {}).get(id)
        return None if doc is None else copy.deepcopy(doc)

    def all(self, table: str) -> list[dict]:
        """Copies of every document of ``table``, in insertion order."""
        return [copy.deepcopy(d) for d in self._tables.get(table, {}).values()]

    def count(self, table: str) -> int:
        """How many documents ``table`` holds."""
        return len(self._tables.get(table, {}))

    def rows(self) -> int:
        """Documents over every table."""
        return sum(len(rows) for rows in self._tables.values())

    @contextmanager
    def transaction(self) -> Iterator["FakeDb"]:
        """Changes inside commit together, or are undone on an exception."""
        saved = copy.deepcopy(self._tables)
        try:
            yield self
        except BaseException:
            self._tables = saved
            raise

    def execute(self, sql: str, params: Any = ()) -> int:
        """Not faked: raises NotImplementedError saying what to use instead."""
        raise NotImplementedError("FakeDb keeps documents only (put/get/all/count); for SQL test with a real "
                                  "in-memory database: edlib.Database('name')")

    query = execute

    def __repr__(self) -> str:
        return f"FakeDb({ {t: len(r) for t, r in sorted(self._tables.items())} })"


@dataclass(frozen=True)
class Published:
    """One event a handler published through :class:`FakePublish`."""

    type: str
    data: dict
    key: str | None = None
    topic: str | None = None


class FakePublish:
    """Stands in for ``publish``: records each call instead of sending anything.

    Call it as a handler would (``publish("StockReserved", {...}, key=...)``); then look at
    :attr:`events`, :meth:`types` or :meth:`of_type`.
    """

    def __init__(self) -> None:
        self.events: list[Published] = []

    def __call__(self, event_type: str, data: dict | None = None, *, key: str | None = None,
                 topic: str | None = None) -> None:
        payload = thaw(validate_payload({} if data is None else data, f"{event_type} data", allow_empty=True))
        self.events.append(Published(event_type, payload, key, topic))

    def types(self) -> list[str]:
        """The types published, in order."""
        return [e.type for e in self.events]

    def of_type(self, event_type: str) -> list[dict]:
        """The data of each event of ``event_type`` published, in order."""
        return [e.data for e in self.events if e.type == event_type]

    def __len__(self) -> int:
        return len(self.events)

    def __repr__(self) -> str:
        return f"FakePublish({self.types()})"


def make_event(event_type: str, data: dict | None = None, *, key: str | None = None,
               id: str = "evt-1", source: str | None = None) -> Event:
    """An event for a test, made without a world (validated like any event)."""
    event = EventFactory()(event_type, data, key=key, source=source)
    return Event(type=event.type, data=event.data, id=id, time=event.time, key=key, source=source)
