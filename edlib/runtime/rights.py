"""Least privilege: which event types a service may publish.

A service given ``publishes=[...]`` may publish only those types, and it is their sole
publisher: any other service that tries gets a PermissionError. The same check guards
``publish`` and ``outbox`` in the simulated world and in a real process.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

_NO_OWNERS: Mapping[str, str] = MappingProxyType({})


class Rights:
    """What service ``name`` may publish: ``allowed`` (None: any type nobody else owns), given ``owners``.

    ``owners`` maps an event type to its sole publisher (the world's registry, read only
    here; a process alone has none).
    """

    def __init__(self, name: str, allowed: Iterable[str] | None = None,
                 owners: Mapping[str, str] = _NO_OWNERS) -> None:
        self.name = name
        self.allowed: frozenset[str] | None = None if allowed is None else frozenset(allowed)
        self.owners = owners

    def check(self, event_type: str) -> None:
        """Raise PermissionError unless this service may publish ``event_type``."""
        if self.allowed is not None and event_type not in self.allowed:
            raise PermissionError(f"{self.name!r} may not publish {event_type!r}: it may publish only "
                                  f"{sorted(self.allowed)}")
        owner = self.owners.get(event_type)
        if owner is not None and owner != self.name:
            raise PermissionError(f"{self.name!r} may not publish {event_type!r}: only {owner!r} publishes it")
