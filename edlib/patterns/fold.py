"""State rebuilt from events: a fold, optionally starting from a snapshot.

The current state of an event-sourced entity is a **fold** (a reduce) of its events::

    state = initial
    for event in events:
        state = apply(state, event)

``apply(state, event) -> new state`` is a pure function; it must not change ``state`` in
place. A **snapshot** saves the state at some version so that the next rebuild reads only
the events after it; :func:`rebuild` uses one when it exists and takes a new one every
``snapshot_every`` events, and reports how many events it read.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from edlib.patterns.eventstore import EventStore, StoredEvent

S = TypeVar("S")
Apply = Callable[[Any, StoredEvent], Any]


def fold(events: Iterable[StoredEvent], apply: Callable[[S, StoredEvent], S], initial: S) -> S:
    """Apply each event in turn to the state, starting from ``initial``."""
    state = initial
    for event in events:
        state = apply(state, event)
    return state


@dataclass(frozen=True)
class Rebuilt:
    """A rebuilt state, the stream version it reflects, and what it cost.

    ``events_read``: events loaded from the store; ``from_snapshot``: the version of the
    snapshot it started from (0: none); ``snapshot_taken``: a new snapshot was saved.
    """

    state: Any
    version: int
    events_read: int
    from_snapshot: int = 0
    snapshot_taken: bool = False


def rebuild(store: EventStore, stream: str, apply: Apply, initial: Any, *,
            use_snapshot: bool = True, snapshot_every: int | None = None) -> Rebuilt:
    """The current state of ``stream``: its latest snapshot (if ``use_snapshot``) plus the events after it.

    With ``snapshot_every=n`` a new snapshot is saved once n or more events were read past the last
    one. The state must be JSON (dicts, lists, numbers, text) to be snapshotted.
    """
    if snapshot_every is not None and (isinstance(snapshot_every, bool) or not isinstance(snapshot_every, int)
                                       or snapshot_every < 1):
        raise ValueError(f"snapshot_every is a number of events >= 1, got {snapshot_every!r}")
    snap = store.snapshot(stream) if use_snapshot else None
    start, state = (snap.version, snap.state) if snap is not None else (0, initial)
    events = store.load(stream, after=start)
    state = fold(events, apply, state)
    version = events[-1].version if events else start
    taken = snapshot_every is not None and len(events) >= snapshot_every
    if taken:
        store.save_snapshot(stream, version, state)
    return Rebuilt(state, version, len(events), start, taken)
