"""The trace: every request, call, publish, delivery, ack and failure, with its virtual time.

Diagrams and tables are drawn from the trace, never by hand. A record says who did
what to whom and when: ``TraceRecord(time=12.0, kind="deliver", source="bus",
target="shipping", label="OrderPlaced", ref="evt-3")``.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

KINDS: tuple[str, ...] = (
    "request",   # client -> gateway: a request arrives
    "response",  # gateway -> client: the answer (ok or not)
    "call",      # gateway/service -> service: a synchronous call starts
    "reply",     # service -> caller: the call returns (ok or failed)
    "publish",   # producer -> bus: an event is appended to the log
    "deliver",   # bus -> consumer: the bus hands an event to a consumer
    "ack",       # consumer -> bus: the consumer confirms it processed the event
    "write",     # service -> its database: rows changed
    "fail",      # something went wrong (service down, handler raised, bad input)
    "retry",     # a delivery is attempted again
    "dead_letter",  # an event is set aside after too many failures
    "state",     # a service went up or down
)
_KNOWN = frozenset(KINDS)


class TraceRecord(NamedTuple):
    """One thing that happened, at virtual time ``time`` (ms). Immutable (a named tuple: cheap to make)."""

    time: float
    kind: str
    source: str
    target: str
    label: str = ""
    ref: str = ""
    ok: bool = True
    detail: str = ""
    seq: int = 0

    def as_row(self) -> dict[str, Any]:
        """The record as a plain dict (for tables)."""
        return self._asdict()


class Trace:
    """An append-only list of :class:`TraceRecord`, ordered by (time, seq)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._records: list[TraceRecord] = []
        self._sorted = True
        self._listeners: list = []

    def record(self, time: float, kind: str, source: str, target: str, label: str = "",
               ref: str = "", ok: bool = True, detail: str = "") -> None:
        """Append a record (no-op when tracing is off)."""
        if not self.enabled:
            return
        if kind not in _KNOWN:
            raise ValueError(f"unknown trace kind {kind!r}; known kinds: {', '.join(KINDS)}")
        rec = TraceRecord(float(time), kind, source, target, label, ref, ok, detail, len(self._records))
        if self._records and (rec.time, rec.seq) < (self._records[-1].time, self._records[-1].seq):
            self._sorted = False
        self._records.append(rec)
        for listener in self._listeners:
            listener(rec)

    def subscribe(self, listener) -> None:
        """Call ``listener(record)`` for each new record (the live view follows a system this way)."""
        self._listeners.append(listener)

    def unsubscribe(self, listener) -> None:
        """Stop calling ``listener``."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    @property
    def records(self) -> list[TraceRecord]:
        """All records in time order (ties kept in the order they were recorded)."""
        if not self._sorted:
            self._records.sort(key=lambda r: (r.time, r.seq))
            self._sorted = True
        return list(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[TraceRecord]:
        return iter(self.records)

    def where(self, kind: str | Iterable[str] | None = None, *, source: str | None = None,
              target: str | None = None, label: str | None = None,
              ok: bool | None = None) -> list[TraceRecord]:
        """Records matching every filter given."""
        kinds = {kind} if isinstance(kind, str) else set(kind) if kind is not None else None
        return [r for r in self.records
                if (kinds is None or r.kind in kinds)
                and (source is None or r.source == source)
                and (target is None or r.target == target)
                and (label is None or r.label == label)
                and (ok is None or r.ok == ok)]

    def count(self, kind: str | Iterable[str] | None = None, **filters: Any) -> int:
        """How many records match (same filters as :meth:`where`)."""
        return len(self.where(kind, **filters))

    def clear(self) -> None:
        """Forget every record."""
        self._records.clear()
        self._sorted = True

    def table(self, rows: Iterable[TraceRecord] | None = None, last: int | None = None) -> str:
        """A fixed-width text table of records (the last ``last`` ones if given)."""
        rows = list(self.records if rows is None else rows)
        if last is not None:
            rows = rows[-last:]
        lines = [f"{'t (ms)':>9}  {'kind':<11} {'from':<9} {'to':<11} {'what':<16} {'ref':<10} note"]
        for r in rows:
            note = ("" if r.ok else "FAILED ") + r.detail
            lines.append(f"{r.time:>9.1f}  {r.kind:<11} {r.source:<9} {r.target:<11} "
                         f"{r.label:<16} {r.ref:<10} {note}".rstrip())
        return "\n".join(lines)

    def show(self, rows: Iterable[TraceRecord] | None = None, last: int | None = None) -> None:
        """Print :meth:`table`."""
        print(self.table(rows, last))
