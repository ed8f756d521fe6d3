"""An append-only event store in SQLite, with optimistic concurrency on each stream's version.

With **event sourcing** a service does not store its current state: it stores the events
that led to it, one **stream** per entity (``stock-lamp``), and rebuilds the state by
folding them (:mod:`edlib.patterns.fold`). The store only ever appends::

    store = EventStore(db)                                     # a service's own Database
    version = store.version("stock-lamp")                      # 0 for a new stream
    store.append("stock-lamp", [NewEvent("StockReceived", {"qty": 20, "warehouse": "main"}, schema=2)],
                 expected_version=version)
    events = store.load("stock-lamp")                          # StoredEvent(version=1, ...)

**Optimistic concurrency**: a writer says which version it based its decision on
(``expected_version``); if another writer appended in between, :class:`ConcurrencyError`
is raised and nothing is written. The writer reloads, decides again and retries.

Old events are read through :class:`~edlib.patterns.upcasting.Upcasters` (schema versions), and
**snapshots** (a saved state at a version) are kept beside the events as a cache.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from edlib.core.database import Database
from edlib.core.events import check_event_type
from edlib.core.payloads import validate_payload
from edlib.patterns.upcasting import Upcasters

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS event_store (position INTEGER PRIMARY KEY AUTOINCREMENT, stream TEXT NOT NULL, "
    "version INTEGER NOT NULL, type TEXT NOT NULL, schema INTEGER NOT NULL, data TEXT NOT NULL, "
    "UNIQUE (stream, version))",
    "CREATE TABLE IF NOT EXISTS snapshots (stream TEXT PRIMARY KEY, version INTEGER NOT NULL, state TEXT NOT NULL)",
)
_BATCH = 500
"""Events inserted by one SQL statement (SQLite limits the parameters of one statement)."""


class ConcurrencyError(RuntimeError):
    """Another writer appended to the stream first: reload it, decide again, retry."""

    def __init__(self, stream: str, expected: int, actual: int) -> None:
        super().__init__(f"stream {stream!r} is at version {actual}, not {expected}: another writer appended "
                         "first. Load the stream again, decide again, and retry.")
        self.stream, self.expected, self.actual = stream, expected, actual


@dataclass(frozen=True)
class NewEvent:
    """An event to append: its type, its data (JSON) and the schema version of that data."""

    type: str
    data: Mapping[str, Any] = field(default_factory=dict)
    schema: int = 1


@dataclass(frozen=True)
class StoredEvent:
    """An event as read back: ``position`` in the whole store, ``version`` in its stream."""

    position: int
    stream: str
    version: int
    type: str
    schema: int
    data: Mapping[str, Any]


@dataclass(frozen=True)
class Snapshot:
    """A stream's state saved at ``version`` (a cache: the events stay the truth)."""

    stream: str
    version: int
    state: Any


class EventStore:
    """Streams of events in ``db`` (an edlib :class:`~edlib.Database`), append-only.

    ``upcasters`` turn old schema versions into current ones as events are read.
    :attr:`reads` counts every event loaded, so the cost of a rebuild can be measured
    exactly (and the same on every machine).
    """

    def __init__(self, db: Database, upcasters: Upcasters | None = None) -> None:
        self.db = db
        self.upcasters = upcasters if upcasters is not None else Upcasters()
        self.reads = 0
        for sql in _SCHEMA:
            db.execute(sql)

    # -- writing ------------------------------------------------------------------------------
    def append(self, stream: str, events: Iterable[NewEvent], expected_version: int) -> int:
        """Append ``events`` to ``stream`` if it is still at ``expected_version``; return the new version.

        Raises :class:`ConcurrencyError` (and writes nothing) when the stream has moved on.
        """
        stream = _stream_name(stream)
        if isinstance(expected_version, bool) or not isinstance(expected_version, int) or expected_version < 0:
            raise ValueError(f"expected_version is the version you loaded (0 for a new stream), "
                             f"got {expected_version!r}")
        rows = [_row(e) for e in events]
        if not rows:
            raise ValueError("append at least one event")
        try:
            with self.db.transaction():
                actual = self.version(stream)
                if actual != expected_version:
                    raise ConcurrencyError(stream, expected_version, actual)
                numbered = [(stream, n, *row) for n, row in enumerate(rows, expected_version + 1)]
                for i in range(0, len(numbered), _BATCH):        # one statement per batch of rows
                    batch = numbered[i:i + _BATCH]
                    self.db.execute("INSERT INTO event_store (stream, version, type, schema, data) VALUES "
                                    + ", ".join(["(?, ?, ?, ?, ?)"] * len(batch)),
                                    tuple(value for row in batch for value in row))
        except sqlite3.IntegrityError:          # another connection took the version in between
            raise ConcurrencyError(stream, expected_version, self.version(stream)) from None
        return expected_version + len(rows)

    # -- reading ------------------------------------------------------------------------------
    def version(self, stream: str) -> int:
        """How many events ``stream`` holds (0 if none): the version the next append must expect."""
        rows = self.db.query("SELECT MAX(version) AS v FROM event_store WHERE stream = ?", (stream,))
        return rows[0]["v"] or 0

    def load(self, stream: str, after: int = 0) -> list[StoredEvent]:
        """The events of ``stream`` with version > ``after``, oldest first, upcast to their latest schema."""
        rows = self.db.query("SELECT position, stream, version, type, schema, data FROM event_store "
                             "WHERE stream = ? AND version > ? ORDER BY version", (stream, after))
        return self._events(rows)

    def read_all(self, after: int = 0) -> list[StoredEvent]:
        """Every event with position > ``after``, in the order they were appended (for projections)."""
        rows = self.db.query("SELECT position, stream, version, type, schema, data FROM event_store "
                             "WHERE position > ? ORDER BY position", (after,))
        return self._events(rows)

    def streams(self) -> list[str]:
        """Names of the streams, sorted."""
        return [r["stream"] for r in self.db.query("SELECT DISTINCT stream FROM event_store ORDER BY stream")]

    def _events(self, rows: list[dict[str, Any]]) -> list[StoredEvent]:
        out = []
        for r in rows:
            schema, data = self.upcasters.upcast(r["type"], r["schema"], json.loads(r["data"]))
            out.append(StoredEvent(r["position"], r["stream"], r["version"], r["type"], schema, data))
        self.reads += len(out)
        return out

    # -- snapshots ----------------------------------------------------------------------------
    def save_snapshot(self, stream: str, version: int, state: Any) -> None:
        """Remember ``state`` as the state of ``stream`` after event ``version`` (replaces the older one)."""
        if not 0 < version <= self.version(stream):
            raise ValueError(f"{stream!r} has no event {version}: a snapshot is taken at an existing version")
        body = json.dumps(state, sort_keys=True)
        self.db.execute("INSERT OR REPLACE INTO snapshots (stream, version, state) VALUES (?, ?, ?)",
                        (stream, version, body))

    def snapshot(self, stream: str) -> Snapshot | None:
        """The latest snapshot of ``stream``, or None."""
        rows = self.db.query("SELECT version, state FROM snapshots WHERE stream = ?", (stream,))
        return Snapshot(stream, rows[0]["version"], json.loads(rows[0]["state"])) if rows else None

    def drop_snapshots(self) -> int:
        """Forget every snapshot (after the fold changed: they are a cache); return how many."""
        return self.db.execute("DELETE FROM snapshots")

    def __repr__(self) -> str:
        return f"EventStore({len(self.streams())} streams, owner={self.db.owner!r})"


def _stream_name(stream: Any) -> str:
    if not isinstance(stream, str) or not stream or len(stream) > 200:
        raise ValueError(f"a stream is named by a non-empty string such as 'stock-lamp', got {stream!r}")
    return stream


def _row(event: Any) -> tuple[str, int, str]:
    if not isinstance(event, NewEvent):
        raise TypeError(f"append NewEvent(type, data, schema) objects, got {type(event).__name__}")
    check_event_type(event.type)
    if isinstance(event.schema, bool) or not isinstance(event.schema, int) or event.schema < 1:
        raise ValueError(f"schema is a version >= 1, got {event.schema!r}")
    data = validate_payload(event.data, f"{event.type} data", allow_empty=True)
    return event.type, event.schema, json.dumps(data, sort_keys=True)
